"""Writes the data and the lavaan syntax of Study 3's latent moderated SEM, built by the pipeline's own
functions from the shipped (SYNTHETIC) raw inputs, for the lavaan reference in references.R.

Run from the repository root:  python tests/reference/lavaan/make_study3_sem.py [OUT_DIR]
It (re)writes tests/data/study3_sem_data.csv and tests/reference/lavaan/study3_sem_model.txt (given
OUT_DIR: OUT_DIR/study3_sem_data.csv and OUT_DIR/study3_sem_model.txt, and no file of the repository
changes); then `Rscript tests/reference/lavaan/references.R` fits the same model with lavaan (cases
study3_sem_*; it reads the two files from their places in the repository).
tests/test_sem_study3.py checks that the pipeline still builds exactly these data.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "src"))

DATA = ROOT / "tests/data/study3_sem_data.csv"
SYNTAX = ROOT / "tests/reference/lavaan/study3_sem_model.txt"


def build():
    """(data, syntax) of the SEM for the first moderator, from the shipped inputs and config."""
    from crfm.data.config import MeasurementModel
    from crfm.studies import study2, study3
    from crfm.studies.survey import read_retained, survey_settings, validate
    from crfm.workflow import load_config, rule_settings

    config, _ = load_config(ROOT / "config/config.yaml", ROOT / "workflow/schemas/config.schema.yaml")
    s2 = rule_settings("study2_explore", config)
    df2 = validate(survey_settings(config, "study2")).analysed
    retained = read_retained(study2.explore(df2, s2, MeasurementModel.from_config(s2)).retained)
    s3 = rule_settings("study3_measurement", config)
    df3 = validate(survey_settings(config, "study3")).analysed
    model = MeasurementModel.from_config(s3)
    frame = study3.measurement(df3, s3, model, retained).frame
    settings = rule_settings("study3_sem", config)
    constructs = study3.study_constructs(settings, model, retained)
    data, syntax, _, _ = study3.sem_model(df3, frame, settings, constructs, settings["study3"]["moderators"][0])
    return data, syntax


def main(argv: list[str]) -> None:
    import os

    out_dir = Path(argv[0]).resolve() if argv else None
    data_path = out_dir / DATA.name if out_dir else DATA
    syntax_path = out_dir / SYNTAX.name if out_dir else SYNTAX
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    data, syntax = build()
    data_path.write_text(
        "# SYNTHETIC DATA: the data of Study 3's latent moderated SEM, built by the pipeline from the shipped synthetic inputs (tests/reference/lavaan/make_study3_sem.py)\n"
        + data.to_csv(index=False, float_format="%.17g", lineterminator="\n"),
        encoding="utf-8",
    )
    syntax_path.write_text(syntax + "\n", encoding="utf-8")
    print(f"wrote {data_path} ({len(data)} rows, {data.shape[1]} columns) and {syntax_path}")


if __name__ == "__main__":
    main(sys.argv[1:])
