"""The bad-input corpus (tests/bad_inputs/corpus.py) through the real workflow.

Every case runs Snakemake on a scratch copy of the repository, asking for the cheapest output that
exercises it (a ``<study>_validate`` output; a dry run for a config refused when the workflow is
parsed), and must end one of two ways:

* **refused clearly**: the run fails, the failed job's message (its log, which Snakemake prints) names
  the file, the line(s), the column or config key, and a fix, with no traceback; and nothing the job
  was to produce is left behind for Snakemake to take as complete (no output file of the failed rule,
  and ``snakemake -n`` plans the job again);
* **accepted correctly**: the outputs exist and hold the right result (the value, the source line, the
  label).

Anything else is counted as refused unclearly, a crash, accepted wrongly or refused wrongly.

Cost: cases of different studies share a run (one validation job each, ``--keep-going``), and two
workers (one workflow copy each) run groups side by side; half the groups run with ``--cores 1``,
half with ``--cores 4``. The counts per class and outcome are printed at the end of the test session
(and written to ``$CRFM_CORPUS_SUMMARY`` when set).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bad_inputs import corpus
from conftest import copy_workflow, snakemake

pytestmark = pytest.mark.e2e

CASES = {c.id: c for c in corpus.CASES}
WORKERS = int(os.environ.get("CRFM_CORPUS_WORKERS", "3"))
GROUP_SIZE = 3
GOOD = ("refused clearly", "accepted correctly")


@dataclass
class Outcome:
    verdict: str
    detail: str = ""
    seconds: float = 0.0


def plan(cases) -> list[list]:
    """Cases into runs: a case that changes what every study reads (or is refused at parse time) runs
    alone; others share a run with cases of other studies, up to GROUP_SIZE."""
    groups: list[list] = []
    open_groups: list[list] = []
    for c in cases:
        if c.exclusive:
            groups.append([c])
            continue
        for g in open_groups:
            if len(g) < GROUP_SIZE and all(set(c.config).isdisjoint(o.config) and c.study != o.study for o in g):
                g.append(c)
                break
        else:
            g = [c]
            open_groups.append(g)
            groups.append(g)
    return groups


def _subst(obj, d: str):
    if isinstance(obj, str):
        return obj.replace("{dir}", d)
    if isinstance(obj, dict):
        return {k: _subst(v, d) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_subst(v, d) for v in obj]
    return obj


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def write_case(case, root: Path) -> Path:
    d = root / "cases" / case.id
    d.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        p = d / name
        if data is None:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    return d


def error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(("ERROR crfm.", "ConfigError:"))]


def expected_fragments(case) -> list[str]:
    frags = ["Fix:"]
    if case.file:
        frags.append(Path(case.file).name)
    if case.lines:
        frags.append("line(s) " + ", ".join(map(str, case.lines)))
    if case.column:
        frags.append(f"column '{case.column}'")
    if case.key:
        frags.append(f"config key '{case.key}")
    return frags + list(case.fragments)


def judge_refusal(case, message: str, out: str) -> Outcome:
    if not message:
        return Outcome(
            "crash" if "Traceback" in out else "refused unclearly", "no error message from the job:\n" + out[-1500:]
        )
    missing = [f for f in expected_fragments(case) if f not in message]
    if "Traceback" in out:
        return Outcome("refused unclearly", "a traceback in the output:\n" + out[-1500:])
    if missing:
        return Outcome("refused unclearly", f"message lacks {missing}: {message[:1500]}")
    if len(message) > 2200:
        return Outcome("refused unclearly", f"message of {len(message)} characters")
    return Outcome("refused clearly", message[:300])


def run_group(wf: Path, root: Path, k: int, group: list, dry_check: bool) -> dict:
    start = time.monotonic()
    run = f"g{k:03d}"
    results = wf / "results" / run
    override: dict = {"run": run}
    configfiles = []
    for c in group:
        d = write_case(c, root)
        override = _merge(override, _subst(c.config, str(d)))
        if c.config_text is not None:
            p = d / "config.yaml"
            p.write_text(c.config_text.replace("{dir}", str(d)), encoding="utf-8")
            configfiles.append(str(p))
    run_file = root / "groups" / f"{run}.yaml"
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(yaml.safe_dump(override), encoding="utf-8")  # escaped: a raw NEL would be folded
    configfiles.append(str(run_file))
    targets = [f"results/{run}/{t}" for c in group for t in c.targets]
    cores = "1" if k % 2 == 0 else "4"
    dry = any(c.dry_run for c in group)
    saved = {}
    for rel, data in (group[0].workflow_files if len(group) == 1 else {}).items():
        saved[rel] = (wf / rel).read_bytes()
        (wf / rel).write_bytes(data)
    try:
        args = [*targets, "--cores", cores, "--keep-going"] + (["-n"] if dry else []) + ["--configfile", *configfiles]
        res = snakemake(wf, *args, timeout=600)
        out = res.stdout + res.stderr
        plan_out = ""
        refused = [c for c in group if c.expect == "refuse" and not c.dry_run]
        if dry_check and refused:
            plan_out = snakemake(
                wf, *targets, "-n", "--quiet", "rules", "--configfile", *configfiles, timeout=600
            ).stdout
    finally:
        for rel, data in saved.items():
            (wf / rel).write_bytes(data)
    seconds = (time.monotonic() - start) / len(group)
    outcomes = {}
    for c in group:
        d = root / "cases" / c.id
        if c.dry_run:
            msg = "\n".join(error_lines(out))
            if c.expect == "refuse":
                o = judge_refusal(c, msg, out) if res.returncode != 0 else Outcome("accepted wrongly", out[-1500:])
                if results.exists():
                    o = Outcome(
                        "refused unclearly",
                        f"a job ran despite the refusal: {sorted(p.name for p in results.rglob('*'))[:5]}",
                    )
            else:
                o = (
                    Outcome("accepted correctly")
                    if res.returncode == 0
                    else Outcome("refused wrongly", (msg or out)[-1500:])
                )
                if o.verdict == "accepted correctly" and c.check:
                    try:
                        c.check(results, d)
                    except AssertionError as exc:
                        o = Outcome("accepted wrongly", str(exc))
        else:
            logs = {r: (results / "logs" / f"{r}.log") for r in c.rules}
            msg = "\n".join(
                m
                for p in logs.values()
                if p.exists()
                for m in error_lines(p.read_text(encoding="utf-8", errors="replace"))
            )
            produced = all((results / t).exists() for t in c.targets)
            if c.expect == "refuse":
                if produced:
                    o = Outcome("accepted wrongly", f"{c.targets} written")
                else:
                    o = judge_refusal(c, msg, out if not msg else msg)
                    left = [f"{r}: {p}" for r in c.rules for p in corpus.RULE_OUTPUTS[r] if (results / p).exists()]
                    if left:
                        o = Outcome("refused unclearly", f"outputs of the failed job left behind: {left}")
                    elif plan_out and any(r not in plan_out for r in c.rules):
                        o = Outcome(
                            "refused unclearly", f"snakemake -n does not plan {c.rules} again:\n{plan_out[-800:]}"
                        )
            else:
                if not produced:
                    o = Outcome("refused wrongly", (msg or out)[-1500:])
                else:
                    o = Outcome("accepted correctly")
                    if c.check:
                        try:
                            c.check(results, d)
                        except AssertionError as exc:
                            o = Outcome("accepted wrongly", str(exc))
                        except Exception as exc:  # noqa: BLE001 - a check that cannot read the output is a wrong result
                            o = Outcome("accepted wrongly", f"{type(exc).__name__}: {exc}")
        o.seconds = seconds
        outcomes[c.id] = o
    return outcomes


def summarize(outcomes: dict, seconds: float, n_runs: int) -> str:
    table = Counter((CASES[i].cls, o.verdict) for i, o in outcomes.items())
    verdicts = [
        "refused clearly",
        "accepted correctly",
        "refused unclearly",
        "crash",
        "accepted wrongly",
        "refused wrongly",
    ]
    lines = [
        f"bad-input corpus: {len(outcomes)} cases in {n_runs} Snakemake runs, {seconds:.0f} s",
        "class | " + " | ".join(verdicts) + " | total",
    ]
    for cls in sorted({c.cls for c in CASES.values()}):
        row = [table[(cls, v)] for v in verdicts]
        lines.append(f"{cls} {corpus.CLASSES[cls]} | " + " | ".join(map(str, row)) + f" | {sum(row)}")
    totals = [sum(table[(cls, v)] for cls in corpus.CLASSES) for v in verdicts]
    lines.append("all | " + " | ".join(map(str, totals)) + f" | {sum(totals)}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("corpus")
    groups = plan(corpus.CASES)
    copies = [copy_workflow(root / f"wf{w}") for w in range(WORKERS)]
    free = list(copies)
    lock = threading.Lock()
    # `snakemake -n` after a refusal (does it plan the failed job again?) costs a parse: every 4th run
    # (CRFM_CORPUS_DRY_CHECK_EVERY=1: every run); the missing output files are checked for every case.
    every = int(os.environ.get("CRFM_CORPUS_DRY_CHECK_EVERY", "4"))

    def work(item):
        k, group = item
        with lock:
            wf = free.pop()
        try:
            return run_group(wf, root, k, group, dry_check=(k % every == 0))
        finally:
            with lock:
                free.append(wf)

    start, cpu0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        for part in pool.map(work, enumerate(groups)):
            out.update(part)
    seconds = time.monotonic() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    text = (
        summarize(out, seconds, len(groups))
        + f"\n(CPU time of the Snakemake runs and their jobs: {cpu:.0f} s; load average at the end: {os.getloadavg()[0]:.1f})"
    )
    request.config._crfm_corpus_summary = text  # printed by conftest.pytest_terminal_summary
    (root / "summary.txt").write_text(text + "\n")
    target = os.environ.get("CRFM_CORPUS_SUMMARY")
    if target:
        Path(target).write_text(
            text
            + "\n"
            + json.dumps({i: [o.verdict, o.detail[:300], round(o.seconds, 2)] for i, o in out.items()}, indent=1)
            + "\n"
        )
    for wf in copies:
        shutil.rmtree(wf, ignore_errors=True)
    return out


def test_corpus_size_and_classes():
    by = corpus.by_class()
    assert len(corpus.CASES) >= 150
    assert set(by) == set(corpus.CLASSES)
    for cls, cases in by.items():
        assert any(c.expect == "refuse" for c in cases) or cls == 7, cls
        assert any(c.expect == "accept" for c in cases), cls


def test_plan_never_shares_a_study_in_a_run():
    for g in plan(corpus.CASES):
        assert len({c.study for c in g}) == len(g)
        assert len(g) == 1 or not any(c.exclusive for c in g)


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(outcomes, case_id):
    o = outcomes[case_id]
    c = CASES[case_id]
    assert o.verdict in GOOD and o.verdict.startswith(c.expect[:6]), f"{c.title}: {o.verdict}\n{o.detail}"
