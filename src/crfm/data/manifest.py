"""The raw-data manifest: the flag that says whether the inputs are synthetic, and their checksums.

``resources/raw/manifest.yaml`` (or the file named by config ``data.manifest``)::

    synthetic: true            # required: labels every output as synthetic
    files: {name: sha256}      # optional: checked, so an edited file is not passed off as the generator's

For real data write ``synthetic: false`` and, optionally, the checksums of your files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from crfm.errors import InputError


def read_manifest(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "raw-data manifest not found", "create it with `synthetic: true|false` (see config/README.md)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise InputError(path, f"not valid YAML ({exc})", "fix the manifest's YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("synthetic"), bool):
        raise InputError(path, "the manifest needs a key `synthetic: true` or `synthetic: false`", "add the key")
    return data


def check_file(manifest: dict, manifest_path, data_path) -> None:
    """If the manifest lists ``data_path``'s name, its sha256 must match."""
    from crfm.data.synth import sha256

    name = Path(data_path).name
    expected = (manifest.get("files") or {}).get(name)
    if expected and Path(data_path).exists() and sha256(data_path) != expected:
        raise InputError(
            data_path,
            f"the file differs from the one recorded in the manifest {manifest_path}",
            "regenerate the synthetic inputs (python -m crfm.data.synth) or, for your own data, write a manifest "
            "with `synthetic: false`",
        )
