"""Study 3 hypotheses table: every verdict computed from the regression, bootstrap and SEM tables."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study3

    r = study3.hypotheses(
        ctx.settings,
        ctx.read(smk.input.coefficients),
        ctx.read(smk.input.bootstrap),
        ctx.read(smk.input.sem),
        ctx.read(smk.input.summary),
    )
    ctx.write(r)
    ctx.write_json(r.facts(), smk.output.summary)
    ctx.log.info("hypotheses:\n%s", r.table.to_string())


run(snakemake, main)  # noqa: F821
