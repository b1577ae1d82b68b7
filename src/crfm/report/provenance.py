"""results/provenance.json: what a run was made from.

sha256 of every raw input and of every study output (tables and figures), the config hash
(:func:`crfm.data.config.config_hash`), the versions of Python, Snakemake and every installed distribution,
the platform, and the git commit when the workflow is a git checkout (``null`` otherwise; never an
error). No timestamp: the file changes only when something it records changes, so two clean runs on
one machine give the same bytes.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from crfm.data.config import config_hash
from crfm.data.manifest import sha256_file

KEY_PACKAGES = (
    "snakemake",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "krippendorff",
    "matplotlib",
    "jinja2",
    "xhtml2pdf",
    "reportlab",
    "crfm",
)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def package_versions() -> dict[str, str]:
    """Every distribution installed in this Python environment: {name: version}, sorted."""
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(_canonical(name), dist.version)
    return dict(sorted(out.items()))


def git_info(repo_dir) -> dict:
    """{'commit': sha or None, 'dirty': bool or None}: None when git or the repository is missing."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo_dir), *args], capture_output=True, text=True, timeout=20, check=False
        )

    try:
        top = git("rev-parse", "--show-toplevel")
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != Path(repo_dir).resolve():
            return {"commit": None, "dirty": None}  # not a checkout of this workflow (or none at all)
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def collect_provenance(config: dict, raw_inputs, outputs, *, repo_dir, synthetic: bool) -> dict:
    from crfm import __version__ as crfm_version

    packages = package_versions()
    return {
        "synthetic": bool(synthetic),
        "config_hash": config_hash(config),
        "studies": list(config.get("studies", [])),
        "raw_inputs": {Path(p).as_posix(): sha256_file(p) for p in sorted(set(map(str, raw_inputs)))},
        "outputs": {Path(p).as_posix(): sha256_file(p) for p in sorted(set(map(str, outputs)))},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "snakemake": packages.get("snakemake"),
        # crfm: the library actually imported (it runs from src/ when not pip-installed)
        "key_packages": {k: crfm_version if k == "crfm" else packages.get(_canonical(k)) for k in KEY_PACKAGES},
        "packages": packages,
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "git": git_info(repo_dir),
    }


def write_provenance(obj: dict, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
