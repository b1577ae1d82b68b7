"""provenance.json: sha256 of raw inputs and study outputs, config hash, versions, platform, git commit."""

from _common import run


def main(smk, ctx):
    from pathlib import Path

    from crfm.report.provenance import collect_provenance, write_provenance

    repo = Path(smk.scriptdir).resolve().parents[1]
    prov = collect_provenance(ctx.settings, smk.input.raw, smk.input.outputs, repo_dir=repo, synthetic=ctx.synthetic)
    write_provenance(prov, smk.output[0])
    ctx.log.info(
        "config %s, git %s, %d raw inputs, %d outputs",
        prov["config_hash"][:12],
        prov["git"]["commit"],
        len(prov["raw_inputs"]),
        len(prov["outputs"]),
    )


run(snakemake, main)  # noqa: F821
