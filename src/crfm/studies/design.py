"""Monte Carlo design analysis: power, parameter recovery and CI coverage under the population model.

For every cell of a grid (sample size n x population interaction effect) and R replications per cell,
one replication:

1. simulates a scale-development sample from the config's population model (the first
   ``items_per_dimension`` items of each CRFM dimension, Likert-discretised as in :mod:`crfm.data.synth`) and
   fits the correlated-factors CFA (ML, semopy via :func:`crfm.stats.cfa.fit_cfa`), recording convergence,
   proper-solution status, fit and the standardized loadings with their 95% CIs;
2. simulates a predictive-validation sample (CRFM, offering complexity and selling performance items,
   effects from ``population.study3.effects`` with the cell's interaction) and fits the moderated
   regression of the performance composite on the centred CRFM and complexity composites and their
   product, with HC3 standard errors, recording estimates, CIs and rejections of H1 (CRFM effect > 0)
   and H2 (interaction > 0) at alpha = .05 (two-sided t test, sign as predicted).

Replication ``i`` (a global index over the whole grid) draws every random number from
``SeedSequence([seed, i])``, so results do not depend on how the replications are split into shards or
which executor runs them. A CFA that fails (non-convergence, an error) is recorded as such; it never
stops the shard.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from crfm.data.config import MeasurementModel
from crfm.errors import CRFMError
from crfm.stats import cfa  # cheap: semopy itself is imported on the first fit
from crfm.studies.base import Study, StudyResult, Table, code_of

TABLES = ("design_power", "design_recovery", "design_convergence")
FIGURES = ("design_power",)

Z975 = 1.959963984540054


def shard_settings(config: Mapping) -> dict:
    """What a shard reads: the design grid and seed, the population model, the CRFM dimensions, the
    Study 3 outcome and first moderator, and the measurement model of those constructs."""
    so, s3 = config["second_order"], config["study3"]
    used = {*so["dimensions"], s3["outcome"], s3["moderators"][0]}
    return {
        "design": config["design"],
        "population": config["population"],
        "second_order": {"factor": so["factor"], "dimensions": list(so["dimensions"])},
        "study3": {"outcome": s3["outcome"], "moderators": list(s3["moderators"])},
        "measurement": [c for c in config["measurement"] if c["construct"] in used],
    }


def summary_settings(config: Mapping) -> dict:
    return {"design": config["design"]}


def design_settings(config: Mapping) -> dict:
    d = config["design"]
    size = dict(d["sizes"][d["size"]])
    return {
        "seed": d["seed"],
        "items_per_dimension": d.get("items_per_dimension", 3),
        "replications": size["replications"],
        "n": list(size["n"]),
        "interaction": list(size["interaction"]),
    }


def grid(config: dict) -> list[dict]:
    s = design_settings(config)
    return [{"cell": k, "n": n, "interaction": e} for k, (n, e) in enumerate(itertools.product(s["n"], s["interaction"]))]


def n_replications(config: dict) -> int:
    return len(grid(config)) * design_settings(config)["replications"]


def shard_range(total: int, shard: int, n_shards: int) -> tuple[int, int]:
    """Contiguous, near-equal split of range(total); shard is 0-based."""
    base, extra = divmod(total, n_shards)
    start = shard * base + min(shard, extra)
    return start, start + base + (1 if shard < extra else 0)


class Simulator:
    """Draws one replication's two samples from the population model."""

    def __init__(self, config: dict, model: MeasurementModel):
        pop = config["population"]
        so = config["second_order"]
        s = design_settings(config)
        self.dims = list(so["dimensions"])
        k = s["items_per_dimension"]
        self.items = {d: list(model.constructs[d].items[:k]) for d in self.dims}
        self.lam = {i: pop["loadings"].get(i, 0.75) for d in self.dims for i in self.items[d]}
        self.gamma = {d: pop["second_order_loadings"].get(d, 0.7) for d in self.dims}
        s3 = config["study3"]
        self.perf_items = list(model.constructs[s3["outcome"]].items)
        self.comp_items = list(model.constructs[s3["moderators"][0]].items)
        self.effects = dict(pop["study3"]["effects"])
        self.scale2 = pop["study2"].get("likert_scale", 1.4)
        self.scale3 = pop["study3"].get("likert_scale", 1.4)

    @staticmethod
    def _likert(x, scale):
        return np.clip(np.round(4 + scale * x), 1, 7)

    def _dimension_items(self, n, rng, scale):
        g = rng.standard_normal(n)
        cols = {}
        for d in self.dims:
            f = self.gamma[d] * g + math.sqrt(1 - self.gamma[d] ** 2) * rng.standard_normal(n)
            for i in self.items[d]:
                lam = self.lam[i]
                cols[i] = self._likert(lam * f + math.sqrt(1 - lam**2) * rng.standard_normal(n), scale)
        return g, cols

    def study2(self, n, rng) -> pd.DataFrame:
        _, cols = self._dimension_items(n, rng, self.scale2)
        return pd.DataFrame(cols)

    def study3(self, n, interaction, rng) -> dict[str, np.ndarray]:
        g, cols = self._dimension_items(n, rng, self.scale3)
        r = 0.2
        comp = r * g + math.sqrt(1 - r**2) * rng.standard_normal(n)
        e = self.effects
        b1, b2, b3 = e["crfm"], e["complexity"], interaction
        var_sys = b1**2 + b2**2 + 2 * r * b1 * b2 + b3**2 * (1 + r**2)
        perf = b1 * g + b2 * comp + b3 * g * comp + math.sqrt(max(1 - var_sys, 0.05)) * rng.standard_normal(n)
        lam = 0.75
        comp_items = [self._likert(lam * comp + math.sqrt(1 - lam**2) * rng.standard_normal(n), self.scale3) for _ in self.comp_items]
        perf_items = [self._likert(lam * perf + math.sqrt(1 - lam**2) * rng.standard_normal(n), self.scale3) for _ in self.perf_items]
        dim_means = [np.mean([cols[i] for i in self.items[d]], axis=0) for d in self.dims]
        return {"crfm": np.mean(dim_means, axis=0), "comp": np.mean(comp_items, axis=0), "perf": np.mean(perf_items, axis=0)}


def ols_hc3(X: np.ndarray, y: np.ndarray):
    """OLS coefficients with HC3 standard errors (MacKinnon & White 1985); returns (b, se, df_resid)."""
    XtX_inv = np.linalg.inv(X.T @ X)
    b = XtX_inv @ X.T @ y
    resid = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, XtX_inv, X)
    w = (resid / (1 - h)) ** 2
    cov = XtX_inv @ (X.T * w) @ X @ XtX_inv
    return b, np.sqrt(np.diag(cov)), X.shape[0] - X.shape[1]


def moderated_ols(crfm, comp, perf):
    """perf ~ centred crfm + centred comp + product (raw metric), and the same on z-scores (the
    standardized coefficients, product of z-scores), both with HC3 SEs."""
    xc, mc = crfm - crfm.mean(), comp - comp.mean()
    b, se, dfr = ols_hc3(np.column_stack([np.ones_like(xc), xc, mc, xc * mc]), perf)
    z = lambda v: (v - v.mean()) / v.std(ddof=1)  # noqa: E731
    zx, zm = z(crfm), z(comp)
    bz, sez, _ = ols_hc3(np.column_stack([np.ones_like(zx), zx, zm, zx * zm]), z(perf))
    return b, se, dfr, bz, sez


def replicate(sim: Simulator, cell: dict, i: int, seed: int) -> dict:
    """One replication (global index i) of one grid cell."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
    row = {"replicate": i, "cell": cell["cell"], "n": cell["n"], "interaction": cell["interaction"]}
    data = sim.study2(cell["n"], rng)
    try:
        fit = cfa.fit_cfa(data, sim.items)
        row.update(
            cfa_converged=bool(fit.converged),
            cfa_proper=bool(fit.proper),
            cfa_error="",
            cfi=fit.fit["cfi"],
            rmsea=fit.fit["rmsea"],
            srmr=fit.fit["srmr"],
        )
        load = fit.loadings.set_index("item")
        est = load["std_all"].to_numpy(float)
        target = np.array([sim.lam[i] for i in load.index])  # population loadings of the continuous responses
        inside = (load["ci_lower"].to_numpy(float) <= target) & (target <= load["ci_upper"].to_numpy(float))
        row.update(loading_bias=float(np.mean(est - target)), loading_sq_error=float(np.mean((est - target) ** 2)), loading_coverage=float(np.mean(inside)))
    except (CRFMError, np.linalg.LinAlgError, ValueError) as exc:
        row.update(cfa_converged=False, cfa_proper=False, cfa_error=" ".join(str(exc).split())[:200], cfi=np.nan, rmsea=np.nan, srmr=np.nan, loading_bias=np.nan, loading_sq_error=np.nan, loading_coverage=np.nan)
    s3 = sim.study3(cell["n"], cell["interaction"], rng)
    b, se, dfr, bz, sez = moderated_ols(s3["crfm"], s3["comp"], s3["perf"])
    tcrit = stats.t.ppf(0.975, dfr)
    for name, k, target in (("crfm", 1, sim.effects["crfm"]), ("interaction", 3, cell["interaction"])):
        t = b[k] / se[k]
        p = 2 * stats.t.sf(abs(t), dfr)
        row.update(
            {
                f"b_{name}": b[k],
                f"se_{name}": se[k],
                f"p_{name}": p,
                f"beta_{name}": bz[k],
                f"reject_{name}": bool(p < 0.05 and b[k] > 0),
                f"beta_{name}_target": target,
                # does the 95% CI of the standardized coefficient hold the population (latent) effect?
                f"covered_{name}": bool(abs(bz[k] - target) <= tcrit * sez[k]),
            }
        )
    return row


def run_shard(config: dict, model: MeasurementModel, shard: int, n_shards: int) -> pd.DataFrame:
    """Replications of one shard (0-based), single-threaded BLAS (tiny matrices run faster so)."""
    from threadpoolctl import threadpool_limits

    s = design_settings(config)
    cells = grid(config)
    R = s["replications"]
    start, stop = shard_range(len(cells) * R, shard, n_shards)
    sim = Simulator(config, model)
    rows = []
    with threadpool_limits(limits=1):
        for i in range(start, stop):
            rows.append(replicate(sim, cells[i // R], i, s["seed"]))
    return pd.DataFrame(rows)


def summarise(reps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Power, recovery (bias, RMSE, coverage) and convergence per grid cell."""
    g = reps.groupby(["n", "interaction"], sort=True)
    power = g.agg(
        replications=("replicate", "size"),
        power_h1=("reject_crfm", "mean"),
        power_h2=("reject_interaction", "mean"),
    ).reset_index()
    for h in ("h1", "h2"):
        power[f"mc_se_{h}"] = np.sqrt(power[f"power_{h}"] * (1 - power[f"power_{h}"]) / power["replications"])
    rec = []
    for (n, e), d in g:
        ok = d[d["cfa_converged"] & d["cfa_proper"]]
        rec.append({"n": n, "interaction": e, "parameter": "standardized loadings (CFA)", "bias": ok["loading_bias"].mean(), "rmse": math.sqrt(ok["loading_sq_error"].mean()) if len(ok) else np.nan, "coverage": ok["loading_coverage"].mean()})
        for name in ("crfm", "interaction"):
            diff = d[f"beta_{name}"] - d[f"beta_{name}_target"]
            rec.append({"n": n, "interaction": e, "parameter": f"standardized {name} effect (regression)", "bias": diff.mean(), "rmse": math.sqrt((diff**2).mean()), "coverage": d[f"covered_{name}"].mean()})
    conv = g.agg(
        replications=("replicate", "size"),
        non_converged=("cfa_converged", lambda s: float((~s.astype(bool)).mean())),
        improper=("cfa_proper", lambda s: float((~s.astype(bool)).mean())),
        mean_cfi=("cfi", "mean"),
        mean_rmsea=("rmsea", "mean"),
    ).reset_index()
    return {"power": power, "recovery": pd.DataFrame(rec), "convergence": conv}


@dataclass
class DesignResult(StudyResult):
    """Power, recovery and convergence per grid cell, and every replication."""

    power: pd.DataFrame
    recovery: pd.DataFrame
    convergence: pd.DataFrame
    replications: pd.DataFrame
    settings: dict

    def notes(self) -> str:
        s = self.settings
        return f"Monte Carlo, {s['replications']} replications per cell, replication i seeded from (seed {s['seed']}, i); simulated from the population model (synthetic by construction)."

    def tables(self) -> list[Table]:
        base, c = self.notes(), code_of(summarise)
        return [
            Table("design_power", self.power, (base, "Power: share of replications rejecting at alpha = .05 (HC3 t test, predicted sign); mc_se: Monte Carlo standard error."), c),
            Table("design_recovery", self.recovery, (base, "Loadings: std.all vs the population loadings of the continuous responses (the Likert discretisation attenuates them); effects: standardized coefficients of composites vs the latent population effects (measurement error attenuates them); coverage of the 95% CIs."), c),
            Table("design_convergence", self.convergence, (base, "Share of CFA replications that did not converge or gave an improper solution (Heywood case)."), c),
        ]


def gather(config: Mapping, shards: list[pd.DataFrame]) -> DesignResult:
    """Combine the shards (every replication exactly once) and summarise them."""
    reps = pd.concat(shards, ignore_index=True).sort_values("replicate")
    expected = n_replications(config)
    if len(reps) != expected or reps["replicate"].tolist() != list(range(expected)):
        raise CRFMError(f"design shards hold {len(reps)} replications, expected {expected}: rerun the design_shard jobs")
    out = summarise(reps)
    return DesignResult(out["power"], out["recovery"], out["convergence"], reps, design_settings(config))


# The schema of this study's config section (JSON Schema, YAML notation; "#/$defs/..." are the shared
# definitions of workflow/schemas/config.schema.yaml).
CONFIG_SCHEMA = yaml.safe_load(
    """
type: object
additionalProperties: false
required: [seed, size, sizes]
properties:
  seed: {$ref: "#/$defs/seed"}
  items_per_dimension: {type: integer, minimum: 2}
  size: {type: string}
  sizes:
    type: object
    additionalProperties:
      type: object
      additionalProperties: false
      required: [replications, n, interaction]
      properties:
        replications: {$ref: "#/$defs/positive_int"}
        n:
          type: array
          minItems: 1
          items: {type: integer, minimum: 20}
        interaction:
          type: array
          minItems: 1
          items: {type: number, minimum: -0.5, maximum: 0.5}
"""
)


STUDY = Study(
    config_schema=CONFIG_SCHEMA,
    id="design",
    title="Design analysis: Monte Carlo power and parameter recovery",
    tables=lambda config: list(TABLES),
    figures=lambda config: list(FIGURES),
    settings={"design_shard": shard_settings, "design_summary": summary_settings},
)
