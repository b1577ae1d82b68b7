"""Study 3 building blocks: composite scores of the retained items, the hierarchical moderated
regression in its three variants, and a fast bootstrap statistic.

Conventions (stated in the tables' notes):

* composite score = mean of a respondent's answered items of the construct (reverse-keyed items already
  recoded); missing when fewer than half the items were answered;
* the second-order factor's composite (CRFM) = mean of its dimensions' composites;
* focal and moderator are mean-centred; the interaction is the product of the centred variables;
* standardized coefficients come from the refit on z-scored variables, the product built from z-scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .regression import build_design, hierarchical_regression, interaction_name


def read_retained(table: pd.DataFrame) -> dict[str, list[str]]:
    """``construct, item`` rows (Study 2's retained_items.csv) -> {construct: [items]} in file order."""
    out: dict[str, list[str]] = {}
    for c, i in zip(table["construct"], table["item"]):
        out.setdefault(str(c), []).append(str(i))
    return out


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
    inter = interaction_name(focal, moderator)
    return hierarchical_regression(
        frame, outcome, regression_steps([focal], moderator, controls, [inter]), focal=focal, moderator=moderator
    )


def dimension_regression(frame: pd.DataFrame, outcome: str, dims: list[str], moderator: str, controls: list[str]):
    """The dimension-level variant: the dimensions (centred) instead of the composite, each with its own
    product with the centred moderator."""
    f = frame.copy()
    for v in dims + [moderator]:
        f[v] = f[v] - f[v].mean()
    inters = []
    for d in dims:
        name = interaction_name(d, moderator)
        f[name] = f[d] * f[moderator]
        inters.append(name)
    return hierarchical_regression(f, outcome, regression_steps(dims, moderator, controls, inters))


class FastModeration:
    """The final moderated model as a plain least-squares fit, for bootstrap replicates.

    Returns the focal effect at the moderator's mean, the interaction, the conditional effects at the
    moderator's mean -1 SD and +1 SD (raw metric, centring and SD recomputed on each resample, as the
    full analysis would), and the standardized focal and interaction coefficients.
    """

    def __init__(self, frame: pd.DataFrame, outcome: str, focal: str, moderator: str, controls: list[str]):
        cols = [outcome, focal, moderator] + list(controls)
        data = frame[cols].dropna()
        ctrl, _ = build_design(data, list(controls)) if controls else (pd.DataFrame(index=data.index), {})
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
        from .bootstrap import resample_indices

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
