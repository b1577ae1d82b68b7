"""crfm.stats.coding: Study 1 coding summaries, saturation, co-occurrence and traceability."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crfm.errors import AnalysisError, InputError
from crfm.report.figures import code_heatmap_figure, cooccurrence_figure, saturation_figure, save_figure
from crfm.stats.coding import (
    cluster_order,
    code_company_share,
    coding_summary,
    cooccurrence_jaccard,
    cross_check_items,
    dimension_by_company,
    informants_table,
    jaccard_matrix,
    primary_segments,
    saturation,
    traceability,
)


@pytest.fixture
def interviews():
    return pd.DataFrame(
        {
            "interview_id": ["I1", "I2", "I3", "I4", "I5", "I6", "I7"],
            "company": ["Beta", "Alpha", "Alpha", "Beta", "Gamma", "Alpha", "Gamma"],
            "industry": ["Energy", "Machinery", "Machinery", "Energy", "ICT", "Machinery", "ICT"],
            "role": ["Sales director", "CEO", "Sales director", "Marketing manager", "CEO", "CEO", "CEO"],
            "order": [1, 2, 3, 4, 5, 6, 7],
        }
    )


@pytest.fixture
def codebook():
    return pd.DataFrame(
        {
            "code": ["P_WEB", "P_EVENTS", "P_VISIT", "P_LESSONS", "F_STATUS", "F_LEARN"],
            "label": ["Web", "Events", "Visits", "Lessons", "Status", "Learning"],
            "definition": ["d"] * 6,
            "kind": ["practice", "practice", "practice", "practice", "function", "function"],
            "level": ["external", "external", "external", "internal", "external", "internal"],
            "dimension": ["RCOM", "RCOM", "RSEL", "RINT", "RCOM", "RINT"],
            "items": ["RCOM1", "RCOM2; RCOM3", "RSEL1;RSEL2", "RINT1", None, ""],
        }
    )


@pytest.fixture
def segments():
    rows = [
        ("I1", "S01", "P_WEB"),
        ("I1", "S02", "P_EVENTS"),
        ("I1", "S03", "F_STATUS"),
        ("I2", "S04", "P_WEB"),
        ("I2", "S05", "P_VISIT"),
        ("I3", "S06", "P_WEB"),
        ("I3", "S07", "P_WEB"),
        ("I4", "S08", "P_LESSONS"),
        ("I4", "S09", "P_EVENTS"),
        ("I5", "S10", "P_WEB"),
        ("I6", "S11", "P_VISIT"),
    ]  # fmt: skip  (I7 has no segment)
    df = pd.DataFrame(rows, columns=["interview_id", "segment_id", "code"]).assign(coder="C1")
    second = pd.DataFrame(
        [("I1", "S01", "C2", "P_EVENTS"), ("I2", "S05", "C2", "F_LEARN")],
        columns=["interview_id", "segment_id", "coder", "code"],
    )
    return pd.concat([df[["interview_id", "segment_id", "coder", "code"]], second], ignore_index=True)


def test_primary_segments(segments):
    p = primary_segments(segments, "C1")
    assert set(p["coder"]) == {"C1"} and len(p) == 11
    with pytest.raises(InputError, match="2 coders \\(C1, C2\\) but no primary coder"):
        primary_segments(segments)
    with pytest.raises(InputError, match="primary coder 'C9' has no segments"):
        primary_segments(segments, "C9")


def test_informants_table(interviews):
    t = informants_table(interviews)
    assert t.columns.tolist() == ["company", "industry", "role", "n_interviews", "interview_ids"]
    assert t[["company", "role", "n_interviews"]].values.tolist() == [
        ["Alpha", "CEO", 2],
        ["Alpha", "Sales director", 1],
        ["Beta", "Marketing manager", 1],
        ["Beta", "Sales director", 1],
        ["Gamma", "CEO", 2],
    ]
    assert t.loc[0, "interview_ids"] == "I2; I6" and t["n_interviews"].sum() == 7
    bad = interviews.copy()
    bad.loc[0, "industry"] = "Mining"
    with pytest.raises(InputError, match="company 'Beta' is listed under more than one industry"):
        informants_table(bad)


def test_coding_summary(segments, interviews, codebook):
    s = coding_summary(segments, interviews, codebook, primary_coder="C1")
    assert s.columns.tolist() == [
        "code", "label", "dimension", "level", "kind",
        "n_segments", "n_interviews", "n_companies", "share_interviews",
    ]  # fmt: skip
    # practice before function, external before internal, then dimension, code
    assert s["code"].tolist() == ["P_EVENTS", "P_WEB", "P_VISIT", "P_LESSONS", "F_STATUS", "F_LEARN"]
    web = s.set_index("code").loc["P_WEB"]
    assert (web.n_segments, web.n_interviews, web.n_companies) == (5, 4, 3)
    assert web.share_interviews == pytest.approx(4 / 7)
    learn = s.set_index("code").loc["F_LEARN"]  # only the second coder used it
    assert (learn.n_segments, learn.n_interviews, learn.share_interviews) == (0, 0, 0.0)


def test_coding_summary_errors(segments, interviews, codebook):
    with pytest.raises(InputError, match="code\\(s\\) P_VISIT are not defined in the codebook"):
        coding_summary(segments, interviews, codebook[codebook["code"] != "P_VISIT"], primary_coder="C1")
    with pytest.raises(InputError, match="interview_id\\(s\\) I6 are not in the interviews table"):
        coding_summary(segments, interviews[interviews["interview_id"] != "I6"], codebook, primary_coder="C1")
    dup = pd.concat([segments, segments.iloc[[0]].assign(code="P_VISIT")])
    with pytest.raises(InputError, match="segment 'S01' coder 'C1' gave 2 codes"):
        coding_summary(dup, interviews, codebook, primary_coder="C1")


def test_dimension_by_company(segments, interviews, codebook):
    m = dimension_by_company(segments, interviews, codebook, primary_coder="C1")
    assert m.index.tolist() == ["RCOM", "RINT", "RSEL"] and m.columns.tolist() == ["Alpha", "Beta", "Gamma"]
    assert m.loc["RCOM"].tolist() == [2, 2, 1]  # interviews: Alpha I2, I3; Beta I1, I4; Gamma I5
    assert m.loc["RINT"].tolist() == [0, 1, 0]
    n = dimension_by_company(
        segments,
        interviews,
        codebook,
        primary_coder="C1",
        value="n_segments",
        dimensions=["RCOM", "RSEL", "RINT"],
    )
    assert n.index.tolist() == ["RCOM", "RSEL", "RINT"] and n.loc["RCOM"].tolist() == [3, 4, 1]
    sh = dimension_by_company(segments, interviews, codebook, primary_coder="C1", value="share_interviews")
    assert sh.loc["RSEL", "Alpha"] == pytest.approx(2 / 3) and sh.loc["RCOM", "Gamma"] == pytest.approx(0.5)


def test_code_company_share_and_heatmap(tmp_path, segments, interviews, codebook):
    share = code_company_share(segments, interviews, codebook, primary_coder="C1")
    assert share.index.tolist()[:2] == ["P_EVENTS", "P_WEB"] and share.shape == (6, 3)
    assert share.loc["P_WEB"].tolist() == pytest.approx([2 / 3, 1 / 2, 1 / 2])
    assert share.loc["F_LEARN"].sum() == 0
    paths = [tmp_path / "heat.png", tmp_path / "heat.pdf"]
    save_figure(
        code_heatmap_figure(share, labels=dict(zip(codebook["code"], codebook["label"]))), paths, synthetic=True
    )
    first = [p.read_bytes() for p in paths]
    save_figure(
        code_heatmap_figure(share, labels=dict(zip(codebook["code"], codebook["label"]))), paths, synthetic=True
    )
    assert [p.read_bytes() for p in paths] == first and all(len(b) > 1000 for b in first)


def test_saturation(tmp_path, segments, interviews):
    res = saturation(segments, interviews, k=2, primary_coder="C1")
    t = res.table
    assert t.columns.tolist() == [
        "position", "order", "interview_id", "company", "n_segments", "n_new_codes", "cumulative_codes", "new_codes",
    ]  # fmt: skip
    assert t["n_new_codes"].tolist() == [3, 1, 0, 1, 0, 0, 0]
    assert t["cumulative_codes"].tolist() == [3, 4, 4, 5, 5, 5, 5]
    assert t.loc[0, "new_codes"] == "F_STATUS; P_EVENTS; P_WEB"
    assert (res.saturation_position, res.saturation_interview, res.n_codes) == (4, "I4", 5)
    assert saturation(segments, interviews, k=3, primary_coder="C1").saturation_interview == "I4"
    assert saturation(segments, interviews, k=4, primary_coder="C1").saturation_interview is None
    assert saturation(segments, interviews, k=1, primary_coder="C1").saturation_interview == "I2"
    assert res.summary().loc[0, "saturation_order"] == 4
    save_figure(saturation_figure(res), [tmp_path / "sat.png"], synthetic=False)
    save_figure(
        saturation_figure(saturation(segments, interviews, k=4, primary_coder="C1")),
        [tmp_path / "none.png"],
        synthetic=True,
    )
    assert (tmp_path / "sat.png").stat().st_size > 1000 and (tmp_path / "none.png").exists()


def test_saturation_follows_order_column(segments, interviews):
    rev = interviews.assign(order=8 - interviews["order"])  # I7 first ... I1 last
    t = saturation(segments, rev, k=2, primary_coder="C1").table
    assert t["interview_id"].tolist() == ["I7", "I6", "I5", "I4", "I3", "I2", "I1"]
    assert t["n_new_codes"].tolist() == [0, 1, 1, 2, 0, 0, 1]


def test_saturation_errors(segments, interviews):
    with pytest.raises(ValueError, match="positive integer"):
        saturation(segments, interviews, k=0, primary_coder="C1")
    dup = interviews.assign(order=[1, 2, 2, 3, 4, 5, 6])
    with pytest.raises(InputError, match="order value\\(s\\) 2 are shared"):
        saturation(segments, dup, k=2, primary_coder="C1")


def test_cooccurrence_jaccard(tmp_path, segments):
    long = cooccurrence_jaccard(segments, primary_coder="C1")
    assert long.columns.tolist() == ["code_a", "code_b", "n_a", "n_b", "n_both", "n_either", "jaccard"]
    codes = ["F_STATUS", "P_EVENTS", "P_LESSONS", "P_VISIT", "P_WEB"]
    assert len(long) == 10 and (long["code_a"] < long["code_b"]).all()
    r = long.set_index(["code_a", "code_b"])
    # P_WEB in I1, I2, I3, I5; P_EVENTS in I1, I4 -> 1 / 5
    assert r.loc[("P_EVENTS", "P_WEB"), "jaccard"] == pytest.approx(1 / 5)
    assert r.loc[("F_STATUS", "P_EVENTS"), "jaccard"] == pytest.approx(1 / 2)
    assert r.loc[("P_LESSONS", "P_WEB"), "jaccard"] == 0
    m = jaccard_matrix(long)
    assert m.index.tolist() == codes and np.allclose(m.to_numpy(), m.to_numpy().T) and np.all(np.diag(m) == 1)
    order = cluster_order(m)
    assert sorted(order) == codes and cluster_order(m.iloc[::-1, ::-1]) == order
    paths = [tmp_path / "co.png", tmp_path / "co.pdf"]
    fig = cooccurrence_figure(long)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == order
    save_figure(fig, paths, synthetic=True)
    first = [p.read_bytes() for p in paths]
    save_figure(cooccurrence_figure(long), paths, synthetic=True)
    assert [p.read_bytes() for p in paths] == first
    with pytest.raises(AnalysisError, match="at least two codes"):
        cooccurrence_figure(long.iloc[0:0])


def test_traceability(codebook):
    pool = ["RCOM1", "RCOM2", "RCOM3", "RSEL1", "RSEL2", "RINT1"]
    t = traceability(codebook, pool, ["RCOM", "RSEL", "RINT"])
    assert t.columns.tolist() == ["dimension", "code", "label", "kind", "level", "item"]
    assert t["dimension"].tolist() == ["RCOM"] * 4 + ["RSEL"] * 2 + ["RINT"] * 2
    assert t[t["item"].notna()]["item"].tolist() == ["RCOM2", "RCOM3", "RCOM1", "RSEL1", "RSEL2", "RINT1"]
    assert t.loc[t["code"] == "F_STATUS", "item"].isna().all()
    assert t["code"].tolist()[:4] == ["P_EVENTS", "P_EVENTS", "P_WEB", "F_STATUS"]  # practices first
    measured = {i: d for d, i in t.dropna(subset=["item"])[["dimension", "item"]].values}
    t2 = traceability(codebook, pool, ["RCOM", "RSEL", "RINT"], item_constructs={i: i[:4] for i in pool})
    pd.testing.assert_frame_equal(t, t2)
    assert measured["RSEL2"] == "RSEL"


def test_traceability_errors(codebook):
    pool = ["RCOM1", "RCOM2", "RCOM3", "RSEL1", "RSEL2", "RINT1"]
    dims = ["RCOM", "RSEL", "RINT"]
    with pytest.raises(InputError, match="item 'RINT2' of the item pool is traced to no code"):
        traceability(codebook, pool + ["RINT2"], dims)
    with pytest.raises(InputError, match="code 'P_VISIT' lists item 'RSEL2', which is not in the item pool"):
        traceability(codebook, [p for p in pool if p != "RSEL2"], dims)
    no_rint = codebook.assign(items=codebook["items"].replace({"RINT1": None}))
    with pytest.raises(InputError, match="dimension 'RINT' has no item"):
        traceability(no_rint, [p for p in pool if p != "RINT1"], dims)
    with pytest.raises(InputError, match="dimension 'RINT', which is not one of the dimensions RCOM, RSEL"):
        traceability(codebook, pool, ["RCOM", "RSEL"])
    cross = codebook.assign(items=codebook["items"].replace({"RINT1": "RINT1;RCOM1"}))
    with pytest.raises(InputError, match="item 'RCOM1' is listed under codes of different dimensions"):
        traceability(cross, pool, dims)
    wrong = {i: i[:4] for i in pool} | {"RSEL2": "RCOM"}
    with pytest.raises(InputError, match="lists item 'RSEL2', which the measurement model assigns to construct 'RCOM'"):
        traceability(codebook, pool, dims, item_constructs=wrong)


def test_cross_check_items():
    assert cross_check_items(["A1", "A2"], ["id", "A2", "A1"]) == ["A1", "A2"]
    with pytest.raises(InputError, match="item\\(s\\) A3, B1 of the item pool .* no column in the survey") as e:
        cross_check_items(["A1", "A3", "B1"], ["A1"], source="resources/raw/study2_survey.csv")
    assert "study2_survey.csv" in str(e.value) and e.value.column == "A3"


def test_summaries_do_not_depend_on_row_order(segments, interviews, codebook):
    shuffled = segments.sample(frac=1, random_state=5)
    ivs = interviews.sample(frac=1, random_state=6)
    pd.testing.assert_frame_equal(
        coding_summary(segments, interviews, codebook, primary_coder="C1"),
        coding_summary(shuffled, ivs, codebook, primary_coder="C1"),
    )
    pd.testing.assert_frame_equal(
        cooccurrence_jaccard(segments, primary_coder="C1"), cooccurrence_jaccard(shuffled, primary_coder="C1")
    )
    pd.testing.assert_frame_equal(
        saturation(segments, interviews, 2, primary_coder="C1").table,
        saturation(shuffled, ivs, 2, primary_coder="C1").table,
    )
    assert not math.isnan(coding_summary(segments, interviews, codebook, primary_coder="C1")["share_interviews"].sum())


def test_check_segments_refuses_two_codes_for_one_segment_and_coder():
    from crfm.stats.coding import check_segments

    seg = pd.DataFrame(
        [("I1", "S2", "C1", "P_EVENTS"), ("I1", "S2", "C2", "P_EVENTS"), ("I1", "S2", "C2", "P_WEB")],
        columns=["interview_id", "segment_id", "coder", "code"],
    )
    with pytest.raises(InputError, match="segment 'S2' coder 'C2' gave 2 codes \\(P_EVENTS, P_WEB\\)"):
        check_segments(seg)
