"""Study 1 from the REFI-QDA export: every table rebuilt from the .qdpx and compared with the CSV's."""

from _common import run


def main(smk, log):
    from crfm.data.config import MeasurementModel
    from crfm.errors import AnalysisError
    from crfm.data.tables import read_table, write_table
    from crfm.studies.steps import is_synthetic, qdpx_crosscheck

    config = smk.config
    interviews = read_table(smk.input.interviews, dtype=str).astype({"order": int})
    segments = read_table(smk.input.segments, dtype=str, keep_default_na=False)
    codebook = read_table(smk.input.codebook, dtype=str, keep_default_na=False)
    table, n = qdpx_crosscheck(config, MeasurementModel.from_config(config), interviews, codebook, segments)
    note = f"{n} coded segments imported from {config['study1']['qdpx']} (REFI-QDA 1.0)."
    write_table(table, smk.output[0], synthetic=is_synthetic(config), notes=[note])
    if not table["identical"].all():
        bad = table.loc[~table["identical"], "table"].tolist()
        raise AnalysisError(f"the .qdpx export and the segments CSV give different tables: {bad}")
    log.info("qdpx cross-check: all %d tables identical", len(table))


run(snakemake, main)  # noqa: F821
