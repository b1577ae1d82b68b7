"""Validate Study 1's interview sheet, codebook and coded segments against the data contract."""

from _common import run


def main(smk, log):
    from crfm.data.config import MeasurementModel
    from crfm.data.tables import write_table
    from crfm.studies.steps import is_synthetic, validate_study1

    config = smk.config
    synthetic = is_synthetic(config)
    interviews, segments, codebook = validate_study1(config, MeasurementModel.from_config(config))
    write_table(interviews, smk.output.interviews, synthetic=synthetic)
    write_table(segments, smk.output.segments, synthetic=synthetic)
    write_table(codebook, smk.output.codebook, synthetic=synthetic)
    log.info("study1: %d interviews, %d coded segments, %d codes", len(interviews), len(segments), len(codebook))


run(snakemake, main)  # noqa: F821
