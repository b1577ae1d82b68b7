"""Study 3's latent moderated SEM against lavaan 0.6-14, on the data the pipeline builds from the shipped
(synthetic) inputs: tests/reference/lavaan/make_study3_sem.py writes the data and the syntax,
references.R fits them with lavaan (FIML and complete cases). df, chi2, every estimate, SE and fit index
must agree (the df counts neither the fixed.x moments of the controls - the audit found semopy's 372
where lavaan has 362 on the earlier data - nor anything lavaan does not)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from _sem_ref import compare, load
from conftest import ROOT
from crfm.stats.sem import Model, fit

SYNTAX = (ROOT / "tests/reference/lavaan/study3_sem_model.txt").read_text()


@pytest.fixture(scope="module")
def sem_data():
    return pd.read_csv(ROOT / "tests/data/study3_sem_data.csv", comment="#")


@pytest.mark.parametrize("case,missing", [("study3_sem_listwise", "listwise"), ("study3_sem_fiml_decades", "fiml")])
def test_study3_sem_equals_lavaan(sem_data, case, missing):
    data = sem_data.assign(c3_firm_age=sem_data["c3_firm_age"] / 10) if case.endswith("decades") else sem_data
    ref = load(case)
    res = fit(Model.from_syntax(SYNTAX), data, missing=missing)
    compare(res, ref)
    assert res.fit["df"] == ref["fit"]["df"] and res.n == ref["nobs"][0]


def test_study3_sem_fiml_in_years_equals_lavaan_up_to_its_stopping_rule(sem_data):
    """The shipped scale (firm age in years, variance 481): chi2, df, fit and every parameter not
    involving firm_age agree at the required tolerances; lavaan's default stopping rule leaves its
    covariances with firm_age up to 1.2e-3 off the optimum (its gradient there is 2.6e-6, ours < 1e-9;
    with firm age in decades - the case above - the two agree at 1e-4), so those are compared relative to
    their SEs."""
    ref = load("study3_sem_fiml")
    res = fit(Model.from_syntax(SYNTAX), sem_data, missing="fiml")
    assert res.fit["df"] == ref["fit"]["df"] == 356 and res.fit["npar"] == ref["fit"]["npar"]
    assert res.fit["chi2"] == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    for key in ("cfi", "tli", "rmsea", "srmr"):
        assert res.fit[key] == pytest.approx(ref["fit"][key], abs=1e-6), key
    rp = pd.DataFrame(ref["params"]).fillna({"rhs": ""})
    m = res.parameters.merge(rp, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    age = m["lhs"].eq("c3_firm_age") | m["rhs"].eq("c3_firm_age")
    assert (m.loc[~age, "est"] - m.loc[~age, "est_ref"]).abs().max() < 1e-4
    assert ((m.loc[age, "est"] - m.loc[age, "est_ref"]).abs() / m.loc[age, "se_ref"]).max() < 1e-3
    assert (m["se"] - m["se_ref"]).abs().max() < 1e-3


def test_the_pipeline_still_builds_the_reference_data(sem_data, monkeypatch):
    """The reference data are what the pipeline builds from the shipped inputs today (rerun
    make_study3_sem.py and references.R when this fails after an intended change)."""
    spec = importlib.util.spec_from_file_location("make_study3_sem", ROOT / "tests/reference/lavaan/make_study3_sem.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.chdir(ROOT)
    data, syntax = mod.build()
    assert syntax.strip() == SYNTAX.strip()
    assert list(data.columns) == list(sem_data.columns)
    assert np.allclose(data.to_numpy(dtype=float), sem_data.to_numpy(dtype=float), rtol=0, atol=1e-12, equal_nan=True)
