"""Sample statistics per group, missing-data patterns and lavaan's EM saturated (h1) model.

* Complete data (``missing="listwise"``): rows with any missing model variable are dropped;
  S = (1/N) sum (y - ybar)(y - ybar)' (divisor N, lavaan ``likelihood = "normal"``).
* FIML (``missing="fiml"``, lavaan ``missing = "ml"``): the rows are grouped by missing-data pattern;
  per pattern the observed-variable mean and covariance (divisor n_p) are sufficient for the
  casewise likelihood. The saturated model (lavaan's h1) is estimated by EM exactly as
  ``lav_mvnorm_missing_h1_estimate_moments`` does it: start mu0 = available-case means,
  Sigma0 = diag(available-case variances, divisor n_j); E-step by pattern; M-step mu = T1/N,
  Sigma = T2/N - mu mu'; stop when max |change in (mu, vech Sigma)| < 1e-5 (at most 500 iterations).
  Mirroring lavaan's stopping rule (rather than iterating to machine precision) is what makes the
  unrestricted log-likelihood, chi-square and SRMR agree with lavaan to 1e-8.
* Every pattern is embedded in the full p variables (``PatternStack``): Sigma_oo becomes the p x p
  matrix with Sigma on the observed rows and columns and the identity on the missing ones, whose
  inverse is Sigma_oo^-1 (embedded) plus that identity and whose log-determinant is log|Sigma_oo|.
  So the likelihood, its gradient and the E-step of all patterns are one batched Cholesky and one
  batched inverse, whatever the number of patterns (the cost of a FIML fit at 5% missing answers
  was one Python-level pass per pattern size before). The per-size blocks (``SizeBlock``) remain for
  the casewise scores, which need the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError

__all__ = ["GroupData", "SizeBlock", "PatternStack", "missing_patterns", "coverage", "em_h1"]

LOG2PI = float(np.log(2.0 * np.pi))


@dataclass
class SizeBlock:
    """All missing-data patterns with k observed variables, stacked."""

    obs: np.ndarray  # (P, k) observed positions
    n: np.ndarray  # (P,) cases per pattern
    mean: np.ndarray  # (P, k) pattern means of the observed variables
    cov: np.ndarray  # (P, k, k) pattern covariances (divisor n_p)
    rows: list  # per pattern: (n_p, k) data rows


@dataclass
class PatternStack:
    """All missing-data patterns of a group, each embedded in the full p variables (see the module
    docstring): missing positions of ``mean`` and ``cov`` are zero."""

    n: np.ndarray  # (P,) cases per pattern
    k: np.ndarray  # (P,) observed variables per pattern
    obs: np.ndarray  # (P, p) 1.0 observed, 0.0 missing
    both: np.ndarray  # (P, p, p) obs_i * obs_j
    pad: np.ndarray  # (P, p, p) the identity on the missing positions
    mean: np.ndarray  # (P, p) pattern means of the observed variables
    cov: np.ndarray  # (P, p, p) pattern covariances (divisor n_p) of the observed variables

    @classmethod
    def from_blocks(cls, blocks, p: int) -> PatternStack:
        ns, ks, obs, means, covs = [], [], [], [], []
        for b in blocks:
            P, k = b.obs.shape
            ar = np.arange(P)
            o = np.zeros((P, p))
            o[ar[:, None], b.obs] = 1.0
            m = np.zeros((P, p))
            m[ar[:, None], b.obs] = b.mean
            c = np.zeros((P, p, p))
            c[ar[:, None, None], b.obs[:, :, None], b.obs[:, None, :]] = b.cov
            ns.append(b.n)
            ks.append(np.full(P, float(k)))
            obs.append(o)
            means.append(m)
            covs.append(c)
        o = np.concatenate(obs)
        pad = np.zeros((o.shape[0], p, p))
        pad[:, np.arange(p), np.arange(p)] = 1.0 - o
        return cls(
            np.concatenate(ns),
            np.concatenate(ks),
            o,
            o[:, :, None] * o[:, None, :],
            pad,
            np.concatenate(means),
            np.concatenate(covs),
        )

    def inverse(self, Sigma: np.ndarray):
        """(log|Sigma_oo| per pattern, Sigma_oo^-1 embedded) or None when some Sigma_oo is not positive definite."""
        Ss = Sigma[None] * self.both + self.pad
        try:
            L = np.linalg.cholesky(Ss)
        except np.linalg.LinAlgError:
            return None
        logdet = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
        return logdet, np.linalg.inv(Ss) * self.both


@dataclass
class GroupData:
    label: object
    n: int
    Y: np.ndarray  # (n, p) with NaN for missing (complete data: no NaN)
    row_ids: np.ndarray  # index labels of the rows used
    complete: bool
    blocks: list  # list of SizeBlock
    mean: np.ndarray  # complete data: sample mean; FIML: EM h1 mean
    cov: np.ndarray  # complete data: S (divisor N); FIML: EM h1 covariance
    h1_loglik: float
    npatterns: int
    x_mean: np.ndarray | None = None
    x_cov: np.ndarray | None = None
    x_loglik: float = 0.0  # log-likelihood of the fixed.x covariates at their sample moments
    stack: PatternStack | None = None  # the patterns embedded (built from ``blocks`` when not given)

    def __post_init__(self):
        if self.stack is None:
            self.stack = PatternStack.from_blocks(self.blocks, self.cov.shape[0])


def _blocks(Y: np.ndarray) -> tuple[list, int]:
    M = ~np.isnan(Y)
    p = Y.shape[1]
    if M.all():
        mean = Y.mean(axis=0)
        cov = np.cov(Y, rowvar=False, bias=True).reshape(p, p)
        return [
            SizeBlock(
                np.arange(p)[None, :],
                np.array([float(Y.shape[0])]),
                mean[None, :],
                cov[None],
                [Y],
            )
        ], 1
    keys, inv = np.unique(M, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    by_size: dict[int, list] = {}
    for k_i, key in enumerate(keys):
        rows = Y[inv == k_i][:, key]
        by_size.setdefault(int(key.sum()), []).append((np.nonzero(key)[0], rows))
    out = []
    for k in sorted(by_size, reverse=True):
        pats = by_size[k]
        obs = np.array([pt[0] for pt in pats], dtype=int).reshape(len(pats), k)
        n = np.array([pt[1].shape[0] for pt in pats], dtype=float)
        mean = np.array([pt[1].mean(axis=0) for pt in pats]).reshape(len(pats), k)
        cov = np.array(
            [
                np.atleast_2d(np.cov(pt[1], rowvar=False, bias=True)) if pt[1].shape[0] > 1 else np.zeros((k, k))
                for pt in pats
            ]
        ).reshape(len(pats), k, k)
        out.append(SizeBlock(obs, n, mean, cov, [pt[1] for pt in pats]))
    return out, len(keys)


def pattern_loglik(stack: PatternStack, Sigma, mu):
    """Sum over patterns of the casewise normal log-likelihood (mu = None: each pattern at its own mean)."""
    inv = stack.inverse(Sigma)
    if inv is None:
        return -np.inf
    logdet, W = inv
    if mu is None:
        T = stack.cov
    else:
        d = stack.mean - mu * stack.obs
        T = stack.cov + d[:, :, None] * d[:, None, :]
    tr = np.einsum("pij,pji->p", W, T)
    return float(np.sum(-0.5 * stack.n * (stack.k * LOG2PI + logdet + tr)))


def em_h1(stack: PatternStack, p: int, Y: np.ndarray, max_iter: int = 500, tol: float = 1e-5):
    """lavaan's EM estimate of the saturated mean and covariance (see the module docstring).

    E-step for all patterns at once, with K = Sigma W (W = Sigma_oo^-1 embedded; K is the identity on
    the observed rows and B = Sigma_mo Sigma_oo^-1 on the missing ones): the expected complete-data
    mean of pattern p is mu + K (ybar_p - mu_o) and its expected cross-product about that mean
    K C_p K' + Sigma - K Sigma (C_p the observed covariance, embedded; Sigma - K Sigma is the
    conditional covariance of the missing variables, zero elsewhere)."""
    N = Y.shape[0]
    mu0 = np.nanmean(Y, axis=0)
    var0 = np.nanmean((Y - mu0) ** 2, axis=0)
    var0 = np.where(~np.isfinite(var0) | (var0 == 0), 1.0, var0)
    Sigma0 = np.diag(var0)
    mu, Sigma = mu0.copy(), Sigma0.copy()
    n, obs, C, ybar = stack.n, stack.obs, stack.cov, stack.mean
    vi, vj = np.tril_indices(p)
    for _ in range(max_iter):
        W = np.linalg.inv(Sigma[None] * stack.both + stack.pad) * stack.both
        K = Sigma @ W
        zbar = mu + np.einsum("pij,pj->pi", K, ybar - mu * obs)
        nK = np.einsum("p,pij->ij", n, K)
        T1 = n @ zbar
        T2 = (
            np.einsum("p,pij->ij", n, K @ C @ np.transpose(K, (0, 2, 1))) + N * Sigma - nK @ Sigma + (zbar.T * n) @ zbar
        )
        mu = T1 / N
        Sigma = T2 / N - np.outer(mu, mu)
        Sigma = (Sigma + Sigma.T) / 2
        ev = np.linalg.eigvalsh(Sigma)
        if np.any(ev < 1e-6):
            Sigma[np.diag_indices(p)] += np.max(np.diag(Sigma)) * 1e-8
        delta = max(np.max(np.abs(mu - mu0)), np.max(np.abs(Sigma[vi, vj] - Sigma0[vi, vj])))
        if delta < tol:
            break
        mu0, Sigma0 = mu, Sigma
    return mu, Sigma


@dataclass(frozen=True)
class SaturatedMoments:
    """ML estimates of the items' means and covariance (divisor N) under MAR: lavaan's EM h1."""

    mean: pd.Series
    cov: pd.DataFrame
    n: int

    @property
    def corr(self) -> pd.DataFrame:
        d = np.sqrt(np.diag(self.cov.to_numpy()))
        return self.cov / np.outer(d, d)


def saturated_moments(data: pd.DataFrame, items) -> SaturatedMoments:
    """The saturated model of a FIML analysis: means and covariance of ``items`` by EM (every row with
    at least one observed item counts; complete data: the sample moments). Rows with no observed item
    are refused, as in :func:`crfm.stats.sem.fit`."""
    items = list(items)
    g = prepare_group(None, data, items, [], fiml=True, where="data")
    mu, Sigma = g.mean, g.cov
    return SaturatedMoments(pd.Series(mu, index=items), pd.DataFrame(Sigma, index=items, columns=items), int(g.n))


def missing_patterns(data: pd.DataFrame, items) -> pd.DataFrame:
    """Missing-data patterns of ``items``: one row per pattern (1 = observed, 0 = missing) with its
    count, most frequent first (lavaan ``lavInspect(fit, "patterns")`` with the frequencies)."""
    items = list(items)
    missing_cols = [c for c in items if c not in data.columns]
    if missing_cols:
        raise AnalysisError(f"missing_patterns: column(s) {', '.join(missing_cols)} not in the data")
    obs = data[items].notna().astype(int)
    tab = obs.value_counts(sort=False).rename("n").reset_index()
    tab["n_observed"] = tab[items].sum(axis=1)
    tab = tab.sort_values(["n", "n_observed"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return tab[["n", "n_observed", *items]]


def coverage(data: pd.DataFrame, items) -> pd.Series:
    """Share of rows with each item observed (the diagonal of lavaan's ``lavInspect(fit, "coverage")``)."""
    items = list(items)
    missing_cols = [c for c in items if c not in data.columns]
    if missing_cols:
        raise AnalysisError(f"coverage: column(s) {', '.join(missing_cols)} not in the data")
    return data[items].notna().mean(axis=0).rename("coverage")


def prepare_group(label, frame: pd.DataFrame, ov: list[str], ov_x: list[str], *, fiml: bool, where: str) -> GroupData:
    """Checks and sample statistics of one group (``where`` names the group in messages)."""
    Y_all = frame[ov].to_numpy(dtype=float)
    ids = frame.index.to_numpy()
    x_pos = [ov.index(x) for x in ov_x]
    if fiml:
        nox = [i for i in range(len(ov)) if i not in x_pos]
        empty = np.isnan(Y_all[:, nox]).all(axis=1) if nox else np.zeros(len(Y_all), bool)
        if empty.any():
            shown = ", ".join(str(r) for r in ids[empty][:10])
            more = f" (+{int(empty.sum()) - 10} more)" if empty.sum() > 10 else ""
            raise AnalysisError(
                f"{where}: respondent row(s) {shown}{more} have no observed value on any model item "
                f"({', '.join(ov[i] for i in nox)}); lavaan would drop them with a warning, this project "
                "refuses: the data contract should have removed them"
            )
        if x_pos:
            xmiss = np.isnan(Y_all[:, x_pos]).any(axis=1)
            if xmiss.any():
                raise AnalysisError(
                    f"{where}: the exogenous covariate(s) {', '.join(ov_x)} have missing values in row(s) "
                    f"{', '.join(str(r) for r in ids[xmiss][:10])}; with fixed.x they must be complete"
                )
        Y, row_ids = Y_all, ids
    else:
        keep = ~np.isnan(Y_all).any(axis=1)
        Y, row_ids = Y_all[keep], ids[keep]
    n = Y.shape[0]
    p = len(ov)
    if n < 2:
        raise AnalysisError(f"{where}: only {n} usable case(s)")
    if fiml and n <= p:
        full = int((~np.isnan(Y).any(axis=1)).sum())
        raise AnalysisError(
            f"{where}: too few cases: {n} respondent(s) ({full} answered every item) for {p} model items; "
            f"the items' covariance matrix cannot be positive definite with no more respondents than items: "
            "collect more responses or analyse fewer items"
        )
    if not fiml and n <= p:
        raise AnalysisError(
            f"{where}: only {n} complete case(s) for {p} model items: their covariance matrix cannot be "
            f"positive definite; need more complete cases than items (or FIML, missing='fiml', to use "
            f"the {len(Y_all)} partly answered rows)"
        )
    # zero variance items
    blocks, npat = _blocks(Y)
    if npat == 1 and blocks[0].obs.shape[1] == p:
        sd = np.sqrt(np.diag(blocks[0].cov[0]))
    else:
        with np.errstate(invalid="ignore"):
            sd = np.nanstd(Y, axis=0)
    const = [ov[i] for i in range(p) if not np.isfinite(sd[i]) or sd[i] == 0]
    if const:
        raise AnalysisError(
            f"{where}: item(s) {', '.join(const)} have zero variance (constant or never observed); "
            "drop them from the model or from this group"
        )
    stack = PatternStack.from_blocks(blocks, p)
    if not fiml or npat == 1 and blocks[0].obs.shape[1] == p:
        mean = blocks[0].mean[0].copy()
        cov = blocks[0].cov[0].copy()
        complete = True
    else:
        mean, cov = em_h1(stack, p, Y)
        complete = False
    _check_pd(cov, ov, where, em=not complete)
    h1_ll = pattern_loglik(stack, cov, mean)
    gd = GroupData(
        label=label,
        n=n,
        Y=Y,
        row_ids=row_ids,
        complete=complete,
        blocks=blocks,
        mean=mean,
        cov=cov,
        h1_loglik=h1_ll,
        npatterns=npat,
        stack=stack,
    )
    if x_pos:
        X = Y[:, x_pos]
        k = len(x_pos)
        xm, xS = X.mean(axis=0), np.cov(X, rowvar=False, bias=True).reshape(k, k)
        if complete:
            gd.x_mean, gd.x_cov = xm, xS
        else:
            # lavaan (missing = "ml") fixes the covariates' moments at the EM estimates of the saturated
            # model, not at their complete-data sample moments: within EM's tolerance of them, and
            # what lavaan's estimates are conditional on (visible when a covariate has a large scale)
            gd.x_mean, gd.x_cov = mean[x_pos].copy(), cov[np.ix_(x_pos, x_pos)].copy()
        _, ld = np.linalg.slogdet(gd.x_cov)
        inv = np.linalg.inv(gd.x_cov)
        d = xm - gd.x_mean
        gd.x_loglik = float(-0.5 * n * (k * LOG2PI + ld + np.sum(inv * xS) + d @ inv @ d))
    return gd


def _check_pd(cov: np.ndarray, ov: list[str], where: str, em: bool) -> None:
    sd = np.sqrt(np.diag(cov))
    R = cov / np.outer(sd, sd)
    ev, vec = np.linalg.eigh(R)
    # EM stops near, not at, a singular solution: exactly dependent items with missing answers leave a
    # smallest eigenvalue of about 1e-8, so an EM estimate needs a wider margin than sample moments
    if ev[0] > (1e-6 if em else 1e-8) * max(1.0, ev[-1]):
        return
    v = vec[:, 0]
    involved = [ov[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 1e-3]
    what = "EM-estimated" if em else "sample"
    raise AnalysisError(
        f"{where}: the {what} covariance matrix of the model items is singular (not positive definite, "
        f"smallest eigenvalue {ev[0]:.3g}); the items {', '.join(involved)} are linearly dependent "
        "(one is a weighted sum of the others): drop one of them"
    )
