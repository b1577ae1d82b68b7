"""One shard of the Study 3 bootstrap (scatter): replicate i is seeded from (seed, i)."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study3

    settings = ctx.settings
    frame = ctx.read(smk.input.frame, dtype={settings["study3"]["id_column"]: str})
    k, n = (int(x) for x in smk.wildcards.scatteritem.split("-of-"))
    shard = study3.bootstrap_shard(frame, settings, k - 1, n)
    ctx.write_frame(shard, smk.output[0], code="crfm.studies.study3.bootstrap_shard")
    ctx.log.info("bootstrap shard %d of %d: %d replicates", k, n, shard["replicate"].nunique())


run(snakemake, main)  # noqa: F821
