"""Psychometrics against independent numbers: lavaan/psych/semTools references (tests/data/
lavaan_hs1939.json, tests/reference/psych/), scipy / scikit-learn implementations, and closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import HS_ITEMS as ITEMS  # noqa: E402
from conftest import HS_MODEL  # noqa: E402
from crfm.errors import AnalysisError
from crfm.stats import psychometrics as ps


def _pair(ref_dict: dict, a: str, b: str) -> float:
    return ref_dict.get(f"{a}-{b}", ref_dict.get(f"{b}-{a}"))


# --------------------------------------------------------------------------------------------------
# reliability, validity: against psych / semTools
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("construct", list(HS_MODEL))
def test_alpha_matches_psych(hs, ref, construct):
    items = HS_MODEL[construct]
    assert ps.cronbach_alpha(hs[items]) == pytest.approx(ref["cronbach_alpha_raw"][construct], abs=1e-4)
    # pairwise and listwise agree on complete data
    assert ps.cronbach_alpha(hs[items], missing="pairwise") == pytest.approx(ps.cronbach_alpha(hs[items]), abs=1e-12)


def test_alpha_listwise_vs_pairwise_differ_with_missing(hs):
    d = hs[HS_MODEL["visual"]].copy()
    d.iloc[:40, 0] = np.nan
    lw, pw = ps.cronbach_alpha(d), ps.cronbach_alpha(d, missing="pairwise")
    assert lw == pytest.approx(ps.cronbach_alpha(d.dropna()), abs=1e-12)
    assert lw != pytest.approx(pw, abs=1e-6)


def test_cr_and_ave_match_reference_formulas(ref):
    lam = {c: [ref["std_loadings"][i] for i in items] for c, items in HS_MODEL.items()}
    cr = ps.composite_reliability(lam)
    av = ps.ave(lam)
    for c in HS_MODEL:
        assert cr[c] == pytest.approx(ref["composite_reliability_standardized"][c], abs=0.002)
        assert av[c] == pytest.approx(ref["ave_standardized"][c], abs=0.002)
        # single-construct call gives the same float
        assert ps.composite_reliability(lam[c]) == pytest.approx(cr[c], abs=1e-15)
        assert ps.ave(lam[c]) == pytest.approx(av[c], abs=1e-15)


def test_htmt_matches_semtools(hs, ref):
    h = ps.htmt(hs, HS_MODEL)
    for a, b in [("visual", "textual"), ("visual", "speed"), ("textual", "speed")]:
        assert h.loc[a, b] == pytest.approx(_pair(ref["htmt_henseler2015"], a, b), abs=0.002)
        assert h.loc[a, b] == h.loc[b, a]
    assert np.allclose(np.diag(h), 1.0)
    pairs = ps.square_to_pairs(h, "htmt")
    assert list(pairs.columns) == ["construct_a", "construct_b", "htmt"] and len(pairs) == 3


def test_fornell_larcker_pass_and_fail():
    corr = pd.DataFrame([[1, 0.5, 0.3], [0.5, 1, 0.8], [0.3, 0.8, 1]], index=list("abc"), columns=list("abc"))
    res = ps.fornell_larcker({"a": 0.49, "b": 0.6, "c": 0.7}, corr)
    t = res.table.set_index("construct")
    assert t.loc["a", "passed"]  # sqrt(.49) = .7 > .5
    assert not t.loc["b", "passed"] and t.loc["b", "max_corr_with"] == "c"  # .775 < .8
    assert t.loc["c", "passed"]  # sqrt(.7) = .837 > .8
    assert t.loc["c", "sqrt_ave"] == pytest.approx(np.sqrt(0.7))
    assert not res.passed
    assert res.matrix.loc["b", "b"] == pytest.approx(np.sqrt(0.6))
    assert res.matrix.loc["a", "b"] == 0.5


# --------------------------------------------------------------------------------------------------
# item analysis: against scipy / direct computation
# --------------------------------------------------------------------------------------------------


def test_item_analysis_against_direct_computation(hs):
    d = hs[ITEMS].copy()
    d.loc[d.index[:7], "x2"] = np.nan  # some missing answers
    t = ps.item_analysis(d, HS_MODEL).set_index("item")
    assert list(t.columns) == [
        "construct",
        "n",
        "missing_share",
        "mean",
        "sd",
        "skewness",
        "kurtosis_excess",
        "item_total_r",
        "alpha_if_deleted",
        "construct_alpha",
        "construct_n",
    ]
    assert t.loc["x2", "n"] == 294 and t.loc["x2", "missing_share"] == pytest.approx(7 / 301)
    for it in ITEMS:
        s = d[it].dropna()
        assert t.loc[it, "mean"] == pytest.approx(s.mean())
        assert t.loc[it, "sd"] == pytest.approx(np.std(s, ddof=1))
        assert t.loc[it, "skewness"] == pytest.approx(stats.skew(s, bias=False))
        assert t.loc[it, "kurtosis_excess"] == pytest.approx(stats.kurtosis(s, fisher=True, bias=False))
    for _c, items in HS_MODEL.items():
        cc = d[items].dropna()
        for it in items:
            rest = [j for j in items if j != it]
            r = np.corrcoef(cc[it], cc[rest].sum(axis=1))[0, 1]
            assert t.loc[it, "item_total_r"] == pytest.approx(r, abs=1e-10)
            # alpha-if-deleted for a 3-item construct = alpha of the remaining 2 items
            assert t.loc[it, "alpha_if_deleted"] == pytest.approx(ps.cronbach_alpha(cc[rest]), abs=1e-10)
        assert t.loc[items[0], "construct_n"] == len(cc)


# --------------------------------------------------------------------------------------------------
# factorability: against psych (tests/reference/psych/make_factorability_reference.R) and sklearn
# --------------------------------------------------------------------------------------------------


def test_kmo_and_bartlett_match_psych(hs):
    import json

    from conftest import ROOT

    ref = json.loads((ROOT / "tests/reference/psych/factorability_reference.json").read_text())
    k = ps.kmo(hs[ITEMS])
    assert k.overall == pytest.approx(ref["kmo"]["overall"], abs=1e-10)
    assert np.allclose(k.per_item.to_numpy(), [ref["kmo"]["per_item"][i] for i in ITEMS], atol=1e-10)
    assert list(k.to_frame()["item"]) == ITEMS + ["(overall)"]
    b = ps.bartlett(hs[ITEMS])
    assert b.chi2 == pytest.approx(ref["bartlett"]["chi2"], rel=1e-10) and b.df == ref["bartlett"]["df"]
    assert b.p == pytest.approx(ref["bartlett"]["p"], rel=1e-6)


def test_harman_matches_sklearn_pca(hs):
    from sklearn.decomposition import PCA

    z = (hs[ITEMS] - hs[ITEMS].mean()) / hs[ITEMS].std()
    share = PCA().fit(z).explained_variance_ratio_[0]
    h = ps.harman_single_factor(hs[ITEMS], threshold=0.5)
    assert h.share == pytest.approx(share, abs=1e-10)
    assert h.passed
    assert not ps.harman_single_factor(hs[ITEMS], threshold=0.3).passed


def _two_factor_sample(n=400, seed=3):
    rng = np.random.default_rng(seed)
    lam = np.zeros((8, 2))
    lam[:4, 0] = 0.7
    lam[4:, 1] = 0.7
    sig = lam @ np.array([[1, 0.3], [0.3, 1]]) @ lam.T
    np.fill_diagonal(sig, 1.0)
    return pd.DataFrame(rng.multivariate_normal(np.zeros(8), sig, n), columns=[f"v{i}" for i in range(8)])


@pytest.mark.parametrize("method", ["pca", "fa"])
def test_parallel_analysis_recovers_planted_factors(method):
    d = _two_factor_sample()
    pa = ps.parallel_analysis(d, n_sims=200, seed=5, method=method)
    assert pa.n_factors == 2
    assert pa.method == method
    assert ("components" if method == "pca" else "common factors") in pa.description
    assert list(pa.table.columns) == [
        "position",
        "observed",
        "simulated_mean",
        "simulated_percentile",
        "retain",
    ]
    assert pa.table["retain"].sum() == 2
    # observed PCA eigenvalues are the eigenvalues of the correlation matrix
    if method == "pca":
        assert np.allclose(pa.table["observed"], np.sort(np.linalg.eigvalsh(d.corr().to_numpy()))[::-1])
    # seeded: identical on rerun, different seed gives different simulated values
    again = ps.parallel_analysis(d, n_sims=200, seed=5, method=method)
    pd.testing.assert_frame_equal(pa.table, again.table)
    other = ps.parallel_analysis(d, n_sims=200, seed=6, method=method)
    assert not np.allclose(pa.table["simulated_mean"], other.table["simulated_mean"])


def test_parallel_analysis_hs_three_factors(hs):
    assert ps.parallel_analysis(hs[ITEMS], n_sims=200, seed=1, method="pca").n_factors == 3


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------


def test_zero_variance_item_is_named(hs):
    d = hs[ITEMS].copy()
    d["x5"] = 3.0
    for fn in (ps.kmo, ps.bartlett, ps.harman_single_factor, lambda x: ps.parallel_analysis(x, 10, 1)):
        with pytest.raises(AnalysisError, match=r"zero variance.*x5"):
            fn(d)
    with pytest.raises(AnalysisError, match=r"zero variance.*x5"):
        ps.item_analysis(d, HS_MODEL)


def test_singular_matrix_names_the_dependent_items(hs):
    d = hs[ITEMS].copy()
    d["x10"] = d["x1"] + d["x2"]
    with pytest.raises(AnalysisError, match="singular") as exc:
        ps.kmo(d)
    msg = str(exc.value)
    group = msg[msg.index("{") : msg.index("}") + 1]
    assert "x1" in group and "x2" in group and "x10" in group
    for other in ("x3", "x4", "x5", "x6", "x7", "x8", "x9"):
        assert f"{other}," not in group and f"{other}}}" not in group


def test_too_few_complete_cases(hs):
    d = hs[ITEMS].iloc[:20].copy()
    d.iloc[5:, 3] = np.nan  # x4 missing for most rows -> 5 complete cases < 10 needed
    with pytest.raises(AnalysisError, match=r"too few complete cases.*x4 \(15 missing\)"):
        ps.bartlett(d)
    with pytest.raises(AnalysisError, match="too few complete cases"):
        ps.cronbach_alpha(d[["x1", "x4"]].iloc[:6].assign(x4=[1, np.nan, np.nan, np.nan, np.nan, 2]))


def test_unknown_item_and_small_construct_errors(hs):
    with pytest.raises(AnalysisError, match="x99"):
        ps.item_analysis(hs, {"visual": ["x1", "x99"]})
    with pytest.raises(AnalysisError, match="construct 'tiny'"):
        ps.htmt(hs, {"visual": HS_MODEL["visual"], "tiny": ["x4"]})
