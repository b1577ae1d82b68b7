"""Shared helpers of the tests/test_sem_*.py files: load a lavaan reference and compare a fit with it.

Tolerances (REQUIRED by the project brief; the engine reaches ~1e-6 on most cases, see the
per-case numbers in the tests' docstrings and the engine's report):
  estimates and standardized estimates: absolute 1e-4;  standard errors: absolute 1e-3;
  chi-square statistics: relative 1e-4;  fit indices: absolute 1e-4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests/reference/lavaan"
DATA = ROOT / "tests/data"

REQUIRED_EST = 1e-4
REQUIRED_SE = 1e-3
REQUIRED_CHI2_REL = 1e-4
REQUIRED_FIT = 1e-4

# our fit key -> lavaan fitMeasures name
FIT_NAMES = {
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "rmsea_ci_lower": "rmsea.ci.lower",
    "rmsea_ci_upper": "rmsea.ci.upper",
    "rmsea_pclose": "rmsea.pvalue",
    "srmr": "srmr",
    "cfi_scaled": "cfi.scaled",
    "tli_scaled": "tli.scaled",
    "rmsea_scaled": "rmsea.scaled",
    "cfi_robust": "cfi.robust",
    "tli_robust": "tli.robust",
    "rmsea_robust": "rmsea.robust",
    "rmsea_ci_lower_robust": "rmsea.ci.lower.robust",
    "rmsea_ci_upper_robust": "rmsea.ci.upper.robust",
    "scaling_factor": "chisq.scaling.factor",
    "p": "pvalue",
}
CHI2_NAMES = {
    "chi2": "chisq",
    "baseline_chi2": "baseline.chisq",
    "chi2_scaled": "chisq.scaled",
    "baseline_chi2_scaled": "baseline.chisq.scaled",
    "loglik": "logl",
    "loglik_unrestricted": "unrestricted.logl",
    "aic": "aic",
    "bic": "bic",
}
EXACT_NAMES = {"df": "df", "baseline_df": "baseline.df", "npar": "npar"}


def load(case: str) -> dict:
    return json.loads((REF / f"{case}.json").read_text())


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


def merged_params(res, ref) -> pd.DataFrame:
    rp = pd.DataFrame(ref["params"])
    labels = ref["group_labels"] if ref["ngroups"] > 1 else None
    rp["group"] = [labels[int(g) - 1] if labels else 1 for g in rp["group"]]
    rp["rhs"] = rp["rhs"].fillna("")
    P = res.parameters
    key = lambda df: df["lhs"] + " " + df["op"] + " " + df["rhs"] + " @" + df["group"].astype(str)  # noqa: E731
    rp = rp.assign(key=key(rp))
    P = P.assign(key=key(P))
    m = rp.merge(P, on="key", how="outer", suffixes=("_ref", ""), indicator=True)
    unmatched = m[m["_merge"] != "both"]["key"].tolist()
    assert not unmatched, f"parameter rows differ from lavaan's: {unmatched}"
    return m


def max_diff(m, col) -> float:
    a = m[f"{col}_ref"].astype(float).to_numpy()
    b = m[col].astype(float).to_numpy()
    ok = np.isfinite(a) & np.isfinite(b)
    assert np.array_equal(np.isfinite(a), np.isfinite(b)) or col == "std_all_se", f"{col}: NA pattern differs"
    return float(np.max(np.abs(a[ok] - b[ok]))) if ok.any() else 0.0


def compare(
    res, ref, *, est_tol=REQUIRED_EST, se_tol=REQUIRED_SE, fit_tol=REQUIRED_FIT, chi2_rel=REQUIRED_CHI2_REL, skip_fit=()
) -> dict:
    """Assert the fit agrees with the lavaan reference; return the max differences found."""
    assert res.converged and ref["converged"]
    m = merged_params(res, ref)
    out = {}
    for col, tol in (
        ("est", est_tol),
        ("std_lv", est_tol),
        ("std_all", est_tol),
        ("se", se_tol),
        ("std_all_se", se_tol),
    ):
        out[col] = d = max_diff(m, col)
        assert d < tol, f"{col}: max |difference| {d:.3g} >= {tol}"
    fm = ref["fit"]
    for ours, theirs in EXACT_NAMES.items():
        assert res.fit[ours] == fm[theirs], f"{ours}: {res.fit[ours]} != lavaan {fm[theirs]}"
    for ours, theirs in CHI2_NAMES.items():
        if theirs in fm and fm[theirs] is not None and ours not in skip_fit:
            rel = abs(res.fit[ours] - fm[theirs]) / max(abs(fm[theirs]), 1.0)
            out[ours] = rel
            assert rel < chi2_rel, f"{ours}: relative difference {rel:.3g} (ours {res.fit[ours]}, lavaan {fm[theirs]})"
    for ours, theirs in FIT_NAMES.items():
        if theirs in fm and fm[theirs] is not None and ours not in skip_fit:
            assert ours in res.fit, f"fit measure {ours} missing (lavaan reports {theirs})"
            d = abs(res.fit[ours] - fm[theirs])
            out[ours] = d
            assert d < fit_tol, f"{ours}: |difference| {d:.3g} (ours {res.fit[ours]}, lavaan {fm[theirs]})"
    return out


def compare_r2(res, ref, tol=REQUIRED_EST):
    labels = ref["group_labels"] if ref["ngroups"] > 1 else [1]
    blocks = [ref["r2"][g] for g in labels] if isinstance(ref["r2"], dict) else ref["r2"]
    for g, block in zip(labels, blocks):
        ours = res.r_squared[res.r_squared["group"] == g].set_index("variable")["r2"]
        assert sorted(ours.index) == sorted(block["names"]), f"R2 variables differ in group {g}"
        for name, val in zip(block["names"], block["values"]):
            assert abs(ours[name] - val) < tol, f"R2 {name}: {ours[name]} vs lavaan {val}"
