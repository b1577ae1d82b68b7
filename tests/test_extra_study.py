"""Adding a study touches no existing file: a toy study registered in a scratch copy of the workflow.

The architecture's promise (:mod:`crfm.studies`): a study is its module, its report specs, its rules
file and its text template - plus, as for every study, the script its rule runs. This test writes
exactly those files for a toy study (``toy``: letters per word of its config section) into a copy of
the workflow, runs the toy rule and the appendix with ``studies: [toy]``, and checks that the registry
carried the study everywhere the shipped studies go - the table's provenance lines, the appendix's
section and table, numbers.json and provenance.json - while every pre-existing file of the copy kept
its bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from conftest import copy_workflow, snakemake

TOY_STUDY = '''\
"""A toy study: the letters of each word its config section lists (proves the registry open)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from crfm.studies.base import Study, StudyResult, Table, code_of


def count_settings(config: Mapping) -> dict:
    """What rule toy_count reads: the toy section's words."""
    return {"words": list(config["toy"]["words"])}


def count_letters(settings: Mapping) -> pd.DataFrame:
    words = list(settings["words"])
    return pd.DataFrame({"word": words, "letters": [len(w) for w in words]})


@dataclass
class ToyResult(StudyResult):
    counts: pd.DataFrame

    def tables(self) -> list[Table]:
        return [Table("toy_counts", self.counts, ("Letters per configured word.",), code_of(count_letters))]


def run(settings: Mapping) -> ToyResult:
    return ToyResult(count_letters(settings))


CONFIG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["words"],
    "properties": {"words": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}},
}

STUDY = Study(
    id="toy",
    title="Toy study: letters per word",
    tables=lambda config: ["toy_counts"],
    figures=lambda config: [],
    settings={"toy_count": count_settings},
    config_schema=CONFIG_SCHEMA,
)
'''

TOY_SPECS = '''\
"""How the toy study is presented: one table, no figure, one number."""

from __future__ import annotations

from crfm.data.tables import read_table
from crfm.report.numbers import source
from crfm.report.specs.common import Col, TableSpec

PREFIX = "T"

TABLES: dict[str, TableSpec] = {
    "toy_counts": TableSpec(
        "Letters per configured word",
        (Col("word", "Word"), Col("letters", "Letters", "int")),
    ),
}

FIGURES: dict[str, str] = {}


def numbers(book, tables: dict, summaries: dict, config: dict) -> None:
    """The total number of letters, quoted by text/toy.j2."""
    if "toy_counts" in tables:
        path = tables["toy_counts"]
        df = read_table(path)
        book.put("toy.total_letters", int(df["letters"].sum()), "int", source=source(path, "", "sum letters"))
'''

TOY_RULES = """\
# A toy study (crfm.studies.toy): letters per configured word.


rule toy_count:
    output:
        counts=f"{RESULTS}/tables/toy_counts.csv",
    log:
        f"{RESULTS}/logs/toy_count.log",
    benchmark:
        f"{RESULTS}/benchmarks/toy_count.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=settings("toy_count"),
    script:
        "../scripts/toy_count.py"


rule toy:
    input:
        study_outputs("toy"),
"""

TOY_SCRIPT = '''\
"""The toy study's one table: letters per configured word."""

from _common import run


def main(smk, ctx):
    from crfm.studies import toy

    r = toy.run(ctx.settings)
    ctx.write(r)
    ctx.log.info("toy:\\n%s", r.summary())


run(snakemake, main)  # noqa: F821
'''

TOY_TEXT = """\
{#- Toy study running text (format-neutral). -#}
The toy study counted {{ n.toy.total_letters }} letters in its configured words ({{ tab("toy_counts") }}).
"""

NEW_FILES = {
    "src/crfm/studies/toy.py": TOY_STUDY,
    "src/crfm/report/specs/toy.py": TOY_SPECS,
    "workflow/rules/toy.smk": TOY_RULES,
    "workflow/templates/text/toy.j2": TOY_TEXT,
    "workflow/scripts/toy_count.py": TOY_SCRIPT,
}

WORDS = ["reference", "customer", "marketing"]
RUN = "toy"
GENERATED = {"results", ".snakemake", "__pycache__"}


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, generated folders (results, .snakemake, caches) left out."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not GENERATED.intersection(rel.parts):
            out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.e2e
def test_a_new_study_needs_only_its_own_files(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    before = tree_hashes(wf)
    assert not set(NEW_FILES) & set(before), "the toy study already exists in the copy"
    for rel, text in NEW_FILES.items():
        (wf / rel).write_text(text, encoding="utf-8")

    cfg = tmp_path / "toy.yaml"
    cfg.write_text(yaml.safe_dump({"run": RUN, "studies": ["toy"], "toy": {"words": WORDS}}))
    results = wf / "results" / RUN

    # rule all (the registry's get_final_outputs) now plans the toy study, and only it
    plan = snakemake(wf, "-n", "--configfile", str(cfg))
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-4000:]
    assert "toy_count" in plan.stdout and "design_shard" not in plan.stdout and "study2_confirm" not in plan.stdout

    # the toy study and the appendix over it (the PDF and numbers.tex are left out to keep the run short)
    targets = [f"results/{RUN}/{p}" for p in ("numbers.json", "provenance.json", "appendix/appendix.html")]
    res = snakemake(wf, "toy", *targets, "--cores", "2", "--configfile", str(cfg))
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]

    # the table, with the rule, its .smk and the computing function on its provenance lines
    table = results / "tables/toy_counts.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    assert "# rule: toy_count (workflow/rules/toy.smk)" in lines
    assert "# code: crfm.studies.toy.count_letters" in lines
    assert "# note: Letters per configured word." in lines
    body = [ln for ln in lines if not ln.startswith("#")]
    assert body == ["word,letters", *(f"{w},{len(w)}" for w in WORDS)]

    # numbers.json: the toy study listed, its number quoted from its table
    numbers = json.loads((results / "numbers.json").read_text())
    assert numbers["studies"] == ["toy"]
    total = numbers["numbers"]["toy"]["total_letters"]
    assert total["value"] == sum(map(len, WORDS)) == 26
    assert total["source"].startswith(f"results/{RUN}/tables/toy_counts.csv")

    # provenance.json: the study and its table's hash
    prov = json.loads((results / "provenance.json").read_text())
    assert prov["studies"] == ["toy"]
    assert prov["outputs"][f"results/{RUN}/tables/toy_counts.csv"] == hashlib.sha256(table.read_bytes()).hexdigest()

    # the appendix: the study's section (title, running text) and its numbered, titled table
    index = json.loads((results / "tables/index.json").read_text())
    assert [(t["name"], t["study"], t["number"]) for t in index["tables"]] == [("toy_counts", "toy", "T.1")]
    html = (results / "appendix/appendix.html").read_text(encoding="utf-8")
    assert '<section id="toy">' in html
    assert "Toy study: letters per word" in html
    assert "Letters per configured word" in html
    assert "Table T.1" in html
    assert "The toy study counted 26 letters in its configured words (Table T.1)." in " ".join(html.split())
    for word in WORDS:
        assert word in html
    tex = (results / "appendix/appendix.tex").read_text(encoding="utf-8")
    assert r"\section{Toy study: letters per word}" in tex and "Table T.1" in tex

    # nothing pre-existing changed: the new files are exactly the toy study's, every old file kept its bytes
    after = tree_hashes(wf)
    assert sorted(set(after) - set(before)) == sorted(NEW_FILES)
    assert set(before) <= set(after)
    changed = sorted(p for p in before if after[p] != before[p])
    assert changed == [], f"adding a study modified existing files: {changed}"
