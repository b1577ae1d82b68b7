"""crfm.report.render: tidy CSV -> APA tables in HTML and LaTeX."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from crfm.data.tables import SYNTHETIC_NOTE, write_table
from crfm.report.apa import MINUS, MISSING
from crfm.report.render import build_table, load_table, number_tables, render_tables, to_html, to_latex

HOSTILE = '<script>alert("x")</script> & 100% #1 _u_ {b} \\ ~'

FIT = pd.DataFrame(
    {
        "model": ["one_factor", "correlated"],
        "chi2": [483.0727, 92.3532],
        "df": [90, 87],
        "p": [4.1e-55, 0.32704],
        "cfi": [0.72689, 0.99628],
        "tli": [0.68137, 0.99551],
        "rmsea": [0.14927, 0.01772],
        "rmsea_ci_lower": [0.13635, 0.0],
        "rmsea_ci_upper": [0.16249, 0.04373],
        "srmr": [0.10617, 0.03903],
        "loglik": [-4693.75, -4498.39],
        "aic": [9447.5097, 9062.7901],
        "bic": [9545.8531, 9170.9679],
    }
)


def test_fit_table_follows_its_spec():
    t = build_table(FIT, "study2_fit", number="2.11")
    assert [h for h, _ in t.headers][:4] == ["Model", "*χ*²", "*df*", "*p*"]
    assert "loglik" not in [c.key for c in t.columns]  # not in the spec: left to the CSV
    one, corr = t.rows
    assert one[:4] == ["One factor", "483.07", "90", "<\u00a0.001"]
    assert corr[3] == ".327" and corr[4] == ".996"  # p and CFI: no leading zero, fixed decimals
    assert "[.000, .044]" in corr  # RMSEA 90% CI from two columns
    assert "9,062.79" in corr


def test_group_columns_print_once_per_group_and_missing_numbers_print_a_dash():
    df = pd.DataFrame(
        {
            "factor": ["RCOM", "RCOM", "RSEL"],
            "item": ["RCOM1", "RCOM2", "RSEL1"],
            "est": [1.0, 0.9, 1.0],
            "se": [np.nan, 0.08, np.nan],
            "std_all": [0.81, 0.72, 0.78],
            "ci_lower": [0.75, 0.64, 0.7],
            "ci_upper": [0.87, 0.8, 0.85],
        }
    )
    t = build_table(df, "study3_measurement_loadings", number="3.4")
    assert [r[0] for r in t.rows] == ["RCOM", "", "RSEL"]
    assert t.rows[0][3] == MISSING and t.rows[1][3] == "0.08"


def test_square_matrices_show_the_lower_triangle():
    df = pd.DataFrame({"variable": ["A", "B", "C"], "A": [0.8, 0.5, -0.2], "B": [0.5, 0.7, 0.3], "C": [-0.2, 0.3, 0.9]})
    t = build_table(df, "study3_correlations", number="3.9")
    assert t.rows == [["A", ".80", "", ""], ["B", ".50", ".70", ""], ["C", f"{MINUS}.20", ".30", ".90"]]


def test_mixed_statistic_rows_get_their_own_format():
    df = pd.DataFrame(
        {
            "statistic": ["KMO (overall MSA)", "Bartlett's test of sphericity (chi-square)", "Factors extracted"],
            "value": [0.92107, 1683.6067, 3.0],
            "df": [np.nan, 153, np.nan],
            "p": [np.nan, 9.3e-256, np.nan],
        }
    )
    t = build_table(df, "study2_factorability", number="2.5")
    assert [r[1] for r in t.rows] == [".92", "1,683.61", "3"]
    assert t.rows[1][3] == "<\u00a0.001"


def test_unregistered_tables_show_every_column_with_inferred_formats():
    df = pd.DataFrame(
        {"cell": ["a", "b"], "n_reps": [50, 50], "power": [0.81, 0.432], "p_value": [0.01, 0.5], "ok": [True, False]}
    )
    t = build_table(df, "design_extra_power", number="D.1")
    assert t.title == "Extra power"
    assert [h for h, _ in t.headers] == ["cell", "n_reps", "power", "p_value", "ok"]
    assert t.rows[0] == ["a", "50", "0.81", ".010", "Yes"]


def test_spec_columns_missing_from_a_table_are_skipped():
    df = FIT.drop(columns=["srmr", "rmsea_ci_lower", "rmsea_ci_upper"])
    t = build_table(df, "study3_measurement_fit", number="3.3")
    assert "SRMR" not in [h for h, _ in t.headers] and "RMSEA 90% CI" not in [h for h, _ in t.headers]


def test_html_and_latex_escape_every_cell_and_note():
    df = pd.DataFrame({"construct": ["R_COM"], "label": [HOSTILE], "n_items": [5], "alpha": [0.87]})
    t = build_table(df, "study3_reliability", number="3.6", notes=[HOSTILE], synthetic=True)
    html, tex = to_html(t), to_latex(t)
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 100% #1 _u_" in html
    assert html.startswith("<!-- SYNTHETIC DATA")
    assert r"\textless{}script\textgreater{}alert(\textquotedbl{}x\textquotedbl{})" in tex
    assert r"\& 100\% \#1 \_u\_ \{b\} \textbackslash{}" in tex and r"R\_COM" in tex
    assert tex.startswith(f"% {SYNTHETIC_NOTE}")
    assert r"\textit{Note.}" in tex and "<em>Note.</em>" in html
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex


def test_tables_are_numbered_per_study_in_registry_order():
    names = ["study2_fit", "study1_saturation", "study2_flow", "study1_informants", "design_power", "study3_zzz"]
    assert number_tables(names) == {
        "design_power": "D.1",
        "study1_informants": "1.1",
        "study1_saturation": "1.2",
        "study2_flow": "2.1",
        "study2_fit": "2.2",
        "study3_zzz": "3.1",
    }


def test_render_tables_is_deterministic_and_indexed(tmp_path):
    src = tmp_path / "tables"
    write_table(FIT, src / "study2_fit.csv", synthetic=True, notes=["ML; n = 196."])
    write_table(
        pd.DataFrame({"step": ["received", "analysed"], "n": [267, 250]}), src / "study2_flow.csv", synthetic=True
    )
    paths = sorted(src.glob("*.csv"))
    first = render_tables(paths, tmp_path / "h1", tmp_path / "t1", tmp_path / "i1.json")
    second = render_tables(paths, tmp_path / "h2", tmp_path / "t2", tmp_path / "i2.json")
    assert [e["number"] for e in first] == ["2.1", "2.2"]
    for e1, e2 in zip(first, second):
        for kind in ("html", "tex"):
            assert (tmp_path / e1[kind]).read_bytes() == (tmp_path / e2[kind]).read_bytes()
    index = json.loads((tmp_path / "i1.json").read_text())
    assert index["synthetic"] is True and index["tables"][1]["title"].startswith("Confirmatory")
    t = load_table(src / "study2_fit.csv")
    assert t.notes == ["ML; n = 196."] and t.synthetic


def test_one_templated_caption_per_kind():
    """Tables and figures share one caption file per kind (titles come from the specs, not from 60 copies)."""
    for kind in ("table", "figure"):
        caption = ROOT / "workflow/report" / f"{kind}.rst"
        assert len(caption.read_text().strip().splitlines()) == 1
    smk = "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    used = {c for c in __import__("re").findall(r'caption="\.\./report/([a-z_]+)\.rst"', smk)}
    assert used <= {
        "table",
        "figure",
        "numbers",
        "numbers_tex",
        "provenance",
        "appendix_html",
        "appendix_tex",
        "appendix_pdf",
    }, used


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_fragment_compiles(tmp_path):
    df = pd.DataFrame(
        {
            "construct": ["R_COM"] * 40,
            "label": [HOSTILE + " a long label that wraps " * 3] * 40,
            "n_items": [5] * 40,
            "alpha": [0.87] * 40,
        }
    )
    t = build_table(df, "study3_reliability", number="3.6", notes=[HOSTILE])
    doc = (
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage[utf8]{inputenc}\\usepackage{mathptmx}"
        "\\usepackage{booktabs,longtable,array}\\begin{document}\n" + to_latex(t) + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    res = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-2000:]


def test_a_text_column_under_a_numeric_rest_format_is_shown_as_text():
    df = pd.DataFrame(
        {"code": ["A"], "statistic": ["cohen_kappa"], "level": ["nominal"], "extra": ["x"], "value": [0.5]}
    )
    t = build_table(df, "study1_reliability_by_code", number="1.8")
    assert "nominal" in t.rows[0] and "x" in t.rows[0]


def test_tables_name_their_producer_under_the_notes(tmp_path):
    """Every rendered table ends with a short footnote: the computing function and the rule (from the
    CSV's `# code:`/`# rule:` lines), in HTML and LaTeX."""
    import pandas as pd

    from crfm.data.tables import Producer, write_table
    from crfm.report.render import load_table, to_html, to_latex

    path = tmp_path / "study2_fit.csv"
    producer = Producer("study2_confirm", "workflow/rules/study2.smk", "crfm.stats.cfa.rival_models")
    frame = pd.DataFrame({"model": ["correlated"], "chi2": [1.5], "df": [2], "p": [0.47], "cfi": [0.99]})
    write_table(frame, path, synthetic=False, producer=producer)
    t = load_table(path, number="2.1")
    html = to_html(t)
    assert (
        '<p class="table-source">Computed by <code>crfm.stats.cfa.rival_models</code>, rule <code>study2_confirm</code> '
        "in <code>workflow/rules/study2.smk</code>.</p>"
    ) in html
    tex = to_latex(t)
    assert (
        r"Computed by \texttt{crfm.\allowbreak{}stats.\allowbreak{}cfa.\allowbreak{}rival\_\allowbreak{}models}" in tex
    )
    write_table(frame, path, synthetic=False)
    assert "table-source" not in to_html(load_table(path, number="2.1"))
