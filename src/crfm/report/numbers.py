"""numbers.json: every number the appendix's running text quotes, collected from the result files.

Each number is a leaf ``{"value": <raw>, "text": <APA text>, "source": <file and cell>}`` (p values also
carry ``"eq"``: '= .032' or '< .001', what follows an italic *p*). The text is formatted here, once, with
the same formatters as the tables, so prose and tables agree to the last digit, and a manuscript can
take its numbers from this file. Thresholds quoted in the method notes come from the config (source
``config:<key>``). Only studies listed in ``config["studies"]`` and tables that exist are read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from crfm.report.apa import fmt_ci, fmt_value, p_relation
from crfm.data.tables import SYNTHETIC_NOTE, read_table


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
        return self._leaf(path, {"value": [lo, hi], "text": fmt_ci(lo, hi, dec, leading_zero=not bounded), "source": source})

    def put_text(self, path: str, text: str, source: str = "") -> dict:
        return self._leaf(path, {"value": text, "text": text, "source": source})

    def count(self) -> int:
        def n(node):
            if isinstance(node, dict) and "text" in node and "source" in node:
                return 1
            return sum(n(v) for v in node.values()) if isinstance(node, dict) else 0

        return n(self.data)


def _src(path, where: str = "", col: str = "") -> str:
    loc = ", ".join(x for x in (where, col) if x)
    return f"{Path(path).as_posix()}" + (f" [{loc}]" if loc else "")


def _column_max(book, tables: dict, table: str, key: str, col: str) -> None:
    """Quote the largest value of one column of a table, when the table exists."""
    if table in tables:
        path = tables[table]
        book.put(key, read_table(path)[col].max(), "num", 2, _src(path, "", f"max {col}"))


def _row(df, **match):
    sel = df
    for k, v in match.items():
        sel = sel[sel[k].astype(str) == str(v)]
    return sel.iloc[0] if len(sel) else None


def _flow(book: NumberBook, study: str, path) -> None:
    df = read_table(path)
    steps = dict(zip(df["step"].astype(str), df["n"]))
    book.put(f"{study}.flow.received", steps.get("received"), "int", source=_src(path, "step=received", "n"))
    book.put(f"{study}.flow.analysed", steps.get("analysed"), "int", source=_src(path, "step=analysed", "n"))
    excluded = {k.split(": ", 1)[1]: v for k, v in steps.items() if k.startswith("excluded: ")}
    book.put(f"{study}.flow.excluded", sum(excluded.values()), "int", source=_src(path, "steps excluded: *", "n (sum)"))
    for rule, n in excluded.items():
        book.put(f"{study}.flow.excluded_by.{rule}", n, "int", source=_src(path, f"step=excluded: {rule}", "n"))


FIT_COLS = (
    ("chi2", "num", 2),
    ("df", "int", 0),
    ("pvalue", "p", 3),
    ("cfi", "bounded", 3),
    ("tli", "bounded", 3),
    ("rmsea", "bounded", 3),
    ("srmr", "bounded", 3),
    ("aic", "num", 2),
    ("bic", "num", 2),
    ("n", "int", 0),
)


def _fit_row(book: NumberBook, prefix: str, row, path, where: str) -> None:
    for col, kind, dec in FIT_COLS:
        if col in row.index:
            book.put(f"{prefix}.{'p' if col == 'pvalue' else col}", row[col], kind, dec, _src(path, where, col))
    if "rmsea_ci_lower" in row.index:
        book.put_ci(
            f"{prefix}.rmsea_ci",
            row["rmsea_ci_lower"],
            row["rmsea_ci_upper"],
            3,
            bounded=True,
            source=_src(path, where, "rmsea_ci_lower, rmsea_ci_upper"),
        )


def _reliability(book: NumberBook, study: str, path) -> None:
    df = read_table(path)
    for _, r in df.iterrows():
        c = str(r["construct"])
        for col in ("alpha", "cr", "ave"):
            book.put(f"{study}.reliability.{c}.{col}", r[col], "bounded", 2, _src(path, f"construct={c}", col))
    first_order = df[df["construct"].astype(str).isin(_first_order_constructs(book, study, df))]
    for col in ("alpha", "cr", "ave"):
        book.put(f"{study}.reliability.range.{col}_min", first_order[col].min(), "bounded", 2, _src(path, "", f"min {col}"))
        book.put(f"{study}.reliability.range.{col}_max", first_order[col].max(), "bounded", 2, _src(path, "", f"max {col}"))


def _first_order_constructs(book, study, df):
    so = book.config.get("second_order") or {}
    return [c for c in df["construct"].astype(str) if c != so.get("factor")]


def _coef(book: NumberBook, prefix: str, row, path, where: str) -> None:
    for col, kind, dec in (("b", "num", 3), ("se", "num", 3), ("t", "num", 2), ("p", "p", 3), ("beta", "bounded", 2)):
        if col in row.index:
            book.put(f"{prefix}.{col}", row[col], kind, dec, _src(path, where, col))
    book.put_ci(f"{prefix}.ci", row["ci_low"], row["ci_high"], 3, source=_src(path, where, "ci_low, ci_high"))


def study1_numbers(book: NumberBook, tables: dict, summary: dict, summary_path: str) -> None:
    s = summary
    sp = summary_path
    for key in ("n_interviews", "n_companies", "n_segments_primary", "n_codes_used"):
        if key in s:
            book.put(f"study1.{key}", s[key], "int", source=_src(sp, "", key))
    if s.get("saturation_position") is not None:
        book.put("study1.saturation.position", s["saturation_position"], "int", source=_src(sp, "", "saturation_position"))
        book.put_text("study1.saturation.interview", str(s["saturation_interview"]), _src(sp, "", "saturation_interview"))
    book.put("study1.saturation.k", s.get("saturation_k"), "int", source=_src(sp, "", "saturation_k"))
    if "study1_coding_summary" in tables:
        path = tables["study1_coding_summary"]
        df = read_table(path)
        book.put("study1.n_codes_codebook", len(df), "int", source=_src(path, "", "rows"))
        for kind in sorted(set(df["kind"].astype(str))):
            book.put(f"study1.codes_by_kind.{kind}", int((df["kind"] == kind).sum()), "int", source=_src(path, f"kind={kind}", "rows"))
    if "study1_reliability" in tables:
        path = tables["study1_reliability"]
        df = read_table(path)
        for _, r in df.iterrows():
            book.put(f"study1.reliability.{r['statistic']}", r["value"], "bounded", 2, _src(path, f"statistic={r['statistic']}", "value"))
        book.put("study1.reliability.n_units", df["n_units"].iloc[0], "int", source=_src(path, "", "n_units"))
    if "study1_qdpx_crosscheck" in tables:
        path = tables["study1_qdpx_crosscheck"]
        df = read_table(path)
        book.put("study1.qdpx.tables_compared", len(df), "int", source=_src(path, "", "rows"))
        book.put("study1.qdpx.tables_identical", int(df["identical"].astype(bool).sum()), "int", source=_src(path, "identical=True", "rows"))


def study2_numbers(book: NumberBook, tables: dict, explore: dict, explore_path: str, config: dict) -> None:
    if "study2_flow" in tables:
        _flow(book, "study2", tables["study2_flow"])
    ep = explore_path
    e = explore
    book.put("study2.efa.n", e.get("n_efa"), "int", source=_src(ep, "", "n_efa"))
    book.put("study2.efa.kmo", e.get("kmo"), "bounded", 2, _src(ep, "", "kmo"))
    book.put("study2.efa.bartlett.chi2", e.get("bartlett_chi2"), "num", 2, _src(ep, "", "bartlett_chi2"))
    book.put("study2.efa.bartlett.df", e.get("bartlett_df"), "int", source=_src(ep, "", "bartlett_df"))
    book.put("study2.efa.bartlett.p", e.get("bartlett_p"), "p", 3, _src(ep, "", "bartlett_p"))
    book.put("study2.efa.parallel_factors", e.get("parallel_analysis_factors"), "int", source=_src(ep, "", "parallel_analysis_factors"))
    book.put("study2.efa.factors", e.get("factors_extracted"), "int", source=_src(ep, "", "factors_extracted"))
    book.put("study2.scale.pool", e.get("items_in_pool"), "int", source=_src(ep, "", "items_in_pool"))
    book.put("study2.scale.retained", e.get("items_retained"), "int", source=_src(ep, "", "items_retained"))
    removed = list(e.get("items_removed") or [])
    book.put("study2.scale.removed", len(removed), "int", source=_src(ep, "", "items_removed (count)"))
    book.put_text("study2.scale.removed_list", ", ".join(removed) if removed else "none", _src(ep, "", "items_removed"))

    s2 = config["study2"]
    pur, thr, pa, efa = s2.get("purification", {}), s2.get("thresholds", {}), s2.get("parallel_analysis", {}), s2.get("efa", {})
    for key in ("min_loading", "max_cross_loading", "min_item_total"):
        if pur.get(key) is not None:
            book.put(f"study2.thresholds.{key}", pur[key], "bounded", 2, f"config:study2.purification.{key}")
    for key in ("alpha", "cr", "ave", "harman_share"):
        if thr.get(key) is not None:
            book.put(f"study2.thresholds.{key}", thr[key], "bounded", 2, f"config:study2.thresholds.{key}")
    if thr.get("htmt") is not None:
        book.put("study2.thresholds.htmt", thr["htmt"], "num", 2, "config:study2.thresholds.htmt")
    if pa.get("n_sims") is not None:
        book.put("study2.efa.pa_sims", pa["n_sims"], "int", source="config:study2.parallel_analysis.n_sims")
        book.put("study2.efa.pa_percentile", pa["percentile"], "int", source="config:study2.parallel_analysis.percentile")
    book.put_text("study2.efa.method", str(efa.get("method", "")).upper() if efa.get("method") == "ml" else str(efa.get("method", "")), "config:study2.efa.method")
    book.put_text("study2.efa.rotation", str(efa.get("rotation", "")), "config:study2.efa.rotation")

    if "study2_fit" in tables:
        path = tables["study2_fit"]
        df = read_table(path)
        for _, r in df.iterrows():
            _fit_row(book, f"study2.cfa.{r['model']}", r, path, f"model={r['model']}")
        book.put("study2.cfa.n", df["n"].iloc[0], "int", source=_src(path, "", "n"))
    if "study2_comparisons" in tables:
        path = tables["study2_comparisons"]
        df = read_table(path)
        for _, r in df[df["p"].notna()].iterrows():
            where = f"restricted={r['restricted']}, full={r['full']}"
            key = f"study2.cfa.compare.{r['restricted']}_vs_{r['full']}"
            book.put(f"{key}.delta_chi2", r["delta_chi2"], "num", 2, _src(path, where, "delta_chi2"))
            book.put(f"{key}.delta_df", r["delta_df"], "int", source=_src(path, where, "delta_df"))
            book.put(f"{key}.p", r["p"], "p", 3, _src(path, where, "p"))
    if "study2_reliability" in tables:
        _reliability(book, "study2", tables["study2_reliability"])
    for table, key, col in (
        ("study2_loadings", "study2.loadings", "std_all"),
        ("study2_second_order_loadings", "study2.second_order", "std_all"),
        ("study2_factor_correlations", "study2.factor_r", "r"),
    ):
        if table in tables:
            path = tables[table]
            df = read_table(path)
            book.put(f"{key}.min", df[col].min(), "bounded", 2, _src(path, "", f"min {col}"))
            book.put(f"{key}.max", df[col].max(), "bounded", 2, _src(path, "", f"max {col}"))
    if "study2_fornell_larcker" in tables:
        path = tables["study2_fornell_larcker"]
        df = read_table(path).set_index("construct")
        passed = 0
        for c in df.index:
            others = [abs(df.loc[c, o]) for o in df.columns if o != c]
            passed += int(bool(others) and df.loc[c, c] > max(others))
        book.put("study2.fornell_larcker.passed", passed, "int", source=_src(path, "", "diagonal > |off-diagonal| (rows)"))
        book.put("study2.fornell_larcker.constructs", len(df), "int", source=_src(path, "", "rows"))
    _column_max(book, tables, "study2_htmt", "study2.htmt.max", "htmt")
    if "study2_common_method" in tables:
        path = tables["study2_common_method"]
        df = read_table(path)
        r = df[df["check"].astype(str).str.startswith("Harman")]
        if len(r):
            book.put("study2.harman_share", r["value"].iloc[0], "bounded", 2, _src(path, "check=Harman's ...", "value"))


def study3_numbers(book: NumberBook, tables: dict, config: dict) -> None:
    s3 = config["study3"]
    focal = s3["focal"]
    if "study3_flow" in tables:
        _flow(book, "study3", tables["study3_flow"])
    if "study3_measurement_fit" in tables:
        path = tables["study3_measurement_fit"]
        df = read_table(path)
        r = df.iloc[0]
        _fit_row(book, "study3.measurement", r, path, f"model={r['model']}")
    if "study3_reliability" in tables:
        _reliability(book, "study3", tables["study3_reliability"])
    _column_max(book, tables, "study3_htmt", "study3.htmt.max", "htmt")
    _column_max(book, tables, "study3_vif", "study3.vif.max", "vif")
    if "study3_marker" in tables:
        path = tables["study3_marker"]
        df = read_table(path)
        book.put("study3.marker.r_m", df["r_m"].iloc[0], "bounded", 2, _src(path, "", "r_m"))
    book.put("study3.bootstrap.replicates", s3.get("bootstrap", {}).get("replicates"), "int", source="config:study3.bootstrap.replicates")

    for mod in s3.get("moderators", []):
        m = f"study3.moderators.{mod}"
        inter = f"{focal}_x_{mod}"
        if "study3_summary" in tables:
            path = tables["study3_summary"]
            df = read_table(path)
            df = df[(df["moderator"].astype(str) == mod) & (df["model"].astype(str) == "composite")]
            for _, r in df.iterrows():
                k, where = f"{m}.steps.step{int(r['step'])}", f"moderator={mod}, model=composite, step={int(r['step'])}"
                book.put(f"{k}.r2", r["r2"], "bounded", 3, _src(path, where, "r2"))
                book.put(f"{k}.delta_r2", r["delta_r2"], "bounded", 3, _src(path, where, "delta_r2"))
                book.put(f"{k}.f_change", r["f_change"], "num", 2, _src(path, where, "f_change"))
                book.put(f"{k}.df1", r["df1"], "int", source=_src(path, where, "df1"))
                book.put(f"{k}.df2", r["df2"], "int", source=_src(path, where, "df2"))
                book.put(f"{k}.p", r["p_f_change"], "p", 3, _src(path, where, "p_f_change"))
            if len(df):
                last = df.sort_values("step").iloc[-1]
                book.put(f"{m}.n", last["n"], "int", source=_src(path, f"moderator={mod}, final step", "n"))
                book.put(f"{m}.final_r2", last["r2"], "bounded", 3, _src(path, f"moderator={mod}, final step", "r2"))
                book.put(f"{m}.final_step", int(last["step"]), "int", source=_src(path, f"moderator={mod}", "max step"))
        if "study3_coefficients" in tables:
            path = tables["study3_coefficients"]
            df = read_table(path)
            df = df[(df["moderator"].astype(str) == mod) & (df["model"].astype(str) == "composite")]
            final = df[df["step"] == df["step"].max()]
            for term, key in ((focal, "focal"), (mod, "moderator"), (inter, "interaction")):
                r = _row(final, term=term)
                if r is not None:
                    _coef(book, f"{m}.{key}", r, path, f"moderator={mod}, final step, term={term}")
        if "study3_simple_slopes" in tables:
            path = tables["study3_simple_slopes"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for at, key in (("-1 SD", "low"), ("mean", "mean"), ("+1 SD", "high")):
                r = _row(df, at=at)
                if r is None:
                    continue
                where = f"moderator={mod}, at={at}"
                book.put(f"{m}.slopes.{key}.slope", r["slope"], "num", 3, _src(path, where, "slope"))
                book.put(f"{m}.slopes.{key}.p", r["p"], "p", 3, _src(path, where, "p"))
                book.put_ci(f"{m}.slopes.{key}.ci", r["ci_low"], r["ci_high"], 3, source=_src(path, where, "ci_low, ci_high"))
        if "study3_johnson_neyman" in tables:
            path = tables["study3_johnson_neyman"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            if len(df):
                book.put_text(f"{m}.jn.region", str(df["region"].iloc[0]), _src(path, f"moderator={mod}", "region"))
            book.put(f"{m}.jn.bounds_in_range", int(df["in_observed_range"].astype(bool).sum()), "int", source=_src(path, f"moderator={mod}", "in_observed_range (count)"))
            for _, r in df.iterrows():
                b, where = int(r["bound"]), f"moderator={mod}, bound={int(r['bound'])}"
                book.put(f"{m}.jn.bounds.b{b}.raw", r["value_raw"], "num", 2, _src(path, where, "value_raw"))
                book.put_text(f"{m}.jn.bounds.b{b}.in_range", "yes" if bool(r["in_observed_range"]) else "no", _src(path, where, "in_observed_range"))
        if "study3_bootstrap_ci" in tables:
            path = tables["study3_bootstrap_ci"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for stat in ("b_focal", "b_interaction"):
                r = _row(df, stat=stat)
                if r is None:
                    continue
                where = f"moderator={mod}, stat={stat}"
                book.put_ci(f"{m}.bootstrap.{stat}.bca", r["bca_low"], r["bca_high"], 3, source=_src(path, where, "bca_low, bca_high"))
                book.put_ci(f"{m}.bootstrap.{stat}.percentile", r["pct_low"], r["pct_high"], 3, source=_src(path, where, "pct_low, pct_high"))
                book.put(f"{m}.bootstrap.n_boot", r["n_boot"], "int", source=_src(path, where, "n_boot"))
        if "study3_sem_fit" in tables:
            path = tables["study3_sem_fit"]
            r = _row(read_table(path), moderator=mod)
            if r is not None:
                for col, kind, dec in (("n", "int", 0), ("chi2", "num", 2), ("df", "int", 0), ("cfi", "bounded", 3), ("tli", "bounded", 3), ("rmsea", "bounded", 3)):
                    book.put(f"{m}.sem.{col}", r[col], kind, dec, _src(path, f"moderator={mod}", col))
        if "study3_sem_paths" in tables:
            path = tables["study3_sem_paths"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for term, key in ((focal, "focal"), (inter, "interaction")):
                r = _row(df, term=term)
                if r is not None:
                    where = f"moderator={mod}, term={term}"
                    book.put(f"{m}.sem.{key}.beta", r["std_estimate"], "bounded", 2, _src(path, where, "std_estimate"))
                    book.put(f"{m}.sem.{key}.p", r["p"], "p", 3, _src(path, where, "p"))
    if "study3_hypotheses" in tables:
        path = tables["study3_hypotheses"]
        df = read_table(path)
        book.put("study3.hypotheses.supported", int(df["supported"].astype(bool).sum()), "int", source=_src(path, "supported=True", "rows"))
        book.put("study3.hypotheses.total", len(df), "int", source=_src(path, "", "rows"))
        for _, r in df.iterrows():
            h = str(r["hypothesis"])
            where = f"hypothesis={h}"
            book.put_text(f"study3.hypotheses.{h}.verdict", "supported" if bool(r["supported"]) else "not supported", _src(path, where, "supported"))
            book.put(f"study3.hypotheses.{h}.b", r["b"], "num", 3, _src(path, where, "b"))
            book.put(f"study3.hypotheses.{h}.p", r["p"], "p", 3, _src(path, where, "p"))


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
        book.put("model.second_order.n_dimensions", len(so["dimensions"]), "int", source="config:second_order.dimensions")
    s3 = config.get("study3") if "study3" in config["studies"] else None
    if s3:
        for role in ("focal", "outcome"):
            name = s3[role]
            label = so.get("label", name) if so and name == so["factor"] else labels.get(name, name)
            book.put_text(f"model.{role}.name", name, f"config:study3.{role}")
            book.put_text(f"model.{role}.label", label, f"config:study3.{role} (label)")
        for k, mod in enumerate(s3.get("moderators", [])):
            book.put_text(f"model.moderators.{mod}.label", labels.get(mod, mod), f"config:study3.moderators[{k}] (label)")


def collect_numbers(config: dict, tables: dict, summaries: dict, *, synthetic: bool) -> dict:
    """``tables``: {name: csv path}; ``summaries``: {'study1': path, 'study2_explore': path, ...}."""
    book = NumberBook(config)
    studies = list(config["studies"])
    model_labels(book, config)
    if "study1" in studies and "study1" in summaries:
        study1_numbers(book, tables, _load(summaries["study1"]), summaries["study1"])
    if "study2" in studies and "study2_explore" in summaries:
        study2_numbers(book, tables, _load(summaries["study2_explore"]), summaries["study2_explore"], config)
    if "study3" in studies:
        study3_numbers(book, tables, config)
    out = {"synthetic": bool(synthetic), "studies": studies, "count": book.count(), "numbers": book.data}
    if synthetic:
        out["data_note"] = SYNTHETIC_NOTE
    return out


def _load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_numbers(obj: dict, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
