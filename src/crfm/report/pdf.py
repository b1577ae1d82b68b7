"""appendix.pdf: typeset from appendix.tex by pdfLaTeX when TeX is installed, else set from the HTML.

The LaTeX appendix is the best-looking output (contents, lists of tables and figures, longtables whose
titles never part from their heads, figures at print size), so the PDF is that file typeset by
``pdflatex``, run until its cross-references settle (at most five passes; ``latexmk`` does the same).
Where no TeX is installed the pipeline still makes a PDF: xhtml2pdf (pure Python, pinned) sets the
HTML appendix. The PDF names its engine in its colophon and its ``/Producer``; the rule's log too.

Both routes are byte-reproducible. pdfTeX: ``SOURCE_DATE_EPOCH`` with ``FORCE_SOURCE_DATE=1`` fix every
date TeX could print, and the template's ``\\pdfinfoomitdate``, ``\\pdftrailerid{}`` and
``\\pdfsuppressptexinfo`` keep dates, the file ID and the engine banner out of the file; the job runs in
a private temporary directory, so no path of the machine enters it. xhtml2pdf: ReportLab's invariant mode.

``CRFM_PDF_ENGINE`` (``auto``, the default; ``pdflatex``; ``xhtml2pdf``) forces a route (tests use it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from crfm.errors import CRFMError

ENGINES = ("auto", "pdflatex", "xhtml2pdf")
SOURCE_DATE_EPOCH = "1483228800"  # 2017-01-01, the paper's year: any fixed date makes the same bytes
MAX_PASSES = 5


@dataclass(frozen=True)
class Engine:
    name: str  # 'pdflatex' or 'xhtml2pdf'
    path: str | None
    version: str  # e.g. 'pdfTeX 3.141592653-2.6-1.40.24 (TeX Live 2022/Debian)'


def choose_engine(env=None) -> Engine:
    """pdflatex when it is on PATH (and not switched off), else xhtml2pdf."""
    env = os.environ if env is None else env
    wanted = env.get("CRFM_PDF_ENGINE", "auto").strip().lower() or "auto"
    if wanted not in ENGINES:
        raise CRFMError(f"CRFM_PDF_ENGINE={wanted!r} is not one of {', '.join(ENGINES)}")
    tex = shutil.which("pdflatex") if wanted in ("auto", "pdflatex") else None
    if tex:
        return Engine("pdflatex", tex, tex_version(tex))
    if wanted == "pdflatex":
        raise CRFMError(
            "CRFM_PDF_ENGINE=pdflatex but pdflatex is not installed (.ci/install-appendix-deps.sh installs TeX Live)"
        )
    from importlib.metadata import version

    return Engine("xhtml2pdf", None, f"xhtml2pdf {version('xhtml2pdf')}")


def tex_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "pdfTeX"
    first = out.splitlines()[0] if out else "pdfTeX"
    return first.strip()


def tex_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXMF", "TEXINPUTS"))}
    env.update(SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, FORCE_SOURCE_DATE="1", TZ="UTC", LC_ALL="C")
    return env


def typeset_tex(tex_path, out_pdf, engine: Engine, *, figures_dir) -> int:
    """Typeset ``tex_path`` with pdflatex in a temporary copy of its folder (the figures it includes
    copied beside it as ``../figures``); passes until the .aux stops changing. Returns the passes."""
    tex_path, out_pdf = Path(tex_path), Path(out_pdf)
    with tempfile.TemporaryDirectory(prefix="crfm-tex-") as tmp:
        work = Path(tmp) / "appendix"
        work.mkdir()
        shutil.copy2(tex_path, work / "appendix.tex")
        shutil.copytree(figures_dir, Path(tmp) / "figures")
        banner = re.sub(r"[^A-Za-z0-9 .()/+-]", "", engine.version)
        cmd = [
            engine.path,
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-file-line-error",
            r"\def\crfmPdfEngine{" + banner + r"}\input{appendix.tex}",
        ]
        previous, passes = None, 0
        for passes in range(1, MAX_PASSES + 1):  # noqa: B007 (passes is reported after the loop)
            res = subprocess.run(
                cmd, cwd=work, env=tex_env(), capture_output=True, text=True, errors="replace", timeout=600
            )
            if res.returncode != 0:
                errors = [line for line in res.stdout.splitlines() if line.startswith(("!", "./appendix.tex:"))]
                raise CRFMError(
                    "pdflatex could not typeset appendix.tex: " + " | ".join(errors[:5] or [res.stdout[-800:]])
                )
            aux = (
                (work / "appendix.aux").read_bytes() + (work / "appendix.toc").read_bytes()
                if (work / "appendix.toc").exists()
                else b""
            )
            if aux == previous and "Rerun" not in res.stdout:
                break
            previous = aux
        out_pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "appendix.pdf", out_pdf)
    return passes
