"""crfm.report.appendix: templates, escaping in both formats, figures, and a reproducible PDF."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from conftest import ROOT
from crfm.data.tables import SYNTHETIC_NOTE, write_table
from crfm.report.appendix import (
    Num,
    build_context,
    figure_entries,
    fit_box,
    helpers,
    html_env,
    html_to_pdf,
    pdf_widths,
    png_size,
    render_html,
    render_prose,
    render_tex,
    tex_env,
    wrap_numbers,
)
from crfm.report.render import render_tables

TEMPLATES = ROOT / "workflow/templates"
HOSTILE = '<script>alert("x")</script> & 100% #1 _u_'


def _png(path, w=40, h=20):
    from PIL import Image

    Image.new("RGB", (w, h), "white").save(path, format="PNG")
    return path


def _context(tmp_path, *, synthetic=True, label="Power"):
    tables = tmp_path / "tables"
    write_table(
        pd.DataFrame({"cell": [label], "power": [0.81]}), tables / "design_extra_power.csv", synthetic=synthetic
    )
    index_path = tmp_path / "index.json"
    render_tables([tables / "design_extra_power.csv"], tmp_path / "html", tmp_path / "latex", index_path)
    fig = _png(tmp_path / "design_power.png")
    numbers = {"synthetic": synthetic, "studies": ["design"], "count": 0, "numbers": {}}
    provenance = {
        "synthetic": synthetic,
        "config_hash": "ab" * 32,
        "git": {"commit": None, "dirty": None},
        "python": {"implementation": "CPython", "version": "3.11.7"},
        "snakemake": "9.27.1",
        "platform": {"platform": "Linux-x86_64"},
        "raw_inputs": {"resources/raw/a_b.csv": "cd" * 32},
        "key_packages": {"pandas": "3.1.1"},
        "packages": {"pandas": "3.1.1"},
        "outputs": {},
    }
    figures = figure_entries(
        {"design_power": {"png": str(fig), "pdf": str(tmp_path / "design_power.pdf")}}, tex_dir=tmp_path / "appendix"
    )
    return build_context(numbers, json.loads(index_path.read_text()), provenance, figures)


def test_numbers_print_as_their_apa_text():
    n = wrap_numbers({"a": {"b": {"value": 0.0001, "text": "< .001", "eq": "< .001", "source": "t.csv"}}})
    assert isinstance(n["a"]["b"], Num) and str(n["a"]["b"]) == "< .001"


def test_prose_literal_text_and_values_are_escaped_in_both_formats(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text/s.j2").write_text("R&D <b> χ² {{ em(x) }} {{ v }}\n\nSecond 50% paragraph.\n", encoding="utf-8")
    ctx = {"x": "p", "v": HOSTILE, "studies": []}
    h = html_env(tmp_path)
    h.globals.update(helpers("html", ctx))
    t = tex_env(tmp_path)
    t.globals.update(helpers("tex", ctx))
    html = render_prose(h, "s", ctx)
    tex = render_prose(t, "s", ctx)
    assert len(html) == len(tex) == 2
    assert (
        str(html[0])
        == "R&amp;D &lt;b&gt; χ² <em>p</em> &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 100% #1 _u_"
    )
    assert str(tex[0]) == (
        r"R\&D \textless{}b\textgreater{} \ensuremath{\chi}\textsuperscript{2} \textit{p} "
        r"\textless{}script\textgreater{}alert(\textquotedbl{}x\textquotedbl{})\textless{}/script\textgreater{} \& 100\% \#1 \_u\_"
    )
    assert render_prose(h, "missing", ctx) == []


def test_statistics_helpers():
    f = wrap_numbers(
        {
            k: {"value": 0, "text": t, "source": "s", **({"eq": "= .327"} if k == "p" else {})}
            for k, t in {
                "df": "87",
                "chi2": "92.35",
                "p": ".327",
                "cfi": ".996",
                "rmsea": ".018",
                "rmsea_ci": "[.000, .044]",
            }.items()
        }
    )
    html = helpers("html", {"studies": []})["fit"](f)
    tex = helpers("tex", {"studies": []})["fit"](f)
    assert str(html) == "<em>χ</em>²(87) = 92.35, <em>p</em> = .327, CFI = .996, RMSEA = .018, 90% CI [.000, .044]"
    assert str(tex).startswith(r"\textit{\ensuremath{\chi}}\textsuperscript{2}(87) = 92.35, \textit{p} = .327")


def test_html_appendix_is_self_contained_and_labelled_only_when_synthetic(tmp_path):
    ctx = _context(tmp_path, label=HOSTILE)
    html = render_html(TEMPLATES, ctx)
    assert SYNTHETIC_NOTE.replace("&", "&amp;") in html and 'id="synthetic-banner"' in html
    assert 'id="tab-design_extra_power"' in html and 'src="data:image/png;base64,' in html
    assert "<script" not in html and "&lt;script&gt;" in html
    # self-contained: nothing is loaded from elsewhere (the references' DOIs are plain hyperlinks)
    assert 'src="http' not in html and "url(http" not in html and "<link" not in html
    assert "Provenance" in html and "resources/raw/a_b.csv" in html
    plain = render_html(TEMPLATES, _context(tmp_path / "real", synthetic=False))
    assert "SYNTHETIC" not in plain.upper()


def test_latex_appendix_escapes_and_includes_fragments(tmp_path):
    tex = render_tex(TEMPLATES, _context(tmp_path, label=HOSTILE))
    assert r"\begin{document}" in tex and r"\end{document}" in tex
    assert r"\textless{}script\textgreater{}" in tex and "<script" not in tex
    assert r"resources/raw/a\_b.csv" in tex and r"\includegraphics" in tex and "../design_power.pdf" in tex
    assert r"\markright{SYNTHETIC DATA" in tex
    assert "SYNTHETIC" not in render_tex(TEMPLATES, _context(tmp_path / "real", synthetic=False)).upper()


def test_png_size_and_fit_box(tmp_path):
    assert png_size(_png(tmp_path / "a.png", 300, 100)) == (300, 100)
    assert fit_box(960, 720) == (16.0, 12.0)
    w, h = fit_box(500, 2000)
    assert h == 19.0 and w == pytest.approx(4.75)
    (tmp_path / "b.png").write_bytes(b"GIF89a....")
    with pytest.raises(ValueError):
        png_size(tmp_path / "b.png")


def test_pdf_width_hints():
    html = '<table class="apa" data-width="40"><thead><tr><th class="txt" data-width="25.0">A</th><th class="num" data-width="75.0">B</th>'
    assert (
        pdf_widths(html)
        == '<table class="apa" repeat="1" width="40%"><thead><tr><th class="txt" width="25.0%">A</th><th class="num" width="75.0%">B</th>'
    )


def test_pdf_is_reproducible_and_undated(tmp_path):
    ctx = _context(tmp_path)
    from crfm.report.appendix import font_dir

    html = render_html(TEMPLATES, ctx, for_pdf=True, font_dir=font_dir())
    html_to_pdf(html, tmp_path / "a.pdf", base_dir=tmp_path)
    html_to_pdf(html, tmp_path / "b.pdf", base_dir=tmp_path)
    a = (tmp_path / "a.pdf").read_bytes()
    assert a[:5] == b"%PDF-" and a == (tmp_path / "b.pdf").read_bytes()
    assert b"D:20000101" in a  # ReportLab's invariant date, not the time of the run
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(a)).pages[0].extract_text()
    assert "SYNTHETIC DATA" in text
