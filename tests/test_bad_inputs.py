"""Every malformed input stops the workflow: non-zero exit, a message naming the file, line, column
and fix, and no partial outputs left behind. Runs the real workflow (Snakemake) on each file."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import copy_workflow, expect_failure, snakemake

TARGET = {
    "study1": "results/default/study1/validated/segments.csv",
    "study2": "results/default/study2/validated/survey.csv",
    "study3": "results/default/study3/validated/survey.csv",
}

# (file, config key it replaces, the study, message fragments that must appear)
DATA_CASES = [
    ("s2_missing_column.csv", "survey", "study2", ["missing required column(s) ['RCOM3']"]),
    ("s2_unknown_item.csv", "survey", "study2", ["unknown column(s) ['RCOM7']", "ignore_columns"]),
    ("s2_text_in_numeric.csv", "survey", "study2", ["line(s) 6, column 'RINT1'", "non-numeric value(s) ['seven']"]),
    ("s2_non_integer_likert.csv", "survey", "study2", ["line(s) 7, column 'RCOM2'", "['4.5']", "integer answers"]),
    ("s2_duplicate_id.csv", "survey", "study2", ["column 'respondent_id'", "duplicate ID(s) ['R003']"]),
    ("s2_empty.csv", "survey", "study2", ["s2_empty.csv", "the file is empty"]),
    ("s2_header_only.csv", "survey", "study2", ["header but no data rows"]),
    ("s2_semicolon.csv", "survey", "study2", ["semicolon-delimited", "comma"]),
    ("s2_utf16_bom.csv", "survey", "study2", ["UTF-16", "save it as CSV UTF-8"]),
    ("s2_latin1.csv", "survey", "study2", ["line(s) 4", "not valid UTF-8"]),
    ("s2_ragged_row.csv", "survey", "study2", ["line(s) 7", "fields where the header has"]),
    ("s2_duplicate_column.csv", "survey", "study2", ["duplicate column name(s) ['RCOM1']"]),
    ("s1_segments_unknown_interview.csv", "segments", "study1", ["line(s) 10", "['I99'] not in the interview sheet"]),
    (
        "s1_segments_unknown_code.csv",
        "segments",
        "study1",
        ["line(s) 11, column 'code'", "['P_TELEPATHY'] not in the codebook"],
    ),
    ("s1_segments_double_code.csv", "segments", "study1", ["line(s) 12, 13", "more than one code"]),
    ("s1_interviews_duplicate_id.csv", "interviews", "study1", ["duplicate ID(s) ['I02']"]),
    ("s3_unknown_level.csv", "survey", "study3", ["column 'industry'", "['retail'] not among the declared levels"]),
    ("s3_missing_control.csv", "survey", "study3", ["missing required column(s) ['firm_age']"]),
]

CONFIG_CASES = [
    ("config_misspelled_key.yaml", ["study2.purificaton", "misspelled"]),
    ("config_negative_seed.yaml", ["study2.parallel_analysis.seed", "-7"]),
    ("config_one_item_construct.yaml", ["'COMP' has 1 item"]),
    ("config_item_in_two_constructs.yaml", ["item 'RCOM1' is listed in two constructs ('RCOM' and 'RSEL')"]),
]


@pytest.fixture(scope="module")
def wf(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("bad") / "wf")


def run_with(wf, study, key, filename, tmp_path):
    shutil.rmtree(wf / "results", ignore_errors=True)
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({study: {key: str(wf / "tests/bad_inputs" / filename)}}))
    return snakemake(wf, TARGET[study], "--cores", "1", "--configfile", str(override))


@pytest.mark.e2e
@pytest.mark.parametrize("filename,key,study,fragments", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_stops_the_run(wf, tmp_path, filename, key, study, fragments):
    shutil.rmtree(wf / "results", ignore_errors=True)
    f = str(wf / "tests/bad_inputs" / filename)
    expect_failure(wf, TARGET[study], {study: {key: f}}, [filename, "Fix:", *fragments], tmp_path / "override.yaml")
    # no partial outputs of the failed rule
    assert not list((wf / "results").glob(f"{study}/validated/*.csv")), "partial outputs left behind"


@pytest.mark.e2e
@pytest.mark.parametrize("filename,fragments", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_stops_before_any_job(wf, filename, fragments):
    shutil.rmtree(wf / "results", ignore_errors=True)
    res = snakemake(wf, "--cores", "1", "--configfile", str(wf / "tests/bad_inputs" / filename))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    for frag in fragments:
        assert frag in out, f"{frag!r} not in output:\n{out[-3000:]}"
    assert not (wf / "results").exists(), "a job ran despite the bad config"


@pytest.mark.e2e
def test_utf8_bom_is_accepted(wf, tmp_path):
    res = run_with(wf, "study2", "survey", "s2_utf8_bom_ok.csv", tmp_path)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert (wf / TARGET["study2"]).exists()


# Study 1 failures after validation (reliability) and in the REFI-QDA import: (file, overrides, fragments)
STUDY1_CASES = [
    ("s1_segments_single_coder.csv", {"segments": "{f}"}, ["only one coder", "C1"]),
    ("s1_traversal.qdpx", {"qdpx": "{f}", "source": "qdpx"}, ["../../outside.txt"]),
    ("s1_billion_laughs.qdpx", {"qdpx": "{f}", "source": "qdpx"}, ["project.qde"]),
    ("s1_not_a_zip.qdpx", {"qdpx": "{f}", "source": "qdpx"}, ["not a ZIP", "s1_not_a_zip.qdpx"]),
]


@pytest.mark.e2e
@pytest.mark.parametrize("filename,overrides,fragments", STUDY1_CASES, ids=[c[0] for c in STUDY1_CASES])
def test_bad_study1_input_stops_the_run(wf, tmp_path, filename, overrides, fragments):
    shutil.rmtree(wf / "results", ignore_errors=True)
    f = str(wf / "tests/bad_inputs" / filename)
    overrides = {"study1": {k: v.format(f=f) for k, v in overrides.items()}}
    if overrides["study1"].get("source") == "qdpx":  # an export carries no rating column
        overrides["study1"]["reliability"] = {"intensity": None}
    expect_failure(wf, "study1", overrides, ["Fix:", *fragments], tmp_path / "override.yaml", ignore_case=True)
    assert not (wf / "results/default/tables/study1_coding_summary.csv").exists()


# Data-level problems are caught once, in the validation step, before any analysis job: whatever the
# number of cores (so whichever job would have run first), the run stops with the same message and no
# analysis output. The target is the whole study, so its analysis jobs are in the DAG.
# (study, overrides with {f} = a file of tests/bad_inputs, fragments, an analysis output that must not exist)
ANY_CORES_CASES = [
    (
        "study2",
        {"survey": "{f}s2_out_of_range.csv"},
        ["s2_out_of_range.csv", "line(s) 5, column 'RSEL2'", "['8'] outside the item's range"],
        "tables/study2_item_analysis.csv",
    ),
    (
        "study3",
        {"survey": "{f}s3_constant_control.csv"},
        ["s3_constant_control.csv", "column 'firm_age'", "constant"],
        "tables/study3_coefficients.csv",
    ),
    (
        "study1",
        {"segments": "{f}s1_segments_no_overlap.csv"},
        ["s1_segments_no_overlap.csv", "share no segment", "C1", "C2"],
        "tables/study1_coding_summary.csv",
    ),
    (
        "study2",
        {"exclusions": {"attention_check": {"column": "ATT1", "pass_values": [99]}}},
        ["every respondent was excluded", "attention_check"],
        "tables/study2_item_analysis.csv",
    ),
]


@pytest.mark.e2e
@pytest.mark.parametrize("cores", [1, 4])
@pytest.mark.parametrize(
    "study,overrides,fragments,analysis_output",
    ANY_CORES_CASES,
    ids=["s2_out_of_range", "s3_constant_control", "s1_no_overlap", "s2_all_excluded"],
)
def test_failure_is_the_same_at_any_core_count(wf, tmp_path, cores, study, overrides, fragments, analysis_output):
    shutil.rmtree(wf / "results", ignore_errors=True)
    folder = str(wf / "tests/bad_inputs") + "/"
    overrides = {k: v.replace("{f}", folder) if isinstance(v, str) else v for k, v in overrides.items()}
    out = expect_failure(wf, study, {study: overrides}, ["Fix:", *fragments], tmp_path / "override.yaml", cores=cores)
    assert "Traceback" not in out, out[-3000:]
    assert not (wf / "results/default" / analysis_output).exists(), "an analysis job ran past the validation"
    assert not list((wf / "results/default").glob(f"{study}/validated/*.csv")), "partial outputs left behind"
