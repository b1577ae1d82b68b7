"""crfm.stats.sem, complete-data ML against lavaan 0.6-14 (tests/reference/lavaan/*.json).

Required tolerances (tests/_sem_ref.py): estimates 1e-4, SEs 1e-3, chi2 relative 1e-4, fit indices 1e-4.
Measured when written: estimates <= 5e-5 (PoliticalDemocracy with equality labels, where lavaan's own
stop leaves |gradient| ~3e-6; HS1939 6e-7), SEs <= 6e-6, chi2 relative <= 2e-10, fit indices <= 3e-7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _sem_ref import compare, compare_r2, data, load
from crfm.errors import AnalysisError
from crfm.stats.sem import Model, fit
from crfm.stats.sem.partable import build_partable
from crfm.stats.sem.syntax import parse_syntax


@pytest.fixture(scope="module")
def hs():
    return data("hs1939.csv")


@pytest.fixture(scope="module")
def poldem():
    return data("political_democracy.csv")


@pytest.mark.parametrize("case,kw", [("hs_ml", {}), ("hs_ml_stdlv", {"std_lv": True})])
def test_hs1939_cfa(hs, case, kw):
    ref = load(case)
    res = fit(Model.from_syntax(ref["model"]), hs, **kw)
    compare(res, ref)
    compare_r2(res, ref)
    assert res.n == 301 and res.proper and not res.warnings


def test_hs1939_aims_at_1e6(hs):
    """The project's bar for the anchor case (not only the required 1e-4)."""
    ref = load("hs_ml")
    res = fit(Model.from_syntax(ref["model"]), hs)
    compare(res, ref, est_tol=1e-6, se_tol=1e-6, fit_tol=1e-7, chi2_rel=1e-8)


@pytest.mark.parametrize("case", ["poldem_ml", "poldem_labels"])
def test_political_democracy(poldem, case):
    ref = load(case)
    res = fit(Model.from_syntax(ref["model"]), poldem)
    compare(res, ref)
    compare_r2(res, ref)
    if case == "poldem_ml":
        assert res.fit["df"] == 35 and abs(res.fit["chi2"] - 38.125) < 1e-3


@pytest.mark.parametrize("case", ["hs_fixedx", "hs_fixedx2"])
def test_observed_covariates_fixed_x(hs, case):
    """ageyr/sex are fixed.x: their moments are not counted in df, no covariance with exogenous latents."""
    ref = load(case)
    res = fit(Model.from_syntax(ref["model"]), hs)
    compare(res, ref)
    compare_r2(res, ref)
    P = res.parameters
    exo = P[P["exo"]]
    assert set(exo["lhs"]) <= {"ageyr", "sex"} and not exo["free"].any()
    assert np.isclose(exo.loc[(exo.lhs == "ageyr") & (exo.rhs == "ageyr"), "est"].iloc[0], hs["ageyr"].var(ddof=0))


def test_latents_correlated_with_observed_covariates_by_explicit_covariances(hs):
    """The form Study 3's SEM uses: lavaan leaves exogenous latents uncorrelated with observed
    covariates unless the syntax states `f ~~ x`; with the statement both agree (chi2 207.19, df 37)."""
    ref = load("hs_latent_x_cov")
    res = fit(Model.from_syntax(ref["model"]), hs)
    compare(res, ref)
    assert res.fit["df"] == 37 and res.fit["npar"] == 29


def test_second_order(hs):
    ref = load("hs_second_order")
    res = fit(Model.from_syntax(ref["model"]), hs)
    compare(res, ref)
    compare_r2(res, ref)


def test_parser_and_defaults():
    st = parse_syntax("""
        # comment
        f =~ a + 1*b +
             NA*c + lab*d   ! other comment
        g =~ e + f2 + h; f ~~ g
        y ~ f + x1
        a ~ 1
    """)
    assert [(s.lhs, s.op, s.rhs) for s in st][:4] == [
        ("f", "=~", "a"),
        ("f", "=~", "b"),
        ("f", "=~", "c"),
        ("f", "=~", "d"),
    ]
    assert st[1].fixed == 1.0 and st[2].free and st[3].label == "lab"
    assert st[-1].op == "~1"
    pt = build_partable(st)
    assert pt.roles.ov_x == ("x1",)
    with pytest.raises(AnalysisError, match="not supported"):
        parse_syntax("f =~ a + b\na == b")


def test_shared_label_is_one_parameter(poldem):
    ref = load("poldem_labels")
    res = fit(Model.from_syntax(ref["model"]), poldem)
    P = res.parameters.set_index(["lhs", "op", "rhs"])
    assert P.loc[("dem60", "=~", "y2"), "est"] == P.loc[("dem65", "=~", "y6"), "est"]
    assert res.fit["npar"] == 28


def test_summary_and_heywood_flag(hs):
    res = fit(Model.from_syntax(load("hs_ml")["model"]), hs)
    text = res.summary()
    assert "chi2 = 85.306" in text and "visual =~ x2" in text
    # a Heywood case: one factor's third indicator is a near copy of the second
    rng = np.random.default_rng(1)
    d = hs.copy()
    d["x3"] = d["x2"] + rng.normal(0, 0.01, len(d))
    d["x1"] = rng.normal(size=len(d))
    r = fit(Model.from_syntax("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"), d)
    assert not r.proper and r.improper_cases and any("Heywood" in w for w in r.warnings)


# ---------------------------------------------------------------- refusals


def test_refuses_zero_variance_item(hs):
    d = hs.copy()
    d["x5"] = 3.0
    with pytest.raises(AnalysisError, match="x5.*zero variance"):
        fit(Model.from_syntax(load("hs_ml")["model"]), d)


def test_refuses_non_pd_sample_covariance(hs):
    d = hs.copy()
    d["x9"] = d["x7"] + d["x8"]
    with pytest.raises(
        AnalysisError, match="not positive definite.*x9.*linearly dependent|not positive definite.*linearly dependent"
    ):
        fit(Model.from_syntax(load("hs_ml")["model"]), d)


def test_refuses_negative_df(hs):
    with pytest.raises(AnalysisError, match="not identified.*df = -"):
        fit(Model.from_syntax("f =~ x1 + x2\nx1 ~~ x2"), hs)


def test_refuses_fewer_cases_than_parameters(hs):
    with pytest.raises(AnalysisError, match="cases for 21 free parameters"):
        fit(Model.from_syntax(load("hs_ml")["model"]), hs.head(15))


def test_refuses_missing_column(hs):
    with pytest.raises(AnalysisError, match="x10"):
        fit(Model.from_syntax("f =~ x1 + x2 + x10"), hs)


def test_unidentified_model_is_not_silent(hs):
    """Two free loadings and a free factor variance on a 2-indicator factor: df >= 0 overall but the
    information is singular; the result must say so."""
    r = fit(Model.from_syntax("f =~ NA*x1 + x2\ng =~ x4 + x5 + x6"), hs)
    assert r.warnings and any("identified" in w or "converge" in w for w in r.warnings)


def test_auto_cov_y_two_dependent_latents(hs):
    """sem() frees the residual covariance of two dependent latents (auto.cov.y)."""
    ref = load("hs_two_outcomes")
    res = fit(Model.from_syntax(ref["model"]), hs)
    compare(res, ref)
    P = res.parameters
    assert ((P.lhs == "textual") & (P.op == "~~") & (P.rhs == "speed") & P.free).any()


def test_latent_correlations_equal_lavaans_cor_lv_in_a_second_order_model():
    import json

    from conftest import ROOT
    from crfm.stats.sem import Model, fit

    ref = json.loads((ROOT / "tests/reference/lavaan/hs_second_order.json").read_text())
    hs = pd.read_csv(ROOT / "tests/data/hs1939.csv")
    res = fit(Model.from_syntax(ref["model"]), hs)
    R, se = res.latent_correlations()
    names = ref["cor_lv"]["names"]
    want = np.array(ref["cor_lv"]["values"]).reshape(len(names), len(names), order="F")
    assert np.allclose(R.loc[names, names].to_numpy(), want, atol=1e-6)
    assert se is not None and (se.loc["visual", "textual"] > 0) and se.loc["visual", "visual"] < 1e-8
