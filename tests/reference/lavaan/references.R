# lavaan reference numbers for the crfm.stats.sem engine (tests/test_sem_*.py).
#
# Rerun from the repository root:   Rscript tests/reference/lavaan/references.R [OUT_DIR]
# Needs R with lavaan (Debian: apt-get install r-base-core r-cran-lavaan). Writes one JSON per case
# beside this script (tests/reference/lavaan/<case>.json) and exports lavaan's PoliticalDemocracy
# data to tests/data/political_democracy.csv. Given OUT_DIR, it writes all of these (the JSONs and
# political_democracy.csv) into OUT_DIR instead and changes no file of the repository (as
# tests/test_reference_scripts.py does). Reads tests/data/hs1939.csv and
# tests/data/hs1939_missing.csv (planted by tests/data/make_hs1939_missing.py), and Study 3's
# tests/data/study3_sem_data.csv and tests/reference/lavaan/study3_sem_model.txt (written by
# tests/reference/lavaan/make_study3_sem.py).
# No R package beyond lavaan is needed: the small JSON writer below is self-contained.
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lavaan"
pd_csv <- if (length(args) >= 1) file.path(out_dir, "political_democracy.csv") else "tests/data/political_democracy.csv"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# lavaan's optimiser stop (nlminb, rel.tol = 1e-10 on the objective) can leave estimates ~1e-4 from
# the optimum in flat directions (PoliticalDemocracy with equality labels: max |gradient| 3e-6). The
# engine is held to 1e-6, so every reference fit is restarted once from lavaan's own solution
# (start = fit), which moves such estimates to within ~2e-5; a tighter rel.tol makes nlminb report
# false convergence. Options are otherwise lavaan's defaults. The fixed.x models are not restarted:
# start = fit turns lavaan's fixed.x (co)variances into free parameters.
cfa <- function(...) lavaan::cfa(..., start = lavaan::cfa(...))
sem <- function(...) lavaan::sem(..., start = lavaan::sem(...))

json <- function(x, indent = "") {
  ind2 <- paste0(indent, " ")
  num <- function(v) ifelse(is.na(v), "null", ifelse(is.infinite(v), ifelse(v > 0, "1e308", "-1e308"), formatC(v, digits = 15, format = "g")))
  if (is.null(x)) return("null")
  if (is.data.frame(x)) x <- as.list(x)
  if (is.list(x)) {
    if (!is.null(names(x))) {
      items <- vapply(names(x), function(n) paste0(ind2, '"', n, '": ', json(x[[n]], ind2)), "")
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    return(paste0("[", paste(vapply(x, json, "", indent = ind2), collapse = ", "), "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  else if (is.numeric(x)) v <- num(as.numeric(x))
  else v <- ifelse(is.na(x), "null", paste0('"', gsub("\n", "\\\\n", gsub('"', '\\\\"', x)), '"'))
  if (length(v) == 1 && is.null(names(x)) && !isTRUE(attr(x, "as_array"))) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}
arr <- function(v) { attr(v, "as_array") <- TRUE; v }
write_case <- function(name, obj) {
  obj$lavaan_version <- as.character(packageVersion("lavaan"))
  obj$r_version <- R.version.string
  writeLines(json(obj), file.path(out_dir, paste0(name, ".json")))
  cat("wrote", name, "\n")
}

dump_fit <- function(fit, model, extra = list(), mi = FALSE) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE, remove.eq = FALSE,
                           remove.ineq = FALSE, remove.def = FALSE)
  ss <- standardizedSolution(fit, type = "std.all", remove.eq = FALSE, remove.ineq = FALSE, remove.def = FALSE)
  pt <- parTable(fit)
  if (is.null(pe$group)) pe$group <- 1L
  if (is.null(ss$group)) ss$group <- 1L
  keep <- pe$op != "==" 
  pe <- pe[keep, ]
  # parameterEstimates and standardizedSolution list the same rows in the same order
  ss <- ss[ss$op != "==", ]
  stopifnot(all(pe$lhs == ss$lhs & pe$op == ss$op & pe$rhs == ss$rhs))
  ptk <- pt[pt$op != "==", ]
  params <- list(lhs = arr(pe$lhs), op = arr(pe$op), rhs = arr(pe$rhs), group = arr(pe$group),
                 label = arr(ptk$label), free = arr(ptk$free > 0), est = arr(pe$est), se = arr(pe$se),
                 z = arr(pe$z), p = arr(pe$pvalue), ci_lower = arr(pe$ci.lower), ci_upper = arr(pe$ci.upper),
                 std_lv = arr(pe$std.lv), std_all = arr(pe$std.all), std_all_se = arr(ss$se))
  fm <- fitMeasures(fit)
  ng <- lavInspect(fit, "ngroups")
  r2 <- lavInspect(fit, "r2")
  if (ng == 1) r2 <- list(r2)
  r2 <- lapply(r2, function(v) list(names = arr(names(v)), values = arr(unname(v))))
  out <- list(model = model, options = list(estimator = lavInspect(fit, "options")$estimator,
                 missing = lavInspect(fit, "options")$missing,
                 information = lavInspect(fit, "options")$information[1],
                 meanstructure = lavInspect(fit, "meanstructure")),
              nobs = arr(lavInspect(fit, "nobs")), ngroups = ng, group_labels = arr(lavInspect(fit, "group.label")),
              converged = lavInspect(fit, "converged"),
              fit = as.list(setNames(as.numeric(fm), names(fm))),
              params = params, r2 = r2)
  if (mi) {
    m <- modindices(fit, sort. = TRUE)
    out$modindices <- list(lhs = arr(m$lhs), op = arr(m$op), rhs = arr(m$rhs), mi = arr(m$mi), epc = arr(m$epc),
                           sepc_lv = arr(m$sepc.lv), sepc_all = arr(m$sepc.all))
  }
  c(out, extra)
}

hs <- read.csv("tests/data/hs1939.csv")
hsm <- read.csv("tests/data/hs1939_missing.csv")
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

# 1. complete-data ML, marker and std.lv; modindices; MLR
f <- cfa(hs_model, data = hs); write_case("hs_ml", dump_fit(f, hs_model, mi = TRUE))
f <- cfa(hs_model, data = hs, std.lv = TRUE); write_case("hs_ml_stdlv", dump_fit(f, hs_model, mi = TRUE))
f <- cfa(hs_model, data = hs, estimator = "MLR"); write_case("hs_mlr", dump_fit(f, hs_model))

# 2. FIML and FIML + MLR on the planted missingness
f <- cfa(hs_model, data = hsm, missing = "ml")
cov <- lavInspect(f, "coverage")
pat <- lavInspect(f, "patterns")
write_case("hs_fiml", dump_fit(f, hs_model, mi = TRUE, extra = list(
  coverage_diag = arr(unname(diag(cov))), coverage_names = arr(colnames(cov)),
  n_patterns = nrow(pat), pattern_counts = arr(f@Data@Mp[[1]]$freq),
  h1_cov = arr(as.vector(lavInspect(f, "sampstat.h1")$cov)), h1_mean = arr(as.vector(lavInspect(f, "sampstat.h1")$mean)))))
f <- cfa(hs_model, data = hsm, missing = "ml", estimator = "MLR"); write_case("hs_fiml_mlr", dump_fit(f, hs_model))

# 3. PoliticalDemocracy (lavaan's classic SEM example)
write.csv(PoliticalDemocracy, pd_csv, row.names = FALSE)
pd <- read.csv(pd_csv)
pd_model <- "# measurement model
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
# regressions
dem60 ~ ind60
dem65 ~ ind60 + dem60
# residual correlations
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"
f <- sem(pd_model, data = pd); write_case("poldem_ml", dump_fit(f, pd_model, mi = TRUE))
f <- sem(pd_model, data = pd, estimator = "MLR"); write_case("poldem_mlr", dump_fit(f, pd_model))
pd_eq <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"
f <- sem(pd_eq, data = pd); write_case("poldem_labels", dump_fit(f, pd_eq))

# 4. observed exogenous covariates (fixed.x) predicting a latent (lavaan::sem: no restart, see above)
fx_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual + ageyr + sex"
f <- lavaan::sem(fx_model, data = hs); write_case("hs_fixedx", dump_fit(f, fx_model))
fx2 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\nvisual ~ ageyr\nspeed ~ sex + ageyr"
f <- lavaan::sem(fx2, data = hs); write_case("hs_fixedx2", dump_fit(f, fx2))
# exogenous latents correlated with the observed covariates by explicit covariances (lavaan fixes them
# at 0 by default; Study 3's SEM states them, so its controls partial out the latent predictors)
fx3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\nspeed ~ visual + textual + ageyr + grade\nvisual ~~ ageyr + grade\ntextual ~~ ageyr + grade"
f <- lavaan::sem(fx3, data = hs); write_case("hs_latent_x_cov", dump_fit(f, fx3))
f <- lavaan::sem(fx_model, data = hsm, missing = "ml"); write_case("hs_fixedx_fiml", dump_fit(f, fx_model))

# 5. second-order CFA
so_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ng =~ visual + textual + speed"
f <- cfa(so_model, data = hs)
clv <- lavInspect(f, "cor.lv")  # implied correlations of the latent variables (first-order ones via g)
write_case("hs_second_order", dump_fit(f, so_model, extra = list(cor_lv = list(names = arr(rownames(clv)),
                                                                           values = arr(as.vector(clv))))))

# 6. multi-group invariance by school (ML and MLR), partial invariance, LRTs
steps <- list(configural = "none", metric = c("loadings"), scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
for (est in c("ML", "MLR")) {
  fits <- list()
  for (s in names(steps)) {
    fits[[s]] <- cfa(hs_model, data = hs, group = "school", group.equal = steps[[s]], estimator = est)
    write_case(paste0("hs_mg_", tolower(est), "_", s), dump_fit(fits[[s]], hs_model,
               extra = list(group_equal = arr(setdiff(steps[[s]], "none")))))
  }
  lrt <- list()
  meth <- if (est == "MLR") "satorra.bentler.2001" else "default"
  for (i in 2:length(steps)) {
    a <- fits[[i]]; b <- fits[[i - 1]]
    t <- lavTestLRT(b, a, method = meth)
    lrt[[names(steps)[i]]] <- list(chisq_diff = t[2, "Chisq diff"], df_diff = t[2, "Df diff"], p = t[2, "Pr(>Chisq)"])
  }
  write_case(paste0("hs_mg_", tolower(est), "_lrt"), lrt)
}
f <- cfa(hs_model, data = hs, group = "school", group.equal = c("loadings", "intercepts"),
         group.partial = c("visual =~ x2", "x3 ~ 1"))
write_case("hs_mg_partial", dump_fit(f, hs_model, extra = list(group_equal = arr(c("loadings", "intercepts")),
           group_partial = arr(c("visual =~ x2", "x3 ~ 1")))))
f2 <- cfa(hs_model, data = hs, group = "school", group.equal = c("loadings", "intercepts"),
          group.partial = c("visual =~ x2", "x3 ~ 1"), estimator = "MLR")
f1 <- cfa(hs_model, data = hs, group = "school", group.equal = c("loadings"), estimator = "MLR")
t <- lavTestLRT(f1, f2, method = "satorra.bentler.2001")
write_case("hs_mg_partial_mlr", dump_fit(f2, hs_model, extra = list(group_equal = arr(c("loadings", "intercepts")),
           group_partial = arr(c("visual =~ x2", "x3 ~ 1")),
           lrt_vs_metric = list(chisq_diff = t[2, "Chisq diff"], df_diff = t[2, "Df diff"], p = t[2, "Pr(>Chisq)"]))))
# FIML multi-group (metric)
f <- cfa(hs_model, data = hsm, group = "school", group.equal = "loadings", missing = "ml")
write_case("hs_mg_fiml_metric", dump_fit(f, hs_model, extra = list(group_equal = arr("loadings"))))

# 7. further checks: MLR with fixed.x, FIML + MLR multi-group, std.lv multi-group (lavaan frees the
# latent variances of group 2 under equal loadings), modification indices of a two-group model
f <- lavaan::sem(fx_model, data = hs, estimator = "MLR"); write_case("hs_fixedx_mlr", dump_fit(f, fx_model))
f <- cfa(hs_model, data = hsm, group = "school", group.equal = "loadings", missing = "ml", estimator = "MLR")
write_case("hs_mg_fiml_mlr_metric", dump_fit(f, hs_model, extra = list(group_equal = arr("loadings"))))
f <- cfa(hs_model, data = hs, group = "school", group.equal = "loadings", std.lv = TRUE)
write_case("hs_mg_stdlv_metric", dump_fit(f, hs_model, extra = list(group_equal = arr("loadings"))))
f <- cfa(hs_model, data = hs, group = "school")
m <- modindices(f, sort. = TRUE)
write_case("hs_mg_modindices", list(model = hs_model, lhs = arr(m$lhs), op = arr(m$op), rhs = arr(m$rhs),
           group = arr(m$group), mi = arr(m$mi), epc = arr(m$epc), sepc_all = arr(m$sepc.all)))

# 8. auto.cov.y: two dependent latents of one predictor get a free residual covariance in sem()
y2_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ntextual ~ visual\nspeed ~ visual"
f <- sem(y2_model, data = hs); write_case("hs_two_outcomes", dump_fit(f, y2_model))

# 9. Study 3's latent moderated SEM on the shipped (SYNTHETIC) data, as the pipeline builds it
#    (tests/reference/lavaan/make_study3_sem.py writes the data and the syntax): FIML and complete cases
s3_model <- paste(readLines("tests/reference/lavaan/study3_sem_model.txt"), collapse = "\n")
s3 <- read.csv("tests/data/study3_sem_data.csv", comment.char = "#")
f <- sem(s3_model, data = s3, missing = "ml"); write_case("study3_sem_fiml", dump_fit(f, s3_model))
f <- sem(s3_model, data = s3); write_case("study3_sem_listwise", dump_fit(f, s3_model))
# the same with the covariate firm_age in decades: lavaan warns that the variances differ by a factor of
# 1000 and its default stopping rule leaves the covariances with firm_age ~1e-3 off the optimum (its
# gradient 2.6e-6); rescaled, the problem is well conditioned and lavaan's estimates are precise
s3r <- s3; s3r$c3_firm_age <- s3r$c3_firm_age / 10
f <- sem(s3_model, data = s3r, missing = "ml"); write_case("study3_sem_fiml_decades", dump_fit(f, s3_model))
