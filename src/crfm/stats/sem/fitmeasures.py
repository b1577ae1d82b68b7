"""Fit measures as lavaan 0.6-14's ``fitMeasures()`` (``lav_fit_*``).

* chi2 = 2 (logL_h1 - logL) (= 2 N F_ML for complete data), df = G [p*(+p) - x moments] - npar
  (the fixed.x moments are not counted: ``lav_partable_df``), p from the upper chi-square tail.
* logl, unrestricted.logl (h1: sample moments or EM), aic = -2 logl + 2 npar, bic = -2 logl + npar log N,
  bic2 (sample-size adjusted) with N* = (N + 2)/24.
* baseline (``lav_object_independence``): all non-x variances (and means) free, every covariance 0
  except among the fixed.x covariates; estimated in closed form (complete data: s_jj, ybar_j; FIML:
  the univariate ML mean/variance of the observed values, which is the FIML estimate because the
  likelihood factorises). baseline df = G [p_y(p_y - 1)/2 + p_y p_x].
* cfi = 1 - max(chi2 - df, 0)/max(chi2 - df, chi2_B - df_B, 0); tli = 1 - [(chi2 - df) df_B]/[(chi2_B - df_B) df]
  (``lav_fit_cfi``/``lav_fit_tli``).
* rmsea = sqrt(max(chi2/(N df) - 1/N, 0)) sqrt(G); 90% CI by solving P(chi2; df, lambda) = .95 / .05 for
  lambda (scipy's ``ncx2``; lavaan's uniroot on [0, chi2] and [0, max(N, 4 chi2)]),
  CI = sqrt(lambda/(N df)) sqrt(G); pclose = 1 - P(chi2; df, N df .05^2 / G) (``lav_fit_rmsea_*``).
* srmr (lavaan's "srmr" = "srmr_bentler"): per group, residuals standardised by the h1 (sample or EM)
  standard deviations, r_ij = (s_ij - sigma_ij)/sqrt(s_ii s_jj) over i <= j, and with a mean structure
  also (m_i - mu_i)/sqrt(s_ii); srmr_g = sqrt(mean of the squares); srmr = sum_g (n_g/N) srmr_g.
  So under FIML (and multi-group) the mean residuals count, as in lavaan; srmr_nomean leaves them out.
* MLR: chi2_scaled, scaling_factor (Yuan-Bentler, see robust.py), cfi/tli/rmsea ``scaled`` and ``robust``.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.linalg import block_diag

from . import robust as rb
from .data import pattern_loglik

__all__ = ["fit_measures", "rmsea_ci", "cfi", "tli"]


def cfi(X2, df, X2b, dfb, c=1.0, cb=1.0):
    if not all(np.isfinite([X2, df, X2b, dfb, c, cb])):
        return np.nan
    if df > 0 and c != 1 and cb != 1:
        t1 = max(X2 - c * df, 0.0)
        t2 = max(X2 - c * df, X2b - cb * dfb, 0.0)
    else:
        t1 = max(X2 - df, 0.0)
        t2 = max(X2 - df, X2b - dfb, 0.0)
    if np.isclose(t1, 0.0, atol=1.5e-8) and np.isclose(t2, 0.0, atol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def tli(X2, df, X2b, dfb, c=1.0, cb=1.0):
    if not all(np.isfinite([X2, df, X2b, dfb, c, cb])):
        return np.nan
    if df > 0 and c != 1 and cb != 1:
        t1 = (X2 - c * df) * dfb
        t2 = (X2b - cb * dfb) * df
    else:
        t1 = (X2 - df) * dfb
        t2 = (X2b - dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea(X2, df, N, G=1, c=1.0):
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(X2 / N / df - c / N, 0.0)) * np.sqrt(G))


def _pchisq(x, df, ncp):
    """P(X <= x) for the (noncentral) chi-square (scipy.special's chdtr/chndtr: ncx2.cdf without its overhead)."""
    if ncp <= 0:
        return float(special.chdtr(df, x))
    return float(special.chndtr(x, df, ncp))


def rmsea_ci(X2, df, N, G=1, c=1.0, level=0.90):
    if not (np.isfinite(X2) and np.isfinite(df)) or df < 1:
        return 0.0, 0.0
    from scipy import optimize

    up, lo = 1 - (1 - level) / 2, (1 - level) / 2
    f_l = lambda lam: _pchisq(X2, df, lam) - up  # noqa: E731
    f_u = lambda lam: _pchisq(X2, df, lam) - lo  # noqa: E731
    if f_l(0.0) < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(f_l, 0.0, X2, xtol=1e-12, rtol=1e-14) if f_l(X2) < 0 else np.nan
        lower = float(np.sqrt(c * lam / (N * df)) * np.sqrt(G))
    n_r = max(N, 4 * X2)
    if f_u(n_r) > 0 or f_u(0.0) < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(f_u, 0.0, n_r, xtol=1e-12, rtol=1e-14)
        upper = float(np.sqrt(c * lam / (N * df)) * np.sqrt(G))
    return lower, upper


def rmsea_pclose(X2, df, N, G=1, c=1.0, h0=0.05):
    if df <= 0:
        return np.nan
    ncp = N * df / c * h0**2 / G
    return 1.0 - _pchisq(X2, df, ncp)


def _baseline(prob):
    """Per group (Sigma_B, mu_B, Delta_B) of the independence model and its log-likelihood."""
    c = prob.c
    p = c.p
    xs = set(int(i) for i in c.x_idx)
    ys = [i for i in range(p) if i not in xs]
    ll = 0.0
    out = []
    for gd in prob.groups:
        Y = gd.Y
        mu = np.nanmean(Y, axis=0)
        var = np.nanmean((Y - mu) ** 2, axis=0)
        if gd.complete:
            mu, var = gd.mean.copy(), np.diag(gd.cov).copy()
        Sig = np.diag(var)
        if xs:
            xi = np.array(sorted(xs))
            Sig[np.ix_(xi, xi)] = gd.cov[np.ix_(xi, xi)] if gd.complete else np.cov(Y[:, xi], rowvar=False, bias=True)
            mu[xi] = Y[:, xi].mean(axis=0)
        meanstr = c.meanstructure
        ll += pattern_loglik(gd.stack, Sig, mu if meanstr else None)
        nc = len(c.vech_i)
        nm = nc + p if meanstr else nc
        cols = []
        for j in ys:
            if meanstr:
                col = np.zeros(nm)
                col[j] = 1.0
                cols.append(col)
        for j in ys:
            col = np.zeros(nm)
            u = int(np.nonzero((c.vech_i == j) & (c.vech_j == j))[0][0])
            col[(p if meanstr else 0) + u] = 1.0
            cols.append(col)
        out.append((Sig, mu if meanstr else None, np.array(cols).T))
    py, px = len(ys), len(xs)
    dfb = prob.c.ngroups * (py * (py - 1) // 2 + py * px)
    return out, ll, dfb


def srmr(prob, implied, with_means=True):
    vals = []
    for gd, (Sig, mu) in zip(prob.groups, implied):
        S, m = gd.cov, gd.mean
        sd = np.sqrt(np.diag(S))
        R = (S - Sig) / np.outer(sd, sd)
        r = list(R[np.tril_indices_from(R)])
        if with_means and mu is not None:
            r += list((m - mu) / sd)
        vals.append(np.sqrt(np.mean(np.square(r))))
    w = np.array([gd.n for gd in prob.groups]) / prob.N
    return float(np.sum(w * np.array(vals)))


def fit_measures(prob, theta, *, estimator, fiml, H=None, H_inv=None):
    """The fitMeasures dict (see the module docstring). H: observed information (for MLR)."""
    c = prob.c
    G = c.ngroups
    N = prob.N
    p = c.p
    nx = len(c.x_idx)
    npar = c.q
    moments = G * (p * (p + 1) // 2 - nx * (nx + 1) // 2 + ((p - nx) if c.meanstructure else 0))
    df = moments - npar
    imp, vals = prob.implied(theta)
    ll = prob.loglik(theta, imp)
    ll1 = prob.h1_loglik
    llx = float(sum(gd.x_loglik for gd in prob.groups))
    X2 = 2.0 * (ll1 - ll)
    base, llb, dfb = _baseline(prob)
    X2b = 2.0 * (ll1 - llb)
    out = {
        "npar": npar,
        "n": int(N),
        "ngroups": G,
        "df": df,
        "chi2": X2,
        "p": float(special.chdtrc(df, X2)) if df > 0 else np.nan,
        "baseline_chi2": X2b,
        "baseline_df": dfb,
        "baseline_p": float(special.chdtrc(dfb, X2b)) if dfb > 0 else np.nan,
        # lavaan reports the log-likelihood conditional on the fixed.x covariates (their marginal
        # log-likelihood at the sample moments is subtracted: lav_mvnorm_loglik_samplestats)
        "loglik": ll - llx,
        "loglik_unrestricted": ll1 - llx,
        "aic": -2 * (ll - llx) + 2 * npar,
        "bic": -2 * (ll - llx) + npar * np.log(N),
        "bic2": -2 * (ll - llx) + npar * np.log((N + 2) / 24),
        "cfi": cfi(X2, df, X2b, dfb),
        "tli": tli(X2, df, X2b, dfb),
        "rmsea": rmsea(X2, df, N, G),
    }
    lo, up = rmsea_ci(X2, df, N, G)
    out.update(rmsea_ci_lower=lo, rmsea_ci_upper=up, rmsea_pclose=rmsea_pclose(X2, df, N, G))
    implied_pairs = [(Sig, mu) for (Sig, mu, *_r) in imp]
    out["srmr"] = srmr(prob, implied_pairs, True)
    out["srmr_nomean"] = srmr(prob, implied_pairs, False)
    out["chi2_by_group"] = [
        2.0 * (gd.h1_loglik - _ll_g(gd, Sig, mu)) for gd, (Sig, mu) in zip(prob.groups, implied_pairs)
    ]
    out["n_by_group"] = [int(gd.n) for gd in prob.groups]
    scal = None
    if estimator == "MLR" and H_inv is not None:
        unstr = rb.unstructured_info(prob)
        tr = rb.yb_trace(prob, theta, H_inv, unstr)
        scal = tr / df if df > 0 else np.nan
        if scal is not None and scal < 0:
            scal = np.nan
        # baseline Yuan-Bentler factor
        trb = 0.0
        EB_blocks = []
        for gd, (SigB, muB, DB) in zip(prob.groups, base):
            A1, _ = rb.moment_space(prob, gd, SigB, muB)
            fg = gd.n / N
            EB_blocks.append(fg * DB.T @ A1 @ DB)
        EB = block_diag(*EB_blocks)
        EBinv = np.linalg.inv(EB)
        k0 = 0
        for g, (gd, (SigB, muB, DB)) in enumerate(zip(prob.groups, base)):
            meanstr = muB is not None
            mask = rb.x_mask(prob, meanstr)
            A1u, B1u = unstr[g]
            A1u, B1u = A1u[np.ix_(mask, mask)], B1u[np.ix_(mask, mask)]
            trace_h1 = float(np.sum(B1u * np.linalg.inv(A1u).T))
            sc = rb._MeanView(prob, meanstr).casewise_scores(gd, SigB, muB)
            B1s = sc.T @ sc / gd.n
            B0 = DB.T @ B1s @ DB
            kb = DB.shape[1]
            Ei = EBinv[k0 : k0 + kb, k0 : k0 + kb]
            k0 += kb
            trb += trace_h1 - gd.n / N * float(np.sum(B0 * Ei.T))
        scal_b = trb / dfb if dfb > 0 else np.nan
        X2s = X2 / scal
        X2bs = X2b / scal_b
        out.update(
            chi2_scaled=X2s,
            scaling_factor=scal,
            df_scaled=df,
            p_scaled=float(special.chdtrc(df, X2s)) if df > 0 else np.nan,
            baseline_chi2_scaled=X2bs,
            baseline_scaling_factor=scal_b,
            cfi_scaled=cfi(X2s, df, X2bs, dfb),
            tli_scaled=tli(X2s, df, X2bs, dfb),
            rmsea_scaled=rmsea(X2, df * scal, N, G),
        )
        lo, up = rmsea_ci(X2, df * scal, N, G)
        out.update(rmsea_ci_lower_scaled=lo, rmsea_ci_upper_scaled=up)
        if not fiml:
            out.update(
                cfi_robust=cfi(X2, df, X2b, dfb, scal, scal_b),
                tli_robust=tli(X2, df, X2b, dfb, scal, scal_b),
                rmsea_robust=rmsea(X2, df, N, G, scal),
            )
            lo, up = rmsea_ci(X2s, df, N, G, scal)
            out.update(
                rmsea_ci_lower_robust=lo,
                rmsea_ci_upper_robust=up,
                rmsea_pclose_robust=rmsea_pclose(X2s, df, N, G, scal),
            )
    if fiml:
        deltas = [c.delta(g, vals, E, S, al) for g, (Sig, mu, E, S, al, A) in enumerate(imp)]
        # the baseline's parameters are separate per group: its Delta is block-diagonal over groups
        kb = [b[2].shape[1] for b in base]
        DB = []
        for g, b in enumerate(base):
            D = np.zeros((b[2].shape[0], sum(kb)))
            D[:, sum(kb[:g]) : sum(kb[: g + 1])] = b[2]
            DB.append(D)
        fc = rb.fiml_corrected(
            prob,
            theta,
            deltas,
            implied_pairs,
            df,
            "V3" if estimator == "MLR" else "V6",
            baseline=(DB, [(b[0], b[1]) for b in base], dfb),
        )
        XX3, c3, XXb, cb = fc["XX3"], fc["c3"], fc["XX3_null"], fc["c3_null"]
        out.update(
            cfi_robust=cfi(XX3, df, XXb, dfb, c3, cb),
            tli_robust=tli(XX3, df, XXb, dfb, c3, cb),
            rmsea_robust=rmsea(XX3, df, N, G, c3),
        )
        lo, up = rmsea_ci(XX3 / c3, df, N, G, c3)
        out.update(
            rmsea_ci_lower_robust=lo, rmsea_ci_upper_robust=up, rmsea_pclose_robust=rmsea_pclose(XX3 / c3, df, N, G, c3)
        )
    return out


def _ll_g(gd, Sig, mu):
    return pattern_loglik(gd.stack, Sig, mu)
