"""Study 2 through the workflow: lavaan/psych/semTools agreement on Holzinger-Swineford (run with
--configfile alone), the planted weak items purified away, parameter recovery, and clear failures."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

from conftest import DATA, ROOT, clone_run, expect_failure, run_target
from crfm.data.tables import read_table, table_notes

REF = json.loads((DATA / "lavaan_hs1939.json").read_text())


@pytest.fixture(scope="module")
def hs_run(tmp_path_factory):
    return (
        run_target(tmp_path_factory, "hs", "study2", "--configfile", "config/examples/hs1939.yaml")
        / "results/hs1939/tables"
    )


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    return run_target(tmp_path_factory, "s2", "study2")


@pytest.mark.e2e
def test_fit_matches_lavaan(hs_run):
    fit = read_table(hs_run / "study2_fit.csv").set_index("model").loc["correlated"]
    ref = REF["ml_fit"]
    assert fit["chi2"] == pytest.approx(ref["chisq"], abs=0.05)
    assert fit["df"] == ref["df"]
    for ours, theirs in (("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("srmr", "srmr")):
        assert fit[ours] == pytest.approx(ref[theirs], abs=0.001), ours
    assert fit["rmsea_ci_lower"] == pytest.approx(ref["rmsea_ci90"][0], abs=0.001)
    assert fit["rmsea_ci_upper"] == pytest.approx(ref["rmsea_ci90"][1], abs=0.001)
    for k in ("loglik", "aic", "bic"):
        assert fit[k] == pytest.approx(ref[k], abs=0.05), k


@pytest.mark.e2e
def test_loadings_correlations_reliability_match_lavaan_semtools(hs_run):
    load = read_table(hs_run / "study2_loadings.csv").set_index("item")
    for item, value in REF["std_loadings"].items():
        assert load.loc[item, "std_all"] == pytest.approx(value, abs=0.002), item
    corr = read_table(hs_run / "study2_factor_correlations.csv")
    got = {f"{a}-{b}": r for a, b, r in zip(corr["factor_a"], corr["factor_b"], corr["r"])}
    for pair, value in REF["factor_correlations"].items():
        a, b = pair.split("-")
        assert got.get(pair, got.get(f"{b}-{a}")) == pytest.approx(value, abs=0.002), pair
    rel = read_table(hs_run / "study2_reliability.csv").set_index("construct")
    for c in ("visual", "textual", "speed"):
        assert rel.loc[c, "alpha"] == pytest.approx(REF["cronbach_alpha_raw"][c], abs=1e-4)
        assert rel.loc[c, "cr"] == pytest.approx(REF["composite_reliability_standardized"][c], abs=0.002)
        assert rel.loc[c, "ave"] == pytest.approx(REF["ave_standardized"][c], abs=0.002)
    ht = read_table(hs_run / "study2_htmt.csv")
    got = {f"{a}-{b}": v for a, b, v in zip(ht["construct_a"], ht["construct_b"], ht["htmt"])}
    for pair, value in REF["htmt_henseler2015"].items():
        if pair.startswith("_"):
            continue
        assert got[pair] == pytest.approx(value, abs=0.002), pair
    so = read_table(hs_run / "study2_second_order_loadings.csv").set_index("subfactor")
    for c, value in REF["second_order"]["std_loadings"].items():
        assert so.loc[c, "std_all"] == pytest.approx(value, abs=0.005), c
    fl = read_table(hs_run / "study2_fornell_larcker.csv").set_index("construct")
    assert fl.loc["visual", "visual"] == pytest.approx(REF["ave_standardized"]["visual"] ** 0.5, abs=0.002)


@pytest.mark.e2e
def test_hs_outputs_are_not_labelled_synthetic(hs_run):
    assert not (hs_run / "study2_fit.csv").read_text().startswith("# SYNTHETIC")


@pytest.mark.e2e
def test_planted_weak_items_are_the_ones_removed(synthetic_run):
    log = read_table(synthetic_run / "results/default/tables/study2_purification.csv")
    assert sorted(log["item"]) == ["RCOM6", "RINT6", "RSEL5"]  # planted in config population
    assert set(log["rule"]) <= {"min_loading", "wrong_factor", "max_cross_loading", "min_item_total"}
    retained = read_table(synthetic_run / "results/default/study2/retained_items.csv")
    assert len(retained) == 15 and not {"RCOM6", "RINT6", "RSEL5"} & set(retained["item"])


@pytest.mark.e2e
def test_population_loadings_recovered(synthetic_run):
    """Population loadings inside the reported 95% CIs for at least 90% of the retained items."""
    pop = yaml.safe_load((ROOT / "config/config.yaml").read_text())["population"]["loadings"]
    load = read_table(synthetic_run / "results/default/tables/study2_loadings.csv")
    inside = [(lo <= pop[i] <= hi) for i, lo, hi in zip(load["item"], load["ci_lower"], load["ci_upper"])]
    assert len(inside) == 15
    assert sum(inside) / len(inside) >= 0.9


@pytest.mark.e2e
def test_notes_state_the_sample_and_formulas(synthetic_run):
    notes = " ".join(table_notes(synthetic_run / "results/default/tables/study2_reliability.csv"))
    assert "CR = (sum l)^2" in notes and "AVE = mean(l^2)" in notes
    fit_notes = " ".join(table_notes(synthetic_run / "results/default/tables/study2_fit.csv"))
    # the default estimation (FIML) and the sample the CFAs used: the validation half, n of N respondents
    assert "full-information ML (FIML" in fit_notes and "every respondent of the sample counts" in fit_notes
    assert re.search(r"validation half, n = \d+ of \d+ respondents", fit_notes), fit_notes


BAD = [
    ({"survey": "tests/bad_inputs/s2_zero_variance.csv"}, ["RINT3", "zero variance"]),
    ({"survey": "tests/bad_inputs/s2_singular.csv"}, ["singular", "RCOM1", "RCOM2"]),
    ({"survey": "tests/bad_inputs/s2_too_few_cases.csv"}, ["too few cases", "for 18 model items"]),
    ({"purification": {"min_loading": 0.83}}, ["would leave construct", "fewer than 2 items"]),
]


@pytest.mark.e2e
@pytest.mark.parametrize("override,fragments", BAD, ids=["zero_variance", "singular", "too_few_cases", "purified_away"])
def test_analysis_failures_name_the_item_or_construct(synthetic_run, tmp_path, override, fragments):
    wf = clone_run(synthetic_run, tmp_path / "wf")  # a copy: the module's run stays intact
    shutil.rmtree(wf / "results/default/study2", ignore_errors=True)
    expect_failure(wf, "study2", {"study2": override}, fragments, tmp_path / "o.yaml")
    assert not (wf / "results/default/study2/retained_items.csv").exists()
