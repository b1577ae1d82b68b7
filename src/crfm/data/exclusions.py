"""Respondent exclusion rules, applied in a fixed order, every exclusion accounted for.

Rules (each optional, set in config under `<study>.exclusions`):

1. ``attention_check``: the answer to the check column is not one of ``pass_values`` (blank fails).
2. ``max_missing_share``: more than this share of the item pool left blank.
3. ``straightlining``: identical answers (raw, before reverse-keying) to every answered item of a
   block, with at least ``min_items`` answered in that block.

A respondent failing several rules is counted under the first in this order (so the flow table adds
up: received - sum(excluded) = analysed) and the other failures are listed in ``also_failed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RULE_ORDER = ("attention_check", "max_missing_share", "straightlining")


def _norm(v):
    """Canonical text of an answer: '2', '2.0' and 2 compare equal; blank is None."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
        return None
    try:
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    except ValueError:
        return str(v).strip()


def _attention(df, rule):
    col, ok = rule["column"], {_norm(v) for v in rule["pass_values"]}
    values = df[col].map(_norm)
    failed = ~values.isin(ok)
    detail = values.map(lambda v: f"{col} = {'blank' if pd.isna(v) else v}; pass values {sorted(ok)}")
    return failed.to_numpy(), detail


def _missing(df, share, items):
    miss = df[items].isna().mean(axis=1)
    failed = (miss > share).to_numpy()
    detail = miss.map(lambda m: f"{m:.1%} of {len(items)} items blank; limit {share:.0%}")
    return failed, detail


def _straightlining(df, rule, blocks: dict[str, list[str]]):
    min_items = rule.get("min_items", 2)
    failed = np.zeros(len(df), dtype=bool)
    detail = pd.Series([""] * len(df), index=df.index, dtype=object)
    for name, items in blocks.items():
        x = df[items]
        answered = x.notna().sum(axis=1)
        same = x.nunique(axis=1, dropna=True) == 1
        hit = (same & (answered >= min_items)).to_numpy()
        for idx in np.flatnonzero(hit & ~failed):
            row = x.iloc[idx].dropna()
            detail.iloc[idx] = f"all {len(row)} answered items of block {name} = {row.iloc[0]:g}"
        failed |= hit
    return failed, detail


def apply_exclusions(df: pd.DataFrame, id_column: str, items: list[str], rules: dict, blocks: dict[str, list[str]]):
    """Apply the rules. Returns (analysed, exclusions, flow) DataFrames.

    ``exclusions``: one row per excluded respondent: id, source_line, rule, detail, also_failed.
    ``flow``: step, n: received, then the number excluded by each rule in order, then analysed;
    received - sum(excluded) = analysed.
    """
    rules = rules or {}
    results = {}
    if rules.get("attention_check"):
        results["attention_check"] = _attention(df, rules["attention_check"])
    if rules.get("max_missing_share") is not None:
        results["max_missing_share"] = _missing(df, rules["max_missing_share"], items)
    if rules.get("straightlining"):
        results["straightlining"] = _straightlining(df, rules["straightlining"], blocks)

    assigned = np.array([None] * len(df), dtype=object)
    for rule in RULE_ORDER:
        if rule in results:
            failed = results[rule][0]
            assigned[(assigned == None) & failed] = rule  # noqa: E711 (elementwise)
    excluded = assigned != None  # noqa: E711
    rows = []
    for pos in np.flatnonzero(excluded):
        rule = assigned[pos]
        others = [r for r in RULE_ORDER if r in results and r != rule and results[r][0][pos]]
        rows.append(
            {
                id_column: df[id_column].iloc[pos],
                "source_line": int(df["source_line"].iloc[pos]) if "source_line" in df else None,
                "rule": rule,
                "detail": results[rule][1].iloc[pos],
                "also_failed": ";".join(others),
            }
        )
    exclusions = pd.DataFrame(rows, columns=[id_column, "source_line", "rule", "detail", "also_failed"])
    flow = [("received", len(df))]
    for rule in RULE_ORDER:
        if rule in results:
            flow.append((f"excluded: {rule}", int((assigned == rule).sum())))
    flow.append(("analysed", int((~excluded).sum())))
    flow = pd.DataFrame(flow, columns=["step", "n"])
    analysed = df.loc[~excluded].reset_index(drop=True)
    return analysed, exclusions, flow
