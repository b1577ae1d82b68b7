"""Reader-facing names: every variable, model term, exclusion rule, flow step and column a reader sees.

The tidy CSVs keep their machine names (``industry[T.other]``, ``CRFM_x_COMP``, ``log_firm_size``,
``attention_check``, ``respondent_id``); the output layer shows these instead:

* constructs: the config's ``measurement[].short`` or ``label`` (``second_order.short``/``label`` for
  the higher-order factor); in columns that list constructs the construct's abbreviation stays (tables
  define it in a note);
* control variables: ``study3.variables[].label`` (or the column name, underscores as spaces);
* dummy terms ``var[T.level]``: "Industry: other (vs information technology)", the reference being
  the first sorted level the dummies leave out (:func:`crfm.stats.regression.build_design`);
* products ``a_x_b``: "CRFM × Complexity";
* exclusion and purification rules, flow steps, regression steps and the columns of tables without a
  spec (tokens such as ``chi2``, ``cfi``, ``se``, ``p`` become their symbols).

:data:`INTERNAL_NAMES` lists names that must never reach a reader (the deny-list of the tests).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

RULES = {
    "attention_check": "Failed the attention check",
    "max_missing_share": "Too many items left blank",
    "straightlining": "Straight-lining",
    "wrong_factor": "Loads highest on another construct's factor",
    "min_loading": "Primary loading too low",
    "max_cross_loading": "Cross-loading too high",
    "min_item_total": "Item-total correlation too low",
}
FLOW = {"received": "Received", "analysed": "Analysed", "analyzed": "Analysed"}
ID_HEADERS = {"respondent_id": "Respondent ID", "firm_id": "Firm ID"}

# Names a reader must never see (checked on the HTML, LaTeX and PDF text by the tests). Patterns.
INTERNAL_NAMES = (
    r"\[T\.",  # patsy dummy terms
    r"\b[A-Z]+_x_[A-Z]+",  # product terms
    r"\blog_firm_size\b",
    r"\bfirm_age\b",
    r"\battention_check\b",
    r"\bmax_missing_share\b",
    r"\brespondent_id\b",
    r"\bfirm_id\b",
    r"\bsegment_id\b",
    r"df_resid",
    r"\bwald_",
    r"\bmc_se",
    r"\bt_crit\b",
    r"\bvalue_raw\b",
    r"\bq_below",
    r"\bstd\.all\b",
    r"calc_stats",
    r"\bwrong_factor\b",
    r"\bmin_loading\b",
    r"\bsqrt\(",
    r"\(sum l\)",
    r"\balpha >=",
    r">=",
    r"<=",
    r"\s->\s",
    r"\+/-",
    r"\d\.\d+e-\d+",  # p values in scientific notation
    r"\bp = 0\.",
)

# Column-name tokens of tables without a spec: "delta_cfi" -> "Δ CFI", "p_value" -> "*p*".
TOKENS = {
    "chi2": "*χ*²", "df": "*df*", "p": "*p*", "pvalue": "*p*", "se": "*SE*", "sd": "*SD*", "n": "*n*",
    "b": "*b*", "t": "*t*", "z": "*z*", "r": "*r*", "r2": "*R*²", "beta": "*β*", "est": "Estimate",
    "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "aic": "AIC", "bic": "BIC",
    "ci": "CI", "mi": "MI", "epc": "EPC", "sepc": "SEPC", "vif": "VIF", "ave": "AVE", "cr": "CR",
    "htmt": "HTMT", "alpha": "*α*", "delta": "Δ", "std": "std.", "lhs": "Left", "rhs": "Right",
    "op": "Operator", "npar": "Parameters", "loglik": "Log-likelihood", "id": "ID", "sb": "SB",
    "ml": "ML", "mlr": "MLR", "fiml": "FIML", "lower": "lower", "upper": "upper", "pct": "%",
}  # fmt: skip


def words(name: str) -> str:
    """'log_firm_size' -> 'log firm size'."""
    return str(name).replace("_", " ").strip()


@dataclass
class Labels:
    """Display names from the config (see :meth:`from_config`); an empty one still hides machine names."""

    constructs: dict = field(default_factory=dict)  # id -> label
    scales: dict = field(default_factory=dict)  # id -> (min, max) of a Likert construct
    shorts: dict = field(default_factory=dict)  # id -> short label (terms, figures)
    variables: dict = field(default_factory=dict)  # column -> label
    levels: dict = field(default_factory=dict)  # categorical column -> [levels]
    id_columns: dict = field(default_factory=dict)  # id column -> header

    @classmethod
    def from_config(cls, config: Mapping | None) -> Labels:
        config = config or {}
        out = cls()
        for c in config.get("measurement") or []:
            out.constructs[c["construct"]] = c.get("label") or c["construct"]
            sc = c.get("scale") or {}
            if sc.get("type") == "likert" and sc.get("min") is not None:
                out.scales[c["construct"]] = (sc["min"], sc["max"])
            if c.get("short"):
                out.shorts[c["construct"]] = c["short"]
        so = config.get("second_order") or None
        if so:
            out.constructs[so["factor"]] = so.get("label") or so["factor"]
            out.shorts[so["factor"]] = so.get("short") or so["factor"]
            dims = [out.scales.get(d) for d in so.get("dimensions", [])]
            if dims and dims[0] and all(d == dims[0] for d in dims):
                out.scales[so["factor"]] = dims[0]
        for sid in ("study2", "study3"):
            sc = config.get(sid) or {}
            if sc.get("id_column"):
                col = sc["id_column"]
                out.id_columns[col] = ID_HEADERS.get(col, "Respondent ID" if sid == "study2" else "ID")
            for v in sc.get("variables") or []:
                out.variables[v["column"]] = v.get("label") or words(v["column"]).capitalize()
                if v.get("type") == "categorical":
                    out.levels[v["column"]] = [str(x) for x in v.get("levels") or []]
        return out

    def settings(self) -> dict:
        return {
            "constructs": self.constructs,
            "shorts": self.shorts,
            "variables": self.variables,
            "levels": self.levels,
            "id_columns": self.id_columns,
        }

    # --- names ----------------------------------------------------------------------------------

    def construct(self, cid: str) -> str:
        """Full label of a construct ('Offering complexity')."""
        return self.constructs.get(cid, cid)

    def short(self, cid: str) -> str:
        """Short label for terms and figures ('Complexity', 'CRFM'): short, else label, else id."""
        return self.shorts.get(cid) or self.constructs.get(cid) or cid

    def axis(self, cid: str, what: str = "mean item score", *, short: bool = False) -> str:
        """An axis title with its scale: 'Offering complexity (mean item score, 1–7)'."""
        scale = self.scales.get(cid)
        rng = f", {scale[0]:g}–{scale[1]:g}" if scale else ""
        return f"{self.short(cid) if short else self.construct(cid)} ({what}{rng})"

    def variable(self, name: str) -> str:
        """A variable of the descriptives and correlations: constructs keep their abbreviation."""
        name = str(name)
        if name in self.constructs:
            return name
        return self.variables.get(name) or words(name)

    def term(self, term: str) -> str:
        """A model term: construct, control, dummy ``var[T.level]``, product ``a_x_b`` or Intercept."""
        term = str(term).strip()
        if "_x_" in term:
            return " × ".join(self.term(t) for t in term.split("_x_"))
        m = re.fullmatch(r"(.+)\[T\.(.+)\]", term)
        if m:
            var, level = m.groups()
            label = self.variables.get(var) or words(var).capitalize()
            ref = self.reference_level(var, level)
            return f"{label}: {level}" + (f" (vs {ref})" if ref else "")
        if term in self.constructs:
            return self.short(term)
        if term in self.variables:
            return self.variables[term]
        return words(term)

    def reference_level(self, var: str, level: str) -> str | None:
        """The level a dummy is compared with: the first sorted level of the variable (as the
        regression codes it) that has no dummy of its own."""
        levels = self.levels.get(var)
        if not levels:
            return None
        return sorted(levels)[0] if sorted(levels)[0] != level else None

    def terms(self, text: str) -> str:
        """'log_firm_size, industry[T.other]' -> 'Firm size (log employees), Industry: other (vs ...)'."""
        return ", ".join(self.term(t) for t in str(text).split(", ") if t)

    def step(self, label: str) -> str:
        """'Step 2: + CRFM' -> 'Step 2: + CRFM'; 'Step 3: + COMP' -> 'Step 3: + Complexity'."""
        m = re.fullmatch(r"(Step \d+): \+ (.+)", str(label))
        if not m:
            return str(label)
        head, rest = m.groups()
        if rest == "interaction":
            return f"{head}: + interaction"
        return f"{head}: + " + " + ".join(self.term(t) for t in rest.split(" + "))

    def products(self, text: str) -> str:
        """Product indicators 'RCOM_x_COMP1; RSEL_x_COMP2' -> 'RCOM × COMP1; RSEL × COMP2' (item IDs)."""
        return "; ".join(" × ".join(p.split("_x_")) for p in str(text).split("; "))

    def rule(self, name: str) -> str:
        return RULES.get(str(name), words(name).capitalize())

    def rules(self, text: str) -> str:
        return "; ".join(self.rule(r) for r in re.split(r"[;,]\s*", str(text)) if r)

    def flow(self, step: str) -> str:
        step = str(step)
        if step.startswith("excluded: "):
            return "Excluded: " + self.rule(step.split(": ", 1)[1]).lower()
        return FLOW.get(step, step)

    def header(self, key: str) -> tuple[str, bool]:
        """(header, is_markup) of a column no spec names: an ID column, a construct (abbreviation),
        a variable, 'q_below_0.667' -> q(α < .667), or the column's tokens."""
        key = str(key)
        if key in self.id_columns:
            return self.id_columns[key], False
        if key in ID_HEADERS:
            return ID_HEADERS[key], False
        if key in self.constructs:
            return key, False
        if key in self.variables:
            return self.variables[key], False
        m = re.fullmatch(r"q_below_0?(\.\d+)", key)
        if m:
            return f"*q*(α < {m.group(1)})", True
        if "_" not in key and not key.islower():
            return key, False  # F1, Alpha, H1: names of their own
        parts = [TOKENS.get(t.lower(), t) for t in key.split("_") if t]
        text = " ".join(parts)
        if text and not text.startswith("*"):
            text = text[0].upper() + text[1:]
        return text, True

    def apply(self, kind: str, value) -> str:
        """Display a cell of a column whose spec says ``display=kind``."""
        fn = {
            "term": self.term,
            "terms": self.terms,
            "step": self.step,
            "rule": self.rule,
            "rules": self.rules,
            "flow": self.flow,
            "variable": self.variable,
            "construct": self.short,
            "products": self.products,
            "words": lambda v: words(v).capitalize(),
        }[kind]
        return fn(value)
