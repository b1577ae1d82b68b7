"""Study 2, confirmatory stage: rival CFA models, loadings, reliability and validity, common-method
checks and the scale-items table."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.studies import study2
    from crfm.studies.survey import read_retained

    settings = ctx.settings
    read = lambda p: ctx.read(p, dtype={settings["study2"]["id_column"]: str})  # noqa: E731
    retained = read_retained(ctx.read(smk.input.retained))
    r = study2.confirm(
        read(smk.input.data), read(smk.input.samples), retained, settings, MeasurementModel.from_config(settings)
    )
    ctx.write(r)
    ctx.write_json(r.facts(), smk.output.summary)
    for p in r.problems:
        ctx.log.warning("%s", p)
    ctx.log.info("study2 confirm: correlated model %s", r.fits["correlated"].fit)


run(snakemake, main)  # noqa: F821
