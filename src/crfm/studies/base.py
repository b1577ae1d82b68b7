"""What every study of the paper has in common: its registry entry, its result tables, its settings.

* :class:`Table` - one result table: its name (the CSV's stem, e.g. ``study2_fit``), the tidy frame, the
  method notes that travel with it to the appendix, and ``code``: the function that computed its
  numbers (so any number is two hops from its code: the table's ``# code:`` line names it).
* :class:`StudyResult` - the result of one workflow step; ``tables()`` yields its :class:`Table`\\ s,
  ``summary()`` prints them readably (like lavaan's or statsmodels' ``summary()``).
* :class:`Study` - a registry entry: id, title, the tables and figures a configuration produces, the
  settings function of each of its workflow rules, the JSON-Schema fragment of its config section, the
  studies whose outputs it reads, its raw input files, the JSON summaries the appendix's numbers read (key -> path under the
  run's results folder) and any other file ``rule all`` asks for.
* Rule settings: each rule reads exactly ``Study.settings[rule](config)``; the rule's only parameter is
  a digest of that dict (:func:`settings_digest`), so what reruns a rule is what it reads, and the
  Snakemake report never shows config text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Table", "StudyResult", "Study", "code_of", "settings_digest", "lazy_module"]


def lazy_module(name: str):
    """``name`` imported on first use: the registry imports every study module to read its ``STUDY``
    entry (every Snakemake run and job does), and the statistics behind a study are needed only by the
    jobs that compute. Already imported modules are returned as they are."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does: the package's attribute (`import a.b.c; a.b.c.f`)
        setattr(importlib.import_module(parent), child, module)
    return module


def code_of(fn) -> str:
    """Dotted name of a function or class: ``crfm.stats.cfa.rival_models``."""
    return f"{fn.__module__}.{fn.__qualname__}"


@dataclass(frozen=True)
class Table:
    """One result table, ready to be written as tidy CSV."""

    name: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    code: str = ""
    index: bool = False


class StudyResult:
    """Base class of the results of one workflow step."""

    def tables(self) -> list[Table]:  # pragma: no cover - every result overrides it
        raise NotImplementedError

    def summary(self) -> str:
        """Every table, with its notes and the code that computed it, as readable text."""
        parts = []
        with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_rows", 200):
            for t in self.tables():
                parts.append(f"== {t.name}  ({t.code})")
                parts.extend(f"   note: {n}" for n in t.notes)
                parts.append(t.frame.to_string(index=t.index))
        return "\n".join(parts)


@dataclass(frozen=True)
class Study:
    """A study's registry entry (see :mod:`crfm.studies`)."""

    id: str
    title: str
    tables: Callable[[Mapping], list[str]]
    figures: Callable[[Mapping], list[str]]
    settings: Mapping[str, Callable[[Mapping], dict]]
    config_schema: dict = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    summaries: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    raw_inputs: Callable[[Mapping], list[str]] = lambda config: []

    @property
    def rules_file(self) -> str:
        return f"workflow/rules/{self.id}.smk"


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True)


def settings_digest(settings: Mapping) -> str:
    """Short sha256 of a settings dict's canonical JSON: the rule parameter that triggers reruns."""
    return hashlib.sha256(_canonical(settings).encode()).hexdigest()[:16]


def unique(seq: Iterable) -> list:
    return list(dict.fromkeys(seq))
