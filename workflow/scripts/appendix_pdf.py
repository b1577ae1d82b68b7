"""The appendix as PDF: the HTML appendix set by xhtml2pdf (pure Python), byte-reproducible."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.appendix import build_context, figure_entries, font_dir, html_to_pdf, load_json, render_html

    templates = Path(smk.scriptdir).resolve().parent / "templates"
    figures = {Path(p).stem: {"png": p} for p in smk.input.png}
    doc = build_context(
        load_json(smk.input.numbers),
        load_json(smk.input.index),
        load_json(smk.input.provenance),
        figure_entries(figures),
    )
    html = render_html(templates, doc, for_pdf=True, font_dir=font_dir())
    html_to_pdf(html, smk.output[0], base_dir=Path(smk.output[0]).parent)
    ctx.log.info("appendix.pdf: %(tables)d tables, %(figures)d figures", doc["counts"])


run(snakemake, main)  # noqa: F821
