"""Gather the bootstrap shards: percentile and BCa intervals for the interaction and conditional effects."""

from _common import run


def main(smk, log):
    from crfm.studies import study3
    from crfm.data.tables import read_table, write_table
    from crfm.studies.steps import is_synthetic

    config = smk.config
    st = study3.settings(config)
    frame = read_table(smk.input.frame, dtype={st["id"]: str})
    shards = [read_table(p) for p in smk.input.shards]
    ci = study3.bootstrap_intervals(frame, config, shards)
    b = st["bootstrap"]
    note = (
        f"Nonparametric case bootstrap, B = {b['replicates']}, replicate i resampled with a generator seeded "
        f"from (seed {b['seed']}, i), so the numbers do not depend on the number of shards. Percentile and BCa (jackknife acceleration) 95% intervals."
    )
    write_table(ci, smk.output[0], synthetic=is_synthetic(config), notes=[note])
    log.info("bootstrap CIs:\n%s", ci.to_string())


run(snakemake, main)  # noqa: F821
