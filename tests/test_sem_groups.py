"""crfm.stats.sem, multi-group fits and measurement invariance by school on HS1939, against lavaan 0.6-14.

Required tolerances (tests/_sem_ref.py): estimates 1e-4, SEs 1e-3, chi2 relative 1e-4, fit indices 1e-4.
Measured when written: estimates <= 2e-5, SEs <= 2e-5, chi2 <= 1e-8, Satorra-Bentler differences relative <= 3e-6.
"""

from __future__ import annotations

import pytest

from _sem_ref import compare, compare_r2, data, load
from crfm.errors import AnalysisError
from crfm.stats.sem import Model, chi_square_difference, fit, measurement_invariance

STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


@pytest.fixture(scope="module")
def hs():
    return data("hs1939.csv")


@pytest.fixture(scope="module")
def model():
    return Model.from_syntax(load("hs_ml")["model"])


@pytest.mark.parametrize("est", ["ML", "MLR"])
@pytest.mark.parametrize("step", list(STEPS))
def test_invariance_steps_match_lavaan(hs, model, est, step):
    ref = load(f"hs_mg_{est.lower()}_{step}")
    res = fit(model, hs, group="school", group_equal=STEPS[step], estimator=est)
    compare(res, ref)
    compare_r2(res, ref)
    assert res.n_by_group == dict(zip(ref["group_labels"], ref["nobs"]))


def test_scalar_frees_latent_means_in_group_2(hs, model):
    res = fit(model, hs, group="school", group_equal=STEPS["scalar"])
    P = res.parameters
    means = P[(P.op == "~1") & P.lhs.isin(["visual", "textual", "speed"])]
    assert not means[means.group == "Pasteur"]["free"].any()
    assert means[means.group == "Grant-White"]["free"].all()


@pytest.mark.parametrize("case,est", [("hs_mg_partial", "ML"), ("hs_mg_partial_mlr", "MLR")])
def test_partial_invariance(hs, model, case, est):
    ref = load(case)
    res = fit(
        model,
        hs,
        group="school",
        group_equal=tuple(ref["group_equal"]),
        group_partial=tuple(ref["group_partial"]),
        estimator=est,
    )
    compare(res, ref)
    P = res.parameters.set_index(["lhs", "op", "rhs", "group"])["est"]
    assert P[("visual", "=~", "x2", "Pasteur")] != P[("visual", "=~", "x2", "Grant-White")]
    assert P[("visual", "=~", "x3", "Pasteur")] == P[("visual", "=~", "x3", "Grant-White")]
    if est == "MLR":
        metric = fit(model, hs, group="school", group_equal=("loadings",), estimator="MLR")
        d = chi_square_difference(res, metric)
        lrt = ref["lrt_vs_metric"]
        assert d.delta_df == lrt["df_diff"]
        assert abs(d.delta_chi2 - lrt["chisq_diff"]) < 1e-4 * lrt["chisq_diff"]


def test_fiml_multigroup(model):
    ref = load("hs_mg_fiml_metric")
    res = fit(model, data("hs1939_missing.csv"), group="school", group_equal=("loadings",), missing="fiml")
    compare(res, ref)


def test_fiml_mlr_multigroup(model):
    ref = load("hs_mg_fiml_mlr_metric")
    res = fit(
        model, data("hs1939_missing.csv"), group="school", group_equal=("loadings",), missing="fiml", estimator="MLR"
    )
    compare(res, ref)


def test_std_lv_multigroup_frees_group2_variances(hs, model):
    ref = load("hs_mg_stdlv_metric")
    res = fit(model, hs, group="school", group_equal=("loadings",), std_lv=True)
    compare(res, ref)
    P = res.parameters
    v = P[(P.op == "~~") & (P.lhs == P.rhs) & P.lhs.isin(["visual", "textual", "speed"])]
    assert not v[v.group == "Pasteur"]["free"].any() and v[v.group == "Grant-White"]["free"].all()


def test_multigroup_modindices(hs, model):
    ref = load("hs_mg_modindices")
    res = fit(model, hs, group="school")
    mi = res.modindices()
    assert len(mi) == len(ref["mi"])
    labels = load("hs_mg_ml_configural")["group_labels"]
    want = {
        (a, o, b, labels[int(g) - 1]): (x, e)
        for a, o, b, g, x, e in zip(ref["lhs"], ref["op"], ref["rhs"], ref["group"], ref["mi"], ref["epc"])
    }
    for _, r in mi.iterrows():
        x, e = want[(r.lhs, r.op, r.rhs, r.group)]
        assert abs(r.mi - x) < 1e-3 * max(1, x) and abs(r.epc - e) < 1e-4


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_measurement_invariance_table(hs, model, est):
    lrt = load(f"hs_mg_{est.lower()}_lrt")
    inv = measurement_invariance(model, hs, "school", estimator=est)
    t = inv.table.set_index("step")
    assert list(t.index) == ["configural", "metric", "scalar", "strict"]
    for step in ["metric", "scalar", "strict"]:
        ref = lrt[step]
        assert t.loc[step, "delta_df"] == ref["df_diff"]
        assert abs(t.loc[step, "delta_chi2"] - ref["chisq_diff"]) < 1e-4 * max(1, ref["chisq_diff"])
        assert abs(t.loc[step, "delta_p"] - ref["p"]) < 1e-4
    fits = {s: load(f"hs_mg_{est.lower()}_{s}")["fit"] for s in STEPS}
    key = "cfi.robust" if est == "MLR" else "cfi"
    dcfi = fits["scalar"][key] - fits["metric"][key]
    assert abs(t.loc["scalar", "delta_cfi"] - dcfi) < 1e-4
    assert t.loc["metric", "verdict"].startswith("holds")
    assert t.loc["scalar", "verdict"].startswith("rejected")  # delta CFI about -.038
    strict_cut = measurement_invariance(
        model,
        hs,
        "school",
        estimator=est,
        steps=("configural", "metric"),
        cutoffs={"delta_cfi_min": 0.0, "delta_rmsea_max": 0.0},
    )
    assert strict_cut.table.set_index("step").loc["metric", "verdict"].startswith("rejected")


def test_refuses_group_smaller_than_its_parameters(hs, model):
    d = hs.copy()
    d.loc[d.index[:20], "school"] = "Tiny"
    with pytest.raises(AnalysisError, match="group school='Tiny' has 20 cases but 30 free parameters"):
        fit(model, d, group="school")


def test_refuses_item_constant_within_a_group(hs, model):
    d = hs.copy()
    d.loc[d.school == "Grant-White", "x4"] = 2.0
    with pytest.raises(AnalysisError, match="group school='Grant-White'.*x4.*zero variance"):
        fit(model, d, group="school")


def test_group_equal_needs_group(hs, model):
    with pytest.raises(AnalysisError, match="group"):
        fit(model, hs, group_equal=("loadings",))
    with pytest.raises(AnalysisError, match="unknown kind"):
        fit(model, hs, group="school", group_equal=("loadingz",))
