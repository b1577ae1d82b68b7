"""crfm.stats.sem modification indices against lavaan 0.6-14 ``modindices()``.

Required: mi relative 1e-3 (measured ~5e-6 relative), epc/sepc.all 1e-4 (measured <= 4e-5)."""

from __future__ import annotations

import pandas as pd
import pytest

from _sem_ref import data, load
from crfm.stats.sem import Model, fit


@pytest.mark.parametrize(
    "case,file,kw",
    [
        ("hs_ml", "hs1939.csv", {}),
        ("hs_ml_stdlv", "hs1939.csv", {"std_lv": True}),
        ("poldem_ml", "political_democracy.csv", {}),
    ],
)
def test_modindices_match_lavaan(case, file, kw):
    ref = load(case)
    res = fit(Model.from_syntax(ref["model"]), data(file), **kw)
    mi = res.modindices()
    rm = pd.DataFrame(ref["modindices"])
    assert len(mi) == len(rm)
    key = lambda d: d["lhs"] + " " + d["op"] + " " + d["rhs"]  # noqa: E731
    m = rm.assign(key=key(rm)).merge(mi.assign(key=key(mi)), on="key", suffixes=("_ref", ""))
    assert len(m) == len(rm)
    assert ((m["mi"] - m["mi_ref"]).abs() < 1e-3 * m["mi_ref"].clip(lower=1)).all()
    for col in ("epc", "sepc_lv", "sepc_all"):
        assert (m[col] - m[f"{col}_ref"]).abs().max() < 1e-4, col
    # sorted by mi, and the same top row as lavaan
    assert mi["mi"].is_monotonic_decreasing
    assert (mi.iloc[0]["lhs"], mi.iloc[0]["op"], mi.iloc[0]["rhs"]) == (
        rm.iloc[0]["lhs"],
        rm.iloc[0]["op"],
        rm.iloc[0]["rhs"],
    )
