"""Gather the bootstrap shards: percentile and BCa intervals for the interaction and conditional effects."""

from _common import run


def main(smk, ctx):
    from crfm.studies import study3

    settings = ctx.settings
    frame = ctx.read(smk.input.frame, dtype={settings["study3"]["id_column"]: str})
    r = study3.bootstrap_intervals(frame, settings, [ctx.read(p) for p in smk.input.shards])
    ctx.write(r)
    ctx.log.info("bootstrap CIs:\n%s", r.intervals.to_string())


run(snakemake, main)  # noqa: F821
