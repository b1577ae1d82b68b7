"""Study-level steps: config in, tables out. The workflow scripts call these; so do the tests and the
Monte Carlo design analysis, which need the same logic without Snakemake.
"""

from __future__ import annotations

from crfm.data.config import MeasurementModel
from crfm.data.contract import SurveySpec, read_sheet, recode_reverse, validate_survey
from crfm.data.exclusions import apply_exclusions
from crfm.data.manifest import check_file, read_manifest


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


def qdpx_sheet(path):
    """A REFI-QDA export's coded segments as a sheet the data contract checks like the CSV's (the
    'line' of a segment is its position in the export, counting a header as line 1)."""
    import numpy as np

    from crfm.data.contract import Sheet
    from crfm.data.qdpx import read_qdpx

    segs = read_qdpx(path).segments
    segs = segs.astype(object).where(segs.notna(), "")
    return Sheet(str(path), segs, np.arange(2, len(segs) + 2))


def validate_study1(config: dict, model: MeasurementModel):
    """Check the interview sheet, the codebook and the coded segments (CSV or REFI-QDA export)."""
    from crfm.data.contract import validate_codebook, validate_interviews, validate_segments

    s1 = config["study1"]
    manifest_path = config["data"]["manifest"]
    manifest = read_manifest(manifest_path)
    dims = list(config["second_order"]["dimensions"])
    codebook = validate_codebook(read_sheet(s1["codebook"]), model, dims)
    check_file(manifest, manifest_path, s1["interviews"])
    interviews = validate_interviews(read_sheet(s1["interviews"]))
    if s1.get("source", "segments") == "qdpx":
        check_file(manifest, manifest_path, s1["qdpx"])
        sheet = qdpx_sheet(s1["qdpx"])
    else:
        check_file(manifest, manifest_path, s1["segments"])
        sheet = read_sheet(s1["segments"])
    segments = validate_segments(sheet, interviews, codebook)
    return interviews, segments, codebook


STUDY1_TABLES = (
    "informants",
    "coding_summary",
    "dimension_by_company",
    "code_company_share",
    "saturation",
    "cooccurrence",
    "reliability",
    "reliability_by_code",
    "traceability",
)


def study1_tables(config: dict, model: MeasurementModel, interviews, segments, codebook, survey_columns=None):
    """Every Study 1 table, as {name: (DataFrame, notes, write_index)}, plus the saturation result.

    ``survey_columns``: the Study 2 sheet's columns, to cross-check that the item pool is surveyed.
    """
    from crfm.stats import coding as qual
    from crfm.stats.agreement import intercoder_reliability

    s1 = config["study1"]
    coder = s1["primary_coder"]
    dims = list(config["second_order"]["dimensions"])
    pool = model.items_of(dims)
    kw = dict(primary_coder=coder)
    n_iv = len(interviews)
    out = {}
    out["informants"] = (qual.informants_table(interviews), [f"{n_iv} interviews."], False)
    out["coding_summary"] = (
        qual.coding_summary(segments, interviews, codebook, **kw),
        [f"Codes of the primary coder ({coder}); share = interviews with the code / {n_iv} interviews."],
        False,
    )
    out["dimension_by_company"] = (
        qual.dimension_by_company(segments, interviews, codebook, dimensions=dims, **kw),
        ["Interviews of each company in which the dimension's codes appear."],
        True,
    )
    out["code_company_share"] = (
        qual.code_company_share(segments, interviews, codebook, **kw),
        ["Share of each company's interviews in which the code appears."],
        True,
    )
    sat = qual.saturation(segments, interviews, s1["saturation_k"], **kw)
    where = (
        f"saturation after interview {sat.saturation_interview} (position {sat.saturation_position}): "
        f"the next {s1['saturation_k']} interviews bring no new code"
        if sat.saturation_position is not None
        else f"no saturation: new codes keep appearing within {s1['saturation_k']} interviews of the end"
    )
    out["saturation"] = (sat.table, [f"Interviews in data-collection order; {where}."], False)
    out["cooccurrence"] = (
        qual.cooccurrence_jaccard(segments, **kw),
        ["Jaccard similarity of two codes over interviews: |both| / |either|."],
        False,
    )
    if s1.get("reliability", True):
        rel = intercoder_reliability(segments, primary_coder=coder, codes=list(codebook["code"]))
        out["reliability"] = (rel.overall, [rel.table_note], False)
        out["reliability_by_code"] = (rel.per_code, [rel.table_note], False)
    trace = qual.traceability(
        codebook, pool, dims, item_constructs={i: model.construct_of(i) for i in pool}
    )
    if survey_columns is not None:
        qual.cross_check_items(pool, survey_columns, source=config["study2"]["survey"])
    trace["item_text"] = trace["item"].map(lambda i: model.item_text(i) if isinstance(i, str) and i else "")
    out["traceability"] = (trace, ["Code -> CRFM dimension -> scale item; function codes give rise to no item."], False)
    return out, sat


def qdpx_crosscheck(config: dict, model: MeasurementModel, interviews, codebook, csv_segments):
    """Import the REFI-QDA export, validate it like the CSV, derive every Study 1 table from it and
    compare each with the table derived from the CSV segments. Returns a tidy comparison table."""
    import pandas as pd

    from crfm.data.contract import validate_segments

    qdpx_segments = validate_segments(qdpx_sheet(config["study1"]["qdpx"]), interviews, codebook)
    a, _ = study1_tables(config, model, interviews, csv_segments, codebook)
    b, _ = study1_tables(config, model, interviews, qdpx_segments, codebook)
    rows = []
    for name in a:
        ta, tb = a[name][0], b[name][0]
        same = ta.shape == tb.shape and ta.astype(str).reset_index(drop=True).equals(tb.astype(str).reset_index(drop=True))
        rows.append({"table": name, "rows_csv": len(ta), "rows_qdpx": len(tb), "identical": bool(same)})
    return pd.DataFrame(rows), len(qdpx_segments)
