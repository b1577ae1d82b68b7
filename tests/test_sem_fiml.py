"""crfm.stats.sem, FIML (lavaan missing = "ml") on HS1939 with planted missingness, against lavaan 0.6-14.

Required tolerances (tests/_sem_ref.py): estimates 1e-4, SEs 1e-3, chi2 relative 1e-4, fit indices 1e-4.
Measured when written: estimates <= 8e-6, SEs <= 1e-6, chi2/fit (incl. FIML-corrected robust CFI/RMSEA) <= 1e-7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _sem_ref import compare, compare_r2, data, load
from crfm.errors import AnalysisError
from crfm.stats.sem import Model, coverage, fit, missing_patterns

ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hsm():
    return data("hs1939_missing.csv")


@pytest.fixture(scope="module")
def res(hsm):
    return fit(Model.from_syntax(load("hs_fiml")["model"]), hsm, missing="fiml")


def test_planted_missingness_is_what_the_script_says(hsm):
    share = hsm[ITEMS].isna().to_numpy().mean()
    assert 0.07 < share < 0.10
    assert not hsm[ITEMS].isna().all(axis=1).any()


def test_fiml_matches_lavaan(res):
    ref = load("hs_fiml")
    compare(res, ref)
    compare_r2(res, ref)
    assert ref["options"]["information"] == "observed"  # lavaan's default with missing = "ml"


def test_em_h1_moments(res):
    ref = load("hs_fiml")
    gd = res._problem.groups[0]
    assert np.max(np.abs(gd.cov.ravel(order="F") - np.array(ref["h1_cov"]))) < 1e-8
    assert np.max(np.abs(gd.mean - np.array(ref["h1_mean"]))) < 1e-8


def test_patterns_and_coverage(hsm):
    ref = load("hs_fiml")
    pats = missing_patterns(hsm, ITEMS)
    assert len(pats) == ref["n_patterns"]
    assert sorted(pats["n"].tolist(), reverse=True) == sorted(ref["pattern_counts"], reverse=True)
    assert pats["n"].sum() == len(hsm)
    cov = coverage(hsm, ref["coverage_names"])
    assert np.max(np.abs(cov.to_numpy() - np.array(ref["coverage_diag"]))) < 1e-12


def test_fiml_with_fixed_x(hsm):
    ref = load("hs_fixedx_fiml")
    r = fit(Model.from_syntax(ref["model"]), hsm, missing="fiml")
    compare(r, ref)


def test_fiml_modindices(res):
    ref = load("hs_fiml")["modindices"]
    mi = res.modindices()
    top = mi.head(10)
    for _, row in top.iterrows():
        k = [
            i
            for i in range(len(ref["lhs"]))
            if (ref["lhs"][i], ref["op"][i], ref["rhs"][i]) == (row.lhs, row.op, row.rhs)
        ]
        assert len(k) == 1
        assert abs(row.mi - ref["mi"][k[0]]) < 1e-3 * max(1, ref["mi"][k[0]])
        assert abs(row.epc - ref["epc"][k[0]]) < 1e-4


def test_refuses_respondent_without_any_item(hsm):
    d = hsm.copy()
    d.loc[d.index[[4, 17]], ITEMS] = np.nan
    with pytest.raises(AnalysisError, match=r"row\(s\) 4, 17 have no observed value"):
        fit(Model.from_syntax(load("hs_fiml")["model"]), d, missing="fiml")


def test_listwise_drops_incomplete_rows(hsm):
    r = fit(Model.from_syntax(load("hs_fiml")["model"]), hsm)
    assert r.n == int((~hsm[ITEMS].isna().any(axis=1)).sum())


def test_saturated_moments_equal_lavaans_em_h1():
    import json

    from conftest import ROOT
    from crfm.stats.sem import saturated_moments

    ref = json.loads((ROOT / "tests/reference/lavaan/hs_fiml.json").read_text())
    items = [f"x{i}" for i in range(1, 10)]
    m = saturated_moments(pd.read_csv(ROOT / "tests/data/hs1939_missing.csv"), items)
    assert np.allclose(m.cov.to_numpy().ravel(order="F"), ref["h1_cov"], atol=1e-6)
    assert np.allclose(m.mean.to_numpy(), ref["h1_mean"], atol=1e-6)
    assert m.n == 301 and np.allclose(np.diag(m.corr), 1.0)
