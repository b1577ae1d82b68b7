"""Study 3 through the workflow: parameter recovery, hypotheses as the population implies, shard
invariance of the bootstrap, the Study 2 -> Study 3 DAG edge, and failures that name the variable."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import ROOT, clone_run, expect_failure, run_target, snakemake
from crfm.data.tables import read_table

POP = yaml.safe_load((ROOT / "config/config.yaml").read_text())["population"]["study3"]["effects"]


@pytest.fixture(scope="module")
def run3(tmp_path_factory):
    return run_target(tmp_path_factory, "s3", "study3")


@pytest.mark.e2e
def test_population_effects_inside_the_bootstrap_cis(run3):
    ci = read_table(run3 / "results/default/tables/study3_bootstrap_ci.csv").set_index("stat")
    for stat, pop in (("beta_focal", POP["crfm"]), ("beta_interaction", POP["interaction"])):
        lo, hi = ci.loc[stat, "bca_lower"], ci.loc[stat, "bca_upper"]
        assert lo <= pop <= hi, f"{stat}: population {pop} outside [{lo:.3f}, {hi:.3f}]"


@pytest.mark.e2e
def test_hypotheses_come_out_as_the_population_implies(run3):
    h = read_table(run3 / "results/default/tables/study3_hypotheses.csv").set_index("hypothesis")
    # population: CRFM -> performance positive, stronger under high complexity
    assert bool(h.loc["H1", "supported"]) is (POP["crfm"] > 0)
    assert bool(h.loc["H2", "supported"]) is (POP["interaction"] > 0)
    coefs = read_table(run3 / "results/default/tables/study3_coefficients.csv")
    final = coefs[coefs["step"] == coefs["step"].max()].set_index("term")
    # the verdict table copies, never retypes, the regression's numbers
    assert h.loc["H2", "b"] == pytest.approx(final.loc["CRFM_x_COMP", "b"], rel=1e-9)
    assert h.loc["H1", "p"] == pytest.approx(final.loc["CRFM", "p"], rel=1e-6)


@pytest.mark.e2e
def test_simple_slopes_rise_with_complexity_and_jn_is_consistent(run3):
    s = read_table(run3 / "results/default/tables/study3_simple_slopes.csv").set_index("at")
    assert s.loc["-1 SD", "slope"] < s.loc["mean", "slope"] < s.loc["+1 SD", "slope"]
    jn = read_table(run3 / "results/default/tables/study3_johnson_neyman.csv")
    # the effect is significant at +1 SD, so no JN bound may lie between the mean and +1 SD
    inside = jn[(jn["value"] > 0) & (jn["value"] < s.loc["+1 SD", "moderator_value"])]
    assert inside.empty


@pytest.mark.e2e
def test_bootstrap_identical_for_any_shard_count(run3):
    first = (run3 / "results/default/tables/study3_bootstrap_ci.csv").read_bytes()
    res = snakemake(
        run3,
        "results/default/tables/study3_bootstrap_ci.csv",
        "--cores",
        "2",
        "--set-scatter",
        "bootstrap=3",
        "--forcerun",
        "study3_bootstrap_shard",
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert len(list((run3 / "results/default/study3/bootstrap").glob("shard_*-of-3.csv"))) == 3
    assert (run3 / "results/default/tables/study3_bootstrap_ci.csv").read_bytes() == first


@pytest.mark.e2e
def test_study3_uses_study2_retained_items_and_reruns_when_they_may_change(run3, tmp_path):
    retained = read_table(run3 / "results/default/study2/retained_items.csv")
    load = read_table(run3 / "results/default/tables/study3_measurement_loadings.csv")
    crfm_items = set(load.loc[load["factor"].isin(["RCOM", "RSEL", "RINT"]), "item"])
    assert crfm_items == set(retained["item"])
    cfg = tmp_path / "o.yaml"
    cfg.write_text(yaml.safe_dump({"study2": {"purification": {"min_loading": 0.45}}}))
    res = snakemake(run3, "study3", "-n", "--configfile", str(cfg))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    for rule in ("study2_explore", "study3_measurement", "study3_regression", "study3_hypotheses"):
        assert rule in out, f"{rule} would not rerun:\n{out[-3000:]}"


BAD = [
    ({"survey": "tests/bad_inputs/s3_constant_control.csv"}, ["'firm_age' is constant"]),
    ({"survey": "tests/bad_inputs/s3_too_few_cases.csv"}, ["too few cases", "respondent(s)", "model items"]),
    (
        {
            "variables": [
                {"column": "firm_size", "type": "continuous", "min": 1},
                {"column": "log_firm_size", "type": "derived", "from": "firm_size", "transform": "log"},
                {
                    "column": "industry",
                    "type": "categorical",
                    "levels": ["information technology", "process technology", "other"],
                },
                {"column": "firm_age", "type": "continuous", "min": 0, "max": 300},
                {"column": "age_copy", "type": "derived", "from": "firm_age", "transform": "identity"},
            ],
            "controls": ["log_firm_size", "industry", "firm_age", "age_copy"],
        },
        ["perfect collinearity", "'age_copy'", "'firm_age'"],
    ),
    (
        {"moderators": ["COMP", "MARK"], "marker": None, "survey": "tests/bad_inputs/s3_missing_control.csv"},
        ["missing required column(s) ['firm_age']"],
    ),
]


@pytest.mark.e2e
@pytest.mark.parametrize("override,fragments", BAD, ids=["constant", "too_few_cases", "collinear", "missing_control"])
def test_study3_failures_name_the_variable(run3, tmp_path, override, fragments):
    wf = clone_run(run3, tmp_path / "wf")  # a copy: the module's run stays intact
    shutil.rmtree(wf / "results/default/study3", ignore_errors=True)
    for t in (wf / "results/default/tables").glob("study3_*.csv"):
        t.unlink()
    expect_failure(wf, "study3", {"study3": override}, fragments, tmp_path / "o.yaml")
    assert not (wf / "results/default/tables/study3_hypotheses.csv").exists()


@pytest.mark.e2e
def test_marker_table_leaves_out_part_whole_pairs(run3):
    m = read_table(run3 / "results/default/tables/study3_marker.csv")
    pairs = {frozenset(p) for p in zip(m["var1"], m["var2"])}
    for dim in ("RCOM", "RSEL", "RINT"):
        assert frozenset(("CRFM", dim)) not in pairs
    assert frozenset(("CRFM", "PERF")) in pairs
