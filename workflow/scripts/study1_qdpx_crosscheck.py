"""Study 1 from the REFI-QDA export: every table rebuilt from the .qdpx and compared with the CSV's."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study1

    interviews = ctx.read(smk.input.interviews, dtype=str).astype({"order": int})
    segments = ctx.read(smk.input.segments, dtype=str, keep_default_na=False)
    codebook = ctx.read(smk.input.codebook, dtype=str, keep_default_na=False)
    r = study1.qdpx_crosscheck(ctx.settings, interviews, codebook, segments)
    ctx.write(r)
    ctx.log.info("qdpx cross-check: all %d tables identical", len(r.comparison))


run(snakemake, main)  # noqa: F821
