"""A job killed mid-way (SIGKILL) leaves no output that Snakemake would take as complete, and the rerun
finishes with outputs byte-identical to an uninterrupted run.

Two ways to die: the whole process group (Snakemake and the job's script together, as when a node or
a terminal goes away; Snakemake gets no chance to clean up, its incomplete-output markers stay), and
the job's script alone (as the OOM killer does; Snakemake sees the job fail and deletes its outputs).
The killed job is study2_explore, Study 2's longest (~9 s), killed as soon as its first output file
exists, so part of its outputs are on disk and part are not. The rerun uses profiles/default, which
sets `rerun-incomplete: true`; after a killed Snakemake it needs `snakemake --unlock` first (its lock
in .snakemake/locks outlives it), which the test checks too.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import copy_workflow, snakemake

TARGET = "study2"
RULE = "study2_explore"
# An output of RULE that the script writes first (its tables come before its figures and summary).
RESULTS = "results/default"
FIRST_OUTPUT = f"{RESULTS}/tables/study2_item_analysis.csv"
VOLATILE = ("logs", "benchmarks")


def digests(results: Path) -> dict[str, str]:
    return {
        str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(results.rglob("*"))
        if p.is_file() and p.relative_to(results).parts[0] not in VOLATILE
    }


def session_processes(sid: int) -> dict[int, str]:
    """pid -> command line of every live process in session ``sid`` (the run we started, nothing else).

    Zombies (dead, waiting for a parent to reap them) are not alive and are left out."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if os.getsid(int(d.name)) == sid and state not in ("Z", "X"):
                found[int(d.name)] = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            continue
    return found


def incomplete_files(wf: Path) -> list[str]:
    """Files Snakemake itself calls incomplete: a dry run without --rerun-incomplete names them."""
    res = snakemake(wf, TARGET, "-n", "--workflow-profile", "none")
    out = res.stdout + res.stderr
    if res.returncode == 0:
        return []
    assert "IncompleteFilesException" in out, out[-3000:]
    listed = out.split("Incomplete files:", 1)[1].strip().splitlines()
    return [line.strip() for line in listed if line.strip().startswith("results/default/")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Digests of an uninterrupted run of the same target."""
    wf = copy_workflow(tmp_path_factory.mktemp("kill_ref") / "wf")
    res = snakemake(wf, TARGET, "--cores", "1")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return digests(wf / RESULTS)


@pytest.mark.e2e
@pytest.mark.parametrize("victim", ["process_group", "job_script"])
def test_sigkill_mid_job_leaves_nothing_complete_and_rerun_finishes(victim, reference, tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    log = tmp_path / "killed_run.log"
    env = dict(os.environ, PYTHONHASHSEED="0")
    with open(log, "w") as fh:
        run = subprocess.Popen(
            [sys.executable, "-m", "snakemake", TARGET, "--cores", "1"],
            cwd=wf,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session and process group: we kill only what we started
        )
    sid = run.pid
    try:
        deadline = time.monotonic() + 180
        while not (wf / FIRST_OUTPUT).exists():
            assert run.poll() is None, f"run ended before {RULE} wrote anything:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{FIRST_OUTPUT} never appeared"
            time.sleep(0.01)

        if victim == "process_group":
            os.killpg(sid, signal.SIGKILL)
            assert run.wait(timeout=30) == -signal.SIGKILL
        else:
            scripts = [
                pid
                for pid, cmd in session_processes(sid).items()
                if f"{RULE}.py" in cmd and "python" in cmd.split(" ", 1)[0]
            ]
            assert len(scripts) == 1, session_processes(sid)
            os.kill(scripts[0], signal.SIGKILL)
            assert run.wait(timeout=120) != 0  # Snakemake notices the failed job and stops
        time.sleep(0.5)
        assert not session_processes(sid), f"survivors: {session_processes(sid)}"
    finally:
        if run.poll() is None or session_processes(sid):
            for pid in session_processes(sid):
                os.kill(pid, signal.SIGKILL)
            run.wait(timeout=30)

    killed_log = log.read_text()
    assert f"(Rule: {RULE})" not in killed_log, "the job finished before the kill: nothing was tested"
    if victim == "job_script":
        assert f"Error in rule {RULE}" in killed_log, killed_log[-3000:]

    # Nothing on disk is both wrong and taken as complete: every file is either named incomplete by
    # Snakemake or identical to the uninterrupted run's (outputs of jobs that finished before the kill).
    incomplete = incomplete_files(wf)
    on_disk = digests(wf / RESULTS)
    suspicious = [f for f in on_disk if f"{RESULTS}/{f}" not in incomplete and on_disk[f] != reference.get(f)]
    assert not suspicious, f"left as if complete: {suspicious}"
    partial = [
        f for f in reference if f.startswith(("tables/study2_", "study2/", "figures/study2_")) and f not in on_disk
    ]
    assert partial, "all outputs exist: the kill did not land mid-job"
    if victim == "process_group":
        # Snakemake never got to clean up: the killed job's files are on disk and marked incomplete.
        assert FIRST_OUTPUT in incomplete, incomplete
    else:
        # Snakemake deleted the failed job's outputs itself.
        assert FIRST_OUTPUT.removeprefix(f"{RESULTS}/") not in on_disk and not incomplete, (incomplete, sorted(on_disk))

    if victim == "process_group":
        # A killed Snakemake also leaves its lock: the documented recovery is `snakemake --unlock`.
        res = snakemake(wf, TARGET, "--cores", "1")
        assert res.returncode != 0 and "LockException" in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
        res = snakemake(wf, TARGET, "--unlock")
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    # The rerun (profiles/default: rerun-incomplete) finishes, and matches the uninterrupted run.
    res = snakemake(wf, TARGET, "--cores", "1")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert re.search(rf"rule {RULE}:", res.stdout + res.stderr)
    after = digests(wf / RESULTS)
    assert after.keys() == reference.keys(), set(after) ^ set(reference)
    assert [f for f in after if after[f] != reference[f]] == []
    res = snakemake(wf, TARGET, "-n")
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
