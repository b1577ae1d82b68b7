"""Tidy result tables as CSV and summaries as JSON: deterministic, labelled, naming their producer.

A table file starts with comment lines, then the CSV::

    # SYNTHETIC DATA: ...                      (only when the data are synthetic)
    # rule: study2_confirm (workflow/rules/study2.smk)
    # code: crfm.stats.cfa.rival_models
    # note: <method note>                      (one line per note; they travel to the appendix)
    model,chi2,df,...

Read tables back with :func:`read_table` (or ``pandas.read_csv(path, comment=None,
skiprows=<number of '#' lines>)``). Floats are written with 10 significant digits.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crfm.data.manifest import SYNTHETIC_NOTE

__all__ = [
    "Producer",
    "SYNTHETIC_NOTE",
    "write_table",
    "read_table",
    "table_notes",
    "table_header",
    "leading_comment_lines",
    "is_synthetic_table",
    "write_json",
]

FLOAT_FORMAT = "%.10g"


@dataclass(frozen=True)
class Producer:
    """Where a table comes from: the workflow rule, its ``.smk`` file, and the computing function."""

    rule: str = ""
    rules_file: str = ""
    code: str = ""

    def lines(self) -> list[str]:
        out = []
        if self.rule:
            out.append(f"# rule: {self.rule}" + (f" ({self.rules_file})" if self.rules_file else ""))
        if self.code:
            out.append(f"# code: {self.code}")
        return out


def _one_line(text) -> str:
    return " ".join(str(text).split())


def write_table(
    df: pd.DataFrame, path, *, synthetic: bool, index: bool = False, notes=(), producer: Producer | None = None
) -> None:
    """Write ``df`` as CSV after its comment lines (synthetic banner, producer, notes; see the module
    docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    if synthetic:
        buf.write(f"# {SYNTHETIC_NOTE}\n")
    for line in producer.lines() if producer else ():
        buf.write(line + "\n")
    for note in [notes] if isinstance(notes, str) else notes:
        buf.write("# note: " + _one_line(note) + "\n")
    # The csv writer quotes a cell holding a comma, a quote or '\n', but not one holding a bare '\r',
    # which every reader takes for a line break: such a table is written with every cell quoted.
    quoting = csv.QUOTE_ALL if _has_bare_cr(df, index) else csv.QUOTE_MINIMAL
    df.to_csv(buf, index=index, float_format=FLOAT_FORMAT, lineterminator="\n", quoting=quoting)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _has_bare_cr(df: pd.DataFrame, index: bool) -> bool:
    def any_cr(values) -> bool:
        return any(isinstance(v, str) and "\r" in v for v in values)

    return (
        any_cr(map(str, df.columns))
        or any(any_cr(df[c]) for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]))
        or (index and any_cr(df.index))
    )


def _comments(path) -> list[str]:
    out = []
    with open(path, encoding="utf-8-sig") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            out.append(line.rstrip("\n"))
    return out


def leading_comment_lines(path) -> int:
    """Number of leading lines that start with '#' (banner, producer, notes)."""
    return len(_comments(path))


def table_notes(path) -> list[str]:
    """The '# note: ...' lines of a table written by :func:`write_table`."""
    return [c[len("# note: ") :] for c in _comments(path) if c.startswith("# note: ")]


def table_header(path) -> dict:
    """The comment header of a table: ``{"synthetic": bool, "rule": str, "rules_file": str, "code": str,
    "notes": [...]}`` (empty strings where a line is absent)."""
    out = {"synthetic": False, "rule": "", "rules_file": "", "code": "", "notes": []}
    for c in _comments(path):
        if c.startswith("# note: "):
            out["notes"].append(c[len("# note: ") :])
        elif c.startswith("# rule: "):
            rule, _, rest = c[len("# rule: ") :].partition(" (")
            out["rule"], out["rules_file"] = rule, rest.rstrip(")")
        elif c.startswith("# code: "):
            out["code"] = c[len("# code: ") :]
        elif "SYNTHETIC" in c.upper() and not out["rule"]:
            out["synthetic"] = True
    return out


def is_synthetic_table(path) -> bool:
    with open(path, encoding="utf-8-sig") as fh:
        first = fh.readline()
    return first.startswith("#") and "SYNTHETIC" in first.upper()


def read_table(path, **kwargs) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (skips the leading '#' lines)."""
    return pd.read_csv(path, skiprows=leading_comment_lines(path), encoding="utf-8-sig", **kwargs)


def write_json(obj, path, *, synthetic: bool | None = None) -> None:
    """Write JSON with sorted keys; adds ``"synthetic": <flag>`` at top level when given."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if synthetic is not None and isinstance(obj, dict):
        obj = {"synthetic": bool(synthetic), **obj}
        if synthetic:
            obj["data_note"] = SYNTHETIC_NOTE
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
