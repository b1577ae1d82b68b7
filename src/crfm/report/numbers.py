"""numbers.json: every number the appendix's running text quotes, collected from the result files.

The collector and its helpers live here; what each study quotes lives in ``crfm.report.specs.<study>``.

Each number is a leaf ``{"value": <raw>, "text": <APA text>, "source": <file and cell>}`` (p values also
carry ``"eq"``: '= .032' or '< .001', what follows an italic *p*). The text is formatted here, once, with
the same formatters as the tables, so prose and tables agree to the last digit, and a manuscript can
take its numbers from this file. Thresholds quoted in the method notes come from the config (source
``config:<key>``). Only studies listed in ``config["studies"]`` and tables that exist are read.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from crfm.data.tables import SYNTHETIC_NOTE, read_table, table_header
from crfm.report.apa import fmt_ci, fmt_value, p_relation


def _plain(v):
    """numpy / pandas scalars to JSON-able Python values; NaN to None."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


class NumberBook:
    """A nested dict of number leaves, written as numbers.json."""

    def __init__(self, config: dict | None = None):
        self.data: dict = {}
        self.config = config or {}

    def _leaf(self, path: str, leaf: dict) -> dict:
        node = self.data
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = leaf
        return leaf

    def put(self, path: str, value, kind: str = "num", dec: int = 2, source: str = "") -> dict:
        value = _plain(value)
        leaf = {"value": value, "text": fmt_value(value, kind, dec), "source": source}
        if kind == "p":
            leaf["eq"] = p_relation(value) if value is not None else leaf["text"]
        return self._leaf(path, leaf)

    def put_ci(self, path: str, lo, hi, dec: int = 2, *, bounded: bool = False, source: str = "") -> dict:
        lo, hi = _plain(lo), _plain(hi)
        return self._leaf(
            path, {"value": [lo, hi], "text": fmt_ci(lo, hi, dec, leading_zero=not bounded), "source": source}
        )

    def put_text(self, path: str, text: str, source: str = "") -> dict:
        return self._leaf(path, {"value": text, "text": text, "source": source})

    def count(self) -> int:
        def n(node):
            if isinstance(node, dict) and "text" in node and "source" in node:
                return 1
            return sum(n(v) for v in node.values()) if isinstance(node, dict) else 0

        return n(self.data)


def source(path, where: str = "", col: str = "") -> str:
    """``file [row, column] <- code (rule X, file.smk)``: where a quoted number sits, and the function
    and rule that computed it (the table's `# code:`/`# rule:` lines), so it is two hops from its code."""
    loc = ", ".join(x for x in (where, col) if x)
    p = Path(path)
    try:
        st = p.stat()
        producer = _producer(p.as_posix(), st.st_mtime_ns, st.st_size)
    except OSError:
        producer = ""
    return f"{p.as_posix()}" + (f" [{loc}]" if loc else "") + producer


@lru_cache(maxsize=256)
def _producer(path: str, mtime_ns: int, size: int) -> str:
    """The producer part of :func:`source` (cached per file version: a table is read once)."""
    head = table_header(path)
    rule = f"rule {head['rule']}" + (f", {head['rules_file']}" if head["rules_file"] else "") if head["rule"] else ""
    if head["code"]:
        return f" <- {head['code']}" + (f" ({rule})" if rule else "")
    return f" <- {rule}" if rule else ""


def column_max(book, tables: dict, table: str, key: str, col: str) -> None:
    """Quote the largest value of one column of a table, when the table exists."""
    if table in tables:
        path = tables[table]
        book.put(key, read_table(path)[col].max(), "num", 2, source(path, "", f"max {col}"))


def row_where(df, **match):
    sel = df
    for k, v in match.items():
        sel = sel[sel[k].astype(str) == str(v)]
    return sel.iloc[0] if len(sel) else None


def flow_numbers(book: NumberBook, study: str, path) -> None:
    df = read_table(path)
    steps = dict(zip(df["step"].astype(str), df["n"]))
    book.put(f"{study}.flow.received", steps.get("received"), "int", source=source(path, "step=received", "n"))
    book.put(f"{study}.flow.analysed", steps.get("analysed"), "int", source=source(path, "step=analysed", "n"))
    excluded = {k.split(": ", 1)[1]: v for k, v in steps.items() if k.startswith("excluded: ")}
    book.put(
        f"{study}.flow.excluded", sum(excluded.values()), "int", source=source(path, "steps excluded: *", "n (sum)")
    )
    for rule, n in excluded.items():
        book.put(f"{study}.flow.excluded_by.{rule}", n, "int", source=source(path, f"step=excluded: {rule}", "n"))


FIT_COLS = (
    ("chi2", "num", 2),
    ("df", "int", 0),
    ("p", "p", 3),
    ("cfi", "bounded", 3),
    ("tli", "bounded", 3),
    ("rmsea", "bounded", 3),
    ("srmr", "bounded", 3),
    ("aic", "num", 2),
    ("bic", "num", 2),
    ("n", "int", 0),
    ("chi2_scaled", "num", 2),
    ("p_scaled", "p", 3),
    ("scaling_factor", "num", 3),
    ("cfi_robust", "bounded", 3),
    ("tli_robust", "bounded", 3),
    ("rmsea_robust", "bounded", 3),
)


def fit_numbers(book: NumberBook, prefix: str, row, path, where: str) -> None:
    for col, kind, dec in FIT_COLS:
        if col in row.index:
            book.put(f"{prefix}.{col}", row[col], kind, dec, source(path, where, col))
    if "rmsea_ci_lower" in row.index:
        book.put_ci(
            f"{prefix}.rmsea_ci",
            row["rmsea_ci_lower"],
            row["rmsea_ci_upper"],
            3,
            bounded=True,
            source=source(path, where, "rmsea_ci_lower, rmsea_ci_upper"),
        )


def reliability_numbers(book: NumberBook, study: str, path) -> None:
    df = read_table(path)
    for _, r in df.iterrows():
        c = str(r["construct"])
        for col in ("alpha", "cr", "ave"):
            book.put(f"{study}.reliability.{c}.{col}", r[col], "bounded", 2, source(path, f"construct={c}", col))
    first_order = df[df["construct"].astype(str).isin(_first_order_constructs(book, study, df))]
    for col in ("alpha", "cr", "ave"):
        book.put(
            f"{study}.reliability.range.{col}_min", first_order[col].min(), "bounded", 2, source(path, "", f"min {col}")
        )
        book.put(
            f"{study}.reliability.range.{col}_max", first_order[col].max(), "bounded", 2, source(path, "", f"max {col}")
        )


def _first_order_constructs(book, study, df):
    so = book.config.get("second_order") or {}
    return [c for c in df["construct"].astype(str) if c != so.get("factor")]


def coef_numbers(book: NumberBook, prefix: str, row, path, where: str) -> None:
    for col, kind, dec in (("b", "num", 3), ("se", "num", 3), ("t", "num", 2), ("p", "p", 3), ("beta", "bounded", 2)):
        if col in row.index:
            book.put(f"{prefix}.{col}", row[col], kind, dec, source(path, where, col))
    book.put_ci(f"{prefix}.ci", row["ci_lower"], row["ci_upper"], 3, source=source(path, where, "ci_lower, ci_upper"))


def estimation_numbers(book: NumberBook, study: str, config: dict) -> None:
    """How the study's CFA/SEM were estimated, as words the prose quotes."""
    est = {
        "estimator": "ML",
        "missing": "fiml",
        **(config.get("estimation") or {}),
        **((config.get(study) or {}).get("estimation") or {}),
    }
    key = f"config:{study}.estimation (or estimation)"
    book.put_text(f"{study}.estimation.estimator", est["estimator"], key)
    book.put_text(
        f"{study}.estimation.estimator_words",
        "maximum likelihood"
        if est["estimator"] == "ML"
        else "robust maximum likelihood (MLR: Huber-White standard errors, Yuan-Bentler scaled chi-square, robust fit indices)",
        key,
    )
    book.put_text(f"{study}.estimation.missing", est["missing"], key)
    book.put_text(
        f"{study}.estimation.missing_words",
        "full information (FIML): every analysed respondent counts, missing answers assumed missing at random"
        if est["missing"] == "fiml"
        else "complete cases only (listwise deletion)",
        key,
    )


def model_labels(book: NumberBook, config: dict) -> None:
    """Names and labels the prose quotes (constructs, second-order factor, focal, outcome, moderators)."""
    labels = {c["construct"]: c.get("label", c["construct"]) for c in config["measurement"]}
    for k, c in enumerate(config["measurement"]):
        book.put_text(f"model.labels.{c['construct']}", labels[c["construct"]], f"config:measurement[{k}].label")
    so = config.get("second_order")
    if so:
        book.put_text("model.second_order.factor", so["factor"], "config:second_order.factor")
        book.put_text("model.second_order.label", so.get("label", so["factor"]), "config:second_order.label")
        book.put_text("model.second_order.dimensions", ", ".join(so["dimensions"]), "config:second_order.dimensions")
        book.put(
            "model.second_order.n_dimensions", len(so["dimensions"]), "int", source="config:second_order.dimensions"
        )
    s3 = config.get("study3") if "study3" in config["studies"] else None
    if s3:
        for role in ("focal", "outcome"):
            name = s3[role]
            label = so.get("label", name) if so and name == so["factor"] else labels.get(name, name)
            book.put_text(f"model.{role}.name", name, f"config:study3.{role}")
            book.put_text(f"model.{role}.label", label, f"config:study3.{role} (label)")
        for k, mod in enumerate(s3.get("moderators", [])):
            book.put_text(
                f"model.moderators.{mod}.label", labels.get(mod, mod), f"config:study3.moderators[{k}] (label)"
            )


def collect_numbers(
    config: dict, tables: dict, summaries: dict, *, synthetic: bool, studies_synthetic: dict | None = None
) -> dict:
    """``tables``: {name: csv path}; ``summaries``: {'study1': path, 'study2_explore': path, ...}. Each
    configured study's numbers come from ``crfm.report.specs.<study>.numbers`` (the registry decides)."""
    from crfm.report.specs import spec_module

    book = NumberBook(config)
    studies = list(config["studies"])
    model_labels(book, config)
    for sid in studies:
        spec_module(sid).numbers(book, tables, summaries, config)
    out = {"synthetic": bool(synthetic), "studies": studies, "count": book.count(), "numbers": book.data}
    if studies_synthetic is not None:
        out["studies_synthetic"] = dict(studies_synthetic)
    if synthetic:
        out["data_note"] = SYNTHETIC_NOTE
    return out


def load_json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_numbers(obj: dict, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
