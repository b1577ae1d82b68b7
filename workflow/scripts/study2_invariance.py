"""Study 2 measurement invariance: configural, metric, scalar and strict models across groups."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study2
    from crfm.studies.survey import read_retained

    settings = ctx.settings
    read = lambda p: ctx.read(p, dtype={settings["study2"]["id_column"]: str})  # noqa: E731
    r = study2.invariance(
        read(smk.input.data), read(smk.input.samples), read_retained(ctx.read(smk.input.retained)), settings
    )
    ctx.write(r)
    ctx.log.info("study2 invariance:\n%s", r.table.to_string())


run(snakemake, main)  # noqa: F821
