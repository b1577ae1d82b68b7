"""How Study 3 is presented: one spec per table (in appendix order) and a title per figure."""

from __future__ import annotations

from crfm.data.tables import read_table
from crfm.report.numbers import (
    FIT_COLS,
    NumberBook,
    coef_numbers,
    column_max,
    estimation_numbers,
    fit_numbers,
    flow_numbers,
    reliability_numbers,
    row_where,
    source,
)
from crfm.report.specs.common import (
    COEF_NOTE,
    COEFS,
    EXCLUSIONS_COLS,
    FIT,
    FIT_NOTE,
    FLOW,
    LOADINGS,
    MODERATOR,
    RELIABILITY,
    SECOND_ORDER,
    SUMMARY,
    Col,
    TableSpec,
    ci,
)

PREFIX = "3"
CATEGORY = "Study 3"  # the Snakemake report's category of its tables and figures

TABLES: dict[str, TableSpec] = {
    "study3_flow": TableSpec("Respondent flow", FLOW),
    "study3_exclusions": TableSpec("Excluded respondents", EXCLUSIONS_COLS, rest=Col("", fmt="text"), keep_order=True),
    "study3_measurement_fit": TableSpec("Measurement model: fit", FIT, extra_notes=(FIT_NOTE,)),
    "study3_measurement_loadings": TableSpec("Measurement model: loadings", LOADINGS),
    "study3_second_order_loadings": TableSpec("Measurement model: second-order loadings", SECOND_ORDER),
    "study3_reliability": TableSpec(
        "Measurement model: reliability and convergent validity",
        RELIABILITY,
        extra_notes=("CR = composite reliability; AVE = average variance extracted.",),
    ),
    "study3_htmt": TableSpec(
        "Measurement model: heterotrait-monotrait ratios",
        (
            Col("construct_a", "Construct A"),
            Col("construct_b", "Construct B"),
            Col("htmt", "HTMT", "num", 2),
            Col("pass", "Passes", "bool"),
        ),
    ),
    "study3_descriptives": TableSpec(
        "Descriptive statistics of the composite scores",
        (
            Col("variable", "Variable", display="variable"),
            Col("n", "*n*", "int"),
            Col("mean", "*M*", "num", 2),
            Col("sd", "*SD*", "num", 2),
        ),
    ),
    "study3_fornell_larcker": TableSpec(
        "Discriminant validity: Fornell-Larcker criterion (latent correlations)",
        (Col("construct", "Construct"),),
        rest=Col("", fmt="bounded", dec=2),
        triangle=True,
    ),
    "study3_correlations": TableSpec(
        "Correlations of the composite scores",
        (Col("variable", "Variable", display="variable"),),
        rest=Col("", fmt="bounded", dec=2),
        triangle=True,
    ),
    "study3_marker": TableSpec(
        "Marker-variable adjustment (Lindell-Whitney)",
        (
            Col("var1", "Variable 1"),
            Col("var2", "Variable 2"),
            Col("n", "*n*", "int"),
            Col("r", "*r*", "bounded", 2),
            Col("p_raw", "*p*", "p"),
            Col("r_adj", "*r* (adj.)", "bounded", 2),
            Col("p_adj", "*p* (adj.)", "p"),
        ),
    ),
    "study3_coefficients": TableSpec(
        "Hierarchical moderated regression on selling performance", COEFS, extra_notes=(COEF_NOTE,)
    ),
    "study3_summary": TableSpec("Hierarchical moderated regression: model summary", SUMMARY),
    "study3_vif": TableSpec(
        "Variance inflation factors of the final model",
        (MODERATOR, Col("term", "Term", display="term"), Col("vif", "VIF", "num", 2)),
    ),
    "study3_dimension_coefficients": TableSpec("Dimension-level moderated regression", COEFS, extra_notes=(COEF_NOTE,)),
    "study3_dimension_summary": TableSpec("Dimension-level moderated regression: model summary", SUMMARY),
    "study3_indicator_models": TableSpec(
        "Final model for each selling-performance indicator",
        (
            MODERATOR,
            Col("outcome", "Outcome", group=True),
            Col("n", "*n*", "int", group=True),
            Col("r2", "*R*²", "bounded", 3, group=True),
            Col("term", "Term", display="term"),
            Col("b", "*b*", "num", 3),
            Col("se", "*SE*", "num", 3),
            Col("p", "*p*", "p"),
            ci("ci_lower", "ci_upper", "95% CI", 3),
            Col("beta", "*β*", "bounded", 2),
        ),
        extra_notes=(COEF_NOTE,),
    ),
    "study3_simple_slopes": TableSpec(
        "Simple slopes of the focal construct",
        (
            MODERATOR,
            Col("at", "Moderator at"),
            Col("moderator_raw", "Moderator value", "num", 2),
            Col("slope", "Slope", "num", 3),
            Col("se", "*SE*", "num", 3),
            Col("t", "*t*", "num", 2),
            Col("df", "*df*", "int"),
            Col("p", "*p*", "p"),
            ci("ci_lower", "ci_upper", "95% CI", 3),
        ),
    ),
    "study3_johnson_neyman": TableSpec(
        "Johnson-Neyman region of significance",
        (
            MODERATOR,
            Col("bound", "Bound", "int"),
            Col("value", "Centred value", "num", 2),
            Col("value_raw", "Raw value", "num", 2),
            Col("in_observed_range", "In observed range", "bool"),
            Col("t_crit", "*t* critical", "num", 2),
            Col("region", "Region"),
        ),
    ),
    "study3_bootstrap_ci": TableSpec(
        "Bootstrap confidence intervals",
        (
            MODERATOR,
            Col(
                "stat",
                "Statistic",
                values={
                    "b_focal": "b (focal)",
                    "b_interaction": "b (interaction)",
                    "slope_low": "Slope at −1 SD",
                    "slope_high": "Slope at +1 SD",
                    "beta_focal": "β (focal)",
                    "beta_interaction": "β (interaction)",
                },
            ),
            Col("estimate", "Estimate", "num", 3),
            Col("n_boot", "*B*", "int"),
            Col("boot_se", "Bootstrap *SE*", "num", 3),
            Col("bias", "Bias", "num", 3),
            ci("pct_lower", "pct_upper", "Percentile 95% CI", 3),
            ci("bca_lower", "bca_upper", "BCa 95% CI", 3),
        ),
    ),
    "study3_sem_paths": TableSpec(
        "Latent moderated structural equation model: paths",
        (
            MODERATOR,
            Col("outcome", "Outcome", group=True, display="construct"),
            Col("term", "Predictor", display="term"),
            Col("estimate", "Estimate", "num", 3),
            Col("std_estimate", "*β*", "bounded", 2),
            Col("se", "*SE*", "num", 3),
            Col("z", "*z*", "num", 2),
            Col("p", "*p*", "p"),
            ci("ci_lower", "ci_upper", "95% CI", 3),
        ),
    ),
    "study3_sem_fit": TableSpec(
        "Latent moderated structural equation model: fit",
        (
            Col("moderator", "Moderator", display="construct"),
            Col("n", "*n*", "int"),
            Col("converged", "Converged", "bool"),
            Col("chi2", "*χ*²", "num", 2),
            Col("df", "*df*", "int"),
            Col("p", "*p*", "p"),
            Col("chi2_scaled", "Scaled *χ*²", "num", 2),
            Col("cfi", "CFI", "bounded", 3),
            Col("tli", "TLI", "bounded", 3),
            Col("rmsea", "RMSEA", "bounded", 3),
            ci("rmsea_ci_lower", "rmsea_ci_upper", "RMSEA 90% CI", 3, bounded=True),
            Col("cfi_robust", "Robust CFI", "bounded", 3),
            Col("rmsea_robust", "Robust RMSEA", "bounded", 3),
            Col("srmr", "SRMR", "bounded", 3),
            Col("product_indicators", "Product indicators", wide=True, display="products"),
        ),
    ),
    "study3_hypotheses": TableSpec(
        "Hypothesis tests",
        (
            Col("hypothesis", "Hypothesis"),
            Col("text", "Statement", wide=True),
            Col("b", "*b*", "num", 3),
            Col("beta", "*β*", "bounded", 2),
            Col("p", "*p*", "p"),
            ci("ci_lower", "ci_upper", "95% CI", 3),
            ci("bca_lower", "bca_upper", "BCa 95% CI", 3),
            Col("sem_std_estimate", "SEM *β*", "bounded", 2),
            Col("sem_p", "SEM *p*", "p"),
            Col("supported", "Supported", "bool"),
        ),
    ),
}

FIGURES: dict[str, str] = {
    "study3_interaction": "Interaction plot: simple slopes of the focal construct at low, mean and high moderator",
    "study3_johnson_neyman": "Johnson-Neyman plot: conditional effect of the focal construct across the moderator",
}


# --- numbers the running text quotes (numbers.json) ---------------------------------------------------


def numbers(book: NumberBook, tables: dict, summaries: dict, config: dict) -> None:
    """Study 3's numbers, read from its tables."""
    s3 = config["study3"]
    focal = s3["focal"]
    if "study3_flow" in tables:
        flow_numbers(book, "study3", tables["study3_flow"])
    estimation_numbers(book, "study3", config)
    if "study3_fornell_larcker" in tables:
        path = tables["study3_fornell_larcker"]
        df = read_table(path).set_index("construct")
        passed = sum(int(df.loc[c, c] > max(abs(df.loc[c, o]) for o in df.columns if o != c)) for c in df.index)
        book.put(
            "study3.fornell_larcker.passed", passed, "int", source=source(path, "", "diagonal > |off-diagonal| (rows)")
        )
        book.put("study3.fornell_larcker.constructs", len(df), "int", source=source(path, "", "rows"))
    if "study3_measurement_fit" in tables:
        path = tables["study3_measurement_fit"]
        df = read_table(path)
        r = df.iloc[0]
        fit_numbers(book, "study3.measurement", r, path, f"model={r['model']}")
    if "study3_reliability" in tables:
        reliability_numbers(book, "study3", tables["study3_reliability"])
    column_max(book, tables, "study3_htmt", "study3.htmt.max", "htmt")
    column_max(book, tables, "study3_vif", "study3.vif.max", "vif")
    if "study3_marker" in tables:
        path = tables["study3_marker"]
        df = read_table(path)
        book.put("study3.marker.r_m", df["r_m"].iloc[0], "bounded", 2, source(path, "", "r_m"))
    book.put(
        "study3.bootstrap.replicates",
        s3.get("bootstrap", {}).get("replicates"),
        "int",
        source="config:study3.bootstrap.replicates",
    )

    for mod in s3.get("moderators", []):
        m = f"study3.moderators.{mod}"
        inter = f"{focal}_x_{mod}"
        if "study3_summary" in tables:
            path = tables["study3_summary"]
            df = read_table(path)
            df = df[(df["moderator"].astype(str) == mod) & (df["model"].astype(str) == "composite")]
            for _, r in df.iterrows():
                k, where = f"{m}.steps.step{int(r['step'])}", f"moderator={mod}, model=composite, step={int(r['step'])}"
                book.put(f"{k}.r2", r["r2"], "bounded", 3, source(path, where, "r2"))
                book.put(f"{k}.delta_r2", r["delta_r2"], "bounded", 3, source(path, where, "delta_r2"))
                book.put(f"{k}.f_change", r["f_change"], "num", 2, source(path, where, "f_change"))
                book.put(f"{k}.df1", r["df1"], "int", source=source(path, where, "df1"))
                book.put(f"{k}.df2", r["df2"], "int", source=source(path, where, "df2"))
                book.put(f"{k}.p", r["p_f_change"], "p", 3, source(path, where, "p_f_change"))
            if len(df):
                last = df.sort_values("step").iloc[-1]
                book.put(f"{m}.n", last["n"], "int", source=source(path, f"moderator={mod}, final step", "n"))
                book.put(f"{m}.final_r2", last["r2"], "bounded", 3, source(path, f"moderator={mod}, final step", "r2"))
                book.put(
                    f"{m}.final_step", int(last["step"]), "int", source=source(path, f"moderator={mod}", "max step")
                )
        if "study3_coefficients" in tables:
            path = tables["study3_coefficients"]
            df = read_table(path)
            df = df[(df["moderator"].astype(str) == mod) & (df["model"].astype(str) == "composite")]
            final = df[df["step"] == df["step"].max()]
            for term, key in ((focal, "focal"), (mod, "moderator"), (inter, "interaction")):
                r = row_where(final, term=term)
                if r is not None:
                    coef_numbers(book, f"{m}.{key}", r, path, f"moderator={mod}, final step, term={term}")
        if "study3_simple_slopes" in tables:
            path = tables["study3_simple_slopes"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for at, key in (("-1 SD", "low"), ("mean", "mean"), ("+1 SD", "high")):
                r = row_where(df, at=at)
                if r is None:
                    continue
                where = f"moderator={mod}, at={at}"
                book.put(f"{m}.slopes.{key}.slope", r["slope"], "num", 3, source(path, where, "slope"))
                book.put(f"{m}.slopes.{key}.p", r["p"], "p", 3, source(path, where, "p"))
                book.put_ci(
                    f"{m}.slopes.{key}.ci",
                    r["ci_lower"],
                    r["ci_upper"],
                    3,
                    source=source(path, where, "ci_lower, ci_upper"),
                )
        if "study3_johnson_neyman" in tables:
            path = tables["study3_johnson_neyman"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            if len(df):
                book.put_text(f"{m}.jn.region", str(df["region"].iloc[0]), source(path, f"moderator={mod}", "region"))
            book.put(
                f"{m}.jn.bounds_in_range",
                int(df["in_observed_range"].astype(bool).sum()),
                "int",
                source=source(path, f"moderator={mod}", "in_observed_range (count)"),
            )
            for _, r in df.iterrows():
                b, where = int(r["bound"]), f"moderator={mod}, bound={int(r['bound'])}"
                book.put(f"{m}.jn.bounds.b{b}.raw", r["value_raw"], "num", 2, source(path, where, "value_raw"))
                book.put_text(
                    f"{m}.jn.bounds.b{b}.in_range",
                    "yes" if bool(r["in_observed_range"]) else "no",
                    source(path, where, "in_observed_range"),
                )
        if "study3_bootstrap_ci" in tables:
            path = tables["study3_bootstrap_ci"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for stat in ("b_focal", "b_interaction"):
                r = row_where(df, stat=stat)
                if r is None:
                    continue
                where = f"moderator={mod}, stat={stat}"
                book.put_ci(
                    f"{m}.bootstrap.{stat}.bca",
                    r["bca_lower"],
                    r["bca_upper"],
                    3,
                    source=source(path, where, "bca_lower, bca_upper"),
                )
                book.put_ci(
                    f"{m}.bootstrap.{stat}.percentile",
                    r["pct_lower"],
                    r["pct_upper"],
                    3,
                    source=source(path, where, "pct_lower, pct_upper"),
                )
                book.put(f"{m}.bootstrap.n_boot", r["n_boot"], "int", source=source(path, where, "n_boot"))
        if "study3_sem_fit" in tables:
            path = tables["study3_sem_fit"]
            r = row_where(read_table(path), moderator=mod)
            if r is not None:
                for col, kind, dec in (("n", "int", 0), *FIT_COLS[:7]):  # n, chi2 ... srmr
                    book.put(f"{m}.sem.{col}", r[col], kind, dec, source(path, f"moderator={mod}", col))
        if "study3_sem_paths" in tables:
            path = tables["study3_sem_paths"]
            df = read_table(path)
            df = df[df["moderator"].astype(str) == mod]
            for term, key in ((focal, "focal"), (inter, "interaction")):
                r = row_where(df, term=term)
                if r is not None:
                    where = f"moderator={mod}, term={term}"
                    book.put(
                        f"{m}.sem.{key}.beta", r["std_estimate"], "bounded", 2, source(path, where, "std_estimate")
                    )
                    book.put(f"{m}.sem.{key}.p", r["p"], "p", 3, source(path, where, "p"))
    if "study3_hypotheses" in tables:
        path = tables["study3_hypotheses"]
        df = read_table(path)
        book.put(
            "study3.hypotheses.supported",
            int(df["supported"].astype(bool).sum()),
            "int",
            source=source(path, "supported=True", "rows"),
        )
        book.put("study3.hypotheses.total", len(df), "int", source=source(path, "", "rows"))
        for _, r in df.iterrows():
            h = str(r["hypothesis"])
            where = f"hypothesis={h}"
            book.put_text(
                f"study3.hypotheses.{h}.verdict",
                "supported" if bool(r["supported"]) else "not supported",
                source(path, where, "supported"),
            )
            book.put(f"study3.hypotheses.{h}.b", r["b"], "num", 3, source(path, where, "b"))
            book.put(f"study3.hypotheses.{h}.p", r["p"], "p", 3, source(path, where, "p"))
