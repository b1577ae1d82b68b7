"""Study 3 hypotheses table: every verdict computed from the regression, bootstrap and SEM tables."""

from _common import run


def main(smk, log):
    from crfm.studies import study3
    from crfm.data.tables import read_table, write_json, write_table
    from crfm.studies.steps import is_synthetic

    config = smk.config
    synthetic = is_synthetic(config)
    coefs = read_table(smk.input.coefficients)
    ci = read_table(smk.input.bootstrap)
    sem = read_table(smk.input.sem)
    table = study3.hypotheses(config, coefs, ci, sem)
    write_table(table, smk.output.table, synthetic=synthetic, notes=["Supported: HC3 p < .05 with the predicted sign in the final hierarchical model; BCa: bootstrap interval of b; SEM: standardized latent path."])
    summary = read_table(smk.input.summary)
    write_json(
        {"hypotheses": table.to_dict(orient="records"), "regression_steps": summary.to_dict(orient="records")},
        smk.output.summary,
        synthetic=synthetic,
    )
    log.info("hypotheses:\n%s", table.to_string())


run(snakemake, main)  # noqa: F821
