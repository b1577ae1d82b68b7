# Shared set-up: config validation before any job runs, and the input functions (get_*).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from crfm.config import check_config, validate_schema  # noqa: E402

validate_schema(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
MODEL = check_config(config)

ENV = "../../envs/crfm.yaml"


def study_settings(study):
    """The config a study's rules depend on, passed as params so that editing it reruns them."""
    keys = ["data", "measurement", "second_order", study]
    if study == "study3":
        keys.append("study2")
    return {k: config.get(k) for k in keys if k in config}


def get_manifest():
    return config["data"]["manifest"]


def get_survey(study):
    return [config[study]["survey"], get_manifest()]


def get_study1_raw():
    s1 = config["study1"]
    files = [s1["interviews"], s1["codebook"], get_manifest()]
    files.append(
        s1["qdpx"] if s1.get("source", "segments") == "qdpx" else s1["segments"]
    )
    return files


def get_study_outputs(study):
    return {
        "study1": STUDY1_OUTPUTS,
        "study2": STUDY2_OUTPUTS,
        "study3": STUDY3_OUTPUTS,
    }[study]


def get_final_outputs():
    return [f for study in config["studies"] for f in get_study_outputs(study)]
