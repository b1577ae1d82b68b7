"""Validate a survey sheet against the data contract, apply the exclusion rules, write the analysed
respondents, the exclusions table and the flow table."""

from _common import run


def main(smk, log):
    from crfm.data.config import MeasurementModel
    from crfm.data.tables import write_table
    from crfm.studies.steps import is_synthetic, validate_survey_study

    config = smk.config
    study = smk.params.study
    synthetic = is_synthetic(config)
    analysed, exclusions, flow = validate_survey_study(config, MeasurementModel.from_config(config), study)
    write_table(analysed, smk.output.data, synthetic=synthetic)
    write_table(exclusions, smk.output.exclusions, synthetic=synthetic)
    write_table(flow, smk.output.flow, synthetic=synthetic)
    log.info("%s: %s", study, "; ".join(f"{s} {n}" for s, n in flow.itertuples(index=False)))


run(snakemake, main)  # noqa: F821
