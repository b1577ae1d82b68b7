"""One shard of the Monte Carlo design analysis (scatter): replication i seeded from (seed, i)."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.studies import design

    settings = ctx.settings
    k, n = (int(x) for x in smk.wildcards.scatteritem.split("-of-"))
    reps = design.run_shard(settings, MeasurementModel.from_config(settings), k - 1, n)
    ctx.write_frame(reps, smk.output[0], code="crfm.studies.design.replicate_block", synthetic=True)
    bad = int((~reps["cfa_converged"].astype(bool)).sum()) if len(reps) else 0
    ctx.log.info("design shard %d of %d: %d replications, %d CFA non-converged", k, n, len(reps), bad)


run(snakemake, main)  # noqa: F821
