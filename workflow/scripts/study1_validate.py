"""Validate Study 1's interview sheet, codebook and coded segments against the data contract."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study1

    r = study1.validate(ctx.settings)
    code = "crfm.studies.study1.validate"
    for name, frame in (("interviews", r.interviews), ("segments", r.segments), ("codebook", r.codebook)):
        ctx.write_frame(frame, smk.output[name], code=code, synthetic=r.synthetic)
    ctx.log.info(
        "study1: %d interviews, %d coded segments, %d codes", len(r.interviews), len(r.segments), len(r.codebook)
    )


run(snakemake, main)  # noqa: F821
