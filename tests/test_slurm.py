"""The workflow under a real SLURM scheduler, through profiles/slurm (snakemake-executor-plugin-slurm 2.8).

The profile checks at the end are dry runs and always run. The real-scheduler tests run only in CI
(``CI=true``) or when asked (``CRFM_TEST_SLURM=1``): they need root, install Debian's slurm-wlm,
slurmdbd, munge and mariadb-server if missing (tests/slurm/setup_cluster.sh), and start a one-node
cluster on localhost twice: **with job accounting** (slurmdbd; the run reads job states from
``sacct``) and **without** (``sacct`` answers "accounting storage is disabled"; the profile's
``squeue`` status). Each time the whole default DAG (``rule all``) runs under SLURM and every output
must be byte-identical to a local ``--cores 2`` run. Without accounting, a run told to use ``sacct``
must stop at once with the fix (the preflight), not wait forever. About six minutes in all. Once
they run, a cluster that does not come up is a failure, not a skip.

Proof that jobs ran in SLURM: with accounting, ``sacct`` lists one COMPLETED job per submitted job
ID, on the node and partition; without, ``squeue`` no longer knows the run's jobs as pending or
running and each kept SLURM log shows its rules running on the node.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import ROOT, copy_workflow, snakemake

WANTED = os.environ.get("CI", "").lower() in ("true", "1", "yes") or os.environ.get("CRFM_TEST_SLURM") == "1"
needs_slurm = pytest.mark.skipif(
    not WANTED,
    reason="real-SLURM test: runs in CI (CI=true) or with CRFM_TEST_SLURM=1 (needs root and apt; ~6 min)",
)

SCRIPTS = ROOT / "tests/slurm"
PARTITION = "crfm"
# Generated material that legitimately differs between runs (timings, logs of timings).
VOLATILE = ("logs", "benchmarks")
SLURM_RUN_TIMEOUT = 900  # s; the whole DAG takes 1-3 minutes on the test cluster
# The test cluster has no accounts: no -A (the profile's placeholder would be refused).
CLUSTER_ARGS = (
    "--default-resources",
    f"slurm_partition={PARTITION}",
    "mem_mb=1000",
    "runtime=10",
    "--slurm-no-account",
)


def digests(results: Path) -> dict[str, str]:
    return {
        str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(results.rglob("*"))
        if p.is_file() and not set(p.relative_to(results).parts) & set(VOLATILE)
    }


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The whole default DAG run locally on 2 cores: the outputs SLURM must reproduce byte for byte."""
    wf = copy_workflow(tmp_path_factory.mktemp("local"))
    t = time.monotonic()
    res = snakemake(wf, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return SimpleNamespace(digests=digests(wf / "results"), seconds=time.monotonic() - t)


@pytest.fixture(scope="module", params=["accounting", "no-accounting"])
def cluster(request, tmp_path_factory):
    """A running one-node cluster, with or without job accounting. Torn down at the end."""
    accounting = request.param == "accounting"
    state = tmp_path_factory.mktemp(f"slurm-{request.param}") / "state"
    env = dict(os.environ, CRFM_SLURM_PARTITION=PARTITION, CRFM_SLURM_ACCOUNTING="1" if accounting else "0")
    try:
        setup = subprocess.run(
            ["bash", str(SCRIPTS / "setup_cluster.sh"), str(state)],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        setup = subprocess.CompletedProcess(e.cmd, -1, e.stdout or "", f"{e.stderr or ''}\nsetup timed out")
    # The finalizer runs whether or not setup succeeded: a half-started cluster is stopped too.
    try:
        if setup.returncode != 0:
            pytest.fail(
                f"SLURM test cluster did not start (rc {setup.returncode}):\n{setup.stdout}\n{setup.stderr[-5000:]}"
            )
        # jobs of the jobstep plugin read /etc/slurm/slurm.conf (they do not see SLURM_CONF)
        assert Path("/etc/slurm/slurm.conf").resolve() == (state / "etc/slurm.conf").resolve()
        env.pop("SLURM_CONF", None)
        env.setdefault("USER", "root")
        node = subprocess.run(
            ["sinfo", "-h", "-o", "%N"], capture_output=True, text=True, env=env, timeout=30
        ).stdout.strip()
        yield SimpleNamespace(env=env, node=node, accounting=accounting, setup_log=setup.stderr)
    finally:
        subprocess.run(["bash", str(SCRIPTS / "teardown_cluster.sh"), str(state)], timeout=180)


def run_slurm(wf: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """Snakemake with profiles/slurm, bounded by `timeout -k` (a lost status query must not hang CI)."""
    cmd = ["timeout", "-k", "20", str(SLURM_RUN_TIMEOUT), sys.executable, "-m", "snakemake", *args]
    return subprocess.run(cmd, cwd=wf, capture_output=True, text=True, env=env, timeout=SLURM_RUN_TIMEOUT + 60)


def sacct(env: dict, run_id: str) -> list[dict[str, str]]:
    fields = ["JobIDRaw", "JobName", "State", "NodeList", "Partition", "ExitCode"]
    out = subprocess.run(
        [
            "sacct",
            "-X",
            "--parsable2",
            "--noheader",
            "--starttime",
            "now-1days",
            "--name",
            run_id,
            "--format",
            ",".join(fields),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]


@pytest.mark.slurm
@needs_slurm
def test_rule_all_under_slurm_matches_a_local_run(cluster, local_run, tmp_path):
    env = cluster.env
    wf = copy_workflow(tmp_path / "slurm")
    status = ("--slurm-status-command", "sacct") if cluster.accounting else ()  # else the profile's squeue
    t = time.monotonic()
    res = run_slurm(wf, env, "--profile", "profiles/slurm", *CLUSTER_ARGS, *status)
    seconds = time.monotonic() - t
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"rc {res.returncode}\n{out[-6000:]}\n--- cluster setup:\n{cluster.setup_log[-2000:]}"
    assert f"SLURM status by {'sacct' if cluster.accounting else 'squeue'}" in out  # the preflight's answer
    assert "crfm-pipeline: run 'default' finished in" in out and "appendix" in out  # the run-end summary

    run_id = re.search(r"SLURM run ID: ([0-9a-f-]{36})", out).group(1)
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", out))
    # profiles/slurm: Study 2's CFAs (a group), Study 3's regression, SEM and bootstrap shards (a group,
    # four to a SLURM job), each design shard; validation, Study 1, the EFA, the analysis frame,
    # gathering and the appendix are local
    shards = len(list((wf / "results/default/design").glob("shard_*.csv")))
    boot = len(list((wf / "results/default/study3/bootstrap").glob("shard_*.csv")))
    assert len(submitted) == 1 + math.ceil((2 + boot) / 4) + shards, submitted
    for _jobid, log in submitted.items():
        text = Path(log).read_text()  # kept by slurm-keep-successful-logs
        assert f"Host: {cluster.node}" in text, text[-2000:]
    if cluster.accounting:
        rows = sacct(env, run_id)
        assert {r["JobIDRaw"] for r in rows} == set(submitted), rows
        for r in rows:
            assert r["State"] == "COMPLETED" and r["ExitCode"] == "0:0", r
            assert r["NodeList"] == cluster.node and r["Partition"] == PARTITION, r
    else:
        assert (
            "accounting storage is disabled"
            in subprocess.run(["sacct", "-X", "-n"], capture_output=True, text=True, env=env).stderr.lower()
        )
        left = subprocess.run(
            ["squeue", "-h", "--states=PENDING,RUNNING", "--name", run_id],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        assert left.strip() == "", left

    on_slurm = digests(wf / "results")
    assert len(local_run.digests) > 100 and on_slurm.keys() == local_run.digests.keys(), set(on_slurm) ^ set(
        local_run.digests
    )
    differ = [k for k in local_run.digests if local_run.digests[k] != on_slurm[k]]
    assert not differ, f"SLURM and local outputs differ: {differ}"
    print(
        f"\n[slurm {'with' if cluster.accounting else 'without'} accounting] {seconds:.0f} s wall, {len(submitted)} SLURM jobs; local {local_run.seconds:.0f} s"
    )


@pytest.mark.slurm
@needs_slurm
def test_preflight_stops_at_once_where_sacct_cannot_answer(cluster, tmp_path):
    if cluster.accounting:
        pytest.skip("the cluster has accounting: sacct answers")
    wf = copy_workflow(tmp_path / "preflight")
    t = time.monotonic()
    res = run_slurm(
        wf, cluster.env, "study2", "--profile", "profiles/slurm", *CLUSTER_ARGS, "--slurm-status-command", "sacct"
    )
    out = res.stdout + res.stderr
    assert res.returncode != 0 and time.monotonic() - t < 120, out[-3000:]
    assert "no job accounting" in out and "Fix: set `slurm-status-command: squeue`" in out, out[-3000:]
    assert "submitted with SLURM jobid" not in out
    assert not (wf / ".snakemake/locks").exists() or not any((wf / ".snakemake/locks").iterdir())


# --- the profile itself (dry runs: no scheduler needed) -----------------------------------------------

PLACEHOLDERS = ("slurm_partition=SET-YOUR-PARTITION", "slurm_account=SET-YOUR-ACCOUNT")
PROFILE = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())


def planned_resources(wf: Path, *profile_args: str) -> list[str]:
    res = snakemake(wf, "study1", "study2", "-n", "--forceall", "--quiet", "host", *profile_args)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    lines = [line.strip() for line in res.stdout.splitlines() if line.strip().startswith("resources:")]
    assert len(lines) >= 6
    return lines


def test_slurm_profile_entries_are_valid_and_commented(workflow_copy):
    """Every key is an option Snakemake and the plugin accept (else the dry run fails) and has a comment."""
    lines = (ROOT / "profiles/slurm/config.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[\w-]+:", line):
            assert lines[i - 1].lstrip().startswith("#"), f"uncommented entry: {line!r}"
    for line in planned_resources(workflow_copy, "--workflow-profile", "profiles/slurm"):
        assert all(p in line for p in PLACEHOLDERS), line


def test_profile_flag_carries_account_and_partition(workflow_copy):
    for line in planned_resources(workflow_copy, "--profile", "profiles/slurm"):
        assert all(p in line for p in PLACEHOLDERS), line


def test_profile_groups_name_rules_that_exist(workflow_copy):
    """A renamed rule would silently leave the group (Snakemake ignores unknown names in --groups)."""
    res = snakemake(workflow_copy, "--list-rules")
    assert res.returncode == 0, res.stderr[-2000:]
    rules = set(res.stdout.split())
    grouped = {g.split("=")[0] for g in PROFILE["groups"]}
    assert grouped and grouped <= rules, grouped - rules
    # the design shards stay separate SLURM jobs (the parallel work of a big grid)
    assert "design_shard" not in grouped
