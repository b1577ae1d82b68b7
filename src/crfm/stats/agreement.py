"""Inter-coder reliability of the Study 1 interview coding.

Unit of analysis: one coded **segment** (``segment_id``). Each coder gives each segment they coded
exactly one nominal code. On that basis:

* **Percent agreement** and **Cohen's kappa** are computed for a pair of coders over the segments both
  of them coded (the double-coded subset): overall on the nominal code, and per code on the
  presence/absence of that code in each segment (a 2 x 2 table per code).
* **Krippendorff's alpha** (nominal) is computed over all coders at once. A coder who left a segment
  uncoded counts as a missing value; segments with fewer than two codes are not pairable and do not
  contribute. The coincidence-matrix formula is implemented here (Krippendorff 2011, "Computing
  Krippendorff's Alpha-Reliability", section C) and cross-checked against the ``krippendorff`` package
  in the tests.

Undefined statistics (e.g. a per-code kappa for a code neither coder used on the double-coded subset,
where expected agreement is 1) are returned as NaN, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from crfm.errors import InputError

UNIT_DEFINITION = (
    "Unit of analysis: one coded segment (segment_id); each coder assigns exactly one nominal code per "
    "segment. Percent agreement and Cohen's kappa: over the segments coded by both coders of a pair; "
    "per code, on the presence/absence of that code in each segment. Krippendorff's alpha (nominal): over "
    "all coders, a coder who did not code a segment counts as missing; segments with fewer than two "
    "codes are not pairable."
)

SEGMENT_COLUMNS = ("segment_id", "coder", "code")


# ----------------------------------------------------------------------------------------------------
# validation shared with crfm.stats.coding
# ----------------------------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, columns, source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            source,
            f"missing column(s) {', '.join(repr(c) for c in missing)}; found {list(map(str, df.columns))}",
            f"add the column(s) {', '.join(missing)} to the segments table",
            column=missing[0],
        )


def check_segments(segments: pd.DataFrame, *, source: str = "segments") -> None:
    """Raise :class:`InputError` unless every (segment_id, coder) pair carries exactly one code.

    Also checks that no segment_id, code or coder is missing and (when ``interview_id`` is present)
    that each segment_id belongs to one interview only.
    """
    _require_columns(segments, SEGMENT_COLUMNS, source)
    for col in SEGMENT_COLUMNS + (("interview_id",) if "interview_id" in segments.columns else ()):
        blank = segments[col].isna() | (segments[col].astype(str).str.strip() == "")
        if blank.any():
            raise InputError(
                source,
                f"{int(blank.sum())} row(s) have an empty {col} (data rows "
                f"{', '.join(str(int(i) + 1) for i in np.flatnonzero(blank.to_numpy())[:10])}; 1 = first row)",
                f"fill in {col} on every row (each row is one code given by one coder to one segment)",
                column=col,
            )
    dup = segments.duplicated(["segment_id", "coder"], keep=False)
    if dup.any():
        bad = segments.loc[dup, ["segment_id", "coder", "code"]].astype(str)
        bad = bad.sort_values(["segment_id", "coder", "code"], kind="mergesort")
        shown = []
        for (sid, coder), g in bad.groupby(["segment_id", "coder"], sort=True):
            shown.append(f"segment '{sid}' coder '{coder}' gave {len(g)} codes ({', '.join(g['code'])})")
        more = f" (+{len(shown) - 5} more pairs)" if len(shown) > 5 else ""
        raise InputError(
            source,
            "a (segment, coder) pair has more than one code: " + "; ".join(shown[:5]) + more,
            "each coder gives each segment exactly one code: split a segment that needs two codes into "
            "two segments with their own segment_id, or keep one code",
            column="code",
        )
    if "interview_id" in segments.columns:
        n_int = segments.groupby("segment_id", sort=True)["interview_id"].nunique()
        multi = n_int[n_int > 1]
        if len(multi):
            sids = ", ".join(f"'{s}'" for s in multi.index[:5])
            raise InputError(
                source,
                f"segment_id(s) {sids} appear under more than one interview_id",
                "give segments of different interviews different segment_id values",
                column="segment_id",
            )


# ----------------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------------


def reliability_data(segments: pd.DataFrame, *, source: str = "segments") -> pd.DataFrame:
    """Units x coders table: one row per segment_id (sorted), one column per coder (sorted).

    Cells hold the code the coder gave the segment, or missing (NaN) when that coder did not code it.
    """
    check_segments(segments, source=source)
    df = segments.loc[:, ["segment_id", "coder", "code"]].astype(str)
    wide = df.pivot(index="segment_id", columns="coder", values="code")
    wide = wide.sort_index(axis=0).sort_index(axis=1)
    wide.columns.name = "coder"
    return wide


def percent_agreement(a, b) -> float:
    """Share of units on which the two coders' values are identical (a and b aligned, no missing)."""
    a, b = _paired(a, b)
    return float(np.mean(a == b))


def cohen_kappa(a, b) -> float:
    """Cohen's (1960) kappa for two coders' nominal values on the same units.

    kappa = (p_o - p_e) / (1 - p_e), with p_e from each coder's own marginal distribution.
    NaN when p_e == 1 (both coders used one and the same category on every unit).
    """
    a, b = _paired(a, b)
    cats = sorted(set(a.tolist()) | set(b.tolist()), key=_sort_key)
    p_o = float(np.mean(a == b))
    p_e = 0.0
    for c in cats:
        p_e += float(np.mean(a == c)) * float(np.mean(b == c))
    if np.isclose(1.0 - p_e, 0.0):
        return float("nan")
    return (p_o - p_e) / (1.0 - p_e)


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(list(a), dtype=object)
    b = np.asarray(list(b), dtype=object)
    if a.shape != b.shape:
        raise ValueError(f"the two coders' values differ in length ({a.size} vs {b.size})")
    if a.size == 0:
        raise ValueError("no units: agreement needs at least one unit coded by both coders")
    if pd.isna(a).any() or pd.isna(b).any():
        raise ValueError("missing values: pass only units coded by both coders")
    return a, b


def _sort_key(v):
    return (
        (type(v).__name__, v) if isinstance(v, (int, float, np.integer, np.floating, str)) else ("~", repr(v))
    )


def coincidence_matrix(data) -> pd.DataFrame:
    """Krippendorff's coincidence matrix o_ck for nominal data.

    ``data``: units x coders (rows are units, columns coders), e.g. :func:`reliability_data`; missing
    values are NaN/None. Each pairable unit u (m_u >= 2 values) adds n_uc * (n_uk - [c == k]) / (m_u - 1)
    to o_ck, where n_uc is the number of coders who gave value c to unit u.
    """
    arr = np.asarray(data, dtype=object)
    if arr.ndim != 2:
        raise ValueError("reliability data must be 2-D: rows are units, columns are coders")
    present = ~pd.isna(arr)
    values = sorted({v for v in arr[present].tolist()}, key=_sort_key)
    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((arr.shape[0], len(values)))
    for u, row in enumerate(arr):
        for v, ok in zip(row, present[u]):
            if ok:
                counts[u, index[v]] += 1
    m = counts.sum(axis=1)
    pairable = m >= 2
    c = counts[pairable]
    w = 1.0 / (m[pairable] - 1.0)
    cw = c * w[:, None]
    o = cw.T @ c - np.diag(cw.sum(axis=0))
    return pd.DataFrame(o, index=pd.Index(values, name="value"), columns=pd.Index(values, name="value"))


def krippendorff_alpha_nominal(data) -> float:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    ``data``: units x coders (rows units, columns coders; NaN/None = not coded). Note the ``krippendorff``
    package takes the transpose (coders x units).

    alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k, with n_c the coincidence-matrix
    marginals and n the number of pairable values. NaN when fewer than two pairable values exist or only
    one value occurs (no variation, alpha undefined).
    """
    o = coincidence_matrix(data).to_numpy()
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    disagree_obs = o.sum() - np.trace(o)
    disagree_exp = n_c.sum() ** 2 - (n_c**2).sum()
    if np.isclose(disagree_exp, 0.0):
        return float("nan")
    return float(1.0 - (n - 1.0) * disagree_obs / disagree_exp)


# ----------------------------------------------------------------------------------------------------
# the Study 1 report
# ----------------------------------------------------------------------------------------------------


@dataclass
class ReliabilityResult:
    """Inter-coder reliability of one coding table.

    overall: one row per statistic with columns
        statistic ('percent_agreement' | 'cohen_kappa' | 'krippendorff_alpha'), coders (e.g. 'C1|C2';
        alpha: every coder), n_units (segments used: double-coded for a pair; pairable for alpha),
        value.
    per_code: one row per (coder pair, code) with columns
        coder_a, coder_b, code, n_units, n_present_a, n_present_b, n_present_both, n_absent_both,
        percent_agreement, cohen_kappa (NaN when undefined).
    """

    unit_definition: str
    coders: list[str]
    pairs: list[tuple[str, str]]
    n_segments: int
    overall: pd.DataFrame
    per_code: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def table_note(self) -> str:
        return " ".join([self.unit_definition, *self.notes])


def intercoder_reliability(
    segments: pd.DataFrame,
    *,
    primary_coder: str | None = None,
    codes=None,
    source: str = "segments",
) -> ReliabilityResult:
    """Percent agreement, Cohen's kappa (overall and per code) and Krippendorff's alpha.

    Pairs for agreement and kappa: (primary_coder, other) for every other coder when ``primary_coder``
    is given; otherwise every pair of coders (sorted). ``codes``: optional list (e.g. the codebook's
    codes) so that per-code rows also appear for codes no coder used on the double-coded subset.

    Raises :class:`InputError` when only one coder is present, when a pair shares no segment, or when a
    (segment, coder) pair has more than one code.
    """
    check_segments(segments, source=source)
    wide = reliability_data(segments, source=source)
    coders = [str(c) for c in wide.columns]
    if len(coders) < 2:
        only = coders[0] if coders else "none"
        raise InputError(
            source,
            f"only one coder ('{only}') present in column 'coder'; inter-coder reliability needs segments "
            "coded by at least two coders",
            "add the second coder's codes for the double-coded subset (same segment_id values), or switch "
            "reliability off (study1.reliability: false)",
            column="coder",
        )
    if primary_coder is not None:
        if primary_coder not in coders:
            raise InputError(
                source,
                f"primary coder '{primary_coder}' does not appear in column 'coder' (coders: {', '.join(coders)})",
                "set study1.primary_coder to one of the coders in the segments table",
                column="coder",
            )
        pairs = [(primary_coder, c) for c in coders if c != primary_coder]
    else:
        pairs = list(combinations(coders, 2))

    code_list = sorted({str(c) for c in segments["code"].astype(str)} | {str(c) for c in (codes or [])})
    overall_rows, per_code_rows = [], []
    for a, b in pairs:
        both = wide[[a, b]].dropna()
        if both.empty:
            raise InputError(
                source,
                f"empty double-coded subset: coders '{a}' and '{b}' share no segment_id",
                f"have coder '{b}' code a subset of the segments coder '{a}' coded, using the same "
                "segment_id values",
                column="segment_id",
            )
        va, vb = both[a].to_numpy(dtype=object), both[b].to_numpy(dtype=object)
        pair = f"{a}|{b}"
        overall_rows.append(("percent_agreement", pair, len(both), percent_agreement(va, vb)))
        overall_rows.append(("cohen_kappa", pair, len(both), cohen_kappa(va, vb)))
        for code in code_list:
            xa, xb = va == code, vb == code
            per_code_rows.append(
                {
                    "coder_a": a,
                    "coder_b": b,
                    "code": code,
                    "n_units": len(both),
                    "n_present_a": int(xa.sum()),
                    "n_present_b": int(xb.sum()),
                    "n_present_both": int((xa & xb).sum()),
                    "n_absent_both": int((~xa & ~xb).sum()),
                    "percent_agreement": percent_agreement(xa, xb),
                    "cohen_kappa": cohen_kappa(xa, xb),
                }
            )
    n_pairable = int((wide.notna().sum(axis=1) >= 2).sum())
    overall_rows.append(
        ("krippendorff_alpha", "|".join(coders), n_pairable, krippendorff_alpha_nominal(wide))
    )
    overall = pd.DataFrame(overall_rows, columns=["statistic", "coders", "n_units", "value"])
    per_code = pd.DataFrame(per_code_rows).sort_values(["coder_a", "coder_b", "code"], kind="mergesort")
    per_code = per_code.reset_index(drop=True)
    notes = []
    undefined = per_code.loc[per_code["cohen_kappa"].isna(), "code"].unique().tolist()
    if undefined:
        notes.append(
            "Per-code kappa is undefined (NaN) where expected agreement is 1, i.e. for codes that both "
            f"coders used on all or on none of the double-coded segments: {', '.join(undefined)}."
        )
    return ReliabilityResult(
        unit_definition=UNIT_DEFINITION,
        coders=coders,
        pairs=pairs,
        n_segments=int(len(wide)),
        overall=overall,
        per_code=per_code,
        notes=notes,
    )
