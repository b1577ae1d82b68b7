"""MLR: Yuan-Bentler (Mplus variant) scaled chi-square and the quantities behind robust fit indices.

All information matrices are "unit" (per case) in the moment space m = (mu, vech Sigma) of each group.

Yuan-Bentler scaling (``lav_test_yuan_bentler`` with ``test = "yuan.bentler.mplus"``,
``lav_test_yuan_bentler_mplus_trace``):

    c = [ sum_g tr(A1_g^-1 B1_g) - sum_g (n_g/N) tr(B0_g E^-1) ] / df,   chi2_scaled = chi2 / c

* A1_g: h1 observed information at the *unstructured* moments (complete data: sample mean/S, where
  the observed equals the expected information; FIML: ``lav_mvnorm_missing_information_observed_samplestats``
  at the EM moments); B1_g: first-order (casewise score cross-product) information at the same
  unstructured moments (``h1.information = "unstructured"`` for the Mplus variant).
* B0_g = Delta_g' B1s_g Delta_g with B1s the first-order information at the *model-implied* moments
  (``lav_model_information_firstorder`` with h1.information = "structured"); E = the observed
  information (Hessian) of the model, the same matrix as the bread of the MLR sandwich.
* fixed.x: the moments among the exogenous x are removed from A1 and B1 (lavaan zeroes them and
  drops zero rows), so h1 counts only the modelled moments.

Robust RMSEA/CFI/TLI (``lav_fit_rmsea_lavobject``/``lav_fit_cfi_lavobject``, Brosseau-Liard, Savalei
& Li 2012/2014): rmsea.robust = sqrt(max(chi2/(N df) - c/N, 0)) sqrt(G) with the unscaled chi2 and the
scaling factor c; its CI inverts the noncentral chi-square at chi2_scaled and rescales lambda by c;
cfi.robust = 1 - max(chi2 - c df, 0) / max(chi2 - c df, chi2_B - c_B df_B, 0), with the baseline's own
chi2_B and Yuan-Bentler factor c_B; tli.robust likewise.

Under FIML lavaan 0.6-14 replaces (chi2, c) in those formulas by the "FIML-corrected" statistics of
Zhang & Savalei (``lav_fit_fiml_corrected``; version V3 with MLR, V6 with plain ML): XX3 = the
complete-data ML chi-square of the FIML estimates against the EM (h1) moments, and
c3 = tr(...)/df with Wm = h1 observed information (missing data, EM moments), Jm = its first-order
counterpart, Wc = complete-data h1 information at the EM moments, U = Wm - Wm Delta (Delta' Wm Delta)^-1
Delta' Wm (block-diagonal over groups with weights n_g/N):
V6: c3 = tr(Wc Wm^-1 U Wm^-1)/df;  V3: c3 = tr(U Wm^-1 Wc Wm^-1 U Gamma)/df, Gamma = Wm^-1 Jm Wm^-1.
The baseline gets the same treatment with its own Delta.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

__all__ = ["moment_space", "yb_trace", "fiml_corrected", "sandwich"]


def moment_space(prob, gd, Sigma, mu):
    """(A1 observed h1 information, B1 first-order information), unit, at (Sigma, mu) for group gd."""
    p = prob.c.p
    meanstr = mu is not None
    nc = len(prob._vi)
    nm = nc + p if meanstr else nc
    from .ml import _grad_group

    out = _grad_group(p, gd, Sigma, mu, _MeanView(prob, meanstr), want_info=False, want_hess=True)
    Hl = out[2]
    A1 = -Hl / gd.n
    sc = _MeanView(prob, meanstr).casewise_scores(gd, Sigma, mu)
    B1 = sc.T @ sc / gd.n
    assert A1.shape == (nm, nm)
    return A1, B1


class _MeanView:
    """A Problem whose mean-structure flag is overridden (h1 quantities with/without means)."""

    def __init__(self, prob, meanstr):
        self._p = prob
        self.c = _CView(prob.c, meanstr)

    def __getattr__(self, name):
        return getattr(self._p, name)

    def casewise_scores(self, gd, Sigma, mu):
        from .ml import Problem

        return Problem.casewise_scores(self, gd, Sigma, mu)


class _CView:
    def __init__(self, c, meanstr):
        self._c = c
        self.meanstructure = meanstr

    def __getattr__(self, name):
        return getattr(self._c, name)


def x_mask(prob, meanstr: bool) -> np.ndarray:
    """True for the moments that are modelled (not among the fixed.x covariates)."""
    c = prob.c
    xs = set(int(i) for i in c.x_idx)
    cov = np.array([not (int(i) in xs and int(j) in xs) for i, j in zip(c.vech_i, c.vech_j)])
    if meanstr:
        return np.concatenate([np.array([i not in xs for i in range(c.p)]), cov])
    return cov


def yb_trace(prob, theta, E_inv, unstructured):
    """sum_g tr(A1^-1 B1) - (n_g/N) tr(B0_g E^-1) (the numerator of the Yuan-Bentler factor)."""
    imp, vals = prob.implied(theta)
    total = 0.0
    for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(prob.groups, imp)):
        meanstr = mu is not None
        mask = x_mask(prob, meanstr)
        A1u, B1u = unstructured[g]
        A1u = A1u[np.ix_(mask, mask)]
        B1u = B1u[np.ix_(mask, mask)]
        trace_h1 = float(np.sum(B1u * np.linalg.inv(A1u).T))
        mu_s = mu if meanstr else None
        sc = _MeanView(prob, meanstr).casewise_scores(gd, Sigma, mu_s)
        B1s = sc.T @ sc / gd.n
        D = prob.c.delta(g, vals, E, S, al)
        B0 = D.T @ B1s @ D
        fg = gd.n / prob.N
        total += trace_h1 - fg * float(np.sum(B0 * E_inv.T))
    return total


def unstructured_info(prob):
    """Per group (A1, B1) at the unstructured (h1) moments: sample/EM mean and covariance."""
    out = []
    for gd in prob.groups:
        mu = gd.mean if prob.c.meanstructure else None
        out.append(moment_space(prob, gd, gd.cov, mu))
    return out


def sandwich(prob, theta, H):
    """MLR vcov: (1/N) H^-1 B0 H^-1 (H = observed information, B0 first-order at the implied moments)."""
    imp, vals = prob.implied(theta)
    q = prob.c.q
    B0 = np.zeros((q, q))
    for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(prob.groups, imp)):
        sc = prob.casewise_scores(gd, Sigma, mu)
        D = prob.c.delta(g, vals, E, S, al)
        Dsc = sc @ D
        B0 += Dsc.T @ Dsc / prob.N
    Hinv = np.linalg.inv(H)
    return Hinv @ B0 @ Hinv / prob.N, Hinv


def complete_chi2(Sig, mu, S, m, n):
    """2 n F_ML(Sigma, mu; S, m): the complete-data ML chi-square of implied moments against (S, m)."""
    p = S.shape[0]
    W = np.linalg.inv(Sig)
    d = m - mu
    _, ld_sig = np.linalg.slogdet(Sig)
    _, ld_s = np.linalg.slogdet(S)
    return float(n * (ld_sig + np.trace(S @ W) - ld_s - p + d @ W @ d))


def fiml_corrected(prob, theta, deltas, implied_list, df, version, baseline=None):
    """lavaan's ``lav_fit_fiml_corrected`` for the model (deltas: per group Delta at the estimates,
    implied_list: per group (Sigma, mu)). Returns (XX3, c3); baseline=(deltas_B, implied_B, df_B)
    gives the same for the baseline."""
    G = len(prob.groups)
    N = prob.N
    Wm, Jm, Wc, Wmi = [], [], [], []
    for gd in prob.groups:
        A1, B1 = moment_space(prob, gd, gd.cov, gd.mean)
        # complete-data h1 information at the EM moments (expected = observed at the saturated fit)
        Winv = np.linalg.inv(gd.cov)
        nc = len(prob._vi)
        Wcg = np.zeros((nc + prob.c.p, nc + prob.c.p))
        Wcg[: prob.c.p, : prob.c.p] = Winv
        Wcg[prob.c.p :, prob.c.p :] = prob.h1_expected_A1(Winv)
        mask = x_mask(prob, True)
        Wm.append(A1[np.ix_(mask, mask)])
        Jm.append(B1[np.ix_(mask, mask)])
        Wc.append(Wcg[np.ix_(mask, mask)])
        Wmi.append(np.linalg.inv(Wm[-1]))
    fg = np.array([gd.n / N for gd in prob.groups])
    mask = x_mask(prob, True)

    Wc_all = block_diag(*[fg[g] * Wc[g] for g in range(G)])
    Wm_all = block_diag(*[fg[g] * Wm[g] for g in range(G)])
    Wmi_all = block_diag(*[Wmi[g] / fg[g] for g in range(G)])
    Gamma_all = block_diag(*[Wmi[g] @ Jm[g] @ Wmi[g] / fg[g] for g in range(G)]) if version == "V3" else None

    def k_of(D_list, imp_list):
        D_all = np.vstack([D[mask] for D in D_list])
        E = D_all.T @ Wm_all @ D_all
        U = Wm_all - Wm_all @ D_all @ np.linalg.solve(E, D_all.T @ Wm_all)
        if version == "V3":
            k = np.trace(U @ Wmi_all @ Wc_all @ Wmi_all @ U @ Gamma_all)
        else:
            k = np.trace(Wc_all @ Wmi_all @ U @ Wmi_all)
        XX = sum(complete_chi2(Sig, mu, gd.cov, gd.mean, gd.n) for gd, (Sig, mu) in zip(prob.groups, imp_list))
        return XX, k

    XX3, k = k_of(deltas, implied_list)
    out = {"XX3": XX3, "c3": k / df if df > 0 else np.nan}
    if baseline is not None:
        DB, impB, dfB = baseline
        XXB, kB = k_of(DB, impB)
        out["XX3_null"] = XXB
        out["c3_null"] = kB / dfB if dfB > 0 else np.nan
    return out
