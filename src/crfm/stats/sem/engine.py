"""``fit()``: data checks, starting values, estimation, standard errors, and assembly of the result.

Standard errors (lavaan 0.6-14 defaults, checked with ``lavInspect(fit, "options")``):

* ML, complete data: ``information = "expected"``: vcov = (1/N) I_E^-1 (``lav_model_vcov``).
* ML with ``missing = "ml"`` (our ``missing="fiml"``): ``information = "observed"`` (the Hessian).
* MLR (both): ``se = "robust.huber.white"``: vcov = (1/N) I_O^-1 B0 I_O^-1 with I_O the observed
  information and B0 = sum_g (n_g/N) Delta_g' B1_g Delta_g the first-order information at the
  model-implied moments (``lav_model_nvcov_robust_sandwich``).

Equality constraints are folded into the unique free parameters, which gives the same vcov as
lavaan's augmented-information inverse for linear equalities. Starting values: loadings from the
marker's covariances (lavaan's default uses fabin3; any sensible start reaches the same optimum),
residual variances s_jj/2 (lavaan), latent variances from the marker covariances (>= .05),
regressions and covariances 0, intercepts at the (h1) means, latent means 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError

from .data import prepare_group
from .ml import Problem, optimise
from .model import Model, compile_model

__all__ = ["fit", "prepare", "Problem"]

ESTIMATORS = ("ML", "MLR")
MISSING = ("listwise", "fiml")


def _groups_of(data: pd.DataFrame, group):
    if group is None:
        return [(None, data)]
    if group not in data.columns:
        raise AnalysisError(f"group column '{group}' is not in the data")
    col = data[group]
    if col.isna().any():
        rows = list(data.index[col.isna()][:10])
        raise AnalysisError(f"group column '{group}' is missing in row(s) {rows}")
    labels = list(pd.unique(col))
    if len(labels) < 2:
        raise AnalysisError(f"group column '{group}' has only one value ({labels[0]!r}); multi-group needs two or more")
    return [(lab, data[col == lab]) for lab in labels]


def prepare(
    model: Model,
    data: pd.DataFrame,
    *,
    group=None,
    missing="listwise",
    group_equal=(),
    group_partial=(),
    std_lv=False,
    meanstructure=None,
):
    """Compile the model for these data and compute the sample statistics; returns a Problem."""
    if not isinstance(model, Model):
        model = Model.from_syntax(model)
    if missing not in MISSING:
        raise AnalysisError(f"missing must be one of {MISSING}, not {missing!r}")
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError("data must be a pandas DataFrame")
    fiml = missing == "fiml"
    parts = _groups_of(data, group)
    G = len(parts)
    if meanstructure is None:
        meanstructure = fiml or G > 1
    if (group_equal or group_partial) and G == 1:
        raise AnalysisError("group_equal/group_partial need a group= column")
    comp = compile_model(
        model, G, bool(meanstructure), bool(std_lv), tuple(group_equal or ()), tuple(group_partial or ())
    )
    ov = list(comp.ov)
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise AnalysisError(
            f"model variable(s) {', '.join(absent)} are not columns of the data "
            f"(latent variables are the left-hand sides of =~: {', '.join(comp.lv) or 'none'})"
        )
    dtypes = data.dtypes
    for v in ov:
        if not pd.api.types.is_numeric_dtype(dtypes[v]):
            raise AnalysisError(f"model variable '{v}' is not numeric (dtype {dtypes[v]})")
    groups = []
    for lab, frame in parts:
        where = "data" if group is None else f"group {group}={lab!r}"
        groups.append(prepare_group(lab, frame, ov, list(comp.ov_x), fiml=fiml, where=where))
    pt = comp.pt
    fixed = pt.ustart.copy()
    x_pos = {x: i for i, x in enumerate(comp.ov_x)}
    for k in np.nonzero(pt.exo == 1)[0]:
        gd = groups[pt.group[k]]
        if pt.op[k] == "~~":
            fixed[k] = gd.x_cov[x_pos[pt.lhs[k]], x_pos[pt.rhs[k]]]
        else:
            fixed[k] = gd.x_mean[x_pos[pt.lhs[k]]]
    fixed = np.where(np.isnan(fixed), 0.0, fixed)
    prob = Problem(comp, groups, fixed)
    _check_identification(prob, group)
    return prob


def _check_identification(prob: Problem, group) -> None:
    comp, pt = prob.c, prob.c.pt
    p = comp.p
    nx = len(comp.ov_x)
    per_group_moments = p * (p + 1) // 2 - nx * (nx + 1) // 2 + (p - nx if comp.meanstructure else 0)
    df = per_group_moments * comp.ngroups - comp.q
    if df < 0:
        raise AnalysisError(
            f"the model is not identified: {comp.q} free parameters but only {per_group_moments * comp.ngroups} "
            f"sample moments (df = {df}); fix or constrain parameters"
        )
    if prob.N < comp.q:
        raise AnalysisError(f"only {int(prob.N)} cases for {comp.q} free parameters; the model cannot be estimated")
    for g, gd in enumerate(prob.groups):
        own = np.unique(pt.free[(pt.group == g) & (pt.free > 0)])
        if comp.ngroups > 1 and gd.n < len(own):
            raise AnalysisError(
                f"group {group}={gd.label!r} has {gd.n} cases but {len(own)} free parameters; "
                "merge it with another group or drop it"
            )
    # a latent with no indicator and no structural role cannot be identified
    for lv in comp.lv:
        n_ind = sum(1 for k in range(len(pt)) if pt.op[k] == "=~" and pt.lhs[k] == lv and pt.group[k] == 0)
        if n_ind == 0:
            raise AnalysisError(f"latent variable '{lv}' has no indicators")


def start_values(prob: Problem) -> np.ndarray:
    comp, pt = prob.c, prob.c.pt
    ov = list(comp.ov)
    theta = np.full(comp.q, np.nan)
    vals = np.full(len(pt), np.nan)
    for g, gd in enumerate(prob.groups):
        S = gd.cov
        rows = np.nonzero(pt.group == g)[0]
        # marker-based latent variance and loadings
        psi, lam = {}, {}
        for lv in comp.lv:
            ind = [k for k in rows if pt.op[k] == "=~" and pt.lhs[k] == lv]
            obs = [pt.rhs[k] for k in ind if pt.rhs[k] in ov]
            if len(obs) >= 2:
                r = ov.index(obs[0])
                cs = [S[r, ov.index(o)] for o in obs[1:]]
                ps = float(np.clip(np.mean(cs), 0.05, S[r, r]))
                psi[lv] = ps
                lam[lv] = {obs[0]: 1.0, **{o: S[r, ov.index(o)] / ps for o in obs[1:]}}
            else:
                psi[lv] = 0.05
                lam[lv] = {}
        for k in rows:
            o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
            v = 0.0
            if o == "=~":
                v = lam[a].get(b, 1.0)
            elif o == "~~" and a == b:
                if a in ov:
                    v = 0.5 * S[ov.index(a), ov.index(a)]
                else:
                    v = psi.get(a, 0.05)
            elif o == "~1":
                v = gd.mean[ov.index(a)] if a in ov else 0.0
            vals[k] = v
    # std.lv: rescale loadings so that the implied indicator covariances match
    std_lv_fixed = pt.unit_variance_latents(comp.lv)
    if std_lv_fixed:
        for g, gd in enumerate(prob.groups):
            S = gd.cov
            for lv in std_lv_fixed:
                ks = [k for k in np.nonzero(pt.group == g)[0] if pt.op[k] == "=~" and pt.lhs[k] == lv]
                obs = [pt.rhs[k] for k in ks if pt.rhs[k] in ov]
                if len(obs) >= 2:
                    r = ov.index(obs[0])
                    ps = float(np.clip(np.mean([S[r, ov.index(o)] for o in obs[1:]]), 0.05, S[r, r]))
                    for k in ks:
                        vals[k] = vals[k] * np.sqrt(ps) if pt.rhs[k] in ov else 1.0
    for j in range(comp.q):
        k = comp.theta_rows[j]
        theta[j] = vals[k]
    theta = np.where(np.isnan(theta), 0.0, theta)
    # make sure the start is admissible
    if prob.gradient(theta) is None:
        for k in range(len(pt)):
            if pt.free[k] > 0 and pt.op[k] == "~~" and pt.lhs[k] != pt.rhs[k]:
                theta[pt.free[k] - 1] = 0.0
    return theta


def fit(
    model,
    data: pd.DataFrame,
    *,
    group=None,
    estimator: str = "ML",
    missing: str = "listwise",
    group_equal=(),
    group_partial=(),
    se: bool = True,
    std_lv: bool = False,
):
    """Fit a SEM by ML/MLR (complete data or FIML), single- or multi-group. Returns an SEMResult."""
    from .result import build_result

    if estimator not in ESTIMATORS:
        raise AnalysisError(f"estimator must be one of {ESTIMATORS}, not {estimator!r}")
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    if not isinstance(model, Model):
        model = Model.from_syntax(model)
    prob = prepare(
        model, data, group=group, missing=missing, group_equal=group_equal, group_partial=group_partial, std_lv=std_lv
    )
    theta0 = start_values(prob)
    theta, conv, iters, gmax, msg = optimise(prob, theta0)
    return build_result(
        model,
        prob,
        theta,
        conv,
        iters,
        gmax,
        msg,
        estimator=estimator,
        missing=missing,
        group=group,
        se=se,
        group_equal=tuple(group_equal),
        group_partial=tuple(group_partial),
        std_lv=std_lv,
    )
