"""The appendix as PDF: appendix.tex typeset by pdfLaTeX where TeX is installed, otherwise the HTML
appendix set by xhtml2pdf (pure Python); either way byte-reproducible, the engine named in the PDF."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.appendix import build_context, figure_entries, font_dir, html_to_pdf, load_json, render_html
    from crfm.report.bib import Bibliography
    from crfm.report.labels import Labels
    from crfm.report.pdf import choose_engine, typeset_tex

    engine = choose_engine()
    out = Path(smk.output[0])
    if engine.name == "pdflatex":
        figures_dir = Path(smk.input.pdf[0]).parent if smk.input.pdf else out.parent.parent / "figures"
        passes = typeset_tex(smk.input.document, out, engine, figures_dir=figures_dir)
        ctx.log.info("appendix.pdf: typeset by %s (%d passes)", engine.version, passes)
        return
    templates = Path(smk.scriptdir).resolve().parent / "templates"
    figures = {Path(p).stem: {"png": p} for p in smk.input.png}
    doc = build_context(
        load_json(smk.input.numbers),
        load_json(smk.input.index),
        load_json(smk.input.provenance),
        figure_entries(figures),
        labels=Labels.from_config(ctx.settings),
        bib=Bibliography.load(smk.input.bib),
        pdf_engine=engine.version,
    )
    html = render_html(templates, doc, for_pdf=True, font_dir=font_dir())
    html_to_pdf(html, out, base_dir=out.parent)
    ctx.log.info(
        "appendix.pdf: set by %s (no TeX found): %d tables, %d figures",
        engine.version,
        doc["counts"]["tables"],
        doc["counts"]["figures"],
    )


run(snakemake, main)  # noqa: F821
