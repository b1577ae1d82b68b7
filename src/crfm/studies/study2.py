"""Study 2 stages: config and analysed respondents in, the scale-development tables out.

Two stages, one workflow rule each:

* :func:`explore` - item analysis, factorability (KMO, Bartlett), parallel analysis, EFA of the pool,
  purification, the retained items and the calibration/validation split;
* :func:`confirm` - rival CFA models, loadings, reliability and validity, common-method checks and the
  scale-items table, on the validation sample (the whole sample when no split is configured).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crfm.stats import cfa as cfa_mod
from crfm.stats import efa as efa_mod
from crfm.stats import psychometrics as pm
from crfm.data.config import MeasurementModel
from crfm.errors import AnalysisError

log = logging.getLogger(__name__)

DEFAULT_PURIFICATION = {"min_loading": 0.5, "max_cross_loading": 0.3, "min_item_total": 0.4}
DEFAULT_THRESHOLDS = {"alpha": 0.7, "cr": 0.7, "ave": 0.5, "htmt": 0.85, "harman_share": 0.5}


def settings(config: dict) -> dict:
    s2 = config["study2"]
    efa = {"method": "ml", "rotation": "oblimin", "n_factors": None, **(s2.get("efa") or {})}
    pa = {"method": "pca", "n_sims": 500, "percentile": 95, **(s2.get("parallel_analysis") or {})}
    pur = {**DEFAULT_PURIFICATION, **(s2.get("purification") or {})}
    split = {"enabled": False, "fraction": 0.5, "seed": 0, **(s2.get("split") or {})}
    thr = {**DEFAULT_THRESHOLDS, **(s2.get("thresholds") or {})}
    return {"efa": efa, "pa": pa, "purification": pur, "split": split, "thresholds": thr}


def split_samples(df: pd.DataFrame, id_column: str, split: dict) -> pd.DataFrame:
    """Respondent -> sample ('calibration'/'validation', or 'full' when no split)."""
    if not split["enabled"]:
        return pd.DataFrame({id_column: df[id_column], "sample": "full"})
    cal, val = efa_mod.split_halves(df, split["seed"], split["fraction"])
    out = pd.concat([cal[[id_column]].assign(sample="calibration"), val[[id_column]].assign(sample="validation")])
    return out.set_index(id_column).loc[df[id_column]].reset_index()


def explore(df: pd.DataFrame, config: dict, model: MeasurementModel) -> dict:
    """Item analysis -> factorability -> parallel analysis -> EFA -> purification."""
    s2, st = config["study2"], settings(config)
    constructs = model.item_map(s2["constructs"])
    items = model.items_of(s2["constructs"])
    samples = split_samples(df, s2["id_column"], st["split"])
    cal_ids = set(samples.loc[samples["sample"] != "validation", s2["id_column"]])
    cal = df[df[s2["id_column"]].isin(cal_ids)].reset_index(drop=True)

    item_table = pm.item_analysis(cal, constructs)
    k = pm.kmo(cal, items)
    b = pm.bartlett(cal, items)
    pa = st["pa"]
    par = pm.parallel_analysis(cal, n_sims=pa["n_sims"], seed=pa["seed"], percentile=pa["percentile"], method=pa["method"], items=items)
    n_factors = st["efa"]["n_factors"] or par.n_factors
    if n_factors < 1:
        raise AnalysisError("parallel analysis retains no factor: the items share too little variance for an EFA")
    initial = efa_mod.efa(cal, n_factors, method=st["efa"]["method"], rotation=st["efa"]["rotation"], items=items)
    pur = efa_mod.purify(cal, constructs, n_factors=n_factors, rules=st["purification"], method=st["efa"]["method"], rotation=st["efa"]["rotation"])
    for c, kept in pur.retained.items():
        if len(kept) < 2:
            raise AnalysisError(f"construct '{c}' keeps {len(kept)} item after purification; at least two are needed")

    factorability = pd.DataFrame(
        [
            {"statistic": "KMO (overall MSA)", "value": k.overall, "df": np.nan, "p": np.nan},
            {"statistic": "Bartlett's test of sphericity (chi-square)", "value": b.chi2, "df": b.df, "p": b.p},
            {"statistic": f"Parallel analysis: factors suggested ({par.method}, {par.n_sims} simulations, {par.percentile:g}th percentile)", "value": par.n_factors, "df": np.nan, "p": np.nan},
            {"statistic": "Factors extracted", "value": n_factors, "df": np.nan, "p": np.nan},
            {"statistic": "n (listwise complete)", "value": k.n, "df": np.nan, "p": np.nan},
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
    return {
        "samples": samples,
        "item_analysis": item_table,
        "kmo": k.to_frame(),
        "kmo_result": k,
        "bartlett": b,
        "factorability": factorability,
        "parallel_analysis": par,
        "efa_initial": initial,
        "efa_loadings": loadings,
        "efa_factor_correlations": initial.phi.reset_index(names="factor"),
        "efa_variance": initial.variance,
        "purification": pur,
        "purification_log": log_table,
        "retained": retained,
        "n_factors": n_factors,
    }


def confirm(df: pd.DataFrame, samples: pd.DataFrame, retained: dict[str, list[str]], config: dict, model: MeasurementModel) -> dict:
    """Rival CFA models and reliability/validity on the validation (or full) sample."""
    s2, st = config["study2"], settings(config)
    thr = st["thresholds"]
    val_ids = set(samples.loc[samples["sample"] != "calibration", s2["id_column"]])
    val = df[df[s2["id_column"]].isin(val_ids)].reset_index(drop=True)
    so = config.get("second_order")
    so_name = so["factor"] if so else "second_order"
    rivals = cfa_mod.rival_models(val, retained, second_order_name=so_name)
    main = rivals.fits["correlated"]
    problems = []
    for name, fit in rivals.fits.items():
        for w in fit.warnings:
            problems.append(f"{name}: {w}")
    std = main.std_loadings_by_factor()
    cr = pm.composite_reliability(std)
    av = pm.ave(std)
    alpha = {c: pm.cronbach_alpha(val[items]) for c, items in retained.items()}
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
    ht = pm.htmt(val, retained)
    ht_pairs = pm.square_to_pairs(ht, "htmt")
    ht_pairs["pass"] = ht_pairs["htmt"] < thr["htmt"]
    all_items = [i for v in retained.values() for i in v]
    harman = pm.harman_single_factor(val[all_items], threshold=thr["harman_share"])
    comp = rivals.comparisons
    one_vs = comp[(comp["restricted"] == "one_factor") & (comp["full"] == "correlated")].iloc[0]
    cmv = pd.DataFrame(
        [
            {"check": "Harman's single factor: first unrotated component's share of variance", "value": harman.share, "threshold": f"< {thr['harman_share']:g}", "pass": bool(harman.passed)},
            {"check": "One-factor CFA vs correlated-factors CFA: delta chi-square", "value": one_vs["delta_chi2"], "threshold": f"df = {one_vs['delta_df']:g}, p = {one_vs['p']:.3g}", "pass": bool(one_vs["p"] < 0.05)},
            {"check": "One-factor CFA: CFI", "value": rivals.fits["one_factor"].fit["cfi"], "threshold": "poor fit expected (< .90)", "pass": bool(rivals.fits["one_factor"].fit["cfi"] < 0.90)},
        ]
    )
    loadings = main.loadings.copy()
    loadings["text"] = loadings["item"].map(model.item_text)
    scale = loadings[["factor", "item", "text", "std_all", "std_se", "ci_lower", "ci_upper"]].rename(columns={"factor": "construct", "std_all": "loading", "std_se": "se"})
    scale = scale.merge(rel[["construct", "alpha", "cr", "ave"]], on="construct", how="left")
    second = rivals.fits.get("second_order")
    so_load = second.second_order_loadings if second is not None else pd.DataFrame()
    fit_table = rivals.table.copy()
    return {
        "fit": fit_table,
        "comparisons": comp,
        "loadings": loadings,
        "factor_correlations": main.factor_correlations,
        "second_order_loadings": so_load,
        "reliability": rel,
        "fornell_larcker": fl.matrix.reset_index(names="construct"),
        "htmt": ht_pairs,
        "common_method": cmv,
        "scale_items": scale,
        "problems": problems,
        "n": len(val),
        "fits": rivals.fits,
    }


# --- figures ---------------------------------------------------------------------------------------


def plot_scree(par, paths, *, synthetic: bool) -> None:
    from crfm.data.tables import save_figure
    from crfm.report.figures import plt

    t = par.table
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(t["position"], t["observed"], "o-", color="C0", label="observed eigenvalues")
    ax.plot(t["position"], t["simulated_percentile"], "s--", color="C3", ms=4, label=f"random data, {par.percentile:g}th percentile ({par.n_sims} simulations)")
    ax.axvline(par.n_factors + 0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("component / factor")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"Scree plot with parallel analysis ({par.method}): {par.n_factors} factors suggested")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    save_figure(fig, paths, synthetic=synthetic)
    plt.close(fig)


def plot_loading_heatmap(loadings: pd.DataFrame, paths, *, synthetic: bool) -> None:
    from crfm.data.tables import save_figure
    from crfm.report.figures import plt

    fcols = [c for c in loadings.columns if c.startswith("F") and c[1:].isdigit()]
    m = loadings[fcols].to_numpy(float)
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(fcols), 0.3 * len(loadings) + 1.2))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(fcols)), fcols)
    labels = [f"{i}{'' if r else ' (removed)'}" for i, r in zip(loadings["item"], loadings["retained"])]
    ax.set_yticks(range(len(loadings)), labels)
    for (r, c), v in np.ndenumerate(m):
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    ax.set_title("EFA pattern loadings of the item pool")
    fig.colorbar(im, ax=ax, fraction=0.05, label="loading")
    fig.tight_layout()
    save_figure(fig, paths, synthetic=synthetic)
    plt.close(fig)
