"""Study 3 latent moderated SEM (semopy) with double-mean-centred product indicators."""

from _common import run


def main(smk, log):
    from crfm import study3
    from crfm.config import MeasurementModel
    from crfm.outputs import read_table, write_table
    from crfm.steps import is_synthetic

    config = smk.config
    st = study3.settings(config)
    synthetic = is_synthetic(config)
    model = MeasurementModel.from_config(config)
    df = read_table(smk.input.data, dtype={st["id"]: str})
    frame = read_table(smk.input.frame, dtype={st["id"]: str})
    retained = study3.read_retained(read_table(smk.input.retained))
    r = study3.sem_moderation(df, frame, config, study3.study_constructs(config, model, retained))
    note = "semopy ML (MLW), listwise complete; latent interaction by double-mean-centred product indicators (Lin et al. 2010), matched pairs; controls as observed covariates; Wald 95% CIs."
    write_table(r["paths"], smk.output.paths, synthetic=synthetic, notes=[note])
    write_table(r["fit"], smk.output.fit, synthetic=synthetic, notes=[note, "Fit indices from semopy.calc_stats (ML, complete data)."])
    if not r["fit"]["converged"].all():
        log.warning("SEM did not converge for moderator(s) %s", list(r["fit"].loc[~r["fit"]["converged"], "moderator"]))
    log.info("sem paths:\n%s", r["paths"].to_string())


run(snakemake, main)  # noqa: F821
