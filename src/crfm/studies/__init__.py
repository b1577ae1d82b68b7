"""The paper's studies, and the registry that drives the workflow.

A study is a module of this package that defines ``STUDY`` (a :class:`crfm.studies.base.Study`): the
workflow includes ``workflow/rules/<id>.smk`` for every registered study, ``rule all`` asks for the
tables and figures each configured study declares, the appendix orders its sections and tables by the
registry, and the report layer finds the study's table specs and numbers in
``crfm.report.specs.<id>``. Adding a study therefore means its own files only: ``crfm/studies/<id>.py``,
``crfm/report/specs/<id>.py``, ``workflow/rules/<id>.smk``, ``workflow/templates/text/<id>.j2`` (optional:
without it the section has tables and figures only) and the script each of its rules runs,
``workflow/scripts/<rule>.py``; no existing file changes (``tests/test_extra_study.py`` registers a toy
study so).

Every rule of a study is named ``<id>_<step>`` and lives in the study's ``.smk`` file; what it reads from
the configuration is ``STUDY.settings[rule](config)`` (see :mod:`crfm.workflow`).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from crfm.studies.base import Study

__all__ = ["registry", "study", "owner", "needed_studies", "ORDER"]

# Studies that are not modules of their own name sort after these, alphabetically.
ORDER = ("study1", "study2", "study3", "design")
_NOT_STUDIES = {"base", "survey"}


@lru_cache(maxsize=1)
def registry() -> dict[str, Study]:
    """Every study module of this package, in appendix order (``ORDER`` first, then by id)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_STUDIES or info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        entry = getattr(mod, "STUDY", None)
        if isinstance(entry, Study):
            if entry.id != info.name:
                raise ImportError(
                    f"crfm.studies.{info.name} registers a study named '{entry.id}'; name it '{info.name}'"
                )
            found[entry.id] = entry
    rank = {s: k for k, s in enumerate(ORDER)}
    return {k: found[k] for k in sorted(found, key=lambda s: (rank.get(s, len(ORDER)), s))}


def study(study_id: str) -> Study:
    try:
        return registry()[study_id]
    except KeyError:
        raise KeyError(f"no study '{study_id}' is registered (known: {', '.join(registry())})") from None


def owner(rule: str) -> Study:
    """The study a rule belongs to (the study whose ``settings`` name the rule)."""
    for entry in registry().values():
        if rule in entry.settings:
            return entry
    raise KeyError(f"rule '{rule}' belongs to no registered study")


def needed_studies(configured) -> list[str]:
    """The configured studies and, transitively, the studies whose outputs they read, in registry order."""
    reg = registry()
    need, todo = set(), [s for s in configured if s in reg]
    while todo:
        s = todo.pop()
        if s not in need:
            need.add(s)
            todo.extend(reg[s].requires)
    return [s for s in reg if s in need]
