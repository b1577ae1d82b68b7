"""crfm.report.apa: APA number formats and the HTML/LaTeX escapers."""

from __future__ import annotations

import math
import shutil
import subprocess

import pytest

from crfm.report.apa import (
    MINUS,
    MISSING,
    TexMarkup,
    escape_html,
    escape_latex,
    fmt_bool,
    fmt_bounded,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_value,
    label_html,
    label_tex,
    p_relation,
    tex_finalize,
)

NASTY = 'R&D <b>50%</b> #1 _x_ "q" \\ {a} ~ ^ $ | `'


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "<\u00a0.001"),
        (0.00049, "<\u00a0.001"),
        (0.001, ".001"),
        (0.0123, ".012"),
        (0.05, ".050"),
        (0.32704, ".327"),
        (0.9994, ".999"),
        (0.9996, ">\u00a0.999"),
        (1.0, ">\u00a0.999"),
        (float("nan"), MISSING),
        (None, MISSING),
    ],
)
def test_p_values_follow_apa(p, text):
    assert fmt_p(p) == text


def test_p_relation_reads_in_running_text():
    assert p_relation(0.0001) == "<\u00a0.001"
    assert p_relation(0.032) == "= .032"


def test_bounded_statistics_drop_the_leading_zero_and_use_a_true_minus():
    assert fmt_bounded(0.8143) == ".81"
    assert fmt_bounded(-0.0512) == f"{MINUS}.05"
    assert fmt_bounded(1.0) == "1.00"
    assert fmt_bounded(0.99628, 3) == ".996"


def test_unbounded_numbers_keep_the_leading_zero_and_group_thousands():
    assert fmt_num(0.367, 3) == "0.367"
    assert fmt_num(-0.2537, 2) == f"{MINUS}0.25"
    assert fmt_num(9062.790143) == "9,062.79"
    assert fmt_int(1683.0) == "1,683"


def test_negative_zero_prints_without_a_sign():
    assert fmt_num(-0.0004, 2) == "0.00"
    assert fmt_bounded(-0.0004, 2) == ".00"


def test_missing_values_print_an_em_dash():
    assert fmt_num(float("nan")) == MISSING
    assert fmt_int(None) == MISSING
    assert fmt_ci(math.nan, math.nan) == MISSING


def test_confidence_intervals():
    assert fmt_ci(0.2277, 0.5058, 3) == "[0.228, 0.506]"
    assert fmt_ci(0.0, 0.0437, 3, leading_zero=False) == "[.000, .044]"


def test_booleans_and_dispatch():
    assert fmt_bool(True) == "Yes" and fmt_bool("False") == "No"
    assert fmt_value(3.0, "int") == "3"
    assert fmt_value(0.5, "bounded", 2) == ".50"
    with pytest.raises(ValueError):
        fmt_value(1, "percent")


def test_html_escape_is_literal():
    assert (
        str(escape_html('<script>alert(1)</script> & "x"')) == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34;"
    )


def test_latex_escape_covers_every_special_character():
    out = escape_latex(NASTY)
    for raw, escaped in [
        ("&", r"\&"),
        ("%", r"\%"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("$", r"\$"),
        ("{", r"\{"),
        ("}", r"\}"),
    ]:
        assert escaped in out, raw
    assert "<" not in out and ">" not in out and '"' not in out and "~" not in out.replace(r"\textasciitilde{}", "")
    assert r"\textbackslash{}" in out


def test_latex_escape_maps_statistics_symbols_and_replaces_what_pdflatex_cannot_set():
    assert escape_latex("χ² α ≥ .70 −0.25") == (
        r"\ensuremath{\chi}\textsuperscript{2} \ensuremath{\alpha} \ensuremath{\geq} .70 \ensuremath{-}0.25"
    )
    assert escape_latex("Zürich café") == "Zürich café"  # Latin-1 passes (utf8 inputenc + T1)
    assert escape_latex("東京") == "??"


def test_tex_markup_is_not_escaped_twice():
    assert tex_finalize(TexMarkup(r"\textit{p}")) == r"\textit{p}"
    assert tex_finalize("50%") == r"50\%"
    assert tex_finalize(None) == ""


def test_labels_mark_statistics_italic_in_both_formats():
    assert str(label_html("*p* (adj.)")) == "<em>p</em> (adj.)"
    assert str(label_tex("Δ*χ*²")) == r"\ensuremath{\Delta}\textit{\ensuremath{\chi}}\textsuperscript{2}"
    # a column name is literal: no markup, escaped
    assert str(label_html("*a*<b>", markup=False)) == "*a*&lt;b&gt;"
    assert str(label_tex("x_1", markup=False)) == r"x\_1"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_escaped_text_compiles(tmp_path):
    body = escape_latex(NASTY + " χ² ≥ − “q” … 東京")
    doc = (
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage[utf8]{inputenc}\\usepackage{mathptmx}"
        "\\begin{document}" + body + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    res = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-2000:]
