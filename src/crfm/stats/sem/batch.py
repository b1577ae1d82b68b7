"""Batched ML for Monte Carlo: many replications' sample covariance matrices of one model at once.

``fit_ml_batch(model, S, n)`` with S of shape (R, p, p) (divisor n, lavaan's likelihood = "normal")
fits single-group, complete-data ML without a mean structure for every replication with numpy's
stacked linear algebra: Fisher scoring (the expected information, exactly as the single-fit path
computes it: Delta' A1 Delta with A1 = 1/2 D'(W (x) W) D) with per-replication step halving, and the
same stopping rule as the single-fit path (max |dF/dtheta| < 1e-9, F on lavaan's fmin scale).
Replications that do not reach it within ``max_iter`` iterations, or whose implied covariance stops
being positive definite, are refitted one by one with the single-fit path (Newton with the analytic
Hessian, then BFGS); ``fallback`` says which.

Per replication it returns the free-parameter estimates and SEs (inverse expected information / n),
the standardized loadings (lavaan std.all) with delta-method SEs and 95% CIs, chi2, df, CFI, TLI,
RMSEA, SRMR (formulas as in fitmeasures.py), ``converged`` and ``improper`` (a negative variance or a
standardized loading/correlation with |value| >= 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crfm.errors import AnalysisError

from .data import GroupData, SizeBlock
from .ml import GRAD_TOL, Problem, optimise
from .model import Model, compile_model

__all__ = ["BatchResult", "fit_ml_batch"]

Z975 = 1.959963984540054


@dataclass(frozen=True)
class BatchResult:
    params: list  # "lhs op rhs" of the free parameters
    est: np.ndarray  # (R, q)
    se: np.ndarray  # (R, q)
    loadings: list  # "lhs =~ rhs" of the loadings
    std_loadings: np.ndarray  # (R, k) std.all
    std_loadings_se: np.ndarray
    std_loadings_ci_lower: np.ndarray
    std_loadings_ci_upper: np.ndarray
    fit: pd.DataFrame  # chi2, df, p, cfi, tli, rmsea, srmr, converged, improper, iterations, fallback
    converged: np.ndarray
    improper: np.ndarray
    fallback: np.ndarray


class _Batch:
    def __init__(self, comp, fixed):
        self.c = comp
        self.fixed = fixed
        rows = comp.g_rows[0]
        self.rA, self.iA, self.jA = rows["A"]
        self.rS, self.iS, self.jS = rows["S"]
        self.fA = rows["A_free"]
        self.fS = rows["S_free"]
        self.P = comp.g_P[0]  # (nfree_rows, q)
        pt = comp.pt
        self.free_rows = np.nonzero(pt.free > 0)[0]
        self.free_idx = pt.free[self.free_rows] - 1
        vi, vj = comp.vech_i, comp.vech_j
        self.vi, self.vj = vi, vj
        self.vf = comp.vech_f
        self.ff = self.vf[:, None] * self.vf[None, :]
        # longest directed path among the A entries (None when there is a cycle)
        adj = np.zeros((comp.m, comp.m), dtype=bool)
        adj[self.iA, self.jA] = True
        Ak, depth = adj.copy(), 1
        while Ak.any() and depth <= comp.m:
            Ak = (Ak.astype(int) @ adj.astype(int)) > 0
            depth += 1
        self.depth = None if Ak.any() else max(depth - 1, 1)

    def vals(self, theta):
        R = theta.shape[0]
        v = np.broadcast_to(self.fixed, (R, len(self.fixed))).copy()
        v[:, self.free_rows] = theta[:, self.free_idx]
        return v

    def implied(self, theta):
        c = self.c
        R = theta.shape[0]
        v = self.vals(theta)
        A = np.zeros((R, c.m, c.m))
        S = np.zeros((R, c.m, c.m))
        A[:, self.iA, self.jA] = v[:, self.rA]
        S[:, self.iS, self.jS] = v[:, self.rS]
        S[:, self.jS, self.iS] = v[:, self.rS]
        if self.depth is not None:  # acyclic paths: (I - A)^-1 = I + A + ... + A^depth
            E = np.eye(c.m) + A
            Ak = A
            for _ in range(self.depth - 1):
                Ak = Ak @ A
                E = E + Ak
        else:
            E = np.linalg.inv(np.eye(c.m) - A)
        Ef = E[:, : c.p]
        Sigma = Ef @ S @ np.transpose(Ef, (0, 2, 1))
        return Sigma, E, S, A

    def objective(self, theta, Sd, logdetS):
        Sigma, *_ = self.implied(theta)
        sign, ld = np.linalg.slogdet(Sigma)
        W = np.linalg.inv(Sigma)
        F = 0.5 * (ld + np.einsum("rij,rji->r", Sd, W) - logdetS - self.c.p)
        F[sign <= 0] = np.inf
        return F

    def delta(self, E, S):
        c = self.c
        p = c.p
        Ef = E[:, :p]  # (R, p, m)
        M = E @ S @ np.transpose(Ef, (0, 2, 1))  # (R, m, p)
        vi, vj = self.vi, self.vj
        blocks = []
        _, iA, jA = self.fA
        if len(iA):
            U = np.transpose(Ef[:, :, iA], (0, 2, 1))  # (R, nA, p)
            W = M[:, jA, :]
            blocks.append(U[:, :, vi] * W[:, :, vj] + W[:, :, vi] * U[:, :, vj])
        _, iS, jS = self.fS
        if len(iS):
            U = np.transpose(Ef[:, :, iS], (0, 2, 1))
            V = np.transpose(Ef[:, :, jS], (0, 2, 1))
            cc = np.where(iS == jS, 0.5, 1.0)[None, :, None]
            blocks.append(cc * (U[:, :, vi] * V[:, :, vj] + V[:, :, vi] * U[:, :, vj]))
        J = np.concatenate(blocks, axis=1)  # (R, nrows, p*)
        return np.transpose(J, (0, 2, 1)) @ self.P  # (R, p*, q)

    def grad_info(self, theta, Sd, logdetS=None):
        """F, dF/dtheta and the expected information for every replication (None rows: not PD).

        I_kl = 1/2 tr(W dSigma_k W dSigma_l) = 1/2 <X_k, X_l> with X_k = L' dSigma_k L, W = L L'
        (the same matrix as Delta' A1 Delta, computed without forming A1)."""
        c = self.c
        p = c.p
        Sigma, E, S, A = self.implied(theta)
        L, okpd = _chol(Sigma)
        Linv = np.linalg.inv(L)  # Sigma = L L', W = Linv' Linv
        W = np.transpose(Linv, (0, 2, 1)) @ Linv
        G = 0.5 * (W - W @ Sd @ W)
        Ef = E[:, :p]
        M = E @ S @ np.transpose(Ef, (0, 2, 1))  # (R, m, p)
        _, iA, jA = self.fA
        _, iS, jS = self.fS
        U = np.concatenate([Ef[:, :, iA], Ef[:, :, iS]], axis=2)  # (R, p, nrows)
        V = np.concatenate([np.transpose(M[:, jA, :], (0, 2, 1)), Ef[:, :, jS]], axis=2)
        cc = np.concatenate([np.ones(len(iA)), np.where(iS == jS, 0.5, 1.0)])
        grow = 2.0 * cc * np.einsum("rpa,rpa->ra", U, G @ V)
        g = grow @ self.P
        a = Linv @ U  # (R, p, nrows): X_row = Linv dSigma_row Linv' = a b' + b a'
        b = Linv @ V
        at = np.transpose(a, (0, 2, 1))
        bt = np.transpose(b, (0, 2, 1))
        AA, BB, AB = at @ a, bt @ b, at @ b
        # 1/2 tr(X_r X_s) = (a_r.a_s)(b_r.b_s) + (a_r.b_s)(b_r.a_s)
        Irows = (cc[:, None] * cc[None, :]) * (AA * BB + AB * np.transpose(AB, (0, 2, 1)))
        I = self.P.T @ Irows @ self.P
        if logdetS is not None:
            ld = 2.0 * np.sum(np.log(np.abs(np.diagonal(L, axis1=1, axis2=2))), axis=1)
            F = 0.5 * (ld + np.einsum("rij,rji->r", Sd, W) - logdetS - p)
            F[~okpd] = np.inf
            return g, I, Sigma, E, S, F, okpd
        return g, I, Sigma, E, S

    def std_all(self, theta):
        """std.all of every table row, (R, nrows) (CFA/SEM: loadings, regressions, (co)variances)."""
        c = self.c
        pt = c.pt
        Sigma, E, S, A = self.implied(theta)
        Om = E @ S @ np.transpose(E, (0, 2, 1))
        sd = np.sqrt(np.abs(np.diagonal(Om, axis1=1, axis2=2)))
        v = self.vals(theta)
        names = list(c.ov) + list(c.lv)
        pos = {nm: k for k, nm in enumerate(names)}
        out = np.full(v.shape, np.nan)
        rs = np.diagonal(S, axis1=1, axis2=2)
        for k in range(len(pt)):
            o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
            if o == "=~":
                out[:, k] = v[:, k] * sd[:, pos[a]] / sd[:, pos[b]]
            elif o == "~":
                out[:, k] = v[:, k] * sd[:, pos[b]] / sd[:, pos[a]]
            elif o == "~~":
                i, j = pos[a], pos[b]
                if i == j:
                    out[:, k] = v[:, k] / Om[:, i, i]
                else:
                    with np.errstate(invalid="ignore"):
                        out[:, k] = v[:, k] / np.sqrt(rs[:, i] * rs[:, j])
        return out


def _chol(Sigma):
    """Batched Cholesky; replications that are not PD get the identity (and okpd False)."""
    try:
        return np.linalg.cholesky(Sigma), np.ones(Sigma.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        ok = np.ones(Sigma.shape[0], dtype=bool)
        L = np.zeros_like(Sigma)
        for r in range(Sigma.shape[0]):
            try:
                L[r] = np.linalg.cholesky(Sigma[r])
            except np.linalg.LinAlgError:
                ok[r] = False
                L[r] = np.eye(Sigma.shape[1])
        return L, ok


def _problem_from_S(comp, fixed, S, n):
    p = S.shape[0]
    blk = SizeBlock(
        obs=np.arange(p)[None, :],
        n=np.array([float(n)]),
        mean=np.zeros((1, p)),
        cov=S[None],
        rows=[np.zeros((0, p))],
    )
    _, ld = np.linalg.slogdet(S)
    h1 = float(-0.5 * n * (p * np.log(2 * np.pi) + ld + p))
    gd = GroupData(
        label=None,
        n=int(n),
        Y=np.zeros((0, p)),
        row_ids=np.arange(0),
        complete=True,
        blocks=[blk],
        mean=np.zeros(p),
        cov=S,
        h1_loglik=h1,
        npatterns=1,
    )
    return Problem(comp, [gd], fixed)


def _starts(comp, S):
    """Vectorised version of engine.start_values for complete-data single-group models."""
    pt = comp.pt
    ov = list(comp.ov)
    R = S.shape[0]
    vals = np.zeros((R, len(pt)))
    psi = {}
    lam = {}
    for lv in comp.lv:
        ks = [k for k in range(len(pt)) if pt.op[k] == "=~" and pt.lhs[k] == lv]
        obs = [pt.rhs[k] for k in ks if pt.rhs[k] in ov]
        if len(obs) >= 2:
            r = ov.index(obs[0])
            cs = np.mean([S[:, r, ov.index(o)] for o in obs[1:]], axis=0)
            ps = np.clip(cs, 0.05, S[:, r, r])
            psi[lv] = ps
            lam[lv] = {obs[0]: np.ones(R), **{o: S[:, r, ov.index(o)] / ps for o in obs[1:]}}
        else:
            psi[lv] = np.full(R, 0.05)
            lam[lv] = {}
    std_lv = pt.unit_variance_latents(comp.lv)
    for k in range(len(pt)):
        o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
        if o == "=~":
            v = lam[a].get(b, np.ones(R))
            if a in std_lv and b in ov:
                v = v * np.sqrt(psi[a])
            vals[:, k] = v
        elif o == "~~" and a == b:
            vals[:, k] = 0.5 * S[:, ov.index(a), ov.index(a)] if a in ov else psi.get(a, np.full(R, 0.05))
    return vals[:, comp.theta_rows]


def fit_ml_batch(model, S: np.ndarray, n: int, *, std_lv: bool = False, max_iter: int = 200) -> BatchResult:
    """Fit ``model`` by ML to each of R sample covariance matrices S[r] (divisor n) of samples of size n."""
    if not isinstance(model, Model):
        model = Model.from_syntax(model)
    S = np.asarray(S, dtype=float)
    if S.ndim != 3 or S.shape[1] != S.shape[2]:
        raise AnalysisError("fit_ml_batch: S must have shape (R, p, p)")
    comp = compile_model(model, 1, False, bool(std_lv), (), ())
    if len(comp.ov_x):
        raise AnalysisError("fit_ml_batch: models with observed exogenous covariates (fixed.x) are not supported")
    p = comp.p
    if S.shape[1] != p:
        raise AnalysisError(f"fit_ml_batch: S has {S.shape[1]} variables, the model {p} ({', '.join(comp.ov)})")
    q = comp.q
    if n < q:
        raise AnalysisError(f"only {int(n)} cases for {q} free parameters; the model cannot be estimated")
    R = S.shape[0]
    fixed = np.where(np.isnan(comp.pt.ustart), 0.0, comp.pt.ustart)
    bt = _Batch(comp, fixed)
    sign, logdetS = np.linalg.slogdet(S)
    bad = sign <= 0
    theta = _starts(comp, S)
    done = np.zeros(R, dtype=bool)
    failed = bad.copy()
    iters = np.zeros(R, dtype=int)
    act = np.nonzero(~failed)[0]
    g, I, _, _, _, F_act, okpd = bt.grad_info(theta[act], S[act], logdetS[act])
    F = np.full(R, np.inf)
    F[act] = F_act
    failed[act[~okpd]] = True
    G_, I_ = np.zeros((R, q)), np.zeros((R, q, q))
    G_[act], I_[act] = g, I
    for _it in range(max_iter):
        act = np.nonzero(~done & ~failed)[0]
        if not len(act):
            break
        g, I = G_[act], I_[act]
        gmax = np.max(np.abs(g), axis=1)
        conv = gmax < GRAD_TOL
        done[act[conv]] = True
        act, g, I, gmax = act[~conv], g[~conv], I[~conv], gmax[~conv]
        if not len(act):
            break
        iters[act] += 1
        try:
            step = -np.linalg.solve(I, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = np.zeros_like(g)
            for t in range(len(act)):
                try:
                    step[t] = -np.linalg.solve(I[t], g[t])
                except np.linalg.LinAlgError:
                    failed[act[t]] = True
        slope = np.einsum("rq,rq->r", g, step)
        # full step first, evaluated together with the next gradient and information
        tn = theta[act] + step
        gn, In, _, _, _, Fn, okn = bt.grad_info(tn, S[act], logdetS[act])
        Fo = F[act]
        ok = okn & np.isfinite(Fn) & ((Fn <= Fo + 1e-4 * slope) | ((gmax < 1e-5) & (Fn <= Fo + 1e-12)))
        acc = act[ok]
        theta[acc], F[acc], G_[acc], I_[acc] = tn[ok], Fn[ok], gn[ok], In[ok]
        # step halving for the others
        rej = np.nonzero(~ok)[0]
        a = np.full(len(rej), 0.5)
        for _ in range(30):
            if not len(rej):
                break
            r_act = act[rej]
            tn = theta[r_act] + a[:, None] * step[rej]
            Fn = bt.objective(tn, S[r_act], logdetS[r_act])
            ok2 = np.isfinite(Fn) & (
                (Fn <= F[r_act] + 1e-4 * a * slope[rej]) | ((gmax[rej] < 1e-5) & (Fn <= F[r_act] + 1e-12))
            )
            if ok2.any():
                r_ok = r_act[ok2]
                gn, In, _, _, _, Fn2, okn = bt.grad_info(tn[ok2], S[r_ok], logdetS[r_ok])
                theta[r_ok], F[r_ok], G_[r_ok], I_[r_ok] = tn[ok2], Fn2, gn, In
            rej, a = rej[~ok2], a[~ok2] * 0.5
        failed[act[rej]] = True
    fallback = ~done
    converged = done.copy()
    # single-fit path for the rest
    for r in np.nonzero(fallback)[0]:
        if bad[r]:
            continue
        prob = _problem_from_S(comp, fixed, S[r], n)
        from .engine import start_values

        th, conv, its, gm, msg = optimise(prob, start_values(prob))
        theta[r] = th
        converged[r] = conv
        iters[r] += its
    # standard errors, standardized loadings, fit
    ok = ~bad
    g, I, Sigma, E, Sm = bt.grad_info(theta[ok], S[ok])
    se = np.full((R, q), np.nan)
    V = np.full((R, q, q), np.nan)
    try:
        Vi = np.linalg.inv(I) / n
    except np.linalg.LinAlgError:
        Vi = np.stack([np.linalg.pinv(x) for x in I]) / n
    V[ok] = Vi
    se[ok] = np.sqrt(np.clip(np.diagonal(Vi, axis1=1, axis2=2), 0, None))
    pt = comp.pt
    load_rows = [k for k in range(len(pt)) if pt.op[k] == "=~"]
    std = np.full((R, len(pt)), np.nan)
    std[ok] = bt.std_all(theta[ok])
    J = np.zeros((int(ok.sum()), len(load_rows), q))
    h = 1e-6
    for j in range(q):
        tp, tm = theta[ok].copy(), theta[ok].copy()
        tp[:, j] += h
        tm[:, j] -= h
        J[:, :, j] = (bt.std_all(tp)[:, load_rows] - bt.std_all(tm)[:, load_rows]) / (2 * h)
    std_se = np.full((R, len(load_rows)), np.nan)
    std_se[ok] = np.sqrt(np.clip(np.einsum("rkq,rqs,rks->rk", J, Vi, J), 0, None))
    Fv = np.full(R, np.nan)
    Fv[ok] = bt.objective(theta[ok], S[ok], logdetS[ok])
    chi2 = 2 * n * Fv
    df = p * (p + 1) // 2 - q
    sd = np.sqrt(np.diagonal(S, axis1=1, axis2=2))
    base = n * (np.sum(np.log(np.diagonal(S, axis1=1, axis2=2)), axis=1) - logdetS)
    dfb = p * (p - 1) // 2
    t1 = np.maximum(chi2 - df, 0)
    t2 = np.maximum(np.maximum(chi2 - df, base - dfb), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cfi = np.where((t1 < 1.5e-8) & (t2 < 1.5e-8), 1.0, 1 - t1 / t2)
        tli = 1 - ((chi2 - df) * dfb) / ((base - dfb) * df) if df > 0 else np.ones(R)
        rmsea = np.sqrt(np.maximum(chi2 / n / df - 1 / n, 0)) if df > 0 else np.zeros(R)
    Sig_full = np.full((R, p, p), np.nan)
    Sig_full[ok] = Sigma
    Rres = (S - Sig_full) / (sd[:, :, None] * sd[:, None, :])
    li, lj = np.tril_indices(p)
    srmr = np.sqrt(np.mean(Rres[:, li, lj] ** 2, axis=1))
    vals = bt.vals(theta)
    var_rows = [k for k in range(len(pt)) if pt.op[k] == "~~" and pt.lhs[k] == pt.rhs[k]]
    cor_rows = [k for k in range(len(pt)) if (pt.op[k] == "=~") or (pt.op[k] == "~~" and pt.lhs[k] != pt.rhs[k])]
    improper = (np.any(vals[:, var_rows] < 0, axis=1) | np.any(np.abs(std[:, cor_rows]) >= 1, axis=1)) & ok
    fitdf = pd.DataFrame(
        {
            "chi2": chi2,
            "df": df,
            "p": special.chdtrc(df, chi2) if df > 0 else np.nan,
            "cfi": cfi,
            "tli": tli,
            "rmsea": rmsea,
            "srmr": srmr,
            "converged": converged & ok,
            "improper": improper,
            "iterations": iters,
            "fallback": fallback,
        }
    )
    names = [pt.key(int(k)) for k in comp.theta_rows]
    sl = std[:, load_rows]
    return BatchResult(
        params=names,
        est=theta,
        se=se,
        loadings=[pt.key(k) for k in load_rows],
        std_loadings=sl,
        std_loadings_se=std_se,
        std_loadings_ci_lower=sl - Z975 * std_se,
        std_loadings_ci_upper=sl + Z975 * std_se,
        fit=fitdf,
        converged=converged & ok,
        improper=improper,
        fallback=fallback,
    )
