"""The bad-input corpus: malformed and unusual inputs built from the shipped raw files and config, each
with its expected outcome. ``tests/test_corpus.py`` runs every case through the real workflow.

A :class:`Case` holds the files it writes (into its own folder), the config it merges over
``config/config.yaml`` (``{dir}`` in a string stands for that folder), the outputs it asks for (the
cheapest target that exercises it: mostly a ``<study>_validate`` output) and what must happen:

* ``refuse``: the run fails, and the message names the file (``file``), the line(s) (``lines``, where the
  file has lines), the column (``column``, where there is one), the config key (``key``, for config
  errors) and a fix (``Fix:``), plus any further ``fragments``;
* ``accept``: the run succeeds and ``check(results, case_dir)`` finds the right result in the outputs
  (the right value, source line, label).

Expected line numbers are computed here, from the text the case writes, independently of the reader.

Classes (the audit's): 1 the synthetic label and duplicate config keys, 2 non-finite and almost-valid
numbers, 4 CSV reading, 5 labels and structure, 6 wrong diagnoses, 7 text from the config that reaches
the report. Class 3 (placeholder results of the analyses) is the estimation engine's and has no case
here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "resources/raw"
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))

CLASSES = {
    1: "synthetic label, duplicate config keys",
    2: "non-finite and almost-valid numbers",
    4: "CSV reading",
    5: "labels and structure",
    6: "wrong diagnoses",
    7: "config text reaching the report",
}

# The outputs of each validation rule (relative to results/<run>/): what a refused run must not leave.
RULE_OUTPUTS = {
    "study1_validate": [
        "study1/validated/interviews.csv",
        "study1/validated/segments.csv",
        "study1/validated/codebook.csv",
    ],
    "study2_validate": ["study2/validated/survey.csv", "tables/study2_exclusions.csv", "tables/study2_flow.csv"],
    "study3_validate": ["study3/validated/survey.csv", "tables/study3_exclusions.csv", "tables/study3_flow.csv"],
    "study1_coding_summary": [
        "tables/study1_coding_summary.csv",
        "figures/study1_code_heatmap.pdf",
        "figures/study1_code_heatmap.png",
        "study1/summary.json",
    ],
}
TARGET_RULE = {outs[0]: rule for rule, outs in RULE_OUTPUTS.items()}
VALIDATE = {
    "study1": "study1/validated/interviews.csv",
    "study2": "study2/validated/survey.csv",
    "study3": "study3/validated/survey.csv",
}
# Study 1 coded from the .qdpx: a REFI-QDA export carries no rating column, so none is configured.
QDPX_SOURCE = {"source": "qdpx", "reliability": {"intensity": None}}
# Config sections a case may override and still share a run with cases of other studies.
STUDY_KEYS = {"study1", "study2", "study3"}


@dataclass
class Case:
    id: str
    cls: int
    title: str
    expect: str  # "refuse" | "accept"
    study: str  # study1 | study2 | study3 | config
    files: dict = field(default_factory=dict)  # name -> bytes (or a directory: None)
    config: dict = field(default_factory=dict)
    config_text: str | None = None  # the --configfile's raw text (duplicate keys); '{dir}' substituted
    targets: list = field(default_factory=list)  # relative to results/<run>/
    file: str | None = None  # refusal: the file the message must name (its basename)
    lines: list | None = None
    column: str | None = None
    key: str | None = None
    fragments: tuple = ()
    check: Callable | None = None
    dry_run: bool = False  # refused (or accepted) when the workflow is parsed: `snakemake -n` suffices
    workflow_files: dict = field(default_factory=dict)  # files of the workflow copy replaced for this run

    @property
    def exclusive(self) -> bool:
        """Runs alone: a dry run, or a case that changes what every study reads."""
        return self.dry_run or bool(self.workflow_files) or not set(self.config) <= STUDY_KEYS

    @property
    def rules(self) -> list[str]:
        return [TARGET_RULE[t] for t in self.targets if t in TARGET_RULE]


# ==================================================================================================
# CSV helpers: parse the shipped sheets with the csv module, write them back with exact line numbers
# ==================================================================================================


class Table:
    """A shipped sheet: its banner line, header and rows (lists of str)."""

    def __init__(self, name: str):
        text = (
            (RAW / name).read_text(encoding="utf-8")
            if not name.startswith("config/")
            else (ROOT / name).read_text(encoding="utf-8")
        )
        lines = text.split("\n")
        self.banner = [lines[0]] if lines[0].startswith("#") else []
        body = "\n".join(lines[len(self.banner) :])
        rows = [r for r in csv.reader(io.StringIO(body, newline="")) if r]
        self.header, self.rows = rows[0], rows[1:]

    def copy(self) -> Table:
        t = object.__new__(Table)
        t.banner, t.header, t.rows = list(self.banner), list(self.header), [list(r) for r in self.rows]
        return t

    def col(self, name: str) -> int:
        return self.header.index(name)

    def set(self, row: int, col: str, value: str) -> Table:
        self.rows[row][self.col(col)] = value
        return self

    def get(self, row: int, col: str) -> str:
        return self.rows[row][self.col(col)]

    def add_column(self, name: str, values) -> Table:
        self.header.append(name)
        for r, v in zip(self.rows, values):
            r.append(v)
        return self

    def drop_column(self, name: str) -> Table:
        k = self.col(name)
        self.header.pop(k)
        for r in self.rows:
            r.pop(k)
        return self

    def render(self, newline: str = "\n", banner: bool = True, quote_all=()) -> tuple[bytes, list[int]]:
        """The file's bytes and the line each data row starts on."""
        out, starts, line = [], [], 1
        head = self.banner if banner else []
        for b in head:
            out.append(b + newline)
            line += 1
        out.append(",".join(_cell(h) for h in self.header) + newline)
        line += 1
        for r in self.rows:
            starts.append(line)
            rec = ",".join(_cell(v, k in quote_all) for k, v in enumerate(r)) + newline
            out.append(rec)
            line += len(re.findall(r"\r\n|\r|\n", rec))
        return "".join(out).encode("utf-8"), starts


SPECIAL = re.compile('[,"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]')


def _cell(v: str, force: bool = False) -> str:
    if force or SPECIAL.search(v):
        return '"' + v.replace('"', '""') + '"'
    return v


S2 = Table("study2_survey.csv")
S3 = Table("study3_survey.csv")
IV = Table("study1_interviews.csv")
SG = Table("study1_segments.csv")
CB = Table("config/codebook.csv")
ITEMS2 = [h for h in S2.header if h[:4] in ("RCOM", "RSEL", "RINT")]
ITEMS3 = [h for h in S3.header if re.match(r"^(RCOM|RSEL|RINT|PERF|COMP|MARK)\d$", h)]


def _good_rows(t: Table, items, extra=lambda r: True, n=40) -> list[int]:
    """Rows no exclusion rule touches, whatever one answer becomes: complete, varied (3+ distinct
    answers), passing the attention check."""
    out = []
    for k, r in enumerate(t.rows):
        ans = [r[t.col(i)] for i in items]
        if all(ans) and len(set(ans)) >= 3 and extra(r):
            out.append(k)
    return out[:n]


S2_LINES = {r[0]: line for r, line in zip(S2.rows, S2.render()[1])}
GOOD2 = _good_rows(S2, ITEMS2, lambda r: r[S2.col("ATT1")] == "2")
GOOD3 = _good_rows(S3, ITEMS3, lambda r: all(r[S3.col(c)] for c in ("firm_size", "industry", "firm_age")))


# ==================================================================================================
# reading the outputs (the checks of accepted cases)
# ==================================================================================================


def read_out(path: Path, **kw):
    from crfm.data.tables import read_table

    return read_table(path, **kw)


def first_line(path: Path) -> str:
    with open(path, encoding="utf-8-sig") as fh:
        return fh.readline()


def is_labelled(path: Path) -> bool:
    return "SYNTHETIC DATA" in first_line(path)


def check_survey_value(study: str, rid: str, col: str, value, line: int | None = None):
    idc = "respondent_id" if study == "study2" else "firm_id"

    def check(results: Path, case_dir: Path):
        df = read_out(results / f"{study}/validated/survey.csv", dtype={idc: str})
        row = df[df[idc] == rid]
        assert len(row) == 1, f"respondent {rid} not analysed"
        got = row.iloc[0][col]
        if value is None:
            assert pd.isna(got), f"{col} = {got!r}, expected missing"
        else:  # tables keep 10 significant digits
            assert abs(float(got) - float(value)) <= 1e-9 * max(1.0, abs(float(value))), (
                f"{col} = {got!r}, expected {value!r}"
            )
        if line is not None:
            assert int(row.iloc[0]["source_line"]) == line, f"source_line {row.iloc[0]['source_line']} != {line}"

    return check


def check_source_lines(study: str, expected: dict):
    """Every respondent's source_line is the line its record starts on."""
    idc = "respondent_id" if study == "study2" else "firm_id"

    def check(results: Path, case_dir: Path):
        df = read_out(results / f"{study}/validated/survey.csv", dtype={idc: str})
        got = dict(zip(df[idc], df["source_line"].astype(int)))
        wrong = {k: (got[k], v) for k, v in expected.items() if k in got and got[k] != v}
        assert not wrong, f"source_line (got, expected): {dict(list(wrong.items())[:5])}"
        assert len(got) > 0.8 * len(expected), f"only {len(got)} of {len(expected)} respondents analysed"

    return check


def check_all(*checks):
    def check(results, case_dir):
        for c in checks:
            c(results, case_dir)

    return check


def check_label(path: str, synthetic: bool):
    def check(results: Path, case_dir: Path):
        got = is_labelled(results / path)
        assert got is synthetic, f"{path}: synthetic label {got}, expected {synthetic}"

    return check


def check_segments(n: int | None = None, excerpt: tuple[str, str] | None = None):
    def check(results: Path, case_dir: Path):
        df = read_out(results / "study1/validated/segments.csv", dtype=str, keep_default_na=False)
        if n is not None:
            assert len(df) == n, f"{len(df)} segments, expected {n}"
        if excerpt is not None:
            sid, text = excerpt
            got = df.loc[df["segment_id"] == sid, "excerpt"].tolist()
            assert got and got[0] == text.strip(), (
                f"excerpt of {sid}: {got[0][:60] if got else None!r} ({len(got[0]) if got else 0} chars), expected {len(text)} chars"
            )

    return check


def check_pdf_text(path: str, *texts):
    def check(results: Path, case_dir: Path):
        import shutil
        import subprocess

        pdftotext = shutil.which("pdftotext")
        if not pdftotext:  # the PNG exists (the job ran); the text check needs poppler
            assert (results / path).exists()
            return
        out = subprocess.run([pdftotext, str(results / path), "-"], capture_output=True, text=True, check=True).stdout
        flat = "".join(out.split())
        for t in texts:
            assert "".join(t.split()) in flat, f"{t!r} not drawn literally in {path}"

    return check


# ==================================================================================================
# builders
# ==================================================================================================

CASES: list[Case] = []


def add(case: Case) -> Case:
    assert case.id not in {c.id for c in CASES}, case.id
    CASES.append(case)
    return case


def survey_case(
    cid,
    cls,
    title,
    study,
    table: Table,
    *,
    expect="refuse",
    newline="\n",
    quote_all=(),
    extra_config=None,
    lines_of=None,
    **kw,
):
    """A survey case: ``table`` written as ``<cid>.csv`` and set as ``<study>.survey``. ``lines_of``:
    row indexes whose file lines the message must name (computed from the written text)."""
    data, starts = table.render(newline=newline, quote_all=quote_all)
    name = f"{cid}.csv"
    conf = {study: {"survey": "{dir}/" + name, **(extra_config or {})}}
    lines = [starts[k] for k in lines_of] if lines_of is not None else kw.pop("lines", None)
    return add(
        Case(
            cid,
            cls,
            title,
            expect,
            study,
            files={name: data},
            config=conf,
            targets=[VALIDATE[study]],
            file=name if expect == "refuse" else None,
            lines=lines,
            **kw,
        )
    ), starts


def s1_case(cid, cls, title, which: str, data: bytes, *, expect="refuse", extra=None, **kw):
    """A Study 1 case: ``data`` written as the sheet ``which`` (interviews, segments, codebook, qdpx)."""
    ext = "qdpx" if which == "qdpx" else "csv"
    name = f"{cid}.{ext}"
    conf = {"study1": {which: "{dir}/" + name, **(QDPX_SOURCE if which == "qdpx" else {}), **(extra or {})}}
    return add(
        Case(
            cid,
            cls,
            title,
            expect,
            "study1",
            files={name: data},
            config=conf,
            targets=[VALIDATE["study1"]],
            file=name if expect == "refuse" else None,
            **kw,
        )
    )


def config_case(
    cid, cls, title, config=None, *, text=None, expect="refuse", key=None, fragments=(), check=None, targets=None
):
    return add(
        Case(
            cid,
            cls,
            title,
            expect,
            "config",
            config=config or {},
            config_text=text,
            targets=targets or [VALIDATE["study2"]],
            key=key,
            fragments=tuple(fragments),
            dry_run=True,
            check=check,
        )
    )


def measurement_with(fn) -> list:
    """The shipped measurement model with ``fn(construct_dict)`` applied to each construct (lists
    are replaced whole on merge, so an override carries the whole model)."""
    m = json.loads(json.dumps(CONFIG["measurement"]))
    for c in m:
        fn(c)
    return m


# ==================================================================================================
# Class 1: the synthetic label follows the data; duplicate keys in config files
# ==================================================================================================

REAL_MANIFEST = b"synthetic: false\n"


def _strip_banner(name: str) -> bytes:
    text = (RAW / name).read_bytes()
    return text.split(b"\n", 1)[1]


add(
    Case(
        "c1_real_manifest_shipped_study3",
        1,
        "real-data manifest + shipped Study 3 file: Study 3 labelled, Study 2 (real) not",
        "accept",
        "config",
        files={"manifest.yaml": REAL_MANIFEST, "s2_real.csv": _strip_banner("study2_survey.csv")},
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study2": {"survey": "{dir}/s2_real.csv"}},
        targets=[VALIDATE["study2"], VALIDATE["study3"]],
        check=check_all(
            check_label("study3/validated/survey.csv", True),
            check_label("tables/study3_flow.csv", True),
            check_label("tables/study3_exclusions.csv", True),
            check_label("study2/validated/survey.csv", False),
            check_label("tables/study2_flow.csv", False),
        ),
    )
)
add(
    Case(
        "c1_real_manifest_shipped_study2",
        1,
        "real-data manifest + shipped Study 2 file, real Study 3: the other way round",
        "accept",
        "config",
        files={"manifest.yaml": REAL_MANIFEST, "s3_real.csv": _strip_banner("study3_survey.csv")},
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study3": {"survey": "{dir}/s3_real.csv"}},
        targets=[VALIDATE["study2"], VALIDATE["study3"]],
        check=check_all(
            check_label("study2/validated/survey.csv", True),
            check_label("tables/study2_flow.csv", True),
            check_label("study3/validated/survey.csv", False),
        ),
    )
)
_s3_noBanner_same_hash = (RAW / "study3_survey.csv").read_bytes()
add(
    Case(
        "c1_real_manifest_renamed_shipped_copy",
        1,
        "real-data manifest + a byte-identical copy of the shipped Study 3 file under another name",
        "accept",
        "config",
        files={"manifest.yaml": REAL_MANIFEST, "my_firms.csv": _s3_noBanner_same_hash},
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study3": {"survey": "{dir}/my_firms.csv"}},
        targets=[VALIDATE["study3"]],
        check=check_label("study3/validated/survey.csv", True),
    )
)
for cid, data, title in (
    (
        "c1_marker_crlf",
        (RAW / "study3_survey.csv").read_bytes().replace(b"\n", b"\r\n"),
        "marker kept, CRLF line ends (bytes differ)",
    ),
    (
        "c1_marker_lowercase",
        b"# synthetic data (edited copy)\n" + _strip_banner("study3_survey.csv"),
        "marker in lower case, edited text",
    ),
):
    add(
        Case(
            cid,
            1,
            f"real-data manifest, Study 3 file with the {title}: labelled",
            "accept",
            "config",
            files={"manifest.yaml": REAL_MANIFEST, f"{cid}.csv": data},
            config={"data": {"manifest": "{dir}/manifest.yaml"}, "study3": {"survey": "{dir}/" + f"{cid}.csv"}},
            targets=[VALIDATE["study3"]],
            check=check_label("study3/validated/survey.csv", True),
        )
    )
add(
    Case(
        "c1_real_manifest_shipped_study1",
        1,
        "real-data manifest + shipped Study 1 sheets: Study 1 labelled",
        "accept",
        "config",
        files={"manifest.yaml": REAL_MANIFEST},
        config={"data": {"manifest": "{dir}/manifest.yaml"}},
        targets=[VALIDATE["study1"]],
        check=check_all(
            check_label("study1/validated/segments.csv", True), check_label("study1/validated/interviews.csv", True)
        ),
    )
)
_qdpx = (RAW / "study1_coding.qdpx").read_bytes()
add(
    Case(
        "c1_real_manifest_shipped_qdpx_copy",
        1,
        "real-data manifest, Study 1 coded from a copy of the shipped .qdpx (no marker line: its checksum)",
        "accept",
        "config",
        files={"manifest.yaml": REAL_MANIFEST, "coding.qdpx": _qdpx, "iv.csv": _strip_banner("study1_interviews.csv")},
        config={
            "data": {"manifest": "{dir}/manifest.yaml"},
            "study1": {"qdpx": "{dir}/coding.qdpx", **QDPX_SOURCE, "interviews": "{dir}/iv.csv"},
        },
        targets=[VALIDATE["study1"]],
        check=check_label("study1/validated/segments.csv", True),
    )
)
add(
    Case(
        "c1_real_everything_unlabelled",
        1,
        "real-data manifest and real (edited, unmarked) Study 2 data: no label",
        "accept",
        "config",
        files={
            "manifest.yaml": REAL_MANIFEST,
            "s2.csv": _strip_banner("study2_survey.csv").replace(b"R001,", b"X001,"),
        },
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study2": {"survey": "{dir}/s2.csv"}},
        targets=[VALIDATE["study2"]],
        check=check_all(
            check_label("study2/validated/survey.csv", False), check_label("tables/study2_exclusions.csv", False)
        ),
    )
)
add(
    Case(
        "c1_synthetic_manifest_real_file",
        1,
        "manifest says synthetic: an unmarked file is labelled",
        "accept",
        "config",
        files={"manifest.yaml": b"synthetic: true\n", "s2.csv": _strip_banner("study2_survey.csv")},
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study2": {"survey": "{dir}/s2.csv"}},
        targets=[VALIDATE["study2"]],
        check=check_label("study2/validated/survey.csv", True),
    )
)
_real_s2 = _strip_banner("study2_survey.csv")
add(
    Case(
        "c1_real_manifest_checksums_match",
        1,
        "real-data manifest whose checksums match the real file: accepted, unlabelled",
        "accept",
        "config",
        files={
            "manifest.yaml": b"synthetic: false\nfiles:\n  s2.csv: "
            + hashlib.sha256(_real_s2).hexdigest().encode()
            + b"\n",
            "s2.csv": _real_s2,
        },
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study2": {"survey": "{dir}/s2.csv"}},
        targets=[VALIDATE["study2"]],
        check=check_label("study2/validated/survey.csv", False),
    )
)


def manifest_case(cid, title, data, *, lines=None, fragments=(), directory=False):
    files = {"manifest.yaml": None} if directory else {"manifest.yaml": data}
    add(
        Case(
            cid,
            1,
            title,
            "refuse",
            "config",
            files=files,
            config={"data": {"manifest": "{dir}/manifest.yaml"}},
            targets=[VALIDATE["study2"]],
            file="manifest.yaml",
            lines=lines,
            fragments=tuple(fragments),
        )
    )


manifest_case(
    "c1_manifest_duplicate_synthetic",
    "manifest says synthetic twice (true, then false)",
    b"synthetic: true\nsynthetic: false\n",
    lines=[1, 2],
    fragments=["'synthetic' is given twice"],
)
manifest_case(
    "c1_manifest_duplicate_file_checksum",
    "manifest lists a file's checksum twice",
    b"synthetic: false\nfiles:\n  a.csv: 00\n  a.csv: 11\n",
    lines=[3, 4],
    fragments=["files.a.csv"],
)
manifest_case(
    "c1_manifest_string_flag",
    "manifest says synthetic: 'false' (a string)",
    b"synthetic: 'false'\n",
    fragments=["synthetic: true` or `synthetic: false"],
)
manifest_case(
    "c1_manifest_directory", "data.manifest names a directory", None, directory=True, fragments=["is a directory"]
)
manifest_case("c1_manifest_empty", "empty manifest", b"", fragments=["synthetic: true` or `synthetic: false"])
manifest_case("c1_manifest_not_yaml", "manifest is not YAML", b"synthetic: [true\n", fragments=["not valid YAML"])
manifest_case(
    "c1_manifest_latin1", "manifest is not UTF-8", b"synthetic: false\nnote: caf\xe9\n", fragments=["not UTF-8"]
)
add(
    Case(
        "c1_manifest_checksum_mismatch",
        1,
        "manifest checksum does not match the file",
        "refuse",
        "config",
        files={"manifest.yaml": b"synthetic: false\nfiles:\n  s2.csv: " + b"ab" * 32 + b"\n", "s2.csv": _real_s2},
        config={"data": {"manifest": "{dir}/manifest.yaml"}, "study2": {"survey": "{dir}/s2.csv"}},
        targets=[VALIDATE["study2"]],
        file="s2.csv",
        fragments=("differs from the one recorded in the manifest",),
    )
)

# Duplicate keys in a --configfile (and in config/config.yaml itself).
DUP_TEXTS = [
    ("c1_dup_top_level", "run: a\nrun: b\n", "run", "lines 1 and 2"),
    (
        "c1_dup_nested",
        "study2:\n  survey: resources/raw/study2_survey.csv\n  id_column: respondent_id\n  survey: elsewhere.csv\n",
        "study2.survey",
        "lines 2 and 4",
    ),
    (
        "c1_dup_flow_mapping",
        "study2:\n  exclusions: {max_missing_share: 0.2, max_missing_share: 0.9}\n",
        "study2.exclusions.max_missing_share",
        "lines 2 and 2",
    ),
    (
        "c1_dup_in_list_item",
        "study3:\n  hypotheses:\n    - {id: H1, term: CRFM, direction: positive, direction: negative}\n",
        "study3.hypotheses[0].direction",
        "lines 3 and 3",
    ),
    (
        "c1_dup_manifest_key",
        "data:\n  manifest: resources/raw/manifest.yaml\n  manifest: real.yaml\n",
        "data.manifest",
        "lines 2 and 3",
    ),
    (
        "c1_dup_deep_population",
        "population:\n  study2:\n    n: 250\n    careless: 8\n    n: 300\n",
        "population.study2.n",
        "lines 3 and 5",
    ),
    (
        "c1_dup_json",
        '{"study2": {"survey": "a.csv", "survey": "resources/raw/study2_survey.csv"}}\n',
        "study2.survey",
        "lines 1 and 1",
    ),
    ("c1_dup_second_of_two_files", "study3:\n  marker: MARK\n  marker: null\n", "study3.marker", "lines 2 and 3"),
]
for cid, text, key, where in DUP_TEXTS:
    config_case(cid, 1, f"--configfile gives {key} twice", text=text, key=key, fragments=["given twice", where, "Fix:"])
_shipped_cfg = (ROOT / "config/config.yaml").read_text(encoding="utf-8")
_dup_shipped = _shipped_cfg.replace("run: default\n", "run: default\nstudies: [study2]\n", 1)
_line_studies = [k + 1 for k, ln in enumerate(_dup_shipped.splitlines()) if ln.startswith("studies:")]
add(
    Case(
        "c1_dup_in_shipped_config",
        1,
        "config/config.yaml itself gives `studies` twice",
        "refuse",
        "config",
        targets=[VALIDATE["study2"]],
        key="studies",
        fragments=("config/config.yaml", f"lines {_line_studies[0]} and {_line_studies[1]}", "Fix:"),
        dry_run=True,
        workflow_files={"config/config.yaml": _dup_shipped.encode()},
    )
)
config_case(
    "c1_merge_key_accepted",
    1,
    "a YAML merge key (<<) whose value is then overridden is no duplicate: accepted",
    text="study2:\n  exclusions: &ex\n    max_missing_share: 0.2\n  split: {<<: {enabled: true, seed: 5}, enabled: false}\n",
    expect="accept",
)

# ==================================================================================================
# Class 2: non-finite and almost-valid numbers
# ==================================================================================================

NON_FINITE = ["inf", "-inf", "+inf", "Infinity", "nan", "NaN", "-nan", "nan(0x7ff)", "1e999", "1.#INF"]
for k, spell in enumerate(NON_FINITE):
    study, base, items, good = (("study2", S2, ITEMS2, GOOD2), ("study3", S3, ITEMS3, GOOD3))[int(k % 3 != 0)]
    item = items[(k * 5) % len(items)]
    row = good[k % len(good)]
    t = base.copy().set(row, item, spell)
    survey_case(
        f"c2_{study}_item_{k:02d}{re.sub(r'[^A-Za-z0-9]', '_', spell)}",
        2,
        f"Likert item {item} = {spell!r}",
        study,
        t,
        lines_of=[row],
        column=item,
        fragments=("non-finite value(s)", repr(spell)),
    )

for k, spell in enumerate(["inf", "NaN", "1e999", "nan"]):
    col = ("firm_size", "firm_age")[k % 2]
    row = GOOD3[k + 3]
    t = S3.copy().set(row, col, spell)
    survey_case(
        f"c2_study3_{col}_{re.sub(r'[^A-Za-z0-9]', '_', spell)}",
        2,
        f"continuous {col} = {spell!r}",
        "study3",
        t,
        lines_of=[row],
        column=col,
        fragments=("non-finite value(s)",),
    )

ALMOST = [
    ("3.99999", "outside"),
    ("4.000001", "outside"),
    ("4.5", "outside"),
    ("0.9999999", "outside"),
    ("4e0", "outside"),
    ("4,0", "non-numeric"),
    ("\u0664", "non-numeric"),
    ("\uff14", "non-numeric"),
    ("N/A", "non-numeric"),
    ("3.9999999999999999999", "outside"),
]
for k, (spell, kind) in enumerate(ALMOST):
    study, base, items, good = (("study2", S2, ITEMS2, GOOD2), ("study3", S3, ITEMS3, GOOD3))[int(k % 3 != 0)]
    item = items[(k * 7 + 3) % len(items)]
    row = good[(k + 11) % len(good)]
    t = base.copy().set(row, item, spell)
    frag = "integer answers between 1 and 7" if kind == "outside" else "non-numeric value(s)"
    survey_case(
        f"c2_{study}_almost_{k:02d}",
        2,
        f"Likert item {item} = {spell!r}",
        study,
        t,
        lines_of=[row],
        column=item,
        fragments=(frag,),
    )

WHOLE_OK = ["4.0", "4.00", "+4", "04", "4.", " 4 "]
for k, spell in enumerate(WHOLE_OK):
    study, base, items, good, idc = (
        ("study2", S2, ITEMS2, GOOD2, "respondent_id"),
        ("study3", S3, ITEMS3, GOOD3, "firm_id"),
    )[k % 2]
    item = next(i for i in items[k:] if not i.startswith("RSEL6"))  # not reverse-keyed: the value is the answer
    row = good[(k + 20) % len(good)]
    t = base.copy().set(row, item, spell)
    _, starts = survey_case(
        f"c2_{study}_whole_{k}", 2, f"Likert item {item} = {spell!r} is the answer 4", study, t, expect="accept"
    )
    CASES[-1].check = check_survey_value(study, t.get(row, idc), item, 4, starts[row])

for k, (spell, value) in enumerate([("1e3", 1000), ("250.", 250), (".5e3", 500)]):
    row = GOOD3[k + 30]
    t = S3.copy().set(row, "firm_size", spell)
    _, starts = survey_case(
        f"c2_study3_firm_size_ok_{k}", 2, f"firm_size = {spell!r} is {value}", "study3", t, expect="accept"
    )
    CASES[-1].check = check_all(
        check_survey_value("study3", t.get(row, "firm_id"), "firm_size", value, starts[row]),
        check_survey_value("study3", t.get(row, "firm_id"), "log_firm_size", __import__("math").log(value)),
    )

# derived variables: a failure names the raw column and its line
_vars_no_min = [
    {"column": "firm_size", "type": "continuous"},
    {"column": "log_firm_size", "type": "derived", "from": "firm_size", "transform": "log"},
    {"column": "industry", "type": "categorical", "levels": ["information technology", "process technology", "other"]},
    {"column": "firm_age", "type": "continuous", "min": 0, "max": 300},
]
for k, spell in enumerate(["0", "-3"]):
    row = GOOD3[k + 5]
    t = S3.copy().set(row, "firm_size", spell)
    survey_case(
        f"c2_derived_log_{k}",
        2,
        f"log(firm_size) with firm_size = {spell!r} (no min declared)",
        "study3",
        t,
        extra_config={"variables": _vars_no_min},
        lines_of=[row],
        column="firm_size",
        fragments=("log_firm_size", "<= 0"),
    )
t = S3.copy().add_column("note", ["x"] * len(S3.rows))
t.set(2, "note", "a comment\nover\nthree lines")
t.set(GOOD3[9], "firm_size", "0")
survey_case(
    "c2_derived_log_after_multiline",
    2,
    "log(firm_size) = log(0) after a multi-line cell: the true line",
    "study3",
    t,
    extra_config={"variables": _vars_no_min, "ignore_columns": ["note"]},
    lines_of=[GOOD3[9]],
    column="firm_size",
    fragments=("<= 0",),
)
row = GOOD3[12]
t = S3.copy().set(row, "firm_size", "0.5")
survey_case(
    "c2_below_min",
    2,
    "firm_size = 0.5 below its min 1",
    "study3",
    t,
    lines_of=[row],
    column="firm_size",
    fragments=("outside",),
)
for k, spell in enumerate(["inf", "2.5"]):
    t = IV.copy().set(4 + k, "order", spell)
    data, starts = t.render()
    s1_case(
        f"c2_interview_order_{k}",
        2,
        f"interview order = {spell!r}",
        "interviews",
        data,
        lines=[starts[4 + k]],
        column="order",
    )
_order6 = IV.get(6, "order")
t = IV.copy().set(6, "order", _order6 + ".0")
data, starts = t.render()


def _check_order(results, case_dir):
    got = (
        read_out(results / "study1/validated/interviews.csv", dtype=str)
        .set_index("interview_id")
        .loc[IV.get(6, "interview_id"), "order"]
    )
    assert int(got) == int(_order6), f"order {got!r}, expected {_order6}"


s1_case(
    "c2_interview_order_whole",
    2,
    f"interview order '{_order6}.0' is {_order6}",
    "interviews",
    data,
    expect="accept",
    check=_check_order,
)
for k, spell in enumerate(["inf"]):
    t = SG.copy().set(10 + k, "intensity", spell)
    data, starts = t.render()
    s1_case(
        f"c2_segment_intensity_{k}",
        2,
        f"segment intensity = {spell!r}",
        "segments",
        data,
        lines=[starts[10 + k]],
        column="intensity",
        fragments=("not among the rating's values",),
    )

# config numbers
for cid, conf, key in (
    (
        "c2_config_scale_max_inf",
        {
            "measurement": measurement_with(
                lambda c: c["scale"].update(max=float("inf")) if c["construct"] == "RCOM" else None
            )
        },
        "measurement[0].scale.max",
    ),
    (
        "c2_config_scale_min_nan",
        {
            "measurement": measurement_with(
                lambda c: c["scale"].update(min=float("nan")) if c["construct"] == "RSEL" else None
            )
        },
        "measurement[1].scale.min",
    ),
    (
        "c2_config_variable_max_inf",
        {
            "study3": {
                "variables": [
                    dict(v, max=float("inf")) if v["column"] == "firm_size" else v
                    for v in CONFIG["study3"]["variables"]
                ]
            }
        },
        "study3.variables[0].max",
    ),
    (
        "c2_config_share_nan",
        {"study2": {"exclusions": {"max_missing_share": float("nan")}}},
        "study2.exclusions.max_missing_share",
    ),
    ("c2_config_threshold_nan", {"study2": {"thresholds": {"alpha": float("nan")}}}, "study2.thresholds.alpha"),
    (
        "c2_config_pass_value_inf",
        {"study2": {"exclusions": {"attention_check": {"column": "ATT1", "pass_values": [float("inf")]}}}},
        "study2.exclusions.attention_check.pass_values[0]",
    ),
):
    config_case(cid, 2, f"config {key} is not finite", conf, key=key, fragments=["not a finite number", "Fix:"])
config_case(
    "c2_config_derived_from_categorical",
    2,
    "a derived variable from a categorical column (crashed)",
    {
        "study3": {
            "variables": [
                *CONFIG["study3"]["variables"],
                {"column": "log_industry", "type": "derived", "from": "industry", "transform": "log"},
            ]
        }
    },
    key="study3.variables[4].from",
    fragments=["categorical", "continuous", "Fix:"],
)
config_case(
    "c2_config_derived_from_itself",
    2,
    "a derived variable from itself",
    {
        "study3": {
            "variables": [
                *CONFIG["study3"]["variables"],
                {"column": "loop", "type": "derived", "from": "loop", "transform": "identity"},
            ]
        }
    },
    key="study3.variables[4].from",
    fragments=["derived", "Fix:"],
)

# ==================================================================================================
# Class 4: CSV reading
# ==================================================================================================

MULTI = {
    "lf": "first line\nsecond line\nthird",
    "crlf": "first\r\nsecond\r\nthird",
    "cr": "first\rsecond",
    "quote": 'he said ""x""\nthen left',
}
for name, text in MULTI.items():
    t = S2.copy().add_column("comment", [""] * len(S2.rows))
    for k in (0, 3, 4, 50):
        t.set(k, "comment", text.replace('""', '"'))
    data, starts = t.render()
    ids = {r[0]: starts[k] for k, r in enumerate(t.rows)}
    survey_case(
        f"c4_multiline_{name}_accept",
        4,
        f"quoted multi-line comments ({name}): every source_line right",
        "study2",
        t,
        expect="accept",
        extra_config={"ignore_columns": ["comment"]},
    )
    CASES[-1].check = check_source_lines("study2", ids)
    bad_row = GOOD2[5]
    t2 = t.copy().set(bad_row, "RSEL2", "8")
    survey_case(
        f"c4_multiline_{name}_error_line",
        4,
        f"an out-of-range answer after multi-line cells ({name}): its true line",
        "study2",
        t2,
        extra_config={"ignore_columns": ["comment"]},
        lines_of=[bad_row],
        column="RSEL2",
        fragments=("outside",),
    )
for nl_name, nl in (("crlf", "\r\n"), ("cr", "\r")):
    t = S3.copy()
    data, starts = t.render(newline=nl)
    survey_case(
        f"c4_line_ends_{nl_name}",
        4,
        f"{nl_name} line ends: source lines right",
        "study3",
        t,
        expect="accept",
        newline=nl,
    )
    CASES[-1].check = check_source_lines("study3", {r[0]: starts[k] for k, r in enumerate(t.rows)})
    row = GOOD3[14]
    t2 = S3.copy().set(row, "COMP2", "9")
    survey_case(
        f"c4_line_ends_{nl_name}_error",
        4,
        f"{nl_name} line ends: an error's line",
        "study3",
        t2,
        newline=nl,
        lines_of=[row],
        column="COMP2",
        fragments=("outside",),
    )
# separators inside quotes are cell text
SEPARATORS = {"u2028": "\u2028", "nel": "\x85", "vt": "\x0b", "fs": "\x1c"}
for name, ch in SEPARATORS.items():
    t = SG.copy()
    text = f"before{ch}after, with a comma"
    t.set(5, "excerpt", text)
    data, starts = t.render()
    s1_case(
        f"c4_separator_{name}_in_excerpt",
        4,
        f"{name} inside a quoted excerpt is text",
        "segments",
        data,
        expect="accept",
        check=check_segments(len(SG.rows), (SG.get(5, "segment_id"), text)),
    )
    if name not in ("u2028", "vt"):
        continue
    t = S2.copy().add_column("comment", [""] * len(S2.rows)).set(7, "comment", f"x{ch}y")
    data, starts = t.render()
    survey_case(
        f"c4_separator_{name}_in_survey",
        4,
        f"{name} inside a quoted survey cell: rows and lines intact",
        "study2",
        t,
        expect="accept",
        extra_config={"ignore_columns": ["comment"]},
    )
    CASES[-1].check = check_source_lines("study2", {r[0]: starts[k] for k, r in enumerate(t.rows)})
for n in (131_073, 2_000_000):
    t = SG.copy()
    text = ("interview excerpt " * (n // 18 + 1))[:n]
    t.set(3, "excerpt", text)
    data, _ = t.render()
    s1_case(
        f"c4_long_excerpt_{n}",
        4,
        f"an excerpt of {n:,} characters",
        "segments",
        data,
        expect="accept",
        check=check_segments(len(SG.rows), (SG.get(3, "segment_id"), text)),
    )
t = S3.copy().add_column("comment", [""] * len(S3.rows)).set(1, "comment", "y" * 300_000)
data, starts = t.render()
survey_case(
    "c4_long_survey_cell",
    4,
    "a 300,000-character cell in an ignored survey column",
    "study3",
    t,
    expect="accept",
    extra_config={"ignore_columns": ["comment"]},
)
CASES[-1].check = check_source_lines("study3", {r[0]: starts[k] for k, r in enumerate(t.rows)})
# a directory where a file belongs
for which in ("codebook",):
    add(
        Case(
            f"c4_directory_{which}",
            4,
            f"study1.{which} names a directory",
            "refuse",
            "study1",
            files={"adir": None},
            config={"study1": {which: "{dir}/adir"}},
            targets=[VALIDATE["study1"]],
            file="adir",
            fragments=("is a directory",),
        )
    )
add(
    Case(
        "c4_directory_qdpx",
        4,
        "study1.qdpx names a directory",
        "refuse",
        "study1",
        files={"qdir": None},
        config={"study1": {"qdpx": "{dir}/qdir", **QDPX_SOURCE}},
        targets=[VALIDATE["study1"]],
        file="qdir",
        fragments=("is a directory",),
    )
)
for study in ("study2", "study3"):
    add(
        Case(
            f"c4_directory_{study}",
            4,
            f"{study}.survey names a directory",
            "refuse",
            study,
            files={"sdir": None},
            config={study: {"survey": "{dir}/sdir"}},
            targets=[VALIDATE[study]],
            file="sdir",
            fragments=("is a directory",),
        )
    )
# quoting errors
t = S2.copy()
data, starts = t.render()
lines = data.decode().split("\n")
opening = starts[20]
lines[opening - 1] = lines[opening - 1].replace(",", ',"', 1)
add(
    Case(
        "c4_unclosed_quote",
        4,
        "a quote opened and never closed",
        "refuse",
        "study2",
        files={"c4_unclosed_quote.csv": "\n".join(lines).encode()},
        config={"study2": {"survey": "{dir}/c4_unclosed_quote.csv"}},
        targets=[VALIDATE["study2"]],
        file="c4_unclosed_quote.csv",
        lines=[opening],
        fragments=("never closed",),
    )
)
lines = data.decode().split("\n")
lines[starts[30] - 1] = lines[starts[30] - 1].replace(",", ',"4"x', 1)
add(
    Case(
        "c4_text_after_quote",
        4,
        "text after a closing quote",
        "refuse",
        "study2",
        files={"c4_text_after_quote.csv": "\n".join(lines).encode()},
        config={"study2": {"survey": "{dir}/c4_text_after_quote.csv"}},
        targets=[VALIDATE["study2"]],
        file="c4_text_after_quote.csv",
        lines=[starts[30]],
        fragments=("quot",),
    )
)
# ragged row and duplicate ID after a multi-line cell: the true lines
t = S2.copy().add_column("comment", [""] * len(S2.rows)).set(1, "comment", "one\ntwo\nthree\nfour")
data, starts = t.render()
lines = data.decode().split("\n")
rag = starts[40]
lines[rag - 1] += ",5"
add(
    Case(
        "c4_ragged_after_multiline",
        4,
        "a row with an extra field after a multi-line cell",
        "refuse",
        "study2",
        files={"c4_ragged_after_multiline.csv": "\n".join(lines).encode()},
        config={"study2": {"survey": "{dir}/c4_ragged_after_multiline.csv", "ignore_columns": ["comment"]}},
        targets=[VALIDATE["study2"]],
        file="c4_ragged_after_multiline.csv",
        lines=[rag],
        fragments=("fields where the header has",),
    )
)
t2 = t.copy().set(60, "respondent_id", t.get(2, "respondent_id"))
survey_case(
    "c4_duplicate_id_after_multiline",
    4,
    "a duplicate ID after a multi-line cell",
    "study2",
    t2,
    extra_config={"ignore_columns": ["comment"]},
    lines_of=[2, 60],
    column="respondent_id",
    fragments=("duplicate ID",),
)
t = SG.copy().set(0, "excerpt", "multi\nline\nexcerpt").set(30, "code", "P_TELEPATHY")
data, starts = t.render()
s1_case(
    "c4_unknown_code_after_multiline",
    4,
    "an unknown code after a multi-line excerpt",
    "segments",
    data,
    lines=[starts[30]],
    column="code",
    fragments=("not in the codebook",),
)
# blank lines, BOM, encodings, delimiters
t = S2.copy()
data, starts = t.render()
lines = data.decode().split("\n")
for pos in (10, 5, 3):
    lines.insert(pos, "")
blank = "\n".join(lines).encode()
text_lines = blank.decode().split("\n")
expected = {ln_text.split(",")[0]: k + 1 for k, ln_text in enumerate(text_lines) if ln_text.startswith("R")}
add(
    Case(
        "c4_blank_lines",
        4,
        "blank lines between rows: skipped, lines right",
        "accept",
        "study2",
        files={"c4_blank_lines.csv": blank},
        config={"study2": {"survey": "{dir}/c4_blank_lines.csv"}},
        targets=[VALIDATE["study2"]],
        check=check_source_lines("study2", expected),
    )
)
add(
    Case(
        "c4_bom_crlf",
        4,
        "UTF-8 BOM and CRLF",
        "accept",
        "study2",
        files={"c4_bom_crlf.csv": b"\xef\xbb\xbf" + S2.render(newline="\r\n")[0]},
        config={"study2": {"survey": "{dir}/c4_bom_crlf.csv"}},
        targets=[VALIDATE["study2"]],
        check=check_source_lines("study2", S2_LINES),
    )
)
data, starts = S2.copy().add_column("comment", [""] * len(S2.rows)).set(0, "comment", "a\nb\nc").render()
bad = data.replace(b"R030,", b"R\xe9030,")
add(
    Case(
        "c4_latin1_after_multiline",
        4,
        "a Latin-1 byte after a multi-line cell: its physical line",
        "refuse",
        "study2",
        files={"c4_latin1_after_multiline.csv": bad},
        config={"study2": {"survey": "{dir}/c4_latin1_after_multiline.csv", "ignore_columns": ["comment"]}},
        targets=[VALIDATE["study2"]],
        file="c4_latin1_after_multiline.csv",
        lines=[data.decode()[: data.decode().index("R030,")].count("\n") + 1],
        fragments=("not valid UTF-8",),
    )
)
for cid, data, frag in (
    ("c4_semicolon", S2.render()[0].replace(b",", b";"), "semicolon-delimited"),
    ("c4_tab", S2.render()[0].replace(b",", b"\t"), "tab-delimited"),
    ("c4_utf16", S2.render()[0].decode().encode("utf-16"), "UTF-16"),
    ("c4_empty", b"", "the file is empty"),
    ("c4_whitespace_only", b"\n\n  \n", "the file is empty"),
    ("c4_comments_only", b"# SYNTHETIC DATA\n# nothing else\n", "no header row"),
    (
        "c4_header_only",
        S2.render()[0].split(b"\n")[0] + b"\n" + S2.render()[0].split(b"\n")[1] + b"\n",
        "header but no data rows",
    ),
):
    add(
        Case(
            cid,
            4,
            frag,
            "refuse",
            "study2",
            files={f"{cid}.csv": data},
            config={"study2": {"survey": "{dir}/" + f"{cid}.csv"}},
            targets=[VALIDATE["study2"]],
            file=f"{cid}.csv",
            fragments=(frag,),
        )
    )
t = S2.copy().set(GOOD2[2], "RINT4", "4\x00")
survey_case(
    "c4_nul_in_cell",
    4,
    "a NUL byte in an answer",
    "study2",
    t,
    lines_of=[GOOD2[2]],
    column="RINT4",
    fragments=("non-numeric", "\\x00"),
)

# ==================================================================================================
# Class 5: labels and structure
# ==================================================================================================


def codebook_with_label(code: str, label: str) -> bytes:
    t = CB.copy()
    k = next(i for i, r in enumerate(t.rows) if r[0] == code)
    t.set(k, "label", label)
    return t.render()[0]


MATH_LABELS = {
    "dollars": "$5 to $10 budgets",
    "unknown_macro": r"$\unknown$ stories",
    "tex_specials": r"50% _x_ ^y^ {z} \frac{a}{b}",
}
for name, label in MATH_LABELS.items():
    add(
        Case(
            f"c5_mathtext_{name}",
            5,
            f"codebook label {label!r} is drawn literally in the figures",
            "accept",
            "study1",
            files={"codebook.csv": codebook_with_label("P_CASESTORY", label)},
            config={"study1": {"codebook": "{dir}/codebook.csv", "reliability": {"replicates": 0}, "qdpx": None}},
            targets=["figures/study1_code_heatmap.pdf"],
            check=check_pdf_text("figures/study1_code_heatmap.pdf", label),
        )
    )
CONTROL = {"esc": "\x1b[31m", "nul": "\x00", "tab": "\t", "csi": "\x9b2J"}
for name, ch in CONTROL.items():
    t = CB.copy()
    t.set(2, "label", f"Label{ch}x")
    data, starts = t.render()
    s1_case(
        f"c5_control_{name}_codebook_label",
        5,
        f"a {name} in a codebook label",
        "codebook",
        data,
        lines=[starts[2]],
        column="label",
        fragments=("control character",),
    )
for k, (col, ch) in enumerate([("interview_id", "\x1b"), ("company", "\x07"), ("role", "\u2029")]):
    t = IV.copy()
    v = t.get(3 + k, col)
    t.set(3 + k, col, v[:1] + ch + v[1:])  # inside the value: surrounding whitespace is stripped
    data, starts = t.render()
    s1_case(
        f"c5_control_interviews_{col}",
        5,
        f"a control character in interviews.{col}",
        "interviews",
        data,
        lines=[starts[3 + k]],
        column=col,
        fragments=("control character",),
    )
for k, (col, ch) in enumerate([("coder", "\x1b"), ("segment_id", "\x00")]):
    t = SG.copy()
    t.set(20 + k, col, t.get(20 + k, col) + ch)
    data, starts = t.render()
    s1_case(
        f"c5_control_segments_{col}",
        5,
        f"a control character in segments.{col}",
        "segments",
        data,
        lines=[starts[20 + k]],
        column=col,
        fragments=("control character",),
    )
t = S2.copy().set(GOOD2[3], "respondent_id", "R\x1b[2J999")
survey_case(
    "c5_control_respondent_id",
    5,
    "an ANSI escape in a respondent ID",
    "study2",
    t,
    lines_of=[GOOD2[3]],
    column="respondent_id",
    fragments=("control character",),
)
t = S3.copy().set(GOOD3[4], "industry", "other\x07")
survey_case(
    "c5_control_level",
    5,
    "a BEL in a categorical answer",
    "study3",
    t,
    lines_of=[GOOD3[4]],
    column="industry",
    fragments=("control character",),
)
t = S2.copy().set(GOOD2[4], "ATT1", "2\x1b")
survey_case(
    "c5_control_attention",
    5,
    "an escape in the attention check (reaches the exclusions table)",
    "study2",
    t,
    lines_of=[GOOD2[4]],
    column="ATT1",
    fragments=("control character",),
)
# config labels
for cid, conf, key in (
    (
        "c5_config_label_escape",
        {
            "measurement": measurement_with(
                lambda c: c.update(label="Ref\x1b[31m comm") if c["construct"] == "RCOM" else None
            )
        },
        "measurement[0].label",
    ),
    (
        "c5_config_item_text_nul",
        {
            "measurement": measurement_with(
                lambda c: c["items"][0].update(text="We\x00 use") if c["construct"] == "RSEL" else None
            )
        },
        "measurement[1].items[0].text",
    ),
    (
        "c5_config_hypothesis_bel",
        {"study3": {"hypotheses": [{"id": "H1", "text": "CRFM\x07 helps", "term": "CRFM", "direction": "positive"}]}},
        "study3.hypotheses[0].text",
    ),
    (
        "c5_config_level_tab",
        {
            "study3": {
                "variables": [
                    dict(v, levels=["information technology", "process\ttechnology", "other"])
                    if v["column"] == "industry"
                    else v
                    for v in CONFIG["study3"]["variables"]
                ]
            }
        },
        "study3.variables[2].levels[1]",
    ),
    ("c5_config_path_newline", {"study2": {"survey": "resources/raw/study2_survey.csv\n"}}, "study2.survey"),
    ("c5_config_coder_nel", {"study1": {"primary_coder": "C1\x85"}}, "study1.primary_coder"),
):
    config_case(cid, 5, f"a control character in config {key}", conf, key=key, fragments=["control character", "Fix:"])
config_case(
    "c5_config_label_line_break_ok",
    5,
    "a line break in a construct label is free text (accepted)",
    {
        "measurement": measurement_with(
            lambda c: c.update(label="Reference\ncommunication") if c["construct"] == "RCOM" else None
        )
    },
    expect="accept",
)
config_case(
    "c5_config_huge_unknown_key",
    5,
    "a 200,000-character unknown key: the message is bounded",
    {"study2": {"x" * 200_000: 1}},
    key="study2.xxxx",
    fragments=["characters cut", "Fix:"],
)


# .qdpx structure
def qde_text() -> str:
    with zipfile.ZipFile(RAW / "study1_coding.qdpx") as zf:
        return zf.read("project.qde").decode("utf-8")


def qdpx_with(project: str, *, stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(RAW / "study1_coding.qdpx") as src, zipfile.ZipFile(buf, "w") as zf:
        for info in src.infolist():
            data = project.encode("utf-8") if info.filename == "project.qde" else src.read(info)
            zi = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return buf.getvalue()


def nest_codes(depth: int) -> str:
    x = qde_text()
    opening = "".join(
        f'<Code guid="{uuid.uuid5(uuid.NAMESPACE_URL, f"wrap{i}")}" name="WRAP{i}" isCodable="false">'
        for i in range(depth)
    )
    return x.replace("<Codes>", "<Codes>" + opening, 1).replace("</Codes>", "</Code>" * depth + "</Codes>", 1)


s1_case(
    "c5_qdpx_nested_60",
    5,
    "codes nested 60 levels deep (accepted: the same segments)",
    "qdpx",
    qdpx_with(nest_codes(60)),
    expect="accept",
    check=check_segments(len(SG.rows)),
)
for depth in (101, 5_000, 100_000):
    s1_case(
        f"c5_qdpx_nested_{depth}",
        5,
        f"codes nested {depth:,} levels deep (RecursionError before)",
        "qdpx",
        qdpx_with(nest_codes(depth), stored=True),
        fragments=("more than 100 levels deep",),
    )
_x = qde_text()
_big = "".join(random.Random(7).choices("abcdefghijklmnopqrstuvwxyz", k=1_000_000))
_first_code = re.search(r'<Code guid="[^"]+" name="([^"]+)"', _x).group(1)
s1_case(
    "c5_qdpx_huge_duplicate_code_name",
    5,
    "a 1 MB code name defined twice: the message is bounded",
    "qdpx",
    qdpx_with(
        _x.replace(
            "<Codes>",
            f'<Codes><Code guid="{uuid.uuid4()}" name="{_big}"/><Code guid="{uuid.uuid4()}" name="{_big}"/>',
            1,
        )
    ),
    fragments=("defined more than once", "characters cut"),
)
s1_case(
    "c5_qdpx_huge_guid",
    5,
    "a 1 MB guid on a nameless code: the message is bounded",
    "qdpx",
    qdpx_with(_x.replace("<Codes>", f'<Codes><Code guid="{_big}"/>', 1)),
    fragments=("no guid or no name", "characters cut"),
)
_src_name = re.search(r'<TextSource guid="[^"]+" name="([^"]+)"', _x).group(1)
s1_case(
    "c5_qdpx_huge_source_name",
    5,
    "a 1 MB interview name: the message is bounded",
    "qdpx",
    qdpx_with(_x.replace(f'name="{_src_name}"', f'name="{_big}"', 1)),
    column="interview_id",
    fragments=("not in the interview sheet",),
)
s1_case(
    "c5_qdpx_c1_control_in_code",
    5,
    "a C1 control (CSI) in a code name",
    "qdpx",
    qdpx_with(_x.replace('name="P_CASESTORY"', 'name="P_CASESTORY\x9b2J"', 1)),
    column="code",
    fragments=("control character",),
)
s1_case(
    "c5_qdpx_line_separator_in_source",
    5,
    "U+2028 in an interview name",
    "qdpx",
    qdpx_with(_x.replace(f'name="{_src_name}"', f'name="{_src_name}\u2028"', 1)),
    column="interview_id",
    fragments=("control character",),
)
s1_case(
    "c5_qdpx_escape_reference",
    5,
    "an ESC as a character reference (not XML 1.0)",
    "qdpx",
    qdpx_with(_x.replace(f'name="{_first_code}"', f'name="{_first_code}&#x1b;"', 1)),
    fragments=("not well-formed XML",),
)
s1_case(
    "c5_qdpx_deep_elements",
    5,
    "200,000 nested unknown elements inside a source",
    "qdpx",
    qdpx_with(_x.replace("</Sources>", "<Foo>" * 200_000 + "</Foo>" * 200_000 + "</Sources>", 1), stored=True),
    expect="accept",
    check=check_segments(len(SG.rows)),
)
t = S2.copy().add_column("n\x1bote", [""] * len(S2.rows))
data, _ = t.render()
add(
    Case(
        "c5_control_in_header",
        5,
        "an escape in a column name",
        "refuse",
        "study2",
        files={"c5_control_in_header.csv": data},
        config={"study2": {"survey": "{dir}/c5_control_in_header.csv"}},
        targets=[VALIDATE["study2"]],
        file="c5_control_in_header.csv",
        lines=[2],
        fragments=("control character",),
    )
)
t = S2.copy().set(GOOD2[6], "respondent_id", "R" * 500_000).set(GOOD2[7], "respondent_id", "R" * 500_000)
survey_case(
    "c5_huge_duplicate_id",
    5,
    "a 500,000-character ID given twice: the message is bounded",
    "study2",
    t,
    lines_of=[GOOD2[6], GOOD2[7]],
    column="respondent_id",
    fragments=("duplicate ID", "characters)"),
)

# ==================================================================================================
# Class 6: wrong diagnoses
# ==================================================================================================

add(
    Case(
        "c6_all_fail_attention",
        6,
        "every respondent fails the attention check",
        "refuse",
        "study2",
        config={"study2": {"exclusions": {"attention_check": {"column": "ATT1", "pass_values": [99]}}}},
        targets=[VALIDATE["study2"]],
        file="study2_survey.csv",
        fragments=("every respondent was excluded", "attention_check"),
    )
)
t = S3.copy().add_column("ATT", ["0"] * len(S3.rows))
survey_case(
    "c6_all_fail_attention_study3",
    6,
    "Study 3: every firm fails an attention check",
    "study3",
    t,
    extra_config={"exclusions": {"attention_check": {"column": "ATT", "pass_values": [1]}}},
    fragments=("every respondent was excluded",),
)
t = S2.copy()
for k, r in enumerate(t.rows):
    r[t.col(ITEMS2[k % len(ITEMS2)])] = ""
survey_case(
    "c6_all_over_missing_limit",
    6,
    "everyone left one item blank, the limit is 0",
    "study2",
    t,
    extra_config={"exclusions": {"max_missing_share": 0.0}},
    fragments=("every respondent was excluded", "max_missing_share"),
)
t = S2.copy()
for r in t.rows:
    for i in ITEMS2:
        r[t.col(i)] = "4"
survey_case(
    "c6_all_straightliners",
    6,
    "every respondent straight-lines",
    "study2",
    t,
    fragments=("every respondent was excluded", "straightlining"),
)
t = S2.copy()
for r in t.rows:
    for i in ITEMS2:
        r[t.col(i)] = ""
survey_case(
    "c6_all_items_blank",
    6,
    "every item blank for everyone: excluded, not 'not numeric'",
    "study2",
    t,
    fragments=("every respondent was excluded",),
)
t = S3.copy()
for r in t.rows:
    r[t.col("firm_age")] = "10"
survey_case(
    "c6_constant_control",
    6,
    "a constant control is named at validation",
    "study3",
    t,
    column="firm_age",
    fragments=("constant",),
)
t = S3.copy()
for r in t.rows:
    r[t.col("industry")] = "other"
survey_case(
    "c6_constant_categorical_control",
    6,
    "a categorical control with one level in the data",
    "study3",
    t,
    column="industry",
    fragments=("constant",),
)
t = S3.copy()
for r in t.rows:
    r[t.col("firm_age")] = ""
survey_case(
    "c6_control_never_answered",
    6,
    "no firm answered a control",
    "study3",
    t,
    column="firm_age",
    fragments=("no analysed respondent has every control",),
)
survey_case(
    "c6_collinear_controls",
    6,
    "collinear controls (a variable and its copy)",
    "study3",
    S3.copy(),
    extra_config={
        "variables": [
            *CONFIG["study3"]["variables"],
            {"column": "size_copy", "type": "derived", "from": "firm_size", "transform": "identity"},
        ],
        "controls": ["firm_size", "size_copy", "industry"],
    },
    fragments=("collinearity",),
)
_x = qde_text()
s1_case(
    "c6_qdpx_no_selection",
    6,
    ".qdpx whose sources carry no coded selection",
    "qdpx",
    qdpx_with(re.sub(r"<PlainTextSelection .*?</PlainTextSelection>", "", _x, flags=re.DOTALL)),
    fragments=("no coded segment",),
)
s1_case(
    "c6_qdpx_no_sources",
    6,
    ".qdpx without sources",
    "qdpx",
    qdpx_with(re.sub(r"<Sources>.*</Sources>", "<Sources/>", _x, flags=re.DOTALL)),
    fragments=("no coded segment",),
)
s1_case(
    "c6_qdpx_primary_coder_absent",
    6,
    ".qdpx without the primary coder",
    "qdpx",
    qdpx_with(_x.replace('name="C1"', 'name="K1"', 1)),
    column="coder",
    fragments=("primary coder 'C1'", "'K1'"),
)
t = SG.copy()
for r in t.rows:
    r[t.col("coder")] = "C2" if r[t.col("coder")] == "C1" else "C3"
s1_case(
    "c6_segments_primary_coder_absent",
    6,
    "segments without the primary coder",
    "segments",
    t.render()[0],
    column="coder",
    fragments=("primary coder 'C1'",),
)
t = SG.copy()
t.rows = [r for r in t.rows if r[t.col("coder")] == "C1"]
s1_case(
    "c6_single_coder",
    6,
    "one coder with reliability on: said at validation",
    "segments",
    t.render()[0],
    column="coder",
    fragments=("only one coder",),
)
t.drop_column("intensity")
s1_case(
    "c6_single_coder_reliability_off",
    6,
    "one coder with reliability off: accepted",
    "segments",
    t.render()[0],
    expect="accept",
    extra={"reliability": False, "qdpx": None},
    check=check_segments(len(t.rows)),
)
t = SG.copy()
s1_case(
    "c6_rating_column_reliability_off",
    6,
    "a rating column with reliability off: the fix says where to declare it",
    "segments",
    t.render()[0],
    extra={"reliability": False, "qdpx": None},
    lines=[2],
    fragments=("unknown column(s) ['intensity']", "study1.reliability.intensity"),
)
t = SG.copy()
for r in t.rows:
    if r[t.col("coder")] == "C2":
        r[t.col("segment_id")] += "x"
s1_case(
    "c6_no_shared_segment",
    6,
    "two coders who share no segment",
    "segments",
    t.render()[0],
    column="segment_id",
    fragments=("share no segment",),
)

# ==================================================================================================
# Class 7: config text that reaches the report is kept as text (the report test renders it)
# ==================================================================================================

HOSTILE = '</script><img src=x onerror="document.title=1">'
t = S3.copy()
for r in t.rows:
    if r[t.col("industry")] == "other":
        r[t.col("industry")] = HOSTILE
levels = ["information technology", "process technology", HOSTILE]
survey_case(
    "c7_hostile_level",
    7,
    "a categorical level with markup: kept verbatim",
    "study3",
    t,
    expect="accept",
    extra_config={
        "variables": [dict(v, levels=levels) if v["column"] == "industry" else v for v in CONFIG["study3"]["variables"]]
    },
)
CASES[-1].check = lambda results, d: (
    None
    if HOSTILE in set(read_out(results / "study3/validated/survey.csv", dtype=str)["industry"])
    else (_ for _ in ()).throw(AssertionError("level not kept"))
)
config_case(
    "c7_hostile_path",
    7,
    "a survey path holding markup is refused (snakemake --report writes input paths into a script element)",
    {"study2": {"survey": "data/a</script><img src=x onerror=alert(1)>/s.csv"}},
    key="study2.survey",
    fragments=["'<' or '>'", "Fix:"],
)
config_case(
    "c7_hostile_manifest_path",
    7,
    "a manifest path holding markup is refused",
    {"data": {"manifest": "<b>manifest.yaml"}},
    key="data.manifest",
    fragments=["'<' or '>'"],
)
config_case(
    "c7_hostile_label",
    7,
    "a construct label with markup is accepted as text",
    {"measurement": measurement_with(lambda c: c.update(label=HOSTILE) if c["construct"] == "RCOM" else None)},
    expect="accept",
)
config_case(
    "c7_hostile_hypothesis",
    7,
    "a hypothesis text with markup is accepted as text",
    {"study3": {"hypotheses": [{"id": "H1", "text": HOSTILE, "term": "CRFM", "direction": "positive"}]}},
    expect="accept",
)
add(
    Case(
        "c7_hostile_codebook_label",
        7,
        "a codebook label with markup is kept verbatim",
        "accept",
        "study1",
        files={"codebook.csv": codebook_with_label("P_WEB", HOSTILE)},
        config={"study1": {"codebook": "{dir}/codebook.csv"}},
        targets=[VALIDATE["study1"]],
        check=lambda results, d: (
            None
            if HOSTILE in set(read_out(results / "study1/validated/codebook.csv", dtype=str)["label"])
            else (_ for _ in ()).throw(AssertionError("label not kept"))
        ),
    )
)


def by_class() -> dict:
    out = {}
    for c in CASES:
        out.setdefault(c.cls, []).append(c)
    return out


if __name__ == "__main__":  # pragma: no cover - a listing for people
    for cls, cases in sorted(by_class().items()):
        print(f"class {cls} ({CLASSES[cls]}): {len(cases)} cases, {sum(c.expect == 'refuse' for c in cases)} to refuse")
    print(f"total {len(CASES)}")
