"""Study 2: scale development on the managers' survey.

Steps (one workflow rule each): ``study2_validate`` (:mod:`crfm.studies.survey`), ``study2_explore``
(:func:`explore`: item analysis, factorability - KMO, Bartlett -, parallel analysis, EFA of the pool,
purification, the retained items and the calibration/validation split) and ``study2_confirm``
(:func:`confirm`: rival CFA models, loadings, reliability and validity, common-method checks and the
scale-items table, on the validation sample - the whole sample when no split is configured).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.data.config import MeasurementModel, parse_yaml
from crfm.errors import AnalysisError
from crfm.studies.base import Study, StudyResult, Table, code_of, lazy_module
from crfm.studies.survey import survey_settings

cfa_mod = lazy_module("crfm.stats.cfa")
efa_mod = lazy_module("crfm.stats.efa")
pm = lazy_module("crfm.stats.psychometrics")
sem = lazy_module("crfm.stats.sem")

log = logging.getLogger(__name__)

DEFAULT_PURIFICATION = {"min_loading": 0.5, "max_cross_loading": 0.3, "min_item_total": 0.4}
DEFAULT_THRESHOLDS = {"alpha": 0.7, "cr": 0.7, "ave": 0.5, "htmt": 0.85, "harman_share": 0.5}

EXPLORE_TABLES = (
    "study2_item_analysis",
    "study2_kmo",
    "study2_factorability",
    "study2_parallel_analysis",
    "study2_efa_loadings",
    "study2_efa_factor_correlations",
    "study2_efa_variance",
    "study2_purification",
)
CONFIRM_TABLES = (
    "study2_fit",
    "study2_comparisons",
    "study2_loadings",
    "study2_factor_correlations",
    "study2_modindices",
    "study2_second_order_loadings",
    "study2_reliability",
    "study2_fornell_larcker",
    "study2_htmt",
    "study2_common_method",
    "study2_scale_items",
    "study2_missing_patterns",
    "study2_coverage",
)
FIGURES = ("study2_scree", "study2_efa_loadings")


# --- settings -----------------------------------------------------------------------------------------


ESTIMATION_DEFAULTS = {"estimator": "ML", "missing": "fiml"}
INVARIANCE_DEFAULTS = {
    "partial": [],
    "steps": ["configural", "metric", "scalar", "strict"],
    "cutoffs": {"delta_cfi_min": -0.010, "delta_rmsea_max": 0.015},
}


def estimation_settings(config: Mapping, study: str) -> dict:
    """The study's ``estimation`` over the top-level one, over the defaults (ML, FIML)."""
    return {**ESTIMATION_DEFAULTS, **(config.get("estimation") or {}), **(config[study].get("estimation") or {})}


def settings(config: Mapping) -> dict:
    """Study 2's analysis settings with their defaults filled in."""
    s2 = config["study2"]
    efa = {"method": "ml", "rotation": "oblimin", "n_factors": None, **(s2.get("efa") or {})}
    pa = {"method": "pca", "n_sims": 500, "percentile": 95, **(s2.get("parallel_analysis") or {})}
    pur = {**DEFAULT_PURIFICATION, **(s2.get("purification") or {})}
    split = {"enabled": False, "fraction": 0.5, "seed": 0, **(s2.get("split") or {})}
    thr = {**DEFAULT_THRESHOLDS, **(s2.get("thresholds") or {})}
    return {"efa": efa, "pa": pa, "purification": pur, "split": split, "thresholds": thr}


def _measurement(config: Mapping) -> list[dict]:
    return [c for c in config["measurement"] if c["construct"] in config["study2"]["constructs"]]


def explore_settings(config: Mapping) -> dict:
    st = settings(config)
    s2 = config["study2"]
    return {
        "study2": {
            "id_column": s2["id_column"],
            "constructs": list(s2["constructs"]),
            "efa": st["efa"],
            "parallel_analysis": st["pa"],
            "purification": st["purification"],
            "split": st["split"],
            "estimation": estimation_settings(config, "study2"),
        },
        "measurement": _measurement(config),
    }


def confirm_settings(config: Mapping) -> dict:
    st = settings(config)
    s2 = config["study2"]
    so = config.get("second_order")
    return {
        "study2": {
            "id_column": s2["id_column"],
            "constructs": list(s2["constructs"]),
            "thresholds": st["thresholds"],
            "estimation": estimation_settings(config, "study2"),
        },
        "second_order": {"factor": so["factor"]} if so else None,
        "measurement": _measurement(config),
    }


def invariance_settings(config: Mapping) -> dict:
    s2 = config["study2"]
    inv = s2.get("invariance")
    return {
        "study2": {
            "id_column": s2["id_column"],
            "estimation": estimation_settings(config, "study2"),
            "invariance": {**INVARIANCE_DEFAULTS, **inv} if inv else None,
        }
    }


def has_invariance(config: Mapping) -> bool:
    """Invariance is tested when configured, and across the halves only when the data are split."""
    s2 = config.get("study2", {})
    inv = s2.get("invariance")
    if not inv:
        return False
    return inv["group"] != "sample" or settings(config)["split"]["enabled"]


def moments(df: pd.DataFrame, items: list[str], missing: str):
    """What the correlation-based statistics read: EM estimates of the items' covariance under MAR
    (every respondent counts, as in a FIML CFA) or, with listwise deletion, the data themselves."""
    if missing != "fiml":
        return df
    m = sem.saturated_moments(df[items], items)
    return pm.ItemMoments(m.cov, m.n, "EM (saturated ML under MAR)", em=True)


def split_samples(df: pd.DataFrame, id_column: str, split: dict) -> pd.DataFrame:
    """Respondent -> sample ('calibration'/'validation', or 'full' when no split)."""
    if not split["enabled"]:
        return pd.DataFrame({id_column: df[id_column], "sample": "full"})
    cal, val = efa_mod.split_halves(df, split["seed"], split["fraction"])
    out = pd.concat([cal[[id_column]].assign(sample="calibration"), val[[id_column]].assign(sample="validation")])
    return out.set_index(id_column).loc[df[id_column]].reset_index()


# --- exploratory stage --------------------------------------------------------------------------------


@dataclass
class ExploreResult(StudyResult):
    """Item analysis, factorability, parallel analysis, the initial EFA and the purification."""

    samples: pd.DataFrame
    item_analysis: pd.DataFrame
    kmo: pm.KMOResult
    bartlett: pm.BartlettResult
    factorability: pd.DataFrame
    parallel: pm.ParallelAnalysisResult
    efa: efa_mod.EFAResult
    efa_loadings: pd.DataFrame
    purification: efa_mod.PurifyResult
    purification_log: pd.DataFrame
    retained: pd.DataFrame
    n_factors: int
    n_analysed: int
    rules: dict
    sample: str
    moments_source: str

    def tables(self) -> list[Table]:
        efa, pur = self.efa, self.rules
        c_efa, c_pa = code_of(efa_mod.efa), code_of(pm.parallel_analysis)
        base = f"{self.sample}, n = {efa.n}; correlations: {self.moments_source}."
        return [
            Table(
                "study2_item_analysis",
                self.item_analysis,
                (
                    base,
                    "Corrected item-total correlation: item vs the sum of the other items of its construct. Mean, SD, skewness and kurtosis (excess, bias-corrected G1/G2) from each item's answers.",
                ),
                code_of(pm.item_analysis),
            ),
            Table(
                "study2_kmo",
                self.kmo.to_frame(),
                (base, "Kaiser-Meyer-Olkin measure of sampling adequacy per item; last row overall."),
                code_of(pm.kmo),
            ),
            Table("study2_factorability", self.factorability, (base, self.parallel.description), code_of(explore)),
            Table("study2_parallel_analysis", self.parallel.table, (base, self.parallel.description), c_pa),
            Table(
                "study2_efa_loadings",
                self.efa_loadings,
                (
                    base,
                    f"{efa.method.upper()} extraction, {efa.rotation} rotation, {efa.n_factors} factors; pattern loadings of the whole item pool; factor signs make each factor's loadings sum positive, factors ordered by their highest-loading item.",
                ),
                c_efa,
            ),
            Table(
                "study2_efa_factor_correlations",
                efa.phi.reset_index(names="factor"),
                ("Factor correlations (phi) of the oblique solution.",),
                c_efa,
            ),
            Table("study2_efa_variance", efa.variance, ("Sums of squared loadings: diag(phi L'L).",), c_efa),
            Table(
                "study2_purification",
                self.purification_log,
                (
                    f"One item removed per step, EFA rerun after each; rules: primary loading >= {pur['min_loading']}, cross-loading <= {pur['max_cross_loading']}, corrected item-total r >= {pur['min_item_total']}; an item loading highest on another construct's factor is removed as wrong_factor.",
                ),
                code_of(efa_mod.purify),
            ),
        ]

    def facts(self) -> dict:
        """The numbers of explore_summary.json."""
        k, b, par = self.kmo, self.bartlett, self.parallel
        return {
            "n_analysed": self.n_analysed,
            "n_efa": int(self.efa.n),
            "kmo": float(k.overall),
            "bartlett_chi2": float(b.chi2),
            "bartlett_df": float(b.df),
            "bartlett_p": float(b.p),
            "parallel_analysis_factors": int(par.n_factors),
            "factors_extracted": int(self.n_factors),
            "items_in_pool": int(len(self.efa_loadings)),
            "items_retained": int(len(self.retained)),
            "items_removed": self.purification.removed,
        }


def explore(df: pd.DataFrame, config: Mapping, model: MeasurementModel) -> ExploreResult:
    """Item analysis -> factorability -> parallel analysis -> EFA -> purification."""
    s2, st = config["study2"], settings(config)
    constructs = model.item_map(s2["constructs"])
    items = model.items_of(s2["constructs"])
    samples = split_samples(df, s2["id_column"], st["split"])
    cal_ids = set(samples.loc[samples["sample"] != "validation", s2["id_column"]])
    cal = df[df[s2["id_column"]].isin(cal_ids)].reset_index(drop=True)
    est = s2.get("estimation") or ESTIMATION_DEFAULTS
    data = moments(cal, items, est["missing"])

    item_table = pm.item_analysis(cal, constructs, moments=data if isinstance(data, pm.ItemMoments) else None)
    k = pm.kmo(data, items)
    b = pm.bartlett(data, items)
    pa = st["pa"]
    par = pm.parallel_analysis(
        data, n_sims=pa["n_sims"], seed=pa["seed"], percentile=pa["percentile"], method=pa["method"], items=items
    )
    n_factors = st["efa"]["n_factors"] or par.n_factors
    if n_factors < 1:
        raise AnalysisError("parallel analysis retains no factor: the items share too little variance for an EFA")
    initial = efa_mod.efa(data, n_factors, method=st["efa"]["method"], rotation=st["efa"]["rotation"], items=items)
    pur = efa_mod.purify(
        data,
        constructs,
        n_factors=n_factors,
        rules=st["purification"],
        method=st["efa"]["method"],
        rotation=st["efa"]["rotation"],
    )
    for c, kept in pur.retained.items():
        if len(kept) < 2:
            raise AnalysisError(f"construct '{c}' keeps {len(kept)} item after purification; at least two are needed")

    factorability = pd.DataFrame(
        [
            {"statistic": "KMO (overall MSA)", "value": k.overall, "df": np.nan, "p": np.nan},
            {"statistic": "Bartlett's test of sphericity (chi-square)", "value": b.chi2, "df": b.df, "p": b.p},
            {
                "statistic": f"Parallel analysis: factors suggested ({par.method}, {par.n_sims} simulations, {par.percentile:g}th percentile)",
                "value": par.n_factors,
                "df": np.nan,
                "p": np.nan,
            },
            {"statistic": "Factors extracted", "value": n_factors, "df": np.nan, "p": np.nan},
            {
                "statistic": f"n ({'every respondent: EM estimates under MAR' if est['missing'] == 'fiml' else 'listwise complete'})",
                "value": k.n,
                "df": np.nan,
                "p": np.nan,
            },
        ]
    )
    loadings = initial.loadings.copy()
    loadings.insert(0, "construct", [model.construct_of(i) for i in loadings.index])
    loadings["communality"] = initial.communalities
    loadings.index.name = "item"
    loadings = loadings.reset_index()
    loadings["retained"] = loadings["item"].isin([i for v in pur.retained.values() for i in v])
    retained = pd.DataFrame(
        [{"construct": c, "item": i, "text": model.item_text(i)} for c in constructs for i in pur.retained.get(c, [])]
    )
    log_table = pur.log.copy()
    if log_table.empty:
        log_table = pd.DataFrame([{"step": 0, "item": "", "rule": "none: every item met every rule"}])
    return ExploreResult(
        samples=samples,
        item_analysis=item_table,
        kmo=k,
        bartlett=b,
        factorability=factorability,
        parallel=par,
        efa=initial,
        efa_loadings=loadings,
        purification=pur,
        purification_log=log_table,
        retained=retained,
        n_factors=int(n_factors),
        n_analysed=len(df),
        rules=dict(st["purification"]),
        sample="calibration half" if st["split"]["enabled"] else "full sample",
        moments_source="EM estimates of the item covariances under MAR (every respondent counts)"
        if est["missing"] == "fiml"
        else "listwise complete cases",
    )


@dataclass
class ConfirmResult(StudyResult):
    """Rival CFAs and the reliability and validity of the purified scale."""

    fit: pd.DataFrame
    comparisons: pd.DataFrame
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    second_order_loadings: pd.DataFrame | None
    reliability: pd.DataFrame
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    common_method: pd.DataFrame
    scale_items: pd.DataFrame
    problems: list
    n: int
    fits: dict
    sample: str
    thresholds: dict
    estimation: dict
    modindices: pd.DataFrame
    missing_patterns: pd.DataFrame
    coverage: pd.DataFrame

    def method_note(self) -> str:
        e = self.estimation
        how = {
            "fiml": 'full-information ML (FIML, lavaan missing = "ml"): every respondent of the sample counts, missing answers assumed missing at random',
            "listwise": "complete cases only (listwise deletion)",
        }[e["missing"]]
        est = {
            "ML": "maximum likelihood (ML)",
            "MLR": "robust ML (MLR: Huber-White SEs, Yuan-Bentler scaled chi-square, robust CFI/TLI/RMSEA)",
        }[e["estimator"]]
        sizes = "; ".join(f.sample_note() for f in self.fits.values())
        return f"{est}, {how}; {self.sample}, n = {self.fits['correlated'].n} of {self.n} respondents; estimation core crfm.stats.sem (lavaan 0.6 conventions). Sample size: {sizes}."

    def tables(self) -> list[Table]:
        thr = self.thresholds
        ml = self.method_note()
        warn = tuple(f"WARNING: {p}" for p in self.problems)
        c_rival, c_fit = code_of(cfa_mod.rival_models), code_of(cfa_mod.fit_cfa)
        moments = (
            "item covariances: the saturated model's ML estimate (EM under MAR, the FIML analysis's h1)"
            if self.estimation["missing"] == "fiml"
            else "item covariances of the complete cases"
        )
        out = [
            Table(
                "study2_fit",
                self.fit,
                (
                    ml,
                    "SRMR as lavaan's srmr (with the mean residuals under FIML); log-likelihood, AIC and BIC of the ML fit.",
                    *warn,
                ),
                c_rival,
            ),
            Table(
                "study2_comparisons",
                self.comparisons,
                (
                    "Chi-square difference tests of nested models (likelihood ratio; Satorra-Bentler 2001 scaled difference under MLR).",
                ),
                code_of(cfa_mod.chi_square_difference),
            ),
            Table(
                "study2_loadings",
                self.loadings,
                (ml, "Standardized (std.all) loadings; SEs by the delta method; 95% Wald CIs.", *warn),
                c_fit,
            ),
            Table("study2_factor_correlations", self.factor_correlations, (ml,), c_fit),
            Table(
                "study2_modindices",
                self.modindices,
                (
                    ml,
                    "The ten largest modification indices of the correlated-factors model (lavaan modindices: score test of a fixed parameter, expected parameter change, standardized EPC).",
                ),
                code_of(cfa_mod.CFAResult.modindices),
            ),
            Table(
                "study2_reliability",
                self.reliability,
                (
                    f"alpha: Cronbach's raw alpha from the {moments}, the same respondents as CR and AVE. CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); AVE = mean(l^2); l = standardized CFA loadings. Pass: alpha >= {thr['alpha']}, CR >= {thr['cr']}, AVE >= {thr['ave']}.",
                ),
                code_of(pm.composite_reliability),
            ),
            Table(
                "study2_fornell_larcker",
                self.fornell_larcker,
                (
                    "Diagonal: square root of AVE; off-diagonal: CFA factor correlations. Discriminant validity when each sqrt(AVE) exceeds the construct's correlations.",
                ),
                code_of(pm.fornell_larcker),
            ),
            Table(
                "study2_htmt",
                self.htmt,
                (
                    f"Heterotrait-monotrait ratio (Henseler et al. 2015), arithmetic means of absolute item correlations ({moments}); pass: HTMT < {thr['htmt']}.",
                ),
                code_of(pm.htmt),
            ),
            Table(
                "study2_common_method",
                self.common_method,
                (f"Harman: first unrotated principal component of all retained items ({moments}).",),
                code_of(pm.harman_single_factor),
            ),
            Table(
                "study2_scale_items",
                self.scale_items,
                (ml, "Standardized loadings of the correlated-factors model with the constructs' alpha, CR and AVE."),
                c_fit,
            ),
            Table(
                "study2_missing_patterns",
                self.missing_patterns,
                (
                    f"Missing-answer patterns of the retained items in the {self.sample} (1 = answered), most frequent first; n = {self.n}.",
                ),
                code_of(sem.missing_patterns),
            ),
            Table(
                "study2_coverage",
                self.coverage,
                (f"Share of the {self.sample}'s {self.n} respondents who answered each retained item.",),
                code_of(sem.coverage),
            ),
        ]
        if self.second_order_loadings is not None:
            out.insert(
                4,
                Table(
                    "study2_second_order_loadings",
                    self.second_order_loadings,
                    (ml, "Standardized loadings of the first-order factors on the second-order factor."),
                    c_fit,
                ),
            )
        return out

    def facts(self) -> dict:
        """The numbers of summary.json."""
        return {
            "n_cfa": self.n,
            "fit": {k: dict(f.fit) for k, f in self.fits.items()},
            "reliability": self.reliability.set_index("construct")[["alpha", "cr", "ave"]].to_dict(orient="index"),
            "problems": self.problems,
        }


# --- confirmatory stage -------------------------------------------------------------------------------


def confirm(
    df: pd.DataFrame, samples: pd.DataFrame, retained: dict[str, list[str]], config: Mapping, model: MeasurementModel
) -> ConfirmResult:
    """Rival CFA models and reliability/validity on the validation (or full) sample."""
    s2, st = config["study2"], settings(config)
    thr = st["thresholds"]
    est = s2.get("estimation") or ESTIMATION_DEFAULTS
    val_ids = set(samples.loc[samples["sample"] != "calibration", s2["id_column"]])
    val = df[df[s2["id_column"]].isin(val_ids)].reset_index(drop=True)
    so = config.get("second_order")
    rivals = cfa_mod.rival_models(
        val,
        retained,
        second_order_name=so["factor"] if so else None,
        estimator=est["estimator"],
        missing=est["missing"],
    )
    main = rivals.fits["correlated"]
    all_items = [i for v in retained.values() for i in v]
    item_data = pm.item_moments(moments(val, all_items, est["missing"]), all_items, what="study2 reliability")
    problems = []
    for name, fit in rivals.fits.items():
        for w in fit.warnings:
            problems.append(f"{name}: {w}")
    std = main.std_loadings_by_factor()
    cr = pm.composite_reliability(std)
    av = pm.ave(std)
    alpha = {c: pm.cronbach_alpha_from_cov(item_data.subset(items).cov) for c, items in retained.items()}
    rel = pd.DataFrame(
        {
            "construct": list(retained),
            "label": [model.constructs[c].label for c in retained],
            "n_items": [len(retained[c]) for c in retained],
            "alpha": [alpha[c] for c in retained],
            "cr": [cr[c] for c in retained],
            "ave": [av[c] for c in retained],
        }
    )
    rel["sqrt_ave"] = np.sqrt(rel["ave"])
    rel["alpha_pass"] = rel["alpha"] >= thr["alpha"]
    rel["cr_pass"] = rel["cr"] >= thr["cr"]
    rel["ave_pass"] = rel["ave"] >= thr["ave"]
    fl = pm.fornell_larcker(av.to_dict(), main.factor_corr_matrix)
    ht = pm.htmt(item_data, retained)
    ht_pairs = pm.square_to_pairs(ht, "htmt")
    ht_pairs["pass"] = ht_pairs["htmt"] < thr["htmt"]
    harman = pm.harman_single_factor(item_data, threshold=thr["harman_share"])
    comp = rivals.comparisons
    one_vs = comp[(comp["restricted"] == "one_factor") & (comp["full"] == "correlated")].iloc[0]
    cmv = pd.DataFrame(
        [
            {
                "check": "Harman's single factor: first unrotated component's share of variance",
                "value": harman.share,
                "threshold": f"< {thr['harman_share']:g}",
                "pass": bool(harman.passed),
            },
            {
                "check": "One-factor CFA vs correlated-factors CFA: delta chi-square",
                "value": one_vs["delta_chi2"],
                "threshold": f"df = {one_vs['delta_df']:g}, p = {one_vs['p']:.3g}"
                if np.isfinite(one_vs["p"])
                else f"df = {one_vs['delta_df']:g}: no test ({one_vs['note']})",
                "pass": bool(one_vs["p"] < 0.05),
            },
            {
                "check": "One-factor CFA: CFI",
                "value": rivals.fits["one_factor"].fit["cfi"],
                "threshold": "poor fit expected (< .90)",
                "pass": bool(rivals.fits["one_factor"].fit["cfi"] < 0.90),
            },
        ]
    )
    loadings = main.loadings.copy()
    loadings["text"] = loadings["item"].map(model.item_text)
    scale = loadings[["factor", "item", "text", "std_all", "std_se", "ci_lower", "ci_upper"]].rename(
        columns={"factor": "construct", "std_all": "loading", "std_se": "se"}
    )
    scale = scale.merge(rel[["construct", "alpha", "cr", "ave"]], on="construct", how="left")
    second = rivals.fits.get("second_order")
    so_load = second.second_order_loadings if second is not None else None
    mi = main.modindices(top=10)
    cov_items = sem.coverage(val, all_items)
    return ConfirmResult(
        fit=rivals.table.copy(),
        comparisons=comp,
        loadings=loadings,
        factor_correlations=main.factor_correlations,
        second_order_loadings=so_load,
        reliability=rel,
        fornell_larcker=fl.matrix.reset_index(names="construct"),
        htmt=ht_pairs,
        common_method=cmv,
        scale_items=scale,
        problems=problems,
        n=len(val),
        fits=rivals.fits,
        sample="validation half" if (samples["sample"] == "validation").any() else "full sample",
        thresholds=thr,
        estimation=dict(est),
        modindices=mi[["lhs", "op", "rhs", "mi", "epc", "sepc_all"]],
        missing_patterns=sem.missing_patterns(val, all_items),
        coverage=cov_items.rename_axis("item").reset_index(),
    )


# --- measurement invariance -----------------------------------------------------------------------------


@dataclass
class ScaleInvarianceResult(StudyResult):
    """Study 2's invariance steps (the study-level wrapper of :class:`crfm.stats.sem.InvarianceResult`)."""

    table: pd.DataFrame
    group: str
    n_by_group: dict
    estimation: dict
    partial: list
    cutoffs: dict

    def tables(self) -> list[Table]:
        groups = ", ".join(f"{k}: n = {v}" for k, v in self.n_by_group.items())
        e = self.estimation
        notes = (
            f"Multi-group CFA of the purified scale (correlated factors) across '{self.group}' ({groups}); {e['estimator']}, {'FIML' if e['missing'] == 'fiml' else 'listwise'}. "
            "Configural: same pattern; metric: + equal loadings; scalar: + equal intercepts (latent means free in the second group); strict: + equal residual variances. "
            "Each step is compared with the one before: chi-square difference (Satorra-Bentler 2001 scaled under MLR), change in CFI and RMSEA (robust under MLR) against the cut-offs of Chen (2007): "
            f"a step holds when CFI falls by at most {-self.cutoffs['delta_cfi_min']:.3f} and RMSEA rises by at most {self.cutoffs['delta_rmsea_max']:.3f}."
            + (f" Partial invariance: {', '.join(self.partial)} free across groups." if self.partial else ""),
        )
        return [Table("study2_invariance", self.table, notes, code_of(sem.measurement_invariance))]


def invariance(
    df: pd.DataFrame, samples: pd.DataFrame, retained: dict[str, list[str]], config: Mapping
) -> ScaleInvarianceResult:
    """Configural, metric, scalar and strict invariance of the correlated-factors model across the groups
    of the configured column (``sample``: the calibration and validation halves)."""
    s2 = config["study2"]
    inv, est = s2["invariance"], s2["estimation"]
    data = df.merge(samples, on=s2["id_column"], how="left", validate="one_to_one")
    group = inv["group"]
    if group not in data.columns:
        raise AnalysisError(
            f"study2.invariance.group: column '{group}' is not in the Study 2 data (declare it under study2.variables, or use 'sample')"
        )
    items = [i for v in retained.values() for i in v]
    from crfm.stats.sem.invariance import CHEN_2007

    model = sem.Model.from_syntax(cfa_mod.cfa_syntax(retained))
    res = sem.measurement_invariance(
        model,
        data[[group, *items]],
        group,
        estimator=est["estimator"],
        missing=est["missing"],
        partial=tuple(inv["partial"]),
        cutoffs=dict(inv["cutoffs"]),
        steps=tuple(inv["steps"]),
    )
    n_by_group = {str(k): int(v) for k, v in data[group].value_counts(sort=False).sort_index().items()}
    return ScaleInvarianceResult(
        res.table,
        group,
        n_by_group,
        dict(est),
        list(inv["partial"]),
        {**CHEN_2007, **{k: v for k, v in res.cutoffs.items() if k in CHEN_2007}},
    )


# The schema of this study's config section (JSON Schema, YAML notation; "#/$defs/..." are the shared
# definitions of workflow/schemas/config.schema.yaml).
CONFIG_SCHEMA = parse_yaml(
    """
allOf:
  - {$ref: "#/$defs/survey"}
  - type: object
    additionalProperties: false
    required: [constructs]
    properties:
      survey: true
      id_column: true
      variables: true
      ignore_columns: true
      exclusions: true
      estimation: {$ref: "#/$defs/estimation"}
      invariance: {$ref: "#/$defs/invariance"}
      constructs:
        type: array
        minItems: 1
        uniqueItems: true
        items: {$ref: "#/$defs/name"}
      efa:
        type: object
        additionalProperties: false
        properties:
          method: {enum: [ml, minres]}
          rotation: {enum: [oblimin, promax, varimax, none]}
          n_factors:
            oneOf: [{$ref: "#/$defs/positive_int"}, {type: "null"}]
      parallel_analysis:
        type: object
        additionalProperties: false
        required: [seed]
        properties:
          method: {enum: [pca, fa]}
          n_sims: {type: integer, minimum: 20}
          percentile: {type: number, exclusiveMinimum: 50, maximum: 100}
          seed: {$ref: "#/$defs/seed"}
      purification:
        type: object
        additionalProperties: false
        properties:
          min_loading: {$ref: "#/$defs/share"}
          max_cross_loading: {$ref: "#/$defs/share"}
          min_item_total: {type: number, minimum: -1, maximum: 1}
      split:
        type: object
        additionalProperties: false
        required: [enabled]
        properties:
          enabled: {type: boolean}
          fraction: {type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}
          seed: {$ref: "#/$defs/seed"}
      thresholds:
        type: object
        additionalProperties: false
        properties:
          alpha: {$ref: "#/$defs/share"}
          cr: {$ref: "#/$defs/share"}
          ave: {$ref: "#/$defs/share"}
          htmt: {type: number, minimum: 0, maximum: 1.5}
          harman_share: {$ref: "#/$defs/share"}
"""
)


def tables(config: Mapping) -> list[str]:
    out = ["study2_exclusions", "study2_flow", *EXPLORE_TABLES, *CONFIRM_TABLES]
    if not config.get("second_order"):
        out.remove("study2_second_order_loadings")
    if has_invariance(config):
        out.append("study2_invariance")
    return out


STUDY = Study(
    config_schema=CONFIG_SCHEMA,
    id="study2",
    title="Study 2: Scale development",
    tables=tables,
    figures=lambda config: list(FIGURES),
    settings={
        "study2_validate": lambda config: survey_settings(config, "study2"),
        "study2_explore": explore_settings,
        "study2_confirm": confirm_settings,
        "study2_invariance": invariance_settings,
    },
    raw_inputs=lambda config: [config["study2"]["survey"]],
    summaries={"study2_explore": "study2/explore_summary.json"},
    files=("study2/retained_items.csv", "study2/summary.json"),
)
