"""How every table and figure is presented, gathered from the registered studies.

Each registered study (see :mod:`crfm.studies`) has a module ``crfm.report.specs.<id>`` holding
``PREFIX`` (the study's number in table numbers: "2" in "Table 2.9"), ``TABLES`` (a
:class:`~crfm.report.specs.common.TableSpec` per table, in appendix order), ``FIGURES`` (a title per
figure) and ``numbers(book, tables, summaries, config)`` (the numbers its running text quotes). This
module merges them in registry order; nothing here lists a study by name.
"""

from __future__ import annotations

import importlib
from functools import cache, lru_cache
from types import ModuleType

from crfm.report.specs.common import Col, TableSpec, ci, default_title, infer_col
from crfm.studies import registry

__all__ = [
    "Col",
    "TableSpec",
    "ci",
    "default_title",
    "infer_col",
    "spec_module",
    "all_tables",
    "all_figures",
    "study_titles",
    "study_of",
    "item_number",
    "order_key",
    "spec_for",
    "numbered",
    "report_labels",
    "report_category",
]


@cache
def spec_module(study_id: str) -> ModuleType:
    try:
        return importlib.import_module(f"{__name__}.{study_id}")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"study '{study_id}' is registered but has no specs module crfm.report.specs.{study_id}"
        ) from exc


@lru_cache(maxsize=1)
def all_tables() -> dict[str, TableSpec]:
    """Every registered table spec, studies in registry order, tables in each study's order."""
    return {name: spec for sid in registry() for name, spec in spec_module(sid).TABLES.items()}


@lru_cache(maxsize=1)
def all_figures() -> dict[str, str]:
    return {name: title for sid in registry() for name, title in spec_module(sid).FIGURES.items()}


def study_titles() -> dict[str, str]:
    return {sid: s.title for sid, s in registry().items()}


def study_of(name: str) -> str:
    """The study a table or figure belongs to: the longest registered id its name starts with."""
    ids = sorted(registry(), key=len, reverse=True)
    return next((s for s in ids if name == s or name.startswith(s + "_")), name.split("_", 1)[0])


def item_number(name: str, k: int) -> str:
    """'2.9': the k-th table (or figure) of its study."""
    study = study_of(name)
    prefix = spec_module(study).PREFIX if study in registry() else study
    return f"{prefix}.{k}"


def order_key(name: str, specs) -> tuple:
    """Study in registry order, then the study's own order; unknown names after, alphabetically."""
    studies = list(registry())
    study = study_of(name)
    keys = list(specs)
    return (
        studies.index(study) if study in studies else len(studies),
        study,
        keys.index(name) if name in keys else len(keys),
        name,
    )


def spec_for(name: str) -> TableSpec:
    return all_tables().get(name) or TableSpec(default_title(name))


def numbered(names, specs) -> dict[str, str]:
    """{'name': '2.9'}: tables or figures numbered per study in registry order (unknown last)."""
    out, count = {}, {}
    for name in sorted(names, key=lambda n: order_key(n, specs)):
        study = study_of(name)
        count[study] = count.get(study, 0) + 1
        out[name] = item_number(name, count[study])
    return out


def report_category(study_id: str) -> str:
    """The Snakemake report's category of a study's tables and figures: its specs module's
    ``CATEGORY`` ("Study 2"), else the study's title."""
    return getattr(spec_module(study_id), "CATEGORY", None) or registry()[study_id].title


def report_labels(name: str, tables, figures) -> dict[str, str]:
    """The columns the Snakemake report shows for a table or figure: its number and title."""
    if name in figures:
        return {"Figure": _numbered(tuple(figures), False)[name], "Title": all_figures().get(name, default_title(name))}
    return {"Table": _numbered(tuple(tables), True)[name], "Title": spec_for(name).title}


@lru_cache(maxsize=8)
def _numbered(names: tuple, tables: bool) -> dict[str, str]:
    """:func:`numbered` once per list (every rule file asks for each of its outputs' labels)."""
    return numbered(names, all_tables() if tables else all_figures())
