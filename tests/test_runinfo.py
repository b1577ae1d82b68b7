"""The SLURM status preflight and the run-end summary (crfm.runinfo), against scripted cluster answers."""

from __future__ import annotations

import pytest

from crfm.runinfo import SlurmPreflightError, run_summary, slurm_status_preflight

NO_ACCOUNTING = (1, "sacct: error: Slurm accounting storage is disabled")


def cluster(squeue=(0, ""), sacct=(0, ""), min_job_age="300 sec", have_sacct=True):
    """A runner that answers like a cluster: squeue, sacct and scontrol show config."""

    def run(cmd):
        if cmd[0] == "squeue":
            return squeue
        if cmd[0] == "sacct":
            if not have_sacct:
                return 127, "sacct: command not found"
            return (0, "sacct 22.05.8") if cmd[1] == "--version" else sacct
        if cmd[:3] == ["scontrol", "show", "config"]:
            return (
                (0, f"Configuration data as of ...\nMinJobAge               = {min_job_age}\nMpiDefault = none")
                if min_job_age
                else (1, "down")
            )
        raise AssertionError(cmd)

    return run


def test_squeue_status_on_a_cluster_without_accounting():
    check = slurm_status_preflight("squeue", 5, run=cluster(sacct=NO_ACCOUNTING))
    assert check.command == "squeue" and "MinJobAge 300 s" in check.detail


def test_sacct_status_without_accounting_stops_with_the_fix():
    with pytest.raises(SlurmPreflightError) as e:
        slurm_status_preflight("sacct", 5, run=cluster(sacct=NO_ACCOUNTING))
    msg = str(e.value)
    assert "no job accounting" in msg and "accounting storage is disabled" in msg
    assert "Fix: set `slurm-status-command: squeue`" in msg


def test_plugin_default_is_sacct_when_installed_and_is_checked():
    """No status command configured: the plugin picks sacct when the binary exists."""
    with pytest.raises(SlurmPreflightError, match="no job accounting"):
        slurm_status_preflight(None, None, run=cluster(sacct=NO_ACCOUNTING))
    assert slurm_status_preflight(None, None, run=cluster()).command == "sacct"
    assert slurm_status_preflight(None, None, run=cluster(have_sacct=False)).command == "squeue"


def test_short_min_job_age_makes_the_plugin_ask_sacct():
    """Plugin 2.8 uses sacct instead of squeue when MinJobAge < 3 x the status interval."""
    assert slurm_status_preflight("squeue", 40, run=cluster(min_job_age="60 sec")).command == "sacct"
    with pytest.raises(SlurmPreflightError) as e:
        slurm_status_preflight("squeue", 40, run=cluster(min_job_age="60 sec", sacct=NO_ACCOUNTING))
    assert "MinJobAge" in str(e.value) and "lower slurm-init-seconds-before-status-checks to 20" in str(e.value)
    # without an sacct binary the plugin stays with squeue
    assert slurm_status_preflight("squeue", 40, run=cluster(min_job_age="60 sec", have_sacct=False)).command == "squeue"


def test_min_job_age_units():
    assert (
        "MinJobAge 3600 s"
        in slurm_status_preflight("squeue", 5, run=cluster(min_job_age="1h", sacct=NO_ACCOUNTING)).detail
    )


@pytest.mark.parametrize(
    "squeue, expected",
    [
        ((127, "squeue: command not found"), "squeue is not installed"),
        ((1, "slurm_load_jobs error: Unable to contact slurm controller"), "does not answer squeue"),
    ],
)
def test_no_controller_or_no_client(squeue, expected):
    with pytest.raises(SlurmPreflightError, match=expected):
        slurm_status_preflight("squeue", 5, run=cluster(squeue=squeue))


def test_unknown_status_command():
    with pytest.raises(SlurmPreflightError, match="slurm-status-command is 'qstat'"):
        slurm_status_preflight("qstat", 5, run=cluster())


def test_run_summary_names_the_outputs_and_the_label(tmp_path):
    res = tmp_path / "results/r1"
    (res / "tables").mkdir(parents=True)
    (res / "figures").mkdir()
    (res / "appendix").mkdir()
    (res / "tables/t.csv").write_text("# SYNTHETIC DATA: not the paper's data\na,b\n1,2\n")
    (res / "figures/f.png").write_bytes(b"png")
    (res / "appendix/appendix.pdf").write_bytes(b"%PDF")
    (res / "appendix/appendix.html").write_text("<html/>")
    (res / "numbers.tex").write_text("%")
    text = run_summary(res, 12.34, "r1")
    assert text.splitlines()[0] == "crfm-pipeline: run 'r1' finished in 12.3 s (from SYNTHETIC data, not the paper's)"
    assert f"appendix  {res / 'appendix/appendix.pdf'}" in text and "(1 CSV)" in text and "numbers.tex" in text
    (res / "tables/t.csv").write_text("a,b\n1,2\n")
    assert "from the configured data" in run_summary(res, 1, "r1")
