"""The data contract: reading raw sheets strictly and checking them against the config.

Every check raises :class:`crfm.errors.InputError` naming the file, the line(s), the column and the fix.
Line numbers are the file's own (1-based, the header line included), so a researcher can open the file
and go straight to the problem.

Reading rules: UTF-8 with or without a byte-order mark; comma-delimited, RFC 4180 quoting (a quoted
cell may hold commas, quotes written twice, and line breaks); leading lines starting with '#' are
provenance comments (the synthetic-data banner) and are skipped; an empty cell or 'NA' is a missing
answer. A line ends at LF, CRLF or CR (what editors count); a record's line is the line it starts on,
so a quoted cell spanning several lines does not shift the lines of the records after it. Other
separators (U+2028, NEL, a vertical tab, a form feed) are ordinary characters inside a cell. Cells may
be of any length.

Numbers: a numeric cell is a plain decimal number (``4``, ``-0.5``, ``4.``, ``.5``, ``1e3``; ASCII
digits, '.' as the decimal mark, no thousands separator) and finite: ``inf``, ``nan`` and the like, in
any spelling, are refused, as is a number too large for a float (``1e999``). A Likert answer is a whole
number exactly: ``4``, ``+4``, ``4.0`` or ``4.00`` (the same value; statistics packages export it so)
are fine, ``3.99999``, ``4.5`` or ``4e0`` are not.

IDs, labels and levels (survey IDs, categorical answers, the attention check, every Study 1 key and
the codebook's labels) may hold no control character (C0, DEL, C1, U+2028/U+2029): they reach tables,
figures and the appendix. Free text (a segment's excerpt, a code's definition) may.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crfm.data.config import MeasurementModel
from crfm.errors import InputError

MISSING_TOKENS = {"", "NA"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_WHOLE = re.compile(r"^[+-]?[0-9]+(?:\.0*)?$")
_NON_FINITE = re.compile(r"^[+-]?(?:inf|infinity|nan|nan\(.*\)|snan|qnan|1\.#inf|1\.#ind|1\.#qnan)$", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class Sheet:
    """A raw sheet read as strings, with the file line number of every data row."""

    path: str
    data: pd.DataFrame  # all cells as str ('' for missing)
    lines: np.ndarray  # file line number of each row
    comments: list[str] = field(default_factory=list)
    header_line: int | None = None  # file line of the header (None: the line before the first row)

    def line_of(self, mask) -> list[int]:
        return [int(x) for x in self.lines[np.asarray(mask, dtype=bool)]]

    @property
    def header(self) -> int:
        return self.header_line if self.header_line is not None else int(self.lines[0]) - 1


def _line_at(raw, offset: int) -> int:
    """1-based line of ``offset`` in ``raw`` (bytes or str): LF, CRLF and CR end a line."""
    head = raw[:offset]
    return len(_LINE_BREAK.findall(head.decode("latin-1") if isinstance(head, bytes) else head)) + 1


def _show(value, limit: int = 40) -> str:
    """A cell value as a message shows it: escaped, and cut when long."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 5] + "...'" + f" ({len(str(value))} characters)"


def _refuse(sheet: Sheet, col: str, bad: np.ndarray, before: str, after: str, fix: str, most: int = 5):
    """Stop on the rows ``bad`` of ``col``: the message is ``before [values] after`` with up to ``most``
    distinct offending values, and names the file, their lines and the column."""
    shown = ", ".join(_show(v) for v in sorted(set(sheet.data[col][bad]))[:most])
    what = f"{before} [{shown}]" + (f" {after}" if after else "")
    raise InputError(sheet.path, what, fix, rows=sheet.line_of(bad), column=col)


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise InputError(
            path, "is a directory, not a CSV file", "point the config at the sheet's .csv file, not at its folder"
        )
    if not path.exists():
        raise InputError(path, "file not found", "check the path in the config")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            path, f"the file cannot be read ({exc.strerror})", "check the path and the file's permissions"
        ) from None


def read_sheet(path) -> Sheet:
    """Read a CSV strictly (see module docstring); raise InputError on anything malformed."""
    path = Path(path)
    raw = _read_bytes(path)
    if not raw.strip():
        raise InputError(path, "the file is empty", "export the sheet again with a header row and data rows")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise InputError(path, "the file is UTF-16/32 encoded (byte-order mark found)", "save it as CSV UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            "save the file as CSV UTF-8",
            rows=[_line_at(raw, exc.start)],
        ) from None
    # Leading '#' lines: comments. Lines as csv and io count them (LF, CRLF, CR).
    offset = n_comments = 0
    comments = []
    for line in io.StringIO(text, newline=""):
        if not line.startswith("#"):
            break
        comments.append(line.rstrip("\r\n"))
        offset += len(line)
        n_comments += 1
    header_line = n_comments + 1
    body = text[offset:]
    if not body.strip():
        raise InputError(
            path, "no header row", "the first line (after '#' comments) must name the columns", rows=[header_line]
        )
    records = _records(path, body, header_line)
    line0, header = records[0]
    if line0 != header_line or all(not c.strip() for c in header):
        raise InputError(
            path, "no header row", "the first line (after '#' comments) must name the columns", rows=[header_line]
        )
    if len(header) == 1:
        for delim, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delim in header[0]:
                raise InputError(
                    path,
                    f"the file is {name}-delimited; the contract is comma-separated values",
                    "export as CSV with ',' as delimiter (in Excel: 'CSV UTF-8 (comma delimited)')",
                    rows=[header_line],
                )
    cols = [c.strip() for c in header]
    if any(c == "" for c in cols):
        pos = [i + 1 for i, c in enumerate(cols) if c == ""]
        raise InputError(path, f"empty column name at position(s) {pos}", "name every column", rows=[header_line])
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise InputError(path, f"duplicate column name(s) {dup}", "give every column a unique name", rows=[header_line])
    bad = [c for c in cols if _CONTROL.search(c)]
    if bad:
        raise InputError(
            path,
            f"column name(s) {[_show(c) for c in bad[:5]]} hold a control character",
            "rename the column(s)",
            rows=[header_line],
        )
    data, lines = [], []
    for line, r in records[1:]:
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
    return Sheet(str(path), df, np.asarray(lines, dtype=int), comments, header_line)


def _records(path, body: str, first_line: int) -> list[tuple[int, list[str]]]:
    """Every CSV record of ``body`` with the file line it starts on (``first_line`` = the body's first)."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, len(body) + 1))  # a cell can be as long as the file
    try:
        reader = csv.reader(io.StringIO(body, newline=""), strict=True)
        out, done = [], 0
        try:
            for row in reader:
                out.append((first_line + done, row))
                done = reader.line_num
        except csv.Error as exc:
            start = first_line + done
            if "end of data" in str(exc):
                raise InputError(
                    path,
                    f"a quoted cell opened on line {start} is never closed (the file ends inside it)",
                    'close the quote, or write a quote inside a cell as two quotes ("")',
                    rows=[start],
                ) from None
            raise InputError(
                path,
                f"malformed CSV quoting ({exc})",
                'quote a whole cell ("...") and write a quote inside it as two quotes ("")',
                rows=[first_line + max(reader.line_num - 1, done)],
            ) from None
        return out
    finally:
        csv.field_size_limit(old)


def _require_columns(sheet: Sheet, required, what: str) -> None:
    missing = [c for c in required if c not in sheet.data.columns]
    if missing:
        raise InputError(
            sheet.path,
            f"missing required column(s) {missing} ({what})",
            "add the column(s), or correct the names in the header or in the config",
            rows=[sheet.header],
        )


def _unique_ids(sheet: Sheet, col: str) -> None:
    s = sheet.data[col]
    empty = s.map(lambda x: x in MISSING_TOKENS).to_numpy()
    if empty.any():
        raise InputError(sheet.path, "empty ID", "give every row an ID", rows=sheet.line_of(empty), column=col)
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        _refuse(
            sheet,
            col,
            dup,
            "duplicate ID(s)",
            "",
            "each ID must appear once: remove the duplicate row or correct the ID",
            10,
        )


def _values_in(sheet: Sheet, col: str, allowed, what: str, fix: str) -> None:
    """Every non-missing value of ``col`` must be in ``allowed``; else name the values and lines."""
    s = sheet.data[col]
    bad = (~s.isin(set(allowed)) & ~s.isin(MISSING_TOKENS)).to_numpy()
    if bad.any():
        _refuse(sheet, col, bad, "value(s)", what, fix)


def _parse_number(text: str) -> float | None:
    """A plain decimal number (see the module docstring) as a float; None when the text is not one."""
    if not _NUMBER.match(text):
        return None
    return float(text)


def _to_number(sheet: Sheet, col: str) -> pd.Series:
    """The column as floats (NaN = missing); every other cell must be a finite plain decimal number."""
    s = sheet.data[col]
    values = np.full(len(s), np.nan)
    non_finite, non_numeric = np.zeros(len(s), bool), np.zeros(len(s), bool)
    for k, cell in enumerate(s):
        if cell in MISSING_TOKENS:
            continue
        x = _parse_number(cell)
        if x is None:
            (non_finite if _NON_FINITE.match(cell) else non_numeric)[k] = True
        elif not math.isfinite(x):
            non_finite[k] = True
        else:
            values[k] = x
    if non_finite.any():
        _refuse(
            sheet,
            col,
            non_finite,
            "non-finite value(s)",
            "in a numeric column (infinity, not-a-number, or too large for a number)",
            "enter finite numbers only; leave a missing answer empty (or write NA)",
        )
    if non_numeric.any():
        _refuse(
            sheet,
            col,
            non_numeric,
            "non-numeric value(s)",
            "in a numeric column",
            "enter numbers only (digits, '.' as the decimal mark, no thousands separator); leave a missing answer empty",
        )
    return pd.Series(values, index=s.index, dtype=float)


def _check_range(sheet: Sheet, col: str, values: pd.Series, lo, hi, integer: bool) -> None:
    """Answers inside [lo, hi]; for ``integer``, whole numbers exactly (the cell's text: '4' or '4.0',
    never '3.99999')."""
    v = values.to_numpy(dtype=float)
    ok = np.isnan(v)
    inside = np.ones_like(v, dtype=bool)
    if lo is not None:
        inside &= v >= lo
    if hi is not None:
        inside &= v <= hi
    if integer:
        inside &= np.array([bool(_WHOLE.match(c)) for c in sheet.data[col]], dtype=bool)
    bad = ~(ok | inside)
    if bad.any():
        rng = f"{'integer ' if integer else ''}answers between {lo} and {hi}"
        _refuse(
            sheet,
            col,
            bad,
            "value(s)",
            f"outside the item's range ({rng})",
            "correct the answers, or the scale min/max in the config's measurement model",
        )


def _no_control(sheet: Sheet, cols) -> None:
    """IDs, labels and levels hold no control character (they reach tables, figures and the appendix)."""
    for col in cols:
        if col not in sheet.data.columns:
            continue
        bad = sheet.data[col].map(lambda x: bool(_CONTROL.search(x))).to_numpy(dtype=bool)
        if bad.any():
            _refuse(
                sheet,
                col,
                bad,
                "value(s)",
                "hold a control character (a tab, line break, escape or other invisible code)",
                "delete the character: IDs, labels and levels reach tables, figures and the appendix",
                3,
            )


@dataclass(frozen=True)
class SurveySpec:
    id_column: str
    items: list  # item IDs expected in the sheet
    variables: list  # variable dicts from config (continuous, categorical, derived)
    ignore_columns: list
    attention_column: str | None = None

    @classmethod
    def from_config(cls, study_cfg: dict, items: list[str]) -> SurveySpec:
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
            rows=[sheet.header],
        )
    categorical = [v["column"] for v in raw_vars if v["type"] == "categorical"]
    _no_control(sheet, [spec.id_column, *categorical, *([spec.attention_column] if spec.attention_column else [])])
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
            # `from` names a continuous column of the sheet (check_config), so a failure names that raw
            # column and its lines.
            if v["transform"] == "log":
                bad = (src <= 0).to_numpy()
                if bad.any():
                    _refuse(
                        sheet,
                        v["from"],
                        bad,
                        f"the derived variable '{v['column']}' is log('{v['from']}'), but '{v['from']}' holds value(s)",
                        "<= 0",
                        f"correct the values of '{v['from']}', or drop the log transform of '{v['column']}'",
                    )
                derived = np.log(src)
            else:
                derived = src.astype(float)
            bad = ~np.isfinite(derived.to_numpy(dtype=float)) & src.notna().to_numpy()
            if bad.any():  # pragma: no cover - finite sources give finite logs; kept as the contract's guard
                raise InputError(
                    sheet.path,
                    f"the derived variable '{v['column']}' is not finite where '{v['from']}' is answered",
                    f"correct the values of '{v['from']}'",
                    rows=sheet.line_of(bad),
                    column=v["from"],
                )
            out[v["column"]] = derived
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
            raise InputError(
                sheet.path, "empty cell in a required column", "fill in the value", rows=sheet.line_of(empty), column=c
            )


def _no_unknown(sheet: Sheet, allowed, more: str = "") -> None:
    unknown = [c for c in sheet.data.columns if c not in allowed]
    if unknown:
        raise InputError(
            sheet.path,
            f"unknown column(s) {unknown}",
            f"the sheet's columns are {list(allowed)}" + (f"; {more}" if more else ""),
            rows=[sheet.header],
        )


def validate_codebook(sheet: Sheet, model: MeasurementModel, dimensions: list[str]) -> pd.DataFrame:
    _require_columns(sheet, CODEBOOK_COLUMNS, "codebook")
    _no_unknown(sheet, CODEBOOK_COLUMNS)
    _no_control(sheet, ["code", "label", "kind", "level", "dimension", "items"])
    _no_empty(sheet, ["code", "label", "kind", "level", "dimension"])
    _unique_ids(sheet, "code")
    df = sheet.data
    for col, allowed in (
        ("kind", ["practice", "function"]),
        ("level", ["external", "internal"]),
        ("dimension", dimensions),
    ):
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
    _no_control(sheet, INTERVIEW_COLUMNS)
    _no_empty(sheet, INTERVIEW_COLUMNS)
    _unique_ids(sheet, "interview_id")
    order = _to_number(sheet, "order")
    _check_range(sheet, "order", order, 1, None, integer=True)
    dup = order.duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(
            sheet.path,
            "two interviews share an order number",
            "give each interview its own position",
            rows=sheet.line_of(dup),
            column="order",
        )
    df = sheet.data.copy()
    df["order"] = order.astype(int)
    return df


def validate_segments(
    sheet: Sheet, interviews: pd.DataFrame, codebook: pd.DataFrame, rating: dict | None = None
) -> pd.DataFrame:
    """Check the coded segments. ``rating`` ({column, order}): an optional rating column of every coded
    segment (e.g. intensity 1-3); its answers must be among ``order`` (an empty cell: not rated)."""
    _require_columns(sheet, SEGMENT_COLUMNS, "coded segments")
    rating_cols = [rating["column"]] if rating and rating["column"] in sheet.data.columns else []
    _no_unknown(
        sheet,
        SEGMENT_COLUMNS + ["excerpt"] + rating_cols,
        "or declare a rating column of the segments under study1.reliability.intensity",
    )
    _no_control(sheet, SEGMENT_COLUMNS + rating_cols)
    _no_empty(sheet, SEGMENT_COLUMNS)
    df = sheet.data
    for col in rating_cols:
        allowed = [str(v) for v in rating["order"]]
        _values_in(
            sheet,
            col,
            allowed,
            f"not among the rating's values {allowed}",
            f"rate with one of {allowed} or leave the cell empty; or change study1.reliability.intensity.order",
        )
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
        raise InputError(
            sheet.path,
            f"segment(s) {list(multi)[:5]} appear under two interviews",
            "segment IDs must belong to one interview",
            rows=sheet.line_of(mask),
            column="segment_id",
        )
    return df.copy()
