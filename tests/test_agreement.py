"""crfm.stats.agreement against published values, maintained libraries and an independent bootstrap."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from crfm.errors import InputError
from crfm.stats.agreement import (
    LEVELS,
    AlphaResult,
    agreement_report,
    alpha_bootstrap,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    reliability_matrix,
)

nan = np.nan

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers (rows) x
# 12 units (columns), values 1..5, missing data.
K2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],  # observer A
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],  # observer B
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],  # observer C
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],  # observer D
    ]
)
# Published alphas (Krippendorff 2011, section C), given to three decimals.
K2011_PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Hayes & Krippendorff (2007), Table 1: 40 units x 5 observers, ordinal 0..3, "." = missing. The article
# bootstraps "a random sample of 239 pairs of judgments" from these data.
HK2007 = """\
1 1 2 . 2|1 1 0 1 .|2 3 3 3 .|. 0 0 . 0|0 0 0 . 0|0 0 0 . 0|1 0 2 . 1|1 . 2 0 .|2 2 2 . 2|2 1 1 1 .|\
. 1 0 0 .|0 0 0 0 .|1 2 2 2 .|3 3 2 2 3|1 1 1 . 1|1 1 1 . 1|2 1 2 . 2|1 2 3 3 .|1 1 0 1 .|0 0 0 . 0|\
0 0 1 1 .|0 0 . 0 0|2 3 3 3 .|0 0 0 0 .|1 2 . 2 2|0 1 1 1 .|0 0 0 1 0|1 2 1 2 .|1 1 2 2 .|1 1 2 . 2|\
1 1 0 . 0|2 1 2 1 .|2 2 . 2 2|3 2 2 2 .|2 2 2 . 2|2 2 3 . 2|2 2 2 . 2|2 2 . 1 2|2 2 2 2 .|1 1 1 . 1"""


def hk2007() -> np.ndarray:
    units = [[nan if v == "." else float(v) for v in u.split()] for u in HK2007.split("|")]
    return np.array(units).T  # coders x units


# Fleiss' kappa worked example (Wikipedia "Fleiss' kappa", after Fleiss 1971): 10 subjects, 14 raters,
# 5 categories; kappa = 0.210.
FLEISS_WIKI = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


@pytest.fixture(autouse=True)
def _no_warnings():
    """Every test here runs with warnings as errors: no 0/0 or deprecation warning may slip through."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ----------------------------------------------------------------------------------------------------
# Krippendorff's alpha
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_k2011_published_values(level):
    res = krippendorff_alpha(K2011, level)
    # tolerance: the published values are rounded to three decimals, so |ours - published| <= .0005
    assert abs(res.alpha - K2011_PUBLISHED[level]) <= 0.0005
    assert round(res.alpha, 3) == K2011_PUBLISHED[level]
    # the number comes from the package; the own building blocks give the same alpha
    assert res.alpha == pytest.approx(krippendorff.alpha(K2011, level_of_measurement=level), abs=1e-12)
    assert 1.0 - res.d_observed / res.d_expected == pytest.approx(res.alpha, abs=1e-12)
    assert res.n_pairable == 40 and res.n_units == 11 and res.n_units_single == 1 and res.n_coders == 4


def test_alpha_k2011_coincidence_matrix():
    res = krippendorff_alpha(K2011, "nominal")
    o = res.coincidence
    # Krippendorff (2011): marginals n_c = 9, 13, 10, 5, 3 and n = 40; o_11 = 7, o_12 = 4/3, o_55 = 3
    assert o.sum(axis=1).round(10).tolist() == [9, 13, 10, 5, 3]
    assert o[0, 0] == pytest.approx(7) and o[0, 1] == pytest.approx(4 / 3) and o[4, 4] == pytest.approx(3)
    assert np.allclose(o, o.T)
    assert res.coincidence_table().index.tolist() == [1, 2, 3, 4, 5]


def test_alpha_ordinal_text_values_need_and_use_an_order():
    labels = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    text = np.array([[None if np.isnan(v) else labels[int(v)] for v in row] for row in K2011], dtype=object)
    order = ["very low", "low", "mid", "high", "very high"]
    assert round(krippendorff_alpha(text, "ordinal", value_order=order).alpha, 3) == 0.815
    assert round(krippendorff_alpha(text, "nominal").alpha, 3) == 0.743
    with pytest.raises(InputError, match="rank order") as e:
        krippendorff_alpha(text, "ordinal", source="ratings.csv", column="grade")
    assert "ratings.csv" in str(e.value) and "grade" in str(e.value)


def _random_data(rng, n_coders, n_units, values, p_missing=0.2):
    truth = rng.choice(values, size=n_units)
    data = np.empty((n_coders, n_units), dtype=float)
    for i in range(n_coders):
        noisy = np.where(rng.random(n_units) < 0.3, rng.choice(values, size=n_units), truth)
        data[i] = noisy
        data[i, rng.random(n_units) < p_missing] = nan
    return data


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_own_blocks_match_package_on_random_data(level):
    rng = np.random.default_rng(20170511)
    for _ in range(15):
        data = _random_data(rng, int(rng.integers(2, 6)), int(rng.integers(5, 40)), np.array([0.0, 1, 2, 4, 7]))
        res = krippendorff_alpha(data, level)
        ref = krippendorff.alpha(data, level_of_measurement=level)
        assert res.alpha == pytest.approx(ref, abs=1e-12)
        assert 1.0 - res.d_observed / res.d_expected == pytest.approx(ref, abs=1e-12)
    # ordinal with a declared domain holding an unobserved value (3): ranks shift, both agree
    data = _random_data(rng, 3, 30, np.array([0.0, 1, 2, 4]))
    dom = [0, 1, 2, 3, 4]
    res = krippendorff_alpha(data, "ordinal", value_order=dom)
    ref = krippendorff.alpha(data, level_of_measurement="ordinal", value_domain=dom)
    assert res.alpha == pytest.approx(ref, abs=1e-12) == pytest.approx(1 - res.d_observed / res.d_expected)


def _naive_nominal_alpha(units_by_coders) -> float:
    """Nominal alpha from the coincidence matrix, written out loop by loop (Krippendorff 2011, section C):
    an implementation independent of the module's and of the package's."""
    from collections import Counter

    o = Counter()
    for row in units_by_coders:
        vals = [v for v in row if v is not None and not (isinstance(v, float) and np.isnan(v))]
        m = len(vals)
        if m < 2:
            continue
        for i, a in enumerate(vals):
            for j, b in enumerate(vals):
                if i != j:
                    o[(a, b)] += 1 / (m - 1)
    n_c = Counter()
    for (a, _), w in o.items():
        n_c[a] += w
    n = sum(n_c.values())
    d_o = sum(w for (a, b), w in o.items() if a != b) / n
    d_e = sum(n_c[a] * n_c[b] for a in n_c for b in n_c if a != b) / (n * (n - 1))
    return 1 - d_o / d_e


def test_alpha_nominal_matches_an_independent_implementation_on_strings():
    rng = np.random.default_rng(7)
    codes = np.array(["P_WEB", "P_EVENTS", "F_STATUS", "P_REFVISIT"])
    data = np.empty((3, 40), dtype=object)
    truth = rng.integers(0, 4, size=40)
    for j in range(3):
        data[j] = codes[np.where(rng.random(40) < 0.25, rng.integers(0, 4, size=40), truth)]
        data[j, rng.random(40) < 0.2] = None
    frame = pd.DataFrame(data, index=["C1", "C2", "C3"])
    res = krippendorff_alpha(frame, "nominal")
    assert res.alpha == pytest.approx(_naive_nominal_alpha(data.T), abs=1e-12)
    assert res.coders == ("C1", "C2", "C3")


# ----------------------------------------------------------------------------------------------------
# bootstrap: an independent, naive implementation of the same algorithm (KALPHA 3.0)
# ----------------------------------------------------------------------------------------------------


def naive_bootstrap(data, level, *, replicates, seed, minimums, draws="kalpha", order=None):
    """Loops only: pairs of coders within units, explicit difference formulas, linear search."""
    data = np.asarray(data, dtype=float)
    n_coders, n_units = data.shape
    values = sorted({v for v in data.ravel() if not np.isnan(v)}) if order is None else list(order)
    pos = {v: i for i, v in enumerate(values)}
    V = len(values)
    o = [[0.0] * V for _ in range(V)]
    n_pairs = 0
    for u in range(n_units):
        vals = [data[i, u] for i in range(n_coders) if not np.isnan(data[i, u])]
        m = len(vals)
        if m < 2:
            continue
        n_pairs += m * (m - 1) // 2
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[pos[vals[i]]][pos[vals[j]]] += 1.0 / (m - 1)
    n_c = [sum(row) for row in o]
    n = sum(n_c)

    def d2(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "ordinal":
            lo, hi = min(c, k), max(c, k)
            return (sum(n_c[g] for g in range(lo, hi + 1)) - (n_c[c] + n_c[k]) / 2.0) ** 2 if c != k else 0.0
        a, b = values[c], values[k]
        if level == "interval":
            return (a - b) ** 2
        return ((a - b) / (a + b)) ** 2 if a + b != 0 else 0.0

    d_e = 0.0
    for c in range(V):
        for k in range(V):
            d_e += n_c[c] * (n_c[k] - (1 if c == k else 0)) / (n - 1) * d2(c, k)
    d_e /= n
    if draws == "kalpha":
        q = sum(1 for c in range(V) for k in range(V) if o[c][k] > 0)
        M = min(25 * q, math.floor((n_coders - 1) * n / 2 + 0.5))
    elif draws == "pairs":
        M = n_pairs
    else:
        M = draws
    segments = []  # (upper end of the segment, delta^2, diagonal?)
    acc = 0.0
    for c in range(V):
        for k in range(c, V):
            p = o[c][k] / n if c == k else 2 * o[c][k] / n
            if p > 0:
                acc += p
                segments.append([acc, d2(c, k)])
    segments[-1][0] = 1.0
    rng = np.random.default_rng(np.random.SeedSequence([seed]))
    boot = []
    for _ in range(replicates):
        total = 0.0
        for r in rng.random(M):
            for upper, d in segments:
                if r < upper:
                    total += d
                    break
        boot.append(1.0 - total / (M * d_e))
    boot = [max(a, -1.0) for a in boot]
    ones = [b for b, a in enumerate(boot) if a == 1.0]
    diag_p = [o[c][c] / n for c in range(V) if o[c][c] > 0]
    if ones:
        if len(diag_p) == 1:
            for b in ones:
                boot[b] = 0.0
        else:
            nx = math.floor(replicates * sum(p**M for p in diag_p) + 0.5)
            for b in ones[:nx]:
                boot[b] = 0.0
    srt = sorted(boot)
    lower = srt[max(math.floor(0.025 * replicates), 1) - 1]  # KALPHA: 1-based trunc(.025 R)
    upper = srt[min(math.floor(0.975 * replicates) + 1, replicates) - 1]  # and trunc(.975 R) + 1
    qs = {m: sum(1 for a in boot if a < m) / replicates for m in minimums}
    return np.array(boot), lower, upper, qs, M


# data that exercise the correction: near-perfect agreement with a rare value (alpha* = 1 and < -1)
RARE = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=float)
NEAR = np.array([[0, 0, 0, 1, 1, 1, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1, 0, 1, 0, 0]], dtype=float)


@pytest.mark.parametrize(
    "data, level, draws",
    [
        (K2011, "nominal", "kalpha"),
        (K2011, "ordinal", "kalpha"),
        (K2011, "interval", "pairs"),
        (K2011, "ratio", 37),
        (RARE, "nominal", "kalpha"),
        (NEAR, "nominal", "kalpha"),
        (NEAR, "nominal", 4),
    ],
)
def test_bootstrap_equals_independent_naive_implementation(data, level, draws):
    mins = (0.667, 0.8, 0.5)
    res = alpha_bootstrap(data, level, replicates=400, seed=99, minimums=mins, draws=draws)
    boot, lower, upper, qs, M = naive_bootstrap(data, level, replicates=400, seed=99, minimums=mins, draws=draws)
    assert res.draws == M
    # same seed stream, same cells: equal up to the summation order of the delta^2 values
    assert np.allclose(res.distribution, boot, rtol=0, atol=1e-12)
    assert res.ci_lower == pytest.approx(lower, abs=1e-12) and res.ci_upper == pytest.approx(upper, abs=1e-12)
    assert res.q == qs


def test_bootstrap_correction_paths_are_exercised():
    rare = alpha_bootstrap(RARE, "nominal", replicates=400, seed=99)
    assert rare.n_set_to_minus_one > 0 and rare.n_set_to_zero > 0  # one non-zero diagonal cell: all 1s -> 0
    assert rare.distribution.min() == -1.0 and not (rare.distribution == 1.0).any()
    near = alpha_bootstrap(NEAR, "nominal", replicates=400, seed=99, draws=4)  # few draws: many all-diagonal
    p_diag = np.diag(near.alpha.coincidence) / near.alpha.n_pairable
    nx = math.floor(400 * float((p_diag**near.draws).sum()) + 0.5)
    assert near.n_set_to_zero == nx > 0 and (near.distribution == 1.0).any()


def test_bootstrap_distributional_properties():
    res = alpha_bootstrap(K2011, "interval", replicates=4000, seed=2017)
    assert res.n_set_to_minus_one == 0 and res.n_set_to_zero == 0
    # E[alpha*] = 1 - E[D_o*] / D_e = alpha (D_o* is the mean of M draws with expectation D_o)
    sd = res.distribution.std()
    assert abs(res.distribution.mean() - res.alpha.alpha) < 4 * sd / math.sqrt(4000)
    srt = np.sort(res.distribution)
    assert res.ci_lower == srt[99] and res.ci_upper == srt[3900]  # KALPHA order statistics, R = 4000
    assert res.ci_lower < res.alpha.alpha < res.ci_upper
    for m, q in res.q.items():
        assert q == np.mean(res.distribution < m)
    assert res.q[0.667] <= res.q[0.8]


def test_bootstrap_is_deterministic_from_seed_and_stream():
    a = alpha_bootstrap(K2011, "nominal", replicates=300, seed=5)
    b = alpha_bootstrap(krippendorff_alpha(K2011, "nominal"), replicates=300, seed=5)
    c = alpha_bootstrap(K2011, "nominal", replicates=300, seed=6)
    d = alpha_bootstrap(K2011, "nominal", replicates=300, seed=5, stream=(1,))
    assert np.array_equal(a.distribution, b.distribution)
    assert not np.array_equal(a.distribution, c.distribution)
    assert not np.array_equal(a.distribution, d.distribution)
    with pytest.raises(ValueError, match="seed"):
        alpha_bootstrap(K2011, "nominal", replicates=10, seed=-1)
    with pytest.raises(ValueError, match="replicates"):
        alpha_bootstrap(K2011, "nominal", replicates=0, seed=1)


def test_bootstrap_chunking_does_not_change_the_stream(monkeypatch):
    from crfm.stats import agreement

    whole = alpha_bootstrap(K2011, "ordinal", replicates=50, seed=8)
    monkeypatch.setattr(agreement, "_CHUNK_VALUES", 7 * whole.draws)  # 7 resamples per chunk
    chunked = alpha_bootstrap(K2011, "ordinal", replicates=50, seed=8)
    assert np.array_equal(whole.distribution, chunked.distribution)
    with pytest.raises(ValueError, match="draws"):
        alpha_bootstrap(K2011, "ordinal", replicates=5, seed=8, draws="units")


def test_bootstrap_draws_rules():
    # Hayes & Krippendorff (2007) resample 239 pairs from their Table 1 data ("pairs" rule)
    data = hk2007()
    res = krippendorff_alpha(data, "ordinal")
    assert res.n_pairs == 239 and res.n_pairable == 159
    assert alpha_bootstrap(res, replicates=10, seed=1, draws="pairs").draws == 239
    # KALPHA 3.0: min(25 Q, (m - 1) n / 2) = min(25 x 14, 4 x 159 / 2) = 318
    q = int((res.coincidence > 0).sum())
    assert alpha_bootstrap(res, replicates=10, seed=1).draws == min(25 * q, 318) == 318
    k = krippendorff_alpha(K2011, "nominal")
    assert alpha_bootstrap(k, replicates=10, seed=1).draws == 60 and k.n_pairs == 55


def test_bootstrap_at_alpha_one_is_degenerate_and_says_so():
    perfect = np.tile(np.array([[1, 2, 1, 2, 1], [1, 2, 1, 2, 1]], dtype=float), 4)  # 20 units
    res = alpha_bootstrap(perfect, "nominal", replicates=200, seed=1)
    assert res.alpha.alpha == 1.0 and res.ci_lower == 1.0 and res.ci_upper == 1.0
    assert "degenerate" in res.note and res.draws == 20 and res.n_set_to_zero == 0
    # with 5 units (M = 5) a resample falls on one diagonal cell often enough for the correction:
    # round(R (.6^5 + .4^5)) = round(200 x .0880) = 18 resamples without variation count as alpha = 0
    small = alpha_bootstrap(perfect[:, :5], "nominal", replicates=200, seed=1)
    assert small.draws == 5 and small.n_set_to_zero == 18 and small.ci_lower == 0.0 and small.ci_upper == 1.0


# ----------------------------------------------------------------------------------------------------
# kappas and percent agreement
# ----------------------------------------------------------------------------------------------------


def _raw_from_counts(table):
    """Raters x subjects matrix that yields the count table (rater j gets the j-th sorted rating)."""
    cols = [np.repeat(np.arange(table.shape[1]), row) for row in table]
    return np.array(cols).T.astype(float)


def test_fleiss_kappa_published_example_and_statsmodels():
    assert round(sm_fleiss_kappa(FLEISS_WIKI), 3) == 0.210
    res = fleiss_kappa(_raw_from_counts(FLEISS_WIKI))
    assert round(res.value, 3) == 0.210  # Wikipedia / Fleiss (1971) worked example: 0.210
    assert res.value == pytest.approx(sm_fleiss_kappa(FLEISS_WIKI), abs=1e-12)
    assert res.n_units == 10 and len(res.coders) == 14 and res.n_units_dropped == 0


def test_fleiss_kappa_complete_cases_only():
    rng = np.random.default_rng(3)
    data = _random_data(rng, 4, 30, np.array([0.0, 1, 2]), p_missing=0.0)
    full = fleiss_kappa(data)
    with_gap = data.copy()
    with_gap[2, :5] = nan  # five units coded by three of four coders
    res = fleiss_kappa(with_gap)
    assert res.n_units == 25 and res.n_units_dropped == 5 and "left out" in res.note
    assert res.value == pytest.approx(fleiss_kappa(data[:, 5:]).value, abs=1e-12)
    assert full.n_units == 30


def test_cohen_kappa_hand_worked_and_libraries():
    # 50 units: yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = .70, p_e = .50, kappa = .40
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    assert percent_agreement(a, b) == pytest.approx(0.70)
    rng = np.random.default_rng(11)
    for _ in range(20):
        x = rng.choice(["A", "B", "C", "D"], size=30)
        y = np.where(rng.random(30) < 0.6, x, rng.choice(["A", "B", "C", "D"], size=30))
        ours = cohen_kappa(x, y)
        assert ours == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)


def test_cohen_kappa_undefined_is_nan_without_warning():
    assert math.isnan(cohen_kappa(["a"] * 5, ["a"] * 5))
    assert cohen_kappa(["a"] * 5, ["b"] * 5) == 0.0  # p_o = p_e = 0
    with pytest.raises(ValueError, match="missing"):
        cohen_kappa(["a", None], ["a", "b"])


# ----------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------


def test_one_coder_only_is_refused():
    with pytest.raises(InputError, match="only one coder") as e:
        krippendorff_alpha(K2011[:1], "nominal", source="codes.csv", column="code")
    assert "codes.csv" in str(e.value) and "'code'" in str(e.value)
    # a second coder without a single value does not count
    with pytest.raises(InputError, match="only one coder"):
        krippendorff_alpha(np.vstack([K2011[:1], np.full((1, 12), nan)]), "nominal")
    long = pd.DataFrame({"segment_id": ["s1", "s2"], "coder": ["C1", "C1"], "code": ["A", "B"]})
    with pytest.raises(InputError, match="only one coder") as e:
        agreement_report(long, replicates=0, seed=1, source="study1_segments.csv")
    assert "study1_segments.csv" in str(e.value)


def test_unit_coded_by_nobody_is_dropped_and_counted():
    data = np.hstack([K2011, np.full((4, 1), nan)])
    res = krippendorff_alpha(data, "interval")
    assert res.n_units_uncoded == 1 and res.alpha == pytest.approx(krippendorff_alpha(K2011, "interval").alpha)
    long = pd.DataFrame(
        {
            "segment_id": ["s1", "s1", "s2", "s2", "s3", "s3", "s4"],
            "coder": ["C1", "C2", "C1", "C2", "C1", "C2", "C1"],
            "code": ["A", "A", "B", "B", None, "  ", "A"],
        }
    )
    rep = agreement_report(long, replicates=0, seed=1, source="seg.csv", per_value=False)
    assert rep.n_units_uncoded == 1 and rep.n_units == 3 and rep.n_units_pairable == 2
    assert any("seg.csv" in n and "'code'" in n and "'s3'" in n for n in rep.notes)


def test_all_codings_identical_alpha_undefined_not_divided_by_zero():
    same = np.array([[2, 2, 2, nan], [2, 2, nan, 2], [2, nan, 2, 2]], dtype=float)
    for level in LEVELS:
        res = krippendorff_alpha(same, level)
        assert math.isnan(res.alpha) and "no variation" in res.note and res.d_expected == 0.0
        bt = alpha_bootstrap(res, replicates=50, seed=1)
        assert math.isnan(bt.ci_lower) and math.isnan(bt.q[0.667]) and "no variation" in bt.note
    assert math.isnan(fleiss_kappa(same[:, :1].repeat(2, axis=1)).value)
    long = pd.DataFrame({"segment_id": [1, 1, 2, 2], "coder": ["a", "b", "a", "b"], "code": ["X"] * 4})
    rep = agreement_report(long, levels=LEVELS[:1], replicates=100, seed=1)
    row = rep.overall.set_index("statistic").loc["krippendorff_alpha"]
    assert math.isnan(row["value"]) and "no variation" in row["note"] and math.isnan(row["ci_lower"])
    assert math.isnan(rep.overall.set_index("statistic").loc["cohen_kappa", "value"])


def test_no_pairable_unit_alpha_undefined():
    res = krippendorff_alpha(np.array([[1, nan], [nan, 2]]), "nominal")
    assert math.isnan(res.alpha) and "two or more coders" in res.note


def test_level_that_does_not_fit_the_values_is_refused():
    text = np.array([["low", "high"], ["low", "low"]], dtype=object)
    with pytest.raises(InputError, match="level 'interval' needs numbers") as e:
        krippendorff_alpha(text, "interval", source="ratings.csv", column="score")
    assert "ratings.csv" in str(e.value) and "'score'" in str(e.value) and "'high'" in str(e.value)
    with pytest.raises(InputError, match="values >= 0"):
        krippendorff_alpha(np.array([[1.0, -2.0], [1.0, 3.0]]), "ratio")
    with pytest.raises(InputError, match="not in the declared value order"):
        krippendorff_alpha(K2011, "ordinal", value_order=[1, 2, 3, 4])
    long = pd.DataFrame({"segment_id": [1, 1, 2, 2], "coder": ["a", "b", "a", "b"], "code": ["X", "Y", "X", "X"]})
    with pytest.raises(InputError, match="needs numbers") as e:
        agreement_report(long, levels=("nominal", "interval"), replicates=0, seed=1, source="seg.csv")
    assert "seg.csv" in str(e.value) and "'code'" in str(e.value)
    assert (
        agreement_report(  # numbers stored as text are numbers
            long.assign(code=["1", "2", "1", "1"]), levels=("interval",), replicates=0, seed=1
        )
        .overall["value"]
        .notna()
        .all()
    )
    with pytest.raises(ValueError, match="unknown level"):
        krippendorff_alpha(K2011, "circular")


def test_long_table_contract_errors_name_file_lines():
    long = pd.DataFrame({"segment_id": ["s1", "s1", "s2"], "coder": ["C1", "C1", "C2"], "code": ["A", "B", "A"]})
    with pytest.raises(InputError, match="more than one row") as e:
        reliability_matrix(long, source="seg.csv", first_data_line=3)
    assert e.value.rows == [3, 4] and e.value.column == "code" and "seg.csv" in str(e.value)
    with pytest.raises(InputError, match="empty coder") as e:
        reliability_matrix(long.assign(coder=["C1", None, "C2"]), source="seg.csv")
    assert "data row(s) 2" in str(e.value)
    with pytest.raises(InputError, match="missing column"):
        reliability_matrix(long.drop(columns="code"), source="seg.csv")


# ----------------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------------


def _three_coder_table(seed=4):
    rng = np.random.default_rng(seed)
    codes = ["P_WEB", "P_EVENTS", "F_STATUS"]
    rows = []
    for u in range(30):
        truth = codes[rng.integers(0, 3)]
        for c in ["C1", "C2", "C3"]:
            if c != "C1" and rng.random() < 0.3:
                continue
            code = truth if rng.random() < 0.8 else codes[rng.integers(0, 3)]
            rows.append((f"S{u:02d}", c, code))
    return pd.DataFrame(rows, columns=["segment_id", "coder", "code"])


def test_report_three_coders_tables_and_note():
    long = _three_coder_table()
    order = ["F_STATUS", "P_EVENTS", "P_WEB", "P_UNUSED"]
    rep = agreement_report(long, replicates=200, seed=17, value_order=order, source="seg.csv")
    ov = rep.overall
    assert list(ov.columns) == [
        "statistic",
        "level",
        "coders",
        "n_units",
        "n_pairable",
        "value",
        "ci_lower",
        "ci_upper",
        "q_below_0.667",
        "q_below_0.800",
        "note",
    ]
    assert ov["statistic"].tolist() == ["krippendorff_alpha", "fleiss_kappa"] + ["percent_agreement", "cohen_kappa"] * 3
    wide = reliability_matrix(long)
    a = ov.iloc[0]
    assert a["value"] == pytest.approx(krippendorff_alpha(wide, "nominal").alpha)
    assert a["ci_lower"] <= a["value"] <= a["ci_upper"] and a["coders"] == "C1|C2|C3"
    fk = ov.iloc[1]
    assert fk["value"] == pytest.approx(fleiss_kappa(wide).value) and fk["n_units"] == fleiss_kappa(wide).n_units
    both = wide.loc[["C1", "C2"]].dropna(axis=1)
    k12 = ov[(ov["statistic"] == "cohen_kappa") & (ov["coders"] == "C1|C2")].iloc[0]
    assert k12["value"] == pytest.approx(cohen_kappa_score(both.loc["C1"].tolist(), both.loc["C2"].tolist()))
    assert k12["n_units"] == both.shape[1]
    # per code: presence/absence; the unused codebook code gets undefined rows and a note
    pv = rep.per_value
    assert pv["code"].unique().tolist() == order
    web = pv[(pv["code"] == "P_WEB") & (pv["statistic"] == "krippendorff_alpha")].iloc[0]
    presence = wide.map(lambda v: None if v is None else int(v == "P_WEB"))
    assert web["value"] == pytest.approx(
        krippendorff.alpha(presence.to_numpy(dtype=float), level_of_measurement="nominal")
    )
    assert not math.isnan(web["ci_lower"])
    unused = pv[(pv["code"] == "P_UNUSED") & (pv["statistic"] == "krippendorff_alpha")].iloc[0]
    assert math.isnan(unused["value"]) and unused["n_present"] == 0
    assert any("P_UNUSED" in n for n in rep.notes)
    assert "Only 200 bootstrap replicates" in rep.table_note
    for text in (
        "Unit of analysis: one segment_id",
        "Krippendorff's alpha (nominal)",
        "percentile interval of 200",
        "seed 17",
        "Fleiss' kappa",
        "presence/absence",
    ):
        assert text in rep.table_note
    # reproducible; a code's CI does not depend on which other codes exist
    again = agreement_report(long, replicates=200, seed=17, value_order=order[:3])
    pd.testing.assert_frame_equal(again.overall, rep.overall)
    pd.testing.assert_frame_equal(again.per_value, pv[pv["code"] != "P_UNUSED"].reset_index(drop=True))


def test_report_levels_and_primary_coder():
    long = _three_coder_table().copy()
    long["score"] = long["code"].map({"F_STATUS": 1, "P_EVENTS": 2, "P_WEB": 4})
    rep = agreement_report(
        long, value="score", levels=LEVELS, replicates=100, seed=3, primary_coder="C1", per_value=False
    )
    alphas = rep.overall[rep.overall["statistic"] == "krippendorff_alpha"]
    assert alphas["level"].tolist() == list(LEVELS) and alphas["ci_lower"].notna().all()
    assert rep.pairs == [("C1", "C2"), ("C1", "C3")] and rep.per_value.empty
    with pytest.raises(InputError, match="primary coder"):
        agreement_report(long, replicates=0, seed=1, primary_coder="C9")


def test_report_on_study1_segments_matches_existing_statistics():
    path = Path(__file__).resolve().parents[1] / "resources" / "raw" / "study1_segments.csv"
    segments = pd.read_csv(path, comment="#")
    rep = agreement_report(
        segments, replicates=200, seed=20170511, primary_coder="C1", source=path.name, first_data_line=3
    )
    # what the project's previous, independent implementation (own coincidence matrix; kappa checked
    # against scikit-learn) reported for the shipped segments, 141 double-coded segments
    old = {"krippendorff_alpha": 0.8567057624, "cohen_kappa": 0.8562999517, "percent_agreement": 0.865248227}
    new = rep.overall.set_index("statistic")
    for stat, value in old.items():
        assert new.loc[stat, "value"] == pytest.approx(value, abs=1e-9)
        assert new.loc[stat, "n_units"] == 141
    assert rep.per_value["code"].nunique() == segments["code"].nunique()


def test_alpha_result_keeps_coders_and_coincidence_table():
    res = krippendorff_alpha(pd.DataFrame(K2011, index=list("ABCD")), "ordinal")
    assert isinstance(res, AlphaResult) and res.coders == ("A", "B", "C", "D")
    table = res.coincidence_table()
    assert table.shape == (5, 5) and table.to_numpy().sum() == pytest.approx(40)
