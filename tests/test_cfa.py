"""CFA (views of the SEM core) against lavaan 0.6-14 / semTools (tests/data/lavaan_hs1939.json), against
semopy's ML fit (an independent implementation), parameter recovery on simulated data, improper-solution
flags, and bad-input errors. The core itself is tested against lavaan in tests/test_sem_*.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import HS_ITEMS as ITEMS  # noqa: E402
from conftest import HS_MODEL  # noqa: E402
from crfm.errors import AnalysisError
from crfm.stats import cfa
from crfm.stats.psychometrics import ave, composite_reliability


@pytest.fixture(scope="module")
def hs_fit(hs):
    return cfa.fit_cfa(hs, HS_MODEL)


@pytest.fixture(scope="module")
def hs_second(hs):
    return cfa.fit_cfa(hs, HS_MODEL, second_order={"g": ["visual", "textual", "speed"]})


def _pair(d: dict, a: str, b: str) -> float:
    return d.get(f"{a}-{b}", d.get(f"{b}-{a}"))


# --------------------------------------------------------------------------------------------------
# lavaan reference
# --------------------------------------------------------------------------------------------------


def test_fit_measures_match_lavaan(hs_fit, ref):
    f, r = hs_fit.fit, ref["ml_fit"]
    assert f["n"] == ref["n"] and f["df"] == r["df"] and f["npar"] == r["npar"]
    assert f["chi2"] == pytest.approx(r["chisq"], abs=0.05)
    assert f["p"] == pytest.approx(r["pvalue"], rel=1e-3)
    for key, rkey in [("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("srmr", "srmr")]:
        assert f[key] == pytest.approx(r[rkey], abs=0.001), key
    assert f["rmsea_ci_lower"] == pytest.approx(r["rmsea_ci90"][0], abs=0.001)
    assert f["rmsea_ci_upper"] == pytest.approx(r["rmsea_ci90"][1], abs=0.001)
    for key, rkey in [
        ("loglik", "loglik"),
        ("loglik_unrestricted", "loglik_unrestricted"),
        ("aic", "aic"),
        ("bic", "bic"),
        ("baseline_chi2", "baseline_chisq"),
    ]:
        assert f[key] == pytest.approx(r[rkey], abs=0.05), key
    assert f["baseline_df"] == r["baseline_df"]
    assert f["converged"] and f["proper"] and not f["heywood"]
    assert hs_fit.warnings == []


def test_solution_matches_lavaan_tightly(hs_fit, ref):
    """Beyond the contract tolerances: we sit on lavaan's optimum, so slips such as an N - 1 divisor in
    RMSEA (0.09228 vs 0.09212) or SRMR without the diagonal would fail here."""
    f, r = hs_fit.fit, ref["ml_fit"]
    assert f["chi2"] == pytest.approx(r["chisq"], abs=1e-4)
    for key in ("cfi", "tli", "rmsea", "srmr"):
        assert f[key] == pytest.approx(r[key], abs=2e-6), key
    assert f["loglik"] == pytest.approx(r["loglik"], abs=1e-4)
    load = hs_fit.loadings.set_index("item")
    for item in ITEMS:
        assert load.loc[item, "std_all"] == pytest.approx(ref["std_loadings"][item], abs=2e-5)
        assert load.loc[item, "std_se"] == pytest.approx(ref["std_loading_se_ml"][item], abs=2e-5)


def test_standardized_loadings_and_ses_match_lavaan(hs_fit, ref):
    load = hs_fit.loadings.set_index("item")
    for item in ITEMS:
        assert load.loc[item, "std_all"] == pytest.approx(ref["std_loadings"][item], abs=0.002), item
        assert load.loc[item, "std_se"] == pytest.approx(ref["std_loading_se_ml"][item], abs=0.005), item
        lo, hi = load.loc[item, "ci_lower"], load.loc[item, "ci_upper"]
        assert hi - lo == pytest.approx(2 * 1.959964 * ref["std_loading_se_ml"][item], abs=0.01)
    # markers fixed at 1 with no SE, free loadings with SEs
    assert load.loc["x1", "est"] == 1.0 and np.isnan(load.loc["x1", "se"])
    assert load.loc["x2", "se"] > 0


def test_factor_correlations_match_lavaan(hs_fit, ref):
    for _, row in hs_fit.factor_correlations.iterrows():
        assert row["r"] == pytest.approx(_pair(ref["factor_correlations"], row.factor_a, row.factor_b), abs=0.002)
    m = hs_fit.factor_corr_matrix
    assert m.loc["speed", "visual"] == pytest.approx(_pair(ref["factor_correlations"], "visual", "speed"), abs=0.002)
    assert np.allclose(np.diag(m), 1.0)


def test_reliability_from_fitted_loadings_matches_reference(hs_fit, ref):
    lam = hs_fit.std_loadings_by_factor()
    cr, av = composite_reliability(lam), ave(lam)
    for c in HS_MODEL:
        assert cr[c] == pytest.approx(ref["composite_reliability_standardized"][c], abs=0.002)
        assert av[c] == pytest.approx(ref["ave_standardized"][c], abs=0.002)


def test_second_order_matches_lavaan(hs_fit, hs_second, ref):
    so = hs_second.second_order_loadings.set_index("subfactor")
    for f, v in ref["second_order"]["std_loadings"].items():
        assert so.loc[f, "std_all"] == pytest.approx(v, abs=0.005), f
    assert (so["factor"] == "g").all()
    # with three first-order factors the second-order model is equivalent (same fit)
    assert ref["second_order"]["fit_equals_first_order"]
    for k in ("chi2", "cfi", "tli", "rmsea", "srmr", "loglik"):
        assert hs_second.fit[k] == pytest.approx(hs_fit.fit[k], abs=1e-4), k
    assert hs_second.fit["df"] == hs_fit.fit["df"]
    dist = hs_second.residual_variances.query("kind == 'factor disturbance'")
    assert set(dist["variable"]) == {"visual", "textual", "speed"}


def test_without_ses_same_estimates(hs, hs_fit):
    fast = cfa.fit_cfa(hs, HS_MODEL, se=False)
    for k in ("chi2", "cfi", "tli", "rmsea", "srmr", "loglik"):
        assert fast.fit[k] == pytest.approx(hs_fit.fit[k], rel=1e-10, abs=1e-12), k
    assert np.allclose(fast.loadings["std_all"], hs_fit.loadings["std_all"], rtol=0, atol=1e-9)
    assert fast.loadings[["se", "std_se"]].isna().all().all()


def test_repeated_fits_do_not_leak_state(hs, hs_fit):
    other = hs.sample(n=200, random_state=7)
    o1 = cfa.fit_cfa(other, HS_MODEL)
    again = cfa.fit_cfa(hs, HS_MODEL)
    assert again.fit == hs_fit.fit
    pd.testing.assert_frame_equal(again.loadings, hs_fit.loadings)
    assert o1.n == 200 and o1.fit["chi2"] != pytest.approx(hs_fit.fit["chi2"])


def test_estimates_equal_semopys_ml_fit(hs, hs_fit):
    """semopy (an independent implementation; its MLW objective is lavaan's ML) fitted to convergence
    reaches the same optimum: unstandardized loadings agree to 1e-4."""
    import semopy

    m = semopy.Model(cfa.cfa_syntax(HS_MODEL))
    m.fit(hs[ITEMS], obj="MLW", solver="SLSQP", options={"ftol": 1e-12, "maxiter": 10000})
    est = m.inspect()
    ours = hs_fit.loadings.set_index("item")
    theirs = est[est["op"] == "~"].set_index("lval")["Estimate"].astype(float)
    for item in ITEMS:
        assert ours.loc[item, "est"] == pytest.approx(theirs[item], abs=1e-4), item


# --------------------------------------------------------------------------------------------------
# simulation: parameter recovery
# --------------------------------------------------------------------------------------------------


def _population():
    """3 factors x 4 items, standardized loadings and factor correlations known."""
    items = [f"{c}{i}" for c in "pqr" for i in range(1, 5)]
    lam = np.zeros((12, 3))
    lam[0:4, 0] = [0.8, 0.7, 0.6, 0.75]
    lam[4:8, 1] = [0.65, 0.7, 0.8, 0.55]
    lam[8:12, 2] = [0.7, 0.6, 0.85, 0.5]
    phi = np.array([[1.0, 0.4, 0.3], [0.4, 1.0, 0.5], [0.3, 0.5, 1.0]])
    sig = lam @ phi @ lam.T
    np.fill_diagonal(sig, 1.0)
    sd = np.array([1.0, 2.0, 0.5, 1.5] * 3)  # unequal item scales: std.all must undo them
    sig = sig * np.outer(sd, sd)
    constructs = {"P": items[:4], "Q": items[4:8], "R": items[8:]}
    return items, lam, phi, sig, constructs


def test_parameter_recovery_ci_coverage():
    items, lam, phi, sig, constructs = _population()
    rng = np.random.default_rng(2024)
    hits, total = 0, 0
    corr_err = []
    for _ in range(5):
        d = pd.DataFrame(rng.multivariate_normal(np.full(12, 4.0), sig, 400), columns=items)
        res = cfa.fit_cfa(d, constructs)
        assert res.proper
        load = res.loadings.set_index("item")
        true = lam.max(axis=1)
        inside = (load.loc[items, "ci_lower"].to_numpy() <= true) & (true <= load.loc[items, "ci_upper"].to_numpy())
        hits += inside.sum()
        total += inside.size
        fc = res.factor_corr_matrix.to_numpy()
        corr_err.append(np.abs(fc - phi).max())
    assert hits / total >= 0.90, f"coverage {hits}/{total}"
    assert max(corr_err) < 0.15


# --------------------------------------------------------------------------------------------------
# improper solutions and non-convergence are loud
# --------------------------------------------------------------------------------------------------


def test_heywood_case_is_flagged():
    # factor 1 items with r12=.8, r13=.6, r23=.4 imply lambda1^2 = .8*.6/.4 = 1.2 > 1
    items = [f"h{i}" for i in range(1, 10)]
    sig = np.eye(9)
    sig[0, 1] = sig[1, 0] = 0.8
    sig[0, 2] = sig[2, 0] = 0.6
    sig[1, 2] = sig[2, 1] = 0.4
    for block in (range(3, 6), range(6, 9)):
        for i in block:
            for j in block:
                if i != j:
                    sig[i, j] = 0.49
    rng = np.random.default_rng(3)
    d = pd.DataFrame(rng.multivariate_normal(np.zeros(9), sig, 2000), columns=items)
    constructs = {"A": items[:3], "B": items[3:6], "C": items[6:]}
    res = cfa.fit_cfa(d, constructs)
    assert res.heywood and not res.proper and not res.fit["proper"] and res.fit["heywood"]
    assert any("h1" in c for c in res.heywood_cases)
    assert any("h1" in w for w in res.warnings)


def test_small_samples_are_flagged(hs):
    res = cfa.fit_cfa(hs.iloc[:60], HS_MODEL)
    assert res.cases_per_parameter == pytest.approx(60 / 21)
    assert res.small_sample and "21 free parameters, 2.9 cases per parameter (fewer than the 5" in res.sample_note()
    assert not cfa.fit_cfa(hs, HS_MODEL).small_sample


# --------------------------------------------------------------------------------------------------
# nested models
# --------------------------------------------------------------------------------------------------


def test_chi_square_difference_and_rival_models(hs, hs_fit):
    rm = cfa.rival_models(hs, HS_MODEL, second_order_name="g", se=False)
    assert list(rm.table["model"]) == ["one_factor", "correlated", "second_order"]
    one = rm.fits["one_factor"]
    assert one.fit["df"] == 27 and one.fit["npar"] == 18
    d = cfa.chi_square_difference(one, rm.fits["correlated"])
    assert d.delta_df == 3
    assert d.delta_chi2 == pytest.approx(one.fit["chi2"] - hs_fit.fit["chi2"], abs=1e-6)
    assert d.p == pytest.approx(stats.chi2.sf(d.delta_chi2, 3))
    comp = rm.comparisons.set_index(["restricted", "full"])
    assert np.isnan(comp.loc[("second_order", "correlated"), "p"])
    assert "equivalent" in comp.loc[("second_order", "correlated"), "note"]
    with pytest.raises(AnalysisError, match="more df"):
        cfa.chi_square_difference(rm.fits["correlated"], one)


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------


def test_bad_input_errors_name_the_problem(hs):
    d = hs.copy()
    d["x5"] = 2.0
    with pytest.raises(AnalysisError, match=r"x5.*zero variance"):
        cfa.fit_cfa(d, HS_MODEL)
    d = hs.copy()
    d["x9"] = d["x7"] + d["x8"]
    with pytest.raises(AnalysisError, match=r"not positive definite.*x9, x7, x8 are linearly dependent"):
        cfa.fit_cfa(d, HS_MODEL)
    d = hs.iloc[:12].copy()
    d.loc[d.index[:5], "x4"] = np.nan
    with pytest.raises(AnalysisError, match=r"only 7 complete case\(s\) for 9 model items"):
        cfa.fit_cfa(d, HS_MODEL)
    with pytest.raises(AnalysisError, match="construct 'solo'"):
        cfa.fit_cfa(hs, {**HS_MODEL, "solo": ["ageyr"]})
    with pytest.raises(AnalysisError, match="x42"):
        cfa.fit_cfa(hs, {"visual": ["x1", "x2", "x42"], "textual": HS_MODEL["textual"]})
    with pytest.raises(AnalysisError, match="second-order factor 'g'"):
        cfa.fit_cfa(hs, HS_MODEL, second_order={"g": ["visual", "textual"]})
    with pytest.raises(AnalysisError, match="'x1' is listed under both"):
        cfa.fit_cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x1", "x5", "x6"]})


def test_cfa_syntax():
    assert cfa.cfa_syntax(HS_MODEL, second_order={"g": list(HS_MODEL)}) == (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ng =~ visual + textual + speed"
    )
    assert cfa.cfa_syntax(HS_MODEL, one_factor=True) == "general =~ " + " + ".join(ITEMS)
