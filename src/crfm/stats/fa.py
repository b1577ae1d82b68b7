"""Exploratory factor analysis: extraction (ML, minres) and rotation (GPA, varimax, promax), as psych::fa.

Arrays in, dataclasses out. ``R`` is a p x p correlation matrix; nothing here knows about items,
constructs or the paper. The reference is R's psych::fa (psych 2.2.9) with GPArotation 2022.10-2;
``tests/reference/psych/make_fa_reference.R`` writes the numbers ``tests/test_fa_core.py`` checks.

Extraction (``extract``), psi = uniquenesses being optimised, k factors, p variables
    Both methods minimise over psi in [0.005, 1]^p (psych's bounds), start from psi0 = 1 - SMC
    (SMC = 1 - 1/diag(R^-1)), and build the loadings in the principal-axes basis psych uses.

    * ``ml`` (psych ``fm="ml"``, the objective and gradient of stats::factanal, psych's FAfn / FAgr):
      with e_1 >= ... >= e_p the eigenvalues of R* = Psi^-1/2 R Psi^-1/2,
      F(psi) = -sum_{j>k} (log e_j - e_j) - k + p,
      dF/dpsi_i = (L L' + Psi - R)_ii / psi_i^2, L = Psi^1/2 V_k diag(sqrt(max(e_j - 1, 0)))
      (psych's FAout), V_k the first k eigenvectors of R*.
    * ``minres`` (psych ``fm="minres"``): the loadings are psych's FAout.wls,
      L = V_k diag(sqrt(max(mu_j, 0))) from the eigen-decomposition of S = R - Psi (ones on the
      diagonal replaced by 1 - psi). psych minimises its fit.residuals (the sum of squared *lower
      triangle* residuals of S - LL') but hands optim the gradient FAgr.minres = diag(LL' + Psi - R),
      which is half the gradient of the full unweighted least-squares criterion
      U(psi) = ||S - LL'||^2 = sum_{j>k} mu_j^2. Both criteria are stationary exactly where the
      diagonal residuals vanish (diag(LL') = 1 - psi), which is the minres/ULS solution; we minimise
      U with its exact gradient -2 diag(S - LL') (as factor_analyzer's minres objective, which sums
      the full residual matrix) and report psych's lower-triangle value as ``objective``.

    The optimiser is scipy's L-BFGS-B with the analytic gradient, run to a projected gradient of
    1e-10 rather than to a default stopping rule, so the answer is the optimum itself and not where
    one optimiser happened to stop (it agrees with psych's objective minimised in R with factr = 1 to
    ~3e-9 in psi). psych and factor_analyzer both stop short of it, psych by 2e-6 to 1.4e-5 in psi on
    the reference data (``test_fa_core.py``), factor_analyzer by ~1e-6 (measured before it left the stack).

    psych vs factor_analyzer (0.5.1), extraction. Same: start 1 - SMC, bounds [0.005, 1], ML
    objective, principal-axes loadings (FAout / FAout.wls), the colSums sign convention. Different:
    psych's optim gets the analytic gradient, parscale 0.01 and R's defaults factr = 1e7, maxit = 100,
    and psych never checks convergence; factor_analyzer's scipy minimize has no gradient (finite
    differences), ftol 2.2e-9, gtol 1e-5, maxiter 1000 and warns when scipy reports failure. minres:
    psych minimises the lower-triangle criterion with the (full-criterion) gradient above,
    factor_analyzer the full criterion including the diagonal; same stationary point. After the fit
    factor_analyzer re-orders columns by SS loadings (psych keeps the eigenvalue order until after
    rotation). We follow psych, with a tighter stopping rule.

    ``converged`` is our own check: the largest projected gradient component (scaled by psi_i^2 for
    ML, i.e. a residual of the diagonal) is below ``gtol`` (1e-7). Heywood cases are explicit: an
    item whose psi sits on the lower bound 0.005 or whose communality h2 = rowSums(L^2) reaches 0.995
    is listed in ``heywood`` and named in ``warnings`` (psych only warns for h2 > 1,
    "ultra-Heywood"; that is warned here too). Deterministic: one start, no random restarts.
    Unrotated loadings get psych's sign convention (every column sums to >= 0) and keep the
    eigenvalue order.

    Statistics as psych's fa.stats: dof = ((p - k)^2 - (p + k)) / 2; ``fit_objective`` =
    tr(M^-1 R) - log det(M^-1 R) - p with M = LL' with unit diagonal (psych's ``objective``; for ML
    without a Heywood case it equals F at the optimum); with ``n_obs``, psych's ``STATISTIC``
    chi2 = fit_objective * (n - 1 - (2p + 5)/6 - 2k/3) and its upper-tail p value.

Rotation (``rotate``), A the p x k unrotated loadings, result L = A T, Phi = (T'T)^-1
    * Gradient projection (Jennrich 2001/2002; GPArotation's GPFoblq / GPForth, transcribed step for
      step: start T = I, step doubling, at most 11 halvings, stop when the projected gradient's
      Frobenius norm < eps = 1e-5, maxit 1000). Oblique: ``oblimin`` (gamma = 0 is ``quartimin``),
      ``geomin_obl`` (delta = .01, GPArotation geominQ). Orthogonal: ``quartimax``, ``equamax``
      (Crawford-Ferguson with kappa = k / (2p), as psych::equamax), ``geomin_ort`` (geominT), and
      ``oblimax`` (GPArotation's criterion -log sum L^4 + 2 log sum L^2 under an orthogonal
      rotation, where it has quartimax's optimum; crfm.efa lists it as orthogonal, as
      factor_analyzer does). GPArotation::oblimax itself is oblique (``gpa(A, "oblimax",
      orthogonal=False)`` reproduces it), but on both reference data sets it drifts to degenerate
      loadings of order 1e5 while reporting convergence, so it is not offered as ``rotate``'s default;
      psych::fa has no oblimax. Criteria are GPArotation's vgQ.* functions.
    * ``varimax``: stats::varimax (what psych::fa calls): Kaiser-normalised rows, the SVD iteration,
      stop when the criterion grows by less than a relative 1e-5.
    * ``promax``: psych's ``rotate="promax"`` = psych::kaiser(L, "Promax"): rows scaled to unit length,
      psych::Promax with m = 4 (stats::varimax, then the least-squares fit of x to x|x|^3 and column
      rescaling so that Phi has a unit diagonal), rows scaled back. With ``normalize=False`` it is
      psych::Promax alone (psych's ``rotate="Promax"``, whose stats::varimax still Kaiser-normalises).
    * Kaiser normalisation defaults are psych::fa's: on for varimax and promax, off for every GPA
      criterion (GPArotation's default, which psych passes through); ``normalize=True/False``
      overrides.

    Because GPA (and the varimax iteration) stop at a fixed tolerance from the identity start, the
    rotated loadings depend on the basis of the unrotated ones; ``extract`` returns psych's basis
    (principal axes, eigenvalue order; column signs and order do not matter, the algorithms are
    equivariant under signed permutations), so with the default tolerances the iterations are the
    ones psych and factor_analyzer run. A tighter ``tol`` gives the criterion's exact optimum.

``factor_analysis`` runs both and returns what psych::fa reports: pattern loadings, Phi, structure
L Phi, communalities h2 = rowSums(A^2), uniquenesses 1 - h2, SS loadings diag(Phi L'L) (psych's
Vaccounted), with psych's final normalisation: column signs so that each column sums to >= 0, columns
in decreasing SS loadings (ties keep their order).

psych vs factor_analyzer's ``Rotator``, rotation. Same iterations (and so the same numbers to
rounding) for oblimin (gamma = 0), quartimin, geomin_obl, geomin_ort and quartimax (GPA without
Kaiser normalisation; Rotator's max_iter is 500 against GPArotation's 1000, which only matters
without convergence), varimax (stats::varimax with Kaiser normalisation) and promax (Rotator's
default normalize=True is psych's kaiser + Promax). Different: Rotator's ``equamax`` uses kappa = 0,
which is quartimax, not psych's k / (2p); its ``oblimin`` with gamma != 0 replaces the criterion's
weight matrix by a constant (a bug); its ``oblimax`` has a criterion whose sign disagrees with its
gradient, so no step is ever accepted and the loadings stay within 1e-3 of the unrotated ones;
``promax`` with normalize=False also drops the Kaiser normalisation inside varimax (psych::Promax
keeps it). The project should follow psych in each of these (this module does).

Why the project keeps this code instead of factor_analyzer: factor_analyzer 0.5.1 breaks under
scikit-learn >= 1.8 (``check_array(force_all_finite=...)``), is unmaintained and pins the stack old;
it has the rotation bugs above, and ``FactorAnalyzer.fit`` re-orders loading columns without
re-ordering ``phi_``. This module needs only numpy and scipy, is transcribed from the R sources
reviewers already trust, and is about four times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from crfm.errors import AnalysisError

__all__ = [
    "ExtractionResult",
    "RotationResult",
    "FactorAnalysisResult",
    "extract",
    "rotate",
    "gpa",
    "varimax",
    "promax",
    "factor_analysis",
    "psych_normalise",
    "METHODS",
    "ROTATIONS",
    "OBLIQUE",
    "ORTHOGONAL",
    "LOWER_BOUND",
]

METHODS = ("ml", "minres")
OBLIQUE = ("oblimin", "quartimin", "geomin_obl", "promax")
ORTHOGONAL = ("varimax", "quartimax", "equamax", "geomin_ort", "oblimax")
ROTATIONS = ("none",) + OBLIQUE + ORTHOGONAL

LOWER_BOUND = 0.005  # psych / factor_analyzer lower bound on the uniquenesses
UPPER_BOUND = 1.0
HEYWOOD_H2 = 1.0 - LOWER_BOUND  # communality at which an item counts as a Heywood case
PD_TOL = 1e-8  # smallest eigenvalue R must exceed (crfm.psychometrics.SINGULAR_TOL)


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractionResult:
    """Unrotated common factors of a correlation matrix.

    loadings: p x k, principal-axes basis in eigenvalue order, each column summing to >= 0.
    uniquenesses: 1 - h2 (psych's ``$uniquenesses``); communalities: h2 = rowSums(loadings^2)
    (psych's ``$communality``); psi: the optimiser's uniquenesses (psych's ``1 - $communalities``;
    equal to ``uniquenesses`` at an interior optimum). objective: the minimised criterion (ML: F;
    minres: psych's sum of squared lower-triangle residuals). fit_objective, dof, chi2, p_value: as
    psych's fa.stats (chi2 and p_value only with n_obs). gradient: largest projected gradient
    component (ML scaled by psi^2) at the end. heywood: indices of Heywood items.
    """

    loadings: np.ndarray
    uniquenesses: np.ndarray
    communalities: np.ndarray
    psi: np.ndarray
    method: str
    n_factors: int
    objective: float
    fit_objective: float
    dof: float
    n_obs: int | None
    chi2: float | None
    p_value: float | None
    iterations: int
    evaluations: int
    gradient: float
    converged: bool
    heywood: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RotationResult:
    """A rotated solution: loadings = A @ rotation_matrix, phi = inv(rotation_matrix' rotation_matrix)
    (the identity for orthogonal rotations). criterion: the rotation criterion at the end (None for
    promax); iterations: GPA or varimax iterations; converged: GPA's projected-gradient norm < tol, or
    the varimax criterion settled (for promax: its varimax)."""

    loadings: np.ndarray
    phi: np.ndarray
    rotation_matrix: np.ndarray
    converged: bool
    iterations: int
    method: str = "none"
    orthogonal: bool = True
    normalized: bool = False
    criterion: float | None = None


@dataclass(frozen=True)
class FactorAnalysisResult:
    """psych::fa's main output for one extraction + rotation, in psych's column order and signs.

    loadings: pattern matrix p x k; phi: k x k factor correlations; structure: loadings @ phi;
    communalities h2 and uniquenesses 1 - h2 (rotation-invariant); ss_loadings: diag(phi L'L)
    (psych's "SS loadings"); converged: extraction and rotation both converged; heywood: item indices;
    warnings: extraction and rotation messages; extraction / rotation: the full step results (the
    rotation's columns are in its own order, not psych's final one).
    """

    loadings: np.ndarray
    phi: np.ndarray
    structure: np.ndarray
    communalities: np.ndarray
    uniquenesses: np.ndarray
    ss_loadings: np.ndarray
    method: str
    rotation: str
    converged: bool
    heywood: tuple[int, ...]
    warnings: tuple[str, ...]
    extraction: ExtractionResult
    rotation_result: RotationResult | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------


def _check_corr(R, what: str) -> np.ndarray:
    r = np.array(R, dtype=float, copy=True)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 2:
        raise AnalysisError(f"{what}: R must be a square correlation matrix (p x p, p >= 2), got shape {r.shape}")
    if not np.isfinite(r).all():
        bad = sorted({int(i) for i in np.argwhere(~np.isfinite(r)).ravel()})
        raise AnalysisError(
            f"{what}: R has NaN or infinite entries (rows/columns {bad}, 0-based); drop those variables "
            "or compute the correlations on complete cases"
        )
    if np.max(np.abs(r - r.T)) > 1e-8:
        raise AnalysisError(f"{what}: R is not symmetric (max |R - R'| = {np.max(np.abs(r - r.T)):.3g})")
    if np.max(np.abs(np.diag(r) - 1.0)) > 1e-8:
        raise AnalysisError(
            f"{what}: R must be a correlation matrix (unit diagonal); convert a covariance matrix first"
        )
    r = (r + r.T) / 2.0
    np.fill_diagonal(r, 1.0)
    lo = float(np.linalg.eigvalsh(r)[0])
    if lo < PD_TOL:
        raise AnalysisError(
            f"{what}: R is not positive definite (smallest eigenvalue {lo:.3g}); some variables are "
            "(almost) linear combinations of others, or R was assembled from pairwise correlations: "
            "drop the redundant variables or use complete cases"
        )
    return r


def _check_k(n_factors, p: int, method: str, what: str) -> tuple[int, float]:
    if isinstance(n_factors, bool) or int(n_factors) != n_factors:
        raise AnalysisError(f"{what}: n_factors must be a whole number, got {n_factors!r}")
    k = int(n_factors)
    if not 1 <= k < p:
        raise AnalysisError(f"{what}: n_factors must be between 1 and {p - 1} for {p} variables, got {k}")
    dof = ((p - k) ** 2 - (p + k)) / 2.0
    if method == "ml" and dof < 0:
        raise AnalysisError(
            f"{what}: {k} factors for {p} variables leave negative degrees of freedom ({dof:g}) for ML; "
            "use fewer factors"
        )
    return k, dof


# --------------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------------


def _eigh_desc(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e, v = np.linalg.eigh(m)
    return e[::-1], v[:, ::-1]


def _ml_loadings(psi: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """psych FAout: loadings from the scaled matrix Psi^-1/2 R Psi^-1/2."""
    s = 1.0 / np.sqrt(psi)
    e, v = _eigh_desc(r * np.outer(s, s))
    load = v[:, :k] * np.sqrt(np.maximum(e[:k] - 1.0, 0.0))
    return np.sqrt(psi)[:, None] * load


def _ml_fun_grad(psi: np.ndarray, r: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """psych FAfn and FAgr (= stats::factanal's factanal.fit.mle objective and gradient)."""
    p = r.shape[0]
    s = 1.0 / np.sqrt(psi)
    e, v = _eigh_desc(r * np.outer(s, s))
    rest = e[k:]
    if rest.min() <= 0:
        return np.inf, np.zeros(p)
    f = -(np.sum(np.log(rest) - rest) - k + p)
    load = np.sqrt(psi)[:, None] * (v[:, :k] * np.sqrt(np.maximum(e[:k] - 1.0, 0.0)))
    g = (np.sum(load**2, axis=1) + psi - np.diag(r)) / psi**2
    return float(f), g


def _minres_loadings(psi: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """psych FAout.wls: principal axes of R with 1 - psi on the diagonal."""
    s = r.copy()
    np.fill_diagonal(s, np.diag(r) - psi)
    mu, v = _eigh_desc(s)
    return v[:, :k] * np.sqrt(np.maximum(mu[:k], 0.0))


def _uls_fun_grad(psi: np.ndarray, r: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Full unweighted least squares ||S - LL'||^2 (S = R with 1 - psi on the diagonal) and its exact
    gradient -2 diag(S - LL'); stationary where psych's minres criterion is (see module docstring)."""
    s = r.copy()
    np.fill_diagonal(s, np.diag(r) - psi)
    mu, v = _eigh_desc(s)
    load = v[:, :k] * np.sqrt(np.maximum(mu[:k], 0.0))
    res = s - load @ load.T
    return float(np.sum(res**2)), -2.0 * np.diag(res)


def _psych_minres_objective(psi: np.ndarray, r: np.ndarray, k: int) -> float:
    """psych's fit.residuals for fm = "minres": sum of squared lower-triangle residuals."""
    s = r.copy()
    np.fill_diagonal(s, np.diag(r) - psi)
    mu, v = _eigh_desc(s)
    mu = np.where(mu < np.finfo(float).eps, 100 * np.finfo(float).eps, mu)
    load = v[:, :k] * np.sqrt(mu[:k])
    res = s - load @ load.T
    return float(np.sum(res[np.tril_indices_from(res, -1)] ** 2))


def _fit_objective(load: np.ndarray, r: np.ndarray) -> float:
    """psych fa.stats ``objective``: the ML discrepancy of the model LL' with unit diagonal."""
    p = r.shape[0]
    model = load @ load.T
    np.fill_diagonal(model, np.diag(r))
    try:
        m = np.linalg.solve(model, r)
        sign, logdet = np.linalg.slogdet(m)
    except np.linalg.LinAlgError:
        return float("nan")
    if sign <= 0:
        return float("nan")
    return float(np.trace(m) - logdet - p)


def _signs(load: np.ndarray) -> np.ndarray:
    s = np.sign(load.sum(axis=0))
    s[s == 0] = 1.0
    return s


def extract(
    R,
    n_factors: int,
    method: str = "ml",
    *,
    n_obs: int | None = None,
    gtol: float = 1e-7,
    max_iter: int = 1000,
) -> ExtractionResult:
    """Unrotated ML or minres factors of the correlation matrix ``R`` (see the module docstring).

    Raises AnalysisError for a matrix that is not a finite, symmetric, positive-definite correlation
    matrix, for n_factors outside 1..p-1, and for ML with negative degrees of freedom. Non-convergence
    and Heywood cases do not raise: they are reported in ``converged``, ``heywood`` and ``warnings``.
    """
    what = "factor extraction"
    if method not in METHODS:
        raise AnalysisError(f"{what}: method must be one of {', '.join(METHODS)}, got {method!r}")
    r = _check_corr(R, what)
    p = r.shape[0]
    k, dof = _check_k(n_factors, p, method, what)
    if n_obs is not None and (int(n_obs) != n_obs or n_obs < 2):
        raise AnalysisError(f"{what}: n_obs must be a whole number >= 2, got {n_obs!r}")
    msgs: list[str] = []
    if method == "minres" and dof < 0:
        msgs.append(f"{k} factors for {p} variables leave negative degrees of freedom ({dof:g})")

    smc = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    start = np.clip(np.diag(r) - smc, LOWER_BOUND, UPPER_BOUND)
    fun = _ml_fun_grad if method == "ml" else _uls_fun_grad
    from scipy import optimize  # deferred: only the extraction needs it

    res = optimize.minimize(
        fun,
        start,
        args=(r, k),
        jac=True,
        method="L-BFGS-B",
        bounds=[(LOWER_BOUND, UPPER_BOUND)] * p,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
    )
    psi = np.clip(np.asarray(res.x, dtype=float), LOWER_BOUND, UPPER_BOUND)
    f, g = fun(psi, r, k)
    # projected gradient: components pushing against an active bound do not count
    pg = g.copy()
    pg[(psi <= LOWER_BOUND) & (g > 0)] = 0.0
    pg[(psi >= UPPER_BOUND) & (g < 0)] = 0.0
    if method == "ml":
        pg = pg * psi**2  # = diagonal residual (LL' + Psi - R)_ii, comparable across items
    else:
        pg = pg / 2.0
    gmax = float(np.max(np.abs(pg))) if pg.size else 0.0
    converged = bool(np.isfinite(f) and gmax < gtol and res.nit < max_iter)
    if not converged:
        msgs.append(
            f"{method} extraction did not converge: largest projected gradient {gmax:.3g} "
            f"after {res.nit} iterations ({res.message})"
        )

    load = _ml_loadings(psi, r, k) if method == "ml" else _minres_loadings(psi, r, k)
    load = load * _signs(load)
    h2 = np.sum(load**2, axis=1)
    uniq = np.diag(r) - h2
    heywood = tuple(int(i) for i in np.flatnonzero((psi <= LOWER_BOUND * (1 + 1e-9)) | (h2 >= HEYWOOD_H2)))
    if heywood:
        msgs.append(
            "improper solution (Heywood case): uniqueness at the lower bound "
            f"{LOWER_BOUND} or communality >= {HEYWOOD_H2} for variable(s) {list(heywood)} (0-based)"
        )
    if np.any(h2 > 1.0):
        msgs.append(f"ultra-Heywood case: communality > 1 for variable(s) {list(np.flatnonzero(h2 > 1.0))}")
    objective = float(f) if method == "ml" else _psych_minres_objective(psi, r, k)
    fit_obj = _fit_objective(load, r)
    chi2 = pval = None
    if n_obs is not None:
        chi2 = max(fit_obj * ((n_obs - 1) - (2 * p + 5) / 6.0 - (2 * k) / 3.0), 0.0)
        pval = float(special.chdtrc(dof, chi2)) if dof > 0 else float("nan")
    return ExtractionResult(
        loadings=load,
        uniquenesses=uniq,
        communalities=h2,
        psi=psi,
        method=method,
        n_factors=k,
        objective=objective,
        fit_objective=fit_obj,
        dof=dof,
        n_obs=None if n_obs is None else int(n_obs),
        chi2=chi2,
        p_value=pval,
        iterations=int(res.nit),
        evaluations=int(res.nfev),
        gradient=gmax,
        converged=converged,
        heywood=heywood,
        warnings=tuple(msgs),
    )


# --------------------------------------------------------------------------------------------------
# rotation criteria: GPArotation's vgQ.* (value f and gradient Gq = df/dL)
# --------------------------------------------------------------------------------------------------

Criterion = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _vgq_oblimin(gamma: float) -> Criterion:
    def vgq(L):
        k = L.shape[1]
        X = (L**2) @ (1.0 - np.eye(k))
        if gamma != 0:
            p = L.shape[0]
            X = (np.eye(p) - np.full((p, p), gamma / p)) @ X
        return float(np.sum(L**2 * X) / 4.0), L * X

    return vgq


def _vgq_geomin(delta: float) -> Criterion:
    def vgq(L):
        k = L.shape[1]
        L2 = L**2 + delta
        pro = np.exp(np.sum(np.log(L2), axis=1) / k)
        return float(np.sum(pro)), (2.0 / k) * (L / L2) * pro[:, None]

    return vgq


def _vgq_oblimax(L):
    s4, s2 = np.sum(L**4), np.sum(L**2)
    return float(-(np.log(s4) - 2.0 * np.log(s2))), -(4.0 * L**3 / s4 - 4.0 * L / s2)


def _vgq_quartimax(L):
    L2 = L**2
    return float(-np.sum(L2 * L2) / 4.0), -(L**3)


def _vgq_cf(kappa: float) -> Criterion:
    def vgq(L):
        p, k = L.shape
        L2 = L**2
        L2N = L2 @ (np.ones((k, k)) - np.eye(k))
        ML2 = (np.ones((p, p)) - np.eye(p)) @ L2
        f = (1.0 - kappa) * np.sum(L2 * L2N) / 4.0 + kappa * np.sum(L2 * ML2) / 4.0
        return float(f), (1.0 - kappa) * L * L2N + kappa * L * ML2

    return vgq


def _vgq_varimax(L):
    QL = L**2 - np.mean(L**2, axis=0)
    return float(-np.sum(QL**2) / 4.0), -L * QL


def _criterion(name: str, p: int, k: int, gamma: float, delta: float, kappa: float | None) -> tuple[Criterion, bool]:
    """(criterion, orthogonal) for a GPA rotation name."""
    if name == "oblimin":
        return _vgq_oblimin(gamma), False
    if name == "quartimin":
        return _vgq_oblimin(0.0), False
    if name == "geomin_obl":
        return _vgq_geomin(delta), False
    if name == "oblimax":
        return _vgq_oblimax, True  # crfm's (and factor_analyzer's) family; GPArotation runs it oblique
    if name == "quartimax":
        return _vgq_quartimax, True
    if name == "equamax":
        return _vgq_cf(k / (2.0 * p) if kappa is None else kappa), True
    if name == "geomin_ort":
        return _vgq_geomin(delta), True
    if name == "varimax":
        return _vgq_varimax, True
    raise AnalysisError(f"rotation: unknown GPA criterion {name!r}")


# --------------------------------------------------------------------------------------------------
# rotation algorithms
# --------------------------------------------------------------------------------------------------


def _check_loadings(loadings, what: str) -> np.ndarray:
    a = np.array(loadings, dtype=float, copy=True)
    if a.ndim != 2 or a.shape[0] < 2:
        raise AnalysisError(f"{what}: loadings must be a p x k matrix, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise AnalysisError(f"{what}: loadings contain NaN or infinite values")
    if a.shape[1] < 2:
        raise AnalysisError(
            f"{what}: rotation does not make sense for a single-factor solution (k = {a.shape[1]}); use rotation 'none'"
        )
    return a


def _row_norms(a: np.ndarray, what: str) -> np.ndarray:
    w = np.sqrt(np.sum(a**2, axis=1))
    if np.any(w == 0):
        raise AnalysisError(
            f"{what}: Kaiser normalisation needs every row to have a non-zero loading "
            f"(all-zero rows {list(np.flatnonzero(w == 0))})"
        )
    return w


def gpa(
    loadings,
    criterion: str = "oblimin",
    *,
    orthogonal: bool | None = None,
    normalize: bool = False,
    gamma: float = 0.0,
    delta: float = 0.01,
    kappa: float | None = None,
    tol: float = 1e-5,
    max_iter: int = 1000,
    start=None,
) -> RotationResult:
    """Gradient-projection rotation, GPArotation's GPFoblq (oblique) / GPForth (orthogonal).

    criterion: oblimin (gamma), quartimin, geomin_obl / geomin_ort (delta), oblimax, quartimax,
    equamax (Crawford-Ferguson kappa, default k / (2p)) or varimax (GPArotation's Varimax criterion).
    ``orthogonal`` defaults to the criterion's family (geomin follows the name; oblimax orthogonal,
    ``orthogonal=False`` for GPArotation::oblimax). ``start``: initial
    T (default identity, as psych). Stops when ||projected gradient||_F < tol, after at most
    ``max_iter`` + 1 gradient evaluations.
    """
    what = f"rotation {criterion}"
    a = _check_loadings(loadings, what)
    p, k = a.shape
    vgq, ortho_default = _criterion(criterion, p, k, gamma, delta, kappa)
    ortho = ortho_default if orthogonal is None else bool(orthogonal)
    w = _row_norms(a, what) if normalize else None
    if w is not None:
        a = a / w[:, None]
    T = np.eye(k) if start is None else np.array(start, dtype=float, copy=True)
    if T.shape != (k, k):
        raise AnalysisError(f"{what}: start must be {k} x {k}, got {T.shape}")
    al = 1.0
    if ortho:
        L = a @ T
        f, Gq = vgq(L)
        G = a.T @ Gq
    else:
        Ti = np.linalg.inv(T)
        L = a @ Ti.T
        f, Gq = vgq(L)
        G = -(L.T @ Gq @ Ti).T
    s = np.inf
    it = 0
    for it in range(max_iter + 1):  # noqa: B007 (it is the iteration count after the loop)
        if ortho:
            M = T.T @ G
            Gp = G - T @ ((M + M.T) / 2.0)
        else:
            Gp = G - T * np.sum(T * G, axis=0)
        s = float(np.sqrt(np.sum(Gp**2)))
        if s < tol:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            if ortho:
                U, _d, Vt = np.linalg.svd(X)
                Tt = U @ Vt
                L = a @ Tt
                ft, Gqt = vgq(L)
                if ft < f - 0.5 * s**2 * al:
                    break
            else:
                Tt = X / np.sqrt(np.sum(X**2, axis=0))
                Tti = np.linalg.inv(Tt)
                L = a @ Tti.T
                ft, Gqt = vgq(L)
                if f - ft > 0.5 * s**2 * al:
                    break
            al /= 2.0
        T, f = Tt, ft
        G = a.T @ Gqt if ortho else -(L.T @ Gqt @ np.linalg.inv(T)).T
    converged = bool(s < tol)
    if w is not None:
        L = L * w[:, None]
    if ortho:
        rot, phi = T, np.eye(k)
    else:
        rot, phi = np.linalg.inv(T).T, T.T @ T
    return RotationResult(
        loadings=L,
        phi=phi,
        rotation_matrix=rot,
        converged=converged,
        iterations=int(it),
        method=criterion,
        orthogonal=ortho,
        normalized=bool(normalize),
        criterion=float(f),
    )


def varimax(loadings, *, normalize: bool = True, tol: float = 1e-5, max_iter: int = 1000) -> RotationResult:
    """stats::varimax (psych::fa's ``rotate="varimax"``): Kaiser normalisation by default, the SVD
    iteration from T = I, stop when the criterion sum(d) grows by less than a relative ``tol``."""
    what = "rotation varimax"
    a = _check_loadings(loadings, what)
    p, k = a.shape
    w = _row_norms(a, what) if normalize else None
    x = a / w[:, None] if w is not None else a
    T = np.eye(k)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count after the loop)
        z = x @ T
        B = x.T @ (z**3 - z * (np.sum(z**2, axis=0) / p))
        U, sv, Vt = np.linalg.svd(B)
        T = U @ Vt
        dpast, d = d, float(np.sum(sv))
        if d < dpast * (1.0 + tol):
            converged = True
            break
    z = x @ T
    crit = _vgq_varimax(z)[0]
    if w is not None:
        z = z * w[:, None]
    return RotationResult(
        loadings=z,
        phi=np.eye(k),
        rotation_matrix=T,
        converged=converged,
        iterations=int(it),
        method="varimax",
        orthogonal=True,
        normalized=bool(normalize),
        criterion=float(crit),
    )


def promax(
    loadings, *, power: float = 4, normalize: bool = True, tol: float = 1e-5, max_iter: int = 1000
) -> RotationResult:
    """psych's ``rotate="promax"``: psych::kaiser(L, "Promax", m = power) when ``normalize`` (default),
    psych::Promax (= psych ``rotate="Promax"``) otherwise. The varimax step is stats::varimax, which
    Kaiser-normalises in both cases."""
    what = "rotation promax"
    a = _check_loadings(loadings, what)
    w = _row_norms(a, what) if normalize else None
    x = a / w[:, None] if w is not None else a
    vm = varimax(x, normalize=True, tol=tol, max_iter=max_iter)
    xv = vm.loadings
    Q = xv * np.abs(xv) ** (power - 1)
    U = np.linalg.lstsq(xv, Q, rcond=None)[0]  # lm.fit(x, Q)$coefficients
    UU = U.T @ U
    try:
        d = np.diag(np.linalg.inv(UU))
        if not np.all(np.isfinite(d)) or np.linalg.cond(UU) > 1 / np.finfo(float).eps:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        # psych::Promax's fallback for exactly uncorrelated factors
        ev, evec = np.linalg.eigh(UU)
        ev = np.where(ev < np.finfo(float).eps, 100 * np.finfo(float).eps, ev)
        UU = evec @ np.diag(ev) @ evec.T
        np.fill_diagonal(UU, 1.0)
        d = np.diag(np.linalg.inv(UU))
    U = U * np.sqrt(d)
    z = xv @ U
    rot = vm.rotation_matrix @ U
    ui = np.linalg.inv(rot)
    phi = ui @ ui.T
    if w is not None:
        z = z * w[:, None]
    return RotationResult(
        loadings=z,
        phi=phi,
        rotation_matrix=rot,
        converged=vm.converged,
        iterations=vm.iterations,
        method="promax",
        orthogonal=False,
        normalized=bool(normalize),
        criterion=None,
    )


def rotate(
    loadings,
    method: str = "oblimin",
    *,
    normalize: bool | None = None,
    gamma: float = 0.0,
    delta: float = 0.01,
    kappa: float | None = None,
    power: float = 4,
    tol: float = 1e-5,
    max_iter: int = 1000,
) -> RotationResult:
    """Rotate unrotated loadings (p x k, k >= 2) the way psych::fa does for ``method``.

    method: one of ROTATIONS. ``normalize=None`` uses psych::fa's default (Kaiser normalisation for
    varimax and promax only). gamma: oblimin; delta: geomin; kappa: equamax (default k / (2p));
    power: promax. tol / max_iter: GPA eps / maxit (GPArotation 1e-5 / 1000), or varimax's eps.
    """
    if method not in ROTATIONS:
        raise AnalysisError(f"rotation: unknown method {method!r}; use one of {', '.join(ROTATIONS)}")
    if method == "none":
        a = np.array(loadings, dtype=float, copy=True)
        if a.ndim != 2:
            raise AnalysisError(f"rotation: loadings must be a p x k matrix, got shape {a.shape}")
        k = a.shape[1]
        return RotationResult(a, np.eye(k), np.eye(k), True, 0, "none", True, False, None)
    if method == "varimax":
        return varimax(loadings, normalize=True if normalize is None else normalize, tol=tol, max_iter=max_iter)
    if method == "promax":
        return promax(
            loadings, power=power, normalize=True if normalize is None else normalize, tol=tol, max_iter=max_iter
        )
    return gpa(
        loadings,
        method,
        normalize=False if normalize is None else normalize,
        gamma=gamma,
        delta=delta,
        kappa=kappa,
        tol=tol,
        max_iter=max_iter,
    )


# --------------------------------------------------------------------------------------------------
# both steps
# --------------------------------------------------------------------------------------------------


def psych_normalise(loadings, phi=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """psych::fa's final column normalisation: flip each factor so its loadings sum to >= 0, then
    order factors by decreasing SS loadings diag(phi L'L) (stable for ties). Returns (loadings, phi,
    ss_loadings). A project-specific order (e.g. by the position of each factor's marker item) is
    the caller's business."""
    lam = np.array(loadings, dtype=float, copy=True)
    k = lam.shape[1]
    ph = np.eye(k) if phi is None else np.array(phi, dtype=float, copy=True)
    s = _signs(lam)
    lam = lam * s
    ph = ph * np.outer(s, s)
    ss = np.diag(ph @ lam.T @ lam)
    order = np.argsort(-ss, kind="stable")
    return lam[:, order], ph[np.ix_(order, order)], ss[order]


def factor_analysis(
    R,
    n_factors: int,
    method: str = "ml",
    rotation: str | None = "oblimin",
    n_obs: int | None = None,
    **rotation_options,
) -> FactorAnalysisResult:
    """psych::fa(R, n_factors, fm=method, rotate=rotation, n.obs=n_obs) on a correlation matrix.

    rotation None or "none" leaves the solution unrotated; with one factor any rotation is skipped
    (as psych and factor_analyzer do) and a warning says so. ``rotation_options`` go to ``rotate``.
    Columns get psych's final normalisation (signs: each column sums to >= 0; order: decreasing SS
    loadings). Raises AnalysisError for the bad inputs ``extract`` and ``rotate`` reject.
    """
    rot_name = "none" if rotation is None else rotation
    if rot_name not in ROTATIONS:
        raise AnalysisError(f"rotation: unknown method {rotation!r}; use one of {', '.join(ROTATIONS)}")
    ex = extract(R, n_factors, method, n_obs=n_obs)
    k = ex.n_factors
    msgs = list(ex.warnings)
    rr: RotationResult | None = None
    if rot_name != "none" and k == 1:
        msgs.append(f"rotation {rot_name!r} skipped: a single factor cannot be rotated")
        rot_name = "none"
    if rot_name == "none":
        lam, phi = ex.loadings.copy(), np.eye(k)
    else:
        rr = rotate(ex.loadings, rot_name, **rotation_options)
        lam, phi = rr.loadings.copy(), rr.phi.copy()
        if not rr.converged:
            msgs.append(f"rotation {rot_name} did not converge in {rr.iterations} iterations")
    lam, phi, ss = psych_normalise(lam, phi)
    return FactorAnalysisResult(
        loadings=lam,
        phi=phi,
        structure=lam @ phi,
        communalities=ex.communalities.copy(),
        uniquenesses=ex.uniquenesses.copy(),
        ss_loadings=ss,
        method=method,
        rotation=rot_name,
        converged=bool(ex.converged and (rr is None or rr.converged)),
        heywood=ex.heywood,
        warnings=tuple(msgs),
        extraction=ex,
        rotation_result=rr,
    )
