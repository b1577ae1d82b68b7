"""The data contract: reading raw sheets strictly and checking them against the config.

Every check raises :class:`crfm.errors.InputError` naming the file, the line(s), the column and the fix.
Line numbers are the file's own (1-based, the header line included), so a researcher can open the file
and go straight to the problem.

Reading rules: UTF-8 with or without a byte-order mark; comma-delimited; leading lines starting with
'#' are provenance comments (the synthetic-data banner) and are skipped; an empty cell or 'NA' is a
missing answer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crfm.data.config import MeasurementModel
from crfm.errors import InputError

MISSING_TOKENS = {"", "NA"}


@dataclass
class Sheet:
    """A raw sheet read as strings, with the file line number of every data row."""

    path: str
    data: pd.DataFrame  # all cells as str ('' for missing)
    lines: np.ndarray  # file line number of each row
    comments: list[str] = field(default_factory=list)

    def line_of(self, mask) -> list[int]:
        return [int(x) for x in self.lines[np.asarray(mask, dtype=bool)]]


def read_sheet(path) -> Sheet:
    """Read a CSV strictly (see module docstring); raise InputError on anything malformed."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found", "check the path in the config")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "the file is empty", "export the sheet again with a header row and data rows")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise InputError(path, "the file is UTF-16/32 encoded (byte-order mark found)", "save it as CSV UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", "save the file as CSV UTF-8", rows=[line]
        ) from None
    all_lines = text.splitlines()
    n_comments = 0
    while n_comments < len(all_lines) and all_lines[n_comments].startswith("#"):
        n_comments += 1
    comments = all_lines[:n_comments]
    body = all_lines[n_comments:]
    while body and not body[-1].strip():
        body.pop()
    if not body or not body[0].strip():
        raise InputError(path, "no header row", "the first line (after '#' comments) must name the columns")
    header_line = n_comments + 1
    header = body[0]
    if "," not in header:
        for delim, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delim in header:
                raise InputError(
                    path,
                    f"the file is {name}-delimited; the contract is comma-separated values",
                    "export as CSV with ',' as delimiter (in Excel: 'CSV UTF-8 (comma delimited)')",
                    rows=[header_line],
                )
    if len(body) < 2:
        raise InputError(path, "the file has a header but no data rows", "export the data rows too", rows=[header_line])
    reader = csv.reader(io.StringIO("\n".join(body)))
    rows = list(reader)
    cols = [c.strip() for c in rows[0]]
    if any(c == "" for c in cols):
        pos = [i + 1 for i, c in enumerate(cols) if c == ""]
        raise InputError(path, f"empty column name at position(s) {pos}", "name every column", rows=[header_line])
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise InputError(path, f"duplicate column name(s) {dup}", "give every column a unique name", rows=[header_line])
    data, lines = [], []
    for k, r in enumerate(rows[1:], start=1):
        line = header_line + k
        if len(r) == 0 or all(not x.strip() for x in r):
            continue  # blank line
        if len(r) != len(cols):
            raise InputError(
                path,
                f"{len(r)} fields where the header has {len(cols)}",
                "check for a stray delimiter or quote in this row",
                rows=[line],
            )
        data.append([x.strip() for x in r])
        lines.append(line)
    if not data:
        raise InputError(path, "the file has a header but no data rows", "export the data rows too", rows=[header_line])
    df = pd.DataFrame(data, columns=cols, dtype=object)
    return Sheet(str(path), df, np.asarray(lines, dtype=int), comments)


def _require_columns(sheet: Sheet, required, what: str) -> None:
    missing = [c for c in required if c not in sheet.data.columns]
    if missing:
        raise InputError(
            sheet.path,
            f"missing required column(s) {missing} ({what})",
            "add the column(s), or correct the names in the header or in the config",
            rows=[int(sheet.lines[0]) - 1],
        )


def _unique_ids(sheet: Sheet, col: str) -> None:
    s = sheet.data[col]
    empty = s.map(lambda x: x in MISSING_TOKENS).to_numpy()
    if empty.any():
        raise InputError(sheet.path, "empty ID", "give every row an ID", rows=sheet.line_of(empty), column=col)
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        vals = sorted(set(s[dup]))
        raise InputError(
            sheet.path,
            f"duplicate ID(s) {vals[:10]}",
            "each ID must appear once: remove the duplicate row or correct the ID",
            rows=sheet.line_of(dup),
            column=col,
        )


def _values_in(sheet: Sheet, col: str, allowed, what: str, fix: str) -> None:
    """Every non-missing value of ``col`` must be in ``allowed``; else name the values and lines."""
    s = sheet.data[col]
    bad = (~s.isin(set(allowed)) & ~s.isin(MISSING_TOKENS)).to_numpy()
    if bad.any():
        raise InputError(
            sheet.path, f"value(s) {sorted(set(s[bad]))[:5]} {what}", fix, rows=sheet.line_of(bad), column=col
        )


def _to_number(sheet: Sheet, col: str) -> pd.Series:
    s = sheet.data[col]
    miss = s.map(lambda x: x in MISSING_TOKENS)
    num = pd.to_numeric(s.where(~miss, None), errors="coerce")
    bad = (num.isna() & ~miss).to_numpy()
    if bad.any():
        examples = sorted(set(s[bad]))[:5]
        raise InputError(
            sheet.path,
            f"non-numeric value(s) {examples} in a numeric column",
            "enter numbers only; leave a missing answer empty",
            rows=sheet.line_of(bad),
            column=col,
        )
    return num.astype(float)


def _check_range(sheet: Sheet, col: str, values: pd.Series, lo, hi, integer: bool) -> None:
    v = values.to_numpy(dtype=float)
    ok = np.isnan(v)
    inside = np.ones_like(v, dtype=bool)
    if lo is not None:
        inside &= v >= lo
    if hi is not None:
        inside &= v <= hi
    if integer:
        inside &= np.isclose(v, np.round(v))
    bad = ~(ok | inside)
    if bad.any():
        examples = sorted(set(sheet.data[col][bad]))[:5]
        rng = f"{'integer ' if integer else ''}answers between {lo} and {hi}"
        raise InputError(
            sheet.path,
            f"value(s) {examples} outside the item's range ({rng})",
            "correct the answers, or the scale min/max in the config's measurement model",
            rows=sheet.line_of(bad),
            column=col,
        )


@dataclass(frozen=True)
class SurveySpec:
    id_column: str
    items: list  # item IDs expected in the sheet
    variables: list  # variable dicts from config (continuous, categorical, derived)
    ignore_columns: list
    attention_column: str | None = None

    @classmethod
    def from_config(cls, study_cfg: dict, items: list[str]) -> "SurveySpec":
        ac = (study_cfg.get("exclusions") or {}).get("attention_check")
        return cls(
            id_column=study_cfg["id_column"],
            items=list(items),
            variables=list(study_cfg.get("variables") or []),
            ignore_columns=list(study_cfg.get("ignore_columns") or []),
            attention_column=ac["column"] if ac else None,
        )


def validate_survey(sheet: Sheet, spec: SurveySpec, model: MeasurementModel) -> pd.DataFrame:
    """Check a survey sheet; return it typed (ID as str, items and continuous variables as float)."""
    raw_vars = [v for v in spec.variables if v["type"] != "derived"]
    required = [spec.id_column] + spec.items + [v["column"] for v in raw_vars]
    if spec.attention_column:
        required.append(spec.attention_column)
    _require_columns(sheet, required, "ID, items of the measurement model, declared variables")
    known = set(required) | set(spec.ignore_columns)
    unknown = [c for c in sheet.data.columns if c not in known]
    if unknown:
        raise InputError(
            sheet.path,
            f"unknown column(s) {unknown}: not an item of the analysed constructs, not a declared variable",
            "add the item to the measurement model, declare the column under `variables`, or list it in "
            "`ignore_columns`",
            rows=[int(sheet.lines[0]) - 1],
        )
    _unique_ids(sheet, spec.id_column)
    out = pd.DataFrame({spec.id_column: sheet.data[spec.id_column].astype(str)})
    for item in spec.items:
        c = model.scale_of(item)
        values = _to_number(sheet, item)
        _check_range(sheet, item, values, c.scale_min, c.scale_max, integer=c.scale_type == "likert")
        out[item] = values
    for v in raw_vars:
        col = v["column"]
        if v["type"] == "continuous":
            values = _to_number(sheet, col)
            _check_range(sheet, col, values, v.get("min"), v.get("max"), integer=False)
            out[col] = values
        else:
            s = sheet.data[col]
            _values_in(
                sheet,
                col,
                v["levels"],
                f"not among the declared levels {v['levels']}",
                "correct the values or add the level to the variable's `levels` in the config",
            )
            out[col] = s.where(~s.isin(MISSING_TOKENS), None)
    if spec.attention_column:
        out[spec.attention_column] = sheet.data[spec.attention_column].where(
            ~sheet.data[spec.attention_column].isin(MISSING_TOKENS), None
        )
    for v in spec.variables:
        if v["type"] == "derived":
            src = out[v["from"]]
            if v["transform"] == "log":
                bad = (src <= 0).to_numpy()
                if bad.any():
                    raise InputError(
                        sheet.path,
                        f"'{v['column']}' is log('{v['from']}') but some values are <= 0",
                        "correct the values or drop the log transform",
                        rows=sheet.line_of(bad),
                        column=v["from"],
                    )
                out[v["column"]] = np.log(src)
            else:
                out[v["column"]] = src
    out.insert(1, "source_line", sheet.lines)
    return out


def recode_reverse(df: pd.DataFrame, model: MeasurementModel, items) -> pd.DataFrame:
    """Reverse-keyed items become (min + max - answer); returns a copy."""
    out = df.copy()
    for item in items:
        c = model.scale_of(item)
        if item in c.reverse:
            out[item] = c.scale_min + c.scale_max - out[item]
    return out


# --- Study 1 sheets -------------------------------------------------------------------------------

INTERVIEW_COLUMNS = ["interview_id", "company", "industry", "role", "order"]
SEGMENT_COLUMNS = ["interview_id", "segment_id", "coder", "code"]
CODEBOOK_COLUMNS = ["code", "label", "definition", "kind", "level", "dimension", "items"]


def _no_empty(sheet: Sheet, cols) -> None:
    for c in cols:
        empty = sheet.data[c].isin(MISSING_TOKENS).to_numpy()
        if empty.any():
            raise InputError(sheet.path, "empty cell in a required column", "fill in the value", rows=sheet.line_of(empty), column=c)


def _no_unknown(sheet: Sheet, allowed) -> None:
    unknown = [c for c in sheet.data.columns if c not in allowed]
    if unknown:
        raise InputError(
            sheet.path, f"unknown column(s) {unknown}", f"the sheet's columns are {list(allowed)}", rows=[int(sheet.lines[0]) - 1]
        )


def validate_codebook(sheet: Sheet, model: MeasurementModel, dimensions: list[str]) -> pd.DataFrame:
    _require_columns(sheet, CODEBOOK_COLUMNS, "codebook")
    _no_unknown(sheet, CODEBOOK_COLUMNS)
    _no_empty(sheet, ["code", "label", "kind", "level", "dimension"])
    _unique_ids(sheet, "code")
    df = sheet.data
    for col, allowed in (("kind", ["practice", "function"]), ("level", ["external", "internal"]), ("dimension", dimensions)):
        _values_in(sheet, col, allowed, f"not among {allowed}", f"use one of {allowed}")
    pool = set(model.items_of(dimensions))
    for k, cell in enumerate(df["items"]):
        for item in [x.strip() for x in cell.split(";") if x.strip()]:
            if item not in pool:
                raise InputError(
                    sheet.path,
                    f"item '{item}' is not an item of the CRFM dimensions {dimensions}",
                    "correct the item ID or add the item to the measurement model",
                    rows=[int(sheet.lines[k])],
                    column="items",
                )
    return df.copy()


def validate_interviews(sheet: Sheet) -> pd.DataFrame:
    _require_columns(sheet, INTERVIEW_COLUMNS, "interview sheet")
    _no_unknown(sheet, INTERVIEW_COLUMNS)
    _no_empty(sheet, INTERVIEW_COLUMNS)
    _unique_ids(sheet, "interview_id")
    order = _to_number(sheet, "order")
    _check_range(sheet, "order", order, 1, None, integer=True)
    dup = order.duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(sheet.path, "two interviews share an order number", "give each interview its own position", rows=sheet.line_of(dup), column="order")
    df = sheet.data.copy()
    df["order"] = order.astype(int)
    return df


def validate_segments(sheet: Sheet, interviews: pd.DataFrame, codebook: pd.DataFrame, rating: dict | None = None) -> pd.DataFrame:
    """Check the coded segments. ``rating`` ({column, order}): an optional rating column of every coded
    segment (e.g. intensity 1-3); its answers must be among ``order`` (an empty cell: not rated)."""
    _require_columns(sheet, SEGMENT_COLUMNS, "coded segments")
    rating_cols = [rating["column"]] if rating and rating["column"] in sheet.data.columns else []
    _no_unknown(sheet, SEGMENT_COLUMNS + ["excerpt"] + rating_cols)
    _no_empty(sheet, SEGMENT_COLUMNS)
    df = sheet.data
    for col in rating_cols:
        allowed = [str(v) for v in rating["order"]]
        _values_in(sheet, col, allowed, f"not among the rating's values {allowed}", f"rate with one of {allowed} or leave the cell empty; or change study1.reliability.intensity.order")
    _values_in(
        sheet,
        "interview_id",
        interviews["interview_id"],
        "not in the interview sheet",
        "add the interview to the interview sheet or correct the ID",
    )
    _values_in(
        sheet,
        "code",
        codebook["code"],
        "not in the codebook",
        "correct the code or add it to the codebook (config study1.codebook)",
    )
    dup = df.duplicated(["segment_id", "coder"], keep=False).to_numpy()
    if dup.any():
        raise InputError(
            sheet.path,
            "a coder gave the same segment more than one code",
            "split the segment so each coder gives each segment one code",
            rows=sheet.line_of(dup),
            column="segment_id",
        )
    owners = df.groupby("segment_id")["interview_id"].nunique()
    multi = owners[owners > 1].index
    if len(multi):
        mask = df["segment_id"].isin(multi).to_numpy()
        raise InputError(sheet.path, f"segment(s) {list(multi)[:5]} appear under two interviews", "segment IDs must belong to one interview", rows=sheet.line_of(mask), column="segment_id")
    return df.copy()

