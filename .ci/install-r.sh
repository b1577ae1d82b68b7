#!/usr/bin/env bash
# R and the packages the reference scripts use (tests/reference/*/; tests/test_reference_scripts.py
# reruns them and compares with the committed JSON; with CI=true a missing R fails, not skips):
# lavaan 0.6-14, semTools, psych 2.2.9, GPArotation and jsonlite, as Debian 12 packages. The pipeline
# itself never calls R.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
    r-base-core r-cran-lavaan r-cran-semtools r-cran-psych r-cran-gparotation r-cran-jsonlite
Rscript -e 'cat(R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")'
