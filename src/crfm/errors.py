"""Errors that stop a run with a message a researcher can act on.

Every error names where the problem is (file, row, column or config key) and what to do about it.

Messages are bounded and printable whatever the input: each part (file, problem, column, key, fix) is
cut to a fixed length, keeping its start and its end, so a hostile value cannot produce a megabyte of
output and the "Fix:" always shows; control characters (an ANSI escape, a NUL, a line break) are shown
escaped (``\\x1b``), so a message is one line and cannot drive the terminal.
"""

from __future__ import annotations

import re

__all__ = ["MAX_MESSAGE", "MAX_PART", "AnalysisError", "CRFMError", "ConfigError", "InputError", "bounded", "printable"]

#: the longest any one part of a message (a file name, a problem, a fix) may be, in characters
MAX_PART = 600
#: the longest a whole message may be
MAX_MESSAGE = 2000

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x1b``, ``\\u2028``): one line."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), str(text))


def bounded(text, limit: int = MAX_PART) -> str:
    """``text`` cut to ``limit`` characters: its start and its end, and how much was cut between."""
    text = str(text)
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    note = f" ... [{cut} characters cut] ... "
    keep = max(limit - len(note), 20)
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    return text[:head] + note + text[len(text) - tail :]


def _part(text, limit: int = MAX_PART) -> str:
    return bounded(printable(text), limit)


class CRFMError(Exception):
    """Base class for errors raised by the crfm library."""


class ConfigError(CRFMError):
    """The configuration is malformed or inconsistent."""

    def __init__(self, key: str, problem: str, fix: str):
        self.key, self.problem, self.fix = key, problem, fix
        msg = f"config key '{_part(key, 300)}': {_part(problem)}. Fix: {_part(fix)}"
        super().__init__(bounded(msg, MAX_MESSAGE))


class InputError(CRFMError):
    """A raw input file breaks the data contract."""

    def __init__(self, path, problem: str, fix: str, rows=None, column: str | None = None):
        """``rows`` are 1-based line numbers of the file (the header is line 1 unless comments precede it)."""
        self.path, self.problem, self.fix = str(path), problem, fix
        self.rows = list(rows) if rows is not None else []
        self.column = column
        where = [f"file '{_part(self.path, 300)}'"]
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            where.append(f"line(s) {shown}{more}")
        if column is not None:
            where.append(f"column '{_part(column, 120)}'")
        msg = f"{', '.join(where)}: {_part(problem)}. Fix: {_part(fix)}"
        super().__init__(bounded(msg, MAX_MESSAGE))


class AnalysisError(CRFMError):
    """A statistical step cannot produce a trustworthy result (non-convergence, singular matrix, ...)."""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], str):
            args = (bounded(printable(args[0]), MAX_MESSAGE),)
        super().__init__(*args)
