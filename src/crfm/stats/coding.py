"""Study 1: summaries of the coded manager interviews.

Inputs are the data-contract tables (already validated upstream):

* interviews: interview_id, company, industry, role, order
* segments:   interview_id, segment_id, coder, code[, excerpt] (one row per segment and coder)
* codebook:   code, label, definition, kind, level, dimension, items

Every summary uses the **primary coder's** segments only (argument ``primary_coder``; when it is None
the segments must come from a single coder). Every output is sorted deterministically:

* codes: kind (practice before function), level (external before internal), dimension, code;
* companies, roles, dimensions: alphabetical unless a list given by the caller fixes the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.errors import InputError

SEGMENT_COLUMNS = ("segment_id", "coder", "code")
KIND_ORDER = {"practice": 0, "function": 1}
LEVEL_ORDER = {"external": 0, "internal": 1}


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def _require(df: pd.DataFrame, columns, source: str, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            source,
            f"missing column(s) {', '.join(repr(c) for c in missing)} in the {what} table",
            f"the {what} table needs the columns {', '.join(columns)}",
            column=missing[0],
        )


def check_segments(segments: pd.DataFrame, *, source: str = "segments") -> None:
    """Raise :class:`InputError` unless every (segment_id, coder) pair carries exactly one code.

    Also checks that no segment_id, code or coder is missing and (when ``interview_id`` is present)
    that each segment_id belongs to one interview only.
    """
    _require(segments, SEGMENT_COLUMNS, source, "segments")
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


def primary_segments(
    segments: pd.DataFrame, primary_coder: str | None = None, *, source: str = "segments"
) -> pd.DataFrame:
    """The primary coder's rows of ``segments`` (all rows when ``primary_coder`` is None and only one
    coder is present), sorted by interview_id, segment_id."""
    _require(segments, ["interview_id", "segment_id", "coder", "code"], source, "segments")
    check_segments(segments, source=source)
    coders = sorted(segments["coder"].astype(str).unique().tolist())
    if primary_coder is None:
        if len(coders) > 1:
            raise InputError(
                source,
                f"segments from {len(coders)} coders ({', '.join(coders)}) but no primary coder named",
                "pass primary_coder (config study1.primary_coder): the summaries use one coder's codes",
                column="coder",
            )
        out = segments
    else:
        if primary_coder not in coders:
            raise InputError(
                source,
                f"primary coder '{primary_coder}' has no segments (coders present: {', '.join(coders) or 'none'})",
                "set study1.primary_coder to the coder who coded every interview",
                column="coder",
            )
        out = segments.loc[segments["coder"].astype(str) == primary_coder]
    out = out.copy()
    for col in ("interview_id", "segment_id", "coder", "code"):
        out[col] = out[col].astype(str)
    return out.sort_values(["interview_id", "segment_id"], kind="mergesort").reset_index(drop=True)


def _check_interviews(interviews: pd.DataFrame, source: str) -> pd.DataFrame:
    _require(interviews, ["interview_id", "company", "industry", "role", "order"], source, "interviews")
    iv = interviews.copy()
    for col in ("interview_id", "company", "industry", "role"):
        iv[col] = iv[col].astype(str)
    dup = iv["interview_id"].duplicated(keep=False)
    if dup.any():
        ids = sorted(iv.loc[dup, "interview_id"].unique())
        raise InputError(
            source,
            f"interview_id(s) {', '.join(ids[:10])} appear more than once",
            "give every interview one row with a unique interview_id",
            column="interview_id",
        )
    ind = iv.groupby("company", sort=True)["industry"].nunique()
    if (ind > 1).any():
        bad = ind[ind > 1].index.tolist()
        raise InputError(
            source,
            f"company {', '.join(repr(b) for b in bad)} is listed under more than one industry",
            "give each case company a single industry",
            column="industry",
        )
    return iv


def _check_codebook(codebook: pd.DataFrame, source: str) -> pd.DataFrame:
    _require(codebook, ["code", "label", "kind", "level", "dimension"], source, "codebook")
    cb = codebook.copy()
    cb["code"] = cb["code"].astype(str)
    dup = cb["code"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            source,
            f"code(s) {', '.join(sorted(cb.loc[dup, 'code'].unique()))} defined more than once",
            "define every code once in the codebook",
            column="code",
        )
    return cb


def _code_sort(cb: pd.DataFrame) -> pd.DataFrame:
    key = pd.DataFrame(
        {
            "k": cb["kind"].map(KIND_ORDER).fillna(len(KIND_ORDER)),
            "l": cb["level"].map(LEVEL_ORDER).fillna(len(LEVEL_ORDER)),
            "d": cb["dimension"].astype(str),
            "c": cb["code"].astype(str),
        },
        index=cb.index,
    )
    order = key.sort_values(["k", "l", "d", "c"], kind="mergesort").index
    return cb.loc[order].reset_index(drop=True)


def _joined(segments: pd.DataFrame, interviews: pd.DataFrame, codebook: pd.DataFrame | None, src: dict):
    """Primary segments joined with company (and check codes / interviews exist)."""
    unknown = sorted(set(segments["interview_id"]) - set(interviews["interview_id"]))
    if unknown:
        raise InputError(
            src["segments"],
            f"interview_id(s) {', '.join(unknown[:10])} are not in the interviews table",
            "add the interview(s) to the interviews table or correct the interview_id",
            column="interview_id",
        )
    if codebook is not None:
        undefined = sorted(set(segments["code"]) - set(codebook["code"]))
        if undefined:
            raise InputError(
                src["segments"],
                f"code(s) {', '.join(undefined[:10])} are not defined in the codebook",
                "add the code(s) to the codebook or correct the code in the segments",
                column="code",
            )
    return segments.merge(interviews[["interview_id", "company"]], on="interview_id", how="left", validate="m:1")


def _sources(segments_source, interviews_source, codebook_source=None):
    return {"segments": segments_source, "interviews": interviews_source, "codebook": codebook_source}


# ----------------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------------


def informants_table(interviews: pd.DataFrame, *, source: str = "interviews") -> pd.DataFrame:
    """Interviews by company and role.

    Columns: company, industry, role, n_interviews, interview_ids ('; '-joined, sorted). Sorted by
    company, role.
    """
    iv = _check_interviews(interviews, source)
    rows = []
    for (company, industry, role), g in iv.groupby(["company", "industry", "role"], sort=True):
        rows.append((company, industry, role, len(g), "; ".join(sorted(g["interview_id"]))))
    return pd.DataFrame(rows, columns=["company", "industry", "role", "n_interviews", "interview_ids"])


def coding_summary(
    segments: pd.DataFrame,
    interviews: pd.DataFrame,
    codebook: pd.DataFrame,
    *,
    primary_coder: str | None = None,
    segments_source: str = "segments",
    interviews_source: str = "interviews",
    codebook_source: str = "codebook",
) -> pd.DataFrame:
    """Per code of the codebook (codes never used included, with zeros).

    Columns: code, label, dimension, level, kind, n_segments, n_interviews, n_companies,
    share_interviews (n_interviews / all interviews in the interviews table).
    """
    iv = _check_interviews(interviews, interviews_source)
    cb = _code_sort(_check_codebook(codebook, codebook_source))
    seg = primary_segments(segments, primary_coder, source=segments_source)
    seg = _joined(seg, iv, cb, _sources(segments_source, interviews_source, codebook_source))
    g = seg.groupby("code", sort=True)
    stats = pd.DataFrame(
        {
            "n_segments": g.size(),
            "n_interviews": g["interview_id"].nunique(),
            "n_companies": g["company"].nunique(),
        }
    )
    out = cb[["code", "label", "dimension", "level", "kind"]].merge(stats, left_on="code", right_index=True, how="left")
    for col in ("n_segments", "n_interviews", "n_companies"):
        out[col] = out[col].fillna(0).astype(int)
    out["share_interviews"] = out["n_interviews"] / len(iv) if len(iv) else np.nan
    return out.reset_index(drop=True)


DIMENSION_VALUES = ("n_segments", "n_interviews", "share_interviews")


def dimension_by_company(
    segments: pd.DataFrame,
    interviews: pd.DataFrame,
    codebook: pd.DataFrame,
    *,
    primary_coder: str | None = None,
    value: str = "n_interviews",
    dimensions: list[str] | None = None,
    segments_source: str = "segments",
    interviews_source: str = "interviews",
    codebook_source: str = "codebook",
) -> pd.DataFrame:
    """Dimensions x companies matrix (index 'dimension', columns companies sorted).

    ``value``: 'n_segments' (segments coded to the dimension's codes), 'n_interviews' (interviews of the
    company with at least one such segment) or 'share_interviews' (that count / the company's
    interviews). Rows: ``dimensions`` in the given order, else the codebook's dimensions sorted.
    """
    if value not in DIMENSION_VALUES:
        raise ValueError(f"value must be one of {DIMENSION_VALUES}, not {value!r}")
    iv = _check_interviews(interviews, interviews_source)
    cb = _check_codebook(codebook, codebook_source)
    seg = primary_segments(segments, primary_coder, source=segments_source)
    seg = _joined(seg, iv, cb, _sources(segments_source, interviews_source, codebook_source))
    seg = seg.merge(cb[["code", "dimension"]].astype({"dimension": str}), on="code", how="left")
    dims = list(dimensions) if dimensions is not None else sorted(cb["dimension"].astype(str).unique())
    companies = sorted(iv["company"].unique())
    if value == "n_segments":
        m = seg.groupby(["dimension", "company"]).size()
    else:
        m = seg.groupby(["dimension", "company"])["interview_id"].nunique()
    mat = m.unstack("company").reindex(index=dims, columns=companies).fillna(0).astype(int)
    if value == "share_interviews":
        per_company = iv.groupby("company").size().reindex(companies)
        mat = mat.div(per_company, axis=1).astype(float)
    mat.index.name, mat.columns.name = "dimension", "company"
    return mat


def code_company_share(
    segments: pd.DataFrame,
    interviews: pd.DataFrame,
    codebook: pd.DataFrame,
    *,
    primary_coder: str | None = None,
    segments_source: str = "segments",
    interviews_source: str = "interviews",
    codebook_source: str = "codebook",
) -> pd.DataFrame:
    """Codes x companies matrix: share of the company's interviews in which the code occurs.

    Index 'code' (every codebook code, in the codebook sort order), columns companies (sorted).
    """
    iv = _check_interviews(interviews, interviews_source)
    cb = _code_sort(_check_codebook(codebook, codebook_source))
    seg = primary_segments(segments, primary_coder, source=segments_source)
    seg = _joined(seg, iv, cb, _sources(segments_source, interviews_source, codebook_source))
    companies = sorted(iv["company"].unique())
    n = seg.groupby(["code", "company"])["interview_id"].nunique().unstack("company")
    n = n.reindex(index=cb["code"].tolist(), columns=companies).fillna(0)
    per_company = iv.groupby("company").size().reindex(companies)
    share = n.div(per_company, axis=1).astype(float)
    share.index.name, share.columns.name = "code", "company"
    return share


# ----------------------------------------------------------------------------------------------------
# saturation
# ----------------------------------------------------------------------------------------------------


@dataclass
class SaturationResult:
    """Cumulative distinct codes by interview order.

    table columns: position (1..N), order, interview_id, company, n_segments, n_new_codes,
    cumulative_codes, new_codes ('; '-joined). saturation_position / saturation_interview: the first
    interview after which ``k`` further interviews bring no new code (None if that never happens).
    """

    table: pd.DataFrame
    k: int
    saturation_position: int | None
    saturation_interview: str | None
    saturation_order: int | None
    n_codes: int

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "k": self.k,
                    "n_interviews": len(self.table),
                    "n_codes": self.n_codes,
                    "saturation_position": self.saturation_position,
                    "saturation_interview": self.saturation_interview,
                    "saturation_order": self.saturation_order,
                }
            ]
        )


def saturation(
    segments: pd.DataFrame,
    interviews: pd.DataFrame,
    k: int,
    *,
    primary_coder: str | None = None,
    segments_source: str = "segments",
    interviews_source: str = "interviews",
) -> SaturationResult:
    """Code saturation in interview order (column ``order``; must be unique).

    Interviews with no segment still count (they bring no new code).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (study1.saturation_k) must be a positive integer, not {k!r}")
    k = int(k)
    iv = _check_interviews(interviews, interviews_source)
    dup = iv["order"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            interviews_source,
            f"order value(s) {', '.join(map(str, sorted(iv.loc[dup, 'order'].unique())))} are shared by "
            "more than one interview, so the saturation sequence is ambiguous",
            "number the interviews 1..N in the order they were conducted",
            column="order",
        )
    seg = primary_segments(segments, primary_coder, source=segments_source)
    seg = _joined(seg, iv, None, _sources(segments_source, interviews_source))
    iv = iv.sort_values("order", kind="mergesort").reset_index(drop=True)
    by_iv = {i: g for i, g in seg.groupby("interview_id", sort=True)}
    seen: set[str] = set()
    rows = []
    for pos, r in enumerate(iv.itertuples(index=False), start=1):
        g = by_iv.get(r.interview_id)
        codes = set(g["code"]) if g is not None else set()
        new = sorted(codes - seen)
        seen |= codes
        rows.append(
            (
                pos,
                int(r.order),
                r.interview_id,
                r.company,
                0 if g is None else len(g),
                len(new),
                len(seen),
                "; ".join(new),
            )
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "position",
            "order",
            "interview_id",
            "company",
            "n_segments",
            "n_new_codes",
            "cumulative_codes",
            "new_codes",
        ],
    )
    new_counts = table["n_new_codes"].to_numpy()
    sat = None
    for i in range(len(table) - k):  # i: 0-based index of the candidate interview
        if new_counts[i + 1 : i + 1 + k].sum() == 0:
            sat = i
            break
    return SaturationResult(
        table=table,
        k=k,
        saturation_position=None if sat is None else int(table.at[sat, "position"]),
        saturation_interview=None if sat is None else str(table.at[sat, "interview_id"]),
        saturation_order=None if sat is None else int(table.at[sat, "order"]),
        n_codes=len(seen),
    )


# ----------------------------------------------------------------------------------------------------
# co-occurrence
# ----------------------------------------------------------------------------------------------------


def cooccurrence_jaccard(
    segments: pd.DataFrame, *, primary_coder: str | None = None, source: str = "segments"
) -> pd.DataFrame:
    """Jaccard similarity of every pair of codes over interviews.

    J(a, b) = |interviews with a and b| / |interviews with a or b|. Codes: those the primary coder used.
    Long table, one row per pair with code_a < code_b, columns: code_a, code_b, n_a, n_b, n_both,
    n_either, jaccard. Sorted by code_a, code_b.
    """
    seg = primary_segments(segments, primary_coder, source=source)
    sets = {c: set(g["interview_id"]) for c, g in seg.groupby("code", sort=True)}
    codes = sorted(sets)
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            both, either = len(sets[a] & sets[b]), len(sets[a] | sets[b])
            rows.append((a, b, len(sets[a]), len(sets[b]), both, either, both / either))
    return pd.DataFrame(rows, columns=["code_a", "code_b", "n_a", "n_b", "n_both", "n_either", "jaccard"])


def jaccard_matrix(long: pd.DataFrame) -> pd.DataFrame:
    """Symmetric codes x codes matrix (diagonal 1) from :func:`cooccurrence_jaccard`."""
    codes = sorted(set(long["code_a"]) | set(long["code_b"]))
    m = pd.DataFrame(np.eye(len(codes)), index=pd.Index(codes, name="code"), columns=pd.Index(codes, name="code"))
    for r in long.itertuples(index=False):
        m.at[r.code_a, r.code_b] = m.at[r.code_b, r.code_a] = float(r.jaccard)
    return m


def cluster_order(matrix: pd.DataFrame, *, method: str = "average") -> list[str]:
    """Leaf order of a hierarchical clustering on distance 1 - Jaccard (scipy, optimal leaf ordering).

    Deterministic: the matrix is sorted by code before clustering.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    m = matrix.sort_index(axis=0).sort_index(axis=1)
    codes = [str(c) for c in m.index]
    if len(codes) < 3:
        return codes
    d = 1.0 - m.to_numpy(dtype=float)
    np.fill_diagonal(d, 0.0)
    d = np.clip((d + d.T) / 2.0, 0.0, 1.0)
    z = linkage(squareform(d, checks=False), method=method, optimal_ordering=True)
    return [codes[i] for i in leaves_list(z)]


# ----------------------------------------------------------------------------------------------------
# traceability: code -> dimension -> scale item
# ----------------------------------------------------------------------------------------------------


def _items(cell) -> list[str]:
    if cell is None or pd.isna(cell):
        return []
    return [s.strip() for s in str(cell).split(";") if s.strip()]


def traceability(
    codebook: pd.DataFrame,
    item_pool: list[str],
    dimensions: list[str],
    *,
    item_constructs: dict | None = None,
    source: str = "codebook",
) -> pd.DataFrame:
    """Code -> dimension -> scale item table, checked both ways.

    One row per (code, item); codes that list no item (typically function codes) get one row with an
    empty item. Columns: dimension, code, label, kind, level, item. Sorted by ``dimensions`` order, then
    kind (practice before function), code, and item in ``item_pool`` order.

    Raises :class:`InputError` (naming the culprit) when: a code's dimension is not in ``dimensions``;
    a code lists an item not in ``item_pool``; an item is listed under codes of different dimensions; an
    item's construct in ``item_constructs`` (item -> construct, optional) differs from its code's
    dimension; an item of the pool is traced to no code; a dimension has no item.
    """
    cb = _check_codebook(codebook, source)
    pool = [str(i) for i in item_pool]
    if len(set(pool)) != len(pool):
        dups = sorted({i for i in pool if pool.count(i) > 1})
        raise ValueError(f"item_pool lists item(s) {', '.join(dups)} more than once")
    dims = [str(d) for d in dimensions]
    pos = {item: i for i, item in enumerate(pool)}
    cb = cb.assign(dimension=cb["dimension"].astype(str))
    items_col = cb["items"] if "items" in cb.columns else pd.Series([None] * len(cb), index=cb.index)

    unknown_dim = cb.loc[~cb["dimension"].isin(dims)]
    if len(unknown_dim):
        r = unknown_dim.iloc[0]
        raise InputError(
            source,
            f"code '{r['code']}' has dimension '{r['dimension']}', which is not one of the dimensions "
            f"{', '.join(dims)}",
            "correct the code's dimension, or add the dimension to second_order.dimensions",
            column="dimension",
        )
    rows, item_dims = [], {}
    for idx, r in cb.iterrows():
        its = _items(items_col.loc[idx])
        for it in its:
            if it not in pos:
                raise InputError(
                    source,
                    f"code '{r['code']}' lists item '{it}', which is not in the item pool",
                    f"correct the item ID in column 'items' or add '{it}' to the measurement section",
                    column="items",
                )
            item_dims.setdefault(it, set()).add(r["dimension"])
            if item_constructs is not None and it in item_constructs and str(item_constructs[it]) != r["dimension"]:
                raise InputError(
                    source,
                    f"code '{r['code']}' (dimension '{r['dimension']}') lists item '{it}', which the "
                    f"measurement model assigns to construct '{item_constructs[it]}'",
                    "map the item to a code of its own construct, or correct the code's dimension",
                    column="items",
                )
            rows.append((r["dimension"], r["code"], r["label"], r["kind"], r["level"], it))
        if not its:
            rows.append((r["dimension"], r["code"], r["label"], r["kind"], r["level"], None))
    for it in pool:
        if len(item_dims.get(it, ())) > 1:
            raise InputError(
                source,
                f"item '{it}' is listed under codes of different dimensions ({', '.join(sorted(item_dims[it]))})",
                "trace each item to codes of one dimension only",
                column="items",
            )
    untraced = [it for it in pool if it not in item_dims]
    if untraced:
        raise InputError(
            source,
            f"item '{untraced[0]}' of the item pool is traced to no code"
            + (f" (also untraced: {', '.join(untraced[1:])})" if len(untraced) > 1 else ""),
            f"add '{untraced[0]}' to column 'items' of the code it operationalises",
            column="items",
        )
    out = pd.DataFrame(rows, columns=["dimension", "code", "label", "kind", "level", "item"])
    for d in dims:
        if not out.loc[out["dimension"] == d, "item"].notna().any():
            raise InputError(
                source,
                f"dimension '{d}' has no item: no code of dimension '{d}' lists a scale item",
                f"list the item IDs that measure '{d}' in column 'items' of its practice codes",
                column="items",
            )
    key = pd.DataFrame(
        {
            "d": out["dimension"].map({d: i for i, d in enumerate(dims)}),
            "k": out["kind"].map(KIND_ORDER).fillna(len(KIND_ORDER)),
            "c": out["code"],
            "i": out["item"].map(pos).fillna(len(pos)),
        }
    )
    out = out.loc[key.sort_values(["d", "k", "c", "i"], kind="mergesort").index].reset_index(drop=True)
    return out


def cross_check_items(item_pool: list[str], survey_columns, *, source: str = "survey") -> list[str]:
    """Raise :class:`InputError` naming every item of the pool missing from the survey's columns.

    Returns the item pool (as a list of str) when every item is present.
    """
    cols = {str(c) for c in survey_columns}
    pool = [str(i) for i in item_pool]
    missing = [i for i in pool if i not in cols]
    if missing:
        raise InputError(
            source,
            f"item(s) {', '.join(missing)} of the item pool (codebook/measurement) have no column in the survey",
            "add the item column(s) to the survey sheet or correct the item IDs in the measurement section",
            column=missing[0],
        )
    return pool
