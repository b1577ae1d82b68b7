"""How the design analysis is presented: one spec per table (in appendix order) and a title per figure."""

from __future__ import annotations

from crfm.report.specs.common import Col, TableSpec

PREFIX = "D"
CATEGORY = "Design analysis"  # the Snakemake report's category of its tables and figures

TABLES: dict[str, TableSpec] = {
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
    "design_power": "Monte Carlo power of H1 and H2 by sample size and population interaction",
}


def numbers(book, tables: dict, summaries: dict, config: dict) -> None:
    """The design analysis quotes no number in running text (its tables speak)."""
