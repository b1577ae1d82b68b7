# Reference numbers for the factorability checks of crfm.stats.psychometrics (tests/test_psychometrics.py):
# psych::KMO (per-item MSA and overall) and psych::cortest.bartlett on Holzinger & Swineford (1939) x1..x9.
#
# Rerun from the repository root (R with psych and jsonlite, Debian: r-base-core r-cran-psych r-cran-jsonlite):
#   Rscript tests/reference/psych/make_factorability_reference.R [OUTPUT]
# It (re)writes tests/reference/psych/factorability_reference.json, or OUTPUT if given (a file path,
# or an existing directory to write factorability_reference.json into).
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/reference/psych/factorability_reference.json"
if (dir.exists(out_path)) out_path <- file.path(out_path, "factorability_reference.json")
hs <- read.csv("tests/data/hs1939.csv")[, paste0("x", 1:9)]
k <- psych::KMO(hs)
b <- psych::cortest.bartlett(cor(hs), n = nrow(hs))
out <- list(
  generated_by = "tests/reference/psych/make_factorability_reference.R",
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  data = "tests/data/hs1939.csv, x1..x9, N = 301",
  kmo = list(overall = unname(k$MSA), per_item = as.list(k$MSAi)),
  bartlett = list(chi2 = unname(b$chisq), df = unname(b$df), p = unname(b$p.value))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_path)
