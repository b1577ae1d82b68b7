"""Inter-coder agreement of coded data: Krippendorff's alpha (four levels) with its bootstrap
distribution, Fleiss' kappa, Cohen's kappa and percent agreement.

Paper-agnostic: a reliability-data matrix (**coders x units**, the layout of Krippendorff 2011 and of the
``krippendorff`` package; missing codings as NaN/None) or a long table (one row per unit x coder) in,
result dataclasses out. No configuration, files or figures.

Formulas
--------
Reliability data: coder i gives unit u at most one value; m_u = number of values unit u received.
Units with m_u < 2 are not *pairable* and do not enter alpha.

* Coincidence matrix (Krippendorff 2011, section C):
  o_ck = sum over pairable u of n_uc (n_uk - [c == k]) / (m_u - 1), where n_uc = number of coders who
  gave value c to unit u. Marginals n_c = sum_k o_ck; n = n.. = sum_c n_c = number of pairable values.
* Expected coincidences: e_ck = n_c (n_k - [c == k]) / (n - 1).
* Squared difference function delta^2_ck:
  nominal 1 - [c == k]; ordinal (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 with g running over the ordered
  value domain; interval (c - k)^2; ratio ((c - k) / (c + k))^2 (non-negative values only).
* D_o = sum_ck o_ck delta^2_ck / n,  D_e = sum_ck e_ck delta^2_ck / n,  alpha = 1 - D_o / D_e.
  alpha is **undefined** (NaN with a note, never a division by zero) when no unit is pairable or when
  all pairable values are one and the same value (D_e = 0: no variation).
* Cohen's (1960) kappa for a pair: (p_o - p_e) / (1 - p_e), p_e from each coder's own marginals.
* Fleiss' (1971) kappa for m coders who all coded the same N units: (P_bar - P_e) / (1 - P_e).
* Percent agreement for a pair: share of the units both coded on which their values are identical.

What is delegated, and why own code exists
------------------------------------------
* alpha itself: ``krippendorff.alpha`` (the maintained package, v0.9) for all four levels; it is fed
  value counts and an explicit value domain, so string codes and an ordinal rank order work.
* The package returns only the number. The bootstrap needs o_ck, delta^2_ck, n and D_e, which the
  package computes only in private helpers (``_coincidences``, ``_distances``), so they are computed
  here (:func:`krippendorff_alpha` keeps them on :class:`AlphaResult`); the tests check that
  1 - D_o / D_e from this code equals the package's alpha at every level.
* The package also lacks input checks that name the data source (text under interval, negative values
  under ratio, an ordinal level without a rank order) and raises or warns (0 / 0) where alpha is
  undefined; these checks run here before the package is called.
* The bootstrap (below) is not in any maintained Python package: own code.
* Fleiss' kappa: ``statsmodels.stats.inter_rater.fleiss_kappa`` on the units x categories count table.
* Cohen's kappa: ``statsmodels.stats.inter_rater.cohens_kappa`` on the two coders' contingency table
  (tests: equal to scikit-learn's ``cohen_kappa_score`` and the hand formula). Undefined kappas
  (p_e = 1) are NaN, decided here before the call.

Bootstrap of alpha (:func:`alpha_bootstrap`)
--------------------------------------------
The algorithm of Hayes & Krippendorff (2007, "Bootstrapping" section) in the revised form of
Krippendorff's "Algorithm for bootstrapping a distribution of alpha" (2006, rev. 2011) as implemented in
Hayes' KALPHA macro version 3.0 (2011). It resamples *pairable values* from the observed coincidence
matrix, not units:

1. Cells (c, k) with c <= k of the value domain, in row-major order, get probabilities
   p_cc = o_cc / n and p_ck = 2 o_ck / n (c < k); they partition [0, 1) in that order (cumulative sums).
2. Number of draws per resample: ``draws="kalpha"`` (default) M = min(25 Q, round((m - 1) n / 2)), Q =
   number of non-zero cells of o_ck (full matrix), m = number of coders, n = pairable values
   (rounding half up); ``draws="pairs"`` M = sum_u m_u (m_u - 1) / 2, the number of pairs of values in
   the data, as in the 2007 article (239 pairs in its Table 1 example); or an explicit integer.
3. Resample b: M uniform numbers r from ``numpy.random.default_rng(SeedSequence([seed, *stream]))``
   (one ``random()`` double per draw, resample after resample); each r selects the cell whose segment
   contains it (``searchsorted(cumulative, r, side="right")``);
   alpha*_b = 1 - (sum of the selected delta^2) / (M D_e), with D_e of the original data held fixed.
4. Correction of the distribution, as KALPHA 3.0: alpha*_b < -1 is set to -1. If some alpha*_b = 1
   (every draw fell on the diagonal): when only one diagonal cell of o_ck is non-zero, all of them are
   set to 0 (such a resample has no variation); when more than one is, nx = round(R sum_c p_cc^M)
   (R = replicates; the expected number of resamples that fell on one single diagonal cell) of them are
   set to 0 (all of them when nx is larger than their number).
5. Percentile CI at ``ci_level`` (0.95): the order statistics KALPHA reports, 1-based
   lower = alpha*_(max(floor(tau R), 1)), upper = alpha*_(min(floor((1 - tau) R) + 1, R)),
   tau = (1 - ci_level) / 2 (R = 1000: the 25th and the 976th smallest). q(min) = share of the
   corrected alpha*_b strictly below min.

Deviations from KALPHA 3.0, all deliberate: (a) the exponent of nx is M, the number of draws of a
resample (as the Stata ``kalpha`` port of the algorithm, Klein & Reckmann, does); KALPHA uses the data's
number of pairs sum_u m_u (m_u - 1) / 2, a remnant of its 2007 version where that was also M; the two
agree whenever M equals the number of pairs (two coders, unless 25 Q is smaller). (b) KALPHA counts a
uniform number that falls exactly on a segment boundary in both neighbouring cells; here it belongs to
the upper one (probability zero either way). (c) KALPHA requires at least 1,000 replicates in multiples
of 1,000 and its random numbers come from SPSS; here any R >= 1 from numpy's PCG64 (use >= 1,000;
:func:`agreement_report`'s table note flags fewer). (d) KALPHA's CI indices assume R a multiple of
1,000; the max/min guards above keep them valid for any R. (e) m counts coders with at least one value
(KALPHA: every judge column given). (f) KALPHA does not round (m - 1) n / 2, which is fractional only
when (m - 1) n is odd; here it is rounded half up.
Known limitation (Gwet 2015; Zapf et al. 2016): this bootstrap draws pairs, not units, and so ignores
the clustering of values within units. At alpha = 1 there is no disagreement to resample: the
distribution is degenerate, the CI is [1, 1] (or reaches 0 through the correction when n is small),
and the result says so in its note.

References
----------
Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication.
Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure for
coding data. Communication Methods and Measures, 1(1), 77-89.
Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological Bulletin,
76(5), 378-382.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from numbers import Real

import numpy as np
import pandas as pd

from crfm.errors import InputError


def _krippendorff():
    import krippendorff  # deferred: imported by the jobs that compute alpha only

    return krippendorff


__all__ = [
    "LEVELS",
    "AlphaResult",
    "AlphaBootstrapResult",
    "FleissKappaResult",
    "AgreementReportResult",
    "reliability_matrix",
    "krippendorff_alpha",
    "alpha_bootstrap",
    "fleiss_kappa",
    "cohen_kappa",
    "percent_agreement",
    "agreement_report",
]

LEVELS = ("nominal", "ordinal", "interval", "ratio")
DRAWS_RULES = ("kalpha", "pairs")
_CHUNK_VALUES = 1_000_000  # uniform numbers held in memory at once by the bootstrap


# ----------------------------------------------------------------------------------------------------
# result classes
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha of one reliability-data matrix at one level, with its building blocks.

    ``values``: the value domain in order (ordinal: the rank order); the matrices are V x V in that
    order. ``alpha`` is NaN when undefined; ``note`` says why (empty otherwise).
    """

    level: str
    alpha: float
    coders: tuple
    values: tuple
    coincidence: np.ndarray  # o_ck over pairable units
    expected: np.ndarray  # e_ck
    delta: np.ndarray  # delta^2_ck
    n_pairable: float  # n.., the number of pairable values
    n_units: int  # pairable units (coded by >= 2 coders)
    n_units_single: int  # units coded by exactly one coder (not pairable)
    n_units_uncoded: int  # units coded by nobody (dropped)
    n_pairs: float  # sum_u m_u (m_u - 1) / 2 over pairable units
    d_observed: float
    d_expected: float
    note: str = ""

    @property
    def n_coders(self) -> int:
        return len(self.coders)

    def coincidence_table(self) -> pd.DataFrame:
        idx = pd.Index(list(self.values), name="value")
        return pd.DataFrame(self.coincidence, index=idx, columns=idx.copy())


@dataclass(frozen=True)
class AlphaBootstrapResult:
    """Bootstrap distribution of alpha (Hayes & Krippendorff 2007; KALPHA 3.0; see module docstring).

    ``q``: {minimum: share of bootstrap alphas below it}. ``distribution``: the corrected bootstrap
    alphas in resample order. ``n_set_to_minus_one`` / ``n_set_to_zero``: how many the correction step
    changed. CI and q are NaN (``distribution`` empty) when alpha is undefined.
    """

    alpha: AlphaResult
    replicates: int
    seed: int
    stream: tuple
    draws: int
    ci_level: float
    ci_lower: float
    ci_upper: float
    q: dict
    distribution: np.ndarray
    n_set_to_minus_one: int
    n_set_to_zero: int
    note: str = ""


@dataclass(frozen=True)
class FleissKappaResult:
    """Fleiss' kappa over the units coded by every coder (complete cases); NaN when undefined."""

    value: float
    coders: tuple
    categories: tuple
    n_units: int  # units coded by every coder (used)
    n_units_dropped: int  # units with at least one but fewer than all coders' values (not used)
    note: str = ""


@dataclass
class AgreementReportResult:
    """Agreement statistics of one coding table.

    overall: one row per statistic with columns statistic ('krippendorff_alpha' | 'fleiss_kappa' |
        'cohen_kappa' | 'percent_agreement'), level, coders ('A|B|...'), n_units, n_pairable, value,
        ci_lower, ci_upper, q_below_<min> (one column per minimum, e.g. q_below_0.667), note.
        alpha: n_units = pairable units, n_pairable = pairable values n..; Fleiss: units coded by every
        coder and their values; a pair: units both coded and 2 x that many values. CI and q only for
        alpha (NaN elsewhere).
    per_value: the same columns after ``code`` plus n_present (how many of the pairable codings are
        this code): per code, its presence/absence in each unit (binary nominal): alpha with CI and q
        over all coders, Fleiss' kappa (three or more coders), Cohen's kappa and percent agreement per
        pair. Empty when ``per_value=False``.
    """

    overall: pd.DataFrame
    per_value: pd.DataFrame
    coders: list
    pairs: list
    levels: tuple
    n_units: int  # units with at least one coding
    n_units_pairable: int
    n_units_single: int
    n_units_uncoded: int  # dropped
    replicates: int
    seed: int
    minimums: tuple
    unit_definition: str
    notes: list = field(default_factory=list)

    @property
    def table_note(self) -> str:
        return " ".join([self.unit_definition, *self.notes])


# ----------------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------------


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _clean(v):
    """A present value as a plain Python scalar (strings stripped, numpy scalars unwrapped)."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _sort_key(v):
    if isinstance(v, bool):
        return (1, str(v))
    if isinstance(v, Real):
        return (0, float(v), "")
    return (2, str(v))


def _label(v) -> str:
    return str(v)


@dataclass(frozen=True)
class _Matrix:
    coders: tuple
    units: tuple
    cells: np.ndarray  # object, coders x units, None = missing
    n_units_uncoded: int
    uncoded_units: tuple


def _as_matrix(data, *, source: str, column: str) -> _Matrix:
    """Coders x units object matrix with None for missing; units coded by nobody are dropped."""
    if isinstance(data, _Matrix):
        return data
    if isinstance(data, pd.DataFrame):
        coders = tuple(data.index.tolist())
        units = tuple(data.columns.tolist())
        raw = data.to_numpy(dtype=object)
    else:
        raw = np.asarray(data, dtype=object)
        if raw.ndim != 2:
            raise ValueError(f"reliability data must be 2-D (coders x units); got an array of shape {raw.shape}")
        coders = tuple(range(1, raw.shape[0] + 1))
        units = tuple(range(1, raw.shape[1] + 1))
    cells = np.empty(raw.shape, dtype=object)
    for idx, v in np.ndenumerate(raw):
        cells[idx] = None if _is_missing(v) else _clean(v)
    present = np.array([[x is not None for x in row] for row in cells.tolist()], dtype=bool).reshape(cells.shape)
    coded = present.any(axis=0)
    uncoded = tuple(u for u, ok in zip(units, coded) if not ok)
    has_values = present.any(axis=1)
    coders_kept = tuple(c for c, ok in zip(coders, has_values) if ok)
    cells = cells[np.ix_(has_values, coded)]
    units = tuple(u for u, ok in zip(units, coded) if ok)
    if len(coders_kept) < 2:
        only = ", ".join(f"'{_label(c)}'" for c in coders_kept) or "none"
        raise InputError(
            source,
            f"only one coder with codings ({only}); agreement needs units coded by at least two coders "
            f"(coders without any value: {len(coders) - len(coders_kept)})",
            "add the second coder's codings for the double-coded units (same unit ids), or switch the "
            "agreement statistics off",
            column=column,
        )
    return _Matrix(coders_kept, units, cells, len(uncoded), uncoded)


def reliability_matrix(
    long_df: pd.DataFrame,
    *,
    unit: str = "segment_id",
    coder: str = "coder",
    value: str = "code",
    source: str = "data",
    first_data_line: int | None = None,
) -> pd.DataFrame:
    """Long table (one row per unit x coder) -> coders x units DataFrame (object; None = not coded).

    Coders and units are sorted. A row with an empty ``value`` counts as "not coded" (missing). Raises
    :class:`InputError` for a missing column, an empty unit or coder id, or a coder with two rows for
    one unit. ``first_data_line``: the file line of the first data row (e.g. 2 below a header, 3 when a
    comment line precedes it); when given, errors name file lines, else data-row numbers.
    """
    missing = [c for c in (unit, coder, value) if c not in long_df.columns]
    if missing:
        raise InputError(
            source,
            f"missing column(s) {', '.join(repr(c) for c in missing)}; found {list(map(str, long_df.columns))}",
            f"add the column(s) {', '.join(missing)} (one row per unit and coder)",
            column=missing[0],
        )

    def where(positions) -> tuple[str, list | None]:
        positions = [int(p) for p in positions]
        if first_data_line is not None:
            return "", [first_data_line + p for p in positions]
        shown = ", ".join(str(p + 1) for p in positions[:10])
        more = f" (+{len(positions) - 10} more)" if len(positions) > 10 else ""
        return f" (data row(s) {shown}{more}; 1 = first data row)", None

    for col in (unit, coder):
        blank = np.array([_is_missing(v) for v in long_df[col].tolist()], dtype=bool)
        if blank.any():
            text, rows = where(np.flatnonzero(blank))
            raise InputError(
                source,
                f"{int(blank.sum())} row(s) have an empty {col}{text}",
                f"fill in {col} on every row (each row is one value given by one coder to one unit)",
                rows=rows,
                column=col,
            )
    units = [_clean(v) for v in long_df[unit].tolist()]
    coders = [_clean(v) for v in long_df[coder].tolist()]
    values = [None if _is_missing(v) else _clean(v) for v in long_df[value].tolist()]
    seen: dict = {}
    dups: dict = {}
    for pos, key in enumerate(zip(units, coders)):
        if key in seen:
            dups.setdefault(key, [seen[key]]).append(pos)
        else:
            seen[key] = pos
    if dups:
        shown = []
        positions = []
        for (u, c), pos in list(dups.items()):
            positions.extend(pos)
            vals = ", ".join(_label(values[p]) for p in pos)
            shown.append(f"unit '{_label(u)}' coder '{_label(c)}' has {len(pos)} rows ({vals})")
        more = f" (+{len(shown) - 5} more)" if len(shown) > 5 else ""
        text, rows = where(sorted(positions))
        raise InputError(
            source,
            "a (unit, coder) pair has more than one row: " + "; ".join(shown[:5]) + more + text,
            "each coder gives each unit at most one value: keep one row per unit and coder (split a unit "
            "that needs two codes into two units with their own ids)",
            rows=rows,
            column=value,
        )
    coder_list = sorted(set(coders), key=_sort_key)
    unit_list = sorted(set(units), key=_sort_key)
    ci = {c: i for i, c in enumerate(coder_list)}
    ui = {u: j for j, u in enumerate(unit_list)}
    cells = np.full((len(coder_list), len(unit_list)), None, dtype=object)
    for u, c, v in zip(units, coders, values):
        cells[ci[c], ui[u]] = v
    return pd.DataFrame(
        cells, index=pd.Index(coder_list, name=coder), columns=pd.Index(unit_list, name=unit), dtype=object
    )


# ----------------------------------------------------------------------------------------------------
# Krippendorff's alpha
# ----------------------------------------------------------------------------------------------------


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; use one of {', '.join(LEVELS)}")


def _examples(vals, k: int = 5) -> str:
    vals = list(vals)
    shown = ", ".join(repr(v) for v in vals[:k])
    return shown + (f" (+{len(vals) - k} more)" if len(vals) > k else "")


def _domain(mat: _Matrix, level: str, value_order, *, source: str, column: str):
    """(domain tuple, coder x unit integer codes with -1 = missing, numeric domain or None)."""
    present = [v for v in mat.cells.ravel().tolist() if v is not None]
    observed = set(present)
    if level in ("interval", "ratio"):
        bad = sorted({v for v in observed if _to_float(v) is None}, key=_sort_key)
        if bad:
            raise InputError(
                source,
                f"level '{level}' needs numbers, but the values include text: {_examples(bad)}",
                "code the values as numbers, or use level 'nominal' (or 'ordinal' with an explicit "
                "value order) for categories",
                column=column,
            )
        nums = {v: _to_float(v) for v in observed}
        if level == "ratio":
            neg = sorted({x for x in nums.values() if x < 0})
            if neg:
                raise InputError(
                    source,
                    f"level 'ratio' needs values >= 0 (an absolute zero), but the values include "
                    f"negative numbers: {_examples(neg)}",
                    "use level 'interval' for values without an absolute zero, or correct the values",
                    column=column,
                )
        if value_order is not None:
            allowed = {_to_float(v) for v in value_order}
            if None in allowed:
                raise ValueError(f"value_order for level '{level}' must hold numbers; got {list(value_order)}")
            outside = sorted({x for x in nums.values() if x not in allowed})
            if outside:
                raise InputError(
                    source,
                    f"value(s) {_examples(outside)} are not in the declared value order {list(value_order)}",
                    "correct the coding, or add the value to the value order",
                    column=column,
                )
        dom = tuple(sorted(set(nums.values())))
        index = {x: i for i, x in enumerate(dom)}
        to_code = {v: index[nums[v]] for v in observed}
        numeric = np.array(dom, dtype=float)
    else:
        if value_order is not None:
            order = [_clean(v) for v in value_order]
            if len(set(order)) != len(order):
                raise ValueError(f"value_order lists a value twice: {order}")
            outside = sorted(observed - set(order), key=_sort_key)
            if outside:
                raise InputError(
                    source,
                    f"value(s) {_examples(outside)} are not in the declared value order/codebook "
                    f"({_examples(order, 10)})",
                    "correct the coding, or add the value to the value order (codebook)",
                    column=column,
                )
            dom = tuple(order)
        else:
            if level == "ordinal" and any(_to_float(v) is None or isinstance(v, str) for v in observed):
                raise InputError(
                    source,
                    "level 'ordinal' needs the rank order of the values, and the values are text "
                    f"({_examples(sorted(observed, key=_sort_key))})",
                    "pass value_order (lowest to highest), e.g. the codebook order",
                    column=column,
                )
            dom = tuple(sorted(observed, key=_sort_key))
        index = {v: i for i, v in enumerate(dom)}
        to_code = {v: index[v] for v in observed}
        numeric = None
    codes = np.full(mat.cells.shape, -1, dtype=np.int64)
    for idx, v in np.ndenumerate(mat.cells):
        if v is not None:
            codes[idx] = to_code[v]
    return dom, codes, numeric


def _to_float(v) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, Real):
        x = float(v)
    elif isinstance(v, str):
        try:
            x = float(v)
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def _value_counts(codes: np.ndarray, n_values: int) -> np.ndarray:
    """Units x values: n_uc = coders who gave value c to unit u."""
    n_units = codes.shape[1]
    vc = np.zeros((n_units, n_values), dtype=np.int64)
    coder_idx, unit_idx = np.nonzero(codes >= 0)
    np.add.at(vc, (unit_idx, codes[coder_idx, unit_idx]), 1)
    return vc


def _coincidences(vc: np.ndarray) -> np.ndarray:
    m = vc.sum(axis=1)
    pairable = m >= 2
    c = vc[pairable].astype(float)
    w = 1.0 / (m[pairable] - 1.0)
    cw = c * w[:, None]
    return cw.T @ c - np.diag(cw.sum(axis=0))


def _delta(level: str, n_c: np.ndarray, numeric: np.ndarray | None) -> np.ndarray:
    v = len(n_c)
    if level == "nominal":
        return 1.0 - np.eye(v)
    if level == "ordinal":
        cum = np.cumsum(n_c)
        i = np.arange(v)
        lo = np.minimum(i[:, None], i[None, :])
        hi = np.maximum(i[:, None], i[None, :])
        d = (cum[hi] - cum[lo] + (n_c[lo] - n_c[hi]) / 2.0) ** 2
        np.fill_diagonal(d, 0.0)
        return d
    x = numeric
    diff = x[:, None] - x[None, :]
    if level == "interval":
        return diff**2
    total = x[:, None] + x[None, :]
    out = np.zeros_like(diff)
    np.divide(diff, total, out=out, where=total != 0)
    return out**2


def krippendorff_alpha(
    data,
    level: str = "nominal",
    *,
    value_order: Sequence | None = None,
    source: str = "reliability data",
    column: str = "value",
) -> AlphaResult:
    """Krippendorff's alpha at ``level`` ('nominal' | 'ordinal' | 'interval' | 'ratio').

    ``data``: coders x units (rows coders, columns units; NaN/None/'' = not coded), as a DataFrame
    (index = coder ids, columns = unit ids), array or nested list; any number of coders. Units coded by
    nobody are dropped (counted in ``n_units_uncoded``); units coded once are not pairable.
    ``value_order``: the value domain in order; required for 'ordinal' with text values (the rank
    order), otherwise a codebook check (every observed value must be in it). alpha comes from
    ``krippendorff.alpha``; the coincidence/expected/delta matrices and D_o, D_e from own code.

    Raises :class:`InputError` (naming ``source`` and ``column``) for fewer than two coders with
    codings, text under interval/ratio, negative values under ratio, text under ordinal without
    ``value_order``, or values outside ``value_order``. Returns NaN with a note when alpha is undefined.
    """
    _check_level(level)
    mat = _as_matrix(data, source=source, column=column)
    dom, codes, numeric = _domain(mat, level, value_order, source=source, column=column)
    vc = _value_counts(codes, len(dom))
    m_u = vc.sum(axis=1)
    pairable = m_u >= 2
    o = _coincidences(vc) if len(dom) else np.zeros((0, 0))
    n_c = o.sum(axis=1)
    n = float(m_u[pairable].sum())  # = sum of n_c, exact
    delta = _delta(level, n_c, numeric) if len(dom) else np.zeros((0, 0))
    n_units = int(pairable.sum())
    common = dict(
        level=level,
        coders=mat.coders,
        values=dom,
        coincidence=o,
        delta=delta,
        n_pairable=n,
        n_units=n_units,
        n_units_single=int((m_u == 1).sum()),
        n_units_uncoded=mat.n_units_uncoded,
        n_pairs=float((m_u[pairable] * (m_u[pairable] - 1) / 2).sum()),
    )
    distinct = np.flatnonzero(n_c > 0)
    if n_units == 0:
        return AlphaResult(
            alpha=float("nan"),
            expected=np.zeros_like(o),
            d_observed=float("nan"),
            d_expected=float("nan"),
            note="alpha undefined: no unit was coded by two or more coders (no pairable values)",
            **common,
        )
    e = (np.outer(n_c, n_c) - np.diag(n_c)) / (n - 1.0)
    d_o = float((o * delta).sum() / n)
    d_e = float((e * delta).sum() / n)
    if len(distinct) < 2 or d_e == 0.0:
        only = _label(dom[distinct[0]]) if len(distinct) else "?"
        return AlphaResult(
            alpha=float("nan"),
            expected=e,
            d_observed=d_o,
            d_expected=d_e,
            note=(
                f"alpha undefined: all {n:g} pairable codings are the same value ('{only}'), so there is "
                "no variation to agree on (expected disagreement D_e = 0)"
            ),
            **common,
        )
    pkg_domain = numeric if numeric is not None else np.arange(len(dom))
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        alpha = float(_krippendorff().alpha(value_counts=vc, value_domain=pkg_domain, level_of_measurement=level))
    return AlphaResult(alpha=alpha, expected=e, d_observed=d_o, d_expected=d_e, note="", **common)


# ----------------------------------------------------------------------------------------------------
# bootstrap (Hayes & Krippendorff 2007; KALPHA 3.0)
# ----------------------------------------------------------------------------------------------------


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _draws(res: AlphaResult, draws) -> int:
    if isinstance(draws, str):
        if draws == "kalpha":
            q = int(np.count_nonzero(res.coincidence > 0))
            return int(min(25 * q, _round_half_up((res.n_coders - 1) * res.n_pairable / 2.0)))
        if draws == "pairs":
            return _round_half_up(res.n_pairs)
        raise ValueError(f"draws must be one of {DRAWS_RULES} or a positive integer; got {draws!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be one of {DRAWS_RULES} or a positive integer; got {draws!r}")
    return int(draws)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def _check_minimums(minimums) -> tuple:
    mins = tuple(float(x) for x in minimums)
    for x in mins:
        if not -1.0 <= x <= 1.0:
            raise ValueError(f"minimum alpha {x} outside [-1, 1]")
    names = [_q_column(x) for x in mins]
    if len(set(names)) != len(names):
        raise ValueError(f"minimums must differ in their first three decimals; got {list(mins)}")
    return mins


def _q_column(minimum: float) -> str:
    return f"q_below_{minimum:.3f}"


def _cell_segments(res: AlphaResult) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities and delta^2 of the cells c <= k with p > 0, in row-major order."""
    o, n = res.coincidence, res.n_pairable
    v = o.shape[0]
    rows, cols = np.triu_indices(v)
    p = np.where(rows == cols, o[rows, cols], 2.0 * o[rows, cols]) / n
    keep = p > 0
    cum = np.cumsum(p[keep])
    cum[-1] = 1.0  # absorb rounding: every r in [0, 1) falls in a cell
    return cum, res.delta[rows[keep], cols[keep]]


def _ci_indices(replicates: int, ci_level: float) -> tuple[int, int]:
    tau = (1.0 - ci_level) / 2.0
    lo = max(int(math.floor(round(tau * replicates, 9))), 1)
    hi = min(int(math.floor(round((1.0 - tau) * replicates, 9))) + 1, replicates)
    return lo - 1, hi - 1  # 0-based


def alpha_bootstrap(
    data,
    level: str = "nominal",
    *,
    replicates: int,
    seed: int,
    minimums: Sequence[float] = (0.667, 0.800),
    value_order: Sequence | None = None,
    ci_level: float = 0.95,
    draws="kalpha",
    stream: Sequence[int] = (),
    source: str = "reliability data",
    column: str = "value",
) -> AlphaBootstrapResult:
    """Bootstrap distribution of Krippendorff's alpha, percentile CI and q(alpha < minimum).

    ``data``: as :func:`krippendorff_alpha`, or its :class:`AlphaResult` (then ``level`` and
    ``value_order`` are taken from it). Algorithm: module docstring ("Bootstrap of alpha"); random
    numbers from ``default_rng(SeedSequence([seed, *stream]))``, so a result depends only on the data,
    ``seed``, ``stream``, ``replicates`` and ``draws``. ``stream``: extra non-negative integers that
    give each statistic of a report its own random stream. When alpha is undefined the CI and q are NaN.
    """
    if isinstance(data, AlphaResult):
        res = data
    else:
        res = krippendorff_alpha(data, level, value_order=value_order, source=source, column=column)
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 1:
        raise ValueError(f"replicates must be a positive integer; got {replicates!r}")
    replicates = int(replicates)
    seed = _check_seed(seed)
    stream = tuple(int(s) for s in stream)
    if any(s < 0 for s in stream):
        raise ValueError(f"stream entries must be non-negative integers; got {stream}")
    mins = _check_minimums(minimums)
    if not 0.0 < ci_level < 1.0:
        raise ValueError(f"ci_level must lie in (0, 1); got {ci_level}")
    nan = float("nan")
    if math.isnan(res.alpha):
        return AlphaBootstrapResult(
            alpha=res,
            replicates=replicates,
            seed=seed,
            stream=stream,
            draws=0,
            ci_level=ci_level,
            ci_lower=nan,
            ci_upper=nan,
            q={m: nan for m in mins},
            distribution=np.empty(0),
            n_set_to_minus_one=0,
            n_set_to_zero=0,
            note=f"no bootstrap: {res.note}",
        )
    m_draws = _draws(res, draws)
    cum, dvec = _cell_segments(res)
    rng = np.random.default_rng(np.random.SeedSequence([seed, *stream]))
    boot = np.empty(replicates)
    chunk = max(1, _CHUNK_VALUES // m_draws)
    denom = m_draws * res.d_expected
    for start in range(0, replicates, chunk):
        k = min(chunk, replicates - start)
        r = rng.random((k, m_draws))
        cells = np.minimum(np.searchsorted(cum, r, side="right"), len(cum) - 1)
        boot[start : start + k] = 1.0 - dvec[cells].sum(axis=1) / denom
    # correction (KALPHA 3.0)
    low = boot < -1.0
    n_minus_one = int(low.sum())
    boot[low] = -1.0
    ones = np.flatnonzero(boot == 1.0)
    n_zero = 0
    if len(ones):
        p_diag = np.diag(res.coincidence) / res.n_pairable
        nzero = int(np.count_nonzero(p_diag > 0))
        if nzero == 1:
            n_zero = len(ones)
        elif nzero > 1:
            nx = _round_half_up(replicates * float(np.sum(p_diag[p_diag > 0] ** m_draws)))
            n_zero = min(nx, len(ones))
        boot[ones[:n_zero]] = 0.0
    srt = np.sort(boot)
    lo, hi = _ci_indices(replicates, ci_level)
    q = {m: float(np.mean(boot < m)) for m in mins}
    notes = []
    if res.alpha == 1.0:
        notes.append(
            "alpha = 1: no disagreement to resample, the bootstrap distribution is degenerate and its CI "
            "says nothing about sampling error at this number of units"
        )
    return AlphaBootstrapResult(
        alpha=res,
        replicates=replicates,
        seed=seed,
        stream=stream,
        draws=m_draws,
        ci_level=ci_level,
        ci_lower=float(srt[lo]),
        ci_upper=float(srt[hi]),
        q=q,
        distribution=boot,
        n_set_to_minus_one=n_minus_one,
        n_set_to_zero=n_zero,
        note="; ".join(notes),
    )


# ----------------------------------------------------------------------------------------------------
# kappas and percent agreement
# ----------------------------------------------------------------------------------------------------


def fleiss_kappa(data, *, source: str = "reliability data", column: str = "value") -> FleissKappaResult:
    """Fleiss' (1971) kappa for any number (>= 2) of coders, through statsmodels' ``fleiss_kappa``.

    ``data``: coders x units as for :func:`krippendorff_alpha` (nominal values). Fleiss' kappa assumes
    every unit was coded by the same number of coders; here it is computed over the units coded by
    **every** coder (complete cases). Units coded by some but not all coders are left out and counted in
    ``n_units_dropped`` (Krippendorff's alpha uses them). NaN with a note when no unit is complete or when
    all complete-case codings are one value (P_e = 1).
    """
    mat = _as_matrix(data, source=source, column=column)
    dom, codes, _ = _domain(mat, "nominal", None, source=source, column=column)
    complete = (codes >= 0).all(axis=0)
    n_complete = int(complete.sum())
    dropped = int((~complete).sum())
    cats = tuple(dom)
    if n_complete == 0:
        return FleissKappaResult(
            float("nan"),
            mat.coders,
            cats,
            0,
            dropped,
            "Fleiss' kappa undefined: no unit was coded by every coder",
        )
    table = _value_counts(codes[:, complete], len(dom))
    used = table.sum(axis=0) > 0
    if used.sum() < 2:
        only = _label(dom[int(np.flatnonzero(used)[0])])
        return FleissKappaResult(
            float("nan"),
            mat.coders,
            cats,
            n_complete,
            dropped,
            f"Fleiss' kappa undefined: every coder gave every complete unit the same value ('{only}'), "
            "so chance agreement is 1",
        )
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa  # deferred: heavy import

    value = float(sm_fleiss_kappa(table[:, used], method="fleiss"))
    note = (
        f"over the {n_complete} units coded by all {len(mat.coders)} coders; {dropped} unit(s) coded by "
        "fewer coders left out"
        if dropped
        else ""
    )
    return FleissKappaResult(value, mat.coders, cats, n_complete, dropped, note)


def _paired(a, b) -> tuple[list, list]:
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"the two coders' values differ in length ({len(a)} vs {len(b)})")
    if not a:
        raise ValueError("no units: agreement needs at least one unit coded by both coders")
    if any(_is_missing(v) for v in a) or any(_is_missing(v) for v in b):
        raise ValueError("missing values: pass only the units coded by both coders")
    return [_clean(v) for v in a], [_clean(v) for v in b]


def percent_agreement(a, b) -> float:
    """Share of units on which the two coders' values are identical (aligned, no missing values)."""
    a, b = _paired(a, b)
    return float(np.mean([x == y for x, y in zip(a, b)]))


def cohen_kappa(a, b) -> float:
    """Cohen's (1960) kappa of two coders on the same units (aligned, no missing values).

    Computed by ``statsmodels.stats.inter_rater.cohens_kappa`` on the coders' contingency table
    (scikit-learn's ``cohen_kappa_score`` gives the same number, a test checks it, but importing
    scikit-learn costs a job 0.3-5 s). NaN (no warning) when chance agreement p_e = 1, i.e. both
    coders used one and the same value on every unit.
    """
    a, b = _paired(a, b)
    cats = sorted(set(a) | set(b), key=_sort_key)
    if len(cats) < 2:
        return float("nan")
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    np.add.at(table, ([index[x] for x in a], [index[x] for x in b]), 1)
    from statsmodels.stats.inter_rater import cohens_kappa

    return float(cohens_kappa(table, return_results=False))


# ----------------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------------


def _stream(*labels) -> tuple[int, ...]:
    """Stable stream keys from labels (crc32), so a statistic's random numbers do not depend on the others."""
    return tuple(zlib.crc32(str(x).encode("utf-8")) for x in labels)


def _fmt_coders(coders) -> str:
    return "|".join(_label(c) for c in coders)


def agreement_report(
    long_df: pd.DataFrame,
    *,
    unit: str = "segment_id",
    coder: str = "coder",
    value: str = "code",
    levels: Sequence[str] = ("nominal",),
    value_order: Sequence | None = None,
    per_value: bool = True,
    replicates: int,
    seed: int,
    minimums: Sequence[float] = (0.667, 0.800),
    primary_coder=None,
    ci_level: float = 0.95,
    draws="kalpha",
    source: str = "data",
    first_data_line: int | None = None,
) -> AgreementReportResult:
    """Agreement statistics of a long coding table (one row per unit and coder).

    * alpha at each of ``levels`` over all coders, with bootstrap CI and q_below_<min> (``replicates``
      resamples; 0 = no bootstrap, CI and q NaN);
    * Fleiss' kappa over all coders when there are three or more (complete cases, see
      :func:`fleiss_kappa`);
    * Cohen's kappa and percent agreement per pair of coders, over the units both coded: every pair, or
      (primary_coder, other) pairs when ``primary_coder`` is given;
    * with ``per_value``: the same per code, on each code's presence/absence in each unit (binary
      nominal; meant for nominal codes). Codes: ``value_order`` when given (so unused codebook codes get
      a row), else the observed values.

    Units coded by nobody (every row's ``value`` empty) are dropped and counted; units coded by one
    coder are kept but not pairable. Raises :class:`InputError` naming ``source`` and the column for a
    missing column, empty ids, duplicate (unit, coder) rows, fewer than two coders, or values that do
    not fit a level. Random streams: SeedSequence([seed, crc32 of the statistic's labels]).
    """
    levels = tuple(levels)
    if not levels:
        raise ValueError("levels: give at least one level of measurement")
    for lv in levels:
        _check_level(lv)
    if len(set(levels)) != len(levels):
        raise ValueError(f"levels lists a level twice: {list(levels)}")
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 0:
        raise ValueError(f"replicates must be a non-negative integer; got {replicates!r}")
    seed = _check_seed(seed)
    mins = _check_minimums(minimums)
    if isinstance(draws, str) and draws not in DRAWS_RULES:
        raise ValueError(f"draws must be one of {DRAWS_RULES} or a positive integer; got {draws!r}")
    wide = reliability_matrix(
        long_df, unit=unit, coder=coder, value=value, source=source, first_data_line=first_data_line
    )
    mat = _as_matrix(wide, source=source, column=coder)
    coders = list(mat.coders)
    if primary_coder is not None:
        if primary_coder not in coders:
            raise InputError(
                source,
                f"primary coder '{primary_coder}' has no codings in column '{coder}' (coders: "
                f"{', '.join(map(_label, coders))})",
                "name one of the coders in the table as the primary coder",
                column=coder,
            )
        pairs = [(primary_coder, c) for c in coders if c != primary_coder]
    else:
        pairs = list(combinations(coders, 2))
    qcols = [_q_column(m) for m in mins]
    nan = float("nan")
    notes: list[str] = []

    def alpha_row(data, lv, stream_labels, order, col_source):
        res = krippendorff_alpha(data, lv, value_order=order, source=source, column=col_source)
        row = {
            "statistic": "krippendorff_alpha",
            "level": lv,
            "coders": _fmt_coders(res.coders),
            "n_units": res.n_units,
            "n_pairable": res.n_pairable,
            "value": res.alpha,
            "ci_lower": nan,
            "ci_upper": nan,
            **{c: nan for c in qcols},
            "note": res.note,
        }
        if replicates and not math.isnan(res.alpha):
            bt = alpha_bootstrap(
                res,
                replicates=replicates,
                seed=seed,
                minimums=mins,
                ci_level=ci_level,
                draws=draws,
                stream=_stream(*stream_labels),
            )
            row.update(ci_lower=bt.ci_lower, ci_upper=bt.ci_upper)
            row.update({c: bt.q[m] for c, m in zip(qcols, mins)})
            row["note"] = bt.note
        return row, res

    def fleiss_row(data):
        fk = fleiss_kappa(data, source=source, column=value)
        return {
            "statistic": "fleiss_kappa",
            "level": "nominal",
            "coders": _fmt_coders(fk.coders),
            "n_units": fk.n_units,
            "n_pairable": float(fk.n_units * len(fk.coders)),
            "value": fk.value,
            "ci_lower": nan,
            "ci_upper": nan,
            **{c: nan for c in qcols},
            "note": fk.note,
        }

    def pair_rows(cells_a, cells_b, a, b):
        both = [(x, y) for x, y in zip(cells_a, cells_b) if x is not None and y is not None]
        base = {
            "level": "nominal",
            "coders": f"{_label(a)}|{_label(b)}",
            "n_units": len(both),
            "n_pairable": float(2 * len(both)),
            "ci_lower": nan,
            "ci_upper": nan,
            **{c: nan for c in qcols},
        }
        if not both:
            why = f"coders '{_label(a)}' and '{_label(b)}' share no unit"
            return [
                dict(base, statistic="percent_agreement", value=nan, note=why),
                dict(base, statistic="cohen_kappa", value=nan, note=why),
            ]
        xa, xb = [x for x, _ in both], [y for _, y in both]
        k = cohen_kappa(xa, xb)
        knote = "kappa undefined: chance agreement is 1 (one and the same value throughout)" if math.isnan(k) else ""
        return [
            dict(base, statistic="percent_agreement", value=percent_agreement(xa, xb), note=""),
            dict(base, statistic="cohen_kappa", value=k, note=knote),
        ]

    # ---- overall
    rows = []
    first = None
    for lv in levels:
        row, res = alpha_row(mat, lv, ("overall", "krippendorff_alpha", lv), value_order, value)
        rows.append(row)
        if first is None:
            first = res
    if len(coders) >= 3:
        rows.append(fleiss_row(mat))
    cidx = {c: i for i, c in enumerate(coders)}
    for a, b in pairs:
        rows.extend(pair_rows(mat.cells[cidx[a]], mat.cells[cidx[b]], a, b))
    columns = [
        "statistic",
        "level",
        "coders",
        "n_units",
        "n_pairable",
        "value",
        "ci_lower",
        "ci_upper",
        *qcols,
        "note",
    ]
    overall = pd.DataFrame(rows, columns=columns)

    # ---- per code (presence / absence)
    per_rows = []
    if per_value:
        observed = {v for v in mat.cells.ravel().tolist() if v is not None}
        if value_order is not None:
            code_list = [_clean(v) for v in value_order]
            extra = sorted(observed - set(code_list), key=_sort_key)
            if extra:
                raise InputError(
                    source,
                    f"value(s) {_examples(extra)} are not in the declared value order/codebook",
                    "correct the coding, or add the value to the value order (codebook)",
                    column=value,
                )
        else:
            code_list = sorted(observed, key=_sort_key)
        for code in code_list:
            presence = np.full(mat.cells.shape, None, dtype=object)
            for idx, v in np.ndenumerate(mat.cells):
                if v is not None:
                    presence[idx] = 1 if v == code else 0
            pm = _Matrix(mat.coders, mat.units, presence, 0, ())
            row, res = alpha_row(pm, "nominal", ("per_value", "krippendorff_alpha", _label(code)), (0, 1), value)
            n_present = float(res.coincidence[1].sum()) if res.coincidence.shape == (2, 2) else 0.0
            code_rows = [row]
            if len(coders) >= 3:
                code_rows.append(fleiss_row(pm))
            for a, b in pairs:
                code_rows.extend(pair_rows(presence[cidx[a]], presence[cidx[b]], a, b))
            for r in code_rows:
                r["code"] = code
                r["n_present"] = n_present
            per_rows.extend(code_rows)
    per_columns = [
        "code",
        "statistic",
        "level",
        "coders",
        "n_units",
        "n_pairable",
        "n_present",
        "value",
        "ci_lower",
        "ci_upper",
        *qcols,
        "note",
    ]
    per_table = pd.DataFrame(per_rows, columns=per_columns)

    # ---- notes
    n_units_all = len(mat.units)
    if mat.n_units_uncoded:
        shown = ", ".join(f"'{_label(u)}'" for u in mat.uncoded_units[:5])
        more = f" (+{mat.n_units_uncoded - 5} more)" if mat.n_units_uncoded > 5 else ""
        notes.append(
            f"{mat.n_units_uncoded} unit(s) of {source} with no value in column '{value}' from any coder "
            f"were left out ({shown}{more})."
        )
    undefined_codes = sorted(
        {r["code"] for r in per_rows if r["statistic"] == "krippendorff_alpha" and math.isnan(r["value"])},
        key=_sort_key,
    )
    if undefined_codes:
        notes.append(
            "Per-code alpha is undefined (NaN) for codes that every pairable coding has or none has: "
            f"{', '.join(map(_label, undefined_codes))}."
        )
    if replicates and replicates < 1000:
        notes.append(f"Only {replicates} bootstrap replicates (KALPHA requires at least 1,000).")
    unit_def = _unit_definition(
        unit=unit,
        value=value,
        levels=levels,
        coders=coders,
        first=first,
        n_units_all=n_units_all,
        n_fleiss=len(coders) >= 3,
        replicates=replicates,
        seed=seed,
        mins=mins,
        ci_level=ci_level,
        draws=draws,
        per_value=per_value,
    )
    return AgreementReportResult(
        overall=overall,
        per_value=per_table,
        coders=coders,
        pairs=pairs,
        levels=levels,
        n_units=n_units_all,
        n_units_pairable=first.n_units,
        n_units_single=first.n_units_single,
        n_units_uncoded=mat.n_units_uncoded,
        replicates=int(replicates),
        seed=seed,
        minimums=mins,
        unit_definition=unit_def,
        notes=notes,
    )


def _unit_definition(
    *,
    unit,
    value,
    levels,
    coders,
    first,
    n_units_all,
    n_fleiss,
    replicates,
    seed,
    mins,
    ci_level,
    draws,
    per_value,
) -> str:
    parts = [
        f"Unit of analysis: one {unit}; each coder gives each unit at most one {value}.",
        f"Krippendorff's alpha ({', '.join(levels)}) over all {len(coders)} coders "
        f"({', '.join(map(_label, coders))}); a coder who did not code a unit counts as missing; "
        f"{first.n_units} of {n_units_all} units were coded by two or more coders (pairable, "
        f"n = {first.n_pairable:g} values).",
    ]
    if n_fleiss:
        parts.append("Fleiss' kappa over the units coded by every coder.")
    parts.append("Cohen's kappa and percent agreement per pair of coders, over the units both coded.")
    if replicates:
        rule = (
            {
                "kalpha": "M = min(25 x non-zero coincidence cells, (coders - 1) x n / 2)",
                "pairs": "M = the number of pairs of values",
            }.get(draws, f"M = {draws}")
            if isinstance(draws, str)
            else f"M = {draws}"
        )
        parts.append(
            f"Alpha CI: {ci_level:.0%} percentile interval of {replicates} bootstrap resamples of {rule} "
            "pairable values drawn from the coincidence matrix (Hayes & Krippendorff 2007; KALPHA 3.0 "
            f"correction), seed {seed}; q_below_x = share of bootstrap alphas below x "
            f"({', '.join(f'{m:.3f}' for m in mins)})."
        )
    else:
        parts.append("No bootstrap (replicates = 0).")
    if per_value:
        parts.append(f"Per {value}: presence/absence of the {value} in each unit (binary nominal).")
    return " ".join(parts)
