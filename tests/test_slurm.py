"""The workflow under a real SLURM scheduler, through profiles/slurm.

The profile checks at the end are dry runs and always run. The real-scheduler test runs only in CI (``CI=true``) or when asked (``CRFM_TEST_SLURM=1``): it needs root, installs Debian's
slurm-wlm, slurmdbd, munge and mariadb-server if they are missing (tests/slurm/setup_cluster.sh), starts
a one-node cluster on localhost, and takes about three minutes. Once it runs, a cluster that does not
come up is a failure, not a skip.

Proof that the jobs ran in SLURM comes from SLURM's own accounting: ``sacct`` (slurmdbd) lists one
COMPLETED job per rule, named with the run's SLURM run ID, carrying the rule in its comment and the
node it ran on, and the plugin's kept log of that SLURM job ID shows the rule running there.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, copy_workflow, snakemake

WANTED = os.environ.get("CI", "").lower() in ("true", "1", "yes") or os.environ.get("CRFM_TEST_SLURM") == "1"
needs_slurm = pytest.mark.skipif(
    not WANTED,
    reason="real-SLURM test: runs in CI (CI=true) or with CRFM_TEST_SLURM=1 (needs root and apt; ~3 min)",
)

SCRIPTS = ROOT / "tests/slurm"
PARTITION = "crfm"
# Study 1 and Study 2: six SLURM jobs, three levels deep, two of them side by side on two CPUs.
TARGETS = ("study1", "study2")
# Generated material that legitimately differs between runs (timings, logs of timings).
VOLATILE = ("logs", "benchmarks")
SLURM_RUN_TIMEOUT = 600  # s; it takes ~160 s (the plugin polls sacct every 40 s)


def digests(results: Path) -> dict[str, str]:
    return {
        str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(results.rglob("*"))
        if p.is_file() and p.relative_to(results).parts[0] not in VOLATILE
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running one-node cluster; yields the environment its clients need. Torn down at the end."""
    state = tmp_path_factory.mktemp("slurm") / "state"
    env = dict(os.environ, CRFM_SLURM_PARTITION=PARTITION)
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
            pytest.fail(f"SLURM test cluster did not start (rc {setup.returncode}):\n{setup.stdout}\n{setup.stderr[-5000:]}")
        conf = state / "etc/slurm.conf"
        assert f"SLURM_CONF={conf}" in setup.stdout
        env["SLURM_CONF"] = str(conf)
        # plugin 1.4.0 reads $USER to guess an account (KeyError without it); CI containers may lack it
        env["USER"] = os.environ.get("USER") or getpass.getuser()
        env["PYTHONHASHSEED"] = "0"
        node = subprocess.run(["sinfo", "-h", "-o", "%N"], capture_output=True, text=True, env=env, timeout=30).stdout.strip()
        yield SimpleNamespace(env=env, node=node, setup_log=setup.stderr)
    finally:
        subprocess.run(["bash", str(SCRIPTS / "teardown_cluster.sh"), str(state)], timeout=180)


def run_slurm(wf: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """Snakemake with profiles/slurm, bounded by `timeout -k` (a lost status query can hang it)."""
    cmd = ["timeout", "-k", "20", str(SLURM_RUN_TIMEOUT), sys.executable, "-m", "snakemake", *args]
    return subprocess.run(cmd, cwd=wf, capture_output=True, text=True, env=env, timeout=SLURM_RUN_TIMEOUT + 60)


def sacct(env: dict, run_id: str) -> list[dict[str, str]]:
    fields = ["JobIDRaw", "JobName", "State", "NodeList", "Partition", "Comment", "ExitCode"]
    out = subprocess.run(
        ["sacct", "-X", "--parsable2", "--noheader", "--clusters", "all", "--starttime", "now-1days", "--name", run_id, "--format", ",".join(fields)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]


@pytest.mark.slurm
@needs_slurm
def test_workflow_runs_in_slurm_and_matches_a_local_run(cluster, tmp_path):
    env = cluster.env
    wf = copy_workflow(tmp_path / "slurm")
    # Overrides a test cluster needs: its partition, and no account (it has none). On the command line
    # default-resources replaces the profiles' lists; every rule sets its own mem_mb and runtime.
    res = run_slurm(wf, env, *TARGETS, "--profile", "profiles/slurm", "--default-resources", f"slurm_partition={PARTITION}")
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"rc {res.returncode}\n{out[-6000:]}\n--- cluster setup:\n{cluster.setup_log[-2000:]}"
    assert "Using profiles profiles/slurm" in out

    # What Snakemake says it submitted: snakemake job -> SLURM job ID -> kept SLURM log.
    run_id = re.search(r"SLURM run ID: ([0-9a-f-]{36})", out).group(1)
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", out))
    finished = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", out))
    rules = finished - set(TARGETS)  # the target rules only collect files and run in the main process
    assert len(rules) >= 6 and len(submitted) == len(rules), (rules, submitted)

    # SLURM's own record of those jobs.
    rows = sacct(env, run_id)
    assert {r["JobIDRaw"] for r in rows} == set(submitted), rows
    assert {r["Comment"] for r in rows} == {f"rule_{r}" for r in rules}, rows
    for r in rows:
        assert r["State"] == "COMPLETED" and r["ExitCode"] == "0:0", r
        assert r["NodeList"] == cluster.node and r["Partition"] == PARTITION, r
        log = Path(submitted[r["JobIDRaw"]])
        rule = r["Comment"].removeprefix("rule_")
        assert log == wf / ".snakemake/slurm_logs" / f"rule_{rule}" / f"{r['JobIDRaw']}.log"
        text = log.read_text()  # kept by slurm-keep-successful-logs
        assert f"rule {rule}:" in text and f"Host: {cluster.node}" in text, text[-2000:]

    # The same targets locally, in another copy: every output byte-identical.
    local = copy_workflow(tmp_path / "local")
    res = snakemake(local, *TARGETS, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    on_slurm, here = digests(wf / "results"), digests(local / "results")
    assert len(here) > 20 and on_slurm.keys() == here.keys(), set(on_slurm) ^ set(here)
    differ = [k for k in here if here[k] != on_slurm[k]]
    assert not differ, f"SLURM and local outputs differ: {differ}"


# --- the profile itself (dry runs: no scheduler needed) -----------------------------------------------

PLACEHOLDERS = ("slurm_partition=SET-YOUR-PARTITION", "slurm_account=SET-YOUR-ACCOUNT")


def planned_resources(wf: Path, *profile_args: str) -> list[str]:
    res = snakemake(wf, *TARGETS, "-n", "--forceall", *profile_args)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    lines = [line.strip() for line in res.stdout.splitlines() if line.strip().startswith("resources:")]
    assert len(lines) >= 6
    return lines


def test_slurm_profile_entries_are_valid_and_commented(workflow_copy):
    """Every key is an option Snakemake and the plugin accept (else the dry run fails) and has a comment."""
    lines = (ROOT / "profiles/slurm/config.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*[\w-]+:", line):
            assert lines[i - 1].lstrip().startswith("#"), f"uncommented entry: {line!r}"
    for line in planned_resources(workflow_copy, "--workflow-profile", "profiles/slurm"):
        assert all(p in line for p in PLACEHOLDERS), line


def test_profile_flag_carries_account_and_partition(workflow_copy):
    for line in planned_resources(workflow_copy, "--profile", "profiles/slurm"):
        assert all(p in line for p in PLACEHOLDERS), line
