# Shared set-up: config validation before any job runs, and the input functions (get_*).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from crfm.data.config import check_config, validate_schema  # noqa: E402

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
    if study == "study1":
        return get_study1_outputs()
    return {
        "study2": STUDY2_OUTPUTS,
        "study3": STUDY3_OUTPUTS,
        "design": DESIGN_OUTPUTS,
    }[study]


def get_final_outputs():
    """The default target: every configured study's outputs, then the appendix over them."""
    return get_all_study_outputs() + get_appendix_outputs()


def get_all_study_outputs():
    return [f for study in config["studies"] for f in get_study_outputs(study)]


# --- Study 1 ---

STUDY1_TABLES = [
    "informants",
    "coding_summary",
    "dimension_by_company",
    "code_company_share",
    "saturation",
    "cooccurrence",
    "reliability",
    "reliability_by_code",
    "traceability",
]
STUDY1_FIGURES = ["code_heatmap", "saturation", "cooccurrence"]


def study1_table_names():
    if config.get("study1", {}).get("reliability", True):
        return STUDY1_TABLES
    return [t for t in STUDY1_TABLES if not t.startswith("reliability")]


def get_study1_outputs():
    out = expand("results/tables/study1_{table}.csv", table=study1_table_names())
    out += expand(
        "results/figures/study1_{figure}.{ext}",
        figure=STUDY1_FIGURES,
        ext=["png", "pdf"],
    )
    out.append("results/study1/summary.json")
    if get_qdpx_crosscheck():
        out.append("results/tables/study1_qdpx_crosscheck.csv")
    return out


def get_qdpx_crosscheck():
    """Rebuild Study 1 from the .qdpx too when both sources are given."""
    s1 = config.get("study1", {})
    return bool(s1.get("qdpx")) and s1.get("source", "segments") == "segments"


def get_study1_survey(wildcards):
    """Study 2's sheet, whose columns must hold Study 1's item pool (when Study 2 is configured)."""
    return {"survey": config["study2"]["survey"]} if "study2" in config else {}


# --- Study 2 ---

STUDY2_EXPLORE_TABLES = [
    "item_analysis",
    "kmo",
    "factorability",
    "parallel_analysis",
    "efa_loadings",
    "efa_factor_correlations",
    "efa_variance",
    "purification",
]
STUDY2_CONFIRM_TABLES = [
    "fit",
    "comparisons",
    "loadings",
    "factor_correlations",
    "second_order_loadings",
    "reliability",
    "fornell_larcker",
    "htmt",
    "common_method",
    "scale_items",
]
STUDY2_OUTPUTS = (
    [
        "results/tables/study2_exclusions.csv",
        "results/tables/study2_flow.csv",
        "results/study2/retained_items.csv",
        "results/study2/explore_summary.json",
        "results/study2/summary.json",
    ]
    + expand(
        "results/tables/study2_{t}.csv", t=STUDY2_EXPLORE_TABLES + STUDY2_CONFIRM_TABLES
    )
    + expand(
        "results/figures/study2_{f}.{ext}",
        f=["scree", "efa_loadings"],
        ext=["png", "pdf"],
    )
)


# --- Study 3 ---

STUDY3_REGRESSION_TABLES = [
    "coefficients",
    "summary",
    "vif",
    "dimension_coefficients",
    "dimension_summary",
    "indicator_models",
    "simple_slopes",
    "johnson_neyman",
]


def study3_measurement_tables():
    tables = [
        "measurement_fit",
        "measurement_loadings",
        "second_order_loadings",
        "reliability",
        "htmt",
        "descriptives",
        "correlations",
    ]
    if config.get("study3", {}).get("marker"):
        tables.append("marker")
    return tables


def get_retained_items():
    """Study 2's retained items: the DAG edge between the two surveys."""
    return "results/study2/retained_items.csv"


STUDY3_OUTPUTS = (
    [
        "results/tables/study3_exclusions.csv",
        "results/tables/study3_flow.csv",
        "results/tables/study3_bootstrap_ci.csv",
        "results/tables/study3_sem_paths.csv",
        "results/tables/study3_sem_fit.csv",
        "results/tables/study3_hypotheses.csv",
        "results/study3/summary.json",
    ]
    + expand(
        "results/tables/study3_{t}.csv",
        t=study3_measurement_tables() + STUDY3_REGRESSION_TABLES,
    )
    + expand(
        "results/figures/study3_{f}.{ext}",
        f=["interaction", "johnson_neyman"],
        ext=["png", "pdf"],
    )
)


# --- Design analysis ---


def design_settings_params():
    """What the simulation depends on (rerun when it changes)."""
    keys = ["design", "population", "measurement", "second_order", "study3"]
    return {k: config.get(k) for k in keys}


DESIGN_OUTPUTS = [
    "results/tables/design_power.csv",
    "results/tables/design_recovery.csv",
    "results/tables/design_convergence.csv",
    "results/figures/design_power.png",
    "results/figures/design_power.pdf",
]


# --- Appendix: numbers.json, rendered tables, appendix.{html,tex,pdf}, provenance ---

APPENDIX_OUTPUTS = [
    "results/numbers.json",
    "results/provenance.json",
    "results/appendix/appendix.html",
    "results/appendix/appendix.tex",
    "results/appendix/appendix.pdf",
]


def get_appendix_outputs():
    return APPENDIX_OUTPUTS


def get_table_names():
    """Every table of the configured studies (the stems of their CSVs), sorted."""
    return sorted(
        Path(f).stem
        for f in get_all_study_outputs()
        if f.startswith("results/tables/") and f.endswith(".csv")
    )


def get_figure_names():
    return sorted(
        {
            Path(f).stem
            for f in get_all_study_outputs()
            if f.startswith("results/figures/") and f.endswith(".png")
        }
    )


def get_rendered_tables(ext):
    folder = {"html": "html", "tex": "latex"}[ext]
    return expand(f"results/tables/{folder}/{{t}}.{ext}", t=get_table_names())


def get_figures(ext):
    return expand(f"results/figures/{{f}}.{ext}", f=get_figure_names())


def get_summaries(wildcards=None):
    """The summary files numbers.json reads, by key (the rest comes from the tables)."""
    out = {}
    if "study1" in config["studies"]:
        out["study1"] = "results/study1/summary.json"
    if "study2" in config["studies"]:
        out["study2_explore"] = "results/study2/explore_summary.json"
    return out


def get_raw_inputs():
    """Every raw input of the configured studies (sheets, codebook, REFI-QDA export, manifest)."""
    files = [get_manifest()]
    if "study1" in config["studies"]:
        files += get_study1_raw()
        if get_qdpx_crosscheck():
            files.append(config["study1"]["qdpx"])
    for study in ("study2", "study3"):
        if study in config["studies"]:
            files += get_survey(study)
    return sorted(set(files))


def get_templates():
    """The appendix templates: inputs, so that editing one rebuilds the appendix."""
    root = Path(workflow.basedir) / "workflow/templates"
    return sorted(str(p) for p in root.rglob("*.j2"))


def appendix_settings():
    """The config the appendix's numbers depend on (labels, thresholds, hypotheses)."""
    keys = [
        "studies",
        "data",
        "measurement",
        "second_order",
        "study1",
        "study2",
        "study3",
    ]
    return {k: config.get(k) for k in keys if k in config}
