"""One shard of the Study 3 bootstrap (scatter): replicate i is seeded from (seed, i)."""

from _common import run


def main(smk, log):
    from crfm.studies import study3
    from crfm.data.tables import read_table, write_table
    from crfm.studies.steps import is_synthetic

    config = smk.config
    st = study3.settings(config)
    frame = read_table(smk.input.frame, dtype={st["id"]: str})
    k, n = (int(x) for x in smk.wildcards.scatteritem.split("-of-"))
    shard = study3.bootstrap_shard(frame, config, k - 1, n)
    write_table(shard, smk.output[0], synthetic=is_synthetic(config))
    log.info("bootstrap shard %d of %d: %d replicates", k, n, shard["replicate"].nunique())


run(snakemake, main)  # noqa: F821
