"""Common-method-variance check with a marker variable (Lindell & Whitney 2001).

The marker is a variable theoretically unrelated to the substantive constructs; its correlation with
them estimates the method-induced correlation r_M. Each substantive correlation is adjusted as

    r_A = (r - r_M) / (1 - r_M)

and tested with t = r_A / sqrt((1 - r_A^2) / (n - 3)) on n - 3 df (Lindell & Whitney 2001;
one df is lost for estimating r_M). By default r_M is the smallest *positive* correlation between the
marker and the substantive variables; a given value can be passed instead. Raw correlations are tested on n - 2 df. p values are two-sided.
When |r_A| >= 1 (possible for strongly negative r) the t test is undefined and reported as NaN.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import special

from crfm.errors import AnalysisError

__all__ = [
    "adjust_correlation",
    "adjusted_t_test",
    "marker_correlation",
    "marker_adjustment_from_corr",
    "marker_adjustment",
]


def _error(message: str, variables) -> AnalysisError:
    err = AnalysisError(message)
    err.variables = list(variables)
    return err


def adjust_correlation(r, r_m):
    """Lindell & Whitney's partial correlation r_A = (r - r_M) / (1 - r_M) (scalar or array)."""
    if not -1 < float(r_m) < 1:
        raise AnalysisError(f"the marker correlation r_M must lie in (-1, 1), got {r_m!r}")
    return (np.asarray(r, dtype=float) - r_m) / (1.0 - r_m) if np.ndim(r) else (float(r) - r_m) / (1.0 - r_m)


def adjusted_t_test(r_a: float, n: int) -> tuple[float, int, float]:
    """(t, df, two-sided p) for an adjusted correlation: t = r_A / sqrt((1 - r_A^2)/(n - 3)), df = n - 3."""
    df = int(n) - 3
    if df < 1:
        raise AnalysisError(f"the marker-adjusted t test needs n >= 4 cases, got n = {n}")
    if not abs(r_a) < 1:
        return float("nan"), df, float("nan")
    t = float(r_a / np.sqrt((1.0 - r_a * r_a) / df))
    return t, df, float(2 * special.stdtr(df, -abs(t)))


def _raw_test(r: float, n: int) -> tuple[float, float]:
    df = int(n) - 2
    if df < 1 or not abs(r) < 1:
        return float("nan"), float("nan")
    t = float(r / np.sqrt((1.0 - r * r) / df))
    return t, float(2 * special.stdtr(df, -abs(t)))


def _check_names(corr: pd.DataFrame, marker: str, variables: list[str]) -> None:
    names = [marker, *variables]
    missing = [v for v in names if v not in corr.columns or v not in corr.index]
    if missing:
        raise _error(f"variable(s) {', '.join(map(repr, missing))} not in the correlation matrix / data", missing)
    if marker in variables:
        raise _error(f"the marker '{marker}' is also listed as a substantive variable", [marker])
    if len(variables) < 2:
        raise _error("need at least two substantive variables", variables)
    dup = sorted({v for v in variables if variables.count(v) > 1})
    if dup:
        raise _error(f"variable(s) {', '.join(map(repr, dup))} listed more than once", dup)


def marker_correlation(corr: pd.DataFrame, marker: str, variables: list[str]) -> tuple[float, str]:
    """Smallest positive correlation of ``marker`` with ``variables``: (r_M, the variable it is with)."""
    _check_names(corr, marker, list(variables))
    r = corr.loc[marker, list(variables)].astype(float)
    pos = r[r > 0]
    if pos.empty:
        raise _error(
            f"the marker '{marker}' has no positive correlation with {', '.join(map(repr, variables))} "
            f"(correlations {', '.join(f'{v}={x:.3f}' for v, x in r.items())}). Fix: pass r_m explicitly "
            "(e.g. 0, i.e. no detectable method variance)",
            [marker],
        )
    var = pos.idxmin()
    return float(pos[var]), str(var)


def marker_adjustment_from_corr(
    corr: pd.DataFrame,
    n: int,
    marker: str,
    variables: list[str],
    r_m: float | None = None,
    skip_pairs=(),
) -> pd.DataFrame:
    """Raw vs marker-adjusted correlations for every pair of ``variables`` from a correlation matrix,
    except the pairs in ``skip_pairs`` (e.g. part-whole pairs: a composite and one of its own parts,
    whose correlation is not a relation between constructs).

    Returns one row per pair (in the order of ``variables``), columns: var1, var2, n, r, t_raw, df_raw,
    p_raw, r_m, r_m_source (the variable r_M came from, or 'given'), r_adj, t_adj, df_adj, p_adj.
    """
    variables = list(variables)
    _check_names(corr, marker, variables)
    if r_m is None:
        r_m, source = marker_correlation(corr, marker, variables)
    else:
        r_m, source = float(r_m), "given"
    skip = {frozenset(pair) for pair in skip_pairs}
    rows = []
    for a, b in itertools.combinations(variables, 2):
        if frozenset((a, b)) in skip:
            continue
        r = float(corr.loc[a, b])
        t_raw, p_raw = _raw_test(r, n)
        r_a = float(adjust_correlation(r, r_m))
        t_a, df_a, p_a = adjusted_t_test(r_a, n)
        rows.append(
            {
                "var1": a,
                "var2": b,
                "n": int(n),
                "r": r,
                "t_raw": t_raw,
                "df_raw": int(n) - 2,
                "p_raw": p_raw,
                "r_m": r_m,
                "r_m_source": source,
                "r_adj": r_a,
                "t_adj": t_a,
                "df_adj": df_a,
                "p_adj": p_a,
            }
        )
    return pd.DataFrame(rows)


def marker_adjustment(
    df: pd.DataFrame, marker: str, variables: list[str], r_m: float | None = None, skip_pairs=()
) -> pd.DataFrame:
    """:func:`marker_adjustment_from_corr` on the Pearson correlations of ``df`` (listwise complete cases
    over the marker and the variables; n = number of those cases)."""
    variables = list(variables)
    cols = [marker, *variables]
    missing = [v for v in cols if v not in df.columns]
    if missing:
        raise _error(f"variable(s) {', '.join(map(repr, missing))} not in the data", missing)
    for v in cols:
        if not pd.api.types.is_numeric_dtype(df[v]):
            raise _error(f"variable '{v}' is not numeric (dtype {df[v].dtype})", [v])
    data = df[cols].dropna().astype(float)
    for v in cols:
        if data[v].nunique() < 2:
            raise _error(f"variable '{v}' is constant over the {len(data)} complete cases", [v])
    corr = data.corr(method="pearson")
    return marker_adjustment_from_corr(corr, len(data), marker, variables, r_m=r_m, skip_pairs=skip_pairs)
