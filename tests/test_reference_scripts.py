"""The committed reference numbers are what their committed scripts make.

Each script of tests/reference/ (see tests/reference/README.md) is rerun into a scratch directory and
every number of every file it writes is compared with the committed file: JSON recursively (same keys
in the same order, same list lengths, equal strings and booleans, numbers within 1e-8 relative or
absolute), CSV by their comment lines and values, text exactly. Only the strings that name software
versions (``VERSION_KEYS``) may differ; a difference there is reported as a warning. The scripts are
also held to leave the repository's own copies untouched when given an output argument.

Needs ``Rscript`` and the scripts' R packages (Debian 12: .ci/install-r.sh); without them the R tests
skip, but with CI=true (CI installs R) they fail. About a minute in all, nearly all of it
references.R (~30 lavaan fits, each restarted once); select or deselect with ``-m reference``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
INSTALL = ".ci/install-r.sh"
REL = ABS = 1e-8
# Keys whose string values name software versions (or the software list of "source"): allowed to
# differ from the committed file when the script is rerun with other versions.
VERSION_KEYS = {"source", "r_version", "lavaan_version", "R", "psych", "GPArotation"}
SCRIPT_TIMEOUT = 1800  # s; references.R takes about a minute on a busy two-core machine


@dataclass(frozen=True)
class Script:
    path: str  # relative to the repository root
    packages: tuple[str, ...]  # R packages; () for the Python script
    outputs: tuple[tuple[str, str], ...]  # (file name in the output dir, committed file)
    out_arg: str = "dir"  # "dir": the script takes OUT_DIR; otherwise the file name it is given

    def command(self, out_dir: Path) -> list[str]:
        target = out_dir if self.out_arg == "dir" else out_dir / self.out_arg
        runner = [sys.executable] if self.path.endswith(".py") else [rscript()]
        return [*runner, self.path, str(target)]


def _lavaan_outputs() -> tuple[tuple[str, str], ...]:
    jsons = sorted(p.name for p in (ROOT / "tests/reference/lavaan").glob("*.json"))
    return (
        *((n, f"tests/reference/lavaan/{n}") for n in jsons),
        ("political_democracy.csv", "tests/data/political_democracy.csv"),
    )


SCRIPTS = {
    "make_hs1939_reference": Script(
        "tests/reference/lavaan/make_hs1939_reference.R",
        ("lavaan", "semTools", "psych"),
        (("lavaan_hs1939.json", "tests/data/lavaan_hs1939.json"),),
        out_arg="lavaan_hs1939.json",
    ),
    # every JSON in tests/reference/lavaan/ must come out of references.R
    "references": Script("tests/reference/lavaan/references.R", ("lavaan",), _lavaan_outputs()),
    "make_study3_sem": Script(
        "tests/reference/lavaan/make_study3_sem.py",
        (),
        (
            ("study3_sem_data.csv", "tests/data/study3_sem_data.csv"),
            ("study3_sem_model.txt", "tests/reference/lavaan/study3_sem_model.txt"),
        ),
    ),
    "make_fa_reference": Script(
        "tests/reference/psych/make_fa_reference.R",
        ("psych", "GPArotation"),
        (
            ("fa_reference.json", "tests/reference/psych/fa_reference.json"),
            ("study2_fa_items.csv", "tests/data/study2_fa_items.csv"),
        ),
    ),
    "make_factorability_reference": Script(
        "tests/reference/psych/make_factorability_reference.R",
        ("psych", "jsonlite"),
        (("factorability_reference.json", "tests/reference/psych/factorability_reference.json"),),
    ),
}


# --- R available? --------------------------------------------------------------------------------
def _unavailable(msg: str):
    if IN_CI:
        pytest.fail(f"CI={os.environ.get('CI')} but {msg}; {INSTALL} installs it")
    pytest.skip(f"{msg} ({INSTALL} installs it; with CI=true this fails)")


def rscript() -> str:
    path = shutil.which("Rscript")
    if not path:
        _unavailable("Rscript is not installed")
    return path


@functools.cache
def _missing_r_packages(packages: tuple[str, ...]) -> tuple[str, ...]:
    code = (
        f"p <- c({', '.join(repr(p) for p in packages)}); "
        "cat(p[!vapply(p, requireNamespace, logical(1), quietly = TRUE)], sep = '\\n')"
    )
    res = subprocess.run([rscript(), "-e", code], check=False, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        return packages
    return tuple(line for line in res.stdout.split() if line)


def require_r(packages: tuple[str, ...]) -> None:
    if not packages:
        return
    rscript()
    missing = _missing_r_packages(packages)
    if missing:
        _unavailable(f"R package(s) {', '.join(missing)} not installed")


# --- comparison ----------------------------------------------------------------------------------
def compare_json(new, old, where: str, errors: list[str], versions: list[str], key: str | None = None) -> None:
    """Record in ``errors`` every place where the regenerated ``new`` differs from the committed ``old``."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            errors.append(f"{where}: object expected, got {type(new).__name__}")
        elif list(new) != list(old):
            errors.append(f"{where}: keys {list(new)} != committed {list(old)}")
        else:
            for k in old:
                compare_json(new[k], old[k], f"{where}.{k}", errors, versions, k)
    elif isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            errors.append(f"{where}: list of {len(old)} expected, got {new!r:.80}")
        else:
            for i, (a, b) in enumerate(zip(new, old)):
                compare_json(a, b, f"{where}[{i}]", errors, versions, key)
    elif isinstance(old, bool) or old is None or isinstance(new, bool) or new is None:
        if new is not old:
            errors.append(f"{where}: {new!r} != committed {old!r}")
    elif isinstance(old, (int, float)):
        if not isinstance(new, (int, float)) or not (new == old or math.isclose(new, old, rel_tol=REL, abs_tol=ABS)):
            errors.append(f"{where}: {new!r} != committed {old!r}")
    elif isinstance(old, str):
        if new != old:
            if key in VERSION_KEYS and isinstance(new, str):
                versions.append(f"{where}: {new!r} (committed {old!r})")
            else:
                errors.append(f"{where}: {new!r:.200} != committed {old!r:.200}")
    else:  # pragma: no cover - json.loads makes nothing else
        errors.append(f"{where}: unexpected type {type(old).__name__}")


def compare_csv(new: Path, old: Path, where: str, errors: list[str]) -> None:
    import pandas as pd

    def comments(p: Path) -> list[str]:
        return [line for line in p.read_text(encoding="utf-8").splitlines() if line.startswith("#")]

    if comments(new) != comments(old):
        errors.append(f"{where}: comment lines differ: {comments(new)} != {comments(old)}")
    a, b = pd.read_csv(new, comment="#"), pd.read_csv(old, comment="#")
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=REL, atol=ABS, check_dtype=False)
    except AssertionError as e:
        errors.append(f"{where}: {e}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_reference_script_reproduces_committed_files(name, tmp_path):
    script = SCRIPTS[name]
    require_r(script.packages)
    committed = {out: ROOT / rel for out, rel in script.outputs}
    before = {out: digest(p) for out, p in committed.items()}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    res = subprocess.run(
        script.command(out_dir), check=False, cwd=ROOT, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT
    )
    assert res.returncode == 0, f"{script.path} failed:\n{(res.stdout + res.stderr)[-4000:]}"

    errors: list[str] = []
    versions: list[str] = []
    for out, old in committed.items():
        new = out_dir / out
        where = f"{out} (vs {old.relative_to(ROOT)})"
        if not new.exists():
            errors.append(f"{where}: not written by {script.path}")
        elif out.endswith(".json"):
            compare_json(json.loads(new.read_text()), json.loads(old.read_text()), where, errors, versions)
        elif out.endswith(".csv"):
            compare_csv(new, old, where, errors)
        elif new.read_text(encoding="utf-8") != old.read_text(encoding="utf-8"):
            errors.append(f"{where}: text differs")
    changed = [str(p.relative_to(ROOT)) for out, p in committed.items() if digest(p) != before[out]]
    assert not changed, f"{script.path} given an output argument still changed {changed}"
    if versions:
        warnings.warn(f"{script.path}: version strings differ from the committed ones: {versions}", stacklevel=1)
    shown = "\n".join(errors[:40]) + (f"\n... and {len(errors) - 40} more" if len(errors) > 40 else "")
    assert not errors, f"{script.path} no longer makes the committed reference ({len(errors)} differences):\n{shown}"


def test_compare_json_catches_differences():
    """The comparison itself: a changed number, key order, list length or string is caught; a version
    string is only reported."""
    old = {"source": "R 4.2.2", "a": [1.0, 2], "b": {"x": 0.5, "y": True, "z": None}, "s": "ml"}

    def diff(new):
        errors, versions = [], []
        compare_json(new, old, "f", errors, versions)
        return errors, versions

    assert diff(json.loads(json.dumps(old))) == ([], [])
    assert diff({**old, "a": [1.0 + 1e-10, 2]}) == ([], [])
    assert diff({**old, "a": [1.0 + 1e-6, 2]})[0]
    assert diff({**old, "a": [1.0]})[0]
    assert diff({**old, "b": {"y": True, "x": 0.5, "z": None}})[0]
    assert diff({**old, "b": {"x": 0.5, "y": 1, "z": None}})[0]
    assert diff({**old, "s": "uls"})[0]
    assert diff({**old, "source": "R 4.3.0"}) == ([], ["f.source: 'R 4.3.0' (committed 'R 4.2.2')"])
