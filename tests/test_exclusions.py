"""Exclusion rules: each rule on its own, first-rule attribution, and a flow that adds up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crfm.data.exclusions import apply_exclusions
from crfm.studies.survey import survey_settings, validate


def toy():
    items = ["a1", "a2", "a3", "b1", "b2", "b3"]
    rows = [
        ["p1", 1, 2, 3, 4, 5, 6, 2],  # fine
        ["p2", 4, 4, 4, 4, 4, 4, 2],  # straight-liner
        ["p3", 1, np.nan, np.nan, np.nan, np.nan, 3, 2],  # 4/6 blank
        ["p4", 1, 2, 3, 4, 5, 6, 5],  # failed attention
        ["p5", 7, 7, 7, 7, 7, 7, None],  # blank attention and straight-liner
        ["p6", 3, 3, 3, 2, 5, 1, 2],  # one block straight but other not: fine for a 6-item block
    ]
    df = pd.DataFrame(rows, columns=["id"] + items + ["att"])
    df["source_line"] = range(2, 2 + len(df))
    return df, items


RULES = {
    "attention_check": {"column": "att", "pass_values": [2]},
    "max_missing_share": 0.5,
    "straightlining": {"blocks": [["A", "B"]], "min_items": 4},
}


def test_rules_and_attribution():
    df, items = toy()
    analysed, ex, flow = apply_exclusions(df, "id", items, RULES, {"A+B": items})
    assert analysed["id"].tolist() == ["p1", "p6"]
    got = dict(zip(ex["id"], ex["rule"]))
    assert got == {"p2": "straightlining", "p3": "max_missing_share", "p4": "attention_check", "p5": "attention_check"}
    p5 = ex.set_index("id").loc["p5"]
    assert p5["also_failed"] == "straightlining"
    assert "blank" in p5["detail"]
    assert "66.7% of 6 items blank" in ex.set_index("id").loc["p3", "detail"]
    assert flow["n"].tolist() == [6, 2, 1, 1, 2]


def test_no_rules_keeps_everyone():
    df, items = toy()
    analysed, ex, flow = apply_exclusions(df, "id", items, {}, {})
    assert len(analysed) == 6 and ex.empty
    assert flow["step"].tolist() == ["received", "analysed"]


@pytest.mark.parametrize("study", ["study2", "study3"])
def test_flow_adds_up_on_shipped_data(study, config_and_model, monkeypatch):
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    config, model = config_and_model
    r = validate(survey_settings(config, study))
    analysed, ex, flow = r.analysed, r.exclusions, r.flow
    steps = dict(zip(flow["step"], flow["n"]))
    excluded = sum(n for s, n in steps.items() if s.startswith("excluded"))
    assert steps["received"] - excluded == steps["analysed"] == len(analysed)
    assert excluded == len(ex) and ex.iloc[:, 0].is_unique
    # nobody lost, nobody duplicated: analysed + excluded IDs are exactly the received IDs
    raw = pd.read_csv(ROOT / config[study]["survey"], skiprows=1, dtype={config[study]["id_column"]: str})
    ids = set(analysed[config[study]["id_column"]]) | set(ex.iloc[:, 0])
    assert ids == set(raw[config[study]["id_column"]]) and len(ids) == steps["received"]
    pop = config["population"][study]
    assert steps["analysed"] == pop["n"]  # the generator's planted careless respondents all caught


def test_reverse_keyed_items_are_recoded(config_and_model, monkeypatch):
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    config, model = config_and_model
    analysed = validate(survey_settings(config, "study2")).analysed
    raw = pd.read_csv(ROOT / config["study2"]["survey"], skiprows=1).set_index("respondent_id")
    merged = analysed.set_index("respondent_id")
    both = raw.loc[merged.index, "RSEL6"].notna()
    assert ((merged.loc[both, "RSEL6"] + raw.loc[merged.index, "RSEL6"][both]) == 8).all()
    assert merged["RSEL6"].corr(merged["RSEL1"]) > 0.2
