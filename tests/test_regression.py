"""Hierarchical moderated regression, probing and product indicators, checked against independent
computations (numpy least squares, a hand-written HC3 sandwich, refits with a re-centred moderator)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crfm.errors import AnalysisError
from crfm.stats.regression import (
    check_design,
    hierarchical_regression,
    jn_curve,
    johnson_neyman,
    johnson_neyman_from_result,
    product_indicators,
    simple_slopes,
)

STEPS = [
    ("controls", ["SIZE", "IND"]),
    ("+ CRFM", ["CRFM"]),
    ("+ moderator", ["COMP"]),
    ("+ interaction", ["CRFM_x_COMP"]),
]


def make_data(n=250, seed=1, b3=0.15):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "SIZE": rng.normal(size=n),
            "IND": rng.choice(["manuf", "services", "ict"], size=n),
            "CRFM": rng.normal(4, 1, n),
            "COMP": rng.normal(4, 1.2, n),
        }
    )
    noise = rng.normal(size=n) * (1 + 0.3 * np.abs(df.CRFM - 4))  # heteroskedastic
    df["PERF"] = (
        1
        + 0.1 * df.SIZE
        + 0.3 * (df.IND == "ict")
        + 0.4 * df.CRFM
        + 0.2 * df.COMP
        + b3 * (df.CRFM - 4) * (df.COMP - 4)
        + noise
    )
    return df


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def result(data):
    return hierarchical_regression(data, "PERF", STEPS, focal="CRFM", moderator="COMP")


# ---------------------------------------------------------------- independent reference computations


def hand_design(df, moderator_at=None):
    """Final-step design built by hand: intercept, SIZE, dummies (ref 'ict'), centred CRFM, moderator
    centred at its mean (or at ``moderator_at`` on the raw scale), product of the two."""
    x = df.CRFM.to_numpy() - df.CRFM.mean()
    m = df.COMP.to_numpy() - (df.COMP.mean() if moderator_at is None else moderator_at)
    cols = [
        np.ones(len(df)),
        df.SIZE.to_numpy(),
        (df.IND == "manuf").to_numpy(float),
        (df.IND == "services").to_numpy(float),
        x,
        m,
        x * m,
    ]
    return np.column_stack(cols)


def ols(X, y):
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    return b, e


def hc3(X, y):
    b, e = ols(X, y)
    XtXi = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    meat = X.T @ (X * (e**2 / (1 - h) ** 2)[:, None])
    return b, XtXi @ meat @ XtXi


STEP_COLS = [[0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 6]]


# ---------------------------------------------------------------- hierarchical regression


def test_r2_and_f_change_match_hand_computation(data, result):
    X, y = hand_design(data), data.PERF.to_numpy()
    n = len(y)
    tss = ((y - y.mean()) ** 2).sum()
    rss_prev, k_prev = tss, 1
    for s, cols in enumerate(STEP_COLS):
        b, e = ols(X[:, cols], y)
        rss = e @ e
        r2 = 1 - rss / tss
        df1, df2 = len(cols) - k_prev, n - len(cols)
        f = ((rss_prev - rss) / df1) / (rss / df2)
        row = result.summary.iloc[s]
        assert row.n == n and row.df1 == df1 and row.df2 == df2
        assert row.r2 == pytest.approx(r2, abs=1e-12)
        assert row.adj_r2 == pytest.approx(1 - (1 - r2) * (n - 1) / (n - len(cols)), abs=1e-12)
        assert row.delta_r2 == pytest.approx((rss_prev - rss) / tss, abs=1e-12)
        assert row.f_change == pytest.approx(f, rel=1e-9)
        assert row.p_f_change == pytest.approx(stats.f.sf(f, df1, df2), rel=1e-8)
        coefs = result.coefficients.query("step == @s + 1")
        np.testing.assert_allclose(coefs.b.to_numpy(), b, rtol=1e-9, atol=1e-12)
        rss_prev, k_prev = rss, len(cols)


def test_hc3_se_t_ci_match_hand_sandwich(data, result):
    X, y = hand_design(data), data.PERF.to_numpy()
    b, V = hc3(X, y)
    se = np.sqrt(np.diag(V))
    fin = result.coefficients.query("step == 4")
    np.testing.assert_allclose(fin.se.to_numpy(), se, rtol=1e-9)
    np.testing.assert_allclose(fin.t.to_numpy(), b / se, rtol=1e-9)
    df = len(y) - X.shape[1]
    np.testing.assert_allclose(fin.p.to_numpy(), 2 * stats.t.sf(np.abs(b / se), df), rtol=1e-7)
    tc = stats.t.ppf(0.975, df)
    np.testing.assert_allclose(fin.ci_lower.to_numpy(), b - tc * se, rtol=1e-9)
    assert list(fin.term) == [
        "Intercept",
        "SIZE",
        "IND[T.manuf]",
        "IND[T.services]",
        "CRFM",
        "COMP",
        "CRFM_x_COMP",
    ]
    # HC3 Wald test of the controls block (3 df) and of the single interaction term (= t^2)
    b1, V1 = hc3(X[:, STEP_COLS[0]], y)
    w = b1[1:] @ np.linalg.solve(V1[1:, 1:], b1[1:]) / 3
    assert result.summary.wald_f.iloc[0] == pytest.approx(w, rel=1e-9)
    assert result.summary.wald_f.iloc[3] == pytest.approx((b[6] / se[6]) ** 2, rel=1e-9)


def test_standardized_betas_match_zscored_refit(data, result):
    z = lambda v: (v - v.mean()) / v.std(ddof=1)  # noqa: E731
    X = hand_design(data)
    Z = np.column_stack([np.ones(len(data))] + [z(X[:, j]) for j in range(1, 6)])
    Z = np.column_stack([Z, Z[:, 4] * Z[:, 5]])  # product of z-scores, not z of the product
    y = data.PERF.to_numpy()
    bz, _ = ols(Z, z(y))
    fin = result.coefficients.query("step == 4")
    np.testing.assert_allclose(fin.beta.to_numpy()[1:], bz[1:], rtol=1e-9)
    assert np.isnan(fin.beta.iloc[0])
    # Friedrich (1982): with centred variables the z-refit is a reparametrisation of the raw model
    sx, sm, sy = data.CRFM.std(), data.COMP.std(), data.PERF.std()
    b = fin.set_index("term").b
    beta = fin.set_index("term").beta
    assert beta["CRFM"] == pytest.approx(b["CRFM"] * sx / sy, rel=1e-9)
    assert beta["CRFM_x_COMP"] == pytest.approx(b["CRFM_x_COMP"] * sx * sm / sy, rel=1e-9)
    # step 1 betas: classical b * sd(x) / sd(y)
    s1 = result.coefficients.query("step == 1").set_index("term")
    assert s1.beta["SIZE"] == pytest.approx(s1.b["SIZE"] * data.SIZE.std() / sy, rel=1e-9)


def test_vif_matches_inverse_correlation_matrix(data, result):
    X = hand_design(data)[:, 1:]
    R = np.corrcoef(X, rowvar=False)
    np.testing.assert_allclose(result.vif.vif.to_numpy(), np.diag(np.linalg.inv(R)), rtol=1e-8)
    assert list(result.vif.term) == ["SIZE", "IND[T.manuf]", "IND[T.services]", "CRFM", "COMP", "CRFM_x_COMP"]


def test_one_listwise_sample_for_all_steps_and_centring(data):
    d = data.copy()
    d.loc[[0, 5, 9], "SIZE"] = np.nan
    d.loc[[5, 11], "COMP"] = np.nan
    r = hierarchical_regression(d, "PERF", STEPS, focal="CRFM", moderator="COMP")
    assert (r.summary.n == len(d) - 4).all()
    keep = d.dropna()
    assert r.means["COMP"] == pytest.approx(keep.COMP.mean())
    assert r.design["CRFM"].mean() == pytest.approx(0, abs=1e-12)
    assert r.design["CRFM_x_COMP"].to_numpy() == pytest.approx(
        (keep.CRFM - keep.CRFM.mean()).to_numpy() * (keep.COMP - keep.COMP.mean()).to_numpy()
    )
    assert any("Mean-centred" in note for note in r.notes)


@pytest.mark.parametrize("kind", ["object", "str", "category"])
def test_categorical_controls_reference_is_first_sorted_level(data, kind):
    d = data.copy()
    d["IND"] = d["IND"].astype({"object": object, "str": "str", "category": "category"}[kind])
    if kind == "category":  # declared order differs from sorted order: sorted order still wins
        d["IND"] = d["IND"].cat.reorder_categories(["services", "manuf", "ict"])
    r = hierarchical_regression(d, "PERF", STEPS, focal="CRFM", moderator="COMP")
    assert set(r.coefficients.term) >= {"IND[T.manuf]", "IND[T.services]"}
    assert "IND[T.ict]" not in set(r.coefficients.term)


def test_deterministic(data):
    a = hierarchical_regression(data, "PERF", STEPS, focal="CRFM", moderator="COMP")
    b = hierarchical_regression(data, "PERF", STEPS, focal="CRFM", moderator="COMP")
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    pd.testing.assert_frame_equal(a.summary, b.summary)


# ---------------------------------------------------------------- simple slopes


def test_simple_slopes_equal_refit_with_moderator_centred_there(data, result):
    ss = simple_slopes(result, "CRFM", "COMP")
    assert list(ss["at"]) == ["-1 SD", "mean", "+1 SD"]
    y = data.PERF.to_numpy()
    df_resid = len(y) - 7
    for _, row in ss.iterrows():
        b, V = hc3(hand_design(data, moderator_at=data.COMP.mean() + row.moderator_value), y)
        assert row.slope == pytest.approx(b[4], rel=1e-9)
        assert row.se == pytest.approx(np.sqrt(V[4, 4]), rel=1e-9)
        assert row.t == pytest.approx(b[4] / np.sqrt(V[4, 4]), rel=1e-9)
        assert row.p == pytest.approx(2 * stats.t.sf(abs(row.t), df_resid), rel=1e-8)
        assert row.moderator_raw == pytest.approx(data.COMP.mean() + row.moderator_value)
    # at the mean the slope is the focal coefficient of the final step
    fin = result.coefficients.query("step == 4").set_index("term")
    assert ss.set_index("at").slope["mean"] == pytest.approx(fin.b["CRFM"], rel=1e-12)


def test_simple_slopes_accept_a_statsmodels_fit(result):
    a = simple_slopes(result.final_fit, "CRFM", "COMP", at={"low": -1.0, "high": 2.0})
    b = simple_slopes(result, "CRFM", "COMP", at={"low": -1.0, "high": 2.0})
    np.testing.assert_allclose(a.slope, b.slope)
    np.testing.assert_allclose(a.se, b.se)
    assert a.moderator_raw.isna().all()


# ---------------------------------------------------------------- Johnson-Neyman


def _check_jn_against_refits(data, res):
    jn = johnson_neyman_from_result(res)
    y = data.PERF.to_numpy()
    assert jn.bounds, "test data should give finite bounds"
    for bnd in jn.bounds:
        b, V = hc3(hand_design(data, moderator_at=res.means["COMP"] + bnd), y)
        assert abs(b[4] / np.sqrt(V[4, 4])) == pytest.approx(jn.t_crit, abs=1e-6)
    return jn


def test_jn_bounds_refit_t_equals_t_crit_inside_region(data, result):
    jn = _check_jn_against_refits(data, result)
    assert jn.region == "inside" and jn.bounds_in_range == (True, True)
    assert jn.t_crit == pytest.approx(stats.t.ppf(0.975, result.final_fit.df_resid))


def test_jn_bounds_refit_t_equals_t_crit_outside_region():
    d = make_data(n=300, seed=7, b3=0.6)
    d["PERF"] -= 0.4 * d.CRFM  # focal effect near zero at the mean, strong interaction
    res = hierarchical_regression(d, "PERF", STEPS, focal="CRFM", moderator="COMP")
    jn = _check_jn_against_refits(d, res)
    assert jn.region == "outside"
    signs = [s for _, _, s in jn.regions]
    assert signs == ["negative", "positive"]


def test_jn_grid_agrees_with_regions(result):
    jn = johnson_neyman_from_result(result)
    fit = result.final_fit
    V = fit.cov_params()
    curve = jn_curve(
        fit.params["CRFM"],
        fit.params["CRFM_x_COMP"],
        V.loc["CRFM", "CRFM"],
        V.loc["CRFM_x_COMP", "CRFM_x_COMP"],
        V.loc["CRFM", "CRFM_x_COMP"],
        fit.df_resid,
        mod_range=(-8, 8),
        n_points=1601,
        center=result.means["COMP"],
    )
    inside = np.zeros(len(curve), bool)
    for lo, hi, _ in jn.regions:
        inside |= (curve.moderator > lo) & (curve.moderator < hi)
    away = np.min(np.abs(curve.moderator.to_numpy()[:, None] - np.array(jn.bounds)[None, :]), axis=1) > 1e-9
    assert (curve.significant[away] == inside[away]).all()
    # the CI band excludes zero exactly where the effect is significant
    excl = (curve.ci_lower > 0) | (curve.ci_upper < 0)
    assert (excl == curve.significant).all()


def _random_cases():
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(300):
        b1, b3 = rng.normal(0, 1, 2)
        L = rng.normal(0, 0.5, (2, 2))
        V = L @ L.T + 1e-3 * np.eye(2)
        cases.append((b1, b3, V[0, 0], V[1, 1], V[0, 1], int(rng.integers(5, 200))))
    t = stats.t.ppf(0.975, 50)
    cases.append((1.0, 0.5, 0.04, 0.25 / t**2, 0.0, 50))  # a = 0 exactly: single bound, 'above'
    cases.append((1.0, -0.5, 0.04, 0.25 / t**2, 0.0, 50))  # 'below'
    return cases


@pytest.mark.parametrize("case", _random_cases())
def test_jn_closed_form_against_brute_force(case):
    b1, b3, v1, v3, c13, dfr = case
    jn = johnson_neyman(b1, b3, v1, v3, c13, dfr, mod_range=(-3, 3))
    for bnd in jn.bounds:
        tb = (b1 + b3 * bnd) / np.sqrt(v1 + 2 * bnd * c13 + bnd**2 * v3)
        assert abs(tb) == pytest.approx(jn.t_crit, abs=1e-6)
    m = np.linspace(-50, 50, 4001)
    tm = (b1 + b3 * m) / np.sqrt(v1 + 2 * m * c13 + m**2 * v3)
    inside = np.zeros(len(m), bool)
    for lo, hi, sign in jn.regions:
        sel = (m > lo) & (m < hi)
        inside |= sel
        assert (np.sign(tm[sel]) == (1 if sign == "positive" else -1)).all()
    away = np.abs(np.abs(tm) - jn.t_crit) > 1e-7
    assert ((np.abs(tm) > jn.t_crit)[away] == inside[away]).all()


def test_jn_region_labels():
    t = stats.t.ppf(0.975, 50)
    assert johnson_neyman(0.01, 0.01, 1, 1, 0, 50).region == "nowhere"
    assert johnson_neyman(5.0, 0.0, 0.01, 0.01, 0, 50).region == "inside"
    assert johnson_neyman(5.0, 0.01, 0.01, 1e-6, 0, 50).region == "outside"  # bounds far away
    assert johnson_neyman(1.0, 0.5, 0.04, 0.25 / t**2, 0, 50).region == "above"
    r = johnson_neyman(0.0, 1.0, 0.01, 0.01, 0, 50, mod_range=(-1, 1))
    assert r.region == "outside" and r.bounds_in_range == (True, True)
    assert 0 < r.share_of_range_significant < 1
    assert list(r.bounds_table().columns) == [
        "bound",
        "value",
        "value_raw",
        "in_observed_range",
        "t_crit",
        "alpha",
    ]
    assert len(r.regions_table()) == 2


# ---------------------------------------------------------------- bad inputs name the variable


def _raises(df, outcome, preds, *names):
    with pytest.raises(AnalysisError) as ei:
        check_design(df, outcome, preds)
    for nm in names:
        assert nm in str(ei.value)
        assert nm in ei.value.variables
    return str(ei.value)


def test_missing_moderator_or_control_named(data):
    with pytest.raises(AnalysisError, match="'COMPLEX'") as ei:
        hierarchical_regression(
            data,
            "PERF",
            [("c", ["SIZE"]), ("x", ["CRFM"]), ("m", ["COMPLEX"]), ("i", ["CRFM_x_COMPLEX"])],
            focal="CRFM",
            moderator="COMPLEX",
        )
    assert ei.value.variables == ["COMPLEX"]
    _raises(data, "PERF", ["SIZE", "AGE", "CRFM"], "AGE")
    _raises(data, "PERFX", ["SIZE"], "PERFX")


def test_constant_column_named(data):
    d = data.assign(CONST=3.0, ONE_LEVEL="x")
    _raises(d, "PERF", ["SIZE", "CONST"], "CONST")
    _raises(d, "PERF", ["SIZE", "ONE_LEVEL"], "ONE_LEVEL")


def test_perfect_collinearity_names_the_dependency(data):
    d = data.assign(X3=2 * data.SIZE - 0.5 * data.CRFM + 1.0)
    msg = _raises(d, "PERF", ["SIZE", "CRFM", "COMP", "X3"], "SIZE", "CRFM", "X3")
    assert "COMP" not in msg.split("Variables in the dependency")[1]
    # a numeric column that duplicates a dummy
    d = data.assign(IS_MANUF=(data.IND == "manuf").astype(float))
    _raises(d, "PERF", ["IND", "IS_MANUF"], "IND", "IS_MANUF")


def test_too_few_complete_cases_names_most_missing(data):
    d = data.head(12).copy()
    d.loc[d.index[:8], "COMP"] = np.nan
    msg = _raises(d, "PERF", ["SIZE", "IND", "CRFM", "COMP"], "COMP")
    assert "4 complete case" in msg


def test_other_bad_inputs(data):
    _raises(data.assign(Y=data.IND), "Y", ["SIZE"], "Y")  # non-numeric outcome
    d = data.copy()
    d.loc[3, "SIZE"] = np.inf
    _raises(d, "PERF", ["SIZE"], "SIZE")
    d = data.copy()
    d.loc[0, "IND"] = "zz_single"  # a level with one case: leverage 1, HC3 undefined
    with pytest.raises(AnalysisError, match="IND") as ei:
        hierarchical_regression(d, "PERF", STEPS, focal="CRFM", moderator="COMP")
    assert "IND" in ei.value.variables
    with pytest.raises(AnalysisError, match="'COMP'"):  # interaction without its lower-order term
        hierarchical_regression(data, "PERF", [("c", ["CRFM"]), ("i", ["CRFM_x_COMP"])], "CRFM", "COMP")


def test_check_design_valid(data):
    info = check_design(data, "PERF", ["SIZE", "IND", "CRFM"])
    assert info["n_complete"] == len(data) and info["n_params"] == 5


# ---------------------------------------------------------------- product indicators


def test_product_indicators_matched_and_all_pairs():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(3, 1, (50, 5)), columns=["x1", "x2", "m1", "m2", "m3"])
    df.loc[4, "x1"] = np.nan
    out, names = product_indicators(df, ["x1", "x2"], ["m1", "m2"])
    assert names == ["x1_x_m1", "x2_x_m2"]
    expect = (df.x1 - df.x1.mean()) * (df.m1 - df.m1.mean())
    expect = expect - expect.mean()
    pd.testing.assert_series_equal(out["x1_x_m1"], expect, check_names=False)
    assert np.isnan(out.loc[4, "x1_x_m1"]) and out.mean().abs().max() < 1e-12
    out, names = product_indicators(df, ["x1", "x2"], ["m1", "m2", "m3"])
    assert names == [f"{x}_x_{m}" for x in ["x1", "x2"] for m in ["m1", "m2", "m3"]]
    assert out.index.equals(df.index)
    with pytest.raises(AnalysisError, match="'m9'"):
        product_indicators(df, ["x1"], ["m9"])


# ---------------------------------------------------------------- figures


def test_figures_render(result, tmp_path):
    from crfm.report.figures import interaction_figure, johnson_neyman_figure, save_figure

    jn = johnson_neyman_from_result(result)
    fit = result.final_fit
    V = fit.cov_params()
    lo, hi = jn.mod_range
    curve = jn_curve(
        fit.params["CRFM"],
        fit.params["CRFM_x_COMP"],
        V.loc["CRFM", "CRFM"],
        V.loc["CRFM_x_COMP", "CRFM_x_COMP"],
        V.loc["CRFM", "CRFM_x_COMP"],
        fit.df_resid,
        (lo, hi),
        center=jn.center,
    )
    for fig, name in [(interaction_figure(result), "int"), (johnson_neyman_figure(curve, jn), "jn")]:
        save_figure(fig, [tmp_path / f"{name}.png"], synthetic=True)
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_dimension_model_centres_on_the_analysis_sample_and_betas_are_products_of_z_scores():
    """Methods review: the dimension-level model centred on all rows and standardized the product
    itself; both must follow the composite model's conventions. Checked by an independent lstsq fit."""
    from crfm.studies.study3 import dimension_regression

    rng = np.random.default_rng(5)
    n = 240
    df = pd.DataFrame(
        {"D1": rng.normal(3, 1, n), "D2": rng.normal(4, 1.2, n), "M": rng.normal(5, 0.8, n), "C": rng.normal(size=n)}
    )
    df["Y"] = (
        0.4 * df["D1"] + 0.2 * df["D2"] + 0.3 * df["M"] + 0.25 * (df["D1"] - 3) * (df["M"] - 5) + rng.normal(size=n)
    )
    df.loc[rng.choice(n, 40, replace=False), "C"] = np.nan  # rows the analysis sample drops
    res = dimension_regression(df, "Y", ["D1", "D2"], "M", ["C"])
    final = res.coefficients[res.coefficients["step"] == res.coefficients["step"].max()].set_index("term")

    d = df.dropna()
    centred = {v: d[v] - d[v].mean() for v in ("D1", "D2", "M")}
    X = np.column_stack(
        [
            np.ones(len(d)),
            d["C"],
            centred["D1"],
            centred["D2"],
            centred["M"],
            centred["D1"] * centred["M"],
            centred["D2"] * centred["M"],
        ]
    )
    b = np.linalg.lstsq(X, d["Y"].to_numpy(), rcond=None)[0]
    z = {v: (d[v] - d[v].mean()) / d[v].std(ddof=1) for v in ("D1", "D2", "M", "C", "Y")}
    Z = np.column_stack([np.ones(len(d)), z["C"], z["D1"], z["D2"], z["M"], z["D1"] * z["M"], z["D2"] * z["M"]])
    beta = np.linalg.lstsq(Z, z["Y"].to_numpy(), rcond=None)[0]
    for k, term in enumerate(["C", "D1", "D2", "M", "D1_x_M", "D2_x_M"], start=1):
        assert final.loc[term, "b"] == pytest.approx(b[k], abs=1e-10)
        assert final.loc[term, "beta"] == pytest.approx(beta[k], abs=1e-10)
