"""The first step of every survey study: read the sheet, check it against the data contract, apply the
exclusion rules, recode reverse-keyed items, add derived variables - and catch, here and once,
data-level problems that would otherwise surface in whichever analysis job happens to run first
(a constant or collinear control, a non-finite derived variable, an empty analysed sample).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from crfm.data.config import MeasurementModel
from crfm.data.contract import SurveySpec, read_sheet, recode_reverse, validate_survey
from crfm.data.exclusions import apply_exclusions
from crfm.data.manifest import check_file, raw_inputs_synthetic, read_manifest
from crfm.errors import AnalysisError, InputError
from crfm.studies.base import StudyResult, Table, code_of, unique

__all__ = ["survey_constructs", "survey_settings", "validate", "ValidationResult"]


def read_retained(table: pd.DataFrame) -> dict[str, list[str]]:
    """``construct, item`` rows (Study 2's retained_items.csv) -> {construct: [items]} in file order."""
    out: dict[str, list[str]] = {}
    for c, i in zip(table["construct"], table["item"]):
        out.setdefault(str(c), []).append(str(i))
    return out


def survey_constructs(config: Mapping, study: str) -> list[str]:
    """The constructs whose items a study's survey sheet must hold."""
    if study == "study2":
        return list(config["study2"]["constructs"])
    s3, so = config["study3"], config.get("second_order")
    focal = list(so["dimensions"]) if so and s3["focal"] == so["factor"] else [s3["focal"]]
    marker = [s3["marker"]] if s3.get("marker") else []
    return unique(focal + [s3["outcome"]] + list(s3["moderators"]) + marker)


def survey_settings(config: Mapping, study: str) -> dict:
    """What a survey's validation step reads: the sheet and manifest paths, the measurement model of the
    surveyed constructs (scales and reverse keys; not the item texts), declared variables, exclusion
    rules, and the controls that must be usable in the analysis."""
    sc = config[study]
    constructs = survey_constructs(config, study)
    measurement = [
        {k: v for k, v in c.items() if k != "label"} | {"items": [{"id": i["id"]} for i in c["items"]]}
        for c in config["measurement"]
        if c["construct"] in constructs
    ]
    return {
        "study": study,
        "survey": sc["survey"],
        "manifest": config["data"]["manifest"],
        "id_column": sc["id_column"],
        "constructs": constructs,
        "measurement": measurement,
        "variables": list(sc.get("variables") or []),
        "ignore_columns": list(sc.get("ignore_columns") or []),
        "exclusions": sc.get("exclusions") or {},
        "controls": list(sc.get("controls") or []),
    }


@dataclass
class ValidationResult(StudyResult):
    """The analysed respondents, who was excluded and why, and the respondent flow."""

    study: str
    analysed: pd.DataFrame
    exclusions: pd.DataFrame
    flow: pd.DataFrame
    synthetic: bool

    def tables(self) -> list[Table]:
        code = code_of(apply_exclusions)
        return [
            Table(
                f"{self.study}_exclusions",
                self.exclusions,
                (
                    "Every excluded respondent: ID, line in the raw file, the rule that excluded them, its numbers, other rules they failed.",
                ),
                code,
            ),
            Table(
                f"{self.study}_flow",
                self.flow,
                ("Received, excluded by each rule (first failed rule counts), analysed.",),
                code,
            ),
        ]


def validate(settings: Mapping) -> ValidationResult:
    """Read, check, exclude and score one survey (settings: :func:`survey_settings`).

    ``analysed`` holds the analysed respondents with reverse-keyed items recoded and derived variables
    added; ``source_line`` keeps each respondent's line in the raw file.
    """
    model = MeasurementModel.from_config({"measurement": settings["measurement"]})
    path, manifest_path = settings["survey"], settings["manifest"]
    check_file(read_manifest(manifest_path), manifest_path, path)
    items = model.items_of(settings["constructs"])
    spec = SurveySpec.from_config(settings, items)
    sheet = read_sheet(path)
    typed = validate_survey(sheet, spec, model)
    ex = settings["exclusions"]
    blocks = {"+".join(b): model.items_of(b) for b in ((ex.get("straightlining") or {}).get("blocks") or [])}
    analysed, exclusions, flow = apply_exclusions(typed, spec.id_column, items, ex, blocks)
    if analysed.empty:
        counts = "; ".join(f"{s} {n}" for s, n in flow.itertuples(index=False))
        raise InputError(
            path,
            f"every respondent was excluded ({counts}); no one is left to analyse",
            "check the exclusion rules under "
            + f"{settings['study']}.exclusions (e.g. the attention check's pass_values) against the data",
        )
    analysed = recode_reverse(analysed, model, items)
    _check_controls(analysed, settings, path)
    return ValidationResult(settings["study"], analysed, exclusions, flow, raw_inputs_synthetic(manifest_path, [path]))


def _check_controls(analysed: pd.DataFrame, settings: Mapping, path) -> None:
    """A study's controls must be usable over the analysed respondents: finite, not constant, not
    collinear. Checked here so that every analysis job sees the same, named, cause."""
    from crfm.stats.regression import check_predictors

    controls = settings["controls"]
    if not controls:
        return
    data = analysed[controls].dropna()
    if data.empty:
        answered = {c: int(analysed[c].notna().sum()) for c in controls}
        fewest = min(controls, key=lambda c: answered[c])
        raise InputError(
            path,
            f"no analysed respondent has every control ({', '.join(controls)}) answered; answered per control: "
            + ", ".join(f"{c} {n}" for c, n in answered.items()),
            f"fill in the controls (first '{fewest}') or drop one from {settings['study']}.controls",
            column=fewest,
        )
    try:
        check_predictors(data, controls)
    except AnalysisError as exc:
        culprits = list(getattr(exc, "variables", [])) or controls
        problem = str(exc).split(". Fix:")[0]
        raise InputError(
            path,
            f"{problem} (over the {len(data)} analysed respondents with every control answered)",
            f"drop {' or '.join(repr(c) for c in culprits)} from {settings['study']}.controls, or correct the data",
            column=culprits[0],
        ) from None
