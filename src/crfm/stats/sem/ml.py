"""Normal-theory ML for complete data and FIML: objective, gradient, information, optimiser.

Objective (lavaan's ``fmin`` scale): F(theta) = -(logL(theta) - logL_h1) / N with
logL = sum_g sum_patterns -n_p/2 [k_p log 2 pi + log|Sigma_oo| + tr(Sigma_oo^-1 (S_p + d d'))],
d = ybar_p - mu_o. For complete data there is one pattern and F is lavaan's ML discrepancy
F_ML = sum_g (n_g/N) 1/2 [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p (+ (ybar - mu)' Sigma^-1 (ybar - mu))]
(``lav_objective_ML`` / ``estimator.ML``); for missing data it is ``lav_mvnorm_missing_loglik_samplestats``.
Without a mean structure (single-group complete data) mu is the sample mean. chi2 = 2 N F.

Gradient: dF/dtheta = -(1/N) sum_g Delta_g' (dlogL_g/dmu, dlogL_g/dvech Sigma) with
dlogL/dSigma = sum_p n_p/2 (W T W - W) embedded (W = Sigma_oo^-1, T = S_p + d d'),
dlogL/dmu = sum_p n_p W d; a vech element i != j counts twice.

Information (unit, i.e. per case; lavaan ``lav_model_information_*``; vcov = inverse / N):

* expected, complete data: sum_g (n_g/N) Delta_g' A1_g Delta_g with A1 = [Sigma^-1 ; f_u f_v
  (W_ik W_jl + W_il W_jk)] (= 1/2 D'(W (x) W) D; f = 1 off-diagonal, 1/2 diagonal);
  ``lav_mvnorm_information_expected``.
* expected, FIML: the same summed over patterns with W = Sigma_oo^-1 embedded (zeros for the
  missing variables), weights n_p/N; ``lav_mvnorm_missing_information_expected``. Used as the
  Fisher-scoring metric and for modification indices under FIML.
* observed (lavaan's default with missing = "ml" and for MLR, ``observed.information = "hessian"``):
  the Hessian of F from the analytic gradient by lavaan's own 4-point central difference
  (``lav_model_hessian``: h = 1e-6, (g(-2h) - 8 g(-h) + 8 g(h) - g(2h)) / 12h, then symmetrised).
* first order (the MLR meat, ``lav_model_information_firstorder``): (1/n_g) sum_i s_i s_i' of the
  casewise scores of (mu, vech Sigma), s_mu = W d_i, s_sigma_u = f_u (z_i z_j - W_ij), z = W d_i,
  evaluated at the model-implied moments (h1.information = "structured"), mapped by Delta.

Optimiser: Fisher scoring (expected information) while max |dF/dtheta| >= 0.1, then Newton's method
with the analytic Hessian (``Problem.grad_hess``: the moment-space Hessian of logL plus the second
derivatives of the implied moments contracted with dF/dm) whenever that Hessian is positive definite
(scoring otherwise), each with step halving (Armijo) on F; from lavaan-like starting values. Converged when max |dF/dtheta| < 1e-9
(F on lavaan's fmin scale; lavaan's nlminb stops on a relative change of F of 1e-10, which leaves
its estimates up to ~1e-5 from the optimum in flat directions). At most 200 iterations; if the
iteration stalls, scipy's BFGS continues from the best point, and estimates that run off to
infinity (an empirically under-identified model) stop the fit early. Whatever happens is reported
(``converged`` False plus a message): no bounds, no clipping, a negative variance is an improper
solution that is flagged, never hidden.
"""

from __future__ import annotations

import numpy as np

from .data import LOG2PI, pattern_loglik

__all__ = ["Problem"]

GRAD_TOL = 1e-9


class Problem:
    """A compiled model bound to the sample statistics of its groups."""

    def __init__(self, comp, groups, fixed_vals: np.ndarray):
        self.c = comp
        self.groups = groups
        self.N = float(sum(g.n for g in groups))
        self.fixed = fixed_vals  # value of every table row when fixed (exo rows filled)
        self.h1_loglik = float(sum(g.h1_loglik for g in groups))
        self.last_hessian = None
        # the mean of h1 used when there is no mean structure (complete data only)
        self._vi, self._vj, self._vf = comp.vech_i, comp.vech_j, comp.vech_f
        vi, vj = self._vi, self._vj
        self._ii = (vi[:, None], vi[None, :])
        self._jj = (vj[:, None], vj[None, :])
        self._ij = (vi[:, None], vj[None, :])
        self._ji = (vj[:, None], vi[None, :])
        self._ff = self._vf[:, None] * self._vf[None, :]
        # flat indices for the moment Hessian: u = (i, j), v = (k, l) over vech
        p = comp.p
        self._fik = vi[:, None] * p + vi[None, :]
        self._fjl = vj[:, None] * p + vj[None, :]
        self._fil = vi[:, None] * p + vj[None, :]
        self._fjk = vj[:, None] * p + vi[None, :]
        p2 = p * p
        self._t_ikjl = self._fik * p2 + self._fjl
        self._t_iljk = self._fil * p2 + self._fjk
        self._t_jlik = self._fjl * p2 + self._fik
        self._t_jkil = self._fjk * p2 + self._fil
        self._vij = vi * p + vj
        self._vji = vj * p + vi

    # ---------------------------------------------------------------- moments and likelihood
    def vals(self, theta):
        return self.c.values(theta, self.fixed)

    def implied(self, theta):
        vals = self.vals(theta)
        return [self.c.implied(g, vals) for g in range(self.c.ngroups)], vals

    def loglik(self, theta, imp=None):
        if imp is None:
            imp, _ = self.implied(theta)
        ll = 0.0
        for gd, (Sigma, mu, *_rest) in zip(self.groups, imp):
            ll += _ll_group(gd, Sigma, mu)
            if not np.isfinite(ll):
                return -np.inf
        return ll

    def objective(self, theta):
        ll = self.loglik(theta)
        return np.inf if not np.isfinite(ll) else -(ll - self.h1_loglik) / self.N

    def gradient(self, theta, want_info=False, imp=None, vals=None):
        """dF/dtheta (and the expected information when asked); None when Sigma is not PD."""
        if imp is None:
            imp, vals = self.implied(theta)
        q = self.c.q
        grad = np.zeros(q)
        info = np.zeros((q, q)) if want_info else None
        ll_tot = 0.0
        for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(self.groups, imp)):
            out = _grad_group(self.c.p, gd, Sigma, mu, self, want_info)
            if out is None:
                return None
            ll, mgrad, A1 = out[:3]
            ll_tot += ll
            D = self.c.delta(g, vals, E, S, al)
            grad -= D.T @ mgrad / self.N
            if want_info:
                info += D.T @ A1 @ D / self.N
        return grad, info, ll_tot

    def expected_info(self, theta):
        return self.gradient(theta, want_info=True)[1]

    def observed_info(self, theta, h: float = 1e-6):
        """lavaan's ``lav_model_hessian``: 4-point central differences of the analytic gradient."""
        q = self.c.q
        H = np.zeros((q, q))
        for j in range(q):
            cols = []
            for step in (-2 * h, -h, h, 2 * h):
                t = theta.copy()
                t[j] += step
                cols.append(self.gradient(t)[0])
            H[:, j] = (cols[0] - 8 * cols[1] + 8 * cols[2] - cols[3]) / (12 * h)
        return (H + H.T) / 2

    def hessian(self, theta, imp=None, vals=None):
        """Analytic Hessian of F (the observed information, unit scale); None when Sigma is not PD.

        H = sum_g Delta_g' H_m Delta_g + P_g' H2_g P_g: H_m = -(1/N) d2 logL / dm dm' in the moment space
        (mu, vech Sigma) summed over patterns, and H2 the second derivatives of the moments contracted with
        dF/dm (see ``_h2_rows``). Agrees with lavaan's numerical ``lav_model_hessian`` to ~1e-9."""
        out = self.grad_hess(theta, imp, vals)
        return None if out is None else out[2]

    def grad_hess(self, theta, imp=None, vals=None):
        """(logL, dF/dtheta, Hessian of F) in one pass; None when Sigma is not PD."""
        if imp is None:
            imp, vals = self.implied(theta)
        q = self.c.q
        H = np.zeros((q, q))
        grad = np.zeros(q)
        ll_tot = 0.0
        for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(self.groups, imp)):
            out = _grad_group(self.c.p, gd, Sigma, mu, self, want_info=False, want_hess=True)
            if out is None:
                return None
            ll, mgrad, Hl, Gl, hl = out
            ll_tot += ll
            D = self.c.delta(g, vals, E, S, al)
            grad -= D.T @ mgrad / self.N
            H -= D.T @ Hl @ D / self.N
            P = self.c.g_P[g]
            H2 = _h2_rows(self.c, g, E, S, al, -Gl / self.N, -hl / self.N if mu is not None else None)
            H += P.T @ H2 @ P
        return ll_tot, grad, (H + H.T) / 2

    def firstorder_group(self, theta, structured: bool = True):
        """Per group (B1_g in moment space, Delta_g): casewise-score cross products / n_g."""
        imp, vals = self.implied(theta)
        out = []
        for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(self.groups, imp)):
            if structured:
                Sig, m = Sigma, (mu if mu is not None else None)
            else:
                Sig, m = gd.cov, gd.mean
            scores = self.casewise_scores(gd, Sig, m)
            B1 = scores.T @ scores / gd.n
            out.append((B1, self.c.delta(g, vals, E, S, al)))
        return out

    def casewise_scores(self, gd, Sigma, mu):
        """(n, [p +] p*) scores of the casewise log-likelihood w.r.t. (mu, vech Sigma), rows grouped by pattern."""
        p = self.c.p
        vi, vj, vf = self._vi, self._vj, self._vf
        rows_out = []
        for b in gd.blocks:
            P, k = b.obs.shape
            o = b.obs
            W = np.linalg.inv(Sigma[o[:, :, None], o[:, None, :]])  # (P, k, k)
            mu_o = mu[o] if mu is not None else gd.mean[o]
            pid = np.repeat(np.arange(P), [r.shape[0] for r in b.rows])
            Y = np.vstack(b.rows)
            Zo = np.einsum("nk,nkj->nj", Y - mu_o[pid], W[pid])
            Z = np.zeros((Y.shape[0], p))
            Z[np.arange(Y.shape[0])[:, None], o[pid]] = Zo
            Wemb = np.zeros((P, p, p))
            Wemb[np.arange(P)[:, None, None], o[:, :, None], o[:, None, :]] = W
            sc = vf * (Z[:, vi] * Z[:, vj] - Wemb[:, vi, vj][pid])
            if self.c.meanstructure:
                sc = np.hstack([Z, sc])
            rows_out.append(sc)
        return np.vstack(rows_out)

    def h1_expected_A1(self, W):
        """1/2 D'(W (x) W) D in vech coordinates for a (possibly embedded) W."""
        return self._ff * (W[self._ii] * W[self._jj] + W[self._ij] * W[self._ji])


def _ll_group(gd, Sigma, mu):
    return pattern_loglik(gd.stack, Sigma, mu)


def _grad_group_complete(p, gd, Sigma, mu, prob, want_info, want_hess):
    """_grad_group for one complete-data block (2-D arrays, flat-index gathers)."""
    meanstr = prob.c.meanstructure
    b = gd.blocks[0]
    n = float(b.n[0])
    try:
        L = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(L))))
    W = np.linalg.inv(Sigma)
    if mu is None:
        d = np.zeros(p)
        T = b.cov[0]
    else:
        d = b.mean[0] - mu
        T = b.cov[0] + np.outer(d, d)
    ll = -0.5 * n * (p * LOG2PI + logdet + float(np.sum(W * T)))
    WTW = W @ T @ W
    G = 0.5 * n * (WTW - W)
    z = W @ d
    h = n * z
    gvech = 2.0 * prob._vf * G.ravel()[prob._vij]
    mgrad = np.concatenate([h, gvech]) if meanstr else gvech
    Wr = W.ravel()
    if want_info or want_hess:
        WW = Wr[prob._fik] * Wr[prob._fjl] + Wr[prob._fil] * Wr[prob._fjk]
    if want_hess:
        Vr = WTW.ravel()
        M = (
            Wr[prob._fil] * Vr[prob._fjk]
            + Wr[prob._fjl] * Vr[prob._fik]
            + Wr[prob._fik] * Vr[prob._fjl]
            + Wr[prob._fjk] * Vr[prob._fil]
        )
        Hcc = -0.5 * n * prob._ff * (-2.0 * WW + M + M.T)
        if meanstr:
            nc = len(prob._vi)
            Hl = np.zeros((nc + p, nc + p))
            Hl[p:, p:] = Hcc
            Hl[:p, :p] = -n * W
            Hmc = -n * (W[:, prob._vi] * z[prob._vj] + W[:, prob._vj] * z[prob._vi]) * prob._vf[None, :]
            Hl[:p, p:] = Hmc
            Hl[p:, :p] = Hmc.T
        else:
            Hl = Hcc
        return ll, mgrad, Hl, G, h
    A1 = None
    if want_info:
        blk = n * prob._ff * WW
        if meanstr:
            nc = len(prob._vi)
            A1 = np.zeros((nc + p, nc + p))
            A1[p:, p:] = blk
            A1[:p, :p] = n * W
        else:
            A1 = blk
    return ll, mgrad, A1


def _grad_group(p, gd, Sigma, mu, prob, want_info, want_hess=False):
    if len(gd.blocks) == 1 and gd.blocks[0].obs.shape == (1, p):
        return _grad_group_complete(p, gd, Sigma, mu, prob, want_info, want_hess)
    meanstr = prob.c.meanstructure
    st = gd.stack
    inv = st.inverse(Sigma)
    if inv is None:
        return None
    logdet, W = inv  # W: Sigma_oo^-1 embedded, (P, p, p)
    if mu is None:
        d = np.zeros_like(st.mean)
        T = st.cov
    else:
        d = st.mean - mu * st.obs
        T = st.cov + d[:, :, None] * d[:, None, :]
    ll = float(np.sum(-0.5 * st.n * (st.k * LOG2PI + logdet + np.einsum("pij,pji->p", W, T))))
    WTW = W @ T @ W
    G = 0.5 * np.einsum("p,pij->ij", st.n, WTW - W)
    zemb = np.einsum("pij,pj->pi", W, d)
    h = st.n @ zemb
    acc = None
    if want_info or want_hess:
        acc = _hess_accumulate(W, WTW if want_hess else W, zemb, st.n, meanstr or want_info)
    nc = len(prob._vi)
    A1 = None
    if want_info:
        A1 = np.zeros((nc + p, nc + p)) if meanstr else np.zeros((nc, nc))
        tw = acc[0].ravel()
        blk = prob._ff * (tw[prob._t_ikjl] + tw[prob._t_iljk])
        if meanstr:
            A1[p:, p:] = blk
            A1[:p, :p] = acc[3]
        else:
            A1 = blk
    gvech = 2.0 * prob._vf * G[prob._vi, prob._vj]
    mgrad = np.concatenate([h, gvech]) if meanstr else gvech
    if want_hess:
        Hl = np.zeros((nc + p, nc + p)) if meanstr else np.zeros((nc, nc))
        _moment_hessian(prob, Hl, acc, meanstr)
        return ll, mgrad, Hl, G, h
    return ll, mgrad, A1


def _hess_accumulate(W, V, z, n, meanstr):
    """Sum over patterns of n_p W (x) W, n_p W (x) V (4-index tensors), n_p W z' and n_p W (embedded)."""
    P, p, _ = W.shape
    Wf = W.reshape(P, p * p)
    nW = n[:, None] * Wf
    TWW = (nW.T @ Wf).reshape(p, p, p, p)  # [i, k, j, l] = sum n W_ik W_jl
    TWV = (nW.T @ V.reshape(P, p * p)).reshape(p, p, p, p)
    if meanstr:
        TWz = (nW.T @ z).reshape(p, p, p)  # [r, i, j] = sum n W_ri z_j
        SW = nW.sum(axis=0).reshape(p, p)
    else:
        TWz = SW = None
    return [TWW, TWV, TWz, SW]


def _moment_hessian(prob, Hl, acc, meanstr):
    """d2 logL / dm dm' summed over patterns (W = Sigma_oo^-1, V = W T W, z = W d, all embedded):

    d2/dsigma_u dsigma_v = -1/2 f_u f_v sum_p n_p [-2 (W_ik W_jl + W_il W_jk)
                           + (W_il V_jk + W_jl V_ik + W_ik V_jl + W_jk V_il) + (same with u <-> v)],
    d2/dmu dmu' = -sum n_p W,  d2/dmu_r dsigma_u = -f_u sum n_p (W_ri z_j + W_rj z_i)  (u = (i, j), v = (k, l)).
    The pattern sums are taken first as 4-index tensors, so the cost does not grow with the number of patterns."""
    TWW, TWV, TWz, SW = acc
    vi, vj = prob._vi, prob._vj
    tw, tv = TWW.ravel(), TWV.ravel()
    t1 = 2.0 * (tw[prob._t_ikjl] + tw[prob._t_iljk])
    M = tv[prob._t_iljk] + tv[prob._t_jlik] + tv[prob._t_ikjl] + tv[prob._t_jkil]
    Hcc = -0.5 * prob._ff * (-t1 + M + M.T)
    if meanstr:
        p = SW.shape[0]
        Hl[p:, p:] += Hcc
        Hl[:p, :p] += -SW
        Hmc = -(TWz[:, vi, vj] + TWz[:, vj, vi]) * prob._vf[None, :]
        Hl[:p, p:] += Hmc
        Hl[p:, :p] += Hmc.T
    else:
        Hl += Hcc


def _h2_rows(c, g, E, S, al, G, h):
    """Hessian of Q = tr(G Sigma(theta)) + h' mu(theta) w.r.t. the free table rows (G, h held fixed).

    With Pm = F'GF, Omega = E S E', R = E' Pm E, OPE = Omega Pm E, t = E' F'h, m = E alpha:
    d2Q/dA_ab dA_cd = 2 [E_bc OPE_da + Omega_bd R_ca + OPE_bc E_da] + t_c E_da m_b + t_a E_bc m_d;
    d2Q/dA_ab dS_cd = 2 [E_bc R_da + E_bd R_ca] (x 1/2 when c = d); d2Q/dA_ab dalpha_c = t_a E_bc;
    all other second derivatives vanish (Sigma is linear in S, mu linear in alpha)."""
    p, m = c.p, c.m
    Pm = np.zeros((m, m))
    Pm[:p, :p] = G
    Om = E @ S @ E.T
    R = E.T @ Pm @ E
    OPE = Om @ Pm @ E
    rows = c.g_rows[g]
    _, a, b = rows["A_free"]
    _, cS, dS = rows["S_free"]
    _, ca, _ = rows["al_free"]
    nA, nS, na = len(a), len(cS), len(ca)
    n = nA + nS + na
    H = np.zeros((n, n))
    if nA == 0:
        return H
    A_ = a[:, None]
    B_ = b[:, None]
    C_ = a[None, :]
    D_ = b[None, :]
    HAA = 2.0 * (E[B_, C_] * OPE[D_, A_] + Om[B_, D_] * R[C_, A_] + OPE[B_, C_] * E[D_, A_])
    if h is not None:
        hf = np.zeros(m)
        hf[:p] = h
        t = E.T @ hf
        mv = E @ al
        HAA += t[C_] * E[D_, A_] * mv[B_] + t[A_] * E[B_, C_] * mv[D_]
    H[:nA, :nA] = HAA
    if nS:
        cc, dd = cS[None, :], dS[None, :]
        HAS = 2.0 * (E[B_, cc] * R[dd, A_] + E[B_, dd] * R[cc, A_]) * np.where(cS == dS, 0.5, 1.0)[None, :]
        H[:nA, nA : nA + nS] = HAS
        H[nA : nA + nS, :nA] = HAS.T
    if na and h is not None:
        HAa = t[A_] * E[B_, ca[None, :]]
        H[:nA, nA + nS :] = HAa
        H[nA + nS :, :nA] = HAa.T
    return H


NEWTON_FROM = 1e-1  # max |gradient| below which the (more expensive) Newton step is used


def _evaluate(prob, theta, newton):
    """(logL, gradient, matrix, kind): the Hessian ("H") for a Newton step or the expected information ("I")."""
    if newton:
        out = prob.grad_hess(theta)
        return None if out is None else (out[0], out[1], out[2], "H")
    out = prob.gradient(theta, want_info=True)
    return None if out is None else (out[2], out[0], out[1], "I")


def optimise(prob: Problem, theta0: np.ndarray, max_iter: int = 200, _fallback: bool = True):
    """Fisher scoring far from the optimum, Newton (analytic Hessian, when positive definite) close to
    it, with step halving; returns (theta, converged, iterations, max|grad|, message)."""
    theta = theta0.copy()
    out = _evaluate(prob, theta, not _fallback)
    if out is None:
        return theta, False, 0, np.inf, "the starting values give a non-positive-definite implied covariance"
    ll, g, Mx, kind = out
    f = -(ll - prob.h1_loglik) / prob.N
    it = 0
    msg = ""
    for it in range(1, max_iter + 1):
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if gmax < GRAD_TOL:
            if kind == "H":
                prob.last_hessian = (theta.copy(), Mx)  # reused for the observed-information SEs
            return theta, True, it - 1, gmax, ""
        step = None
        if kind == "H":
            try:
                Lc = np.linalg.cholesky(Mx)  # Newton only where the Hessian is positive definite
                step = -np.linalg.solve(Lc.T, np.linalg.solve(Lc, g))
            except np.linalg.LinAlgError:
                Mx = prob.expected_info(theta)
        if step is None:
            try:
                step = -np.linalg.solve(Mx, g)
            except np.linalg.LinAlgError:
                step = -np.linalg.lstsq(Mx, g, rcond=None)[0]
        a = 1.0
        accepted = False
        slope = float(g @ step)
        for _ in range(30):
            t_new = theta + a * step
            f_new = prob.objective(t_new)
            if np.isfinite(f_new) and (f_new <= f + 1e-4 * a * slope or (gmax < 1e-5 and f_new <= f + 1e-12)):
                out = _evaluate(prob, t_new, gmax < NEWTON_FROM)
                if out is not None:
                    accepted = True
                    break
            a *= 0.5
        if not accepted:
            msg = "Newton/Fisher scoring could not decrease the objective"
            break
        theta, f = t_new, f_new
        _, g, Mx, kind = out
        if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > 1e8:
            msg = "the estimates diverge (an empirically under-identified model?)"
            return theta, False, it, float(np.max(np.abs(g))), msg
    if not _fallback:
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        return theta, gmax < GRAD_TOL, it, gmax, msg or f"max |gradient| = {gmax:.2e} after {it} iterations"
    # fall back: quasi-Newton from the best point, then Newton again to the same criterion
    from scipy import optimize

    res = optimize.minimize(
        prob.objective,
        theta,
        jac=lambda t: _safe_grad(prob, t),
        method="BFGS",
        options={"gtol": GRAD_TOL, "maxiter": 1000},
    )
    theta2, conv, it2, gmax, msg2 = optimise(prob, res.x, max_iter=50, _fallback=False)
    if not conv:
        msg = (msg + "; " if msg else "") + f"max |gradient| = {gmax:.2e} after BFGS ({res.message}) and Newton"
    return theta2, conv, it + it2, gmax, msg


def _safe_grad(prob, t):
    out = prob.gradient(t)
    if out is None:
        return np.full(prob.c.q, np.nan)
    return out[0]
