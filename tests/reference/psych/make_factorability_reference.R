# Reference numbers for the factorability checks of crfm.stats.psychometrics (tests/test_psychometrics.py):
# psych::KMO (per-item MSA and overall) and psych::cortest.bartlett on Holzinger & Swineford (1939) x1..x9.
#
# Rerun from the repository root (R with psych and jsonlite, Debian: r-base-core r-cran-psych r-cran-jsonlite):
#   Rscript tests/reference/psych/make_factorability_reference.R
# It (re)writes tests/reference/psych/factorability_reference.json.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
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
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/psych/factorability_reference.json")
