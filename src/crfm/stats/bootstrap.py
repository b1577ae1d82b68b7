"""Case-resampling bootstrap that can be split into shards (e.g. SLURM array jobs) reproducibly.

Reproducibility rule: replicate ``i`` resamples rows with its own generator,
``numpy.random.default_rng(numpy.random.SeedSequence([master_seed, i]))``, drawing ``n`` row positions
with ``integers(0, n, size=n)``. A replicate's draw therefore depends only on ``(master_seed, i)``,
never on which shard computed it or in what order, so any split of ``range(B)`` into shards gives
identical combined results.

Confidence intervals (Efron & Tibshirani 1993, ch. 13-14):

* percentile: the alpha/2 and 1-alpha/2 quantiles of the bootstrap values (``numpy.quantile``, linear
  interpolation, as ``scipy.stats.bootstrap``);
* BCa: bias correction ``z0 = Phi^-1(share of bootstrap values below the estimate)`` with ties counted
  one half (as scipy), acceleration ``a = sum(d^3) / (6 * sum(d^2)^1.5)`` with ``d = mean(jack) - jack``
  from the leave-one-row-out jackknife of the statistic; quantile levels
  ``Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))``.

Failed replicates: when the statistic raises :class:`~crfm.errors.CRFMError` or
``numpy.linalg.LinAlgError`` on a resample (e.g. a singular design), the replicate is kept with
``value = NaN`` for every statistic (``on_error='nan'``, the default) or the error is re-raised
(``on_error='raise'``). The interval functions drop NaN replicates and report how many failed
(``n_failed``). Any other exception always propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from scipy import special

from crfm.errors import AnalysisError, CRFMError

__all__ = [
    "replicate_rng",
    "resample_indices",
    "shard_ranges",
    "bootstrap_shard",
    "combine_shards",
    "to_wide",
    "jackknife",
    "percentile_interval",
    "bca_interval",
    "bootstrap_ci",
    "confidence_intervals",
]

Statistic = Callable[[pd.DataFrame], dict]
_RECOVERABLE = (CRFMError, np.linalg.LinAlgError)


def _check_seed(master_seed) -> int:
    if isinstance(master_seed, bool) or not isinstance(master_seed, (int, np.integer)) or master_seed < 0:
        raise AnalysisError(f"master_seed must be a non-negative integer, got {master_seed!r}")
    return int(master_seed)


def replicate_rng(master_seed: int, i: int) -> np.random.Generator:
    """The generator of replicate ``i``: ``default_rng(SeedSequence([master_seed, i]))``."""
    return np.random.default_rng(np.random.SeedSequence([_check_seed(master_seed), int(i)]))


def resample_indices(n: int, master_seed: int, i: int) -> np.ndarray:
    """Row positions (0..n-1, with replacement) drawn by replicate ``i``."""
    return replicate_rng(master_seed, i).integers(0, n, size=n)


def shard_ranges(n_replicates: int, n_shards: int) -> list[tuple[int, int]]:
    """Split ``range(n_replicates)`` into ``n_shards`` contiguous (start, stop) ranges, sizes differing by <= 1."""
    if n_replicates < 1 or n_shards < 1:
        raise AnalysisError(f"need n_replicates >= 1 and n_shards >= 1, got {n_replicates}, {n_shards}")
    n_shards = min(n_shards, n_replicates)
    edges = [n_replicates * k // n_shards for k in range(n_shards + 1)]
    return [(edges[k], edges[k + 1]) for k in range(n_shards)]


def _evaluate(statistic: Statistic, data: pd.DataFrame, where: str) -> dict[str, float]:
    out = statistic(data)
    if not isinstance(out, dict) or not out:
        raise AnalysisError(
            f"the statistic must return a non-empty dict of name -> float ({where}), got {type(out).__name__}"
        )
    return {str(k): float(v) for k, v in out.items()}


def bootstrap_shard(
    df: pd.DataFrame,
    statistic: Statistic,
    master_seed: int,
    start: int,
    stop: int,
    on_error: str = "nan",
) -> pd.DataFrame:
    """Bootstrap replicates ``start <= i < stop`` of ``statistic`` on row resamples of ``df``.

    ``statistic(df) -> dict[str, float]`` gets each resample as a DataFrame with a fresh 0..n-1 index.
    It is also evaluated once on ``df`` to fix the statistic names (every replicate must return the
    same names). Returns a long table with columns replicate (int), stat (str), value (float), sorted by
    replicate then statistic (in the order the statistic returns them).
    """
    if on_error not in ("nan", "raise"):
        raise AnalysisError(f"on_error must be 'nan' or 'raise', got {on_error!r}")
    _check_seed(master_seed)
    start, stop = int(start), int(stop)
    if not 0 <= start <= stop:
        raise AnalysisError(f"need 0 <= start <= stop, got start={start}, stop={stop}")
    n = len(df)
    if n < 2:
        raise AnalysisError(f"cannot bootstrap {n} row(s)")
    names = list(_evaluate(statistic, df, "on the full data"))
    base = df.reset_index(drop=True)
    reps, stat_col, values = [], [], []
    for i in range(start, stop):
        sample = base.iloc[resample_indices(n, master_seed, i)].reset_index(drop=True)
        try:
            res = _evaluate(statistic, sample, f"replicate {i}")
        except _RECOVERABLE:
            if on_error == "raise":
                raise
            res = dict.fromkeys(names, float("nan"))
        if list(res) != names:
            raise AnalysisError(
                f"replicate {i}: the statistic returned {list(res)}, expected {names} (same names, same order)"
            )
        reps.extend([i] * len(names))
        stat_col.extend(names)
        values.extend(res[k] for k in names)
    return pd.DataFrame(
        {
            "replicate": np.asarray(reps, dtype=np.int64),
            "stat": stat_col,
            "value": np.asarray(values, dtype=float),
        }
    )


def combine_shards(shards: Iterable[pd.DataFrame], n_replicates: int | None = None) -> pd.DataFrame:
    """Concatenate shard tables and check they form replicates 0..B-1 exactly once each.

    ``n_replicates`` (B) when given must match; otherwise B = max replicate + 1. Every replicate must
    carry the same statistics. Returns the long table sorted by replicate, then statistic in the order of
    the first shard, with a fresh index.
    """
    shards = [s for s in shards]
    if not shards:
        raise AnalysisError("no bootstrap shards to combine")
    for k, s in enumerate(shards):
        missing = {"replicate", "stat", "value"} - set(s.columns)
        if missing:
            raise AnalysisError(f"shard {k} lacks column(s) {sorted(missing)}")
    boot = pd.concat([s[["replicate", "stat", "value"]] for s in shards], ignore_index=True)
    dup = boot.duplicated(["replicate", "stat"])
    if dup.any():
        reps = [int(r) for r in sorted(set(boot.loc[dup, "replicate"].tolist()))[:10]]
        raise AnalysisError(f"replicate(s) {reps} appear in more than one shard. Fix: use disjoint ranges")
    order = list(dict.fromkeys(boot["stat"].tolist()))
    reps = np.unique(boot["replicate"].to_numpy())
    B = int(n_replicates) if n_replicates is not None else (int(reps.max()) + 1 if len(reps) else 0)
    expected = np.arange(B)
    if len(reps) != B or not np.array_equal(reps, expected):
        missing = [int(r) for r in sorted(set(expected.tolist()) - set(reps.tolist()))[:10]]
        extra = [int(r) for r in sorted(set(reps.tolist()) - set(expected.tolist()))[:10]]
        raise AnalysisError(f"shards do not cover replicates 0..{B - 1} exactly: missing {missing}, unexpected {extra}")
    counts = boot.groupby("replicate")["stat"].count()
    if (counts != len(order)).any():
        bad = [int(r) for r in counts.index[counts != len(order)].tolist()[:10]]
        raise AnalysisError(f"replicate(s) {bad} do not carry every statistic {order}")
    rank = {s: k for k, s in enumerate(order)}
    boot = boot.assign(_r=boot["stat"].map(rank)).sort_values(["replicate", "_r"], kind="stable")
    return boot.drop(columns="_r").reset_index(drop=True)


def to_wide(boot: pd.DataFrame) -> pd.DataFrame:
    """Long bootstrap table -> one row per replicate, one column per statistic (first-seen order)."""
    order = list(dict.fromkeys(boot["stat"].tolist()))
    wide = boot.pivot(index="replicate", columns="stat", values="value")
    return wide[order].sort_index()


def jackknife(df: pd.DataFrame, statistic: Statistic) -> pd.DataFrame:
    """Leave-one-row-out values of ``statistic``: one row per deleted row position, one column per stat."""
    base = df.reset_index(drop=True)
    n = len(base)
    rows = []
    for j in range(n):
        rows.append(_evaluate(statistic, base.drop(index=j).reset_index(drop=True), f"jackknife, row {j} left out"))
    return pd.DataFrame(rows)


def percentile_interval(theta_boot, alpha: float = 0.05) -> tuple[float, float]:
    """(alpha/2, 1 - alpha/2) quantiles of the finite bootstrap values (linear interpolation)."""
    tb = np.asarray(theta_boot, dtype=float)
    tb = tb[np.isfinite(tb)]
    if len(tb) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(tb, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bca_interval(theta_boot, theta_hat: float, theta_jack, alpha: float = 0.05) -> dict[str, float]:
    """BCa interval; returns ``{'lower', 'upper', 'z0', 'acceleration', 'q_lower', 'q_upper'}``.

    ``z0 = Phi^-1((#{tb < theta_hat} + #{tb <= theta_hat}) / (2B))``; ``a`` from the jackknife values
    (0 when they are all equal). When every bootstrap value lies on one side of the estimate, z0 is
    infinite and the interval is NaN.
    """
    tb = np.asarray(theta_boot, dtype=float)
    tb = tb[np.isfinite(tb)]
    tj = np.asarray(theta_jack, dtype=float)
    B = len(tb)
    nan = float("nan")
    if B == 0 or not np.isfinite(theta_hat) or not np.all(np.isfinite(tj)):
        return {"lower": nan, "upper": nan, "z0": nan, "acceleration": nan, "q_lower": nan, "q_upper": nan}
    share = ((tb < theta_hat).sum() + (tb <= theta_hat).sum()) / (2 * B)
    z0 = float(special.ndtri(share))
    d = tj.mean() - tj
    den = float((d**2).sum())
    acc = float((d**3).sum() / (6.0 * den**1.5)) if den > 0 else 0.0
    out = {"z0": z0, "acceleration": acc}
    if not np.isfinite(z0):
        return {**out, "lower": nan, "upper": nan, "q_lower": nan, "q_upper": nan}
    qs = []
    for z in (special.ndtri(alpha / 2), special.ndtri(1 - alpha / 2)):
        num = z0 + z
        qs.append(float(special.ndtr(z0 + num / (1 - acc * num))))
    lo, hi = np.quantile(tb, qs)
    return {**out, "lower": float(lo), "upper": float(hi), "q_lower": qs[0], "q_upper": qs[1]}


def bootstrap_ci(
    boot: pd.DataFrame,
    estimates: dict[str, float],
    jack: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Percentile and (when ``jack`` is given) BCa intervals for every statistic of a combined table.

    Columns: stat, estimate, n_boot (finite replicates used), n_failed, boot_mean, boot_se (ddof=1),
    bias (boot_mean - estimate), pct_lower, pct_upper, bca_lower, bca_upper, z0, acceleration, alpha.
    """
    wide = to_wide(boot)
    rows = []
    for stat in wide.columns:
        if stat not in estimates:
            raise AnalysisError(f"no point estimate for statistic '{stat}'")
        tb = wide[stat].to_numpy(dtype=float)
        ok = np.isfinite(tb)
        est = float(estimates[stat])
        lo, hi = percentile_interval(tb, alpha)
        if jack is not None:
            if stat not in jack.columns:
                raise AnalysisError(f"no jackknife values for statistic '{stat}'")
            bca = bca_interval(tb, est, jack[stat].to_numpy(dtype=float), alpha)
        else:
            bca = dict.fromkeys(["lower", "upper", "z0", "acceleration"], float("nan"))
        mean = float(tb[ok].mean()) if ok.any() else float("nan")
        rows.append(
            {
                "stat": stat,
                "estimate": est,
                "n_boot": int(ok.sum()),
                "n_failed": int((~ok).sum()),
                "boot_mean": mean,
                "boot_se": float(tb[ok].std(ddof=1)) if ok.sum() > 1 else float("nan"),
                "bias": mean - est,
                "pct_lower": lo,
                "pct_upper": hi,
                "bca_lower": bca["lower"],
                "bca_upper": bca["upper"],
                "z0": bca["z0"],
                "acceleration": bca["acceleration"],
                "alpha": alpha,
            }
        )
    return pd.DataFrame(rows)


def confidence_intervals(
    boot: pd.DataFrame, df: pd.DataFrame, statistic: Statistic, alpha: float = 0.05, bca: bool = True
) -> pd.DataFrame:
    """:func:`bootstrap_ci` with the estimate ``statistic(df)`` and (``bca=True``) its jackknife on ``df``.

    The jackknife costs n evaluations of the statistic; any failure there raises.
    """
    est = _evaluate(statistic, df, "on the full data")
    jack = jackknife(df, statistic) if bca else None
    return bootstrap_ci(boot, est, jack, alpha)
