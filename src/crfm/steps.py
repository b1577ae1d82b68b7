"""Study-level steps: config in, tables out. The workflow scripts call these; so do the tests and the
Monte Carlo design analysis, which need the same logic without Snakemake.
"""

from __future__ import annotations

from .config import MeasurementModel
from .contract import SurveySpec, read_sheet, recode_reverse, validate_survey
from .exclusions import apply_exclusions
from .manifest import check_file, read_manifest


def unique(seq):
    return list(dict.fromkeys(seq))


def survey_constructs(config: dict, study: str) -> list[str]:
    """The constructs whose items a study's survey sheet must hold."""
    if study == "study2":
        return list(config["study2"]["constructs"])
    s3, so = config["study3"], config.get("second_order")
    focal = list(so["dimensions"]) if so and s3["focal"] == so["factor"] else [s3["focal"]]
    marker = [s3["marker"]] if s3.get("marker") else []
    return unique(focal + [s3["outcome"]] + list(s3["moderators"]) + marker)


def is_synthetic(config: dict) -> bool:
    return read_manifest(config["data"]["manifest"])["synthetic"]


def validate_survey_study(config: dict, model: MeasurementModel, study: str):
    """Read, check, exclude and score one survey. Returns (analysed, exclusions, flow).

    ``analysed`` holds the analysed respondents with reverse-keyed items recoded and derived variables
    added; ``source_line`` keeps each respondent's line in the raw file.
    """
    sc = config[study]
    manifest_path = config["data"]["manifest"]
    check_file(read_manifest(manifest_path), manifest_path, sc["survey"])
    constructs = survey_constructs(config, study)
    items = model.items_of(constructs)
    spec = SurveySpec.from_config(sc, items)
    typed = validate_survey(read_sheet(sc["survey"]), spec, model)
    ex = sc.get("exclusions") or {}
    blocks = {"+".join(b): model.items_of(b) for b in ((ex.get("straightlining") or {}).get("blocks") or [])}
    analysed, exclusions, flow = apply_exclusions(typed, spec.id_column, items, ex, blocks)
    analysed = recode_reverse(analysed, model, items)
    return analysed, exclusions, flow


def validate_study1(config: dict, model: MeasurementModel):
    """Check the interview sheet, the codebook and the coded segments (CSV or REFI-QDA export)."""
    import numpy as np

    from .contract import Sheet, validate_codebook, validate_interviews, validate_segments

    s1 = config["study1"]
    manifest_path = config["data"]["manifest"]
    manifest = read_manifest(manifest_path)
    dims = list(config["second_order"]["dimensions"])
    codebook = validate_codebook(read_sheet(s1["codebook"]), model, dims)
    check_file(manifest, manifest_path, s1["interviews"])
    interviews = validate_interviews(read_sheet(s1["interviews"]))
    if s1.get("source", "segments") == "qdpx":
        from .qdpx import read_qdpx

        check_file(manifest, manifest_path, s1["qdpx"])
        segs, _codes = read_qdpx(s1["qdpx"])
        sheet = Sheet(s1["qdpx"], segs.astype(str), np.arange(2, len(segs) + 2))
    else:
        check_file(manifest, manifest_path, s1["segments"])
        sheet = read_sheet(s1["segments"])
    segments = validate_segments(sheet, interviews, codebook)
    return interviews, segments, codebook
