"""Shared start-up of the workflow scripts: find the crfm library, log to the rule's log file, hand the
library the rule's settings, write its result tables, and turn library errors into one clear line on
stderr and a non-zero exit (no traceback noise)."""

import logging
import sys
from pathlib import Path

# This workflow's own library first: Snakemake hands scripts the parent's sys.path, in which an installed
# crfm (e.g. `pip install -e` of another checkout) can come before this copy's src/.
SRC = Path(__file__).resolve().parents[2] / "src"
if sys.path[:1] != [str(SRC)]:
    sys.path.insert(0, str(SRC))


class Context:
    """What a script needs besides its inputs: the rule's settings, the synthetic label, a writer."""

    def __init__(self, smk, log):
        from crfm.workflow import rule_settings_checked

        self.smk, self.log = smk, log
        self.rule = smk.rule
        self.settings = rule_settings_checked(smk.rule, smk.config, smk.params.get("settings"))

    @property
    def synthetic(self) -> bool:
        """Synthetic when any input is (the label follows the data through the DAG)."""
        from crfm.data.manifest import any_synthetic

        return any_synthetic(_paths(self.smk.input))

    def write(self, result, *, synthetic=None, outputs=None) -> None:
        """Write every table of a :class:`crfm.studies.base.StudyResult` to the output named after it
        (``results/.../<table name>.csv``), with the banner, the producer lines and the notes."""
        from crfm.data.tables import Producer, write_table
        from crfm.workflow import rules_file

        synthetic = self.synthetic if synthetic is None else synthetic
        by_stem = {
            Path(p).stem: p for p in _paths(outputs if outputs is not None else self.smk.output) if p.endswith(".csv")
        }
        for t in result.tables():
            if t.name not in by_stem:
                raise KeyError(f"rule {self.rule} computed table '{t.name}' but declares no output for it")
            if t.frame.shape[1] == 0:
                raise ValueError(f"rule {self.rule}: table '{t.name}' has no column (a placeholder, not a result)")
            producer = Producer(self.rule, rules_file(self.rule), t.code)
            write_table(t.frame, by_stem[t.name], synthetic=synthetic, index=t.index, notes=t.notes, producer=producer)

    def write_frame(self, frame, path, *, notes=(), code="", synthetic=None) -> None:
        """Write an intermediate data file (validated data, analysis frame, shard) like a table."""
        from crfm.data.tables import Producer, write_table
        from crfm.workflow import rules_file

        synthetic = self.synthetic if synthetic is None else synthetic
        write_table(
            frame, path, synthetic=synthetic, notes=notes, producer=Producer(self.rule, rules_file(self.rule), code)
        )

    def write_json(self, obj, path, *, synthetic=None) -> None:
        from crfm.data.tables import write_json

        write_json(obj, path, synthetic=self.synthetic if synthetic is None else synthetic)

    def read(self, path, **kwargs):
        from crfm.data.tables import read_table

        return read_table(path, **kwargs)


def _paths(named):
    out = []
    for x in named:
        out.extend(x if isinstance(x, list) else [x])
    return [str(p) for p in out]


def run(snakemake, main) -> None:
    """Call ``main(smk, ctx)``; on a CRFMError print its message and exit 1."""
    from crfm.errors import CRFMError

    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    # Third-party chatter stays out; our own INFO goes in.
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )
    logging.getLogger("crfm").setLevel(logging.INFO)
    log = logging.getLogger(f"crfm.{snakemake.rule}")
    try:
        main(snakemake, Context(snakemake, log))
    except CRFMError as exc:
        log.error("%s", _bounded(str(exc)))
        sys.exit(1)


def _bounded(text: str, limit: int = 2000) -> str:
    """Error messages are bounded and one line: a hostile input must not produce a megabyte of output
    or drive the terminal. The start and the end (the "Fix:") are kept."""
    from crfm.errors import bounded, printable

    return bounded(printable(text), limit)
