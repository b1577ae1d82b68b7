"""How each table and figure of the three studies is presented: titles, columns, formats.

A :class:`TableSpec` says which columns of a tidy CSV a journal table shows, in which order, under which
header, and how each is formatted (``text``, ``int``, ``num``, ``bounded`` = no leading zero, ``p``,
``bool``, or a confidence interval built from two columns). Headers may mark statistical symbols as
``*italic*`` (APA). Columns named in a spec but absent from the table are skipped, so a spec survives
config-dependent tables. A table with no spec is still rendered: every column, formats inferred from
names and types (:func:`infer_col`). The registry's order is the order of tables in the appendix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Col:
    key: str  # column name; for a CI the lower bound's column
    label: str | None = None  # header; *x* = italic; None: the column name, literally
    fmt: str = "text"  # text | int | num | bounded | p | bool | ci
    dec: int = 2
    hi: str | None = None  # CI: the upper bound's column
    bounded: bool = False  # CI: no leading zero
    wide: bool = False  # long text that wraps (LaTeX p-column)
    values: dict = field(default_factory=dict, hash=False, compare=False)  # display names of values
    row_fmt: tuple = ()  # ((prefix of row_key's value, fmt, dec), ...): mixed-statistic value columns
    row_key: str | None = None
    group: bool = False  # printed only when it (and every group column before it) changes

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key, self.hi) if self.fmt == "ci" else (self.key,)


def ci(lo: str, hi: str, label: str = "95% CI", dec: int = 2, *, bounded: bool = False) -> Col:
    return Col(lo, label, "ci", dec, hi=hi, bounded=bounded)


@dataclass(frozen=True)
class TableSpec:
    title: str
    columns: tuple[Col, ...] = ()
    rest: Col | None = None  # format of every column not listed (label = its name); None: drop them
    keep_order: bool = False  # show the table's own column order (listed columns just set formats)
    triangle: bool = False  # square matrix: blank the cells above the diagonal
    extra_notes: tuple[str, ...] = ()


# --- columns shared by several tables ---------------------------------------------------------

RELIABILITY = (
    Col("construct", "Construct"),
    Col("label", "Label", wide=True),
    Col("n_items", "Items", "int"),
    Col("alpha", "*α*", "bounded", 2),
    Col("cr", "CR", "bounded", 2),
    Col("ave", "AVE", "bounded", 2),
    Col("sqrt_ave", "√AVE", "bounded", 2),
)
MODEL_NAMES = {"one_factor": "One factor", "correlated": "Correlated factors", "second_order": "Second order"}
FIT = (
    Col("model", "Model", values=MODEL_NAMES),
    Col("chi2", "*χ*²", "num", 2),
    Col("df", "*df*", "int"),
    Col("pvalue", "*p*", "p"),
    Col("cfi", "CFI", "bounded", 3),
    Col("tli", "TLI", "bounded", 3),
    Col("rmsea", "RMSEA", "bounded", 3),
    ci("rmsea_ci_lower", "rmsea_ci_upper", "RMSEA 90% CI", 3, bounded=True),
    Col("srmr", "SRMR", "bounded", 3),
    Col("aic", "AIC", "num", 2),
    Col("bic", "BIC", "num", 2),
)
FIT_NOTE = "CI = confidence interval."
LOADINGS = (
    Col("factor", "Factor", group=True),
    Col("item", "Item"),
    Col("est", "Unstd.", "num", 2),
    Col("se", "*SE*", "num", 2),
    Col("std_all", "Std.", "bounded", 2),
    ci("ci_lower", "ci_upper", "95% CI (std.)", 2, bounded=True),
)
SECOND_ORDER = (
    Col("factor", "Second-order factor", group=True),
    Col("subfactor", "First-order factor"),
    Col("est", "Unstd.", "num", 2),
    Col("se", "*SE*", "num", 2),
    Col("std_all", "Std.", "bounded", 2),
    ci("ci_lower", "ci_upper", "95% CI (std.)", 2, bounded=True),
)
MODERATOR = Col("moderator", "Moderator", group=True)
STEP = Col("step_label", "Step", group=True)
COEFS = (
    MODERATOR,
    STEP,
    Col("term", "Term"),
    Col("b", "*b*", "num", 3),
    Col("se", "*SE*", "num", 3),
    Col("t", "*t*", "num", 2),
    Col("p", "*p*", "p"),
    ci("ci_low", "ci_high", "95% CI", 3),
    Col("beta", "*β*", "bounded", 2),
)
COEF_NOTE = "*b* = unstandardized coefficient; *β* = standardized coefficient; CI = confidence interval (HC3)."
SUMMARY = (
    MODERATOR,
    Col("step_label", "Step"),
    Col("added_terms", "Terms added", wide=True),
    Col("n", "*n*", "int"),
    Col("r2", "*R*²", "bounded", 3),
    Col("adj_r2", "Adj. *R*²", "bounded", 3),
    Col("delta_r2", "Δ*R*²", "bounded", 3),
    Col("f_change", "*F* change", "num", 2),
    Col("df1", "*df*1", "int"),
    Col("df2", "*df*2", "int"),
    Col("p_f_change", "*p*", "p"),
    Col("wald_f", "Wald *F* (HC3)", "num", 2),
    Col("wald_p", "*p* (Wald)", "p"),
)
FLOW = (Col("step", "Step"), Col("n", "*n*", "int"))
EXCLUSIONS_COLS = (
    Col("source_line", "Line in raw file", "int"),
    Col("rule", "Rule"),
    Col("detail", "Detail", wide=True),
    Col("also_failed", "Also failed"),
)
RELIABILITY_STATS = {
    "percent_agreement": "Percent agreement",
    "cohen_kappa": "Cohen's κ",
    "krippendorff_alpha": "Krippendorff's α",
}

TABLES: dict[str, TableSpec] = {
    # ---- Study 1 -------------------------------------------------------------------------------
    "study1_informants": TableSpec(
        "Informants by company and role",
        (
            Col("company", "Company", group=True),
            Col("industry", "Industry", group=True),
            Col("role", "Role"),
            Col("n_interviews", "Interviews", "int"),
            Col("interview_ids", "Interview IDs", wide=True),
        ),
    ),
    "study1_coding_summary": TableSpec(
        "Coding summary: codes of the primary coder",
        (
            Col("code", "Code"),
            Col("label", "Label", wide=True),
            Col("dimension", "Dimension"),
            Col("level", "Level"),
            Col("kind", "Kind"),
            Col("n_segments", "Segments", "int"),
            Col("n_interviews", "Interviews", "int"),
            Col("n_companies", "Companies", "int"),
            Col("share_interviews", "Share of interviews", "bounded", 2),
        ),
    ),
    "study1_dimension_by_company": TableSpec(
        "Interviews in which each CRFM dimension appears, by company",
        (Col("dimension", "Dimension"),),
        rest=Col("", fmt="int"),
    ),
    "study1_code_company_share": TableSpec(
        "Share of each company's interviews in which a code appears",
        (Col("code", "Code"),),
        rest=Col("", fmt="bounded", dec=2),
    ),
    "study1_saturation": TableSpec(
        "Code saturation in data-collection order",
        (
            Col("position", "Position", "int"),
            Col("interview_id", "Interview"),
            Col("company", "Company"),
            Col("n_segments", "Segments", "int"),
            Col("n_new_codes", "New codes", "int"),
            Col("cumulative_codes", "Cumulative codes", "int"),
            Col("new_codes", "Codes first seen", wide=True),
        ),
    ),
    "study1_cooccurrence": TableSpec(
        "Code co-occurrence across interviews (Jaccard similarity)",
        (
            Col("code_a", "Code A"),
            Col("code_b", "Code B"),
            Col("n_a", "*n* A", "int"),
            Col("n_b", "*n* B", "int"),
            Col("n_both", "*n* both", "int"),
            Col("n_either", "*n* either", "int"),
            Col("jaccard", "Jaccard", "bounded", 2),
        ),
    ),
    "study1_reliability": TableSpec(
        "Inter-coder reliability",
        (
            Col("statistic", "Statistic", values=RELIABILITY_STATS),
            Col("coders", "Coders"),
            Col("n_units", "Segments", "int"),
            Col("value", "Value", "bounded", 2),
        ),
    ),
    "study1_reliability_by_code": TableSpec(
        "Inter-coder reliability by code",
        (
            Col("coder_a", "Coder A", group=True),
            Col("coder_b", "Coder B", group=True),
            Col("code", "Code"),
            Col("n_units", "Segments", "int"),
            Col("n_present_a", "Present (A)", "int"),
            Col("n_present_b", "Present (B)", "int"),
            Col("n_present_both", "Both", "int"),
            Col("n_absent_both", "Neither", "int"),
            Col("percent_agreement", "Agreement", "bounded", 2),
            Col("cohen_kappa", "*κ*", "bounded", 2),
        ),
    ),
    "study1_traceability": TableSpec(
        "Traceability: code, CRFM dimension and scale item",
        (
            Col("dimension", "Dimension", group=True),
            Col("code", "Code"),
            Col("label", "Label"),
            Col("kind", "Kind"),
            Col("level", "Level"),
            Col("item", "Item"),
            Col("item_text", "Item wording", wide=True),
        ),
    ),
    "study1_qdpx_crosscheck": TableSpec(
        "Cross-check: every Study 1 table rebuilt from the REFI-QDA export",
        (
            Col("table", "Table"),
            Col("rows_csv", "Rows (CSV)", "int"),
            Col("rows_qdpx", "Rows (QDPX)", "int"),
            Col("identical", "Identical", "bool"),
        ),
    ),
    # ---- Study 2 -------------------------------------------------------------------------------
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
            Col("statistic", "Statistic", wide=True),
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
            Col("rule", "Rule"),
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
            Col("note", "Remark", wide=True),
        ),
    ),
    "study2_loadings": TableSpec(
        "Confirmatory factor analysis: loadings of the correlated-factors model",
        LOADINGS + (Col("text", "Item wording", wide=True),),
        extra_notes=("Unstd. = unstandardized loading (the first item of each factor fixed to 1); Std. = standardized loading.",),
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
            Col("check", "Check", wide=True),
            Col(
                "value",
                "Value",
                "num",
                2,
                row_key="check",
                row_fmt=(("Harman", "bounded", 2), ("One-factor CFA: CFI", "bounded", 3), ("", "num", 2)),
            ),
            Col("threshold", "Criterion"),
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
    # ---- Study 3 -------------------------------------------------------------------------------
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
        (Col("variable", "Variable"), Col("n", "*n*", "int"), Col("mean", "*M*", "num", 2), Col("sd", "*SD*", "num", 2)),
    ),
    "study3_correlations": TableSpec(
        "Correlations of the composite scores",
        (Col("variable", "Variable"),),
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
        "Variance inflation factors of the final model", (MODERATOR, Col("term", "Term"), Col("vif", "VIF", "num", 2))
    ),
    "study3_dimension_coefficients": TableSpec(
        "Dimension-level moderated regression", COEFS, extra_notes=(COEF_NOTE,)
    ),
    "study3_dimension_summary": TableSpec("Dimension-level moderated regression: model summary", SUMMARY),
    "study3_indicator_models": TableSpec(
        "Final model for each selling-performance indicator",
        (
            MODERATOR,
            Col("outcome", "Outcome", group=True),
            Col("n", "*n*", "int", group=True),
            Col("r2", "*R*²", "bounded", 3, group=True),
            Col("term", "Term"),
            Col("b", "*b*", "num", 3),
            Col("se", "*SE*", "num", 3),
            Col("p", "*p*", "p"),
            ci("ci_low", "ci_high", "95% CI", 3),
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
            ci("ci_low", "ci_high", "95% CI", 3),
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
                },
            ),
            Col("estimate", "Estimate", "num", 3),
            Col("n_boot", "*B*", "int"),
            Col("boot_se", "Bootstrap *SE*", "num", 3),
            Col("bias", "Bias", "num", 3),
            ci("pct_low", "pct_high", "Percentile 95% CI", 3),
            ci("bca_low", "bca_high", "BCa 95% CI", 3),
        ),
    ),
    "study3_sem_paths": TableSpec(
        "Latent moderated structural equation model: paths",
        (
            MODERATOR,
            Col("outcome", "Outcome", group=True),
            Col("term", "Predictor"),
            Col("estimate", "Estimate", "num", 3),
            Col("std_estimate", "*β*", "bounded", 2),
            Col("se", "*SE*", "num", 3),
            Col("z", "*z*", "num", 2),
            Col("p", "*p*", "p"),
            ci("ci_low", "ci_high", "95% CI", 3),
        ),
    ),
    "study3_sem_fit": TableSpec(
        "Latent moderated structural equation model: fit",
        (
            Col("moderator", "Moderator"),
            Col("n", "*n*", "int"),
            Col("converged", "Converged", "bool"),
            Col("chi2", "*χ*²", "num", 2),
            Col("df", "*df*", "int"),
            Col("cfi", "CFI", "bounded", 3),
            Col("tli", "TLI", "bounded", 3),
            Col("rmsea", "RMSEA", "bounded", 3),
            Col("product_indicators", "Product indicators", wide=True),
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
            ci("ci_low", "ci_high", "95% CI", 3),
            ci("bca_low", "bca_high", "BCa 95% CI", 3),
            Col("sem_std_estimate", "SEM *β*", "bounded", 2),
            Col("sem_p", "SEM *p*", "p"),
            Col("supported", "Supported", "bool"),
        ),
    ),
    "design_power": TableSpec(
        "Monte Carlo power of the hypothesis tests",
        (
            Col("n", "*n*", "int"),
            Col("interaction", "Population interaction", "num", 2),
            Col("replications", "Replications", "int"),
            Col("power_h1", "Power H1", "bounded", 2),
            Col("mc_se_h1", "MC *SE*", "bounded", 3),
            Col("power_h2", "Power H2", "bounded", 2),
            Col("mc_se_h2", "MC *SE*", "bounded", 3),
        ),
    ),
    "design_recovery": TableSpec(
        "Monte Carlo recovery of the population parameters",
        (
            Col("n", "*n*", "int", group=True),
            Col("interaction", "Population interaction", "num", 2, group=True),
            Col("parameter", "Parameter", wide=True),
            Col("bias", "Bias", "num", 3),
            Col("rmse", "RMSE", "num", 3),
            Col("coverage", "95% CI coverage", "bounded", 2),
        ),
    ),
    "design_convergence": TableSpec(
        "Monte Carlo CFA convergence and fit",
        (
            Col("n", "*n*", "int"),
            Col("interaction", "Population interaction", "num", 2),
            Col("replications", "Replications", "int"),
            Col("non_converged", "Not converged", "bounded", 3),
            Col("improper", "Improper", "bounded", 3),
            Col("mean_cfi", "Mean CFI", "bounded", 3),
            Col("mean_rmsea", "Mean RMSEA", "bounded", 3),
        ),
    ),
}

FIGURES: dict[str, str] = {
    "study1_code_heatmap": "Codes by company: share of each company's interviews in which a code appears",
    "study1_saturation": "Saturation curve: cumulative number of codes by interview",
    "study1_cooccurrence": "Code co-occurrence (Jaccard similarity)",
    "study2_scree": "Scree plot with parallel analysis",
    "study2_efa_loadings": "Exploratory factor analysis: pattern loadings",
    "study3_interaction": "Interaction plot: simple slopes of the focal construct at low, mean and high moderator",
    "study3_johnson_neyman": "Johnson-Neyman plot: conditional effect of the focal construct across the moderator",
    "design_power": "Monte Carlo power of H1 and H2 by sample size and population interaction",
}

STUDY_TITLES = {
    "study1": "Study 1: Conceptualization",
    "study2": "Study 2: Scale development",
    "study3": "Study 3: Predictive validation",
    "design": "Design analysis: Monte Carlo power and parameter recovery",
}
STUDY_PREFIX = {"study1": "1", "study2": "2", "study3": "3", "design": "D"}


def study_of(name: str) -> str:
    return name.split("_", 1)[0]


def item_number(name: str, k: int) -> str:
    """'2.9': the k-th table (or figure) of its study."""
    study = study_of(name)
    return f"{STUDY_PREFIX.get(study, study)}.{k}"


def order_key(name: str, registry) -> tuple:
    """Registry order first, unknown names after, alphabetically."""
    keys = list(registry)
    return (study_of(name), keys.index(name) if name in keys else len(keys), name)


# --- specs for tables the registry does not know ----------------------------------------------

_P_NAME = re.compile(r"(^p$|^p_|_p$|pvalue|^p_value)")
_BOUNDED_NAME = re.compile(
    r"(^r$|^r_|_r$|alpha|^cr$|^ave$|sqrt_ave|kappa|share|proportion|cumulative|jaccard|msa|std_all|"
    r"^r2$|r2$|cfi|tli|rmsea|srmr|agreement|communality|loading|^beta|std_estimate|correlation)"
)


def infer_col(name: str, dtype_kind: str) -> Col:
    """A column of an unregistered table: its name as the header, a format from name and dtype
    (``dtype_kind`` is numpy's kind: b bool, i/u integer, f float, O/U/S text)."""
    if dtype_kind == "b":
        return Col(name, None, "bool")
    if dtype_kind in "iu":
        return Col(name, None, "int")
    if dtype_kind == "f":
        if _P_NAME.search(name):
            return Col(name, None, "p")
        if _BOUNDED_NAME.search(name):
            return Col(name, None, "bounded", 2)
        return Col(name, None, "num", 2)
    return Col(name, None, "text")


def default_title(name: str) -> str:
    rest = name.split("_", 1)[1] if "_" in name else name
    return rest.replace("_", " ").capitalize()
