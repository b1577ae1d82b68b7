"""Study 1: conceptualization from coded manager interviews.

Steps (one workflow rule each): ``study1_validate`` (interview sheet, codebook and coded segments -
from the CSV or a REFI-QDA ``.qdpx`` export - against the data contract), ``study1_coding_summary``
(informants, coding summary, code x company, saturation, co-occurrence, inter-coder agreement,
code -> dimension -> item traceability) and ``study1_qdpx_crosscheck`` (every table rebuilt from the
``.qdpx`` export and compared with the CSV's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crfm.data.config import MeasurementModel, parse_yaml
from crfm.data.contract import Sheet, read_sheet, validate_codebook, validate_interviews, validate_segments
from crfm.data.manifest import check_file, raw_inputs_synthetic, read_manifest
from crfm.errors import AnalysisError, InputError
from crfm.studies.base import Study, StudyResult, Table, code_of, lazy_module

coding = lazy_module("crfm.stats.coding")
agreement = lazy_module("crfm.stats.agreement")

__all__ = [
    "STUDY",
    "validate",
    "coding_tables",
    "qdpx_crosscheck",
    "Study1ValidationResult",
    "CodingResult",
    "CrosscheckResult",
]

TABLES = (
    "study1_informants",
    "study1_coding_summary",
    "study1_dimension_by_company",
    "study1_code_company_share",
    "study1_saturation",
    "study1_cooccurrence",
    "study1_reliability",
    "study1_reliability_by_code",
    "study1_traceability",
    "study1_qdpx_crosscheck",
)
FIGURES = ("study1_code_heatmap", "study1_saturation", "study1_cooccurrence")


# --- settings -----------------------------------------------------------------------------------------


def _pool(config: Mapping) -> list[dict]:
    """Measurement entries of the CRFM dimensions (the item pool the codes trace to)."""
    dims = list(config["second_order"]["dimensions"])
    return [c for c in config["measurement"] if c["construct"] in dims]


RELIABILITY_DEFAULTS = {
    "levels": ["nominal"],
    "intensity": None,
    "replicates": 2000,
    "seed": 0,
    "minimums": [0.667, 0.800],
    "ci_level": 0.95,
}


def reliability_settings(config: Mapping) -> dict | None:
    """``study1.reliability`` with its defaults (None when switched off)."""
    rel = config["study1"].get("reliability", True)
    if rel is False:
        return None
    return {**RELIABILITY_DEFAULTS, **(rel if isinstance(rel, Mapping) else {})}


def _rating(config: Mapping) -> dict | None:
    rel = reliability_settings(config)
    return dict(rel["intensity"]) if rel and rel.get("intensity") else None


def validate_settings(config: Mapping) -> dict:
    s1 = config["study1"]
    return {
        "rating": _rating(config),
        "interviews": s1["interviews"],
        "segments": s1["segments"],
        "codebook": s1["codebook"],
        "qdpx": s1.get("qdpx"),
        "source": s1.get("source", "segments"),
        "primary_coder": s1["primary_coder"],
        "agreement": reliability_settings(config) is not None,
        "manifest": config["data"]["manifest"],
        "dimensions": list(config["second_order"]["dimensions"]),
        "measurement": [
            {"construct": c["construct"], "scale": c["scale"], "items": [{"id": i["id"]} for i in c["items"]]}
            for c in _pool(config)
        ],
    }


def coding_settings(config: Mapping) -> dict:
    s1 = config["study1"]
    return {
        "primary_coder": s1["primary_coder"],
        "reliability": reliability_settings(config),
        "segments_file": s1["qdpx"] if s1.get("source", "segments") == "qdpx" else s1["segments"],
        "saturation_k": s1["saturation_k"],
        "dimensions": list(config["second_order"]["dimensions"]),
        "measurement": _pool(config),
        "survey": config["study2"]["survey"] if "study2" in config else None,
    }


def crosscheck_settings(config: Mapping) -> dict:
    """The coding summary's settings without the rating column (a REFI-QDA export carries codes only)."""
    s = coding_settings(config)
    rel = s["reliability"] and {**s["reliability"], "intensity": None}
    return {**s, "reliability": rel, "qdpx": config["study1"]["qdpx"], "survey": None, "rating": None}


def has_crosscheck(config: Mapping) -> bool:
    """Rebuild Study 1 from the .qdpx too when both sources are given."""
    s1 = config.get("study1", {})
    return bool(s1.get("qdpx")) and s1.get("source", "segments") == "segments"


def raw_inputs(config: Mapping) -> list[str]:
    """The interview sheet, the codebook, the coded segments (CSV or .qdpx) and, for the cross-check,
    the .qdpx export."""
    s1 = config["study1"]
    out = [s1["interviews"], s1["codebook"], s1["qdpx"] if s1.get("source", "segments") == "qdpx" else s1["segments"]]
    return out + ([s1["qdpx"]] if has_crosscheck(config) else [])


def tables(config: Mapping) -> list[str]:
    out = list(TABLES)
    if config.get("study1", {}).get("reliability", True) is False:
        out = [t for t in out if not t.startswith("study1_reliability")]
    if not has_crosscheck(config):
        out.remove("study1_qdpx_crosscheck")
    return out


# --- validation ---------------------------------------------------------------------------------------


def qdpx_sheet(path) -> Sheet:
    """A REFI-QDA export's coded segments as a sheet the data contract checks like the CSV's (the
    'line' of a segment is its position in the export, counting a header as line 1)."""
    from crfm.data.qdpx import read_qdpx

    contents = read_qdpx(path)
    segs = contents.segments
    if segs.empty:
        raise InputError(
            path,
            f"the export holds no coded segment (its CodeBook defines {len(contents.codes)} code(s), but no text "
            "selection carries a Coding)",
            "code the interview transcripts in the QDA software and export the project again with its codings "
            "(REFI-QDA Project, .qdpx)",
        )
    segs = segs.astype(object).where(segs.notna(), "")
    return Sheet(str(path), segs, np.arange(2, len(segs) + 2), header_line=1)


@dataclass
class Study1ValidationResult(StudyResult):
    interviews: pd.DataFrame
    segments: pd.DataFrame
    codebook: pd.DataFrame
    synthetic: bool

    def tables(self) -> list[Table]:
        return []


def validate(settings: Mapping) -> Study1ValidationResult:
    """Check the interview sheet, the codebook and the coded segments (CSV or REFI-QDA export)."""
    manifest_path = settings["manifest"]
    manifest = read_manifest(manifest_path)
    model = MeasurementModel.from_config({"measurement": settings["measurement"]})
    codebook = validate_codebook(read_sheet(settings["codebook"]), model, settings["dimensions"])
    check_file(manifest, manifest_path, settings["interviews"])
    interviews = validate_interviews(read_sheet(settings["interviews"]))
    source = settings["qdpx"] if settings["source"] == "qdpx" else settings["segments"]
    check_file(manifest, manifest_path, source)
    sheet = qdpx_sheet(source) if settings["source"] == "qdpx" else read_sheet(source)
    segments = validate_segments(sheet, interviews, codebook, settings["rating"])
    coder = settings["primary_coder"]
    if coder not in set(segments["coder"]):
        coders = sorted(set(segments["coder"]))
        raise InputError(
            source,
            f"the primary coder '{coder}' (config study1.primary_coder) coded no segment; the coders found are {coders[:10]}",
            f"set study1.primary_coder to the coder who coded every interview (one of {coders[:10]}), or correct the coder column",
            column="coder",
        )
    if settings.get("agreement"):
        _check_double_coding(segments, source)
    raw = [settings["codebook"], settings["interviews"], source]
    return Study1ValidationResult(interviews, segments, codebook, raw_inputs_synthetic(manifest_path, raw))


def _check_double_coding(segments: pd.DataFrame, source) -> None:
    """Inter-coder agreement needs two coders who coded some segment both: checked here, once, so the
    coding summary and the .qdpx cross-check never report it differently."""
    coders = sorted(set(segments["coder"]))
    fix = "add the second coder's codings of the double-coded segments (same segment_id), or set study1.reliability: false"
    if len(coders) < 2:
        raise InputError(
            source,
            f"only one coder ({', '.join(map(repr, coders))}) coded the segments; inter-coder agreement needs segments coded by two coders",
            fix,
            column="coder",
        )
    per_segment = segments.groupby("segment_id")["coder"].nunique()
    if not (per_segment >= 2).any():
        raise InputError(
            source,
            f"the coders ({', '.join(map(repr, coders[:10]))}) share no segment: no segment_id is coded by two coders, so agreement cannot be computed",
            fix,
            column="segment_id",
        )


# --- coding summary -----------------------------------------------------------------------------------


@dataclass
class CodingResult(StudyResult):
    """Every Study 1 table, the saturation result, the codes' labels and the numbers of the summary."""

    table_list: list[Table]
    saturation: coding.SaturationResult
    labels: dict
    facts: dict

    def tables(self) -> list[Table]:
        return list(self.table_list)

    def table(self, name: str) -> pd.DataFrame:
        return next(t.frame for t in self.table_list if t.name == name)


def coding_tables(settings: Mapping, interviews, segments, codebook, survey_columns=None) -> CodingResult:
    """Every Study 1 table. ``survey_columns``: the Study 2 sheet's columns, to cross-check that the
    item pool is surveyed."""
    model = MeasurementModel.from_config({"measurement": settings["measurement"]})
    coder = settings["primary_coder"]
    dims = list(settings["dimensions"])
    pool = model.items_of(dims)
    kw = dict(primary_coder=coder)
    n_iv = len(interviews)
    out = [
        Table(
            "study1_informants",
            coding.informants_table(interviews),
            (f"{n_iv} interviews.",),
            code_of(coding.informants_table),
        ),
        Table(
            "study1_coding_summary",
            coding.coding_summary(segments, interviews, codebook, **kw),
            (f"Codes of the primary coder ({coder}); share = interviews with the code / {n_iv} interviews.",),
            code_of(coding.coding_summary),
        ),
        Table(
            "study1_dimension_by_company",
            coding.dimension_by_company(segments, interviews, codebook, dimensions=dims, **kw),
            ("Interviews of each company in which the dimension's codes appear.",),
            code_of(coding.dimension_by_company),
            index=True,
        ),
        Table(
            "study1_code_company_share",
            coding.code_company_share(segments, interviews, codebook, **kw),
            ("Share of each company's interviews in which the code appears.",),
            code_of(coding.code_company_share),
            index=True,
        ),
    ]
    k = settings["saturation_k"]
    sat = coding.saturation(segments, interviews, k, **kw)
    where = (
        f"saturation after interview {sat.saturation_interview} (position {sat.saturation_position}): "
        f"the next {k} interviews bring no new code"
        if sat.saturation_position is not None
        else f"no saturation: new codes keep appearing within {k} interviews of the end"
    )
    out.append(
        Table(
            "study1_saturation",
            sat.table,
            (f"Interviews in data-collection order; {where}.",),
            code_of(coding.saturation),
        )
    )
    out.append(
        Table(
            "study1_cooccurrence",
            coding.cooccurrence_jaccard(segments, **kw),
            ("Jaccard similarity of two codes over interviews: |both| / |either|.",),
            code_of(coding.cooccurrence_jaccard),
        )
    )
    rel_values = {}
    if settings["reliability"]:
        overall, per_code, note = agreement_tables(segments, codebook, settings)
        out.append(Table("study1_reliability", overall, (note,), code_of(agreement.agreement_report)))
        out.append(Table("study1_reliability_by_code", per_code, (note,), code_of(agreement.agreement_report)))
        alpha = overall[overall["statistic"] == "krippendorff_alpha"]
        rel_values = {f"{r.variable}_{r.level}": r.value for r in alpha.itertuples()}
    trace = coding.traceability(codebook, pool, dims, item_constructs={i: model.construct_of(i) for i in pool})
    if survey_columns is not None:
        coding.cross_check_items(pool, survey_columns, source=settings["survey"])
    trace["item_text"] = trace["item"].map(lambda i: model.item_text(i) if isinstance(i, str) and i else "")
    out.append(
        Table(
            "study1_traceability",
            trace,
            ("Code -> CRFM dimension -> scale item; function codes give rise to no item.",),
            code_of(coding.traceability),
        )
    )
    facts = {
        "n_interviews": n_iv,
        "n_companies": int(interviews["company"].nunique()),
        "n_codes_used": int(sat.n_codes),
        "n_segments_primary": int((segments["coder"] == coder).sum()),
        "saturation_position": sat.saturation_position,
        "saturation_interview": sat.saturation_interview,
        "saturation_k": k,
        "reliability": rel_values,
    }
    labels = dict(zip(codebook["code"], codebook["label"]))
    return CodingResult(out, sat, labels, facts)


def agreement_tables(
    segments: pd.DataFrame, codebook: pd.DataFrame, settings: Mapping
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Agreement on the codes (at the configured levels, and per code) and, when the segments carry a
    rating column, on the rating (its levels, e.g. ordinal): one overall table with a ``variable``
    column, the per-code table, and the note that defines units, levels and the bootstrap."""
    rel = settings["reliability"]
    common = dict(
        unit="segment_id",
        coder="coder",
        replicates=rel["replicates"],
        seed=rel["seed"],
        minimums=rel["minimums"],
        ci_level=rel["ci_level"],
        primary_coder=settings["primary_coder"],
        source=settings["segments_file"],
    )
    codes = agreement.agreement_report(
        segments, value="code", levels=rel["levels"], value_order=list(codebook["code"]), per_value=True, **common
    )
    if codes.n_units_pairable == 0:
        coders = "' and '".join(map(str, codes.coders))
        raise InputError(
            settings["segments_file"],
            f"no segment is coded by two coders (coders '{coders}' share no segment_id): inter-coder agreement needs a double-coded subset",
            "have the second coder code a subset of the segments under the same segment_id values, or switch agreement off (study1.reliability: false)",
            column="segment_id",
        )
    overall = [codes.overall.assign(variable="code")]
    notes = [" ".join([codes.unit_definition, *codes.notes])]
    rating = rel.get("intensity")
    if rating and rating["column"] in segments.columns:
        col = rating["column"]
        rated = segments.assign(**{col: pd.to_numeric(segments[col].replace("", None), errors="coerce")})
        r = agreement.agreement_report(
            rated, value=col, levels=rating["levels"], value_order=list(rating["order"]), per_value=False, **common
        )
        overall.append(r.overall.assign(variable=col))
        notes.append(
            f"Rating '{col}' ({', '.join(map(str, rating['order']))}, lowest first): Krippendorff's alpha at level(s) "
            f"{', '.join(rating['levels'])} on the same units with the same bootstrap; Cohen's kappa and percent agreement treat the ratings as categories."
            + (" " + " ".join(r.notes) if r.notes else "")
        )
    table = pd.concat(overall, ignore_index=True)
    table.insert(0, "variable", table.pop("variable"))
    return table, codes.per_value, " ".join(notes)


# --- REFI-QDA cross-check -----------------------------------------------------------------------------


@dataclass
class CrosscheckResult(StudyResult):
    comparison: pd.DataFrame
    n_segments: int
    qdpx: str

    def tables(self) -> list[Table]:
        note = f"{self.n_segments} coded segments imported from {self.qdpx} (REFI-QDA 1.0)."
        return [Table("study1_qdpx_crosscheck", self.comparison, (note,), code_of(qdpx_crosscheck))]


def qdpx_crosscheck(settings: Mapping, interviews, codebook, csv_segments) -> CrosscheckResult:
    """Import the REFI-QDA export, validate it like the CSV, derive every Study 1 table from it and
    compare each with the table derived from the CSV segments. Raises AnalysisError on any difference."""
    qdpx_segments = validate_segments(qdpx_sheet(settings["qdpx"]), interviews, codebook)
    csv_segments = csv_segments.drop(columns=[c for c in csv_segments.columns if c not in qdpx_segments.columns])
    a = coding_tables(settings, interviews, csv_segments, codebook).tables()
    b = {t.name: t.frame for t in coding_tables(settings, interviews, qdpx_segments, codebook).tables()}
    rows = []
    for t in a:
        ta, tb = t.frame, b[t.name]
        same = ta.shape == tb.shape and ta.astype(str).reset_index(drop=True).equals(
            tb.astype(str).reset_index(drop=True)
        )
        rows.append(
            {
                "table": t.name.removeprefix("study1_"),
                "rows_csv": len(ta),
                "rows_qdpx": len(tb),
                "identical": bool(same),
            }
        )
    result = CrosscheckResult(pd.DataFrame(rows), len(qdpx_segments), str(settings["qdpx"]))
    if not result.comparison["identical"].all():
        bad = result.comparison.loc[~result.comparison["identical"], "table"].tolist()
        raise AnalysisError(f"the .qdpx export and the segments CSV give different tables: {bad}")
    return result


# The schema of this study's config section (JSON Schema, YAML notation; "#/$defs/..." are the shared
# definitions of workflow/schemas/config.schema.yaml).
CONFIG_SCHEMA = parse_yaml(
    """
type: object
additionalProperties: false
required: [interviews, segments, codebook, primary_coder]
properties:
  interviews: {$ref: "#/$defs/path"}
  segments: {$ref: "#/$defs/path"}
  qdpx:
    oneOf: [{$ref: "#/$defs/path"}, {type: "null"}]
  source: {enum: [segments, qdpx], default: segments}
  codebook: {$ref: "#/$defs/path"}
  primary_coder: {type: string, minLength: 1}
  reliability:
    description: >
      inter-coder agreement on the double-coded segments: false (off), true (the defaults) or the
      settings (config/README.md)
    oneOf:
      - type: boolean
      - type: object
        additionalProperties: false
        properties:
          levels:
            description: levels of measurement of the codes (nominal categories)
            type: array
            items: {enum: [nominal, ordinal, interval, ratio]}
            minItems: 1
            uniqueItems: true
          intensity:
            description: an optional rating column of the segments sheet (e.g. intensity 1-3)
            oneOf:
              - type: "null"
              - type: object
                additionalProperties: false
                required: [column, levels, order]
                properties:
                  column: {$ref: "#/$defs/name"}
                  levels:
                    type: array
                    items: {enum: [nominal, ordinal, interval, ratio]}
                    minItems: 1
                    uniqueItems: true
                  order:
                    description: the rating's values, lowest first (ordinal rank order)
                    type: array
                    items: {type: integer}
                    minItems: 2
                    uniqueItems: true
          replicates: {type: integer, minimum: 0, description: bootstrap resamples of alpha (0 = none)}
          seed: {$ref: "#/$defs/seed"}
          minimums:
            description: alpha minimums whose q (probability alpha falls below) is reported
            type: array
            items: {type: number, minimum: -1, maximum: 1}
            uniqueItems: true
          ci_level: {type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}
  saturation_k: {$ref: "#/$defs/positive_int"}
"""
)


STUDY = Study(
    config_schema=CONFIG_SCHEMA,
    id="study1",
    title="Study 1: Conceptualization",
    tables=tables,
    figures=lambda config: list(FIGURES),
    settings={
        "study1_validate": validate_settings,
        "study1_coding_summary": coding_settings,
        "study1_qdpx_crosscheck": crosscheck_settings,
    },
    raw_inputs=raw_inputs,
    summaries={"study1": "study1/summary.json"},
)
