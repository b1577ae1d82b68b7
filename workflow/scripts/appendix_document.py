"""The appendix as self-contained HTML (figures embedded) and as LaTeX, from the jinja2 templates."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.appendix import build_context, figure_entries, load_json, render_html, render_tex
    from crfm.report.bib import Bibliography
    from crfm.report.labels import Labels

    templates = Path(smk.scriptdir).resolve().parent / "templates"
    out_html, out_tex = Path(smk.output.html), Path(smk.output.tex)
    figures = {Path(p).stem: {"png": p} for p in smk.input.png}
    for p in smk.input.pdf:
        figures[Path(p).stem]["pdf"] = p
    doc = build_context(
        load_json(smk.input.numbers),
        load_json(smk.input.index),
        load_json(smk.input.provenance),
        figure_entries(figures, tex_dir=out_tex.parent),
        labels=Labels.from_config(ctx.settings),
        bib=Bibliography.load(smk.input.bib),
    )
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(render_html(templates, doc), encoding="utf-8")
    out_tex.write_text(render_tex(templates, doc), encoding="utf-8")
    ctx.log.info("appendix: %(tables)d tables, %(figures)d figures, %(numbers)d numbers", doc["counts"])


run(snakemake, main)  # noqa: F821
