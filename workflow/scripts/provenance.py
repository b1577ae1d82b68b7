"""provenance.json: sha256 of raw inputs and study outputs, config hash, versions, platform, git commit."""

from _common import run


def main(smk, log):
    from pathlib import Path

    from crfm.report.provenance import collect_provenance, write_provenance
    from crfm.studies.steps import is_synthetic

    repo = Path(smk.scriptdir).resolve().parents[1]
    prov = collect_provenance(
        smk.config,
        smk.input.raw,
        smk.input.outputs,
        repo_dir=repo,
        synthetic=is_synthetic(smk.config),
    )
    write_provenance(prov, smk.output[0])
    log.info("config %s, git %s, %d raw inputs, %d outputs", prov["config_hash"][:12], prov["git"]["commit"], len(prov["raw_inputs"]), len(prov["outputs"]))


run(snakemake, main)  # noqa: F821
