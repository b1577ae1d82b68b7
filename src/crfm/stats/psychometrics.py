"""Classical psychometrics for scale development (Study 2): reliability, item analysis, factorability,
parallel analysis, convergent / discriminant validity and a common-method check.

Pure functions: inputs are pandas DataFrames (rows = respondents, columns = items) and plain Python
arguments; outputs are floats, DataFrames or small dataclasses whose ``table`` / ``to_frame()`` are tidy.

Missing data
    The correlation-based statistics (KMO, Bartlett, parallel analysis, HTMT, Harman; the EFA of
    :mod:`crfm.stats.efa`) take either a DataFrame - then they use **listwise deletion** over the items
    they analyse, which matches the lavaan / semTools reference numbers on complete data - or an
    :class:`ItemMoments`: an item covariance matrix with its n, e.g. the saturated model's ML estimate
    under MAR from the EM algorithm (:func:`crfm.stats.sem.saturated_moments`), so that every
    respondent counts and every statistic uses the same respondents as a FIML CFA. Functions taking a
    ``missing`` argument also accept ``"pairwise"``. ``item_analysis`` additionally reports each item's
    own n and missing share.

Validation
    Statistics that need a correlation matrix refuse input they cannot treat honestly and raise
    :class:`crfm.errors.AnalysisError` naming the items concerned: an unknown or non-numeric item, an
    item with zero variance, a singular correlation matrix (the message lists the items in the linear
    dependency) and too few complete cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError

__all__ = [
    "ItemMoments",
    "item_moments",
    "cronbach_alpha",
    "cronbach_alpha_from_cov",
    "item_analysis",
    "kmo",
    "bartlett",
    "parallel_analysis",
    "composite_reliability",
    "ave",
    "htmt",
    "fornell_larcker",
    "harman_single_factor",
    "square_to_pairs",
    "complete_items",
    "check_correlation_input",
    "KMOResult",
    "BartlettResult",
    "ParallelAnalysisResult",
    "FornellLarckerResult",
    "HarmanResult",
]

#: eigenvalue of the correlation matrix below which it is treated as singular
SINGULAR_TOL = 1e-8
#: the same for a matrix estimated by EM: EM stops near, not at, a singular solution (exactly dependent
#: items with missing answers leave a smallest eigenvalue of about 1e-8)
EM_SINGULAR_TOL = 1e-6


@dataclass(frozen=True)
class ItemMoments:
    """An item covariance matrix (rows and columns named by item) and the number of respondents it
    rests on: the input of every correlation-based statistic here. ``source`` says how it was
    estimated (e.g. "listwise complete cases", "EM (saturated ML under MAR)")."""

    cov: pd.DataFrame
    n: int
    source: str
    em: bool = False  # estimated by EM (then EM_SINGULAR_TOL applies)

    @property
    def items(self) -> list[str]:
        return [str(c) for c in self.cov.columns]

    @property
    def corr(self) -> pd.DataFrame:
        d = np.sqrt(np.diag(self.cov.to_numpy(dtype=float)))
        return self.cov / np.outer(d, d)

    def subset(self, items: Sequence[str]) -> ItemMoments:
        items = list(items)
        absent = [i for i in items if i not in self.cov.index]
        if absent:
            raise AnalysisError(
                f"item(s) {', '.join(map(str, absent))} are not in the item moments ({', '.join(self.items)})"
            )
        return ItemMoments(self.cov.loc[items, items], self.n, self.source, self.em)


# --------------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------------


def _as_items(df: pd.DataFrame, items: Sequence[str] | None, what: str) -> list[str]:
    if not isinstance(df, pd.DataFrame):
        raise AnalysisError(f"{what}: expected a pandas DataFrame of item responses, got {type(df).__name__}")
    items = list(df.columns) if items is None else list(items)
    if not items:
        raise AnalysisError(f"{what}: no items given")
    if len(set(items)) != len(items):
        dup = sorted({i for i in items if items.count(i) > 1})
        raise AnalysisError(f"{what}: item(s) listed more than once: {', '.join(map(str, dup))}")
    missing = [i for i in items if i not in df.columns]
    if missing:
        raise AnalysisError(
            f"{what}: item(s) {', '.join(map(str, missing))} not found in the data "
            f"(columns: {', '.join(map(str, df.columns))})"
        )
    bad = [i for i in items if not pd.api.types.is_numeric_dtype(df[i]) or pd.api.types.is_bool_dtype(df[i])]
    if bad:
        raise AnalysisError(f"{what}: item(s) {', '.join(map(str, bad))} are not numeric; recode them first")
    return items


def complete_items(
    df: pd.DataFrame,
    items: Sequence[str] | None = None,
    *,
    min_cases: int | None = None,
    what: str = "analysis",
) -> pd.DataFrame:
    """Rows of ``df[items]`` complete on every item (listwise deletion), as float64.

    Raises AnalysisError if fewer than ``min_cases`` complete rows remain (default: 3) or if an item has
    zero variance in those rows. The messages name the items.
    """
    items = _as_items(df, items, what)
    x = df[items].astype("float64")
    x = x[np.isfinite(x.to_numpy()).all(axis=1)]
    need = 3 if min_cases is None else int(min_cases)
    if len(x) < need:
        nmiss = df[items].isna().sum().sort_values(ascending=False)
        worst = [f"{i} ({int(m)} missing)" for i, m in nmiss.items() if m > 0][:5]
        hint = f"; most missing: {', '.join(worst)}" if worst else ""
        raise AnalysisError(
            f"{what}: too few complete cases on items {', '.join(map(str, items))}: "
            f"{len(x)} complete row(s), need at least {need}{hint}"
        )
    sd = x.std(ddof=1)
    zero = [i for i in items if not np.isfinite(sd[i]) or sd[i] <= 1e-12 * max(1.0, abs(x[i].mean()))]
    if zero:
        raise AnalysisError(
            f"{what}: item(s) with zero variance (every complete respondent gave the same answer): "
            f"{', '.join(map(str, zero))}; drop or recode them"
        )
    return x


def _dependency_groups(r: np.ndarray, items: list[str], tol: float) -> list[list[str]]:
    """Items loading on the (near-)null space of ``r``: each null eigenvector gives one dependency."""
    w, v = np.linalg.eigh(r)
    groups = []
    for k in np.flatnonzero(w < tol):
        vec = v[:, k]
        involved = [items[i] for i in np.flatnonzero(np.abs(vec) > 1e-3 * np.abs(vec).max())]
        if involved and involved not in groups:
            groups.append(involved)
    return groups


def check_correlation_input(
    df: pd.DataFrame,
    items: Sequence[str] | None = None,
    *,
    min_cases: int | None = None,
    what: str = "analysis",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Listwise-complete data and its Pearson correlation matrix, validated for inversion.

    Needs at least ``min_cases`` complete rows (default p + 1), no zero-variance item, and a correlation
    matrix whose smallest eigenvalue exceeds ``SINGULAR_TOL``; otherwise AnalysisError naming the
    items (for a singular matrix: the items with weight on each null eigenvector, i.e. the items of
    the linear dependency).
    """
    items = _as_items(df, items, what)
    x = complete_items(df, items, min_cases=(len(items) + 1) if min_cases is None else min_cases, what=what)
    r = np.corrcoef(x.to_numpy(), rowvar=False)
    r = np.atleast_2d(r)
    _check_singular(r, items, what)
    return x, r


def _check_singular(r: np.ndarray, items: list[str], what: str, tol: float = SINGULAR_TOL) -> None:
    if len(items) > 1 and np.linalg.eigvalsh(r)[0] < tol:
        groups = _dependency_groups(r, items, tol)
        desc = "; ".join("{" + ", ".join(map(str, g)) + "}" for g in groups) or ", ".join(items)
        raise AnalysisError(
            f"{what}: the correlation matrix is singular: linear dependency among items {desc}. "
            "One item is (almost) an exact combination of the others (duplicate, sum score or "
            "reverse-coded copy): drop one of them"
        )


def item_moments(
    data, items: Sequence[str] | None = None, *, what: str = "analysis", min_cases: int | None = None
) -> ItemMoments:
    """The :class:`ItemMoments` of ``items``: given ones (subset and checked), or those of a DataFrame's
    listwise-complete rows (validated as :func:`check_correlation_input` does)."""
    if isinstance(data, ItemMoments):
        m = data.subset(items) if items is not None else data
        sd = np.sqrt(np.diag(m.cov.to_numpy(dtype=float)))
        zero = [i for i, s in zip(m.items, sd) if not s > 1e-12]
        if zero:
            raise AnalysisError(f"{what}: item(s) with zero variance: {', '.join(zero)}; drop or recode them")
        _check_singular(m.corr.to_numpy(dtype=float), m.items, what, EM_SINGULAR_TOL if m.em else SINGULAR_TOL)
        return m
    x, _ = check_correlation_input(data, items, min_cases=min_cases, what=what)
    cols = [str(c) for c in x.columns]
    v = x.to_numpy()
    v = v[np.lexsort(v.T[::-1])]  # canonical row order: the same bits for any order of the respondents
    return ItemMoments(
        pd.DataFrame(np.atleast_2d(np.cov(v, rowvar=False, ddof=1)), index=cols, columns=cols),
        len(x),
        "listwise complete cases",
    )


def _cov(df: pd.DataFrame, items: list[str], missing: str, what: str, min_cases: int = 3) -> np.ndarray:
    if missing == "listwise":
        x = complete_items(df, items, min_cases=min_cases, what=what)
        return np.atleast_2d(np.cov(x.to_numpy(), rowvar=False, ddof=1))
    if missing == "pairwise":
        _as_items(df, items, what)
        x = df[items].astype("float64")
        npair = x.notna().astype(float).T.dot(x.notna().astype(float))
        if (npair.to_numpy() < min_cases).any():
            i, j = np.unravel_index(np.argmin(npair.to_numpy()), npair.shape)
            raise AnalysisError(
                f"{what}: too few pairwise-complete cases for items {items[i]} and {items[j]}: "
                f"{int(npair.iat[i, j])}, need at least {min_cases}"
            )
        c = x.cov(ddof=1).to_numpy()
        zero = [items[k] for k in range(len(items)) if not c[k, k] > 1e-12]
        if zero:
            raise AnalysisError(f"{what}: item(s) with zero variance: {', '.join(map(str, zero))}")
        return c
    raise AnalysisError(f"{what}: missing must be 'listwise' or 'pairwise', got {missing!r}")


def cronbach_alpha_from_cov(c) -> float:
    """Cronbach's alpha from an item covariance matrix: k / (k - 1) * (1 - tr(C) / sum(C)) (e.g. the
    ML estimate of the items' covariance under MAR, the saturated model of a FIML analysis)."""
    c = np.asarray(c, dtype=float)
    k = c.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(c) / c.sum()))


_alpha_from_cov = cronbach_alpha_from_cov


# --------------------------------------------------------------------------------------------------
# reliability and item analysis
# --------------------------------------------------------------------------------------------------


def cronbach_alpha(df_items: pd.DataFrame, *, missing: str = "listwise") -> float:
    """Raw Cronbach's alpha of the columns of ``df_items`` (psych::alpha ``raw_alpha``).

    alpha = k / (k - 1) * (1 - tr(C) / sum(C)),  C = item covariance matrix (n - 1 divisor; the divisor
    cancels), k = number of items.

    ``missing="listwise"`` (default) uses rows complete on all items; ``"pairwise"`` uses the
    pairwise-complete covariance matrix, as psych::alpha does by default. Identical on complete data.
    """
    items = _as_items(df_items, None, "cronbach_alpha")
    if len(items) < 2:
        raise AnalysisError(f"cronbach_alpha: needs at least 2 items, got {', '.join(map(str, items))}")
    return _alpha_from_cov(_cov(df_items, items, missing, "cronbach_alpha"))


def item_analysis(
    df: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    *,
    missing: str = "listwise",
    moments: ItemMoments | None = None,
) -> pd.DataFrame:
    """Per-item descriptive statistics and classical item analysis, one row per (construct, item).

    Columns: construct, item, n (non-missing answers to this item), missing_share (share of rows of
    ``df`` missing this item), mean, sd (n - 1 divisor), skewness, kurtosis_excess, item_total_r,
    alpha_if_deleted, construct_alpha, construct_n.

    * mean / sd / skewness / kurtosis use every non-missing answer to the item.
      skewness = G1 = sqrt(n(n-1))/(n-2) * m3/m2^1.5 (adjusted Fisher-Pearson; SPSS, SAS, pandas);
      kurtosis_excess = G2 = (n-1)/((n-2)(n-3)) * ((n+1) m4/m2^2 - 3(n-1)) (SPSS, SAS, pandas;
      0 for the normal); m_r = central sample moments with divisor n.
    * item_total_r is the corrected item-total correlation: the Pearson correlation of the item with
      the sum of the *other* items of its construct (psych ``r.drop``), from the construct's
      covariance matrix C:  r_i = sum_{j != i} C_ij / sqrt(C_ii * sum_{j,k != i} C_jk).
    * alpha_if_deleted is raw alpha of the construct without the item (NaN for a 2-item construct,
      whose remainder is one item).
    * construct_alpha / construct_n: raw alpha of the whole construct and the number of rows it uses
      (listwise within the construct, or pairwise when ``missing="pairwise"``).
    * With ``moments`` (:class:`ItemMoments`, e.g. EM under MAR) the covariance-based columns
      (item_total_r, alpha_if_deleted, construct_alpha) come from them and construct_n is their n.
    """
    if not constructs:
        raise AnalysisError("item_analysis: no constructs given")
    rows = []
    n_rows = len(df)
    for construct, items in constructs.items():
        items = list(items)
        what = f"item_analysis, construct '{construct}'"
        _as_items(df, items, what)
        if len(items) < 2:
            raise AnalysisError(f"{what}: needs at least 2 items for item-total statistics, got {items}")
        if moments is not None:
            c, n_c = moments.subset(items).cov.to_numpy(dtype=float), moments.n
        else:
            c = _cov(df, items, missing, what)
            n_c = (
                int(df[items].notna().all(axis=1).sum())
                if missing == "listwise"
                else int(df[items].notna().any(axis=1).sum())
            )
        alpha_all = _alpha_from_cov(c)
        for k, item in enumerate(items):
            s = df[item].dropna().astype("float64")
            others = [j for j in range(len(items)) if j != k]
            c_rest = c[np.ix_(others, others)]
            r_drop = (c[k, others].sum()) / np.sqrt(c[k, k] * c_rest.sum())
            a_drop = _alpha_from_cov(c_rest) if len(others) >= 2 else np.nan
            rows.append(
                {
                    "construct": construct,
                    "item": item,
                    "n": int(s.size),
                    "missing_share": float(1.0 - s.size / n_rows) if n_rows else np.nan,
                    "mean": float(s.mean()),
                    "sd": float(s.std(ddof=1)),
                    "skewness": float(s.skew()),
                    "kurtosis_excess": float(s.kurt()),
                    "item_total_r": float(r_drop),
                    "alpha_if_deleted": float(a_drop),
                    "construct_alpha": alpha_all,
                    "construct_n": n_c,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# factorability
# --------------------------------------------------------------------------------------------------


@dataclass
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy: ``overall`` and ``per_item`` (Series)."""

    overall: float
    per_item: pd.Series
    n: int

    def to_frame(self) -> pd.DataFrame:
        """Tidy: columns item, msa; last row item='(overall)'."""
        t = pd.DataFrame({"item": list(self.per_item.index), "msa": self.per_item.to_numpy()})
        return pd.concat([t, pd.DataFrame({"item": ["(overall)"], "msa": [self.overall]})], ignore_index=True)


def kmo(df, items: Sequence[str] | None = None) -> KMOResult:
    """Kaiser-Meyer-Olkin MSA (Kaiser 1970), overall and per item, from the listwise-complete data (or
    the given :class:`ItemMoments`).

    With R the correlation matrix and Q the partial (anti-image) correlations,
    q_ij = -(R^-1)_ij / sqrt((R^-1)_ii (R^-1)_jj):
    MSA_j = sum_{i != j} r_ij^2 / (sum_{i != j} r_ij^2 + sum_{i != j} q_ij^2), and the overall KMO uses
    the same ratio summed over all i != j.
    """
    m = item_moments(df, items, what="kmo")
    r = m.corr.to_numpy(dtype=float)
    ri = np.linalg.inv(r)
    d = np.sqrt(np.diag(ri))
    q = -ri / np.outer(d, d)
    np.fill_diagonal(q, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, q2 = (r0**2).sum(axis=0), (q**2).sum(axis=0)
    per = pd.Series(r2 / (r2 + q2), index=m.items, name="msa")
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    return KMOResult(overall=overall, per_item=per, n=m.n)


@dataclass
class BartlettResult:
    """Bartlett's test of sphericity."""

    chi2: float
    df: int
    p: float
    n: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"chi2": self.chi2, "df": self.df, "p": self.p, "n": self.n}])


def bartlett(df, items: Sequence[str] | None = None) -> BartlettResult:
    """Bartlett's (1950) test that the population correlation matrix is the identity.

    chi2 = -(n - 1 - (2p + 5) / 6) * ln|R|,  df = p(p - 1) / 2,  p-value from the chi-square upper tail;
    n = listwise-complete rows (or the :class:`ItemMoments`' n), p = items.
    """
    from scipy import stats

    m = item_moments(df, items, what="bartlett")
    r = m.corr.to_numpy(dtype=float)
    n, p = m.n, r.shape[0]
    _, logdet = np.linalg.slogdet(r)
    chi2 = float(-(n - 1 - (2 * p + 5) / 6.0) * logdet)
    dof = p * (p - 1) // 2
    return BartlettResult(chi2=chi2, df=dof, p=float(stats.chi2.sf(chi2, dof)), n=n)


def _smc(r: np.ndarray) -> np.ndarray:
    return 1.0 - 1.0 / np.diag(np.linalg.inv(r))


@dataclass
class ParallelAnalysisResult:
    """Horn's parallel analysis.

    table: columns position (1..p), observed, simulated_mean, simulated_percentile, retain (observed >
    simulated_percentile and all earlier positions retained). ``n_factors`` is the suggestion.
    """

    table: pd.DataFrame
    n_factors: int
    method: str
    percentile: float
    n_sims: int
    seed: int
    n: int
    description: str = ""


def parallel_analysis(
    df,
    n_sims: int = 500,
    seed: int = 0,
    percentile: float = 95,
    method: str = "pca",
    items: Sequence[str] | None = None,
) -> ParallelAnalysisResult:
    """Horn's (1965) parallel analysis against uncorrelated normal data of the same size.

    ``method="pca"``: eigenvalues of the correlation matrix R (principal components).
    ``method="fa"``: eigenvalues of the reduced correlation matrix, R with its diagonal replaced by the
    squared multiple correlations SMC_j = 1 - 1/(R^-1)_jj (principal-axis style, as in Humphreys &
    Ilgen 1969 and psych::fa.parallel's ``smc`` option).

    The same eigenvalues are computed for ``n_sims`` data sets of n x p independent N(0, 1) draws
    (numpy Generator seeded with ``seed``; n = listwise-complete rows, or the moments' n); component k is retained while
    its observed eigenvalue exceeds the ``percentile``-th percentile of the simulated k-th eigenvalues
    (counting stops at the first that does not). Deterministic for a given seed.
    """
    if method not in ("pca", "fa"):
        raise AnalysisError(f"parallel_analysis: method must be 'pca' or 'fa', got {method!r}")
    if not 0 < percentile < 100:
        raise AnalysisError(f"parallel_analysis: percentile must be in (0, 100), got {percentile}")
    if int(n_sims) < 1:
        raise AnalysisError(f"parallel_analysis: n_sims must be >= 1, got {n_sims}")
    m = item_moments(df, items, what="parallel_analysis")
    r = m.corr.to_numpy(dtype=float)
    n, p = m.n, r.shape[0]

    def eig(rm: np.ndarray) -> np.ndarray:
        if method == "fa":
            rm = rm.copy()
            if rm.ndim == 2:
                rm[np.diag_indices(p)] = _smc(rm)
            else:
                inv_diag = np.diagonal(np.linalg.inv(rm), axis1=1, axis2=2)
                idx = np.arange(p)
                rm[:, idx, idx] = 1.0 - 1.0 / inv_diag
        return np.linalg.eigvalsh(rm)[..., ::-1]

    observed = eig(r)
    rng = np.random.default_rng(seed)
    sims = np.empty((int(n_sims), p))
    chunk = max(1, int(2e7 // (n * p)))
    for start in range(0, int(n_sims), chunk):
        m = min(chunk, int(n_sims) - start)
        z = rng.standard_normal((m, n, p))
        z -= z.mean(axis=1, keepdims=True)
        c = np.einsum("kni,knj->kij", z, z)
        d = np.sqrt(np.diagonal(c, axis1=1, axis2=2))
        rs = c / (d[:, :, None] * d[:, None, :])
        sims[start : start + m] = eig(rs)
    pct = np.percentile(sims, percentile, axis=0)
    above = observed > pct
    n_factors = int(np.argmin(above)) if not above.all() else p
    retain = np.arange(p) < n_factors
    table = pd.DataFrame(
        {
            "position": np.arange(1, p + 1),
            "observed": observed,
            "simulated_mean": sims.mean(axis=0),
            "simulated_percentile": pct,
            "retain": retain,
        }
    )
    label = (
        "principal components (eigenvalues of R)"
        if method == "pca"
        else ("common factors (eigenvalues of R with SMC on the diagonal)")
    )
    return ParallelAnalysisResult(
        table=table,
        n_factors=n_factors,
        method=method,
        percentile=float(percentile),
        n_sims=int(n_sims),
        seed=int(seed),
        n=n,
        description=f"Horn parallel analysis, {label}, {n_sims} normal simulations, {percentile}th percentile",
    )


# --------------------------------------------------------------------------------------------------
# convergent and discriminant validity
# --------------------------------------------------------------------------------------------------


def _loadings_array(std_loadings, what: str) -> np.ndarray:
    if isinstance(std_loadings, Mapping):
        std_loadings = list(std_loadings.values())
    lam = np.asarray(std_loadings, dtype=float).ravel()
    if lam.size == 0 or not np.isfinite(lam).all():
        raise AnalysisError(f"{what}: needs finite standardized loadings, got {std_loadings!r}")
    return lam


def _per_construct(fun, std_loadings, what):
    """Apply ``fun`` to one loading vector, or to each value of a {construct: loadings} mapping."""
    if isinstance(std_loadings, Mapping) and std_loadings and all(not np.isscalar(v) for v in std_loadings.values()):
        return pd.Series(
            {k: fun(_loadings_array(v, f"{what}, construct '{k}'")) for k, v in std_loadings.items()},
            name=what,
        )
    return fun(_loadings_array(std_loadings, what))


def composite_reliability(std_loadings) -> float | pd.Series:
    """Composite (construct) reliability from standardized (std.all) loadings l of one construct:

    CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))

    (Fornell & Larcker 1981; error variances taken as 1 - l^2). Pass a sequence for one construct
    (returns float) or a mapping {construct: loadings} (returns a Series indexed by construct).
    """

    def f(lam):
        s = lam.sum() ** 2
        return float(s / (s + (1.0 - lam**2).sum()))

    return _per_construct(f, std_loadings, "composite_reliability")


def ave(std_loadings) -> float | pd.Series:
    """Average variance extracted from standardized (std.all) loadings l of one construct:

    AVE = mean(l^2)

    Sequence -> float; mapping {construct: loadings} -> Series indexed by construct.
    """
    return _per_construct(lambda lam: float(np.mean(lam**2)), std_loadings, "ave")


def htmt(df, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations (Henseler, Ringle & Sarstedt 2015).

    With r the Pearson correlations of the listwise-complete items and |.| absolute values,
    HTMT_ij = mean_{a in i, b in j} |r_ab| / sqrt(M_i * M_j),  M_i = mean_{a < a' in i} |r_aa'|
    (arithmetic means; semTools::htmt with htmt2 = FALSE, absolute = TRUE). ``df``: a DataFrame
    (listwise-complete items) or :class:`ItemMoments`.
    Returns a symmetric construct x construct DataFrame with 1.0 on the diagonal (as semTools).
    Every construct needs at least 2 items.
    """
    names = list(constructs)
    if len(names) < 2:
        raise AnalysisError("htmt: needs at least 2 constructs")
    for c in names:
        if len(constructs[c]) < 2:
            raise AnalysisError(f"htmt: construct '{c}' has fewer than 2 items; its monotrait mean is undefined")
    items = [i for c in names for i in constructs[c]]
    if isinstance(df, ItemMoments):
        corr = df.subset(items).corr
    else:
        x = complete_items(df, items, min_cases=3, what="htmt")
        corr = pd.DataFrame(np.corrcoef(x.to_numpy(), rowvar=False), index=items, columns=items)
    r = np.abs(corr.loc[items, items].to_numpy(dtype=float))
    pos = {it: k for k, it in enumerate(items)}
    idx = {c: [pos[i] for i in constructs[c]] for c in names}
    mono = {}
    for c in names:
        sub = r[np.ix_(idx[c], idx[c])]
        mono[c] = sub[np.triu_indices(len(idx[c]), 1)].mean()
        if mono[c] <= 0:
            raise AnalysisError(f"htmt: construct '{c}' has zero average within-construct correlation")
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            ca, cb = names[a], names[b]
            hetero = r[np.ix_(idx[ca], idx[cb])].mean()
            out.iloc[a, b] = out.iloc[b, a] = hetero / np.sqrt(mono[ca] * mono[cb])
    return out


def square_to_pairs(matrix: pd.DataFrame, value_name: str = "value") -> pd.DataFrame:
    """Upper triangle of a symmetric construct x construct matrix as tidy rows
    (construct_a, construct_b, <value_name>), in the matrix's order."""
    names = list(matrix.index)
    rows = [
        {"construct_a": names[a], "construct_b": names[b], value_name: float(matrix.iloc[a, b])}
        for a in range(len(names))
        for b in range(a + 1, len(names))
    ]
    return pd.DataFrame(rows, columns=["construct_a", "construct_b", value_name])


@dataclass
class FornellLarckerResult:
    """Fornell-Larcker criterion.

    matrix: construct x construct, sqrt(AVE) on the diagonal and factor correlations off it.
    table: columns construct, ave, sqrt_ave, max_abs_corr, max_corr_with, passed
    (passed = sqrt(AVE) > every |correlation| of the construct). ``passed``: all constructs pass.
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    passed: bool


def fornell_larcker(ave: Mapping[str, float], factor_corr: pd.DataFrame) -> FornellLarckerResult:
    """Fornell & Larcker (1981): discriminant validity holds for construct i when
    sqrt(AVE_i) > |phi_ij| for every other construct j (phi = latent correlations, e.g. from CFA)."""
    names = list(ave)
    missing = [c for c in names if c not in factor_corr.index or c not in factor_corr.columns]
    if missing:
        raise AnalysisError(f"fornell_larcker: construct(s) {', '.join(missing)} not in the factor correlation matrix")
    if len(names) < 2:
        raise AnalysisError("fornell_larcker: needs at least 2 constructs")
    m = factor_corr.loc[names, names].astype(float).copy()
    rows = []
    for c in names:
        a = float(ave[c])
        if not 0 <= a <= 1:
            raise AnalysisError(f"fornell_larcker: AVE of construct '{c}' is {a}, outside [0, 1]")
        others = m.loc[c].drop(c).abs()
        rows.append(
            {
                "construct": c,
                "ave": a,
                "sqrt_ave": np.sqrt(a),
                "max_abs_corr": float(others.max()),
                "max_corr_with": str(others.idxmax()),
                "passed": bool(np.sqrt(a) > others.max()),
            }
        )
        m.loc[c, c] = np.sqrt(a)
    table = pd.DataFrame(rows)
    return FornellLarckerResult(matrix=m, table=table, passed=bool(table["passed"].all()))


# --------------------------------------------------------------------------------------------------
# common-method variance
# --------------------------------------------------------------------------------------------------


@dataclass
class HarmanResult:
    """Harman's single-factor test: ``share`` of total variance of the first unrotated principal
    component; ``passed`` = share < threshold (no single factor dominates)."""

    share: float
    threshold: float
    passed: bool
    first_eigenvalue: float
    n_items: int
    n: int
    method: str = "first unrotated principal component of the correlation matrix"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


def harman_single_factor(df, threshold: float = 0.5, items: Sequence[str] | None = None) -> HarmanResult:
    """Harman's single-factor test (Podsakoff et al. 2003), principal-component version.

    share = lambda_1 / p, lambda_1 the largest eigenvalue of the item correlation matrix (listwise, or
    the given :class:`ItemMoments`),
    i.e. the share of total standardized variance carried by the first *unrotated principal component*
    (not a common factor). ``passed`` when share < ``threshold`` (conventionally 0.5).
    """
    if not 0 < threshold <= 1:
        raise AnalysisError(f"harman_single_factor: threshold must be in (0, 1], got {threshold}")
    m = item_moments(df, items, what="harman_single_factor")
    r, n = m.corr.to_numpy(dtype=float), m.n
    lam1 = float(np.linalg.eigvalsh(r)[-1])
    share = lam1 / r.shape[0]
    return HarmanResult(
        share=share,
        threshold=float(threshold),
        passed=bool(share < threshold),
        first_eigenvalue=lam1,
        n_items=r.shape[0],
        n=int(n),
    )
