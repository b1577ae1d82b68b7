#!/usr/bin/env bash
# System tools the appendix tests need (tests/test_appendix_workflow.py; with CI=true they fail, not
# skip, when a tool is missing):
#   chromium          renders the HTML appendix headless (every figure loaded, every table present)
#   poppler-utils     pdfinfo / pdftotext check the PDF appendix (pages, table titles)
#   texlive-*         pdflatex typesets appendix.pdf and compiles appendix.tex / docs/manuscript_example.tex
#                     (booktabs, longtable, caption, mathptmx, hyperref); bibtex checks references.bib
# The pipeline itself needs none of them: without pdflatex its PDF falls back to xhtml2pdf (pip-installed).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    chromium poppler-utils \
    texlive-latex-base texlive-latex-recommended texlive-fonts-recommended
chromium --version || true
pdfinfo -v 2>&1 | head -1 || true
pdflatex --version | head -1
