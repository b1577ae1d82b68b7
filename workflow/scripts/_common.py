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
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    log = logging.getLogger(f"crfm.{snakemake.rule}")
    try:
        main(snakemake, log)
    except CRFMError as exc:
        log.error("%s", exc)
        sys.exit(1)
