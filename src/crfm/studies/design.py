"""Monte Carlo design analysis: power, parameter recovery and CI coverage under the population model.

For every cell of a grid (sample size n x population interaction effect) and R replications per cell,
one replication:

1. simulates a scale-development sample from the config's population model (the first
   ``items_per_dimension`` items of each CRFM dimension, Likert-discretised as in :mod:`crfm.data.synth`) and
   fits the correlated-factors CFA by ML, recording convergence, proper-solution status, fit and the
   standardized loadings with their 95% CIs; with ``design.missing_rate`` > 0 a share of the answers
   is blanked completely at random and the CFA is fitted by FIML (a recovery check of FIML under MCAR);
2. simulates a predictive-validation sample (CRFM, offering complexity and selling performance items,
   effects from ``population.study3.effects`` with the cell's interaction) and fits the moderated
   regression of the performance composite on the centred CRFM and complexity composites and their
   product, with HC3 standard errors, recording estimates, CIs and rejections of H1 (CRFM effect > 0)
   and H2 (interaction > 0) at alpha = .05 (two-sided t test, sign as predicted).

Replication ``i`` (a global index over the whole grid) draws every random number from
``SeedSequence([seed, i])``, so results do not depend on how the replications are split into shards or
which executor runs them. A CFA that fails (non-convergence, an error) is recorded as such; it never
stops the shard.

Speed: a shard works through blocks of replications of one cell at once - the samples drawn into
stacked arrays, the complete-data CFAs fitted together by the batched ML estimator
(:func:`crfm.stats.sem.fit_ml_batch`: vectorised Fisher scoring with the single-fit path's stopping
rule and a per-replication fallback to it), the HC3 regressions as stacked least squares - so one
replication costs well under a millisecond. With missing answers the CFAs are fitted one by one (each
sample has its own missing-data patterns).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.data.config import MeasurementModel, parse_yaml
from crfm.errors import CRFMError
from crfm.studies.base import Study, StudyResult, Table, code_of, lazy_module

cfa = lazy_module("crfm.stats.cfa")
special = lazy_module("scipy.special")

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


def missing_note(settings: Mapping) -> str:
    rate = float(settings.get("missing_rate", 0.0))
    if rate <= 0:
        return "Complete data; CFA by ML (the batched estimator)."
    return f"{rate:.0%} of the Study 2 answers blanked completely at random (MCAR); CFA by FIML: loading bias and coverage show FIML's recovery under MCAR."


def design_settings(config: Mapping) -> dict:
    d = config["design"]
    size = dict(d["sizes"][d["size"]])
    return {
        "seed": d["seed"],
        "items_per_dimension": d.get("items_per_dimension", 3),
        "replications": size["replications"],
        "n": list(size["n"]),
        "interaction": list(size["interaction"]),
        "missing_rate": float(d.get("missing_rate", 0.0)),
    }


def grid(config: dict) -> list[dict]:
    s = design_settings(config)
    return [
        {"cell": k, "n": n, "interaction": e} for k, (n, e) in enumerate(itertools.product(s["n"], s["interaction"]))
    ]


def n_replications(config: dict) -> int:
    return len(grid(config)) * design_settings(config)["replications"]


def shard_range(total: int, shard: int, n_shards: int) -> tuple[int, int]:
    """Contiguous, near-equal split of range(total); shard is 0-based."""
    base, extra = divmod(total, n_shards)
    start = shard * base + min(shard, extra)
    return start, start + base + (1 if shard < extra else 0)


class Simulator:
    """Draws replications' samples from the population model, many at a time.

    Replication ``i`` draws every number from one generator seeded by ``SeedSequence([seed, i])``:
    one standard-normal block of shape (n, columns) per survey, columns in a fixed order, so a
    replication's data do not depend on which others are drawn with it (shards, batches)."""

    def __init__(self, config: Mapping, model: MeasurementModel):
        pop = config["population"]
        so = config["second_order"]
        s = design_settings(config)
        self.dims = list(so["dimensions"])
        k = s["items_per_dimension"]
        self.items = {d: list(model.constructs[d].items[:k]) for d in self.dims}
        self.item_list = [i for d in self.dims for i in self.items[d]]
        self.lam = {i: pop["loadings"].get(i, 0.75) for d in self.dims for i in self.items[d]}
        self.target = np.array([self.lam[i] for i in self.item_list])  # population loadings, item order
        self.gamma = {d: pop["second_order_loadings"].get(d, 0.7) for d in self.dims}
        s3 = config["study3"]
        self.perf_items = list(model.constructs[s3["outcome"]].items)
        self.comp_items = list(model.constructs[s3["moderators"][0]].items)
        self.effects = dict(pop["study3"]["effects"])
        self.scale2 = pop["study2"].get("likert_scale", 1.4)
        self.scale3 = pop["study3"].get("likert_scale", 1.4)
        self.missing_rate = float(config["design"].get("missing_rate", 0.0))
        # standard-normal columns of one replication: study 2 (g, dims, items), study 3 (g, dims,
        # items, complexity, performance, complexity items, performance items), MCAR uniforms
        self.k2 = 1 + len(self.dims) + len(self.item_list)
        self.k3 = self.k2 + 2 + len(self.comp_items) + len(self.perf_items)

    @staticmethod
    def _likert(x, scale):
        return np.clip(np.round(4 + scale * x), 1, 7)

    def draws(self, n: int, replicates, seed: int):
        """(R, n, k2), (R, n, k3) standard normals and (R, n, p) uniforms of the replicates."""
        R = len(replicates)
        z2 = np.empty((R, n, self.k2))
        z3 = np.empty((R, n, self.k3))
        u = np.empty((R, n, len(self.item_list))) if self.missing_rate > 0 else None
        for r, i in enumerate(replicates):
            rng = np.random.default_rng(np.random.SeedSequence([seed, int(i)]))
            z2[r] = rng.standard_normal((n, self.k2))
            z3[r] = rng.standard_normal((n, self.k3))
            if u is not None:
                u[r] = rng.random((n, len(self.item_list)))
        return z2, z3, u

    def _dimension_items(self, z, scale):
        """Second-order factor g and the items of the dimensions, (R, n) and (R, n, p)."""
        g = z[..., 0]
        cols = []
        for k, d in enumerate(self.dims):
            gam = self.gamma[d]
            f = gam * g + math.sqrt(1 - gam**2) * z[..., 1 + k]
            for i in self.items[d]:
                lam = self.lam[i]
                cols.append(lam * f + math.sqrt(1 - lam**2) * z[..., 1 + len(self.dims) + len(cols)])
        return g, self._likert(np.stack(cols, axis=-1), scale)

    def study2(self, z2, u=None) -> np.ndarray:
        """Scale-development samples (R, n, p); MCAR blanks (NaN) when ``missing_rate`` > 0."""
        _, x = self._dimension_items(z2, self.scale2)
        if u is not None:
            x = np.where(u < self.missing_rate, np.nan, x)
        return x

    def study3(self, z3, interaction: float) -> dict[str, np.ndarray]:
        """Composite scores (R, n) of CRFM, complexity and performance."""
        g, x = self._dimension_items(z3, self.scale3)
        base = self.k2
        r = 0.2
        comp = r * g + math.sqrt(1 - r**2) * z3[..., base]
        e = self.effects
        b1, b2, b3 = e["crfm"], e["complexity"], interaction
        var_sys = b1**2 + b2**2 + 2 * r * b1 * b2 + b3**2 * (1 + r**2)
        perf = b1 * g + b2 * comp + b3 * g * comp + math.sqrt(max(1 - var_sys, 0.05)) * z3[..., base + 1]
        lam = 0.75
        nc = len(self.comp_items)
        comp_items = self._likert(
            lam * comp[..., None] + math.sqrt(1 - lam**2) * z3[..., base + 2 : base + 2 + nc], self.scale3
        )
        perf_items = self._likert(lam * perf[..., None] + math.sqrt(1 - lam**2) * z3[..., base + 2 + nc :], self.scale3)
        k = len(self.item_list) // len(self.dims)
        dim_means = x.reshape(*x.shape[:-1], len(self.dims), k).mean(axis=-1)
        return {"crfm": dim_means.mean(axis=-1), "comp": comp_items.mean(axis=-1), "perf": perf_items.mean(axis=-1)}


def ols_hc3(X: np.ndarray, y: np.ndarray):
    """OLS coefficients with HC3 standard errors (MacKinnon & White 1985) for stacked designs:
    X (R, n, k), y (R, n); returns (b (R, k), se (R, k), df_resid)."""
    Xt = np.transpose(X, (0, 2, 1))
    XtX_inv = np.linalg.inv(Xt @ X)
    b = (XtX_inv @ (Xt @ y[..., None]))[..., 0]
    resid = y - (X @ b[..., None])[..., 0]
    h = np.sum((X @ XtX_inv) * X, axis=2)
    w = (resid / (1 - h)) ** 2
    meat = Xt @ (X * w[..., None])
    cov = XtX_inv @ meat @ XtX_inv
    return b, np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), X.shape[1] - X.shape[2]


def moderated_ols(crfm, comp, perf):
    """perf ~ centred crfm + centred comp + product (raw metric), and the same on z-scores (the
    standardized coefficients, product of z-scores), both with HC3 SEs; (R, n) arrays in."""

    def centre(v):
        return v - v.mean(axis=-1, keepdims=True)

    def z(v):
        return centre(v) / v.std(axis=-1, ddof=1, keepdims=True)

    xc, mc = centre(crfm), centre(comp)
    one = np.ones_like(xc)
    b, se, dfr = ols_hc3(np.stack([one, xc, mc, xc * mc], axis=-1), perf)
    zx, zm = z(crfm), z(comp)
    bz, sez, _ = ols_hc3(np.stack([one, zx, zm, zx * zm], axis=-1), z(perf))
    return b, se, dfr, bz, sez


def _cfa_syntax(sim: Simulator) -> str:
    return cfa.cfa_syntax(sim.items)


CFA_COLUMNS = (
    "cfa_converged",
    "cfa_proper",
    "cfa_error",
    "cfi",
    "rmsea",
    "srmr",
    "loading_bias",
    "loading_sq_error",
    "loading_coverage",
)
FIT_INDICES = ("cfi", "rmsea", "srmr")


class _CFAOutcomes:
    """What the CFAs of R replications gave, filled per replication (NaN where no CFA was fitted)."""

    def __init__(self, R: int, p: int):
        self.fitted = np.zeros(R, bool)
        self.converged = np.zeros(R, bool)
        self.proper = np.zeros(R, bool)
        self.error = np.array([""] * R, dtype=object)
        self.fit = np.full((R, len(FIT_INDICES)), np.nan)
        self.est, self.lo, self.hi = (np.full((R, p), np.nan) for _ in range(3))

    def table(self, target: np.ndarray) -> pd.DataFrame:
        """One row per replication: convergence, proper solution, fit, and the standardized loadings'
        mean bias, mean squared error and 95% CI coverage against the population loadings ``target``."""
        f = self.fitted
        bias, sq_error, coverage = (np.full(len(f), np.nan) for _ in range(3))
        d = self.est[f] - target
        bias[f] = np.mean(d, axis=1)
        sq_error[f] = np.mean(d**2, axis=1)
        coverage[f] = np.mean((self.lo[f] <= target) & (target <= self.hi[f]), axis=1)
        return pd.DataFrame(
            {
                "cfa_converged": self.converged,
                "cfa_proper": self.converged & self.proper,
                "cfa_error": self.error,
                **{col: self.fit[:, k] for k, col in enumerate(FIT_INDICES)},
                "loading_bias": bias,
                "loading_sq_error": sq_error,
                "loading_coverage": coverage,
            },
            columns=list(CFA_COLUMNS),
        )


def _cfa_batch(sim: Simulator, x: np.ndarray) -> pd.DataFrame:
    """The correlated-factors CFA of every replication (complete data: the batched ML path);
    column-wise (no per-replication Python)."""
    from crfm.stats.sem import fit_ml_batch

    R, n, p = x.shape
    xc = x - x.mean(axis=1, keepdims=True)
    S = (np.transpose(xc, (0, 2, 1)) @ xc) / n
    out = _CFAOutcomes(R, p)
    ok = np.linalg.eigvalsh(S)[:, 0] > 1e-10 * np.trace(S, axis1=1, axis2=2)
    out.error[~ok] = "singular item covariance matrix (an item constant in the sample)"
    if ok.any():
        try:
            res = fit_ml_batch(_cfa_syntax(sim), S[ok], n)
        except CRFMError as exc:  # e.g. fewer cases than free parameters: the same for every replication
            out.error[:] = " ".join(str(exc).split())[:200]
        else:
            order = [res.loadings.index(f"{d} =~ {i}") for d in sim.dims for i in sim.items[d]]
            out.fitted[ok] = True
            out.converged[ok] = np.asarray(res.converged, bool)
            out.proper[ok] = ~np.asarray(res.improper, bool)
            out.fit[ok] = res.fit[list(FIT_INDICES)].to_numpy(float)
            out.est[ok] = res.std_loadings[:, order]
            out.lo[ok] = res.std_loadings_ci_lower[:, order]
            out.hi[ok] = res.std_loadings_ci_upper[:, order]
    return out.table(sim.target)


def _cfa_single(sim: Simulator, x: np.ndarray) -> pd.DataFrame:
    """The CFA of every replication one by one: FIML when the samples have missing answers."""
    R, _, p = x.shape
    out = _CFAOutcomes(R, p)
    for r, xr in enumerate(x):
        data = pd.DataFrame(xr, columns=sim.item_list)
        try:
            fit = cfa.fit_cfa(data, sim.items, missing="fiml" if np.isnan(xr).any() else "listwise")
        except CRFMError as exc:
            out.error[r] = " ".join(str(exc).split())[:200]
            continue
        load = fit.loadings.set_index("item").loc[sim.item_list]
        out.fitted[r] = True
        out.converged[r] = bool(fit.converged)
        out.proper[r] = bool(fit.proper)
        out.fit[r] = [float(fit.fit[col]) for col in FIT_INDICES]
        out.est[r] = load["std_all"].to_numpy(float)
        out.lo[r] = load["ci_lower"].to_numpy(float)
        out.hi[r] = load["ci_upper"].to_numpy(float)
    return out.table(sim.target)


def replicate_block(sim: Simulator, cell: dict, replicates, seed: int) -> pd.DataFrame:
    """Replications ``replicates`` (global indices) of one grid cell, simulated, fitted and tested
    together (see the module docstring)."""
    n = cell["n"]
    z2, z3, u = sim.draws(n, replicates, seed)
    x = sim.study2(z2, u)
    cfa_rows = _cfa_single(sim, x) if sim.missing_rate > 0 else _cfa_batch(sim, x)
    s3 = sim.study3(z3, cell["interaction"])
    b, se, dfr, bz, sez = moderated_ols(s3["crfm"], s3["comp"], s3["perf"])
    tcrit = special.stdtrit(dfr, 0.975)
    out = pd.DataFrame(
        {"replicate": list(replicates), "cell": cell["cell"], "n": n, "interaction": cell["interaction"]}
    )
    out = pd.concat([out, cfa_rows], axis=1)
    for name, k, target in (("crfm", 1, sim.effects["crfm"]), ("interaction", 3, cell["interaction"])):
        t = b[:, k] / se[:, k]
        p = 2 * special.stdtr(dfr, -np.abs(t))
        out[f"b_{name}"] = b[:, k]
        out[f"se_{name}"] = se[:, k]
        out[f"p_{name}"] = p
        out[f"beta_{name}"] = bz[:, k]
        out[f"reject_{name}"] = (p < 0.05) & (b[:, k] > 0)
        out[f"beta_{name}_target"] = target
        # does the 95% CI of the standardized coefficient hold the population (latent) effect?
        out[f"covered_{name}"] = np.abs(bz[:, k] - target) <= tcrit * sez[:, k]
    return out


def shard_replicates(n_cells: int, R: int, shard: int, n_shards: int) -> list[tuple[int, range]]:
    """The replications of shard ``shard`` (0-based): the same contiguous slice of every cell's ``R``
    (cell ``c`` holds replications ``c * R ... c * R + R - 1``), so every shard has the grid's mix of
    sample sizes and costs about the same."""
    lo, hi = shard_range(R, shard, n_shards)
    return [(c, range(c * R + lo, c * R + hi)) for c in range(n_cells) if hi > lo]


def run_shard(config: dict, model: MeasurementModel, shard: int, n_shards: int, block: int = 200) -> pd.DataFrame:
    """Replications of one shard (0-based, :func:`shard_replicates`) in blocks of at most ``block``
    replications of one cell, single-threaded BLAS (small matrices run faster so)."""
    from threadpoolctl import threadpool_limits

    s = design_settings(config)
    cells = grid(config)
    sim = Simulator(config, model)
    parts = []
    with threadpool_limits(limits=1):
        for c, reps in shard_replicates(len(cells), s["replications"], shard, n_shards):
            for i in range(0, len(reps), block):
                parts.append(replicate_block(sim, cells[c], reps[i : i + block], s["seed"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


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
        rec.append(
            {
                "n": n,
                "interaction": e,
                "parameter": "standardized loadings (CFA)",
                "bias": ok["loading_bias"].mean(),
                "rmse": math.sqrt(ok["loading_sq_error"].mean()) if len(ok) else np.nan,
                "coverage": ok["loading_coverage"].mean(),
            }
        )
        for name in ("crfm", "interaction"):
            diff = d[f"beta_{name}"] - d[f"beta_{name}_target"]
            rec.append(
                {
                    "n": n,
                    "interaction": e,
                    "parameter": f"standardized {name} effect (regression)",
                    "bias": diff.mean(),
                    "rmse": math.sqrt((diff**2).mean()),
                    "coverage": d[f"covered_{name}"].mean(),
                }
            )
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
        return f"Monte Carlo, {s['replications']} replications per cell, replication i seeded from (seed {s['seed']}, i); simulated from the population model (synthetic by construction). {missing_note(s)}"

    def tables(self) -> list[Table]:
        base, c = self.notes(), code_of(summarise)
        return [
            Table(
                "design_power",
                self.power,
                (
                    base,
                    "Power: share of replications rejecting at alpha = .05 (HC3 t test, predicted sign); mc_se: Monte Carlo standard error.",
                ),
                c,
            ),
            Table(
                "design_recovery",
                self.recovery,
                (
                    base,
                    "Loadings: std.all vs the population loadings of the continuous responses (the Likert discretisation attenuates them); effects: standardized coefficients of composites vs the latent population effects (measurement error attenuates them); coverage of the 95% CIs.",
                ),
                c,
            ),
            Table(
                "design_convergence",
                self.convergence,
                (base, "Share of CFA replications that did not converge or gave an improper solution (Heywood case)."),
                c,
            ),
        ]


def gather(config: Mapping, shards: list[pd.DataFrame]) -> DesignResult:
    """Combine the shards (every replication exactly once) and summarise them."""
    reps = pd.concat(shards, ignore_index=True).sort_values("replicate")
    expected = n_replications(config)
    if len(reps) != expected or reps["replicate"].tolist() != list(range(expected)):
        raise CRFMError(
            f"design shards hold {len(reps)} replications, expected {expected}: rerun the design_shard jobs"
        )
    out = summarise(reps)
    return DesignResult(out["power"], out["recovery"], out["convergence"], reps, design_settings(config))


# The schema of this study's config section (JSON Schema, YAML notation; "#/$defs/..." are the shared
# definitions of workflow/schemas/config.schema.yaml).
CONFIG_SCHEMA = parse_yaml(
    """
type: object
additionalProperties: false
required: [seed, size, sizes]
properties:
  seed: {$ref: "#/$defs/seed"}
  items_per_dimension: {type: integer, minimum: 2}
  missing_rate:
    type: number
    minimum: 0
    maximum: 0.5
    description: share of Study 2 answers blanked completely at random; > 0 fits the CFA by FIML
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
