"""Study 3 measurement model: CFA of every construct (second-order CRFM from Study 2's retained items),
reliability, HTMT, descriptives and correlations with sqrt(AVE), marker-variable adjustment, and the
composite scores the regressions use."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.studies import study3
    from crfm.studies.survey import read_retained

    settings = ctx.settings
    df = ctx.read(smk.input.data, dtype={settings["study3"]["id_column"]: str})
    retained = read_retained(ctx.read(smk.input.retained))
    r = study3.measurement(df, settings, MeasurementModel.from_config(settings), retained)
    ctx.write(r)
    t = r.frame_table()
    ctx.write_frame(t.frame, smk.output.frame, notes=t.notes, code=t.code)
    for w in r.warnings:
        ctx.log.warning("%s", w)
    ctx.log.info("study3 measurement: %s", r.fit.fit)


run(snakemake, main)  # noqa: F821
