"""Nested-model chi-square differences and the measurement-invariance sequence.

``chi_square_difference(restricted, full)`` (lavaan ``lavTestLRT``):

* ML: delta chi2 = chi2_r - chi2_f on delta df = df_r - df_f, p from the chi-square upper tail.
* MLR: the Satorra-Bentler (2001) scaled difference (``lav_test_diff_SatorraBentler2001``,
  ``method = "satorra.bentler.2001"``): with the unscaled chi2 T and the Yuan-Bentler scaling factors
  c of the two fits, c_d = (df_r c_r - df_f c_f) / (df_r - df_f), delta = (T_r - T_f) / c_d. A negative
  c_d (possible in small samples) is reported in ``warning`` and the p value is NaN.

``measurement_invariance(model, data, group, ...)`` fits configural (no constraints), metric
(loadings), scalar (+ intercepts; lavaan frees the latent means of groups 2..G) and strict
(+ residuals) models, each against the previous step, with ``partial`` (lavaan group.partial,
"lhs op rhs") released in every step. The verdict of a step compares delta CFI and delta RMSEA with
the cut-offs passed in (default: Chen 2007, delta CFI >= -.010 together with delta RMSEA <= .015 for
every step); under MLR the robust CFI/RMSEA are used (cfi.robust/rmsea.robust) and the chi-square
difference is the Satorra-Bentler 2001 one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crfm.errors import AnalysisError

from .engine import fit

__all__ = [
    "ChiSquareDifferenceResult",
    "InvarianceResult",
    "chi_square_difference",
    "measurement_invariance",
    "CHEN_2007",
]

CHEN_2007 = {"delta_cfi_min": -0.010, "delta_rmsea_max": 0.015}
STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


@dataclass(frozen=True)
class ChiSquareDifferenceResult:
    delta_chi2: float
    delta_df: int
    p: float
    method: str  # "lrt" or "satorra.bentler.2001"
    scaling_factor: float | None = None  # c_d of the scaled difference
    warning: str | None = None


def chi_square_difference(restricted, full) -> ChiSquareDifferenceResult:
    """LRT of ``restricted`` (more df) against ``full``; Satorra-Bentler 2001 scaled under MLR."""
    fr, ff = restricted.fit, full.fit
    if restricted.estimator != full.estimator:
        raise AnalysisError("chi_square_difference: the two fits use different estimators")
    if restricted.n != full.n:
        raise AnalysisError(
            f"chi_square_difference: the fits use different numbers of cases ({restricted.n} vs {full.n})"
        )
    ddf = int(fr["df"] - ff["df"])
    if ddf <= 0:
        raise AnalysisError(f"chi_square_difference: the restricted model must have more df ({fr['df']} vs {ff['df']})")
    T = fr["chi2"] - ff["chi2"]
    if restricted.estimator != "MLR":
        return ChiSquareDifferenceResult(T, ddf, float(special.chdtrc(ddf, T)), "lrt")
    cr, cf = fr["scaling_factor"], ff["scaling_factor"]
    cd = (fr["df"] * cr - ff["df"] * cf) / ddf
    warning = None
    if not np.isfinite(cd) or cd <= 0:
        warning = (
            f"the Satorra-Bentler scaling factor of the difference is not positive (c_d = {cd:.4g}); "
            "the scaled difference test cannot be computed"
        )
        return ChiSquareDifferenceResult(np.nan, ddf, np.nan, "satorra.bentler.2001", cd, warning)
    Td = T / cd
    return ChiSquareDifferenceResult(Td, ddf, float(special.chdtrc(ddf, Td)), "satorra.bentler.2001", cd, warning)


@dataclass(frozen=True)
class InvarianceResult:
    table: pd.DataFrame
    fits: dict
    cutoffs: dict
    estimator: str


def _cut(cutoffs, step):
    if cutoffs is None:
        return CHEN_2007
    if step in cutoffs and isinstance(cutoffs[step], dict):
        return {**CHEN_2007, **cutoffs[step]}
    return {**CHEN_2007, **{k: v for k, v in cutoffs.items() if k in CHEN_2007}}


def measurement_invariance(
    model,
    data: pd.DataFrame,
    group: str,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    partial=(),
    cutoffs=None,
    steps=("configural", "metric", "scalar", "strict"),
    std_lv: bool = False,
) -> InvarianceResult:
    """Configural -> metric -> scalar -> strict, each compared with the previous step (see module doc).

    ``cutoffs``: {"delta_cfi_min": -.01, "delta_rmsea_max": .015} for every step, or per step
    {"metric": {...}, "scalar": {...}}; the defaults are Chen's (2007)."""
    for s in steps:
        if s not in STEPS:
            raise AnalysisError(f"measurement_invariance: unknown step '{s}' (use {', '.join(STEPS)})")
    fits = {}
    rows = []
    robust = estimator == "MLR"
    prev = None
    for s in steps:
        res = fit(
            model,
            data,
            group=group,
            estimator=estimator,
            missing=missing,
            group_equal=STEPS[s],
            group_partial=tuple(partial) if STEPS[s] else (),
            std_lv=std_lv,
        )
        fits[s] = res
        f = res.fit
        cfi_key, rmsea_key = ("cfi_robust", "rmsea_robust") if robust else ("cfi", "rmsea")
        row = {
            "step": s,
            "group_equal": ", ".join(STEPS[s]) or "none",
            "chi2": f["chi2"],
            "df": f["df"],
            "p": f["p"],
            "cfi": f["cfi"],
            "tli": f["tli"],
            "rmsea": f["rmsea"],
            "srmr": f["srmr"],
            "converged": res.converged,
            "proper": res.proper,
        }
        if robust:
            row.update(
                chi2_scaled=f["chi2_scaled"],
                scaling_factor=f["scaling_factor"],
                p_scaled=f["p_scaled"],
                cfi_robust=f["cfi_robust"],
                tli_robust=f["tli_robust"],
                rmsea_robust=f["rmsea_robust"],
            )
        if prev is None:
            row.update(
                delta_chi2=np.nan,
                delta_df=np.nan,
                delta_p=np.nan,
                delta_cfi=np.nan,
                delta_rmsea=np.nan,
                verdict="reference",
            )
        else:
            d = chi_square_difference(res, prev)
            dcfi = f[cfi_key] - prev.fit[cfi_key]
            drmsea = f[rmsea_key] - prev.fit[rmsea_key]
            cut = _cut(cutoffs, s)
            ok = dcfi >= cut["delta_cfi_min"] and drmsea <= cut["delta_rmsea_max"]
            row.update(
                delta_chi2=d.delta_chi2,
                delta_df=d.delta_df,
                delta_p=d.p,
                delta_cfi=dcfi,
                delta_rmsea=drmsea,
                verdict="holds" if ok else "rejected",
            )
        rows.append(row)
        prev = res
    table = pd.DataFrame(rows)
    return InvarianceResult(table=table, fits=fits, cutoffs=dict(cutoffs or CHEN_2007), estimator=estimator)
