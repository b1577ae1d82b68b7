"""One shard of the Monte Carlo design analysis (scatter): replication i seeded from (seed, i)."""

from _common import run, study_context


def main(smk, log):
    from crfm.studies import design
    from crfm.data.tables import write_table

    ctx = study_context(smk, "study3")
    k, n = (int(x) for x in smk.wildcards.scatteritem.split("-of-"))
    reps = design.run_shard(ctx.config, ctx.model, k - 1, n)
    write_table(reps, smk.output[0], synthetic=True)
    bad = int((~reps["cfa_converged"].astype(bool)).sum()) if len(reps) else 0
    log.info("design shard %d of %d: %d replications, %d CFA non-converged", k, n, len(reps), bad)


run(snakemake, main)  # noqa: F821
