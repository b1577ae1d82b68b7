"""Confirmatory factor analysis (Study 2 / Study 3 measurement models) on top of semopy.

Estimation (ML, lavaan's ``estimator = "ML"``): semopy 2.3.11 parses the model, computes the sample
covariance S (divisor N) and its starting values, and holds the parameter matrices; the optimisation
is the one semopy's ``Model.fit(obj="MLW")`` runs (scipy SLSQP, semopy's bounds: variances >= 0,
maxiter 10000) on the Wishart discrepancy F = log|Sigma| + tr(S Sigma^-1) - log|S| - p, which is
lavaan's ML. We hand SLSQP the same F with an analytic, vectorised gradient (identical values to
semopy's ``grad_mlw``, about 3x cheaper), and then (``refine=True``) polish the SLSQP solution with a
bounded quasi-Newton (BFGS from the expected information) until |dF/dtheta| < 1e-9, which lands on
lavaan's optimum (semopy's default tolerance stops ~5e-4 away in the standardized loadings).
Every statistic semopy gets wrong or does not give is computed here from the fitted matrices
(see DESIGN.md section 3):

* chi2 = N * F(theta_hat) = 2 (logL_sat - logL), df = p(p+1)/2 - npar, p-value from chi2 upper tail.
* logL = -N/2 * (p log(2 pi) + log|Sigma| + tr(S Sigma^-1)), logL_sat the same with Sigma = S
  (lavaan's ``logl`` / ``unrestricted.logl``); AIC = -2 logL + 2 npar; BIC = -2 logL + npar log N.
* baseline (independence) model in closed form: chi2_b = N (sum_i log s_ii - log|S|),
  df_b = p(p-1)/2.
* CFI = 1 - max(chi2 - df, 0) / max(chi2 - df, chi2_b - df_b, 0);
  TLI = (chi2_b/df_b - chi2/df) / (chi2_b/df_b - 1);
  RMSEA = sqrt(max(chi2 - df, 0) / (df N)); its 90% CI inverts the noncentral chi-square:
  lambda_L solves P(chi2; df, lambda_L) = .95, lambda_U solves P(chi2; df, lambda_U) = .05,
  CI = sqrt(lambda / (df N)) (lavaan's formulas, N not N - 1). For df = 0: CFI = TLI = 1, RMSEA = 0.
* SRMR as lavaan's ``srmr`` (= ``srmr_bentler``): residuals scaled by the *observed* standard
  deviations, r_ij = (s_ij - sigma_ij) / sqrt(s_ii s_jj), SRMR = sqrt(mean of r_ij^2 over i <= j).
* Standardized solution (lavaan ``std.all``): with C = (I - B)^-1, Phi = C Psi C' the implied latent
  covariance and Sigma the implied observed covariance, loading* = lambda_ij sqrt(Phi_jj / Sigma_ii),
  second-order loading* = b_jg sqrt(Phi_gg / Phi_jj), factor correlation = Phi_jk / sqrt(Phi_jj Phi_kk),
  residual variance* = theta_ii / Sigma_ii.
* Standard errors: inverse expected information (N/2) H, H_ij = tr(Sigma^-1 dSigma_i Sigma^-1
  dSigma_j) (semopy's ``calc_fim``; lavaan's ``information="expected"``, N not N - 1); standardized SEs by the delta method,
  Var(g(theta)) = J V J', J from central finite differences of the standardization g; 95% Wald CI
  = estimate +/- 1.959964 SE.

Identification: the first indicator of each factor has its loading fixed to 1 (marker; lavaan's
default); standardized results do not depend on this. Missing data: listwise deletion on the model's
items (lavaan's default ``missing = "listwise"``).

Improper solutions are never silent: ``CFAResult.converged``, ``.heywood``, ``.heywood_cases`` and
the ``.warnings`` list say what is wrong, and an :class:`ImproperSolutionWarning` is issued. Note that
semopy bounds variances at 0, so a Heywood case shows up as a residual variance *at* the bound (and a
standardized loading of 1) rather than a negative one; both are flagged.

Speed: the semopy ``Model`` for a given model description is parsed once and cached (per process,
LRU of 64); each call reloads it with fresh starting values (``clean_slate=True``, identical to a new
Model). ``compute_se=False`` skips the information matrix and the delta method for Monte Carlo use
(about 8-10 ms per 9-item, 3-factor fit at n = 300 on the project machines; SEs add ~2 ms). Tiny
matrices are much slower with multi-threaded OpenBLAS: Monte Carlo workers should run with
``OPENBLAS_NUM_THREADS=1`` (or ``threadpoolctl.threadpool_limits(1)`` once per worker).
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from crfm.errors import AnalysisError

__all__ = [
    "model_description",
    "fit_cfa",
    "chi_square_difference",
    "rival_models",
    "CFAResult",
    "ChiSquareDifference",
    "RivalModelsResult",
    "ImproperSolutionWarning",
    "FIT_KEYS",
]

Z975 = 1.959963984540054
FIT_KEYS = (
    "chi2",
    "df",
    "pvalue",
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
    "converged",
    "heywood",
    "proper",
)
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class ImproperSolutionWarning(UserWarning):
    """A CFA did not converge or produced an improper (Heywood) solution."""


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
            raise AnalysisError(
                f"cfa: construct '{c}' has {len(items)} item(s); a factor needs at least 2 indicators"
            )
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
                raise AnalysisError(
                    f"cfa: second-order factor '{g}' lists unknown construct(s) {', '.join(unknown)}"
                )
            for s in subs:
                if s in used:
                    raise AnalysisError(
                        f"cfa: construct '{s}' is under second-order factors '{used[s]}' and '{g}'"
                    )
                used[s] = g
            higher[g] = subs
        if len(higher) == 1 and len(next(iter(higher.values()))) < 3:
            g = next(iter(higher))
            raise AnalysisError(
                f"cfa: second-order factor '{g}' has {len(higher[g])} first-order factor(s); it needs "
                "at least 3 to be identified on its own"
            )
    return first, higher


def model_description(
    constructs: Mapping[str, Sequence[str]],
    second_order: Mapping[str, Sequence[str]] | None = None,
    one_factor: bool = False,
    one_factor_name: str = "general",
) -> str:
    """lavaan/semopy measurement syntax, one ``factor =~ item + item ...`` line per factor.

    ``constructs``: {construct: [items]} (first-order factors, correlated freely). ``second_order``:
    {higher-order factor: [constructs]} adds ``g =~ c1 + c2 + c3``. ``one_factor=True`` loads every
    item on a single factor named ``one_factor_name`` (the common-method / unidimensional rival).
    """
    return _description(*_normalise_structure(constructs, second_order, one_factor, one_factor_name))


def _description(first: Mapping[str, list], higher: Mapping[str, list]) -> str:
    """Measurement lines, then the covariances of the exogenous factors written out explicitly.

    semopy frees those covariances itself, but orients each pair by set iteration order, which
    depends on Python's string-hash seed: the parameter order (and the last digits of every estimate)
    would change from process to process. Declared here, in sorted order, the model is the same and
    the numbers are byte-identical for any PYTHONHASHSEED.
    """
    lines = [f"{f} =~ {' + '.join(items)}" for f, items in first.items()]
    lines += [f"{g} =~ {' + '.join(subs)}" for g, subs in higher.items()]
    under = {c for subs in higher.values() for c in subs}
    exogenous = sorted([*higher, *(f for f in first if f not in under)])
    lines += [f"{a} ~~ {b}" for k, a in enumerate(exogenous) for b in exogenous[k + 1 :]]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# cached semopy models
# --------------------------------------------------------------------------------------------------


class _Template:
    """A parsed semopy Model plus the index bookkeeping needed to read its matrices quickly."""

    def __init__(self, description: str, first: Mapping[str, list], higher: Mapping[str, list]):
        import semopy  # deferred: ~1.5 s import, paid once per process

        self.lock = threading.Lock()
        self.model = semopy.Model(description)
        m = self.model
        self.observed = list(m.vars["observed"])
        inner = list(m.names_beta[0])
        obs_pos = {v: i for i, v in enumerate(self.observed)}
        in_pos = {v: i for i, v in enumerate(inner)}
        self.first = [f for f in first]
        self.higher = [g for g in higher]
        self.first_idx = np.array([in_pos[f] for f in self.first])
        # (factor, item, row, col, fixed?)
        self.loading_cells = []
        for f, items in first.items():
            for k, it in enumerate(items):
                self.loading_cells.append((f, it, obs_pos[it], in_pos[f], k == 0))
        self.so_cells = []
        for g, subs in higher.items():
            for k, s in enumerate(subs):
                self.so_cells.append((g, s, in_pos[s], in_pos[g], k == 0))
        self.n_first = len(self.first)
        self.pairs = [(a, b) for a in range(self.n_first) for b in range(a + 1, self.n_first)]
        self.endo_latent = [in_pos[s] for subs in higher.values() for s in subs]
        self.endo_latent_names = [s for subs in higher.values() for s in subs]
        self.lam_r = np.array([c[2] for c in self.loading_cells], dtype=int)
        self.lam_c = np.array([c[3] for c in self.loading_cells], dtype=int)
        self.so_r = np.array([c[2] for c in self.so_cells], dtype=int)
        self.so_c = np.array([c[3] for c in self.so_cells], dtype=int)
        pa = np.array(self.pairs, dtype=int).reshape(-1, 2)
        self.pair_a = self.first_idx[pa[:, 0]] if len(pa) else np.array([], dtype=int)
        self.pair_b = self.first_idx[pa[:, 1]] if len(pa) else np.array([], dtype=int)
        # parameter layout: known after semopy's first load(), see prepare()
        self.lam_param = self.so_param = None
        self.p = len(self.observed)

    def prepare(self) -> None:
        """Once, after semopy's first ``load``: map free parameters to matrix cells."""
        if self.lam_param is not None:
            return
        m = self.model
        self.k = len(m.param_vals)
        self.maps = []
        for no, (cells, pidx) in enumerate(m.param_ranges[:4]):
            if cells:
                flat = np.asarray(cells[0]) * m.matrices[no].shape[1] + np.asarray(cells[1])
                self.maps.append((no, flat, np.asarray(pidx)))
        self.has_beta = any(no == 0 for no, _, _ in self.maps)
        self.bounds = m.get_bounds()
        self.lower = np.array([-np.inf if b[0] is None else b[0] for b in self.bounds])
        self.lam_param = self._param_index(1, self.lam_r, self.lam_c)
        self.so_param = self._param_index(0, self.so_r, self.so_c)

    # -- ML discrepancy and its derivatives (values identical to semopy's obj_mlw / grad_mlw) -----

    def _implied(self, x):
        m = self.model
        m.update_matrices(x)
        beta, lam, psi, theta = m.matrices[:4]
        if self.has_beta:
            c = np.linalg.inv(m.identity_c - beta)
            lc = lam @ c
        else:
            c, lc = None, lam
        return lc @ psi @ lc.T + theta, c, lc

    def objective(self, x):
        """F = log|Sigma| + tr(S Sigma^-1) - log|S| - p (inf where Sigma is not positive definite)."""
        sigma, _, _ = self._implied(x)
        try:
            chol = np.linalg.cholesky(sigma)
            inv = np.linalg.inv(sigma)
        except np.linalg.LinAlgError:
            return np.inf
        f = 2.0 * np.log(np.diagonal(chol)).sum() + np.sum(self.S * inv) - self.logdet_S - self.p
        # F >= 0 in exact arithmetic; a clearly negative value is round-off garbage from a nearly
        # singular Sigma (semopy's obj_mlw likewise rejects it), tiny negatives are exact fit
        return f if f > -1e-8 else np.inf

    def gradient(self, x):
        """dF/dtheta from the matrix derivatives (M = Sigma^-1 - Sigma^-1 S Sigma^-1, P = C Psi C'):
        dF/dLambda = 2 M Lambda P, dF/dPsi = (Lambda C)' M (Lambda C), dF/dB = 2 (Lambda C)' M (Lambda C)
        Psi C', dF/dTheta = M, summed over the matrix cells that share a parameter."""
        sigma, c, lc = self._implied(x)
        beta, lam, psi, theta = self.model.matrices[:4]
        try:
            inv = np.linalg.inv(sigma)
        except np.linalg.LinAlgError:
            return np.full(self.k, np.inf)
        mx = inv - inv @ self.S @ inv
        d_psi = lc.T @ mx @ lc
        if self.has_beta:
            d = [2.0 * d_psi @ psi @ c.T, 2.0 * mx @ lam @ (c @ psi @ c.T), d_psi, mx]
        else:
            d = [None, 2.0 * mx @ lam @ psi, d_psi, mx]
        out = np.zeros(self.k)
        for no, flat, pidx in self.maps:
            out += np.bincount(pidx, weights=d[no].ravel()[flat], minlength=self.k)
        return out

    def expected_hessian(self, x):
        """H_ij = tr(Sigma^-1 dSigma_i Sigma^-1 dSigma_j): expected Hessian of F; the expected
        information of the sample is (N/2) H (semopy ``calc_fim``, lavaan ``information="expected"``)."""
        m = self.model
        m.update_matrices(x)
        sigma, (mm, cc) = m.calc_sigma()
        inv = np.linalg.inv(sigma)
        a = np.stack(m.calc_sigma_grad(mm, cc)) @ inv
        return np.einsum("iab,jba->ij", a, a)

    def _param_index(self, mx_no: int, rows, cols) -> np.ndarray:
        out = np.full(len(rows), -1)
        locs = self.model.param_ranges[mx_no]
        if not locs[0]:
            return out
        cell_to_param = {(r, c): p for r, c, p in zip(locs[0][0], locs[0][1], locs[1])}
        for k, (r, c) in enumerate(zip(rows, cols)):
            out[k] = cell_to_param.get((int(r), int(c)), -1)
        return out

    def standardized(self):
        """(std loadings, std second-order loadings, factor correlations, latent var, Sigma)."""
        beta, lam, psi, theta = self.model.matrices[:4]
        c = np.linalg.inv(self.model.identity_c - beta)
        phi = c @ psi @ c.T
        m = lam @ c
        sigma = m @ psi @ m.T + theta
        sd_obs = np.sqrt(np.diag(sigma))
        sd_lat = np.sqrt(np.abs(np.diag(phi)))
        std_l = lam[self.lam_r, self.lam_c] * sd_lat[self.lam_c] / sd_obs[self.lam_r]
        std_so = beta[self.so_r, self.so_c] * sd_lat[self.so_c] / sd_lat[self.so_r]
        corr = phi[self.pair_a, self.pair_b] / (sd_lat[self.pair_a] * sd_lat[self.pair_b])
        return std_l, std_so, corr, phi, sigma


_CACHE: OrderedDict[str, _Template] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def _template(description, first, higher) -> _Template:
    with _CACHE_LOCK:
        t = _CACHE.get(description)
        if t is not None:
            _CACHE.move_to_end(description)
            return t
    t = _Template(description, first, higher)
    with _CACHE_LOCK:
        _CACHE[description] = t
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return t


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------


@dataclass
class CFAResult:
    """One fitted CFA.

    fit: dict with keys ``FIT_KEYS`` (chi2, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower,
    rmsea_ci_upper, srmr, loglik, loglik_unrestricted, aic, bic, npar, n, baseline_chi2, baseline_df,
    converged, heywood, proper).
    loadings: columns factor, item, est (unstandardized; marker = 1), se (NaN for the fixed marker),
    std_all, std_se, ci_lower, ci_upper (95% Wald CI of std_all).
    factor_correlations: factor_a, factor_b, r, se, ci_lower, ci_upper (first-order factors; implied
    correlations in a second-order model).
    factor_corr_matrix: first-order factor x factor correlation DataFrame (1 on the diagonal).
    second_order_loadings: factor, subfactor, est, se, std_all, std_se, ci_lower, ci_upper (empty
    without a second-order factor).
    residual_variances: variable, kind ('item' or 'factor disturbance'), est, std_all.
    SE columns are NaN when fitted with ``compute_se=False``.
    """

    label: str
    description: str
    n: int
    fit: dict
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    factor_corr_matrix: pd.DataFrame
    second_order_loadings: pd.DataFrame
    residual_variances: pd.DataFrame
    converged: bool
    heywood: bool
    heywood_cases: list[str]
    warnings: list[str] = field(default_factory=list)
    optimizer: dict = field(default_factory=dict)

    @property
    def proper(self) -> bool:
        """Converged and free of Heywood cases."""
        return self.converged and not self.heywood

    def fit_table(self) -> pd.DataFrame:
        """The fit indices as a one-row tidy DataFrame (columns: model, then FIT_KEYS)."""
        return pd.DataFrame([{"model": self.label, **self.fit}])

    def std_loadings_by_factor(self) -> dict[str, list[float]]:
        """{factor: [std_all loadings in item order]}, the input of composite_reliability / ave."""
        return {f: g["std_all"].tolist() for f, g in self.loadings.groupby("factor", sort=False)}


@dataclass
class ChiSquareDifference:
    """Likelihood-ratio (chi-square difference) test of a restricted against a fuller nested model."""

    restricted: str
    full: str
    delta_chi2: float
    delta_df: int
    p: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


@dataclass
class RivalModelsResult:
    """table: one row per model (model, FIT_KEYS); comparisons: chi-square difference tests
    (restricted, full, delta_chi2, delta_df, p, note); fits: {label: CFAResult}."""

    table: pd.DataFrame
    comparisons: pd.DataFrame
    fits: dict


# --------------------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------------------


def _prepare_data(df: pd.DataFrame, observed: list[str]) -> np.ndarray:
    if not isinstance(df, pd.DataFrame):
        raise AnalysisError(f"cfa: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [v for v in observed if v not in df.columns]
    if missing:
        raise AnalysisError(f"cfa: item(s) {', '.join(missing)} not found in the data")
    try:
        x = df[observed].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"cfa: items {', '.join(observed)} must be numeric ({exc})") from exc
    ok = np.isfinite(x).all(axis=1)
    if not ok.all():
        x = x[ok]
    n, p = x.shape
    if n <= p:
        raise AnalysisError(
            f"cfa: too few complete cases: {n} complete row(s) for {p} items "
            f"({', '.join(observed)}); need more rows than items"
        )
    sd = x.std(axis=0)
    zero = [observed[i] for i in np.flatnonzero(~(sd > 1e-12 * np.maximum(1.0, np.abs(x.mean(axis=0)))))]
    if zero:
        raise AnalysisError(f"cfa: item(s) with zero variance: {', '.join(zero)}")
    return x


def _fit_indices(S, sigma, n, npar, p):
    """lavaan-equivalent ML fit measures from sample S (divisor N) and implied Sigma."""
    sign_s, logdet_s = np.linalg.slogdet(S)
    sign, logdet = np.linalg.slogdet(sigma)
    if sign <= 0 or sign_s <= 0:
        nan = float("nan")
        return dict(
            chi2=nan,
            df=p * (p + 1) // 2 - npar,
            pvalue=nan,
            cfi=nan,
            tli=nan,
            rmsea=nan,
            rmsea_ci_lower=nan,
            rmsea_ci_upper=nan,
            srmr=nan,
            loglik=nan,
            loglik_unrestricted=nan,
            aic=nan,
            bic=nan,
            npar=npar,
            n=n,
            baseline_chi2=nan,
            baseline_df=p * (p - 1) // 2,
        )
    tr = float(np.sum(S * np.linalg.inv(sigma)))  # tr(S Sigma^-1), both symmetric
    c0 = p * np.log(2.0 * np.pi)
    loglik = -0.5 * n * (c0 + logdet + tr)
    loglik_sat = -0.5 * n * (c0 + logdet_s + p)
    chi2 = max(2.0 * (loglik_sat - loglik), 0.0)
    dof = p * (p + 1) // 2 - npar
    d = np.diag(S)
    chi2_b = float(n * (np.sum(np.log(d)) - logdet_s))
    df_b = p * (p - 1) // 2
    if dof > 0:
        t1 = max(chi2 - dof, 0.0)
        t2 = max(chi2 - dof, chi2_b - df_b, 0.0)
        cfi = 1.0 if t2 == 0 else 1.0 - t1 / t2
        tli = (chi2_b / df_b - chi2 / dof) / (chi2_b / df_b - 1.0)
        rmsea = np.sqrt(max(chi2 - dof, 0.0) / (dof * n))
        lo = 0.0 if special.chdtr(dof, chi2) < 0.95 else special.chndtrinc(chi2, dof, 0.95)
        hi = 0.0 if special.chdtr(dof, chi2) < 0.05 else special.chndtrinc(chi2, dof, 0.05)
        ci = (np.sqrt(lo / (dof * n)), np.sqrt(hi / (dof * n)))
        pval = float(special.chdtrc(dof, chi2))
    else:
        cfi, tli, rmsea, ci = 1.0, 1.0, 0.0, (0.0, 0.0)
        pval = float("nan")
    sd = np.sqrt(d)
    resid = (S - sigma) / np.outer(sd, sd)
    iu = np.triu_indices(p)
    srmr = float(np.sqrt(np.mean(resid[iu] ** 2)))
    return dict(
        chi2=float(chi2),
        df=int(dof),
        pvalue=pval,
        cfi=float(cfi),
        tli=float(tli),
        rmsea=float(rmsea),
        rmsea_ci_lower=float(ci[0]),
        rmsea_ci_upper=float(ci[1]),
        srmr=srmr,
        loglik=float(loglik),
        loglik_unrestricted=float(loglik_sat),
        aic=float(-2 * loglik + 2 * npar),
        bic=float(-2 * loglik + npar * np.log(n)),
        npar=int(npar),
        n=int(n),
        baseline_chi2=chi2_b,
        baseline_df=int(df_b),
    )


def _refine(t: _Template, x, f, max_iter=30, gtol=1e-9):
    """Quasi-Newton refinement of the SLSQP solution to lavaan's precision.

    BFGS started from the expected Hessian (Fisher scoring with secant updates); parameters pressed
    against their lower bound with a positive gradient stay fixed; a step is accepted only if F does
    not increase and all bounds hold (step halving otherwise). Stops when the projected gradient is
    below ``gtol``. Returns (x, f, g, iterations).
    """
    g = t.gradient(x)
    free = ~((x <= t.lower + 1e-10) & (g > 0))
    if not free.any():
        return x, f, g, 0
    B = t.expected_hessian(x)[np.ix_(free, free)]
    it = 0
    while it < max_iter and np.max(np.abs(g[free])) > gtol:
        try:
            step = -np.linalg.solve(B, g[free])
        except np.linalg.LinAlgError:
            break
        alpha, ok = 1.0, False
        while alpha > 1e-4:
            x_new = x.copy()
            x_new[free] += alpha * step
            if not np.any(x_new < t.lower):
                f_new = t.objective(x_new)
                if np.isfinite(f_new) and f_new <= f + 1e-15:
                    ok = True
                    break
            alpha *= 0.5
        if not ok:
            break
        g_new = t.gradient(x_new)
        s_, y_ = (x_new - x)[free], (g_new - g)[free]
        sy = s_ @ y_
        if sy > 1e-20:
            bs = B @ s_
            B = B + np.outer(y_, y_) / sy - np.outer(bs, bs) / (s_ @ bs)
        x, f, g = x_new, f_new, g_new
        it += 1
    t.model.update_matrices(x)
    return x, f, g, it


def _delta_se(t: _Template, x_hat: np.ndarray, vcov: np.ndarray):
    """Delta-method SEs of all standardized quantities (central differences of the standardization)."""
    model = t.model

    def g(x):
        model.update_matrices(x)
        a, b, c, _, _ = t.standardized()
        return np.concatenate([a, b, c])

    base = g(x_hat)
    jac = np.empty((base.size, x_hat.size))
    for k in range(x_hat.size):
        h = 1e-6 * max(1.0, abs(x_hat[k]))
        xp, xm = x_hat.copy(), x_hat.copy()
        xp[k] += h
        xm[k] -= h
        jac[:, k] = (g(xp) - g(xm)) / (2 * h)
    model.update_matrices(x_hat)
    cov = jac @ vcov @ jac.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    n1, n2 = len(t.loading_cells), len(t.so_cells)
    return se[:n1], se[n1 : n1 + n2], se[n1 + n2 :]


def fit_cfa(
    df: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    second_order: Mapping[str, Sequence[str]] | None = None,
    one_factor: bool = False,
    compute_se: bool = True,
    *,
    refine: bool = True,
    one_factor_name: str = "general",
    label: str | None = None,
    warn: bool = True,
) -> CFAResult:
    """Fit a CFA by maximum likelihood (semopy ``MLW`` = lavaan ML) and return lavaan-equivalent results.

    ``constructs`` {factor: [items]}; ``second_order`` {higher factor: [constructs]} or None;
    ``one_factor=True`` fits all items on one factor. ``compute_se=False`` is the fast path (no
    information matrix, no SEs/CIs; fit indices and standardized estimates are still computed).
    ``refine=True`` polishes the SLSQP solution (quasi-Newton from the expected information) to
    lavaan's precision (|gradient| < 1e-9) at ~1 ms; it only ever lowers F.
    ``warn=False`` suppresses the ImproperSolutionWarning (the flags and ``warnings`` list remain).
    See the module docstring for every formula. Raises AnalysisError for unusable input (unknown or
    non-numeric items, zero variance, too few complete cases, singular covariance matrix).
    """
    first, higher = _normalise_structure(constructs, second_order, one_factor, one_factor_name)
    desc = _description(first, higher)
    if label is None:
        label = "one_factor" if one_factor else ("second_order" if higher else "correlated")
    t = _template(desc, first, higher)
    obs = t.observed
    x = _prepare_data(df, obs)
    n, p = x.shape
    xc = x - x.mean(axis=0)
    S = (xc.T @ xc) / n
    w = np.linalg.eigvalsh(S / np.sqrt(np.outer(np.diag(S), np.diag(S))))
    if w[0] < 1e-8:
        from crfm.stats.psychometrics import _dependency_groups

        r = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        groups = _dependency_groups(r, obs, 1e-8)
        desc_g = "; ".join("{" + ", ".join(g) + "}" for g in groups)
        raise AnalysisError(
            f"cfa: the item covariance matrix is singular: linear dependency among items {desc_g}"
        )

    msgs: list[str] = []
    data = pd.DataFrame(x, columns=obs)
    with t.lock:
        model = t.model
        try:
            # semopy: sample covariance (divisor N) and its starting values for every parameter
            model.load(data, clean_slate=True)
        except Exception as exc:  # semopy raises assorted errors on hopeless data
            raise AnalysisError(f"cfa: semopy could not set up model ({label}): {exc}") from exc
        t.prepare()
        if p * (p + 1) // 2 < t.k:
            raise AnalysisError(
                f"cfa: model '{label}' has {t.k} free parameters but only {p * (p + 1) // 2} sample "
                "moments (negative degrees of freedom): it is not identified; add items or constraints"
            )
        t.S, t.logdet_S = S, float(np.linalg.slogdet(S)[1])
        x0 = np.array(model.param_vals, dtype=float)
        # the optimisation semopy's Model.fit(obj="MLW") runs (scipy SLSQP, semopy's bounds, maxiter
        # 10000), with the same objective and an analytic, vectorised gradient
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = optimize.minimize(
                t.objective, x0, jac=t.gradient, method="SLSQP", bounds=t.bounds, options={"maxiter": 10000}
            )
        x_hat = np.asarray(res.x, dtype=float)
        f_hat = float(res.fun)
        converged = bool(res.success) and np.isfinite(f_hat) and bool(np.isfinite(x_hat).all())
        n_refine, max_grad = 0, float("nan")
        if converged and refine:
            x_hat, f_hat, grad, n_refine = _refine(t, x_hat, f_hat)
        else:
            grad = t.gradient(x_hat) if np.isfinite(x_hat).all() else np.full(x_hat.size, np.nan)
        model.update_matrices(x_hat)
        model.param_vals = x_hat
        # projected gradient: parameters pressed against their lower bound do not count
        at_bound = (x_hat <= t.lower + 1e-8) & (grad > 0)
        max_grad = float(np.max(np.abs(np.where(at_bound, 0.0, grad)))) if grad.size else 0.0
        if not converged:
            msgs.append(
                f"NOT CONVERGED: optimizer says: {res.message} (F = {res.fun}); "
                "estimates and fit indices are not trustworthy"
            )
        elif not max_grad <= 1e-3:
            msgs.append(
                f"optimizer stopped with a large gradient (max |dF/dtheta| = {max_grad:.2g}): "
                "the solution may not be a minimum"
            )
        msgs += [f"optimizer: {c.message}" for c in caught]
        std_l, std_so, corr, phi, sigma = t.standardized()
        beta, lam, psi, theta = (m.copy() for m in model.matrices[:4])
        npar = x_hat.size
        se_l = np.full(std_l.size, np.nan)
        se_so = np.full(std_so.size, np.nan)
        se_c = np.full(corr.size, np.nan)
        se_raw = np.full(npar, np.nan)
        if compute_se and converged:
            try:
                H = t.expected_hessian(x_hat)
                try:
                    np.linalg.cholesky(H)  # positive definite?
                    vcov = (2.0 / n) * np.linalg.inv(H)
                except np.linalg.LinAlgError:
                    msgs.append(
                        "information matrix not positive definite (pseudo-inverse used): "
                        "the model may be empirically under-identified; SEs unreliable"
                    )
                    vcov = (2.0 / n) * np.linalg.pinv(H)
                se_raw = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
                se_l, se_so, se_c = _delta_se(t, x_hat, vcov)
            except (np.linalg.LinAlgError, ValueError) as exc:
                msgs.append(f"standard errors unavailable: {exc}")
            model.update_matrices(x_hat)

    fit = _fit_indices(S, sigma, n, npar, p)

    # improper solutions
    cases: list[str] = []
    s_diag = np.diag(S)
    th = np.diag(theta)
    for i, v in enumerate(obs):
        if th[i] <= 1e-6 * s_diag[i]:
            cases.append(f"item {v}: residual variance {th[i]:.3g} (negative or at the zero bound)")
    lat_var = np.diag(psi)
    for name in t.first + t.higher:
        j = t.model.names_psi[0].index(name)
        if lat_var[j] <= 1e-8 and name not in t.endo_latent_names:
            cases.append(f"factor {name}: variance {lat_var[j]:.3g} (negative or at the zero bound)")
    for name, j in zip(t.endo_latent_names, t.endo_latent):
        if lat_var[j] <= 1e-8 * max(phi[j, j], 1e-12):
            cases.append(
                f"factor {name}: disturbance variance {lat_var[j]:.3g} (negative or at the zero bound)"
            )
    for (f, it, *_), v in zip(t.loading_cells, std_l):
        if not np.isfinite(v) or abs(v) >= 1 - 1e-9:
            cases.append(f"item {it} on {f}: standardized loading {v:.4g} (|l| >= 1)")
    for (g, s, *_), v in zip(t.so_cells, std_so):
        if not np.isfinite(v) or abs(v) >= 1 - 1e-9:
            cases.append(f"factor {s} on {g}: standardized loading {v:.4g} (|l| >= 1)")
    for (a, b), v in zip(t.pairs, corr):
        if not np.isfinite(v) or abs(v) >= 1 - 1e-9:
            cases.append(f"factors {t.first[a]} and {t.first[b]}: correlation {v:.4g} (|r| >= 1)")
    heywood = bool(cases)
    if heywood:
        msgs.append("IMPROPER SOLUTION (Heywood case): " + "; ".join(cases))
    fit.update(converged=converged, heywood=heywood, proper=converged and not heywood)

    lo_l, hi_l = std_l - Z975 * se_l, std_l + Z975 * se_l
    loadings = pd.DataFrame(
        {
            "factor": [c[0] for c in t.loading_cells],
            "item": [c[1] for c in t.loading_cells],
            "est": lam[t.lam_r, t.lam_c],
            "se": [se_raw[k] if k >= 0 else np.nan for k in t.lam_param],
            "std_all": std_l,
            "std_se": se_l,
            "ci_lower": lo_l,
            "ci_upper": hi_l,
        }
    )
    so = pd.DataFrame(
        {
            "factor": [c[0] for c in t.so_cells],
            "subfactor": [c[1] for c in t.so_cells],
            "est": beta[t.so_r, t.so_c] if len(t.so_cells) else np.array([]),
            "se": [se_raw[k] if k >= 0 else np.nan for k in t.so_param],
            "std_all": std_so,
            "std_se": se_so,
            "ci_lower": std_so - Z975 * se_so,
            "ci_upper": std_so + Z975 * se_so,
        }
    )
    fc = pd.DataFrame(
        {
            "factor_a": [t.first[a] for a, _ in t.pairs],
            "factor_b": [t.first[b] for _, b in t.pairs],
            "r": corr,
            "se": se_c,
            "ci_lower": corr - Z975 * se_c,
            "ci_upper": corr + Z975 * se_c,
        }
    )
    fcm = pd.DataFrame(np.eye(t.n_first), index=t.first, columns=t.first)
    for (a, b), v in zip(t.pairs, corr):
        fcm.iat[a, b] = fcm.iat[b, a] = v
    sig_d = np.diag(sigma)
    rv_rows = [
        {"variable": v, "kind": "item", "est": th[i], "std_all": th[i] / sig_d[i]} for i, v in enumerate(obs)
    ]
    for name, j in zip(t.endo_latent_names, t.endo_latent):
        rv_rows.append(
            {
                "variable": name,
                "kind": "factor disturbance",
                "est": lat_var[j],
                "std_all": lat_var[j] / phi[j, j],
            }
        )
    result = CFAResult(
        label=label,
        description=desc,
        n=n,
        fit=fit,
        loadings=loadings,
        factor_correlations=fc,
        factor_corr_matrix=fcm,
        second_order_loadings=so,
        residual_variances=pd.DataFrame(rv_rows, columns=["variable", "kind", "est", "std_all"]),
        converged=converged,
        heywood=heywood,
        heywood_cases=cases,
        warnings=msgs,
        optimizer={
            "message": str(res.message),
            "n_iter": int(res.nit),
            "objective": float(f_hat),
            "refine_steps": int(n_refine),
            "max_abs_gradient": max_grad,
            "solver": "SLSQP",
            "objective_name": "MLW",
        },
    )
    if warn and (not converged or heywood):
        warnings.warn(
            f"CFA '{label}': " + " | ".join(m for m in msgs if m.startswith(("NOT", "IMPROPER"))),
            ImproperSolutionWarning,
            stacklevel=2,
        )
    return result


def chi_square_difference(
    fit_restricted: CFAResult | Mapping, fit_full: CFAResult | Mapping
) -> ChiSquareDifference:
    """Chi-square difference (likelihood-ratio) test for nested ML models:
    delta_chi2 = chi2_restricted - chi2_full, delta_df = df_restricted - df_full,
    p = P(chi2_{delta_df} > delta_chi2). Accepts CFAResult objects or their ``fit`` dicts.
    Raises AnalysisError when the models are not nested in that order (delta_df <= 0), were fitted
    to different n, or either did not converge."""

    def unpack(f, role):
        if isinstance(f, CFAResult):
            return f.label, f.fit
        return str(f.get("model", role)), f

    lr, fr = unpack(fit_restricted, "restricted")
    lf, ff = unpack(fit_full, "full")
    if int(fr["n"]) != int(ff["n"]):
        raise AnalysisError(f"chi_square_difference: '{lr}' has n={fr['n']} but '{lf}' has n={ff['n']}")
    for lab, f in ((lr, fr), (lf, ff)):
        if not f.get("converged", True):
            raise AnalysisError(f"chi_square_difference: model '{lab}' did not converge")
    ddf = int(fr["df"]) - int(ff["df"])
    if ddf <= 0:
        raise AnalysisError(
            f"chi_square_difference: '{lr}' (df={fr['df']}) is not more restricted than '{lf}' "
            f"(df={ff['df']}); pass the restricted model first (equal df means equivalent, untestable models)"
        )
    d = float(fr["chi2"]) - float(ff["chi2"])
    return ChiSquareDifference(lr, lf, d, ddf, float(stats.chi2.sf(max(d, 0.0), ddf)))


def rival_models(
    df: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    second_order_name: str | None = "crfm",
    compute_se: bool = True,
    one_factor_name: str = "general",
) -> RivalModelsResult:
    """Fit the three rival measurement models: ``one_factor`` (all items on one factor),
    ``correlated`` (the constructs as correlated first-order factors) and ``second_order`` (the
    constructs loading on one higher-order factor ``second_order_name``; needs >= 3 constructs, and
    with exactly 3 it is statistically equivalent to ``correlated``). Returns the fit table and the
    chi-square difference tests one_factor vs correlated, one_factor vs second_order, second_order vs
    correlated (equivalent models are reported with delta_df = 0, p = NaN and a note)."""
    fits = OrderedDict()
    fits["one_factor"] = fit_cfa(
        df, constructs, one_factor=True, compute_se=compute_se, one_factor_name=one_factor_name
    )
    fits["correlated"] = fit_cfa(df, constructs, compute_se=compute_se)
    if second_order_name and len(constructs) >= 3:
        fits["second_order"] = fit_cfa(
            df, constructs, second_order={second_order_name: list(constructs)}, compute_se=compute_se
        )
    table = pd.concat([f.fit_table() for f in fits.values()], ignore_index=True)
    comps = []
    order = [("one_factor", "correlated"), ("one_factor", "second_order"), ("second_order", "correlated")]
    for a, b in order:
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
                    "note": "equivalent models (same df): no test",
                }
            )
            continue
        try:
            t = chi_square_difference(fa, fb)
            comps.append({**t.__dict__, "note": ""})
        except AnalysisError as exc:
            comps.append(
                {
                    "restricted": a,
                    "full": b,
                    "delta_chi2": np.nan,
                    "delta_df": ddf,
                    "p": np.nan,
                    "note": str(exc),
                }
            )
    comparisons = pd.DataFrame(comps, columns=["restricted", "full", "delta_chi2", "delta_df", "p", "note"])
    return RivalModelsResult(table=table, comparisons=comparisons, fits=dict(fits))
