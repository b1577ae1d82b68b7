# Shared set-up: the config checked before any job runs, the registry of studies, the run's results
# folder, and the input functions (get_*).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from crfm.data.config import check_config_files  # noqa: E402
from crfm.errors import ConfigError  # noqa: E402

# The whole check runs in the Snakemake that plans the run; a job's own Snakemake (a cluster job, a
# group member) reads the same, already checked config and skips it (a second or so per job).
if workflow.is_main_process:
    try:
        # Snakemake merges config/config.yaml and every --configfile keeping the last of a key given
        # twice without a word: each file is read again, strictly, first.
        check_config_files(
            [*workflow.configfiles, *(workflow.overwrite_configfiles or [])]
        )
        from crfm.workflow import check_workflow_config

        check_workflow_config(
            config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
        )
    except ConfigError as exc:
        # One line naming the key and the fix; no traceback into the rules files.
        sys.exit(f"ConfigError: {exc}")

from crfm.data.manifest import SHIPPED_MANIFEST  # noqa: E402
from crfm.studies import needed_studies, registry  # noqa: E402
from crfm.workflow import rule_digest  # noqa: E402

ENV = "../../envs/crfm.yaml"
STUDIES = registry()
# The configured studies and those their rules read from (Study 3 reads Study 2's retained items).
NEEDED = needed_studies(config["studies"])
# Every output of a configuration goes under results/<run>/ (config key `run`), so an own-data run
# never mixes with the shipped results.
RESULTS = f"results/{config['run']}"


def settings(rule):
    """A rule's only parameter: the digest of what it reads from the config (crfm.workflow)."""
    return rule_digest(rule, config)


def configured(study_id):
    return study_id in config["studies"]


def get_manifest():
    return config["data"]["manifest"]


def get_shipped_manifest():
    """The shipped manifest: its checksums say which raw files are the shipped synthetic ones."""
    return [SHIPPED_MANIFEST] if Path(SHIPPED_MANIFEST).is_file() else []


def get_raw(study_id):
    """A study's raw inputs (crfm.studies registry), the manifest, and the shipped manifest."""
    return [
        *STUDIES[study_id].raw_inputs(config),
        get_manifest(),
        *get_shipped_manifest(),
    ]


def get_study1_survey(wildcards):
    """Study 2's sheet, whose columns must hold Study 1's item pool (when Study 2 is configured)."""
    return {"survey": config["study2"]["survey"]} if "study2" in config else {}


def get_study1_qdpx():
    """The REFI-QDA export, rebuilt and compared when both it and the CSV segments are given."""
    s1 = config.get("study1", {})
    return (
        s1["qdpx"]
        if s1.get("qdpx") and s1.get("source", "segments") == "segments"
        else []
    )


def study_tables(study_id):
    return STUDIES[study_id].tables(config)


def study_outputs(study_id):
    """Every file of a study that the default target asks for: tables, figures (PNG and PDF), summaries."""
    s = STUDIES[study_id]
    out = [f"{RESULTS}/tables/{t}.csv" for t in s.tables(config)]
    out += [
        f"{RESULTS}/figures/{f}.{ext}"
        for f in s.figures(config)
        for ext in ("png", "pdf")
    ]
    out += [f"{RESULTS}/{p}" for p in [*s.summaries.values(), *s.files]]
    return out


def get_all_study_outputs():
    return [f for sid in STUDIES if configured(sid) for f in study_outputs(sid)]


def get_final_outputs():
    """The default target: every configured study's outputs, then the appendix over them."""
    return get_all_study_outputs() + get_appendix_outputs()


def get_appendix_outputs():
    return [
        f"{RESULTS}/numbers.json",
        f"{RESULTS}/numbers.tex",
        f"{RESULTS}/provenance.json",
        f"{RESULTS}/appendix/appendix.html",
        f"{RESULTS}/appendix/appendix.tex",
        f"{RESULTS}/appendix/appendix.pdf",
    ]


def get_table_names():
    """Every table of the configured studies, in registry order."""
    return [t for sid in STUDIES if configured(sid) for t in study_tables(sid)]


def get_tables(wildcards=None):
    return [f"{RESULTS}/tables/{t}.csv" for t in get_table_names()]


def get_figure_names():
    return [
        f for sid in STUDIES if configured(sid) for f in STUDIES[sid].figures(config)
    ]


def get_rendered_tables(ext):
    folder = {"html": "html", "tex": "latex"}[ext]
    return [f"{RESULTS}/tables/{folder}/{t}.{ext}" for t in get_table_names()]


def get_figures(ext):
    return [f"{RESULTS}/figures/{f}.{ext}" for f in get_figure_names()]


def get_summaries(wildcards=None):
    """The JSON summaries numbers.json reads, by key (the rest comes from the tables)."""
    return {
        key: f"{RESULTS}/{path}"
        for sid in STUDIES
        if configured(sid)
        for key, path in STUDIES[sid].summaries.items()
    }


def get_raw_inputs():
    """Every raw input of the configured studies, and the manifest (provenance records them)."""
    return sorted({f for sid in STUDIES if configured(sid) for f in get_raw(sid)})


def get_templates():
    """The appendix templates: inputs, so that editing one rebuilds the appendix."""
    root = Path(workflow.basedir) / "workflow/templates"
    return sorted(str(p) for p in root.rglob("*.j2"))


def report_labels(name):
    """Number and title of a table or figure as the Snakemake report shows them (from the specs)."""
    from crfm.report.specs import report_labels as labels

    return labels(name, get_table_names(), get_figure_names())


BIB = "workflow/templates/references.bib"


def rendered_table_reports():
    """Each rendered table (an HTML page) as a report item of its study, numbered and titled as in the
    appendix."""
    from crfm.report.specs import report_category, study_of

    return {
        f"html_{t}": report(
            f"{RESULTS}/tables/html/{t}.html",
            caption="../report/table.rst",
            category=report_category(study_of(t)),
            subcategory="Tables",
            labels=report_labels(t),
        )
        for t in get_table_names()
    }
