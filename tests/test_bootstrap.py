"""Sharded bootstrap: shard invariance, BCa against scipy.stats.bootstrap, percentile sanity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crfm.errors import AnalysisError
from crfm.stats.bootstrap import (
    bca_interval,
    bootstrap_ci,
    bootstrap_shard,
    combine_shards,
    confidence_intervals,
    jackknife,
    percentile_interval,
    resample_indices,
    shard_ranges,
    to_wide,
)


def stat_mean_median(d: pd.DataFrame) -> dict:
    return {"mean_x": d.x.mean(), "median_y": d.y.median(), "r_xy": np.corrcoef(d.x, d.y)[0, 1]}


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(11)
    x = rng.exponential(1.0, 40)
    return pd.DataFrame({"x": x, "y": x + rng.normal(0, 1, 40)}, index=np.arange(100, 140))


def test_replicate_draw_depends_only_on_master_seed_and_index():
    idx = resample_indices(25, 2017, 7)
    manual = np.random.default_rng(np.random.SeedSequence([2017, 7])).integers(0, 25, size=25)
    np.testing.assert_array_equal(idx, manual)
    assert not np.array_equal(idx, resample_indices(25, 2017, 8))


def test_shard_invariance(small):
    one = bootstrap_shard(small, stat_mean_median, 99, 0, 30)
    parts = [bootstrap_shard(small, stat_mean_median, 99, a, b) for a, b in [(17, 30), (0, 4), (4, 17)]]
    three = combine_shards(parts, n_replicates=30)
    pd.testing.assert_frame_equal(combine_shards([one]), three)
    np.testing.assert_array_equal(to_wide(one).to_numpy(), to_wide(three).to_numpy())
    assert list(three.columns) == ["replicate", "stat", "value"]
    assert list(three.stat.iloc[:3]) == ["mean_x", "median_y", "r_xy"]
    # helper for splitting: contiguous, uneven sizes allowed
    ranges = shard_ranges(30, 4)
    assert ranges[0][0] == 0 and ranges[-1][1] == 30
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    four = combine_shards([bootstrap_shard(small, stat_mean_median, 99, a, b) for a, b in ranges])
    pd.testing.assert_frame_equal(four, three)


def test_combine_rejects_overlap_and_gaps(small):
    a = bootstrap_shard(small, stat_mean_median, 1, 0, 5)
    b = bootstrap_shard(small, stat_mean_median, 1, 4, 8)
    c = bootstrap_shard(small, stat_mean_median, 1, 6, 8)
    with pytest.raises(AnalysisError, match="more than one shard"):
        combine_shards([a, b])
    with pytest.raises(AnalysisError, match="missing \\[5\\]"):
        combine_shards([a, c])
    with pytest.raises(AnalysisError, match="0..9"):
        combine_shards([a, bootstrap_shard(small, stat_mean_median, 1, 5, 8)], n_replicates=10)


def test_bca_equals_scipy_on_the_same_resamples():
    rng = np.random.default_rng(5)
    x = rng.lognormal(0, 0.8, 30)  # skewed: z0 and acceleration both non-zero
    B, seed = 999, 314
    res_bca = stats.bootstrap((x,), np.var, n_resamples=B, method="BCa", random_state=np.random.default_rng(seed))
    res_pct = stats.bootstrap(
        (x,), np.var, n_resamples=B, method="percentile", random_state=np.random.default_rng(seed)
    )
    # scipy draws all resample indices at once: integers(0, n, (B, n)) from the given generator
    idx = np.random.default_rng(seed).integers(0, len(x), (B, len(x)))
    theta_b = np.var(x[idx], axis=1)
    np.testing.assert_allclose(theta_b, res_bca.bootstrap_distribution, rtol=1e-12)
    jack = jackknife(pd.DataFrame({"x": x}), lambda d: {"v": np.var(d.x)})["v"].to_numpy()
    np.testing.assert_allclose(jack, [np.var(np.delete(x, i)) for i in range(len(x))], rtol=1e-12)
    out = bca_interval(theta_b, np.var(x), jack, alpha=0.05)
    assert out["lower"] == pytest.approx(res_bca.confidence_interval.low, rel=1e-10)
    assert out["upper"] == pytest.approx(res_bca.confidence_interval.high, rel=1e-10)
    assert abs(out["z0"]) > 0.01 and abs(out["acceleration"]) > 0.01
    lo, hi = percentile_interval(theta_b, 0.05)
    assert (lo, hi) == pytest.approx((res_pct.confidence_interval.low, res_pct.confidence_interval.high), rel=1e-12)


def test_full_pipeline_bca_close_to_scipy_monte_carlo():
    rng = np.random.default_rng(8)
    x = rng.exponential(2.0, 60)
    df = pd.DataFrame({"x": x})

    def stat(d):
        return {"mean": d.x.mean()}

    B = 3000
    boot = combine_shards([bootstrap_shard(df, stat, 7, a, b) for a, b in shard_ranges(B, 3)])
    ci = confidence_intervals(boot, df, stat).set_index("stat").loc["mean"]
    ref = stats.bootstrap((x,), np.mean, n_resamples=20000, method="BCa", random_state=np.random.default_rng(1))
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert abs(ci.bca_lower - ref.confidence_interval.low) < 0.25 * se
    assert abs(ci.bca_upper - ref.confidence_interval.high) < 0.25 * se
    assert ci.n_boot == B and ci.n_failed == 0


def test_percentile_ci_for_mean_of_normal_sample():
    rng = np.random.default_rng(21)
    x = rng.normal(10, 2, 200)
    df = pd.DataFrame({"x": x})

    def stat(d):
        return {"mean": d.x.mean()}

    boot = bootstrap_shard(df, stat, 2017, 0, 2000)
    ci = confidence_intervals(boot, df, stat, bca=False).iloc[0]
    se = x.std(ddof=1) / np.sqrt(len(x))
    half = stats.norm.ppf(0.975) * se
    assert ci.estimate == pytest.approx(x.mean())
    assert ci.pct_lower == pytest.approx(x.mean() - half, abs=0.1 * half)
    assert ci.pct_upper == pytest.approx(x.mean() + half, abs=0.1 * half)
    assert ci.boot_se == pytest.approx(se, rel=0.1)
    assert abs(ci.bias) < 0.1 * se
    assert np.isnan(ci.bca_lower)


def test_failed_replicates_are_nan_and_counted(small):
    def fragile(d):
        if d.x.iloc[0] > 1.5:
            raise AnalysisError("singular resample")
        return {"m": d.x.mean()}

    full_ok = small.reset_index(drop=True)
    assert full_ok.x.iloc[0] <= 1.5  # the statistic works on the full data
    boot = bootstrap_shard(small, fragile, 3, 0, 50)
    expected_fail = sum(full_ok.x.iloc[resample_indices(len(small), 3, i)[0]] > 1.5 for i in range(50))
    assert 0 < expected_fail < 50
    assert boot.value.isna().sum() == expected_fail
    ci = bootstrap_ci(boot, {"m": small.x.mean()}, None).iloc[0]
    assert ci.n_failed == expected_fail and ci.n_boot == 50 - expected_fail
    with pytest.raises(AnalysisError):
        bootstrap_shard(small, fragile, 3, 0, 50, on_error="raise")


def test_with_hierarchical_regression_statistic():
    from crfm.stats.regression import hierarchical_regression

    rng = np.random.default_rng(4)
    n = 120
    d = pd.DataFrame({"X": rng.normal(size=n), "M": rng.normal(size=n)})
    d["Y"] = 0.4 * d.X + 0.2 * d.M + 0.3 * d.X * d.M + rng.normal(size=n)
    steps = [("x", ["X"]), ("m", ["M"]), ("i", ["X_x_M"])]

    def stat(df):
        r = hierarchical_regression(df, "Y", steps, focal="X", moderator="M")
        fin = r.coefficients.query("step == 3").set_index("term")
        return {"b_int": fin.b["X_x_M"], "delta_r2": r.summary.delta_r2.iloc[-1]}

    a = bootstrap_shard(d, stat, 5, 0, 12)
    b = combine_shards([bootstrap_shard(d, stat, 5, 6, 12), bootstrap_shard(d, stat, 5, 0, 6)])
    pd.testing.assert_frame_equal(a, b)
    ci = bootstrap_ci(a, stat(d), None)
    assert list(ci.stat) == ["b_int", "delta_r2"]
    assert (ci.pct_lower < ci.pct_upper).all()
