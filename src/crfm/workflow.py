"""Glue between the Snakemake workflow and the library (the top of the stack: it sees every layer).

Every rule reads exactly ``rule_settings(rule, config)``: the study rules' settings come from the
registry (:mod:`crfm.studies`), the appendix rules' from :data:`APPENDIX_SETTINGS`. The rule's only
parameter is the digest of those settings (so what reruns a rule is what it reads), and its script
checks the digest before handing the settings to the library (:func:`rule_settings_checked`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crfm.data.config import MeasurementModel, check_config, load_yaml, validate_schema
from crfm.errors import ConfigError
from crfm.studies import owner, registry
from crfm.studies.base import settings_digest

__all__ = [
    "APPENDIX_SETTINGS",
    "check_workflow_config",
    "load_config",
    "rule_settings",
    "rule_digest",
    "rule_settings_checked",
    "rules_file",
]


def study_sections() -> dict:
    """The config schema of every registered study's section."""
    return {sid: s.config_schema for sid, s in registry().items() if s.config_schema}


def check_workflow_config(config: dict, schema_path) -> MeasurementModel:
    """The whole config check of a run: the schema with every registered study's section, the
    cross-references (:func:`crfm.data.config.check_config`), and every listed study registered."""
    validate_schema(config, schema_path, study_sections())
    for k, sid in enumerate(config["studies"]):
        if sid not in registry():
            raise ConfigError(
                f"studies[{k}]",
                f"'{sid}' is not a registered study",
                f"use one of {list(registry())} (a study is a module crfm/studies/<id>.py defining STUDY)",
            )
    return check_config(config)


def load_config(path, schema_path) -> tuple[dict, MeasurementModel]:
    config = load_yaml(path)
    return config, check_workflow_config(config, schema_path)


APPENDIX_RULES_FILE = "workflow/rules/appendix.smk"


def _numbers_settings(config: Mapping) -> dict:
    keys = ("studies", "measurement", "second_order", *registry())
    return {k: config[k] for k in keys if k in config and k not in ("design",)}


def _display_settings(config: Mapping) -> dict:
    """What the reader-facing names come from: construct labels, the second-order factor, the surveys'
    ID columns and variables (crfm.report.labels.Labels.from_config)."""
    out = {k: config[k] for k in ("measurement", "second_order") if k in config}
    for sid in ("study2", "study3"):
        if sid in config and sid in config.get("studies", ()):
            sc = config[sid]
            out[sid] = {k: sc[k] for k in ("id_column", "variables") if k in sc}
    return out


APPENDIX_SETTINGS: dict[str, Callable[[Mapping], dict]] = {
    "appendix_numbers": _numbers_settings,
    "appendix_tables": _display_settings,
    "appendix_provenance": lambda config: dict(config),
    "appendix_document": _display_settings,
    "appendix_pdf": _display_settings,
    "appendix_macros": lambda config: {},
}


def rule_settings(rule: str, config: Mapping) -> dict:
    """What ``rule`` reads from the configuration."""
    if rule in APPENDIX_SETTINGS:
        return APPENDIX_SETTINGS[rule](config)
    return owner(rule).settings[rule](config)


def rule_digest(rule: str, config: Mapping) -> str:
    return settings_digest(rule_settings(rule, config))


def rule_settings_checked(rule: str, config: Mapping, digest: str | None) -> dict:
    """The rule's settings, after checking that they are the ones its ``params.settings`` digest
    stands for (a rule can then never read something that does not rerun it)."""
    settings = rule_settings(rule, config)
    if digest is not None and settings_digest(settings) != digest:
        raise RuntimeError(f"rule {rule}: its settings changed after the DAG was built (digest mismatch)")
    return settings


def rules_file(rule: str) -> str:
    """The ``.smk`` file that defines ``rule``."""
    if rule in APPENDIX_SETTINGS:
        return APPENDIX_RULES_FILE
    try:
        return owner(rule).rules_file
    except KeyError:
        return ""
