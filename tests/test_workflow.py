"""End to end: the default config on a scratch copy of the repository, as a reviewer would run it."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, copy_workflow, snakemake
from crfm.data.tables import SYNTHETIC_NOTE, read_table

# Generated material that legitimately differs between runs (timings, logs of timings).
VOLATILE = ("logs", "benchmarks")


def digests(results: Path) -> dict[str, str]:
    out = {}
    for p in sorted(results.rglob("*")):
        rel = p.relative_to(results)
        if p.is_file() and not set(rel.parts) & set(VOLATILE):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    wf = copy_workflow(tmp_path_factory.mktemp("e2e") / "wf")
    res = snakemake(wf, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return wf


@pytest.mark.e2e
def test_dry_run_prints_the_full_plan(workflow_copy):
    res = snakemake(workflow_copy, "-n", "--quiet", "rules")
    assert res.returncode == 0, res.stderr[-2000:]
    for rule in (
        "study1_validate",
        "study1_coding_summary",
        "study1_qdpx_crosscheck",
        "study2_validate",
        "study2_explore",
        "study2_confirm",
        "study3_validate",
        "study3_measurement",
        "study3_regression",
        "study3_bootstrap_shard",
        "study3_bootstrap_ci",
        "study3_sem",
        "study3_hypotheses",
        "all",
    ):
        assert rule in res.stdout


@pytest.mark.e2e
def test_lint_and_format_are_clean(workflow_copy):
    res = snakemake(workflow_copy, "--lint")
    assert res.returncode == 0 and "Congratulations" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
    fmt = Path(sys.executable).parent / "snakefmt"
    res = subprocess.run([str(fmt), "--check", "."], cwd=workflow_copy, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.e2e
def test_every_table_is_labelled_synthetic(full_run):
    tables = list((full_run / "results/default").rglob("*.csv"))
    assert tables
    for t in tables:
        assert t.read_text().splitlines()[0] == f"# {SYNTHETIC_NOTE}", t


@pytest.mark.e2e
def test_rerun_is_a_no_op(full_run):
    res = snakemake(full_run, "-n")
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


@pytest.mark.e2e
def test_two_clean_runs_are_byte_identical(full_run):
    first = digests(full_run / "results")
    shutil.rmtree(full_run / "results")
    shutil.rmtree(full_run / ".snakemake", ignore_errors=True)
    res = snakemake(full_run, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    second = digests(full_run / "results")
    assert first.keys() == second.keys()
    differ = [k for k in first if first[k] != second[k]]
    assert not differ, f"not deterministic: {differ}"


@pytest.mark.e2e
def test_study1_from_the_qdpx_export_gives_the_same_tables(full_run, tmp_path):
    """All Study 1 outputs built from the shipped REFI-QDA export equal those built from the CSV. The
    export carries codes only, so the run leaves the intensity rating out (the config must say so:
    without `intensity: null` it stops at once) and the agreement tables agree on the codes' rows."""
    wf = copy_workflow(tmp_path / "wf")
    override = tmp_path / "qdpx.yaml"
    override.write_text("study1:\n  source: qdpx\n")
    res = snakemake(wf, "study1", "--cores", "2", "--configfile", str(override))
    assert res.returncode != 0 and "study1.reliability.intensity" in res.stdout + res.stderr
    assert not (wf / "results").exists()
    override.write_text("study1:\n  source: qdpx\n  reliability: {intensity: null}\n")
    res = snakemake(wf, "study1", "--cores", "2", "--configfile", str(override))
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    tables = sorted((full_run / "results/default/tables").glob("study1_*.csv"))
    tables = [t for t in tables if t.name != "study1_qdpx_crosscheck.csv"]
    assert len(tables) == 9
    for t in tables:
        if t.name in ("study1_reliability.csv", "study1_reliability_by_code.csv"):  # same numbers, no rating
            ours, ref = read_table(wf / "results/default/tables" / t.name), read_table(t)
            if "variable" in ref:
                ref = ref[ref["variable"] == "code"].reset_index(drop=True)
                assert set(ours["variable"]) == {"code"}
            pd.testing.assert_frame_equal(ours, ref)
        else:
            assert (wf / "results/default/tables" / t.name).read_bytes() == t.read_bytes(), t.name
    for fig in ("code_heatmap", "saturation", "cooccurrence"):
        assert (wf / f"results/default/figures/study1_{fig}.png").stat().st_size > 10_000


def test_scripts_import_their_own_checkout_first(tmp_path):
    """Snakemake hands a script its parent's sys.path, where an installed crfm (another checkout's
    `pip install -e`) can precede this copy's src/: the scripts' start-up must put their own src first."""
    scripts = ROOT / "workflow/scripts"
    code = (
        "import sys; sys.path[:0] = ['/elsewhere/src', " + repr(str(ROOT / "src")) + "]; "
        f"sys.path.append({str(scripts)!r}); import _common; print(sys.path[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(ROOT / "src")
