"""SEMResult and its assembly: estimates, SEs, standardized solution, R-squared, flags, summary.

Standardized solution (``lav_standardize_lv`` / ``lav_standardize_all`` with cov.std = TRUE), with
Omega = E S E' the implied covariance of all variables and sd = sqrt(diag Omega):

* std.all: ``L =~ V``: lambda sd_L / sd_V; ``Y ~ X``: beta sd_X / sd_Y; variance: psi_ii / Omega_ii;
  covariance: psi_ij / sqrt(psi_ii psi_jj) (a residual correlation, lavaan's cov.std); intercept/mean:
  alpha / sd.
* std.lv: the same with sd = 1 for observed variables (only latent variables are rescaled).
* SEs of std.all by the delta method, Var = J V J', J by central differences (h = 1e-6) of the
  standardization with respect to the free parameters (lavaan ``standardizedSolution``, which
  uses the same vcov: expected/observed/sandwich as the estimator dictates); 95% CI = est +/- 1.96 SE.

R-squared (``lavInspect(fit, "r2")``): 1 - psi_ii / Omega_ii for every variable with an incoming
path (indicators, observed and latent outcomes).

Improper solutions are never silent: negative variance estimates, standardized loadings or
correlations with |value| >= 1 and a non-positive-definite latent covariance matrix are listed in
``improper_cases`` and ``warnings``; non-convergence sets ``converged = False`` with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from .fitmeasures import fit_measures
from .robust import sandwich

__all__ = ["SEMResult", "build_result"]

Z975 = 1.959963984540054  # qnorm(.975)


@dataclass(frozen=True)
class SEMResult:
    model: object
    parameters: pd.DataFrame
    fit: dict
    r_squared: pd.DataFrame
    converged: bool
    warnings: tuple
    improper_cases: tuple
    n: int
    n_by_group: dict
    estimator: str
    missing: str
    group: str | None
    group_labels: tuple
    group_equal: tuple
    group_partial: tuple
    iterations: int
    max_gradient: float
    theta: np.ndarray = field(repr=False)
    vcov: np.ndarray | None = field(repr=False)
    _problem: object = field(repr=False, default=None)

    @property
    def proper(self) -> bool:
        return not self.improper_cases

    def modindices(self, minimum: float = 0.0) -> pd.DataFrame:
        from .modindices import modindices

        return modindices(self, minimum=minimum)

    def latent_correlations(self, group: int = 0) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Implied correlations of the latent variables (lavaan ``lavInspect(fit, "cor.lv")``): from
        Omega = E S E', the latent block scaled to unit variances; in a second-order model these are the
        first-order factors' correlations through the higher factor. SEs by the delta method (central
        differences, h = 1e-6, with this fit's vcov); None without SEs."""
        prob, comp = self._problem, self._problem.c
        p, names = comp.p, list(comp.lv)

        def corr(theta):
            _, _, E, S, _, _ = comp.implied(group, prob.vals(theta))
            lat = (E @ S @ E.T)[p:, p:]
            d = np.sqrt(np.diag(lat))
            return lat / np.outer(d, d)

        R = corr(self.theta)
        se = None
        if self.vcov is not None:
            jac = np.empty((R.size, self.theta.size))
            for k in range(self.theta.size):
                h = 1e-6 * max(1.0, abs(self.theta[k]))
                tp, tm = self.theta.copy(), self.theta.copy()
                tp[k] += h
                tm[k] -= h
                jac[:, k] = (corr(tp) - corr(tm)).ravel() / (2 * h)
            var = np.einsum("ij,jk,ik->i", jac, self.vcov, jac).reshape(R.shape)
            se = pd.DataFrame(np.sqrt(np.clip(var, 0.0, None)), index=names, columns=names)
        return pd.DataFrame(R, index=names, columns=names), se

    def implied(self):
        """Per group (Sigma, mu) at the estimates (mu None without a mean structure)."""
        imp, _ = self._problem.implied(self.theta)
        return [(Sig, mu) for (Sig, mu, *_r) in imp]

    def summary(self) -> str:
        f = self.fit
        lines = [
            f"crfm.stats.sem {self.estimator} fit ({'FIML' if self.missing == 'fiml' else 'listwise'}), "
            f"{'converged' if self.converged else 'NOT CONVERGED'} after {self.iterations} iterations",
            f"  N = {self.n}"
            + ("" if self.group is None else "  (" + ", ".join(f"{k}: {v}" for k, v in self.n_by_group.items()) + ")"),
            f"  free parameters = {f['npar']}",
            "",
            "Model test:",
            f"  chi2 = {f['chi2']:.3f}, df = {f['df']}, p = {f['p']:.4f}",
        ]
        if "chi2_scaled" in f:
            lines.append(
                f"  Yuan-Bentler scaled chi2 = {f['chi2_scaled']:.3f}, scaling factor = {f['scaling_factor']:.3f}, "
                f"p = {f['p_scaled']:.4f}"
            )
        lines += [
            f"  baseline chi2 = {f['baseline_chi2']:.3f}, df = {f['baseline_df']}",
            f"  CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} "
            f"[{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}], SRMR = {f['srmr']:.3f}",
        ]
        if "cfi_robust" in f:
            lines.append(
                f"  robust: CFI = {f['cfi_robust']:.3f}, TLI = {f['tli_robust']:.3f}, "
                f"RMSEA = {f['rmsea_robust']:.3f} [{f['rmsea_ci_lower_robust']:.3f}, {f['rmsea_ci_upper_robust']:.3f}]"
            )
        lines.append(
            f"  logL = {f['loglik']:.3f} (unrestricted {f['loglik_unrestricted']:.3f}), AIC = {f['aic']:.3f}, BIC = {f['bic']:.3f}"
        )
        P = self.parameters
        titles = {
            "=~": "Latent variables",
            "~": "Regressions",
            "~~": "Variances and covariances",
            "~1": "Intercepts / means",
        }
        for g in P["group"].unique():
            if len(self.group_labels) > 1:
                lines += ["", f"Group {g}:"]
            for op, title in titles.items():
                sub = P[(P["group"] == g) & (P["op"] == op)]
                if sub.empty:
                    continue
                lines += [
                    "",
                    f"{title}:",
                    f"  {'':24s}{'Estimate':>10s}{'Std.Err':>10s}{'z':>9s}{'p':>8s}{'Std.all':>9s}",
                ]
                for _, r in sub.iterrows():
                    name = f"{r['lhs']} {op} {r['rhs']}".strip()
                    se = f"{r['se']:10.3f}" if r["free"] and np.isfinite(r["se"]) else f"{'':10s}"
                    z = f"{r['z']:9.3f}" if r["free"] and np.isfinite(r["z"]) else f"{'':9s}"
                    pv = f"{r['p']:8.3f}" if r["free"] and np.isfinite(r["p"]) else f"{'':8s}"
                    lines.append(f"  {name:24s}{r['est']:10.3f}{se}{z}{pv}{r['std_all']:9.3f}")
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


_PLANS: dict = {}


def _std_plan(comp):
    """Index arrays for the vectorised standardization (cached per compiled model)."""
    plan = _PLANS.get(id(comp))
    if plan is not None and plan[0] is comp:
        return plan[1]
    pt = comp.pt
    names = list(comp.ov) + list(comp.lv)
    pos = {v: k for k, v in enumerate(names)}
    code = np.zeros(len(pt), dtype=int)
    I = np.zeros(len(pt), dtype=int)
    J = np.zeros(len(pt), dtype=int)
    for k in range(len(pt)):
        o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
        if o == "=~":
            code[k], I[k], J[k] = 0, pos[a], pos[b]  # v sd[I] / sd[J]
        elif o == "~":
            code[k], I[k], J[k] = 0, pos[b], pos[a]
        elif o == "~~":
            code[k], I[k], J[k] = (1 if a == b else 2), pos[a], pos[b]
        else:
            code[k], I[k], J[k] = 3, pos[a], pos[a]
    groups = []
    for g in range(comp.ngroups):
        rows = comp.g_rows[g]
        groups.append((np.nonzero(pt.group == g)[0], rows["A"], rows["S"]))
    plan = (code, I, J, groups)
    _PLANS[id(comp)] = (comp, plan)
    return plan


def std_all_matrix(comp, V: np.ndarray, lv_only: bool = False) -> np.ndarray:
    """std.all (or std.lv) of every table row for each row of V (K, nrows) of parameter values."""
    code, I, J, groups = _std_plan(comp)
    K = V.shape[0]
    m, p = comp.m, comp.p
    out = np.full(V.shape, np.nan)
    for rows, (rA, iA, jA), (rS, iS, jS) in groups:
        A = np.zeros((K, m, m))
        S = np.zeros((K, m, m))
        A[:, iA, jA] = V[:, rA]
        S[:, iS, jS] = V[:, rS]
        S[:, jS, iS] = V[:, rS]
        E = np.linalg.inv(np.eye(m) - A)
        Om = E @ S @ np.transpose(E, (0, 2, 1))
        dOm = np.diagonal(Om, axis1=1, axis2=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(dOm)
            if lv_only:
                sd = sd.copy()
                sd[:, :p] = 1.0
            res = np.diagonal(S, axis1=1, axis2=2)
            c, i, j = code[rows], I[rows], J[rows]
            v = V[:, rows]
            o = np.where(c == 0, v * sd[:, i] / sd[:, j], np.nan)
            var = v / (sd[:, i] ** 2 if lv_only else dOm[:, i])
            o = np.where(c == 1, var, o)
            cov = v / np.sqrt(res[:, i] * res[:, j])
            o = np.where(c == 2, cov, o)
            o = np.where(c == 3, v / sd[:, i], o)
            if lv_only:
                keep = (c == 1) & (i < p) | (c == 2) & (i < p) & (j < p)
                o = np.where(keep, v, o)
                # a latent with an observed variable (lavaan std.lv): scale the latent side only
                lv_ov = (c == 2) & ((i < p) ^ (j < p))
                lat = np.where(i < p, j, i)
                o = np.where(lv_ov, v / np.sqrt(res[:, lat]), o)
        out[:, rows] = o
    return out


def std_all_vector(comp, vals, lv_only=False):
    return std_all_matrix(comp, vals[None, :], lv_only)[0]


def build_result(
    model, prob, theta, conv, iters, gmax, msg, *, estimator, missing, group, se, group_equal, group_partial, std_lv
):
    comp, pt = prob.c, prob.c.pt
    fiml = missing == "fiml"
    warns: list[str] = []
    if not conv:
        warns.append(
            f"the optimiser did not converge (max |gradient| = {gmax:.2e}{'; ' + msg if msg else ''}); "
            "the estimates are not trustworthy"
        )
    vals = prob.vals(theta)
    q = comp.q
    vcov = None
    H = Hinv = None
    need_obs = fiml or estimator == "MLR"
    if se or estimator == "MLR":
        try:
            if need_obs:
                last = prob.last_hessian
                H = last[1] if last is not None and np.array_equal(last[0], theta) else prob.hessian(theta)
                Hinv = np.linalg.inv(H)
                if estimator == "MLR":
                    vcov, _ = sandwich(prob, theta, H)
                else:
                    vcov = Hinv / prob.N
            else:
                I = prob.expected_info(theta)
                vcov = np.linalg.inv(I) / prob.N
            ev = np.linalg.eigvalsh(vcov)
            if ev[0] < np.finfo(float).eps ** 0.75:
                warns.append(
                    "the covariance matrix of the estimates is not positive definite (smallest eigenvalue "
                    f"{ev[0]:.2e}): the model may not be identified"
                )
        except (np.linalg.LinAlgError, TypeError):
            vcov = None
            warns.append(
                "the information matrix could not be inverted: the model is probably not identified; no standard errors"
            )
    se_rows = np.zeros(len(pt))
    if not se:
        vcov = None  # MLR needed the Hessian for the scaled test only
    if vcov is not None:
        sd = np.sqrt(np.clip(np.diag(vcov), 0, None))
        fr = pt.free > 0
        se_rows[fr] = sd[pt.free[fr] - 1]
    else:
        se_rows[:] = np.nan
    std_lv_v = std_all_vector(comp, vals, lv_only=True)
    std_se = np.full(len(pt), np.nan)
    if vcov is not None:
        # std.all at the estimates and at theta +/- h e_j in one stacked call (delta-method Jacobian)
        h = 1e-6
        Tp = np.repeat(theta[None, :], 2 * q + 1, axis=0)
        Tp[np.arange(q), np.arange(q)] += h
        Tp[q + np.arange(q), np.arange(q)] -= h
        Vp = np.repeat(prob.fixed[None, :], 2 * q + 1, axis=0)
        fr = pt.free > 0
        Vp[:, fr] = Tp[:, pt.free[fr] - 1]
        St = std_all_matrix(comp, Vp)
        std_all = St[2 * q]
        Jm = ((St[:q] - St[q : 2 * q]) / (2 * h)).T  # (nrows, q)
        std_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Jm, vcov, Jm), 0, None))
    else:
        std_all = std_all_vector(comp, vals)
    free = pt.free > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(free, vals / se_rows, np.nan)
    pval = 2 * special.ndtr(-np.abs(z))
    labels = tuple(gd.label for gd in prob.groups)
    glab = [labels[g] if group is not None else 1 for g in pt.group]
    params = pd.DataFrame(
        {
            "lhs": pt.lhs,
            "op": pt.op,
            "rhs": pt.rhs,
            "group": glab,
            "label": pt.label,
            "free": free,
            "est": vals,
            "se": np.where(free, se_rows, 0.0),
            "z": z,
            "p": pval,
            "ci_lower": np.where(free, vals - Z975 * se_rows, vals),
            "ci_upper": np.where(free, vals + Z975 * se_rows, vals),
            "std_lv": std_lv_v,
            "std_all": std_all,
            "std_all_se": std_se,
            "std_all_ci_lower": std_all - Z975 * std_se,
            "std_all_ci_upper": std_all + Z975 * std_se,
            "exo": pt.exo.astype(bool),
        }
    )
    # R-squared and improper solutions
    r2_rows = []
    improper = []
    names = list(comp.ov) + list(comp.lv)
    for g in range(comp.ngroups):
        A, S, al = comp.matrices(g, vals)
        E = np.linalg.inv(np.eye(comp.m) - A)
        Om = E @ S @ E.T
        endo = np.nonzero(np.any(A != 0, axis=1) | _has_incoming(comp, g))[0]
        for i in endo:
            r2_rows.append(
                {"group": labels[g] if group is not None else 1, "variable": names[i], "r2": 1.0 - S[i, i] / Om[i, i]}
            )
        where = "" if group is None else f" in group {labels[g]!r}"
        for k in np.nonzero(pt.group == g)[0]:
            o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
            if o == "~~" and a == b and vals[k] < 0:
                improper.append(f"negative variance: {a} ~~ {a} = {vals[k]:.4g}{where}")
            elif o in ("=~", "~~") and a != b and np.isfinite(std_all[k]) and abs(std_all[k]) >= 1:
                kind = "standardized loading" if o == "=~" else "correlation"
                improper.append(f"{kind} |{a} {o} {b}| = {abs(std_all[k]):.4g} >= 1{where}")
        lvi = np.arange(comp.p, comp.m)
        if len(lvi):
            evl = np.linalg.eigvalsh(Om[np.ix_(lvi, lvi)])
            if evl[0] < 0:
                improper.append(
                    f"the latent covariance matrix is not positive definite (smallest eigenvalue {evl[0]:.3g}){where}"
                )
    if improper:
        warns.append("improper solution (Heywood case): " + "; ".join(improper))
    fit = fit_measures(prob, theta, estimator=estimator, fiml=fiml, H=H, H_inv=Hinv)
    fit["converged"] = bool(conv)
    fit["iterations"] = int(iters)
    n_by_group = {(labels[g] if group is not None else "all"): int(gd.n) for g, gd in enumerate(prob.groups)}
    return SEMResult(
        model=model,
        parameters=params,
        fit=fit,
        r_squared=pd.DataFrame(r2_rows, columns=["group", "variable", "r2"]),
        converged=bool(conv),
        warnings=tuple(warns),
        improper_cases=tuple(improper),
        n=int(prob.N),
        n_by_group=n_by_group,
        estimator=estimator,
        missing=missing,
        group=group,
        group_labels=labels,
        group_equal=group_equal,
        group_partial=group_partial,
        iterations=int(iters),
        max_gradient=float(gmax),
        theta=theta,
        vcov=vcov,
        _problem=prob,
    )


def _has_incoming(comp, g):
    """Variables with an incoming =~ or ~ path in the table (even when its value is 0)."""
    pt = comp.pt
    names = list(comp.ov) + list(comp.lv)
    flag = np.zeros(comp.m, dtype=bool)
    for k in np.nonzero(pt.group == g)[0]:
        if pt.op[k] == "=~":
            flag[names.index(pt.rhs[k])] = True
        elif pt.op[k] == "~":
            flag[names.index(pt.lhs[k])] = True
    return flag
