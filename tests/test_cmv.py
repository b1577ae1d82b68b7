"""Lindell & Whitney (2001) marker-variable adjustment against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crfm.errors import AnalysisError
from crfm.stats.cmv import adjust_correlation, adjusted_t_test, marker_adjustment, marker_adjustment_from_corr


def test_hand_worked_single_correlation():
    # r = .50, r_M = .10, n = 103:
    #   r_A = (.50 - .10) / (1 - .10) = .40 / .90 = 4/9
    #   1 - r_A^2 = 65/81;  t = (4/9) / sqrt((65/81) / 100) = (4/9) * 90 / sqrt(65) = 40 / sqrt(65) = 4.96139...
    r_a = adjust_correlation(0.50, 0.10)
    assert r_a == pytest.approx(4 / 9, abs=1e-15)
    t, df, p = adjusted_t_test(r_a, 103)
    assert df == 100
    assert t == pytest.approx(40 / np.sqrt(65), rel=1e-12)
    assert t == pytest.approx(4.961389383568338, rel=1e-12)
    assert p == pytest.approx(2 * stats.t.sf(40 / np.sqrt(65), 100), rel=1e-12)
    assert p < 1e-5


CORR = pd.DataFrame(
    [
        [1.00, 0.40, 0.30, -0.05],
        [0.40, 1.00, 0.08, 0.12],
        [0.30, 0.08, 1.00, 0.08],
        [-0.05, 0.12, 0.08, 1.00],
    ],
    index=["A", "B", "C", "MARK"],
    columns=["A", "B", "C", "MARK"],
)


def test_table_with_smallest_positive_marker_correlation():
    # marker correlations: A -.05 (negative, skipped), B .12, C .08 -> r_M = .08 (from C)
    tab = marker_adjustment_from_corr(CORR, n=53, marker="MARK", variables=["A", "B", "C"])
    assert list(tab.columns) == [
        "var1",
        "var2",
        "n",
        "r",
        "t_raw",
        "df_raw",
        "p_raw",
        "r_m",
        "r_m_source",
        "r_adj",
        "t_adj",
        "df_adj",
        "p_adj",
    ]
    assert list(zip(tab.var1, tab.var2)) == [("A", "B"), ("A", "C"), ("B", "C")]
    assert (tab.r_m == 0.08).all() and (tab.r_m_source == "C").all()
    # hand: (.40 - .08)/.92 = 8/23; (.30 - .08)/.92 = 11/46; (.08 - .08)/.92 = 0
    np.testing.assert_allclose(tab.r_adj, [8 / 23, 11 / 46, 0.0], atol=1e-15)
    # t for 8/23 on 50 df: (8/23) / sqrt((1 - 64/529)/50) = 8 * sqrt(50) / sqrt(465)
    assert tab.t_adj.iloc[0] == pytest.approx(8 * np.sqrt(50) / np.sqrt(465), rel=1e-12)
    assert (tab.df_adj == 50).all() and (tab.df_raw == 51).all()
    assert tab.t_adj.iloc[2] == 0 and tab.p_adj.iloc[2] == pytest.approx(1.0)
    # raw test: .40 on 51 df
    assert tab.t_raw.iloc[0] == pytest.approx(0.4 / np.sqrt((1 - 0.16) / 51), rel=1e-12)


def test_given_marker_correlation():
    tab = marker_adjustment_from_corr(CORR, n=53, marker="MARK", variables=["A", "B"], r_m=0.2)
    assert tab.r_adj.iloc[0] == pytest.approx(0.25, abs=1e-15)  # (.40 - .20) / .80
    assert tab.r_m_source.iloc[0] == "given"


def test_no_positive_marker_correlation_names_marker():
    c = CORR.copy()
    c.loc["MARK", ["B", "C"]] = c.loc[["B", "C"], "MARK"] = -0.02
    with pytest.raises(AnalysisError, match="'MARK'") as ei:
        marker_adjustment_from_corr(c, 53, "MARK", ["A", "B", "C"])
    assert ei.value.variables == ["MARK"]


def test_from_data_uses_listwise_pearson():
    rng = np.random.default_rng(2)
    n = 80
    m = rng.normal(size=n)
    a = 0.3 * m + rng.normal(size=n)
    df = pd.DataFrame({"A": a, "B": 0.5 * a + 0.3 * m + rng.normal(size=n), "MARK": m})
    df.loc[[3, 7], "B"] = np.nan
    tab = marker_adjustment(df, "MARK", ["A", "B"])
    keep = df.dropna()
    R = np.corrcoef(keep.to_numpy(), rowvar=False)
    r_m = min(v for v in R[2, :2] if v > 0)
    assert tab.n.iloc[0] == n - 2
    assert tab.r.iloc[0] == pytest.approx(R[0, 1], rel=1e-12)
    assert tab.r_adj.iloc[0] == pytest.approx((R[0, 1] - r_m) / (1 - r_m), rel=1e-12)


def test_bad_inputs_name_the_variable():
    df = pd.DataFrame({"A": [1.0, 2, 3, 4, 5], "B": [2.0, 1, 4, 3, 5], "MARK": [1.0, 1, 2, 2, 3]})
    with pytest.raises(AnalysisError, match="'C'"):
        marker_adjustment(df, "MARK", ["A", "C"])
    with pytest.raises(AnalysisError, match="'MARK2'"):
        marker_adjustment(df, "MARK2", ["A", "B"])
    with pytest.raises(AnalysisError, match="'B'"):
        marker_adjustment(df.assign(B=3.0), "MARK", ["A", "B"])
    with pytest.raises(AnalysisError, match="r_M"):
        adjust_correlation(0.3, 1.0)


def test_part_whole_pairs_are_left_out():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(200, 4)), columns=["A", "B", "M", "Y"])
    df["W"] = (df["A"] + df["B"]) / 2
    out = marker_adjustment(df, "M", ["A", "B", "W", "Y"], skip_pairs=[("W", "A"), ("W", "B")])
    pairs = set(zip(out["var1"], out["var2"]))
    assert ("A", "W") not in pairs and ("B", "W") not in pairs
    assert ("W", "Y") in pairs and ("A", "B") in pairs and len(out) == 4
