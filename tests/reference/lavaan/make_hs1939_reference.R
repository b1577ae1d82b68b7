# lavaan / psych / semTools reference numbers for Holzinger & Swineford (1939), the three-factor CFA
# (visual, textual, speed); read by the `ref` fixture of tests/conftest.py (tests/test_cfa.py,
# tests/test_psychometrics.py, tests/test_study2_workflow.py).
#
# Rerun from the repository root (R with lavaan, semTools and psych; Debian 12:
#   apt-get install -y --no-install-recommends r-base-core r-cran-lavaan r-cran-semtools r-cran-psych):
#   Rscript tests/reference/lavaan/make_hs1939_reference.R [OUTPUT.json]
# OUTPUT.json defaults to tests/data/lavaan_hs1939.json. Reads tests/data/hs1939.csv, which is
# lavaan::HolzingerSwineford1939 as written by write.csv(..., row.names = FALSE) (checked below).
# Generated with R 4.2.2, lavaan 0.6-14, psych 2.2.9, semTools 0.5-6 (the versions are in "source").
#
# What each key is (every fit with lavaan's defaults: ML, expected information, marker indicators):
#   ml_fit               fitMeasures(cfa(model)): chisq, df, pvalue, cfi, tli, rmsea, rmsea.ci.lower /
#                        .upper, srmr, logl, unrestricted.logl, aic, bic, npar, baseline.chisq / .df
#   mlr_fit              fitMeasures(cfa(model, estimator = "MLR")): chisq.scaled,
#                        chisq.scaling.factor, cfi.robust, tli.robust, rmsea.robust
#   std_loadings         standardizedSolution(ML fit) (type std.all): est.std of the =~ rows
#   std_loading_se_ml    ... and their delta-method standard errors (se)
#   factor_correlations  ... est.std of the latent covariances
#   cronbach_alpha_raw   psych::alpha(items)$total$raw_alpha per factor
#   composite_reliability_standardized, ave_standardized   the formulas in their "_formula" notes,
#                        on std_loadings at full precision
#   semtools_omega       semTools::compRelSEM(ML fit, obs.var = FALSE), i.e. the "omega" row of the
#                        deprecated semTools::reliability() (identical; checked below): the
#                        denominator is the model-implied variance of the sum score. (compRelSEM's
#                        default obs.var = TRUE, the observed variance, is "omega3": 0.612 for visual.)
#   semtools_ave         semTools::AVE(ML fit, obs.var = FALSE) (= reliability()'s "avevar"; checked
#                        below): model-implied indicator variances, as for semtools_omega. AVE()'s
#                        default obs.var = TRUE (sample variances) differs by < 1e-7 here and rounds to
#                        the same 6 decimals.
#   htmt_henseler2015    semTools::htmt(model, data, htmt2 = FALSE) (absolute Pearson correlations,
#                        arithmetic means; Henseler, Ringle & Sarstedt 2015), checked below against the
#                        formula computed directly
#   second_order         standardizedSolution of cfa(model + "g =~ visual + textual + speed"): est.std
#                        of the g =~ rows; fit_equals_first_order: the second-order model is
#                        just-identified at the factor level, so its chi-square and df equal the
#                        first-order model's (chi-square within 1e-6 relative)
# Rounding: round(x, 6); a value below 1e-4 in absolute size (only the ML p-value) to 7 significant
# digits (signif(x, 7)). Integers (n, df, npar) are written as integers. The file is written in the
# layout of Python's json.dumps(obj, indent = 1) (one-space indent, one array element per line, no
# final newline), the layout of the committed JSON.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(psych)
})

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/data/lavaan_hs1939.json"
csv_path <- "tests/data/hs1939.csv"
stopifnot(file.exists(csv_path))  # run from the repository root

# --- data: the shipped CSV must be lavaan's data set --------------------------------------------
hs <- read.csv(csv_path)
lav_hs <- lavaan::HolzingerSwineford1939
lav_hs$school <- as.character(lav_hs$school)
stopifnot(isTRUE(all.equal(hs, lav_hs, tolerance = 0, check.attributes = FALSE)))

# --- a JSON writer in the layout of Python's json.dumps(indent = 1) (base R only) ---------------
num <- function(x) {
  if (is.integer(x)) return(as.character(x))
  if (!is.finite(x)) stop("non-finite number")
  if (x == round(x) && abs(x) < 1e16) return(paste0(format(x, scientific = FALSE), ".0"))
  for (d in 1:17) {  # shortest decimal that reads back as the same double, as Python's repr
    s <- formatC(x, digits = d, format = "g")
    if (as.numeric(s) == x) break
  }
  gsub(" ", "", s)  # C's %g and Python's repr agree on exponents (8.502553e-09)
}
str_json <- function(s) paste0('"', gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", s)), '"')
to_json <- function(x, indent = "") {
  ind2 <- paste0(indent, " ")
  if (is.list(x) && !is.null(names(x))) {
    if (length(x) == 0) return("{}")
    items <- vapply(names(x), function(n) paste0(ind2, str_json(n), ": ", to_json(x[[n]], ind2)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
  }
  if (is.list(x) || length(x) != 1 || isTRUE(attr(x, "as_array"))) {
    x <- as.list(x)
    if (length(x) == 0) return("[]")
    items <- vapply(x, function(v) paste0(ind2, to_json(v, ind2)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  if (is.logical(x)) return(if (x) "true" else "false")
  if (is.character(x)) return(str_json(x))
  num(x)
}
arr <- function(v) { attr(v, "as_array") <- TRUE; v }
r6 <- function(x) {
  x <- unname(x)
  ifelse(abs(x) < 1e-4, signif(x, 7), round(x, 6))
}
named <- function(v, nm) as.list(setNames(r6(v), nm))

# --- fits ---------------------------------------------------------------------------------------
model <- "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
factors <- list(visual = paste0("x", 1:3), textual = paste0("x", 4:6), speed = paste0("x", 7:9))
pairs <- list(c("visual", "textual"), c("visual", "speed"), c("textual", "speed"))
pair_names <- vapply(pairs, paste, "", collapse = "-")

fit <- cfa(model, data = hs)
fit_mlr <- cfa(model, data = hs, estimator = "MLR")
stopifnot(lavInspect(fit, "converged"), lavInspect(fit_mlr, "converged"))
fm <- fitMeasures(fit)
fmr <- fitMeasures(fit_mlr)

ss <- as.data.frame(standardizedSolution(fit))
ld <- ss[ss$op == "=~", ]
std_l <- setNames(ld$est.std, ld$rhs)
std_se <- setNames(ld$se, ld$rhs)
lv_cor <- vapply(pairs, function(p) ss$est.std[ss$op == "~~" & ss$lhs == p[1] & ss$rhs == p[2]], 0)

# (psych::alpha prints "Number of categories should be increased ..." for continuous items: harmless)
alpha_raw <- vapply(factors, function(it) suppressMessages(psych::alpha(hs[, it]))$total$raw_alpha, 0)
cr <- vapply(factors, function(it) { l <- std_l[it]; sum(l)^2 / (sum(l)^2 + sum(1 - l^2)) }, 0)
ave <- vapply(factors, function(it) mean(std_l[it]^2), 0)

omega <- compRelSEM(fit, obs.var = FALSE)[names(factors)]
ave_st <- AVE(fit, obs.var = FALSE)[names(factors)]
old <- suppressWarnings(semTools::reliability(fit))
stopifnot(isTRUE(all.equal(unname(omega), unname(old["omega", names(factors)]), tolerance = 1e-12)),
          isTRUE(all.equal(unname(ave_st), unname(old["avevar", names(factors)]), tolerance = 1e-12)))

ht <- unclass(htmt(model, data = hs, htmt2 = FALSE))
ht_pairs <- vapply(pairs, function(p) ht[p[2], p[1]], 0)
# the same by Henseler et al. (2015), eq. 6: mean |r| between the blocks over the geometric mean of the
# mean |r| within each block
R <- abs(cor(hs[, unlist(factors)]))
within <- function(it) mean(R[it, it][lower.tri(diag(length(it)))])
ht_formula <- vapply(pairs, function(p) {
  mean(R[factors[[p[1]]], factors[[p[2]]]]) / sqrt(within(factors[[p[1]]]) * within(factors[[p[2]]]))
}, 0)
stopifnot(isTRUE(all.equal(ht_pairs, ht_formula, tolerance = 1e-12)))

so_add <- "g =~ visual + textual + speed"
fit_so <- cfa(paste0(model, "; ", so_add), data = hs)
stopifnot(lavInspect(fit_so, "converged"))
ss_so <- as.data.frame(standardizedSolution(fit_so))
so_l <- ss_so[ss_so$op == "=~" & ss_so$lhs == "g", ]
fm_so <- fitMeasures(fit_so)
same_fit <- fm_so[["df"]] == fm[["df"]] && isTRUE(all.equal(fm_so[["chisq"]], fm[["chisq"]], tolerance = 1e-6))

# --- the JSON (key order of the committed file) -------------------------------------------------
ver <- function(p) packageDescription(p)$Version
debian <- if (file.exists("/etc/debian_version") && startsWith(find.package("lavaan"), "/usr/lib/R/")) {
  paste0(" (Debian ", sub("\\..*", "", readLines("/etc/debian_version", n = 1)), " packages)")
} else ""
source_note <- paste0("R ", R.version$major, ".", R.version$minor, ", lavaan ", ver("lavaan"), ", psych ",
                      ver("psych"), ", semTools ", ver("semTools"), debian,
                      "; data: lavaan::HolzingerSwineford1939 written to hs1939.csv")
ref <- list(
  source = source_note,
  model = model,
  n = as.integer(lavInspect(fit, "nobs")),
  ml_fit = list(
    chisq = r6(fm[["chisq"]]), df = as.integer(fm[["df"]]), pvalue = r6(fm[["pvalue"]]),
    cfi = r6(fm[["cfi"]]), tli = r6(fm[["tli"]]), rmsea = r6(fm[["rmsea"]]),
    rmsea_ci90 = arr(r6(c(fm[["rmsea.ci.lower"]], fm[["rmsea.ci.upper"]]))),
    srmr = r6(fm[["srmr"]]), loglik = r6(fm[["logl"]]), loglik_unrestricted = r6(fm[["unrestricted.logl"]]),
    aic = r6(fm[["aic"]]), bic = r6(fm[["bic"]]), npar = as.integer(fm[["npar"]]),
    baseline_chisq = r6(fm[["baseline.chisq"]]), baseline_df = as.integer(fm[["baseline.df"]])
  ),
  mlr_fit = list(
    chisq_scaled = r6(fmr[["chisq.scaled"]]), scaling_factor = r6(fmr[["chisq.scaling.factor"]]),
    cfi_robust = r6(fmr[["cfi.robust"]]), tli_robust = r6(fmr[["tli.robust"]]),
    rmsea_robust = r6(fmr[["rmsea.robust"]])
  ),
  std_loadings = named(std_l, names(std_l)),
  std_loading_se_ml = named(std_se, names(std_se)),
  factor_correlations = named(lv_cor, pair_names),
  cronbach_alpha_raw = named(alpha_raw, names(factors)),
  composite_reliability_standardized = c(named(cr, names(factors)),
    list(`_formula` = "(sum l)^2 / ((sum l)^2 + sum(1 - l^2)), l = std.all loadings")),
  ave_standardized = c(named(ave, names(factors)), list(`_formula` = "mean(l^2)")),
  semtools_omega = named(omega, names(factors)),
  semtools_ave = named(ave_st, names(factors)),
  htmt_henseler2015 = c(named(ht_pairs, pair_names),
    list(`_note` = "arithmetic-mean HTMT on absolute Pearson correlations (semTools htmt2=FALSE)")),
  second_order = list(
    model_add = so_add,
    std_loadings = named(so_l$est.std, so_l$rhs),
    fit_equals_first_order = same_fit
  )
)
dir.create(dirname(out_path), recursive = TRUE, showWarnings = FALSE)
cat(to_json(ref), file = out_path)  # no final newline, as json.dumps
cat("wrote", out_path, "\n")
