"""Confirmatory factor analysis for scale development: measurement models as views of one SEM fit.

Every CFA is fitted by the project's estimation core :mod:`crfm.stats.sem` (lavaan 0.6 semantics,
checked against lavaan): ML or MLR, complete cases (``missing="listwise"``) or FIML (``"fiml"``, lavaan
``missing = "ml"``). The core returns one parameter table (lavaan's ``parameterEstimates`` +
``standardizedSolution``); this module builds the measurement syntax from {construct: items}, and its
loading, second-order, correlation and residual-variance tables are views of that one table:

* loadings: the ``=~`` rows of first-order factors (est, se, z, p; std_all with its delta-method SE and
  95% Wald CI = std_all +/- 1.96 SE);
* second-order loadings: the ``=~`` rows of a higher-order factor;
* factor correlations: the implied correlations of the first-order factors (lavaan ``cor.lv``: the free
  covariances in a correlated-factors model, through the higher factor in a second-order model), SEs by
  the delta method;
* fit: every lavaan fit measure of the core (chi2, df, p, CFI, TLI, RMSEA with its 90% CI, SRMR,
  logL, AIC, BIC; the scaled chi-square and robust indices under MLR), plus converged / heywood / proper
  flags.

Identification: the first indicator of each factor has its loading fixed at 1 (lavaan's default);
standardized results do not depend on it. Improper solutions are never silent: ``heywood_cases`` names
every negative variance, |standardized loading| >= 1 and |correlation| >= 1, ``warnings`` carries them and
non-convergence; ``cases_per_parameter`` (n / free parameters), ``small_sample`` and ``sample_note()``
let a report flag small samples.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError
from crfm.stats import sem

__all__ = [
    "cfa_syntax",
    "fit_cfa",
    "chi_square_difference",
    "rival_models",
    "CFAResult",
    "RivalModelsResult",
    "FIT_KEYS",
    "ROBUST_KEYS",
]

Z975 = 1.959963984540054
FIT_KEYS = (
    "chi2",
    "df",
    "p",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci_lower",
    "rmsea_ci_upper",
    "srmr",
    "loglik",
    "loglik_unrestricted",
    "aic",
    "bic",
    "npar",
    "n",
    "baseline_chi2",
    "baseline_df",
)
ROBUST_KEYS = (
    "chi2_scaled",
    "scaling_factor",
    "p_scaled",
    "cfi_robust",
    "tli_robust",
    "rmsea_robust",
    "rmsea_ci_lower_robust",
    "rmsea_ci_upper_robust",
)
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# Bentler & Chou (1987): at least five cases per free parameter
MIN_CASES_PER_PARAMETER = 5.0


# --------------------------------------------------------------------------------------------------
# model syntax
# --------------------------------------------------------------------------------------------------


def _check_name(name: str, kind: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise AnalysisError(
            f"cfa: {kind} name {name!r} is not usable in model syntax (letters, digits, '_' or '.', "
            "not starting with a digit); rename it"
        )


def _normalise_structure(constructs, second_order, one_factor, one_factor_name):
    if not constructs:
        raise AnalysisError("cfa: no constructs given")
    seen: dict[str, str] = {}
    first = OrderedDict()
    for c, items in constructs.items():
        _check_name(c, "construct")
        items = list(items)
        for it in items:
            _check_name(it, "item")
            if it in seen:
                raise AnalysisError(f"cfa: item '{it}' is listed under both '{seen[it]}' and '{c}'")
            seen[it] = c
        first[c] = items
    clash = sorted(set(first) & set(seen))
    if clash:
        raise AnalysisError(f"cfa: name(s) {', '.join(clash)} used for both a construct and an item")
    if one_factor:
        if second_order:
            raise AnalysisError("cfa: one_factor=True cannot be combined with second_order")
        _check_name(one_factor_name, "factor")
        if one_factor_name in seen:
            raise AnalysisError(f"cfa: one-factor name '{one_factor_name}' is also an item name")
        items = [it for its in first.values() for it in its]
        if len(items) < 3:
            raise AnalysisError(f"cfa: a one-factor model needs at least 3 items, got {items}")
        return OrderedDict([(one_factor_name, items)]), OrderedDict()
    for c, items in first.items():
        if len(items) < 2:
            raise AnalysisError(f"cfa: construct '{c}' has {len(items)} item(s); a factor needs at least 2 indicators")
        if len(items) == 2 and len(first) == 1:
            raise AnalysisError(f"cfa: construct '{c}' alone with 2 items is not identified")
    higher = OrderedDict()
    if second_order:
        used: dict[str, str] = {}
        for g, subs in second_order.items():
            _check_name(g, "second-order factor")
            if g in first or g in seen:
                raise AnalysisError(f"cfa: second-order factor name '{g}' is already a construct or item")
            subs = list(subs)
            unknown = [s for s in subs if s not in first]
            if unknown:
                raise AnalysisError(f"cfa: second-order factor '{g}' lists unknown construct(s) {', '.join(unknown)}")
            for s in subs:
                if s in used:
                    raise AnalysisError(f"cfa: construct '{s}' is under second-order factors '{used[s]}' and '{g}'")
                used[s] = g
            higher[g] = subs
        if len(higher) == 1 and len(next(iter(higher.values()))) < 3:
            g = next(iter(higher))
            raise AnalysisError(
                f"cfa: second-order factor '{g}' has {len(higher[g])} first-order factor(s); it needs "
                "at least 3 to be identified on its own"
            )
    return first, higher


def cfa_syntax(
    constructs: Mapping[str, Sequence[str]],
    second_order: Mapping[str, Sequence[str]] | None = None,
    one_factor: bool = False,
    one_factor_name: str = "general",
) -> str:
    """lavaan measurement syntax, one ``factor =~ item + item ...`` line per factor.

    ``constructs``: {construct: [items]} (first-order factors, correlated freely). ``second_order``:
    {higher-order factor: [constructs]} adds ``g =~ c1 + c2 + c3``. ``one_factor=True`` loads every
    item on a single factor named ``one_factor_name`` (the common-method / unidimensional rival).
    """
    first, higher = _normalise_structure(constructs, second_order, one_factor, one_factor_name)
    lines = [f"{f} =~ {' + '.join(items)}" for f, items in first.items()]
    lines += [f"{g} =~ {' + '.join(subs)}" for g, subs in higher.items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CFAResult:
    """One fitted CFA: the SEM fit (``sem``) and its measurement views (see the module docstring)."""

    label: str
    syntax: str
    sem: sem.SEMResult
    first: dict
    higher: dict
    notes: tuple = field(default=())

    @property
    def n(self) -> int:
        return int(self.sem.n)

    @property
    def converged(self) -> bool:
        return bool(self.sem.converged)

    @property
    def heywood_cases(self) -> list[str]:
        return list(self.sem.improper_cases)

    @property
    def heywood(self) -> bool:
        return bool(self.sem.improper_cases)

    @property
    def proper(self) -> bool:
        return self.converged and not self.heywood

    @property
    def warnings(self) -> list[str]:
        """Non-convergence and improper solutions (the core's warnings)."""
        return list(self.sem.warnings)

    @property
    def small_sample(self) -> bool:
        """Fewer than ``MIN_CASES_PER_PARAMETER`` cases per free parameter (Bentler & Chou 1987)."""
        return self.cases_per_parameter < MIN_CASES_PER_PARAMETER

    def sample_note(self) -> str:
        q = self.sem.fit["npar"]
        flag = (
            f" (fewer than the {MIN_CASES_PER_PARAMETER:g} Bentler & Chou 1987 recommend)" if self.small_sample else ""
        )
        return (
            f"{self.label}: n = {self.n}, {q} free parameters, {self.cases_per_parameter:.1f} cases per parameter{flag}"
        )

    @property
    def cases_per_parameter(self) -> float:
        return self.n / self.sem.fit["npar"]

    @property
    def fit(self) -> dict:
        f = self.sem.fit
        out = {k: f[k] for k in FIT_KEYS}
        if self.sem.estimator == "MLR":
            out.update({k: f[k] for k in ROBUST_KEYS if k in f})
        out.update(
            estimator=self.sem.estimator,
            missing=self.sem.missing,
            converged=self.converged,
            heywood=self.heywood,
            proper=self.proper,
            cases_per_parameter=self.cases_per_parameter,
        )
        return out

    def fit_table(self) -> pd.DataFrame:
        """The fit measures as a one-row tidy DataFrame (columns: model, then the fit keys)."""
        return pd.DataFrame([{"model": self.label, **self.fit}])

    def _rows(self, op: str, lhs) -> pd.DataFrame:
        P = self.sem.parameters
        return P[(P["op"] == op) & P["lhs"].isin(list(lhs))]

    def _view(self, rows: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                names[0]: rows["lhs"].to_numpy(),
                names[1]: rows["rhs"].to_numpy(),
                "est": rows["est"].to_numpy(),
                "se": np.where(rows["free"], rows["se"], np.nan),
                "z": np.where(rows["free"], rows["z"], np.nan),
                "p": np.where(rows["free"], rows["p"], np.nan),
                "std_all": rows["std_all"].to_numpy(),
                "std_se": rows["std_all_se"].to_numpy(),
                "ci_lower": rows["std_all_ci_lower"].to_numpy(),
                "ci_upper": rows["std_all_ci_upper"].to_numpy(),
            }
        )

    @property
    def loadings(self) -> pd.DataFrame:
        """factor, item, est, se, z, p, std_all, std_se, ci_lower, ci_upper (first-order factors)."""
        return self._view(self._rows("=~", self.first), ("factor", "item"))

    @property
    def second_order_loadings(self) -> pd.DataFrame:
        """factor, subfactor, est, se, z, p, std_all, std_se, ci_lower, ci_upper."""
        return self._view(self._rows("=~", self.higher), ("factor", "subfactor"))

    @property
    def factor_corr_matrix(self) -> pd.DataFrame:
        """Implied correlations of the first-order factors (1 on the diagonal)."""
        R, _ = self.sem.latent_correlations()
        names = list(self.first)
        return R.loc[names, names]

    @property
    def factor_correlations(self) -> pd.DataFrame:
        """factor_a, factor_b, r, se, ci_lower, ci_upper for every pair of first-order factors."""
        R, S = self.sem.latent_correlations()
        names = list(self.first)
        rows = []
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                r = float(R.loc[names[a], names[b]])
                se = float(S.loc[names[a], names[b]]) if S is not None else np.nan
                rows.append(
                    {
                        "factor_a": names[a],
                        "factor_b": names[b],
                        "r": r,
                        "se": se,
                        "ci_lower": r - Z975 * se,
                        "ci_upper": r + Z975 * se,
                    }
                )
        return pd.DataFrame(rows, columns=["factor_a", "factor_b", "r", "se", "ci_lower", "ci_upper"])

    @property
    def residual_variances(self) -> pd.DataFrame:
        """variable, kind ('item' or 'factor disturbance'), est, std_all."""
        P = self.sem.parameters
        items = [i for its in self.first.values() for i in its]
        endo = [s for subs in self.higher.values() for s in subs]
        v = P[(P["op"] == "~~") & (P["lhs"] == P["rhs"]) & P["lhs"].isin(items + endo)]
        return pd.DataFrame(
            {
                "variable": v["lhs"].to_numpy(),
                "kind": np.where(v["lhs"].isin(items), "item", "factor disturbance"),
                "est": v["est"].to_numpy(),
                "std_all": v["std_all"].to_numpy(),
            }
        )

    def std_loadings_by_factor(self) -> dict[str, list[float]]:
        """{factor: [std_all loadings in item order]}, the input of composite_reliability / ave."""
        return {f: g["std_all"].tolist() for f, g in self.loadings.groupby("factor", sort=False)}

    def modindices(self, top: int | None = None) -> pd.DataFrame:
        """lavaan ``modindices()``: lhs, op, rhs, mi, epc, sepc_all, sorted by mi (the ``top`` largest)."""
        mi = self.sem.modindices()
        return mi if top is None else mi.head(top).reset_index(drop=True)

    def summary(self) -> str:
        return f"CFA '{self.label}'\n" + self.sem.summary()


@dataclass(frozen=True)
class RivalModelsResult:
    """table: one row per model (model, fit keys); comparisons: chi-square difference tests (restricted,
    full, delta_chi2, delta_df, p, method, note); fits: {label: CFAResult}."""

    table: pd.DataFrame
    comparisons: pd.DataFrame
    fits: dict


# --------------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------------


def fit_cfa(
    df: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    second_order: Mapping[str, Sequence[str]] | None = None,
    one_factor: bool = False,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    se: bool = True,
    one_factor_name: str = "general",
    label: str | None = None,
) -> CFAResult:
    """Fit a CFA (see the module docstring). ``constructs`` {factor: [items]}; ``second_order``
    {higher factor: [constructs]} or None; ``one_factor=True`` fits all items on one factor. Raises
    AnalysisError for unusable input (unknown or non-numeric items, zero variance, fewer cases than free
    parameters, a singular covariance matrix, a respondent with no observed item under FIML)."""
    first, higher = _normalise_structure(constructs, second_order, one_factor, one_factor_name)
    syntax = cfa_syntax(constructs, second_order, one_factor, one_factor_name)
    if label is None:
        label = "one_factor" if one_factor else ("second_order" if higher else "correlated")
    if not isinstance(df, pd.DataFrame):
        raise AnalysisError(f"cfa: expected a pandas DataFrame, got {type(df).__name__}")
    items = [i for its in first.values() for i in its]
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise AnalysisError(f"cfa: item(s) {', '.join(absent)} not found in the data")
    try:
        res = sem.fit(sem.Model.from_syntax(syntax), df[items], estimator=estimator, missing=missing, se=se)
    except AnalysisError as exc:
        raise AnalysisError(f"cfa ({label}): {exc}") from None
    return CFAResult(label, syntax, res, dict(first), dict(higher))


def chi_square_difference(restricted: CFAResult, full: CFAResult):
    """Likelihood-ratio test of nested CFAs (Satorra-Bentler 2001 scaled difference under MLR):
    :func:`crfm.stats.sem.chi_square_difference` on the two fits."""
    return sem.chi_square_difference(restricted.sem, full.sem)


def rival_models(
    df: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    second_order_name: str | None = "crfm",
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    se: bool = True,
    one_factor_name: str = "general",
) -> RivalModelsResult:
    """Fit the rival measurement models: ``one_factor`` (all items on one factor), ``correlated`` (the
    constructs as correlated first-order factors) and, with ``second_order_name``, ``second_order`` (the
    constructs loading on one higher-order factor; needs >= 3 constructs, and with exactly 3 it is
    statistically equivalent to ``correlated``). Returns the fit table and the chi-square difference
    tests one_factor vs correlated, one_factor vs second_order, second_order vs correlated (equivalent
    models: delta_df = 0, p = NaN and a note)."""
    kw = dict(estimator=estimator, missing=missing, se=se)
    fits = OrderedDict()
    fits["one_factor"] = fit_cfa(df, constructs, one_factor=True, one_factor_name=one_factor_name, **kw)
    fits["correlated"] = fit_cfa(df, constructs, **kw)
    if second_order_name and len(constructs) >= 3:
        fits["second_order"] = fit_cfa(df, constructs, second_order={second_order_name: list(constructs)}, **kw)
    table = pd.concat([f.fit_table() for f in fits.values()], ignore_index=True)
    comps = []
    for a, b in (("one_factor", "correlated"), ("one_factor", "second_order"), ("second_order", "correlated")):
        if a not in fits or b not in fits:
            continue
        fa, fb = fits[a], fits[b]
        ddf = fa.fit["df"] - fb.fit["df"]
        if ddf == 0:
            comps.append(
                {
                    "restricted": a,
                    "full": b,
                    "delta_chi2": fa.fit["chi2"] - fb.fit["chi2"],
                    "delta_df": 0,
                    "p": np.nan,
                    "method": "",
                    "note": "equivalent models (same df): no test",
                }
            )
            continue
        if not (fa.converged and fb.converged):
            comps.append(
                {
                    "restricted": a,
                    "full": b,
                    "delta_chi2": np.nan,
                    "delta_df": ddf,
                    "p": np.nan,
                    "method": "",
                    "note": "a model did not converge: no test",
                }
            )
            continue
        d = chi_square_difference(fa, fb)
        comps.append(
            {
                "restricted": a,
                "full": b,
                "delta_chi2": d.delta_chi2,
                "delta_df": d.delta_df,
                "p": d.p,
                "method": d.method,
                "note": d.warning or "",
            }
        )
    comparisons = pd.DataFrame(comps, columns=["restricted", "full", "delta_chi2", "delta_df", "p", "method", "note"])
    return RivalModelsResult(table=table, comparisons=comparisons, fits=dict(fits))
