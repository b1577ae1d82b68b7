"""numbers.tex: every number of numbers.json as a LaTeX macro, for a manuscript to \\input."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.macros import macro_table, macros_tex
    from crfm.report.numbers import load_json

    numbers = load_json(smk.input[0])
    Path(smk.output[0]).write_text(macros_tex(numbers), encoding="utf-8")
    ctx.log.info("numbers.tex: %d macros", len(macro_table(numbers)))


run(snakemake, main)  # noqa: F821
