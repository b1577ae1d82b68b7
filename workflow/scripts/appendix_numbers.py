"""numbers.json: every number the appendix's running text quotes, collected from the result files."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.data.manifest import any_synthetic
    from crfm.report.numbers import collect_numbers, write_numbers
    from crfm.report.specs import study_of

    tables = {Path(p).stem: p for p in smk.input.tables}
    summaries = {k: v for k, v in smk.input.items() if k != "tables"}
    per_study = {}
    for name, path in tables.items():
        per_study.setdefault(study_of(name), []).append(path)
    flags = {sid: any_synthetic(paths) for sid, paths in per_study.items()}
    numbers = collect_numbers(ctx.settings, tables, summaries, synthetic=ctx.synthetic, studies_synthetic=flags)
    write_numbers(numbers, smk.output[0])
    ctx.log.info("%d numbers from %d tables and %d summaries", numbers["count"], len(tables), len(summaries))


run(snakemake, main)  # noqa: F821
