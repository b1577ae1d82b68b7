"""Errors that stop a run with a message a researcher can act on.

Every error names where the problem is (file, row, column or config key) and what to do about it.
"""

from __future__ import annotations


class CRFMError(Exception):
    """Base class for errors raised by the crfm library."""


class ConfigError(CRFMError):
    """The configuration is malformed or inconsistent."""

    def __init__(self, key: str, problem: str, fix: str):
        self.key, self.problem, self.fix = key, problem, fix
        super().__init__(f"config key '{key}': {problem}. Fix: {fix}")


class InputError(CRFMError):
    """A raw input file breaks the data contract."""

    def __init__(self, path, problem: str, fix: str, rows=None, column: str | None = None):
        """``rows`` are 1-based line numbers of the file (the header is line 1 unless comments precede it)."""
        self.path, self.problem, self.fix = str(path), problem, fix
        self.rows = list(rows) if rows is not None else []
        self.column = column
        where = [f"file '{self.path}'"]
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            where.append(f"line(s) {shown}{more}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {problem}. Fix: {fix}")


class AnalysisError(CRFMError):
    """A statistical step cannot produce a trustworthy result (non-convergence, singular matrix, ...)."""
