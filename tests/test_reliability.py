"""crfm.stats.agreement against published and library references."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from crfm.errors import InputError
from crfm.stats.agreement import (
    UNIT_DEFINITION,
    coincidence_matrix,
    cohen_kappa,
    intercoder_reliability,
    krippendorff_alpha_nominal,
    percent_agreement,
    reliability_data,
)

nan = np.nan

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
# values 1..5, missing data. Published: nominal alpha = 0.743.
K2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],  # observer A
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],  # observer B
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],  # observer C
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],  # observer D
    ]
)


def test_alpha_published_example():
    alpha = krippendorff_alpha_nominal(K2011.T)  # ours: units x coders
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(krippendorff.alpha(K2011, level_of_measurement="nominal"), abs=1e-12)


def test_coincidence_matrix_published_example():
    o = coincidence_matrix(K2011.T)
    # Krippendorff (2011) p. 4: marginals n_c = 9, 13, 10, 5, 3 and n = 40 pairable values
    assert o.sum(axis=1).round(10).tolist() == [9, 13, 10, 5, 3]
    assert o.to_numpy().sum() == pytest.approx(40)
    assert o.iat[0, 0] == pytest.approx(7) and o.iat[0, 1] == pytest.approx(4 / 3)
    assert o.iat[4, 4] == pytest.approx(3)


def test_alpha_matches_package_on_random_string_codes():
    rng = np.random.default_rng(20170511)
    codes = np.array(["P_WEB", "P_EVENTS", "F_STATUS", "P_REFVISIT"])
    for _ in range(20):
        truth = rng.integers(0, len(codes), size=40)
        data = np.empty((40, 3), dtype=object)
        for j in range(3):
            noisy = np.where(rng.random(40) < 0.25, rng.integers(0, len(codes), size=40), truth)
            data[:, j] = codes[noisy]
            data[rng.random(40) < 0.2, j] = None
        numeric = np.array(
            [[nan if v is None else float(np.flatnonzero(codes == v)[0]) for v in row] for row in data]
        )
        ref = krippendorff.alpha(numeric.T, level_of_measurement="nominal")
        assert krippendorff_alpha_nominal(data) == pytest.approx(ref, abs=1e-12)


def test_alpha_undefined_without_variation():
    assert math.isnan(krippendorff_alpha_nominal(np.array([["a", "a"], ["a", "a"]], dtype=object)))
    assert math.isnan(krippendorff_alpha_nominal(np.array([["a", None], [None, "b"]], dtype=object)))


def test_kappa_hand_worked_2x2():
    # 50 units: yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    # p_o = 35/50 = .70; p_e = .5*.6 + .5*.4 = .50; kappa = (.70 - .50) / (1 - .50) = .40
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert percent_agreement(a, b) == pytest.approx(0.70)
    assert cohen_kappa(a, b) == pytest.approx(0.40)
    assert cohen_kappa_score(a, b) == pytest.approx(0.40)


def test_kappa_matches_sklearn():
    rng = np.random.default_rng(7)
    cats = np.array(["A", "B", "C", "D", "E"])
    for _ in range(25):
        a = cats[rng.integers(0, 5, size=60)]
        b = np.where(rng.random(60) < 0.6, a, cats[rng.integers(0, 5, size=60)])
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_undefined_when_no_variation():
    assert math.isnan(cohen_kappa([False] * 5, [False] * 5))


def _segments():
    # 6 segments: C1 codes all, C2 codes S1..S4 (S4 disagrees), C3 codes S1, S5.
    rows = [
        ("I1", "S1", "C1", "P_WEB"), ("I1", "S1", "C2", "P_WEB"), ("I1", "S1", "C3", "P_WEB"),
        ("I1", "S2", "C1", "P_EVENTS"), ("I1", "S2", "C2", "P_EVENTS"),
        ("I2", "S3", "C1", "P_WEB"), ("I2", "S3", "C2", "P_WEB"),
        ("I2", "S4", "C1", "F_STATUS"), ("I2", "S4", "C2", "P_EVENTS"),
        ("I3", "S5", "C1", "F_STATUS"), ("I3", "S5", "C3", "F_STATUS"),
        ("I3", "S6", "C1", "P_WEB"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["interview_id", "segment_id", "coder", "code"])


def test_report_two_coders_against_references():
    seg = _segments()
    seg = seg[seg["coder"] != "C3"]
    res = intercoder_reliability(seg, primary_coder="C1", codes=["P_WEB", "P_EVENTS", "F_STATUS", "P_UNUSED"])
    assert res.unit_definition == UNIT_DEFINITION and "segment" in res.table_note
    ov = res.overall.set_index("statistic")
    a = ["P_WEB", "P_EVENTS", "P_WEB", "F_STATUS"]
    b = ["P_WEB", "P_EVENTS", "P_WEB", "P_EVENTS"]
    assert ov.at["percent_agreement", "value"] == pytest.approx(0.75)
    assert ov.at["cohen_kappa", "value"] == pytest.approx(cohen_kappa_score(a, b))
    assert ov.at["cohen_kappa", "n_units"] == 4 and ov.at["cohen_kappa", "coders"] == "C1|C2"
    ref_alpha = krippendorff.alpha(
        np.array([[0, 1, 0, 2, 2, 0], [0, 1, 0, 1, nan, nan]], dtype=float), level_of_measurement="nominal"
    )
    assert ov.at["krippendorff_alpha", "value"] == pytest.approx(ref_alpha)
    assert ov.at["krippendorff_alpha", "n_units"] == 4
    pc = res.per_code.set_index("code")
    assert pc.index.tolist() == ["F_STATUS", "P_EVENTS", "P_UNUSED", "P_WEB"]
    xa, xb = [c == "P_EVENTS" for c in a], [c == "P_EVENTS" for c in b]
    assert pc.at["P_EVENTS", "cohen_kappa"] == pytest.approx(cohen_kappa_score(xa, xb))
    assert pc.at["P_EVENTS", "percent_agreement"] == pytest.approx(0.75)
    assert (
        pc.at["P_EVENTS", "n_present_a"],
        pc.at["P_EVENTS", "n_present_b"],
        pc.at["P_EVENTS", "n_present_both"],
    ) == (1, 2, 1)
    assert pc.at["P_WEB", "cohen_kappa"] == pytest.approx(1.0)
    assert math.isnan(pc.at["P_UNUSED", "cohen_kappa"]) and pc.at["P_UNUSED", "percent_agreement"] == 1.0
    assert "P_UNUSED" in res.table_note


def test_report_three_coders_alpha_uses_all():
    res = intercoder_reliability(_segments(), primary_coder="C1")
    assert res.pairs == [("C1", "C2"), ("C1", "C3")]
    wide = reliability_data(_segments())
    assert wide.columns.tolist() == ["C1", "C2", "C3"] and wide.index.tolist() == [
        f"S{i}" for i in range(1, 7)
    ]
    values = {"P_WEB": 0, "P_EVENTS": 1, "F_STATUS": 2}
    num = wide.apply(lambda s: s.map(values)).to_numpy(dtype=float).T
    alpha = res.overall.set_index("statistic").at["krippendorff_alpha", "value"]
    assert alpha == pytest.approx(krippendorff.alpha(num, level_of_measurement="nominal"))
    assert set(res.per_code["coder_b"]) == {"C2", "C3"}


def test_report_is_deterministic_under_row_order():
    seg = _segments()
    r1 = intercoder_reliability(seg, primary_coder="C1")
    r2 = intercoder_reliability(seg.sample(frac=1, random_state=1), primary_coder="C1")
    pd.testing.assert_frame_equal(r1.overall, r2.overall)
    pd.testing.assert_frame_equal(r1.per_code, r2.per_code)


def test_error_only_one_coder():
    seg = _segments()
    with pytest.raises(InputError, match="only one coder \\('C1'\\)"):
        intercoder_reliability(seg[seg["coder"] == "C1"], source="resources/raw/study1_segments.csv")


def test_error_empty_double_coded_subset():
    seg = _segments()
    seg = seg[~((seg["coder"] == "C1") & seg["segment_id"].isin(["S1", "S5"]))]
    with pytest.raises(InputError, match="empty double-coded subset: coders 'C1' and 'C3'"):
        intercoder_reliability(seg, primary_coder="C1")


def test_error_two_codes_for_one_segment_and_coder():
    seg = pd.concat(
        [
            _segments(),
            pd.DataFrame(
                [("I1", "S2", "C2", "P_WEB")], columns=["interview_id", "segment_id", "coder", "code"]
            ),
        ]
    )
    with pytest.raises(InputError, match="segment 'S2' coder 'C2' gave 2 codes \\(P_EVENTS, P_WEB\\)"):
        intercoder_reliability(seg)


def test_error_unknown_primary_coder():
    with pytest.raises(InputError, match="primary coder 'CX'"):
        intercoder_reliability(_segments(), primary_coder="CX")
