# What the run tells its user before and after the jobs (crfm.runinfo): under the SLURM executor, a
# preflight that the cluster can report job states the way the plugin will ask (else the run would
# wait forever); at the end, where the appendix, tables and figures are and the run's wall time.
import time

from crfm.runinfo import SlurmPreflightError, run_summary, slurm_status_preflight

RUN_STARTED = time.monotonic()


def executor_name():
    plugin = workflow.executor_plugin
    return plugin.name if plugin is not None else "local"


onstart:
    if executor_name() == "slurm":
        s = workflow.executor_settings
        try:
            check = slurm_status_preflight(
                getattr(s, "status_command", None),
                getattr(s, "init_seconds_before_status_checks", None),
            )
        except SlurmPreflightError as exc:
            print(f"\nERROR {exc}\n", file=sys.stderr)
            raise SystemExit(1)
        print(check.detail, file=sys.stderr)


onsuccess:
    if not workflow.dryrun:
        print(
            "\n"
            + run_summary(RESULTS, time.monotonic() - RUN_STARTED, config["run"]),
            file=sys.stderr,
        )


onerror:
    print(
        f"\ncrfm-pipeline: run '{config['run']}' stopped; the failed job's log is shown above "
        f"(all logs: {RESULTS}/logs/).",
        file=sys.stderr,
    )
