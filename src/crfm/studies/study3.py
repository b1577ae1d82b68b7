"""Study 3: predictive validation - CRFM and selling performance, moderated by offering complexity.

Steps (one workflow rule each): ``study3_validate`` (:mod:`crfm.studies.survey`),
``study3_measurement`` (:func:`measurement`), ``study3_regression`` (:func:`regressions`),
``study3_bootstrap_shard`` / ``study3_bootstrap_ci`` (:func:`bootstrap_shard`,
:func:`bootstrap_intervals`), ``study3_sem`` (:func:`sem_moderation`) and ``study3_hypotheses``
(:func:`hypotheses`). Building blocks: composite scores of the retained items, the hierarchical
moderated regression in its three variants, and a fast bootstrap statistic.

Conventions (stated in the tables' notes):

* composite score = mean of a respondent's answered items of the construct (reverse-keyed items already
  recoded); missing when fewer than half the items were answered;
* the second-order factor's composite (CRFM) = mean of its dimensions' composites;
* focal and moderator are mean-centred; the interaction is the product of the centred variables;
* standardized coefficients come from the refit on z-scored variables, the product built from z-scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crfm.data.config import parse_yaml
from crfm.errors import AnalysisError
from crfm.studies.base import Study, StudyResult, Table, code_of, lazy_module
from crfm.studies.survey import survey_settings

regression = lazy_module("crfm.stats.regression")

MEASUREMENT_TABLES = (
    "study3_measurement_fit",
    "study3_measurement_loadings",
    "study3_second_order_loadings",
    "study3_reliability",
    "study3_htmt",
    "study3_fornell_larcker",
    "study3_descriptives",
    "study3_correlations",
    "study3_marker",
)
REGRESSION_TABLES = (
    "study3_coefficients",
    "study3_summary",
    "study3_vif",
    "study3_dimension_coefficients",
    "study3_dimension_summary",
    "study3_indicator_models",
    "study3_simple_slopes",
    "study3_johnson_neyman",
)
FIGURES = ("study3_interaction", "study3_johnson_neyman")


def composites(df: pd.DataFrame, constructs: dict[str, list[str]], second_order: dict | None = None) -> pd.DataFrame:
    """Composite scores: item means (at least half of the items answered), plus the second-order mean."""
    out = pd.DataFrame(index=df.index)
    for c, items in constructs.items():
        missing = [i for i in items if i not in df.columns]
        if missing:
            raise AnalysisError(f"construct '{c}': item(s) {missing} are not in the Study 3 data")
        x = df[items]
        enough = x.notna().sum(axis=1) >= np.ceil(len(items) / 2)
        out[c] = x.mean(axis=1).where(enough)
    if second_order:
        dims = list(second_order["dimensions"])
        out[second_order["factor"]] = out[dims].mean(axis=1, skipna=False)
    return out


def regression_steps(focal_terms: list[str], moderator: str, controls: list[str], interactions: list[str]):
    steps = []
    if controls:
        steps.append(("Step 1: controls", list(controls)))
    steps.append((f"Step {len(steps) + 1}: + {' + '.join(focal_terms)}", list(focal_terms)))
    steps.append((f"Step {len(steps) + 1}: + {moderator}", [moderator]))
    steps.append((f"Step {len(steps) + 1}: + interaction", list(interactions)))
    return steps


def moderated_regression(frame: pd.DataFrame, outcome: str, focal: str, moderator: str, controls: list[str]):
    """Controls; + focal; + moderator; + focal x moderator (HC3)."""
    inter = regression.interaction_name(focal, moderator)
    return regression.hierarchical_regression(
        frame, outcome, regression_steps([focal], moderator, controls, [inter]), focal=focal, moderator=moderator
    )


def dimension_regression(frame: pd.DataFrame, outcome: str, dims: list[str], moderator: str, controls: list[str]):
    """The dimension-level variant: the dimensions instead of the composite, each with its own product
    with the moderator; components centred on the analysis sample, standardized coefficients of the
    products from the products of z-scores (as the composite model)."""
    products = {regression.interaction_name(d, moderator): (d, moderator) for d in dims}
    return regression.hierarchical_regression(
        frame, outcome, regression_steps(dims, moderator, controls, list(products)), products=products
    )


class FastModeration:
    """The final moderated model as a plain least-squares fit, for bootstrap replicates.

    Returns the focal effect at the moderator's mean, the interaction, the conditional effects at the
    moderator's mean -1 SD and +1 SD (raw metric, centring and SD recomputed on each resample, as the
    full analysis would), and the standardized focal and interaction coefficients.
    """

    def __init__(self, frame: pd.DataFrame, outcome: str, focal: str, moderator: str, controls: list[str]):
        cols = [outcome, focal, moderator] + list(controls)
        data = frame[cols].dropna()
        ctrl, _ = regression.build_design(data, list(controls)) if controls else (pd.DataFrame(index=data.index), {})
        ctrl = ctrl.drop(columns=["Intercept"], errors="ignore")
        self.y = data[outcome].to_numpy(float)
        self.x = data[focal].to_numpy(float)
        self.m = data[moderator].to_numpy(float)
        self.c = ctrl.to_numpy(float)
        self.n = len(data)
        self.index = data.index

    def _fit(self, y, x, m, c):
        xc, mc = x - x.mean(), m - m.mean()
        X = np.column_stack([np.ones_like(y), c, xc, mc, xc * mc])
        b, *_ = np.linalg.lstsq(X, y, rcond=None)
        k = c.shape[1]
        return b[1 + k], b[3 + k], mc.std(ddof=1)

    def __call__(self, rows: np.ndarray | None = None) -> dict[str, float]:
        sel = slice(None) if rows is None else rows
        y, x, m, c = self.y[sel], self.x[sel], self.m[sel], self.c[sel]
        b1, b3, sd_m = self._fit(y, x, m, c)
        zs = lambda v: (v - v.mean()) / v.std(ddof=1)  # noqa: E731
        cz = (c - c.mean(axis=0)) / np.where(c.std(axis=0, ddof=1) > 0, c.std(axis=0, ddof=1), 1.0)
        beta1, beta3, _ = self._fit(zs(y), zs(x), zs(m), cz)
        return {
            "b_focal": b1,
            "b_interaction": b3,
            "slope_low": b1 - b3 * sd_m,
            "slope_high": b1 + b3 * sd_m,
            "beta_focal": beta1,
            "beta_interaction": beta3,
        }

    def shard(self, master_seed: int, start: int, stop: int) -> pd.DataFrame:
        """Replicates start..stop-1 in long form (replicate, stat, value); replicate i resamples with
        a generator seeded from (master_seed, i), so any split into shards gives the same numbers."""
        from crfm.stats.bootstrap import resample_indices

        rows = []
        for i in range(start, stop):
            stats = self(resample_indices(self.n, master_seed, i))
            rows.extend((i, k, float(v)) for k, v in stats.items())
        return pd.DataFrame(rows, columns=["replicate", "stat", "value"])

    def jackknife(self) -> pd.DataFrame:
        keep = np.ones(self.n, dtype=bool)
        out = []
        for j in range(self.n):
            keep[j] = False
            out.append(self(np.flatnonzero(keep)))
            keep[j] = True
        return pd.DataFrame(out)


# --- stages ---------------------------------------------------------------------------------------


def estimation_settings(config: Mapping) -> dict:
    """Study 3's ``estimation`` over the top-level one, over the defaults (ML, FIML)."""
    from crfm.studies.study2 import ESTIMATION_DEFAULTS

    return {**ESTIMATION_DEFAULTS, **(config.get("estimation") or {}), **(config["study3"].get("estimation") or {})}


def settings(config: dict) -> dict:
    s3, so = config["study3"], config.get("second_order")
    focal = s3["focal"]
    dims = list(so["dimensions"]) if so and focal == so["factor"] else []
    return {
        "id": s3["id_column"],
        "outcome": s3["outcome"],
        "focal": focal,
        "dims": dims,
        "moderators": list(s3["moderators"]),
        "marker": s3.get("marker"),
        "controls": list(s3.get("controls") or []),
        "bootstrap": {"replicates": 2000, "seed": 0, **(s3.get("bootstrap") or {})},
        "hypotheses": list(s3.get("hypotheses") or []),
    }


def _measurement(config: Mapping) -> list[dict]:
    from crfm.studies.survey import survey_constructs

    used = set(survey_constructs(config, "study3"))
    return [c for c in config["measurement"] if c["construct"] in used]


def _core(config: Mapping, *keys) -> dict:
    s3 = config["study3"]
    base = {k: s3.get(k) for k in ("id_column", "outcome", "focal", "moderators", "controls", *keys)}
    return {k: v for k, v in base.items() if v is not None}


def _so(config: Mapping) -> dict | None:
    so = config.get("second_order")
    return (
        {"factor": so["factor"], "label": so.get("label", so["factor"]), "dimensions": list(so["dimensions"])}
        if so
        else None
    )


def measurement_settings(config: Mapping) -> dict:
    return {
        "study3": {**_core(config, "marker"), "estimation": estimation_settings(config)},
        "second_order": _so(config),
        "measurement": _measurement(config),
    }


def regression_settings(config: Mapping) -> dict:
    return {"study3": _core(config), "second_order": _so(config), "measurement": _measurement(config)}


def sem_settings(config: Mapping) -> dict:
    return {
        "study3": {**_core(config), "estimation": estimation_settings(config)},
        "second_order": _so(config),
        "measurement": _measurement(config),
    }


def bootstrap_settings(config: Mapping) -> dict:
    return {"study3": {**_core(config), "bootstrap": settings(config)["bootstrap"]}, "second_order": _so(config)}


def hypotheses_settings(config: Mapping) -> dict:
    return {"study3": _core(config, "hypotheses"), "second_order": _so(config)}


def study_constructs(config: dict, model, retained: dict[str, list[str]]) -> dict[str, list[str]]:
    """Constructs of the Study 3 measurement model: the focal dimensions with Study 2's retained items,
    then outcome, moderators and marker with all their items."""
    st = settings(config)
    out = {}
    focal_parts = st["dims"] or [st["focal"]]
    for c in focal_parts:
        if c not in retained:
            raise AnalysisError(f"construct '{c}' has no retained items in Study 2's retained_items.csv")
        out[c] = list(retained[c])
    for c in [st["outcome"], *st["moderators"], *([st["marker"]] if st["marker"] else [])]:
        out.setdefault(c, list(retained.get(c, model.constructs[c].items)))
    return out


def analysis_frame(df: pd.DataFrame, config: dict, constructs: dict[str, list[str]]) -> pd.DataFrame:
    """ID, composite scores, outcome indicators and controls; one row per analysed firm."""
    st = settings(config)
    so = {"factor": st["focal"], "dimensions": st["dims"]} if st["dims"] else None
    comp = composites(df, constructs, so)
    frame = pd.concat([df[[st["id"]]], comp, df[constructs[st["outcome"]] + st["controls"]]], axis=1)
    return frame


@dataclass
class MeasurementResult(StudyResult):
    """The Study 3 measurement model, reliability and validity, composites and the marker adjustment."""

    fit: object  # crfm.stats.cfa.CFAResult
    reliability: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    descriptives: pd.DataFrame
    correlations: pd.DataFrame
    marker: pd.DataFrame | None
    frame: pd.DataFrame
    n: int
    second_order: bool
    estimation: dict

    @property
    def warnings(self) -> list[str]:
        return list(self.fit.warnings)

    def method_note(self) -> str:
        e = self.estimation
        how = (
            "FIML (every analysed firm counts; missing answers assumed missing at random)"
            if e["missing"] == "fiml"
            else "complete cases only"
        )
        return f"{e['estimator']}, {how}: n = {self.fit.n} of {self.n} firms; items of the CRFM dimensions: those Study 2 retained; estimation core crfm.stats.sem (lavaan 0.6 conventions). Sample size: {self.fit.sample_note()}."

    def tables(self) -> list[Table]:
        from crfm.stats import psychometrics as pm
        from crfm.stats.cfa import fit_cfa
        from crfm.stats.cmv import marker_adjustment

        ml = self.method_note()
        warn = tuple(f"WARNING: {w}" for w in self.warnings)
        c_fit = code_of(fit_cfa)
        moments = (
            "the saturated model's ML item covariances (EM under MAR)"
            if self.estimation["missing"] == "fiml"
            else "the complete cases' item covariances"
        )
        out = [
            Table("study3_measurement_fit", self.fit.fit_table(), (ml, *warn), c_fit),
            Table(
                "study3_measurement_loadings",
                self.fit.loadings,
                (ml, "Standardized loadings, delta-method SEs, 95% CIs.", *warn),
                c_fit,
            ),
            Table(
                "study3_reliability",
                self.reliability,
                (
                    f"alpha: Cronbach's alpha from {moments} (the CFA's respondents). CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); AVE = mean(l^2); l = standardized loadings (for the second-order factor: its loadings on the dimensions).",
                ),
                code_of(pm.composite_reliability),
            ),
            Table(
                "study3_htmt",
                self.htmt,
                (f"Heterotrait-monotrait ratio (Henseler et al. 2015) from {moments}, first-order constructs.",),
                code_of(pm.htmt),
            ),
            Table(
                "study3_fornell_larcker",
                self.fornell_larcker,
                (
                    "Diagonal: square root of AVE; off-diagonal: the measurement model's latent correlations (implied through the second-order factor for its dimensions). Discriminant validity when each sqrt(AVE) exceeds the construct's correlations.",
                ),
                code_of(pm.fornell_larcker),
            ),
            Table(
                "study3_descriptives",
                self.descriptives,
                ("Composite scores: mean of answered items (at least half answered); CRFM = mean of its dimensions.",),
                code_of(composites),
            ),
            Table(
                "study3_correlations",
                self.correlations,
                (
                    "Pearson correlations of the composite scores (pairwise complete); for discriminant validity see the Fornell-Larcker table, which uses latent correlations.",
                ),
                code_of(measurement),
            ),
        ]
        if self.second_order:
            out.insert(2, Table("study3_second_order_loadings", self.fit.second_order_loadings, (ml,), c_fit))
        if self.marker is not None:
            out.append(
                Table(
                    "study3_marker",
                    self.marker,
                    (
                        "Lindell & Whitney (2001): r_A = (r - r_M) / (1 - r_M), r_M = smallest positive marker correlation; t test on n - 3 df. Part-whole pairs (the second-order composite with its own dimensions) are left out.",
                    ),
                    code_of(marker_adjustment),
                )
            )
        return out

    def frame_table(self) -> Table:
        return Table(
            "analysis_frame",
            self.frame,
            ("Analysis frame: composite scores, outcome indicators and controls per firm.",),
            code_of(analysis_frame),
        )


def measurement(df: pd.DataFrame, config: Mapping, model, retained: dict[str, list[str]]) -> MeasurementResult:
    """CFA of every construct of the study (with the second-order focal factor), reliability, HTMT,
    Fornell-Larcker on the latent correlations, descriptives and correlations of the composites, and
    the Lindell-Whitney marker-variable adjustment."""
    from crfm.stats import psychometrics as pm
    from crfm.stats.cfa import fit_cfa
    from crfm.stats.cmv import marker_adjustment

    st = settings(config)
    est = config["study3"].get("estimation") or estimation_settings(config)
    constructs = study_constructs(config, model, retained)
    second = {st["focal"]: st["dims"]} if st["dims"] else None
    fit = fit_cfa(df, constructs, second_order=second, estimator=est["estimator"], missing=est["missing"])
    from crfm.studies.study2 import moments

    items = [i for v in constructs.values() for i in v]
    item_data = pm.item_moments(moments(df, items, est["missing"]), items, what="study3 reliability")
    cov = item_data.cov
    std = fit.std_loadings_by_factor()
    cr, av = pm.composite_reliability(std), pm.ave(std)
    rows = []
    for c, its in constructs.items():
        rows.append(
            {
                "construct": c,
                "label": model.constructs[c].label,
                "n_items": len(its),
                "alpha": pm.cronbach_alpha_from_cov(cov.loc[its, its]),
                "cr": cr[c],
                "ave": av[c],
            }
        )
    if second:
        l2 = fit.second_order_loadings["std_all"].tolist()
        dim_items = [i for d_ in st["dims"] for i in constructs[d_]]
        rows.append(
            {
                "construct": st["focal"],
                "label": (config.get("second_order") or {}).get("label", st["focal"]),
                "n_items": len(dim_items),
                "alpha": pm.cronbach_alpha_from_cov(cov.loc[dim_items, dim_items]),
                "cr": pm.composite_reliability(l2),
                "ave": pm.ave(l2),
            }
        )
    rel = pd.DataFrame(rows)
    rel["sqrt_ave"] = np.sqrt(rel["ave"])
    fl = pm.fornell_larcker({c: av[c] for c in constructs}, fit.factor_corr_matrix)
    frame = analysis_frame(df, config, constructs)
    variables = [*st["dims"], st["focal"], st["outcome"], *st["moderators"]]
    numeric_controls = [c for c in st["controls"] if pd.api.types.is_numeric_dtype(frame[c])]
    desc_vars = variables + ([st["marker"]] if st["marker"] else []) + numeric_controls
    data = frame[desc_vars]
    desc = pd.DataFrame(
        {
            "variable": desc_vars,
            "n": data.notna().sum().to_numpy(),
            "mean": data.mean().to_numpy(),
            "sd": data.std(ddof=1).to_numpy(),
        }
    )
    corr = data.corr().reset_index(names="variable")
    marker_table = None
    if st["marker"]:
        part_whole = [(st["focal"], d_) for d_ in st["dims"]]  # CRFM is the mean of its dimensions
        marker_table = marker_adjustment(frame, st["marker"], variables, skip_pairs=part_whole)
    ht = pm.square_to_pairs(pm.htmt(item_data, constructs), "htmt")
    return MeasurementResult(
        fit,
        rel,
        ht,
        fl.matrix.reset_index(names="construct"),
        desc,
        corr,
        marker_table,
        frame,
        len(df),
        bool(second),
        dict(est),
    )


HC3_NOTE = "OLS with HC3 robust SEs, t(df_resid) inference; focal and moderator mean-centred, interaction = product of the centred variables; beta: coefficients of the refit on z-scored variables (product of z-scores)."


@dataclass
class RegressionResult(StudyResult):
    """Hierarchical moderated regressions (composite, dimension-level, per indicator), simple slopes and
    Johnson-Neyman bounds; ``results`` and ``curves`` per moderator feed the figures."""

    coefficients: pd.DataFrame
    summary_table: pd.DataFrame
    vif: pd.DataFrame
    dimension_coefficients: pd.DataFrame
    dimension_summary: pd.DataFrame
    indicator_models: pd.DataFrame
    simple_slopes: pd.DataFrame
    johnson_neyman: pd.DataFrame
    results: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)

    def tables(self) -> list[Table]:
        from crfm.stats.regression import johnson_neyman, simple_slopes

        c_h = code_of(regression.hierarchical_regression)
        out = [
            Table("study3_coefficients", self.coefficients, (HC3_NOTE,), c_h),
            Table(
                "study3_summary",
                self.summary_table,
                ("Delta R-squared with the classical nested F-change test; wald_*: HC3 Wald test of the added block.",),
                c_h,
            ),
            Table("study3_vif", self.vif, ("Variance inflation factors of the final model's (centred) design.",), c_h),
            Table(
                "study3_indicator_models",
                self.indicator_models,
                (HC3_NOTE, "Final model with each selling-performance indicator as the outcome."),
                code_of(moderated_regression),
            ),
            Table(
                "study3_simple_slopes",
                self.simple_slopes,
                ("Conditional effect of the focal variable at the moderator's mean and +/-1 SD; HC3 SEs.",),
                code_of(simple_slopes),
            ),
            Table(
                "study3_johnson_neyman",
                self.johnson_neyman,
                (
                    "Johnson-Neyman bounds (closed form): moderator values where the conditional effect's t equals t_crit; value on the centred scale, value_raw on the original.",
                ),
                code_of(johnson_neyman),
            ),
        ]
        if not self.dimension_coefficients.empty:
            out[3:3] = [
                Table(
                    "study3_dimension_coefficients",
                    self.dimension_coefficients,
                    (
                        HC3_NOTE,
                        "Dimension-level variant: the CRFM dimensions replace the composite, each with its own product with the moderator.",
                    ),
                    code_of(dimension_regression),
                ),
                Table(
                    "study3_dimension_summary",
                    self.dimension_summary,
                    ("Dimension-level variant.",),
                    code_of(dimension_regression),
                ),
            ]
        return out


def regressions(frame: pd.DataFrame, config: Mapping, indicators: list[str]) -> RegressionResult:
    """The composite model, the dimension-level variant and one model per outcome indicator
    (``indicators``: the outcome's items), for each moderator; simple slopes and Johnson-Neyman for the
    composite model."""
    from crfm.stats.regression import jn_curve_from_result, johnson_neyman_from_result, simple_slopes

    st = settings(config)
    y, focal, controls = st["outcome"], st["focal"], st["controls"]
    coefs, summaries, vifs, dim_coefs, dim_summaries, ind_rows, slopes, jn_rows = [], [], [], [], [], [], [], []
    results, curves = {}, {}
    for mod in st["moderators"]:
        res = moderated_regression(frame, y, focal, mod, controls)
        results[mod] = res
        coefs.append(res.coefficients.assign(model="composite", moderator=mod))
        summaries.append(res.summary.assign(model="composite", moderator=mod))
        vifs.append(res.vif.assign(moderator=mod))
        pts = res.moderator_points()
        slopes.append(simple_slopes(res, focal, mod, at=pts).assign(moderator=mod))
        jn = johnson_neyman_from_result(res)
        jn_rows.append(jn.bounds_table().assign(moderator=mod, region=jn.region))
        inter = regression.interaction_name(focal, mod)
        curves[mod] = (jn_curve_from_result(res), jn)
        if st["dims"]:
            dres = dimension_regression(frame, y, st["dims"], mod, controls)
            dim_coefs.append(dres.coefficients.assign(model="dimensions", moderator=mod))
            dim_summaries.append(dres.summary.assign(model="dimensions", moderator=mod))
        for ind in indicators:
            ires = moderated_regression(frame, ind, focal, mod, controls)
            last = ires.coefficients[ires.coefficients["step"] == ires.coefficients["step"].max()]
            keep = last[last["term"].isin([focal, mod, inter])]
            r2 = float(ires.summary["r2"].iloc[-1])
            ind_rows.append(keep.assign(outcome=ind, moderator=mod, r2=r2, n=int(ires.summary["n"].iloc[-1])))
    return RegressionResult(
        coefficients=pd.concat(coefs, ignore_index=True),
        summary_table=pd.concat(summaries, ignore_index=True),
        vif=pd.concat(vifs, ignore_index=True),
        dimension_coefficients=pd.concat(dim_coefs, ignore_index=True) if dim_coefs else pd.DataFrame(),
        dimension_summary=pd.concat(dim_summaries, ignore_index=True) if dim_summaries else pd.DataFrame(),
        indicator_models=pd.concat(ind_rows, ignore_index=True) if ind_rows else pd.DataFrame(),
        simple_slopes=pd.concat(slopes, ignore_index=True),
        johnson_neyman=pd.concat(jn_rows, ignore_index=True),
        results=results,
        curves=curves,
    )


@dataclass
class ModerationSEMResult(StudyResult):
    """The latent moderated SEM: structural paths and fit, one model per moderator."""

    paths: pd.DataFrame
    fit: pd.DataFrame
    estimation: dict

    def note(self) -> str:
        e = self.estimation
        n = ", ".join(f"{m}: n = {k}" for m, k in zip(self.fit["moderator"], self.fit["n"]))
        return (
            f"{e['estimator']}, {'FIML (every firm with its controls answered counts)' if e['missing'] == 'fiml' else 'complete cases'} ({n}); "
            "latent interaction by double-mean-centred product indicators (Lin et al. 2010) of the dimension composites with the moderator's items, matched pairs; "
            "controls as observed covariates (fixed.x: their moments are data, not counted in df), correlated with the exogenous latent variables; Wald 95% CIs; standardized estimates with every latent and observed variable scaled to unit variance."
        )

    def tables(self) -> list[Table]:
        c = code_of(sem_moderation)
        return [
            Table("study3_sem_paths", self.paths, (self.note(),), c),
            Table(
                "study3_sem_fit",
                self.fit,
                (
                    self.note(),
                    "Fit measures of the estimation core (crfm.stats.sem, lavaan 0.6 conventions: df excludes the fixed.x moments).",
                ),
                c,
            ),
        ]


def sem_model(df: pd.DataFrame, frame: pd.DataFrame, config: Mapping, constructs: dict[str, list[str]], mod: str):
    """The data and lavaan syntax of the latent moderated SEM for one moderator (see
    :func:`sem_moderation`): returns (data, syntax, {syntax name: control term}, product-indicator names).
    The reference script tests/reference/lavaan/make_study3_sem.py fits the same to lavaan."""
    from crfm.stats.regression import product_indicators

    st = settings(config)
    y, focal, controls = st["outcome"], st["focal"], st["controls"]
    # composite scores enter only as product-indicator components, under their own names: a column
    # named like a latent variable would be ambiguous (lavaan refuses it)
    x_cols = [f"{d}_score" for d in st["dims"]] or constructs[focal]
    items = list(dict.fromkeys(i for c in (*st["dims"], focal, y, mod) for i in constructs.get(c, [])))
    data = df[items].copy()
    for d in st["dims"]:
        data[f"{d}_score"] = frame[d].to_numpy()
    ctrl = pd.DataFrame(index=df.index)
    label = {}
    if controls:
        has_ctrl = frame[controls].notna().all(axis=1).to_numpy()
        data, frame_c = data[has_ctrl], frame.loc[has_ctrl]
        ctrl, _ = regression.build_design(frame_c, controls)
        ctrl = ctrl.drop(columns=["Intercept"], errors="ignore")
        original = list(ctrl.columns)  # syntax needs plain names: c0_..., mapped back in the tables
        ctrl.columns = [f"c{k}_{''.join(ch if ch.isalnum() else '_' for ch in c)}" for k, c in enumerate(original)]
        label = dict(zip(ctrl.columns, original))
    prods, names = product_indicators(data, x_cols, constructs[mod])
    data = pd.concat([data[items], prods, ctrl], axis=1)
    inter = regression.interaction_name(focal, mod)
    lines = []
    if st["dims"]:
        lines += [f"{d} =~ {' + '.join(constructs[d])}" for d in st["dims"]]
        lines.append(f"{focal} =~ {' + '.join(st['dims'])}")
    else:
        lines.append(f"{focal} =~ {' + '.join(constructs[focal])}")
    lines.append(f"{y} =~ {' + '.join(constructs[y])}")
    lines.append(f"{mod} =~ {' + '.join(constructs[mod])}")
    lines.append(f"{inter} =~ {' + '.join(names)}")
    lines.append(f"{y} ~ {focal} + {mod} + {inter}" + "".join(f" + {c}" for c in ctrl.columns))
    lines += [f"{lat} ~~ {' + '.join(ctrl.columns)}" for lat in (focal, mod, inter) if len(ctrl.columns)]
    return data.reset_index(drop=True), "\n".join(lines), label, names


def sem_moderation(
    df: pd.DataFrame, frame: pd.DataFrame, config: Mapping, constructs: dict[str, list[str]]
) -> ModerationSEMResult:
    """Latent moderated SEM on the estimation core (:mod:`crfm.stats.sem`), one model per moderator:
    the second-order focal factor (or a first-order one), the outcome, the moderator, and a latent
    interaction measured by double-mean-centred product indicators (Lin et al. 2010) of the focal
    dimensions' composite scores (the focal factor's items when it is first order) with the moderator's
    items, matched pairs; controls as observed covariates (fixed.x: their moments are data, not
    counted in df) correlated with the exogenous latents by explicit covariances (lavaan leaves them at
    0 unless stated), so the focal and interaction paths are net of the controls. Estimated as
    configured (FIML by default: every firm with its controls answered counts)."""
    from crfm.stats import sem

    st = settings(config)
    est = estimation_settings(config)
    y = st["outcome"]
    rows, fits = [], []
    for mod in st["moderators"]:
        data, syntax, label, names = sem_model(df, frame, config, constructs, mod)
        res = sem.fit(sem.Model.from_syntax(syntax), data, estimator=est["estimator"], missing=est["missing"])
        P = res.parameters
        paths = P[(P["op"] == "~") & (P["lhs"] == y)]
        for _, r in paths.iterrows():
            rows.append(
                {
                    "moderator": mod,
                    "outcome": y,
                    "term": label.get(r["rhs"], r["rhs"]),
                    "estimate": r["est"],
                    "std_estimate": r["std_all"],
                    "se": r["se"],
                    "z": r["z"],
                    "p": r["p"],
                    "ci_lower": r["ci_lower"],
                    "ci_upper": r["ci_upper"],
                }
            )
        f = res.fit
        row = {"moderator": mod, "n": res.n, "converged": bool(res.converged), "proper": bool(res.proper)}
        row.update(
            {
                k: f[k]
                for k in ("chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "npar")
            }
        )
        if est["estimator"] == "MLR":
            row.update(
                {
                    k: f[k]
                    for k in ("chi2_scaled", "scaling_factor", "p_scaled", "cfi_robust", "tli_robust", "rmsea_robust")
                }
            )
        row["product_indicators"] = "; ".join(names)
        row["warnings"] = " | ".join(res.warnings)
        fits.append(row)
    return ModerationSEMResult(pd.DataFrame(rows), pd.DataFrame(fits), dict(est))


BOOT_STATS = {
    "b_focal": "b",
    "b_interaction": "b",
    "slope_low": "simple slope at -1 SD",
    "slope_high": "simple slope at +1 SD",
    "beta_focal": "beta",
    "beta_interaction": "beta",
}


def bootstrap_models(frame: pd.DataFrame, config: dict) -> dict[str, FastModeration]:
    st = settings(config)
    return {m: FastModeration(frame, st["outcome"], st["focal"], m, st["controls"]) for m in st["moderators"]}


def bootstrap_shard(frame: pd.DataFrame, config: dict, shard: int, n_shards: int) -> pd.DataFrame:
    """Replicates of shard ``shard`` (0-based) of ``n_shards``; stat names '<moderator>:<stat>'."""
    from crfm.stats.bootstrap import shard_ranges

    st = settings(config)
    start, stop = shard_ranges(st["bootstrap"]["replicates"], n_shards)[shard]
    parts = []
    for mod, fm in bootstrap_models(frame, config).items():
        part = fm.shard(st["bootstrap"]["seed"], start, stop)
        part["stat"] = mod + ":" + part["stat"]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@dataclass
class BootstrapResult(StudyResult):
    intervals: pd.DataFrame
    replicates: int
    seed: int

    def tables(self) -> list[Table]:
        note = (
            f"Nonparametric case bootstrap, B = {self.replicates}, replicate i resampled with a generator seeded "
            f"from (seed {self.seed}, i), so the numbers do not depend on the number of shards. Percentile and BCa (jackknife acceleration) 95% intervals."
        )
        return [Table("study3_bootstrap_ci", self.intervals, (note,), code_of(bootstrap_intervals))]


def bootstrap_intervals(frame: pd.DataFrame, config: Mapping, shards: list[pd.DataFrame]) -> BootstrapResult:
    """Combine the shards; percentile and BCa intervals (jackknife acceleration) for every statistic."""
    from crfm.stats.bootstrap import bootstrap_ci, combine_shards

    st = settings(config)
    boot = combine_shards(shards, n_replicates=st["bootstrap"]["replicates"])
    estimates, jacks = {}, []
    for mod, fm in bootstrap_models(frame, config).items():
        estimates.update({f"{mod}:{k}": v for k, v in fm().items()})
        jacks.append(fm.jackknife().add_prefix(f"{mod}:"))
    ci = bootstrap_ci(boot, estimates, pd.concat(jacks, axis=1))
    ci.insert(0, "moderator", ci["stat"].str.split(":").str[0])
    ci["stat"] = ci["stat"].str.split(":").str[1]
    return BootstrapResult(ci, st["bootstrap"]["replicates"], st["bootstrap"]["seed"])


@dataclass
class HypothesesResult(StudyResult):
    table: pd.DataFrame
    regression_steps: pd.DataFrame

    def tables(self) -> list[Table]:
        return [
            Table(
                "study3_hypotheses",
                self.table,
                (
                    "Supported: HC3 p < .05 with the predicted sign in the final hierarchical model; BCa: bootstrap interval of b; SEM: standardized latent path.",
                ),
                code_of(hypotheses),
            )
        ]

    def facts(self) -> dict:
        return {
            "hypotheses": self.table.to_dict(orient="records"),
            "regression_steps": self.regression_steps.to_dict(orient="records"),
        }


def hypotheses(
    config: Mapping,
    coefficients: pd.DataFrame,
    boot_ci: pd.DataFrame,
    sem_paths: pd.DataFrame,
    summary: pd.DataFrame,
    alpha: float = 0.05,
) -> HypothesesResult:
    """Each configured hypothesis tested on its term in the final composite model (HC3 t test), with
    the bootstrap BCa interval and the SEM path beside it. Supported = p < alpha with the predicted
    sign. Nothing is typed: every number is read from the tables passed in."""
    st = settings(config)
    final = coefficients[(coefficients["model"] == "composite")]
    rows = []
    for h in st["hypotheses"]:
        term = h["term"]
        mods = [m for m in st["moderators"] if term == regression.interaction_name(st["focal"], m)]
        mod = mods[0] if mods else st["moderators"][0]
        fm = final[(final["moderator"] == mod)]
        fm = fm[fm["step"] == fm["step"].max()]
        hit = fm[fm["term"] == term]
        if hit.empty:
            raise AnalysisError(
                f"hypothesis {h['id']}: term '{term}' is not in the final model (terms: {sorted(fm['term'])})"
            )
        r = hit.iloc[0]
        stat = "b_interaction" if mods else ("b_focal" if term == st["focal"] else None)
        b_ci = boot_ci[(boot_ci["moderator"] == mod) & (boot_ci["stat"] == stat)] if stat else boot_ci.iloc[0:0]
        sem = (
            sem_paths[(sem_paths["moderator"] == mod) & (sem_paths["term"] == term)]
            if not sem_paths.empty
            else sem_paths
        )
        direction = h["direction"]
        sign_ok = {"positive": r["b"] > 0, "negative": r["b"] < 0, "nonzero": True}[direction]
        supported = bool(r["p"] < alpha and sign_ok)
        rows.append(
            {
                "hypothesis": h["id"],
                "text": h.get("text", ""),
                "term": term,
                "direction": direction,
                "test": f"final hierarchical model, HC3 t test (moderator {mod})",
                "b": r["b"],
                "beta": r["beta"],
                "se": r["se"],
                "ci_lower": r["ci_lower"],
                "ci_upper": r["ci_upper"],
                "p": r["p"],
                "bca_lower": float(b_ci["bca_lower"].iloc[0]) if len(b_ci) else np.nan,
                "bca_upper": float(b_ci["bca_upper"].iloc[0]) if len(b_ci) else np.nan,
                "sem_std_estimate": float(sem["std_estimate"].iloc[0]) if len(sem) else np.nan,
                "sem_p": float(sem["p"].iloc[0]) if len(sem) else np.nan,
                "supported": supported,
            }
        )
    return HypothesesResult(pd.DataFrame(rows), summary)


def tables(config: Mapping) -> list[str]:
    out = [
        "study3_exclusions",
        "study3_flow",
        *MEASUREMENT_TABLES,
        *REGRESSION_TABLES,
        "study3_bootstrap_ci",
        "study3_sem_paths",
        "study3_sem_fit",
        "study3_hypotheses",
    ]
    if not config.get("study3", {}).get("marker"):
        out.remove("study3_marker")
    so = config.get("second_order")
    if not (so and config["study3"]["focal"] == so["factor"]):
        for t in ("study3_second_order_loadings", "study3_dimension_coefficients", "study3_dimension_summary"):
            out.remove(t)
    return out


# The schema of this study's config section (JSON Schema, YAML notation; "#/$defs/..." are the shared
# definitions of workflow/schemas/config.schema.yaml).
CONFIG_SCHEMA = parse_yaml(
    """
allOf:
  - {$ref: "#/$defs/survey"}
  - type: object
    additionalProperties: false
    required: [outcome, focal, moderators]
    properties:
      survey: true
      id_column: true
      variables: true
      ignore_columns: true
      exclusions: true
      estimation: {$ref: "#/$defs/estimation"}
      invariance: {$ref: "#/$defs/invariance"}
      outcome: {$ref: "#/$defs/name"}
      focal: {$ref: "#/$defs/name"}
      moderators:
        type: array
        minItems: 1
        items: {$ref: "#/$defs/name"}
      marker:
        oneOf: [{$ref: "#/$defs/name"}, {type: "null"}]
      controls:
        type: array
        items: {$ref: "#/$defs/name"}
        default: []
      bootstrap:
        type: object
        additionalProperties: false
        required: [replicates, seed]
        properties:
          replicates: {type: integer, minimum: 100}
          seed: {$ref: "#/$defs/seed"}
      hypotheses:
        type: array
        items:
          type: object
          additionalProperties: false
          required: [id, term, direction]
          properties:
            id: {type: string}
            text: {type: string}
            term: {type: string}
            direction: {enum: [positive, negative, nonzero]}
"""
)


STUDY = Study(
    config_schema=CONFIG_SCHEMA,
    id="study3",
    title="Study 3: Predictive validation",
    tables=tables,
    figures=lambda config: list(FIGURES),
    settings={
        "study3_validate": lambda config: survey_settings(config, "study3"),
        "study3_measurement": measurement_settings,
        "study3_regression": regression_settings,
        "study3_bootstrap_shard": bootstrap_settings,
        "study3_bootstrap_ci": bootstrap_settings,
        "study3_sem": sem_settings,
        "study3_hypotheses": hypotheses_settings,
    },
    raw_inputs=lambda config: [config["study3"]["survey"]],
    requires=("study2",),
    files=("study3/summary.json",),
)
