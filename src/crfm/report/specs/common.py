"""Building blocks of the table specs: columns, formats and the column sets several studies share.

A :class:`TableSpec` says which columns of a tidy CSV a journal table shows, in which order, under which
header, and how each is formatted (``text``, ``int``, ``num``, ``bounded`` = no leading zero, ``p``,
``bool``, or a confidence interval built from two columns). Headers may mark statistical symbols as
``*italic*`` (APA). Columns named in a spec but absent from the table are skipped, so a spec survives
config-dependent tables. A table with no spec is still rendered: every column, formats inferred from
names and types (:func:`infer_col`). Each study's own specs live in ``crfm.report.specs.<study>``; their order is the order of the tables in the appendix.
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
    # reader-facing name of each value (crfm.report.labels.Labels.apply): term | terms | step | rule |
    # rules | flow | variable | construct; 'rich': ASCII maths and p values of a text cell as in notes
    display: str | None = None

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
    Col("n", "*n*", "int"),
    Col("chi2", "*χ*²", "num", 2),
    Col("df", "*df*", "int"),
    Col("p", "*p*", "p"),
    Col("chi2_scaled", "Scaled *χ*²", "num", 2),
    Col("scaling_factor", "Scaling factor", "num", 3),
    Col("p_scaled", "*p* (scaled)", "p"),
    Col("cfi", "CFI", "bounded", 3),
    Col("tli", "TLI", "bounded", 3),
    Col("rmsea", "RMSEA", "bounded", 3),
    ci("rmsea_ci_lower", "rmsea_ci_upper", "RMSEA 90% CI", 3, bounded=True),
    Col("cfi_robust", "Robust CFI", "bounded", 3),
    Col("tli_robust", "Robust TLI", "bounded", 3),
    Col("rmsea_robust", "Robust RMSEA", "bounded", 3),
    Col("srmr", "SRMR", "bounded", 3),
    Col("aic", "AIC", "num", 2),
    Col("bic", "BIC", "num", 2),
)
FIT_NOTE = "CI = confidence interval."
MODINDICES = (
    Col("lhs", "Left"),
    Col("op", "Op."),
    Col("rhs", "Right"),
    Col("mi", "MI", "num", 2),
    Col("epc", "EPC", "num", 3),
    Col("sepc_all", "Std. EPC", "num", 3),
)
INVARIANCE = (
    Col("step", "Model"),
    Col("chi2", "*χ*²", "num", 2),
    Col("df", "*df*", "int"),
    Col("chi2_scaled", "Scaled *χ*²", "num", 2),
    Col("cfi", "CFI", "bounded", 3),
    Col("cfi_robust", "Robust CFI", "bounded", 3),
    Col("tli", "TLI", "bounded", 3),
    Col("rmsea", "RMSEA", "bounded", 3),
    Col("rmsea_robust", "Robust RMSEA", "bounded", 3),
    Col("srmr", "SRMR", "bounded", 3),
    Col("delta_chi2", "Δ*χ*²", "num", 2),
    Col("delta_df", "Δ*df*", "int"),
    Col("delta_p", "*p*", "p"),
    Col("delta_cfi", "ΔCFI", "num", 3),
    Col("delta_rmsea", "ΔRMSEA", "num", 3),
    Col("verdict", "Verdict", wide=True),
)
LOADINGS = (
    Col("factor", "Factor", group=True),
    Col("item", "Item"),
    Col("est", "Unstd.", "num", 2),
    Col("se", "*SE*", "num", 2),
    Col("p", "*p*", "p"),
    Col("std_all", "Std.", "bounded", 2),
    ci("ci_lower", "ci_upper", "95% CI (std.)", 2, bounded=True),
)
SECOND_ORDER = (
    Col("factor", "Second-order factor", group=True),
    Col("subfactor", "First-order factor"),
    Col("est", "Unstd.", "num", 2),
    Col("se", "*SE*", "num", 2),
    Col("p", "*p*", "p"),
    Col("std_all", "Std.", "bounded", 2),
    ci("ci_lower", "ci_upper", "95% CI (std.)", 2, bounded=True),
)
MODERATOR = Col("moderator", "Moderator", group=True, display="construct")
STEP = Col("step_label", "Step", group=True, display="step")
COEFS = (
    MODERATOR,
    STEP,
    Col("term", "Term", display="term"),
    Col("b", "*b*", "num", 3),
    Col("se", "*SE*", "num", 3),
    Col("t", "*t*", "num", 2),
    Col("p", "*p*", "p"),
    ci("ci_lower", "ci_upper", "95% CI", 3),
    Col("beta", "*β*", "bounded", 2),
)
COEF_NOTE = "*b* = unstandardized coefficient; *β* = standardized coefficient; CI = confidence interval (HC3)."
SUMMARY = (
    MODERATOR,
    Col("step_label", "Step", display="step"),
    Col("added_terms", "Terms added", wide=True, display="terms"),
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
FLOW = (Col("step", "Step", display="flow"), Col("n", "*n*", "int"))
EXCLUSIONS_COLS = (
    Col("source_line", "Line in raw file", "int"),
    Col("rule", "Rule", display="rule"),
    Col("detail", "Detail", wide=True, display="rich"),
    Col("also_failed", "Also failed", display="rules"),
)
RELIABILITY_STATS = {
    "percent_agreement": "Percent agreement",
    "cohen_kappa": "Cohen's κ",
    "krippendorff_alpha": "Krippendorff's α",
    "fleiss_kappa": "Fleiss' κ",
}


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
