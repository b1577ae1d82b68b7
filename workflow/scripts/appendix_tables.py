"""Render every table once: tidy CSV in, LaTeX (booktabs) and HTML out, APA style, reader-facing names."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.bib import Bibliography
    from crfm.report.labels import Labels
    from crfm.report.render import render_tables

    html_dir = Path(next(v for k, v in smk.output.items() if k.startswith("html_"))).parent
    tex_dir = Path(smk.output.tex[0]).parent
    labels = Labels.from_config(ctx.settings)
    entries = render_tables(
        smk.input.tables, html_dir, tex_dir, smk.output.index, labels=labels, bib=Bibliography.load(smk.input.bib)
    )
    for e in entries:
        ctx.log.info("Table %s  %s  (%d rows x %d columns)", e["number"], e["name"], e["rows"], e["columns"])


run(snakemake, main)  # noqa: F821
