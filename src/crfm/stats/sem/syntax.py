"""A parser for the subset of lavaan's model syntax the project uses (mirrors ``lavParseModelString``).

Supported: ``=~`` (measurement), ``~`` (regression), ``~~`` (variance/covariance), ``~ 1``
(intercept/mean), ``+`` lists on either side, modifiers ``1*x`` (fixed value), ``NA*x`` (free),
``a*x`` (label; a label shared by several parameters is an equality constraint), comments (``#``
or ``!`` to the end of the line), statements separated by newlines or ``;`` and continued over
several lines when a line ends (or the next begins) with ``+``.

Not supported (an :class:`~crfm.errors.AnalysisError` says so): ``==``/``<``/``>`` constraints,
``:=`` defined parameters, ``|`` thresholds, ``<~`` composites, per-group modifier vectors
``c(...)``, ``start()``/``equal()`` modifiers, interaction terms ``x:z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crfm.errors import AnalysisError

__all__ = ["Statement", "parse_syntax"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OPS = ("=~", "~~", "~")


@dataclass(frozen=True)
class Statement:
    """One element of the model: ``lhs op rhs`` with its modifier (``op`` is ``~1`` for intercepts)."""

    lhs: str
    op: str
    rhs: str
    fixed: float | None = None  # a fixed value (``1*x``)
    free: bool = False  # ``NA*x``: force free
    label: str | None = None


def _strip_comments(text: str) -> list[str]:
    lines = []
    for raw in text.replace("\r", "\n").split("\n"):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in line.split(";"):
            lines.append(part.strip())
    return lines


def _join_continuations(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and (out[-1].endswith("+") or line.startswith("+") or not any(op in line for op in _OPS)):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return out


def _parse_term(term: str, stmt: str) -> tuple[str, float | None, bool, str | None]:
    parts = [p.strip() for p in term.split("*")]
    if any(not p for p in parts):
        raise AnalysisError(f"model syntax: empty term in '{stmt}'")
    var = parts[-1]
    fixed, free, label = None, False, None
    for mod in parts[:-1]:
        if mod.startswith(("c(", "start(", "equal(", "label(")):
            raise AnalysisError(
                f"model syntax: modifier '{mod}' in '{stmt}' is not supported; use a plain number, NA or a label"
            )
        if mod == "NA":
            free = True
        elif _NUMBER.match(mod):
            fixed = float(mod)
        elif _NAME.match(mod):
            label = mod
        else:
            raise AnalysisError(f"model syntax: cannot read modifier '{mod}' in '{stmt}'")
    return var, fixed, free, label


def parse_syntax(text: str) -> list[Statement]:
    """Parse lavaan model syntax into a list of :class:`Statement` (in the order written)."""
    if not isinstance(text, str) or not text.strip():
        raise AnalysisError("model syntax is empty")
    out: list[Statement] = []
    for stmt in _join_continuations(_strip_comments(text)):
        for bad in ("==", ":=", "<~", "|", "<", ">"):
            if bad in stmt.replace("=~", ""):
                raise AnalysisError(f"model syntax: operator '{bad}' in '{stmt}' is not supported by crfm.stats.sem")
        op = next((o for o in _OPS if o in stmt), None)
        if op is None:
            raise AnalysisError(f"model syntax: no operator (=~, ~, ~~) in '{stmt}'")
        lhs_txt, rhs_txt = stmt.split(op, 1)
        lhs_names = [t.strip() for t in lhs_txt.split("+")]
        rhs_terms = [t.strip() for t in rhs_txt.split("+")]
        if any(not t for t in lhs_names) or any(not t for t in rhs_terms):
            raise AnalysisError(f"model syntax: empty term in '{stmt}'")
        for name in lhs_names:
            if not _NAME.match(name):
                raise AnalysisError(f"model syntax: '{name}' in '{stmt}' is not a variable name")
        for term in rhs_terms:
            var, fixed, free, label = _parse_term(term, stmt)
            if ":" in var:
                raise AnalysisError(f"model syntax: interaction term '{var}' in '{stmt}' is not supported")
            if op == "~" and var == "1":
                this_op, rhs = "~1", ""
            else:
                if not _NAME.match(var):
                    raise AnalysisError(f"model syntax: '{var}' in '{stmt}' is not a variable name")
                this_op, rhs = op, var
            for lhs in lhs_names:
                out.append(Statement(lhs, this_op, rhs, fixed, free, label))
    return out
