"""How Study 2 is presented: one spec per table (in appendix order) and a title per figure."""

from __future__ import annotations

import pandas as pd

from crfm.data.tables import read_table
from crfm.report.numbers import (
    NumberBook,
    column_max,
    estimation_numbers,
    fit_numbers,
    flow_numbers,
    load_json,
    reliability_numbers,
    source,
)
from crfm.report.specs.common import (
    EXCLUSIONS_COLS,
    FIT,
    FIT_NOTE,
    FLOW,
    INVARIANCE,
    LOADINGS,
    MODEL_NAMES,
    MODINDICES,
    RELIABILITY,
    SECOND_ORDER,
    Col,
    TableSpec,
    ci,
)

PREFIX = "2"
CATEGORY = "Study 2"  # the Snakemake report's category of its tables and figures

TABLES: dict[str, TableSpec] = {
    "study2_flow": TableSpec("Respondent flow", FLOW),
    "study2_exclusions": TableSpec("Excluded respondents", EXCLUSIONS_COLS, rest=Col("", fmt="text"), keep_order=True),
    "study2_item_analysis": TableSpec(
        "Item analysis of the item pool",
        (
            Col("construct", "Construct", group=True),
            Col("construct_alpha", "Scale *α*", "bounded", 2, group=True),
            Col("construct_n", "Scale *n*", "int", group=True),
            Col("item", "Item"),
            Col("n", "*n*", "int"),
            Col("missing_share", "Missing", "bounded", 3),
            Col("mean", "*M*", "num", 2),
            Col("sd", "*SD*", "num", 2),
            Col("skewness", "Skewness", "num", 2),
            Col("kurtosis_excess", "Kurtosis", "num", 2),
            Col("item_total_r", "Item-total *r*", "bounded", 2),
            Col("alpha_if_deleted", "*α* if deleted", "bounded", 2),
        ),
    ),
    "study2_kmo": TableSpec("Sampling adequacy (KMO) per item", (Col("item", "Item"), Col("msa", "MSA", "bounded", 2))),
    "study2_factorability": TableSpec(
        "Factorability of the item pool",
        (
            Col("statistic", "Statistic", wide=True, display="rich"),
            Col(
                "value",
                "Value",
                "num",
                2,
                row_key="statistic",
                row_fmt=(("KMO", "bounded", 2), ("Bartlett", "num", 2), ("", "int", 0)),
            ),
            Col("df", "*df*", "int"),
            Col("p", "*p*", "p"),
        ),
    ),
    "study2_parallel_analysis": TableSpec(
        "Parallel analysis",
        (
            Col("position", "Factor", "int"),
            Col("observed", "Observed eigenvalue", "num", 2),
            Col("simulated_mean", "Simulated mean", "num", 2),
            Col("simulated_percentile", "Simulated percentile", "num", 2),
            Col("retain", "Retain", "bool"),
        ),
    ),
    "study2_efa_loadings": TableSpec(
        "Exploratory factor analysis: pattern loadings",
        (
            Col("item", "Item"),
            Col("construct", "Construct"),
            Col("communality", "*h*²", "bounded", 2),
            Col("retained", "Retained", "bool"),
        ),
        rest=Col("", fmt="bounded", dec=2),
        keep_order=True,
    ),
    "study2_efa_factor_correlations": TableSpec(
        "Exploratory factor analysis: factor correlations",
        (Col("factor", "Factor"),),
        rest=Col("", fmt="bounded", dec=2),
        triangle=True,
    ),
    "study2_efa_variance": TableSpec(
        "Exploratory factor analysis: variance explained",
        (
            Col("factor", "Factor"),
            Col("ss_loadings", "SS loadings", "num", 2),
            Col("proportion", "Proportion", "bounded", 3),
            Col("cumulative", "Cumulative", "bounded", 3),
        ),
    ),
    "study2_purification": TableSpec(
        "Scale purification, step by step",
        (
            Col("step", "Step", "int"),
            Col("item", "Item removed"),
            Col("construct", "Construct"),
            Col("rule", "Rule", display="rule"),
            Col("factor", "Factor"),
            Col("primary_loading", "Primary loading", "bounded", 2),
            Col("cross_loading", "Cross-loading", "bounded", 2),
            Col("cross_factor", "Cross factor"),
            Col("item_total_r", "Item-total *r*", "bounded", 2),
            Col("n_items_after", "Items left", "int"),
        ),
    ),
    "study2_fit": TableSpec("Confirmatory factor analysis: fit of rival models", FIT, extra_notes=(FIT_NOTE,)),
    "study2_comparisons": TableSpec(
        "Chi-square difference tests of nested models",
        (
            Col("restricted", "Restricted model", values=MODEL_NAMES),
            Col("full", "Full model", values=MODEL_NAMES),
            Col("delta_chi2", "Δ*χ*²", "num", 2),
            Col("delta_df", "Δ*df*", "int"),
            Col("p", "*p*", "p"),
            Col("note", "Remark", wide=True, display="rich"),
        ),
    ),
    "study2_loadings": TableSpec(
        "Confirmatory factor analysis: loadings of the correlated-factors model",
        LOADINGS + (Col("text", "Item wording", wide=True),),
        extra_notes=(
            "Unstd. = unstandardized loading (the first item of each factor fixed to 1); Std. = standardized loading.",
        ),
    ),
    "study2_factor_correlations": TableSpec(
        "Confirmatory factor analysis: factor correlations",
        (
            Col("factor_a", "Factor A"),
            Col("factor_b", "Factor B"),
            Col("r", "*r*", "bounded", 2),
            Col("se", "*SE*", "num", 2),
            ci("ci_lower", "ci_upper", "95% CI", 2, bounded=True),
        ),
    ),
    "study2_modindices": TableSpec("Confirmatory factor analysis: largest modification indices", MODINDICES),
    "study2_second_order_loadings": TableSpec("Second-order factor loadings", SECOND_ORDER),
    "study2_reliability": TableSpec(
        "Reliability and convergent validity",
        (
            *RELIABILITY,
            Col("alpha_pass", "*α* passes", "bool"),
            Col("cr_pass", "CR passes", "bool"),
            Col("ave_pass", "AVE passes", "bool"),
        ),
        extra_notes=("CR = composite reliability; AVE = average variance extracted.",),
    ),
    "study2_fornell_larcker": TableSpec(
        "Discriminant validity: Fornell-Larcker criterion",
        (Col("construct", "Construct"),),
        rest=Col("", fmt="bounded", dec=2),
        triangle=True,
    ),
    "study2_htmt": TableSpec(
        "Discriminant validity: heterotrait-monotrait ratios",
        (
            Col("construct_a", "Construct A"),
            Col("construct_b", "Construct B"),
            Col("htmt", "HTMT", "num", 2),
            Col("pass", "Passes", "bool"),
        ),
    ),
    "study2_common_method": TableSpec(
        "Common-method variance checks",
        (
            Col("check", "Check", wide=True, display="rich"),
            Col(
                "value",
                "Value",
                "num",
                2,
                row_key="check",
                row_fmt=(("Harman", "bounded", 2), ("One-factor CFA: CFI", "bounded", 3), ("", "num", 2)),
            ),
            Col("threshold", "Criterion", display="rich"),
            Col("pass", "Passes", "bool"),
        ),
    ),
    "study2_scale_items": TableSpec(
        "The purified scale: items, standardized loadings and reliability",
        (
            Col("construct", "Construct", group=True),
            Col("alpha", "*α*", "bounded", 2, group=True),
            Col("cr", "CR", "bounded", 2, group=True),
            Col("ave", "AVE", "bounded", 2, group=True),
            Col("item", "Item"),
            Col("text", "Item wording", wide=True),
            Col("loading", "Loading", "bounded", 2),
            ci("ci_lower", "ci_upper", "95% CI", 2, bounded=True),
        ),
    ),
    "study2_missing_patterns": TableSpec(
        "Missing answers: patterns in the confirmatory sample",
        (Col("n", "*n*", "int"), Col("n_observed", "Items answered", "int")),
        rest=Col("", fmt="int"),
    ),
    "study2_coverage": TableSpec(
        "Missing answers: coverage per item", (Col("item", "Item"), Col("coverage", "Share answered", "bounded", 3))
    ),
    "study2_invariance": TableSpec("Measurement invariance across groups", INVARIANCE),
}

FIGURES: dict[str, str] = {
    "study2_scree": "Scree plot with parallel analysis",
    "study2_efa_loadings": "Exploratory factor analysis: pattern loadings",
}


# --- numbers the running text quotes (numbers.json) ---------------------------------------------------


def numbers(book: NumberBook, tables: dict, summaries: dict, config: dict) -> None:
    """Study 2's numbers: the exploratory stage from explore_summary.json, the rest from the tables."""
    explore_path = summaries["study2_explore"]
    explore = load_json(explore_path)
    if "study2_flow" in tables:
        flow_numbers(book, "study2", tables["study2_flow"])
    ep = explore_path
    e = explore
    book.put("study2.efa.n", e.get("n_efa"), "int", source=source(ep, "", "n_efa"))
    book.put("study2.efa.kmo", e.get("kmo"), "bounded", 2, source(ep, "", "kmo"))
    book.put("study2.efa.bartlett.chi2", e.get("bartlett_chi2"), "num", 2, source(ep, "", "bartlett_chi2"))
    book.put("study2.efa.bartlett.df", e.get("bartlett_df"), "int", source=source(ep, "", "bartlett_df"))
    book.put("study2.efa.bartlett.p", e.get("bartlett_p"), "p", 3, source(ep, "", "bartlett_p"))
    book.put(
        "study2.efa.parallel_factors",
        e.get("parallel_analysis_factors"),
        "int",
        source=source(ep, "", "parallel_analysis_factors"),
    )
    book.put("study2.efa.factors", e.get("factors_extracted"), "int", source=source(ep, "", "factors_extracted"))
    book.put("study2.scale.pool", e.get("items_in_pool"), "int", source=source(ep, "", "items_in_pool"))
    book.put("study2.scale.retained", e.get("items_retained"), "int", source=source(ep, "", "items_retained"))
    removed = list(e.get("items_removed") or [])
    book.put("study2.scale.removed", len(removed), "int", source=source(ep, "", "items_removed (count)"))
    book.put_text(
        "study2.scale.removed_list", ", ".join(removed) if removed else "none", source(ep, "", "items_removed")
    )

    s2 = config["study2"]
    pur, thr, pa, efa = (
        s2.get("purification", {}),
        s2.get("thresholds", {}),
        s2.get("parallel_analysis", {}),
        s2.get("efa", {}),
    )
    for key in ("min_loading", "max_cross_loading", "min_item_total"):
        if pur.get(key) is not None:
            book.put(f"study2.thresholds.{key}", pur[key], "bounded", 2, f"config:study2.purification.{key}")
    for key in ("alpha", "cr", "ave", "harman_share"):
        if thr.get(key) is not None:
            book.put(f"study2.thresholds.{key}", thr[key], "bounded", 2, f"config:study2.thresholds.{key}")
    if thr.get("htmt") is not None:
        book.put("study2.thresholds.htmt", thr["htmt"], "num", 2, "config:study2.thresholds.htmt")
    pa_method = pa.get("method", "pca")
    book.put_text(
        "study2.efa.pa_basis",
        "principal-component eigenvalues"
        if pa_method == "pca"
        else "eigenvalues of the reduced correlation matrix (squared multiple correlations on the diagonal, common-factor model)",
        "config:study2.parallel_analysis.method",
    )
    if pa.get("n_sims") is not None:
        book.put("study2.efa.pa_sims", pa["n_sims"], "int", source="config:study2.parallel_analysis.n_sims")
        book.put(
            "study2.efa.pa_percentile", pa["percentile"], "int", source="config:study2.parallel_analysis.percentile"
        )
    book.put_text(
        "study2.efa.method",
        str(efa.get("method", "")).upper() if efa.get("method") == "ml" else str(efa.get("method", "")),
        "config:study2.efa.method",
    )
    book.put_text("study2.efa.rotation", str(efa.get("rotation", "")), "config:study2.efa.rotation")

    estimation_numbers(book, "study2", config)
    split = s2.get("split") or {}
    book.put_text("study2.split.enabled", "yes" if split.get("enabled") else "no", "config:study2.split.enabled")
    book.put("study2.n_analysed", e.get("n_analysed"), "int", source=source(ep, "", "n_analysed"))
    if "study2_fit" in tables:
        path = tables["study2_fit"]
        df = read_table(path)
        for _, r in df.iterrows():
            fit_numbers(book, f"study2.cfa.{r['model']}", r, path, f"model={r['model']}")
        book.put("study2.cfa.n", df["n"].iloc[0], "int", source=source(path, "", "n"))
    if "study2_modindices" in tables:
        path = tables["study2_modindices"]
        df = read_table(path)
        if len(df):
            r = df.iloc[0]
            book.put("study2.modindices.max", r["mi"], "num", 2, source(path, "first row", "mi"))
            book.put_text(
                "study2.modindices.max_parameter",
                f"{r['lhs']} {r['op']} {r['rhs']}",
                source(path, "first row", "lhs, op, rhs"),
            )
    if "study2_invariance" in tables:
        path = tables["study2_invariance"]
        df = read_table(path)
        held = [str(s) for s, v in zip(df["step"], df["verdict"].astype(str)) if v.startswith("holds")]
        book.put_text(
            "study2.invariance.highest",
            held[-1] if held else "configural only",
            source(path, "verdict = holds", "step (last)"),
        )
        for _, r in df.iterrows():
            step = str(r["step"])
            fit_numbers(book, f"study2.invariance.{step}", r, path, f"step={step}")
            if pd.notna(r.get("delta_cfi")):
                book.put(
                    f"study2.invariance.{step}.delta_cfi",
                    r["delta_cfi"],
                    "num",
                    3,
                    source(path, f"step={step}", "delta_cfi"),
                )
                book.put(
                    f"study2.invariance.{step}.delta_rmsea",
                    r["delta_rmsea"],
                    "num",
                    3,
                    source(path, f"step={step}", "delta_rmsea"),
                )
                book.put(
                    f"study2.invariance.{step}.delta_chi2",
                    r["delta_chi2"],
                    "num",
                    2,
                    source(path, f"step={step}", "delta_chi2"),
                )
                book.put(
                    f"study2.invariance.{step}.delta_df",
                    r["delta_df"],
                    "int",
                    source=source(path, f"step={step}", "delta_df"),
                )
                book.put(
                    f"study2.invariance.{step}.delta_p", r["delta_p"], "p", 3, source(path, f"step={step}", "delta_p")
                )
        inv = s2.get("invariance") or {}
        book.put_text(
            "study2.invariance.group",
            "the calibration and validation halves"
            if inv.get("group") == "sample"
            else f"the groups of '{inv.get('group')}'",
            "config:study2.invariance.group",
        )
    if "study2_comparisons" in tables:
        path = tables["study2_comparisons"]
        df = read_table(path)
        for _, r in df[df["p"].notna()].iterrows():
            where = f"restricted={r['restricted']}, full={r['full']}"
            key = f"study2.cfa.compare.{r['restricted']}_vs_{r['full']}"
            book.put(f"{key}.delta_chi2", r["delta_chi2"], "num", 2, source(path, where, "delta_chi2"))
            book.put(f"{key}.delta_df", r["delta_df"], "int", source=source(path, where, "delta_df"))
            book.put(f"{key}.p", r["p"], "p", 3, source(path, where, "p"))
    if "study2_reliability" in tables:
        reliability_numbers(book, "study2", tables["study2_reliability"])
    for table, key, col in (
        ("study2_loadings", "study2.loadings", "std_all"),
        ("study2_second_order_loadings", "study2.second_order", "std_all"),
        ("study2_factor_correlations", "study2.factor_r", "r"),
    ):
        if table in tables:
            path = tables[table]
            df = read_table(path)
            book.put(f"{key}.min", df[col].min(), "bounded", 2, source(path, "", f"min {col}"))
            book.put(f"{key}.max", df[col].max(), "bounded", 2, source(path, "", f"max {col}"))
    if "study2_fornell_larcker" in tables:
        path = tables["study2_fornell_larcker"]
        df = read_table(path).set_index("construct")
        passed = 0
        for c in df.index:
            others = [abs(df.loc[c, o]) for o in df.columns if o != c]
            passed += int(bool(others) and df.loc[c, c] > max(others))
        book.put(
            "study2.fornell_larcker.passed", passed, "int", source=source(path, "", "diagonal > |off-diagonal| (rows)")
        )
        book.put("study2.fornell_larcker.constructs", len(df), "int", source=source(path, "", "rows"))
    column_max(book, tables, "study2_htmt", "study2.htmt.max", "htmt")
    if "study2_common_method" in tables:
        path = tables["study2_common_method"]
        df = read_table(path)
        r = df[df["check"].astype(str).str.startswith("Harman")]
        if len(r):
            book.put(
                "study2.harman_share", r["value"].iloc[0], "bounded", 2, source(path, "check=Harman's ...", "value")
            )
