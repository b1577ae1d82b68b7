"""numbers.json: every number the appendix's running text quotes, collected from the result files."""

from _common import run


def main(smk, log):
    from pathlib import Path

    from crfm.report.numbers import collect_numbers, write_numbers
    from crfm.studies.steps import is_synthetic

    tables = {Path(p).stem: p for p in smk.input.tables}
    summaries = {k: v for k, v in smk.input.items() if k not in ("tables", "manifest")}
    numbers = collect_numbers(smk.config, tables, summaries, synthetic=is_synthetic(smk.config))
    write_numbers(numbers, smk.output[0])
    log.info("%d numbers from %d tables and %d summaries", numbers["count"], len(tables), len(summaries))


run(snakemake, main)  # noqa: F821
