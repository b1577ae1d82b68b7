"""EFA, purification and sample splitting: structure recovery, invariances, planted bad items, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crfm.errors import AnalysisError
from crfm.stats import efa as E

DATA = Path(__file__).parent / "data"
ITEMS = [f"x{i}" for i in range(1, 10)]
RULES = dict(min_loading=0.4, max_cross_loading=0.3, min_item_total=0.3)


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "hs1939.csv")[ITEMS]


def simulate(loadings: np.ndarray, phi: np.ndarray, n: int, seed: int, names) -> pd.DataFrame:
    """Normal data with standardized population loadings ``loadings`` and factor correlations ``phi``."""
    sig = loadings @ phi @ loadings.T
    np.fill_diagonal(sig, 1.0)
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.multivariate_normal(np.zeros(len(names)), sig, n), columns=names)


def planted_pool(seed=11, n=400):
    """3 constructs x 5 items; a3 has a low loading (.15), b4 cross-loads (.55 on B, .50 on C)."""
    names = [f"{c}{i}" for c in "abc" for i in range(1, 6)]
    lam = np.zeros((15, 3))
    for j in range(3):
        lam[5 * j : 5 * j + 5, j] = [0.75, 0.7, 0.8, 0.72, 0.68]
    lam[2, 0] = 0.15
    lam[8, 1], lam[8, 2] = 0.55, 0.50
    phi = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
    d = simulate(lam, phi, n, seed, names)
    return d, {"A": names[:5], "B": names[5:10], "C": names[10:]}


# --------------------------------------------------------------------------------------------------
# efa
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ml", "minres"])
def test_efa_recovers_hs_structure(hs, method):
    r = E.efa(hs, 3, method=method, rotation="oblimin")
    assert list(r.loadings.columns) == ["F1", "F2", "F3"] and list(r.loadings.index) == ITEMS
    top = r.loadings.abs().idxmax(axis=1)
    # each designed construct's items share one factor, ordered by first item position
    assert list(top[["x1", "x2", "x3"]]) == ["F1"] * 3
    assert list(top[["x4", "x5", "x6"]]) == ["F2"] * 3
    assert list(top[["x7", "x8", "x9"]]) == ["F3"] * 3
    assert (r.loadings.sum(axis=0) > 0).all()
    assert np.allclose(np.diag(r.phi), 1.0)
    assert r.converged and not r.heywood_items


def test_efa_phi_is_aligned_with_loadings(hs):
    """The rotated solution must reproduce the unrotated common variance: L phi L' = L0 L0'.
    (Fails if phi were left in another factor order than the loadings.)"""
    from crfm.stats.fa import extract

    r = E.efa(hs, 3, method="ml", rotation="oblimin")
    l0 = extract(hs.corr().to_numpy(), 3, "ml").loadings
    lam, phi = r.loadings.to_numpy(), r.phi.to_numpy()
    assert np.allclose(lam @ phi @ lam.T, l0 @ l0.T, atol=1e-4)
    assert np.allclose(r.communalities, (l0**2).sum(axis=1), atol=1e-4)
    assert np.allclose(r.structure.to_numpy(), lam @ phi)
    assert r.variance["ss_loadings"].sum() == pytest.approx(r.communalities.sum(), abs=1e-8)


def test_efa_identical_under_row_permutation_and_reruns(hs):
    a = E.efa(hs, 3)
    for seed in (1, 2, 3):
        b = E.efa(hs.sample(frac=1.0, random_state=seed), 3)
        pd.testing.assert_frame_equal(a.loadings, b.loadings, check_exact=True)
        pd.testing.assert_frame_equal(a.phi, b.phi, check_exact=True)
        pd.testing.assert_series_equal(a.communalities, b.communalities, check_exact=True)
        pd.testing.assert_frame_equal(a.variance, b.variance, check_exact=True)


def test_efa_sign_normalisation_after_reflecting_items(hs):
    """Reverse-scoring a whole construct flips its loadings but not the factor's sign convention."""
    d = hs.copy()
    d[["x4", "x5", "x6"]] = -d[["x4", "x5", "x6"]]
    r = E.efa(d, 3)
    assert (r.loadings.sum(axis=0) > 0).all()
    base = E.efa(hs, 3)
    assert np.allclose(np.abs(r.loadings.to_numpy()), np.abs(base.loadings.to_numpy()), atol=1e-6)


def test_efa_tidy_outputs(hs):
    r = E.efa(hs, 3)
    t = r.to_long()
    assert list(t.columns) == ["item", "factor", "loading", "communality"] and len(t) == 27
    p = r.primary()
    assert list(p.columns) == ["item", "primary_factor", "primary_loading", "cross_factor", "cross_loading"]
    assert list(r.variance.columns) == ["factor", "ss_loadings", "proportion", "cumulative"]


def test_efa_bad_input(hs):
    d = hs.copy()
    d["x3"] = 1.0
    with pytest.raises(AnalysisError, match=r"zero variance.*x3"):
        E.efa(d, 3)
    d = hs.copy()
    d["dup"] = d["x7"] * 2 + 1
    with pytest.raises(AnalysisError, match=r"singular.*x7.*dup|singular.*dup.*x7"):
        E.efa(d, 3)
    with pytest.raises(AnalysisError, match="too few complete cases"):
        E.efa(hs.iloc[:8], 2)
    with pytest.raises(AnalysisError, match="n_factors"):
        E.efa(hs, 9)


# --------------------------------------------------------------------------------------------------
# purification
# --------------------------------------------------------------------------------------------------


def test_purify_removes_exactly_the_planted_items():
    d, constructs = planted_pool()
    res = E.purify(d, constructs, 3, rules=RULES)
    assert sorted(res.removed) == ["a3", "b4"]
    log = res.log.set_index("item")
    assert log.loc["a3", "rule"] in ("min_loading", "min_item_total")
    assert abs(log.loc["a3", "primary_loading"]) < 0.4
    assert log.loc["b4", "rule"] in ("max_cross_loading", "wrong_factor")
    assert abs(log.loc["b4", "cross_loading"]) > 0.3
    assert list(res.log["step"]) == [1, 2]
    assert list(res.log.columns) == [
        "step",
        "item",
        "construct",
        "rule",
        "factor",
        "primary_loading",
        "cross_loading",
        "cross_factor",
        "item_total_r",
        "severity",
        "n_items_after",
    ]
    assert res.retained == {
        "A": ["a1", "a2", "a4", "a5"],
        "B": ["b1", "b2", "b3", "b5"],
        "C": ["c1", "c2", "c3", "c4", "c5"],
    }
    # final solution is clean
    assert set(res.final.loadings.index) == {i for v in res.retained.values() for i in v}
    # deterministic, and row order does not matter
    again = E.purify(d.sample(frac=1.0, random_state=4), constructs, 3, rules=RULES)
    assert again.removed == res.removed
    pd.testing.assert_frame_equal(again.log, res.log)


def test_purify_wrong_factor_item_counts_as_cross_loading():
    """An item designed for A that in fact measures C (loads .7 on C, 0 on A) must go."""
    names = [f"{c}{i}" for c in "abc" for i in range(1, 5)]
    lam = np.zeros((12, 3))
    for j in range(3):
        lam[4 * j : 4 * j + 4, j] = 0.75
    lam[3] = [0.0, 0.0, 0.7]  # a4 belongs to C
    d = simulate(lam, np.full((3, 3), 0.2) + 0.8 * np.eye(3), 500, 21, names)
    constructs = {"A": names[:4], "B": names[4:8], "C": names[8:]}
    res = E.purify(d, constructs, 3, rules=dict(max_cross_loading=0.3))
    assert res.removed == ["a4"]
    assert res.log.loc[0, "rule"] == "wrong_factor"


def test_purify_raises_when_construct_would_drop_below_two_items():
    names = ["a1", "a2", "b1", "b2", "b3", "b4", "c1", "c2", "c3", "c4"]
    lam = np.zeros((10, 3))
    lam[0:2, 0] = [0.8, 0.12]  # a2 is junk and A has only 2 items
    lam[2:6, 1] = 0.75
    lam[6:10, 2] = 0.75
    d = simulate(lam, np.eye(3), 500, 5, names)
    with pytest.raises(AnalysisError, match=r"construct 'A'"):
        E.purify(d, {"A": names[:2], "B": names[2:6], "C": names[6:]}, 3, rules=RULES)


def test_purify_rejects_unknown_rule_and_single_item_construct():
    d, constructs = planted_pool(n=200)
    with pytest.raises(AnalysisError, match="min_loadng"):
        E.purify(d, constructs, 3, rules={"min_loadng": 0.4})
    with pytest.raises(AnalysisError, match="construct 'Z'"):
        E.purify(d, {**constructs, "Z": ["a1"]}, 3, rules=RULES)


# --------------------------------------------------------------------------------------------------
# split halves
# --------------------------------------------------------------------------------------------------


def test_split_halves_is_seeded_partition(hs):
    cal, val = E.split_halves(hs, seed=42)
    assert len(cal) == round(len(hs) / 2) and len(cal) + len(val) == len(hs)
    assert set(cal.index).isdisjoint(val.index) and set(cal.index) | set(val.index) == set(hs.index)
    assert cal.index.is_monotonic_increasing and val.index.is_monotonic_increasing
    cal2, _ = E.split_halves(hs, seed=42)
    pd.testing.assert_frame_equal(cal, cal2)
    cal3, _ = E.split_halves(hs, seed=43)
    assert not cal3.index.equals(cal.index)
    c, v = E.split_halves(hs, seed=1, fraction=0.3)
    assert len(c) == round(0.3 * len(hs))
    with pytest.raises(AnalysisError, match="fraction"):
        E.split_halves(hs, seed=1, fraction=1.0)
