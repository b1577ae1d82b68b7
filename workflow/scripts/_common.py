"""Shared start-up for the workflow scripts: find the crfm library, log to the rule's log file, and
turn library errors into one clear line on stderr and a non-zero exit (no traceback noise)."""

import logging
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def run(snakemake, main) -> None:
    """Call ``main(snakemake, log)``; on a CRFMError print its message and exit 1."""
    from crfm.errors import CRFMError

    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    # Third-party chatter (semopy logs at INFO on the root logger) stays out; our own INFO goes in.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    logging.getLogger("crfm").setLevel(logging.INFO)
    log = logging.getLogger(f"crfm.{snakemake.rule}")
    try:
        main(snakemake, log)
    except CRFMError as exc:
        log.error("%s", exc)
        sys.exit(1)


def study_context(smk, study: str):
    """What every analysis script of a survey study starts from: config, settings, the synthetic flag,
    the measurement model, a reader that keeps IDs as text and, when the rule has it as input, Study 2's
    retained items."""
    from types import SimpleNamespace

    from crfm.data.config import MeasurementModel
    from crfm.data.tables import read_table
    from crfm.studies.steps import is_synthetic
    from crfm.studies.study3 import read_retained

    config = smk.config
    id_col = config[study]["id_column"]
    return SimpleNamespace(
        config=config,
        synthetic=is_synthetic(config),
        model=MeasurementModel.from_config(config),
        read=lambda path: read_table(path, dtype={id_col: str}),
        retained=read_retained(read_table(smk.input.retained)) if "retained" in smk.input.keys() else None,
    )
