"""What the workflow tells the person running it, before and after the jobs (top layer, like
:mod:`crfm.workflow`): the SLURM status preflight and the run-end summary.

Neither computes a number of the paper; both are called from ``workflow/rules/hooks.smk``.

**SLURM preflight.** snakemake-executor-plugin-slurm learns that a job finished by asking ``sacct``
(job accounting, slurmdbd) or ``squeue`` (``slurm-status-command: squeue``). On a cluster that
cannot answer the chosen way, the run used to wait forever: ``sacct`` on a cluster without
accounting answers "Slurm accounting storage is disabled"; ``squeue`` forgets a finished job after
``MinJobAge`` seconds, and plugin 2.8 falls back from ``squeue`` to ``sacct`` whenever MinJobAge is
under three status intervals and an ``sacct`` binary exists. :func:`slurm_status_preflight` asks
the same questions once, with a deadline, before any job is submitted, and stops the run with the
fix when the answer cannot come.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from crfm.errors import CRFMError

__all__ = ["SlurmPreflightError", "StatusCheck", "slurm_status_preflight", "run_summary"]

Runner = Callable[[Sequence[str]], tuple[int, str]]


class SlurmPreflightError(CRFMError):
    """The cluster cannot tell the executor when jobs finish; the run would never end."""

    def __init__(self, problem: str, fix: str):
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem}. Fix: {fix}")


@dataclass(frozen=True)
class StatusCheck:
    command: str  # the status command the plugin will use: "sacct" or "squeue"
    detail: str  # one line for the console


def _run(cmd: Sequence[str], timeout: float = 30) -> tuple[int, str]:
    """(return code, stdout + stderr) of a SLURM client command; 127 when it is not installed,
    124 when it does not answer within ``timeout`` seconds (a controller that is down)."""
    if shutil.which(cmd[0]) is None:
        return 127, f"{cmd[0]}: command not found"
    try:
        res = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(cmd)} did not answer within {timeout:.0f} s"
    return res.returncode, (res.stdout + res.stderr).strip()


def _min_job_age(run: Runner) -> int | None:
    rc, out = run(["scontrol", "show", "config"])
    if rc != 0:
        return None
    m = re.search(r"^\s*MinJobAge\s*=\s*(\d+)\s*(\w*)", out, re.MULTILINE)
    if not m:
        return None
    value, unit = int(m.group(1)), m.group(2).lower()
    return value * 3600 if unit.startswith("h") else value * 60 if unit.startswith("min") else value


def _accounting(run: Runner) -> tuple[bool, str]:
    rc, out = run(["sacct", "-X", "-n", "-o", "JobID", "-S", "now-1minutes"])
    if rc == 0 and "accounting storage is disabled" not in out.lower():
        return True, "sacct answers"
    first = out.splitlines()[0] if out else f"exit code {rc}"
    return False, first[:200]


def slurm_status_preflight(
    status_command: str | None, init_seconds: int | float | None, run: Runner = _run
) -> StatusCheck:
    """Check, before submitting, that the cluster answers the status queries the plugin will make.

    ``status_command``/``init_seconds``: the executor settings (``slurm-status-command``,
    ``slurm-init-seconds-before-status-checks``; ``None`` for the plugin's default). Returns the
    command the plugin will use; raises :class:`SlurmPreflightError` naming the setting and the fix.
    """
    fix_squeue = (
        "set `slurm-status-command: squeue` in profiles/slurm/config.yaml (or pass --slurm-status-command squeue)"
    )
    rc, out = run(["squeue", "-h", "-o", "%i", "-u", os.environ.get("USER") or "root"])
    if rc == 127:
        raise SlurmPreflightError(
            "SLURM executor: squeue is not installed on this host",
            "run Snakemake with --profile profiles/slurm on a host that can submit jobs (a login node)",
        )
    if rc != 0:
        raise SlurmPreflightError(
            f"SLURM executor: the controller does not answer squeue ({out.splitlines()[0][:200] if out else rc})",
            "check `sinfo` and `squeue` work here; ask your admins if slurmctld is down",
        )
    have_sacct = run(["sacct", "--version"])[0] != 127  # 127: not installed (see _run)
    accounting, why = _accounting(run) if have_sacct else (False, "sacct is not installed")
    chosen = status_command or ("sacct" if have_sacct else "squeue")
    if chosen not in ("sacct", "squeue"):
        raise SlurmPreflightError(f"slurm-status-command is {chosen!r}", "use sacct or squeue")
    init = int(init_seconds) if init_seconds else 40
    age = _min_job_age(run)
    if chosen == "squeue" and (age is None or age < 3 * init) and have_sacct:
        # plugin 2.8 switches to sacct here, whatever the profile says
        if not accounting:
            raise SlurmPreflightError(
                f"SLURM executor: status by squeue needs MinJobAge >= 3 x slurm-init-seconds-before-status-checks "
                f"({age} < 3 x {init}), so the plugin would ask sacct instead, and sacct does not work here ({why})",
                f"lower slurm-init-seconds-before-status-checks to {max(1, (age or 0) // 3)} or less in the profile (or ask your admins to raise MinJobAge)",
            )
        chosen = "sacct"
    if chosen == "sacct" and not accounting:
        raise SlurmPreflightError(
            f"SLURM executor: job states would be read from sacct, but this cluster has no job accounting ({why}); Snakemake would wait forever",
            fix_squeue,
        )
    if chosen == "squeue":
        return StatusCheck("squeue", f"SLURM status by squeue (MinJobAge {age} s, status checks every >= {init} s)")
    return StatusCheck("sacct", "SLURM status by sacct (job accounting answers)")


def run_summary(results: str | Path, seconds: float, run_name: str) -> str:
    """The few lines printed when a run succeeds: where its outputs are, how long it took, and
    whether they were computed from synthetic data (the label the tables carry)."""
    from crfm.data.manifest import any_synthetic

    results = Path(results)
    appendix = results / "appendix"
    pdf = appendix / "appendix.pdf"
    html = appendix / "appendix.html"
    tables = sorted((results / "tables").glob("*.csv"))
    figures = sorted((results / "figures").glob("*.png"))
    label = "from SYNTHETIC data, not the paper's" if any_synthetic(tables) else "from the configured data"
    lines = [f"crfm-pipeline: run '{run_name}' finished in {seconds:.1f} s ({label})"]
    if pdf.is_file() or html.is_file():
        lines.append(
            f"  appendix  {pdf if pdf.is_file() else html}"
            + (f"  (also {html})" if pdf.is_file() and html.is_file() else "")
        )
    if tables:
        lines.append(f"  tables    {results / 'tables'}/  ({len(tables)} CSV)")
    if figures:
        lines.append(f"  figures   {results / 'figures'}/  ({len(figures)} PNG + PDF)")
    if (results / "numbers.tex").is_file():
        lines.append(f"  numbers   {results / 'numbers.tex'}  (LaTeX macros for a manuscript)")
    lines.append(f"  report    snakemake --report {results / 'report.html'}  (the browsable Snakemake report)")
    return "\n".join(lines)
