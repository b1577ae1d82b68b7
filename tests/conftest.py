"""Shared fixtures: the repository, its config, and a way to run the workflow in a scratch copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
CONFIG = ROOT / "config/config.yaml"
DATA = ROOT / "tests/data"
BAD = ROOT / "tests/bad_inputs"

# What a workflow copy needs: everything tracked except generated material.
COPY_DIRS = ["config", "envs", "profiles", "resources", "src", "workflow", "tests/data", "tests/bad_inputs"]
COPY_FILES = ["Snakefile", "pyproject.toml"]


def copy_workflow(dest: Path) -> Path:
    for d in COPY_DIRS:
        if (ROOT / d).exists():
            shutil.copytree(ROOT / d, dest / d, ignore=shutil.ignore_patterns("__pycache__", "results", ".snakemake"))
    for f in COPY_FILES:
        shutil.copy2(ROOT / f, dest / f)
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the Snakemake of this Python environment in ``workdir``. PYTHONHASHSEED is left random, as
    for a reviewer, so the determinism tests see any dependence on set or dict-of-set ordering."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def workflow_copy(tmp_path) -> Path:
    return copy_workflow(tmp_path / "wf")


# Holzinger & Swineford (1939) and the lavaan/psych/semTools reference numbers for it.
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
HS_ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="session")
def hs():
    import pandas as pd

    return pd.read_csv(DATA / "hs1939.csv")


@pytest.fixture(scope="session")
def ref() -> dict:
    import json

    return json.loads((DATA / "lavaan_hs1939.json").read_text())


def run_target(tmp_path_factory, name: str, *args: str) -> Path:
    """A scratch copy of the workflow with ``snakemake <args> --cores 2`` run in it (must succeed)."""
    wf = copy_workflow(tmp_path_factory.mktemp(name) / "wf")
    res = snakemake(wf, *args, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return wf


def clone_run(src: Path, dest: Path) -> Path:
    """A copy of a finished workflow run (files, results and .snakemake metadata), for a test that
    changes it: module-scoped runs stay as they were, whatever order the tests run in."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def expect_failure(
    wf: Path, target: str, overrides: dict, fragments, config_path: Path, ignore_case: bool = False, cores: int = 1
) -> str:
    """Run ``target`` with ``overrides`` merged over the config (written to ``config_path``) on
    ``cores`` cores; the run must fail and its output name every fragment. Returns the output."""
    import yaml

    config_path.write_text(yaml.safe_dump(overrides))
    res = snakemake(wf, target, "--cores", str(cores), "--configfile", str(config_path))
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    fold = str.lower if ignore_case else str
    for frag in fragments:
        assert fold(frag) in fold(out), f"{frag!r} not in output:\n{out[-3000:]}"
    return out


@pytest.fixture(scope="session")
def config_and_model():
    from crfm.workflow import load_config

    return load_config(CONFIG, SCHEMA)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The bad-input corpus's counts per class and outcome (tests/test_corpus.py), when it ran."""
    text = getattr(config, "_crfm_corpus_summary", None)
    if text:
        terminalreporter.section("bad-input corpus")
        terminalreporter.write_line(text)
