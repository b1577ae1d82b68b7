"""Study 3 latent moderated SEM with double-mean-centred product indicators."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.studies import study3
    from crfm.studies.survey import read_retained

    settings = ctx.settings
    read = lambda p: ctx.read(p, dtype={settings["study3"]["id_column"]: str})  # noqa: E731
    retained = read_retained(ctx.read(smk.input.retained))
    constructs = study3.study_constructs(settings, MeasurementModel.from_config(settings), retained)
    r = study3.sem_moderation(read(smk.input.data), read(smk.input.frame), settings, constructs)
    ctx.write(r)
    if not r.fit["converged"].all():
        ctx.log.warning("SEM did not converge for moderator(s) %s", list(r.fit.loc[~r.fit["converged"], "moderator"]))
    ctx.log.info("sem paths:\n%s", r.paths.to_string())


run(snakemake, main)  # noqa: F821
