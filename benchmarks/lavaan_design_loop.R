# The lavaan side of the design-analysis benchmark (benchmarks/run_benchmarks.py writes the data).
#
#   Rscript benchmarks/lavaan_design_loop.R <samples.csv> <model.lav> <out.json>
#
# samples.csv: one row per simulated respondent, columns `replicate`, `n`, then the items; every
# replicate is one sample of the design analysis's Study 2 (the same numbers the project fits).
# For each replicate, in file order: cfa(model, data) with lavaan's defaults (ML, marker variable,
# expected information), then fitMeasures() of chi-square, df, CFI, TLI, RMSEA and SRMR, the loop
# simsem runs per replication. The timer covers the loop only (not reading the file).
# Writes per-replicate chi-square and the fit time, so the Python side can check that both
# programs fitted the same model to the same data before it compares speeds.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: lavaan_design_loop.R <samples.csv> <model.lav> <out.json>")
samples <- read.csv(args[1], check.names = FALSE)
model <- paste(readLines(args[2]), collapse = "\n")
items <- setdiff(names(samples), c("replicate", "n"))
reps <- unique(samples$replicate)
parts <- split(samples[, items], factor(samples$replicate, levels = reps))

# warm-up: the first fit pays for byte-compiling lavaan's closures
invisible(fitMeasures(cfa(model, data = parts[[1]]), c("chisq", "df", "cfi", "tli", "rmsea", "srmr")))

chisq <- numeric(length(parts))
seconds <- numeric(length(parts))
start <- proc.time()[["elapsed"]]
for (k in seq_along(parts)) {
  t0 <- proc.time()[["elapsed"]]
  fit <- cfa(model, data = parts[[k]])
  fm <- fitMeasures(fit, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))
  chisq[k] <- fm[["chisq"]]
  seconds[k] <- proc.time()[["elapsed"]] - t0
}
total <- proc.time()[["elapsed"]] - start

n_of <- tapply(samples$n, factor(samples$replicate, levels = reps), function(v) v[1])
out <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  r_version = R.version.string,
  fits = length(parts),
  seconds = total,
  fits_per_second = length(parts) / total,
  replicate = reps,
  n = as.integer(n_of),
  chisq = chisq,
  fit_seconds = seconds
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), args[3])
