"""Hierarchical moderated regression for Study 3 (CRFM -> selling performance, moderated by complexity).

Conventions (the integrator and the report rely on these):

* **Analysis sample.** One sample for every step: listwise deletion over the outcome and every variable
  of every step, so the nested F-change tests compare models fitted to the same cases.
* **Centring.** The focal predictor and the moderator are mean-centred on the analysis sample and
  enter *every* step centred; the interaction ``<focal>_x_<moderator>`` is the product of the two
  centred variables (Aiken & West 1991). The focal coefficient of the final step is therefore the
  simple slope at the moderator's mean. Controls are not centred (this changes only the intercept).
* **Categorical controls.** Non-numeric columns (object, pandas ``str``, ``category``) are dummy-coded
  with the first *sorted* level as the reference; dummies are named ``<var>[T.<level>]``. Booleans are
  treated as numeric 0/1.
* **Standard errors.** OLS with ``cov_type`` (default HC3, MacKinnon & White 1985) and ``use_t=True``:
  t statistics, p values and confidence intervals use the t distribution with the residual df, so the
  coefficient tests, simple slopes and the Johnson-Neyman bounds all use the same reference
  distribution.
* **Standardized beta.** Coefficients of the model refitted on z-scored outcome and z-scored predictors
  (every design column, dummies included, z-scored with ddof=1 on the analysis sample), with the product
  term built as the product of the z-scores, not the z-score of the product (Friedrich 1982; Aiken & West
  1991, ch. 3). The intercept has no beta (NaN).
* **F-change.** The classical nested-model F test on the R-squared change (homoskedastic, not HC3),
  as reported in hierarchical regression tables. The HC3 Wald F test of the added block is reported
  next to it (``wald_*`` columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from crfm.errors import AnalysisError

__all__ = [
    "interaction_name",
    "check_design",
    "check_predictors",
    "build_design",
    "hierarchical_regression",
    "HierarchicalResult",
    "simple_slopes",
    "johnson_neyman",
    "johnson_neyman_from_result",
    "JNResult",
    "jn_curve",
    "product_indicators",
]

INTERCEPT = "Intercept"
_REL_TOL = 1e-9  # collinearity: residual norm / column norm below this = exact linear dependency


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def interaction_name(focal: str, moderator: str) -> str:
    """Name of the product term: ``'<focal>_x_<moderator>'`` (e.g. ``'CRFM_x_COMP'``)."""
    return f"{focal}_x_{moderator}"


def _error(message: str, variables) -> AnalysisError:
    err = AnalysisError(message)
    err.variables = list(variables)
    return err


def _is_categorical(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return True
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _sorted_levels(values) -> list:
    levels = list(pd.unique(pd.Series(values).dropna()))
    try:
        return sorted(levels)
    except TypeError:  # mixed types: sort by their text
        return sorted(levels, key=str)


def _dummy_name(var: str, level) -> str:
    return f"{var}[T.{level}]"


def build_design(df: pd.DataFrame, predictors: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Design matrix (with ``Intercept``) for ``predictors``; categorical columns dummy-coded.

    Returns ``(X, source)`` where ``source`` maps every design column to the variable it came from.
    The first sorted level of a categorical variable is its reference. Rows are taken as given (no
    missing-value handling here).
    """
    cols = {INTERCEPT: np.ones(len(df))}
    source = {INTERCEPT: INTERCEPT}
    for var in predictors:
        s = df[var]
        if _is_categorical(s):
            levels = _sorted_levels(s)
            for level in levels[1:]:
                name = _dummy_name(var, level)
                cols[name] = (s == level).to_numpy(dtype=float)
                source[name] = var
        else:
            cols[var] = s.to_numpy(dtype=float)
            source[var] = var
    return pd.DataFrame(cols, index=df.index), source


def _describe_term(term: str, source: dict[str, str]) -> str:
    if term == INTERCEPT:
        return "the intercept (a constant)"
    var = source.get(term, term)
    if var != term:
        return f"'{var}' (dummy {term})"
    return f"'{term}'"


def _check_columns(df: pd.DataFrame, outcome: str, predictors: list[str]) -> None:
    missing = [v for v in [outcome, *predictors] if v not in df.columns]
    if missing:
        role = {outcome: "outcome"}
        names = ", ".join(f"'{v}'" + (f" ({role[v]})" if v in role else "") for v in missing)
        raise _error(
            f"variable(s) {names} not in the data (columns present: {', '.join(map(str, df.columns))}). "
            "Fix: check the variable names of the regression steps against the analysis data",
            missing,
        )
    dup = sorted({v for v in predictors if predictors.count(v) > 1})
    if dup:
        raise _error(f"predictor(s) {', '.join(map(repr, dup))} listed more than once", dup)
    if outcome in predictors:
        raise _error(f"outcome '{outcome}' is also listed as a predictor", [outcome])


def _nonfinite_check(df: pd.DataFrame, variables: list[str]) -> None:
    for v in variables:
        s = df[v]
        if not _is_categorical(s):
            vals = s.to_numpy(dtype=float)
            bad = np.isinf(vals)
            if bad.any():
                rows = list(df.index[bad][:10])
                raise _error(f"variable '{v}' has infinite values (rows {rows}). Fix: recode them as missing", [v])


# ----------------------------------------------------------------------------------------------------
# design checks
# ----------------------------------------------------------------------------------------------------


def check_design(df: pd.DataFrame, outcome: str, predictors: list[str]) -> dict:
    """Check that OLS of ``outcome`` on ``predictors`` (plus intercept) is estimable; raise otherwise.

    Raises :class:`~crfm.errors.AnalysisError` (with ``.variables`` listing the culprits, also named in
    the message) when

    * the outcome or a predictor/moderator/control column is missing from ``df``;
    * the outcome is not numeric, or a numeric variable has infinite values;
    * there are fewer complete cases than parameters + 1 (no residual df); the message names the
      variables with the most missing values;
    * a variable is constant over the complete cases (a categorical variable with one level included);
    * the design is perfectly collinear; the message names the variables in the exact linear dependency
      (found by adding design columns in order and regressing each on the ones before it).

    Returns ``{'n_complete', 'n_params', 'columns'}`` for a valid design (``columns``: design column
    names, intercept first).
    """
    predictors = list(predictors)
    _check_columns(df, outcome, predictors)
    if _is_categorical(df[outcome]):
        raise _error(
            f"outcome '{outcome}' is not numeric (dtype {df[outcome].dtype}). Fix: use a numeric score",
            [outcome],
        )
    variables = [outcome, *predictors]
    _nonfinite_check(df, variables)

    complete = df[variables].notna().all(axis=1)
    data = df.loc[complete, variables]
    n = int(complete.sum())
    X, source = build_design(data, predictors)
    n_params = X.shape[1]
    if n < n_params + 1:
        n_missing = df[variables].isna().sum().sort_values(ascending=False, kind="stable")
        worst = [v for v, k in n_missing.items() if k > 0][:3]
        detail = "; most missing: " + ", ".join(f"'{v}' ({int(n_missing[v])} missing)" for v in worst) if worst else ""
        raise _error(
            f"only {n} complete case(s) for {n_params} parameters (need at least {n_params + 1}) in the model "
            f"of '{outcome}' on {', '.join(map(repr, predictors))}{detail}. Fix: fewer predictors or more data",
            worst or variables,
        )

    check_predictors(data, variables, X=X, source=source)
    return {"n_complete": n, "n_params": n_params, "columns": list(X.columns)}


def check_predictors(data: pd.DataFrame, variables: list[str], *, X: pd.DataFrame | None = None, source=None) -> None:
    """Raise :class:`~crfm.errors.AnalysisError` (``.variables`` = the culprits) when a variable is
    constant over the rows of ``data`` (complete cases) or the design of ``variables`` (intercept,
    dummies of categorical variables) has an exact linear dependency; the message names the variables
    in the dependency (found by adding design columns in order and regressing each on the ones before).
    Shared by :func:`check_design` and the data contract's check of a study's controls."""
    if X is None:
        X, source = build_design(data, list(variables))
    n = len(data)
    for v in variables:
        s = data[v]
        if s.nunique(dropna=True) < 2:
            value = s.iloc[0] if len(s) else None
            value = value.item() if hasattr(value, "item") else value
            raise _error(
                f"variable '{v}' is constant ({value!r}) over the {n} complete cases. Fix: drop it from the model",
                [v],
            )

    # exact linear dependencies: add columns in order, regress each on the accepted ones
    Xv = X.to_numpy(dtype=float)
    norms = np.linalg.norm(Xv, axis=0)
    accepted: list[int] = []
    for j in range(Xv.shape[1]):
        if accepted:
            A = Xv[:, accepted] / norms[accepted]
            coef, *_ = np.linalg.lstsq(A, Xv[:, j] / norms[j], rcond=None)
            resid = Xv[:, j] / norms[j] - A @ coef
            if np.linalg.norm(resid) < _REL_TOL:
                terms = [(X.columns[k], c * norms[j] / norms[k]) for k, c in zip(accepted, coef) if abs(c) > 1e-7]
                involved_cols = [X.columns[j]] + [t for t, _ in terms]
                involved_vars = list(dict.fromkeys(source[c] for c in involved_cols if c != INTERCEPT))
                eq = " + ".join(f"{c:.6g}*{'1' if t == INTERCEPT else t}" for t, c in terms) or "0"
                raise _error(
                    f"perfect collinearity: {_describe_term(X.columns[j], source)} is an exact linear combination "
                    f"of {', '.join(_describe_term(t, source) for t, _ in terms) or 'nothing (all zero)'}: "
                    f"{X.columns[j]} = {eq}. Variables in the dependency: "
                    f"{', '.join(map(repr, involved_vars))}. Fix: drop one of them",
                    involved_vars,
                )
        accepted.append(j)


# ----------------------------------------------------------------------------------------------------
# hierarchical regression
# ----------------------------------------------------------------------------------------------------


@dataclass
class HierarchicalResult:
    """Output of :func:`hierarchical_regression`.

    Tables (tidy, one row per step x term / per step / per term):

    * ``coefficients``: step, step_label, term, b, se, t, p, ci_lower, ci_upper, beta, cov_type
    * ``summary``: step, step_label, added_terms, n, n_params, r2, adj_r2, delta_r2, f_change, df1, df2,
      p_f_change, wald_f, wald_df1, wald_df2, wald_p, cov_type
    * ``vif``: term, vif (final step, centred design)

    Step 1 is compared with the intercept-only model (its delta_r2 is its R2, its F-change the overall
    F). ``fits`` holds the statsmodels results per step (HC3, use_t=True); ``design`` the final design.
    """

    coefficients: pd.DataFrame
    summary: pd.DataFrame
    vif: pd.DataFrame
    fits: list
    outcome: str
    focal: str | None
    moderator: str | None
    interaction: str | None
    means: dict[str, float]
    sds: dict[str, float]
    n: int
    design: pd.DataFrame  # final-step design (centred focal/moderator, product, dummies, Intercept)
    y: pd.Series
    cov_type: str
    alpha: float
    notes: list[str] = field(default_factory=list)

    @property
    def final_fit(self):
        return self.fits[-1]

    def moderator_points(self) -> dict[str, float]:
        """``{'-1 SD': -sd, 'mean': 0, '+1 SD': sd}`` on the centred moderator scale."""
        if self.moderator is None:
            raise AnalysisError("no moderator in this model")
        sd = self.sds[self.moderator]
        return {"-1 SD": -sd, "mean": 0.0, "+1 SD": sd}


def hierarchical_regression(
    df: pd.DataFrame,
    outcome: str,
    steps: list[tuple[str, list[str]]],
    focal: str | None = None,
    moderator: str | None = None,
    cov_type: str = "HC3",
    alpha: float = 0.05,
    products: dict[str, tuple[str, str]] | None = None,
) -> HierarchicalResult:
    """Fit nested OLS models, one per step, adding each step's terms to the previous model.

    ``steps`` e.g. ``[('controls', ['SIZE', 'IND']), ('+ CRFM', ['CRFM']), ('+ moderator', ['COMP']),
    ('+ interaction', ['CRFM_x_COMP'])]``. The term named ``interaction_name(focal, moderator)`` is
    built here as the product of the mean-centred focal and moderator (any column of that name in
    ``df`` is ignored); ``products`` ({term: (a, b)}) adds more such product terms (e.g. one per CRFM
    dimension with the moderator), their components centred on the analysis sample too and their
    standardized coefficients from the product of the z-scores. Focal and moderator enter every step
    mean-centred (see the module docstring for
    every convention: one listwise-complete sample for all steps, dummy coding with the first sorted
    level as reference, HC3 SEs with t(df_resid) inference, standardized beta from the z-scored refit
    with the product of z-scores (Friedrich 1982), classical nested F-change plus HC3 Wald test of the
    added block, VIFs of the final centred design).
    """
    if not steps:
        raise AnalysisError("no regression steps given")
    labels, seen = [], set()
    for i, step in enumerate(steps):
        try:
            label, terms = step
        except (TypeError, ValueError):
            raise AnalysisError(f"step {i + 1} must be a (label, [terms]) pair, got {step!r}") from None
        if isinstance(terms, str) or not list(terms):
            raise AnalysisError(f"step {i + 1} ('{label}') must list at least one term, got {terms!r}")
        for t in terms:
            if t in seen:
                raise _error(f"term '{t}' appears in more than one step (again in step {i + 1} '{label}')", [t])
            seen.add(t)
        labels.append(str(label))
    all_terms = [t for _, terms in steps for t in terms]
    inter = interaction_name(focal, moderator) if focal is not None and moderator is not None else None
    uses_inter = inter is not None and inter in all_terms
    prods = dict(products or {})
    if uses_inter:
        prods[inter] = (focal, moderator)
    prods = {k: v for k, v in prods.items() if k in all_terms}
    for name, parts in prods.items():
        absent = [v for v in parts if v not in all_terms]
        if absent:
            raise _error(
                f"the interaction '{name}' needs its lower-order term(s) {', '.join(map(repr, absent))} in a step",
                absent,
            )
    raw_vars = [t for t in all_terms if t not in prods]
    _check_columns(df, outcome, raw_vars)
    for v in (focal, moderator):
        if v is not None and v not in raw_vars:
            raise _error(f"'{v}' is named as focal/moderator but is not a term of any step", [v])
        if v is not None and _is_categorical(df[v]):
            raise _error(f"focal/moderator '{v}' must be numeric (dtype {df[v].dtype})", [v])
    _nonfinite_check(df, [outcome, *raw_vars])

    data = df.loc[df[[outcome, *raw_vars]].notna().all(axis=1), [outcome, *raw_vars]].copy()
    means, sds = {}, {}
    centred = list(
        dict.fromkeys([v for v in (focal, moderator) if v is not None] + [v for ab in prods.values() for v in ab])
    )
    for v in centred:
        if _is_categorical(data[v]):
            raise _error(f"'{v}' enters a product term and must be numeric (dtype {data[v].dtype})", [v])
        if len(data):
            x = data[v].to_numpy(dtype=float)
            means[v], sds[v] = float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else float("nan")
            data[v] = x - means[v]
    for name, (a, b) in prods.items():
        data[name] = data[a].to_numpy(dtype=float) * data[b].to_numpy(dtype=float)
    info = check_design(data, outcome, all_terms)
    n = info["n_complete"]

    y = data[outcome].astype(float)
    X_full, source = build_design(data, all_terms)
    _check_leverage(X_full, source, cov_type)
    zX, zy = _zscored_design(X_full, y, prods)

    from statsmodels.regression.linear_model import OLS  # deferred: ~1 s of imports, for the jobs that fit

    coef_rows, summary_rows, fits = [], [], []
    prev_cols: list[str] = [INTERCEPT]
    prev_r2 = 0.0
    tss = float(((y - y.mean()) ** 2).sum())
    for s, (label, terms) in enumerate(steps, start=1):
        added = [c for c in X_full.columns if source[c] in terms]
        cols = prev_cols + added
        X = X_full[cols]
        fit = OLS(y, X).fit(cov_type=cov_type, use_t=True)
        fits.append(fit)
        beta = np.linalg.lstsq(zX[cols].to_numpy(), zy.to_numpy(), rcond=None)[0]
        ci = np.asarray(fit.conf_int(alpha=alpha))
        b_, se_, t_, p_ = (np.asarray(v) for v in (fit.params, fit.bse, fit.tvalues, fit.pvalues))
        for j, term in enumerate(cols):
            coef_rows.append(
                {
                    "step": s,
                    "step_label": label,
                    "term": term,
                    "b": float(b_[j]),
                    "se": float(se_[j]),
                    "t": float(t_[j]),
                    "p": float(p_[j]),
                    "ci_lower": float(ci[j, 0]),
                    "ci_upper": float(ci[j, 1]),
                    "beta": float("nan") if term == INTERCEPT else float(beta[j]),
                    "cov_type": cov_type,
                }
            )
        rss = float((fit.resid**2).sum())
        r2 = 1.0 - rss / tss
        k = len(cols) - 1
        df1, df2 = len(added), n - len(cols)
        delta = r2 - prev_r2
        f_change = (delta / df1) / ((1.0 - r2) / df2) if r2 < 1 else float("inf")
        b_add = fit.params[added].to_numpy()
        V_add = fit.cov_params().loc[added, added].to_numpy()
        wald_f = float(b_add @ np.linalg.solve(V_add, b_add)) / df1
        summary_rows.append(
            {
                "step": s,
                "step_label": label,
                "added_terms": ", ".join(added),
                "n": n,
                "n_params": len(cols),
                "r2": r2,
                "adj_r2": 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1),
                "delta_r2": delta,
                "f_change": f_change,
                "df1": df1,
                "df2": df2,
                "p_f_change": float(special.fdtrc(df1, df2, f_change)),
                "wald_f": wald_f,
                "wald_df1": df1,
                "wald_df2": df2,
                "wald_p": float(special.fdtrc(df1, df2, wald_f)),
                "cov_type": cov_type,
            }
        )
        prev_cols, prev_r2 = cols, r2

    notes = [
        f"One analysis sample for all steps (listwise deletion): n = {n} of {len(df)} rows.",
    ]
    if means:
        notes.append(
            "Mean-centred on the analysis sample: "
            + ", ".join(f"{v} (mean {means[v]:.4g})" for v in means)
            + (f"; the interaction {inter} is the product of the centred variables." if uses_inter else ".")
        )
    notes += [
        f"SEs: {cov_type}; t tests and CIs use t(df_resid).",
        "Standardized beta: coefficients of the refit on z-scored outcome and predictors, "
        "with the product of z-scores as the interaction (Friedrich 1982).",
        "F-change: classical nested-model F test (not robust); wald_*: "
        f"{cov_type} Wald F test of the block added at that step.",
    ]
    cat_vars = [v for v in raw_vars if _is_categorical(df[v])]
    if cat_vars:
        notes.append(
            "Dummy-coded (reference = first sorted level): "
            + ", ".join(f"{v} (ref {_sorted_levels(data[v])[0]!r})" for v in cat_vars)
            + "."
        )
    return HierarchicalResult(
        coefficients=pd.DataFrame(coef_rows),
        summary=pd.DataFrame(summary_rows),
        vif=_vif_table(X_full),
        fits=fits,
        outcome=outcome,
        focal=focal,
        moderator=moderator,
        interaction=inter if uses_inter else None,
        means=means,
        sds=sds,
        n=n,
        design=X_full,
        y=y,
        cov_type=cov_type,
        alpha=alpha,
        notes=notes,
    )


def _check_leverage(X: pd.DataFrame, source: dict[str, str], cov_type: str) -> None:
    if cov_type not in ("HC2", "HC3"):
        return
    Xv = X.to_numpy()
    q, _ = np.linalg.qr(Xv)
    h = (q**2).sum(axis=1)
    bad = h > 1 - 1e-8
    if bad.any():
        rows = list(X.index[bad][:10])
        singles = [
            c
            for c in X.columns
            if c != INTERCEPT
            and set(np.unique(Xv[:, X.columns.get_loc(c)])) <= {0.0, 1.0}
            and (Xv[:, X.columns.get_loc(c)] == 1).sum() == 1
        ]
        names = list(dict.fromkeys(source[c] for c in singles))
        extra = f"; single-case dummy level(s): {', '.join(singles)}" if singles else ""
        raise _error(
            f"row(s) {rows} have leverage 1, so {cov_type} standard errors are undefined{extra}. "
            "Fix: merge rare category levels or drop those cases",
            names or [str(r) for r in rows],
        )


def _zscored_design(
    X: pd.DataFrame, y: pd.Series, products: dict[str, tuple[str, str]]
) -> tuple[pd.DataFrame, pd.Series]:
    """z-score every design column (not the intercept); each product term = z(a) * z(b)."""
    Z = X.copy()
    for c in X.columns:
        if c == INTERCEPT or c in products:
            continue
        x = X[c].to_numpy(dtype=float)
        Z[c] = (x - x.mean()) / x.std(ddof=1)
    for name, (a, b) in products.items():
        Z[name] = Z[a].to_numpy() * Z[b].to_numpy()
    yv = y.to_numpy(dtype=float)
    return Z, pd.Series((yv - yv.mean()) / yv.std(ddof=1), index=y.index, name=y.name)


def _vif_table(X: pd.DataFrame) -> pd.DataFrame:
    rows = []
    Xv = X.to_numpy(dtype=float)
    for j, c in enumerate(X.columns):
        if c == INTERCEPT:
            continue
        others = np.delete(Xv, j, axis=1)
        coef, *_ = np.linalg.lstsq(others, Xv[:, j], rcond=None)
        resid = Xv[:, j] - others @ coef
        tss = ((Xv[:, j] - Xv[:, j].mean()) ** 2).sum()
        r2 = 1.0 - (resid @ resid) / tss
        rows.append({"term": c, "vif": float(1.0 / (1.0 - r2)) if r2 < 1 else float("inf")})
    return pd.DataFrame(rows, columns=["term", "vif"])


# ----------------------------------------------------------------------------------------------------
# probing the interaction
# ----------------------------------------------------------------------------------------------------


def _fit_parts(fit_result, focal: str, moderator: str, interaction: str | None):
    fit = fit_result.final_fit if isinstance(fit_result, HierarchicalResult) else fit_result
    inter = interaction or interaction_name(focal, moderator)
    for term in (focal, inter):
        if term not in fit.params.index:
            raise _error(f"term '{term}' is not in the fitted model ({', '.join(fit.params.index)})", [term])
    V = fit.cov_params()
    return fit, inter, V


def simple_slopes(
    fit_result,
    focal: str,
    moderator_centered: str,
    at: dict[str, float] | None = None,
    interaction: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Conditional effect of ``focal`` at moderator values ``at`` (label -> value on the centred scale).

    ``fit_result``: a :class:`HierarchicalResult` (its final step is used) or a statsmodels OLS result
    whose params include ``focal`` and the product term (``interaction``, default
    ``'<focal>_x_<moderator_centered>'``). ``moderator_centered`` is the moderator's term name in that
    model, in which the moderator is mean-centred, so ``at`` values are deviations from its mean;
    default (HierarchicalResult only): mean and +/-1 SD. slope = b1 + b3*m;
    SE^2 = V11 + 2m V13 + m^2 V33 from the model's (HC3) covariance; t tests/CIs with t(df_resid) when
    the fit uses t, else the normal.

    Returns columns: at, moderator_value, moderator_raw (value + mean; NaN for a bare statsmodels fit),
    slope, se, t, df, p, ci_lower, ci_upper.
    """
    fit, inter, V = _fit_parts(fit_result, focal, moderator_centered, interaction)
    mean = float("nan")
    if isinstance(fit_result, HierarchicalResult):
        mean = fit_result.means.get(moderator_centered, float("nan"))
        if at is None:
            at = fit_result.moderator_points()
    if at is None:
        raise AnalysisError("give the moderator values 'at' (label -> value on the centred scale)")
    b1, b3 = float(fit.params[focal]), float(fit.params[inter])
    v11, v33, v13 = float(V.loc[focal, focal]), float(V.loc[inter, inter]), float(V.loc[focal, inter])
    use_t = bool(getattr(fit, "use_t", True))
    df_resid = float(fit.df_resid)
    crit = special.stdtrit(df_resid, 1 - alpha / 2) if use_t else special.ndtri(1 - alpha / 2)
    rows = []
    for label, m in at.items():
        m = float(m)
        slope = b1 + b3 * m
        se = float(np.sqrt(v11 + 2 * m * v13 + m * m * v33))
        t = slope / se
        p = 2 * (special.stdtr(df_resid, -abs(t)) if use_t else special.ndtr(-abs(t)))
        rows.append(
            {
                "at": str(label),
                "moderator_value": m,
                "moderator_raw": m + mean,
                "slope": slope,
                "se": se,
                "t": t,
                "df": df_resid if use_t else float("inf"),
                "p": float(p),
                "ci_lower": slope - crit * se,
                "ci_upper": slope + crit * se,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class JNResult:
    """Johnson-Neyman result (moderator values on the scale of the inputs, usually mean-centred).

    ``region``: where the conditional effect is significant -- 'outside' (below the lower and above the
    upper bound), 'inside' (between the bounds), 'above' / 'below' (the single bound), 'everywhere' or
    'nowhere'. ``regions``: the significant intervals as (lo, hi, sign of the effect) with +/-inf ends.
    ('everywhere' needs b3 = 0 with no sampling variance: when b3 != 0 the effect crosses zero somewhere,
    so some region is non-significant.)
    """

    bounds: tuple[float, ...]
    region: str
    regions: list[tuple[float, float, str]]
    t_crit: float
    alpha: float
    df_resid: float
    mod_range: tuple[float, float] | None
    bounds_in_range: tuple[bool, ...]
    share_of_range_significant: float
    center: float = 0.0

    def bounds_table(self) -> pd.DataFrame:
        """Columns: bound (1-based), value, value_raw (value + center), in_observed_range, t_crit, alpha."""
        return pd.DataFrame(
            [
                {
                    "bound": i + 1,
                    "value": b,
                    "value_raw": b + self.center,
                    "in_observed_range": self.bounds_in_range[i],
                    "t_crit": self.t_crit,
                    "alpha": self.alpha,
                }
                for i, b in enumerate(self.bounds)
            ],
            columns=["bound", "value", "value_raw", "in_observed_range", "t_crit", "alpha"],
        )

    def regions_table(self) -> pd.DataFrame:
        """One row per significant region: lower, upper, effect_sign, observed_lower, observed_upper (clipped to the
        observed range; NaN when the region lies outside it) and the same on the raw scale (``*_raw``)."""
        rows = []
        for lo, hi, sign in self.regions:
            olo = ohi = float("nan")
            if self.mod_range is not None:
                a, b = max(lo, self.mod_range[0]), min(hi, self.mod_range[1])
                if a < b:
                    olo, ohi = a, b
            rows.append(
                {
                    "region": self.region,
                    "lower": lo,
                    "upper": hi,
                    "effect_sign": sign,
                    "observed_lower": olo,
                    "observed_upper": ohi,
                    "lower_raw": lo + self.center,
                    "upper_raw": hi + self.center,
                    "observed_lower_raw": olo + self.center,
                    "observed_upper_raw": ohi + self.center,
                }
            )
        cols = [
            "region",
            "lower",
            "upper",
            "effect_sign",
            "observed_lower",
            "observed_upper",
            "lower_raw",
            "upper_raw",
            "observed_lower_raw",
            "observed_upper_raw",
        ]
        return pd.DataFrame(rows, columns=cols)


def johnson_neyman(
    b1: float,
    b3: float,
    var_b1: float,
    var_b3: float,
    cov_b13: float,
    df_resid: float,
    alpha: float = 0.05,
    mod_range: tuple[float, float] | None = None,
    center: float = 0.0,
) -> JNResult:
    """Johnson-Neyman bounds in closed form.

    The conditional effect is theta(m) = b1 + b3*m with var(m) = var_b1 + 2m cov_b13 + m^2 var_b3.
    |theta(m)/se(m)| = t_crit  (t_crit = t_{1-alpha/2}(df_resid)) is the quadratic
    (b3^2 - t^2 var_b3) m^2 + 2(b1 b3 - t^2 cov_b13) m + (b1^2 - t^2 var_b1) = 0, whose real roots are
    the bounds; the effect is significant where the left side is > 0. ``mod_range`` (observed min, max
    of the moderator on the same scale) is used to say whether the bounds fall inside the data and which
    share of the observed range has a significant effect. ``center`` is only added to the ``*_raw``
    values of the tables (pass the moderator mean when the inputs are on the centred scale).
    """
    t = float(special.stdtrit(df_resid, 1 - alpha / 2))
    t2 = t * t
    qa = b3 * b3 - t2 * var_b3
    qb = 2.0 * (b1 * b3 - t2 * cov_b13)
    qc = b1 * b1 - t2 * var_b1
    scale = max(b3 * b3 + t2 * var_b3, np.finfo(float).tiny)
    bounds: tuple[float, ...]
    if abs(qa) <= 1e-12 * scale:  # linear
        if abs(qb) <= 1e-12 * max(abs(b1 * b3) + t2 * abs(cov_b13), np.finfo(float).tiny):
            bounds, region = (), ("everywhere" if qc > 0 else "nowhere")
        else:
            r = -qc / qb
            bounds, region = (r,), ("above" if qb > 0 else "below")
    else:
        disc = qb * qb - 4 * qa * qc
        if disc <= 0:
            bounds, region = (), ("everywhere" if qa > 0 else "nowhere")
        else:
            q = -0.5 * (qb + np.copysign(np.sqrt(disc), qb if qb != 0 else 1.0))
            r1, r2 = sorted([q / qa, qc / q])
            bounds, region = (float(r1), float(r2)), ("outside" if qa > 0 else "inside")
    inf = float("inf")
    intervals = {
        "everywhere": [(-inf, inf)],
        "nowhere": [],
        "above": [(bounds[0], inf)] if region == "above" else [],
        "below": [(-inf, bounds[0])] if region == "below" else [],
        "outside": [(-inf, bounds[0]), (bounds[1], inf)] if region == "outside" else [],
        "inside": [(bounds[0], bounds[1])] if region == "inside" else [],
    }[region]
    regions = []
    for lo, hi in intervals:
        if np.isfinite(lo) and np.isfinite(hi):
            m = 0.5 * (lo + hi)
        elif np.isfinite(lo):
            m = lo + max(1.0, abs(lo))
        elif np.isfinite(hi):
            m = hi - max(1.0, abs(hi))
        else:
            m = 0.0
        regions.append((float(lo), float(hi), "positive" if b1 + b3 * m > 0 else "negative"))
    in_range: tuple[bool, ...] = tuple(False for _ in bounds)
    share = float("nan")
    if mod_range is not None:
        lo_r, hi_r = float(mod_range[0]), float(mod_range[1])
        if not lo_r < hi_r:
            raise AnalysisError(f"mod_range must be (lo, hi) with lo < hi, got {mod_range!r}")
        in_range = tuple(bool(lo_r <= b <= hi_r) for b in bounds)
        covered = sum(max(0.0, min(hi, hi_r) - max(lo, lo_r)) for lo, hi, _ in regions)
        share = covered / (hi_r - lo_r)
        mod_range = (lo_r, hi_r)
    return JNResult(
        bounds=tuple(float(b) for b in bounds),
        region=region,
        regions=regions,
        t_crit=t,
        alpha=alpha,
        df_resid=float(df_resid),
        mod_range=mod_range,
        bounds_in_range=in_range,
        share_of_range_significant=share,
        center=float(center),
    )


def _jn_inputs(result: HierarchicalResult):
    if result.interaction is None:
        raise AnalysisError("the model has no interaction term; Johnson-Neyman needs one")
    fit = result.final_fit
    V = fit.cov_params()
    f, i = result.focal, result.interaction
    m = result.design[result.moderator].to_numpy()
    return (
        dict(
            b1=float(fit.params[f]),
            b3=float(fit.params[i]),
            var_b1=float(V.loc[f, f]),
            var_b3=float(V.loc[i, i]),
            cov_b13=float(V.loc[f, i]),
            df_resid=float(fit.df_resid),
        ),
        (float(m.min()), float(m.max())),
        result.means[result.moderator],
    )


def johnson_neyman_from_result(result: HierarchicalResult, alpha: float = 0.05) -> JNResult:
    """:func:`johnson_neyman` for the final step of ``result``: centred scale, observed moderator range,
    ``center`` = moderator mean (so the tables carry raw-scale values too)."""
    kw, rng, center = _jn_inputs(result)
    return johnson_neyman(**kw, alpha=alpha, mod_range=rng, center=center)


def jn_curve_from_result(result: HierarchicalResult, alpha: float = 0.05, n_points: int = 201) -> pd.DataFrame:
    """:func:`jn_curve` for the final step of ``result`` over the observed (centred) moderator range."""
    kw, rng, center = _jn_inputs(result)
    return jn_curve(**kw, mod_range=rng, alpha=alpha, n_points=n_points, center=center)


def jn_curve(
    b1: float,
    b3: float,
    var_b1: float,
    var_b3: float,
    cov_b13: float,
    df_resid: float,
    mod_range: tuple[float, float],
    alpha: float = 0.05,
    n_points: int = 201,
    center: float = 0.0,
) -> pd.DataFrame:
    """Conditional effect of the focal predictor and its (1 - alpha) CI across ``mod_range``.

    Columns: moderator, moderator_raw (moderator + center), effect, se, t, ci_lower, ci_upper, significant.
    """
    m = np.linspace(float(mod_range[0]), float(mod_range[1]), int(n_points))
    effect = b1 + b3 * m
    se = np.sqrt(var_b1 + 2 * m * cov_b13 + m * m * var_b3)
    t_crit = special.stdtrit(df_resid, 1 - alpha / 2)
    tval = effect / se
    return pd.DataFrame(
        {
            "moderator": m,
            "moderator_raw": m + center,
            "effect": effect,
            "se": se,
            "t": tval,
            "ci_lower": effect - t_crit * se,
            "ci_upper": effect + t_crit * se,
            "significant": np.abs(tval) > t_crit,
        }
    )


# ----------------------------------------------------------------------------------------------------
# product indicators for a latent interaction
# ----------------------------------------------------------------------------------------------------


def product_indicators(
    df: pd.DataFrame,
    x_items: list[str],
    m_items: list[str],
    method: str = "double_mean_centered",
    pairing: str = "auto",
) -> tuple[pd.DataFrame, list[str]]:
    """Product indicators for a latent interaction, double-mean-centred (Lin et al. 2010).

    Each item is mean-centred, the items are multiplied, and each product is mean-centred again.
    Pairing rule (``pairing='auto'``): matched pairs ``x_i * m_i`` in the given order when the two
    item lists have the same length (Marsh, Wen & Hau 2004 -- order the items, e.g. by loading, before
    calling), else all ``len(x_items) * len(m_items)`` pairs. ``pairing='matched'`` / ``'all'`` force one
    rule ('matched' needs equal counts). Means use the available values of each column; a product is
    missing where either item is. Names: ``'<x>_x_<m>'``. Returns (DataFrame with ``df``'s index, names).
    """
    if method != "double_mean_centered":
        raise AnalysisError(f"unknown product-indicator method {method!r}; use 'double_mean_centered'")
    x_items, m_items = list(x_items), list(m_items)
    if not x_items or not m_items:
        raise AnalysisError("product_indicators needs at least one item on each side")
    missing = [c for c in x_items + m_items if c not in df.columns]
    if missing:
        raise _error(f"item column(s) {', '.join(map(repr, missing))} not in the data", missing)
    overlap = sorted(set(x_items) & set(m_items))
    if overlap:
        raise _error(f"item(s) {', '.join(map(repr, overlap))} are on both sides of the product", overlap)
    for c in x_items + m_items:
        if _is_categorical(df[c]):
            raise _error(f"item '{c}' is not numeric (dtype {df[c].dtype})", [c])
    if pairing == "auto":
        pairing = "matched" if len(x_items) == len(m_items) else "all"
    if pairing == "matched":
        if len(x_items) != len(m_items):
            raise _error(f"matched pairs need equal item counts ({len(x_items)} vs {len(m_items)})", x_items + m_items)
        pairs = list(zip(x_items, m_items))
    elif pairing == "all":
        pairs = [(x, m) for x in x_items for m in m_items]
    else:
        raise AnalysisError(f"unknown pairing {pairing!r}; use 'auto', 'matched' or 'all'")
    centred = {c: df[c].astype(float) - df[c].astype(float).mean() for c in x_items + m_items}
    out, names = {}, []
    for x, m in pairs:
        name = interaction_name(x, m)
        prod = centred[x] * centred[m]
        out[name] = prod - prod.mean()
        names.append(name)
    return pd.DataFrame(out, index=df.index), names
