"""docs/table_index.md is what docs/make_index.py writes now (it cannot go stale), names every table of
every registered study, and the sources it is built from agree with each other."""

from __future__ import annotations

import importlib.util
import sys

from conftest import CONFIG, ROOT, SCHEMA
from crfm.studies import registry
from crfm.workflow import load_config


def _make_index():
    spec = importlib.util.spec_from_file_location("make_index", ROOT / "docs" / "make_index.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_index_is_up_to_date():
    mi = _make_index()
    committed = (ROOT / "docs" / "table_index.md").read_text(encoding="utf-8")
    assert committed == mi.render(), "docs/table_index.md is stale: run `python docs/make_index.py` and commit it"


def test_every_table_of_every_registered_study_is_indexed():
    mi = _make_index()
    indexed = {r.table: r for r in mi.build_rows()}
    config, _ = load_config(CONFIG, SCHEMA)
    missing = [(sid, t) for sid, s in registry().items() for t in s.tables(config) if t not in indexed]
    assert not missing, f"tables of registered studies with no rule output in workflow/rules/*.smk: {missing}"
    text = (ROOT / "docs" / "table_index.md").read_text(encoding="utf-8")
    for s in registry().values():
        for t in s.tables(config):
            assert f"| `{t}` | `{indexed[t].rule}` |" in text, t


def test_every_indexed_table_has_a_static_code_and_consistent_rule_line():
    mi = _make_index()
    rows = mi.build_rows()
    assert rows
    assert mi.problems(rows) == []
    for r in rows:
        assert r.rules_file.startswith("workflow/rules/") and (ROOT / r.rules_file).is_file()
        assert r.script and (ROOT / r.script).is_file(), r
        for d in r.codes:
            assert d.code.startswith("crfm.") and d.module_file, (r.table, d)
