#!/usr/bin/env bash
# R and the R packages the reference scripts of tests/reference/ need (Debian 12 packages: R 4.2.2,
# lavaan 0.6-14, semTools 0.5-6, psych 2.2.9, GPArotation 2022.10-2, jsonlite 1.8.4, the versions
# the committed references were made with). tests/test_reference_scripts.py reruns the scripts and
# compares with the committed JSON; with CI=true it fails, not skips, when R or a package is missing.
# The pipeline itself needs no R.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    r-base-core r-cran-lavaan r-cran-semtools r-cran-psych r-cran-gparotation r-cran-jsonlite
Rscript --version 2>&1 | head -1
