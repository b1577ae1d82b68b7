"""Validate a survey sheet against the data contract, apply the exclusion rules, write the analysed
respondents, the exclusions table and the flow table (Study 2 and Study 3)."""

from _common import run


def main(smk, ctx):
    from crfm.studies import survey

    r = survey.validate(ctx.settings)
    ctx.write(r, synthetic=r.synthetic)
    ctx.write_frame(r.analysed, smk.output.data, code="crfm.studies.survey.validate", synthetic=r.synthetic)
    ctx.log.info("%s: %s", r.study, "; ".join(f"{s} {n}" for s, n in r.flow.itertuples(index=False)))


run(snakemake, main)  # noqa: F821
