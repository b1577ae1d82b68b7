# Reference numbers for crfm.stats.fa (tests/test_fa_core.py): psych::fa on two data sets.
#
# Rerun from the repository root (needs R with psych and GPArotation; no other R package):
#   apt-get install -y --no-install-recommends r-base-core r-cran-psych r-cran-gparotation
#   Rscript tests/reference/psych/make_fa_reference.R [OUT_DIR]
# It (re)writes
#   tests/data/study2_fa_items.csv          complete cases of the 18 Study 2 items of the shipped
#                                            SYNTHETIC survey resources/raw/study2_survey.csv, with
#                                            the reverse-keyed RSEL6 recoded as 8 - x
#   tests/reference/psych/fa_reference.json  the numbers below
# or, given OUT_DIR, OUT_DIR/study2_fa_items.csv and OUT_DIR/fa_reference.json (no file of the
# repository changes; the "file" entries of the JSON still name tests/data/study2_fa_items.csv).
# Generated with R 4.2.2, psych 2.2.9, GPArotation 2022.10-2 (the versions are also in the JSON).
#
# For each data set (HS1939 x1..x9, N = 301; the Study 2 items), method (ml, minres) and rotation
# (none, oblimin, promax, varimax, quartimax, geomin_obl, geomin_ort, equamax), 3 factors:
#   psych::fa(cor(x), nfactors = 3, n.obs = N, fm = method, rotate = <psych name>) with psych's
#   defaults, and what it reports: loadings (pattern, psych's column order and signs), Phi, SS
#   loadings (Vaccounted[1, ]), communality (diag(LL')), uniquenesses, 1 - communalities (the
#   optimiser's uniquenesses psi), objective, STATISTIC, dof, PVAL.
# For GPA rotations also the criterion value at the end (GPArotation's Table) and whether GPArotation
# converged, from the same call psych makes (GPArotation::<fun>(unrotated loadings)).
# "extra_rotations": GPArotation / stats / psych rotations with non-default options (Kaiser
# normalisation on for GPA, off for varimax; oblimin gamma = .5; quartimin; oblimax; GPA varimax;
# psych::Promax) applied to psych's unrotated ML loadings. "heywood": psych::fa (ml, minres; 2
# factors) on a population correlation matrix whose first item has communality .998 (a Heywood case).
# For each data set and method also "refined": the same objective minimised further by R's optim
# (L-BFGS-B, same bounds, factr = 1, started at psych's psi), i.e. the optimum that psych's default
# stopping rule (factr = 1e7) approaches, and refined$fits: psych::fa's rotation and normalisation
# steps (the same psych / GPArotation / stats calls fa makes) applied at that optimum; the ML objective and gradient are psych's FAfn / FAgr
# (copied from psych:::fac), the minres one the full least-squares criterion with its exact gradient
# (psych's FAgr.minres times 2; see the docstring of src/crfm/stats/fa.py).

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
})

root <- normalizePath(".")
stopifnot(file.exists(file.path(root, "tests/data/hs1939.csv")))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else NA
if (!is.na(out_dir)) dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
out_file <- function(default, name) if (is.na(out_dir)) file.path(root, default) else file.path(out_dir, name)

# --- data ---------------------------------------------------------------------------------------
hs <- read.csv(file.path(root, "tests/data/hs1939.csv"))[, paste0("x", 1:9)]

raw <- read.csv(file.path(root, "resources/raw/study2_survey.csv"), comment.char = "#")
items <- c(paste0("RCOM", 1:6), paste0("RSEL", 1:6), paste0("RINT", 1:6))
sv <- raw[, items]
sv$RSEL6 <- 8 - sv$RSEL6
sv <- sv[complete.cases(sv), ]
out_csv <- out_file("tests/data/study2_fa_items.csv", "study2_fa_items.csv")
writeLines(c(
  "# SYNTHETIC DATA: complete cases of the 18 items of resources/raw/study2_survey.csv (RSEL6 recoded 8 - x),",
  "# written by tests/reference/psych/make_fa_reference.R; the psych::fa reference data set for crfm.stats.fa"
), out_csv)
suppressWarnings(write.table(sv, out_csv, sep = ",", row.names = FALSE, append = TRUE, quote = TRUE))

# --- a minimal JSON writer (base R only) ---------------------------------------------------------
num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.na(x), "null", formatC(x, digits = 17, format = "g"))
  s <- gsub(" ", "", s)
  s
}
to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (is.null(names(x))) {
      parts <- vapply(x, to_json, "", indent = indent + 2)
      return(paste0("[\n", pad, paste(parts, collapse = paste0(",\n", pad)), "\n", strrep(" ", indent), "]"))
    }
    parts <- vapply(names(x), function(n) paste0('"', n, '": ', to_json(x[[n]], indent + 2)), "")
    return(paste0("{\n", pad, paste(parts, collapse = paste0(",\n", pad)), "\n", strrep(" ", indent), "}"))
  }
  if (is.matrix(x)) {
    rows <- apply(x, 1, function(r) paste0("[", paste(num(r), collapse = ", "), "]"))
    return(paste0("[\n", pad, paste(rows, collapse = paste0(",\n", pad)), "\n", strrep(" ", indent), "]"))
  }
  if (is.character(x)) {
    s <- paste0('"', x, '"')
    return(if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]"))
  }
  if (is.logical(x)) {
    s <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
    return(if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]"))
  }
  s <- num(as.numeric(x))
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}

# --- refined optimum ----------------------------------------------------------------------------
FAfn <- function(Psi, S, nf) {  # psych:::fac
  sc <- diag(1 / sqrt(Psi))
  Sstar <- sc %*% S %*% sc
  E <- eigen(Sstar, symmetric = TRUE, only.values = TRUE)
  e <- E$values[-(1:nf)]
  e <- sum(log(e) - e) - nf + nrow(S)
  -e
}
FAgr <- function(Psi, S, nf) {  # psych:::fac
  sc <- diag(1 / sqrt(Psi))
  Sstar <- sc %*% S %*% sc
  E <- eigen(Sstar, symmetric = TRUE)
  L <- E$vectors[, 1:nf, drop = FALSE]
  load <- L %*% diag(sqrt(pmax(E$values[1:nf] - 1, 0)), nf)
  load <- diag(sqrt(Psi)) %*% load
  g <- load %*% t(load) + diag(Psi) - S
  diag(g) / Psi^2
}
ULSfn <- function(Psi, S, nf) {
  diag(S) <- 1 - Psi
  E <- eigen(S, symmetric = TRUE)
  L <- E$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(pmax(E$values[1:nf], 0)), nf)
  sum((S - L %*% t(L))^2)
}
ULSgr <- function(Psi, S, nf) {
  diag(S) <- 1 - Psi
  E <- eigen(S, symmetric = TRUE)
  L <- E$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(pmax(E$values[1:nf], 0)), nf)
  -2 * diag(S - L %*% t(L))
}
FAout <- function(Psi, S, q) {  # psych:::fac
  sc <- diag(1 / sqrt(Psi))
  Sstar <- sc %*% S %*% sc
  E <- eigen(Sstar, symmetric = TRUE)
  L <- E$vectors[, 1L:q, drop = FALSE]
  load <- L %*% diag(sqrt(pmax(E$values[1L:q] - 1, 0)), q)
  diag(sqrt(Psi)) %*% load
}
FAout.wls <- function(Psi, S, q) {  # psych:::fac
  diag(S) <- diag(S) - Psi
  E <- eigen(S, symmetric = TRUE)
  E$vectors[, 1L:q, drop = FALSE] %*% diag(sqrt(pmax(E$values[1L:q, drop = FALSE], 0)), q)
}
# psych::fa's rotation step and final sign / order normalisation (psych:::fac), applied to the
# loadings at a given psi: what psych::fa would report if its optimiser had stopped at that psi.
fa_at <- function(psi, R, nf, fm, rot) {
  L <- if (fm == "ml") FAout(psi, R, nf) else FAout.wls(psi, R, nf)
  s <- sign(colSums(L)); s[s == 0] <- 1
  L <- L %*% diag(s)
  Phi <- NULL
  if (rot == "varimax") L <- unclass(stats::varimax(L)$loadings)
  if (rot == "promax") { pr <- psych::kaiser(L, rotate = "Promax"); L <- unclass(pr$loadings); Phi <- pr$Phi }
  if (rot %in% names(gpa_fun)) { g <- gpa_fun[[rot]](L); L <- unclass(g$loadings); Phi <- g$Phi }
  s <- sign(colSums(L)); s[s == 0] <- 1
  L <- L %*% diag(s)
  if (!is.null(Phi)) Phi <- diag(s) %*% Phi %*% diag(s)
  ev <- if (is.null(Phi)) diag(t(L) %*% L) else diag(Phi %*% t(L) %*% L)
  o <- order(ev, decreasing = TRUE)
  L <- L[, o]
  Phi <- if (is.null(Phi)) diag(nf) else Phi[o, o]
  list(loadings = unname(L), phi = unname(Phi), ss_loadings = unname(ev[o]),
       communality = unname(rowSums(L %*% Phi * L)))
}
refine <- function(psi, R, nf, fm) {
  fn <- if (fm == "ml") FAfn else ULSfn
  gr <- if (fm == "ml") FAgr else ULSgr
  res <- optim(psi, fn, gr, method = "L-BFGS-B", lower = 0.005, upper = 1,
               control = list(factr = 1, pgtol = 0, maxit = 10000), nf = nf, S = R)
  for (i in 1:3) {  # restart: L-BFGS-B's memory can stall a fraction short of the optimum
    res <- optim(res$par, fn, gr, method = "L-BFGS-B", lower = 0.005, upper = 1,
                 control = list(factr = 1, pgtol = 0, maxit = 10000), nf = nf, S = R)
  }
  list(psi = res$par, objective = res$value, gradient = max(abs(gr(res$par, R, nf))),
       message = if (is.null(res$message)) "" else res$message)
}

# --- psych::fa runs -----------------------------------------------------------------------------
rotations <- c(none = "none", oblimin = "oblimin", promax = "promax", varimax = "varimax",
               quartimax = "quartimax", geomin_obl = "geominQ", geomin_ort = "geominT",
               equamax = "equamax")
gpa_fun <- list(oblimin = function(L) GPArotation::oblimin(L),
                quartimax = function(L) GPArotation::quartimax(L),
                geomin_obl = function(L) GPArotation::geominQ(L),
                geomin_ort = function(L) GPArotation::geominT(L),
                equamax = function(L) psych::equamax(L))

one_fit <- function(R, n, fm, rot) {
  f <- suppressWarnings(fa(R, nfactors = 3, n.obs = n, fm = fm, rotate = rotations[[rot]]))
  L <- unclass(f$loadings)
  k <- ncol(L)
  phi <- if (is.null(f$Phi)) diag(k) else f$Phi
  list(loadings = L, phi = unname(phi), ss_loadings = unname(f$Vaccounted[1, ]),
       communality = unname(f$communality), uniquenesses = unname(f$uniquenesses),
       psi = unname(1 - f$communalities), objective = f$objective, statistic = f$STATISTIC,
       dof = f$dof, p_value = f$PVAL, factor_names = colnames(L))
}

gpa_out <- function(g) {
  list(loadings = unclass(g$loadings), phi = if (is.null(g$Phi)) NULL else g$Phi,
       criterion = g$Table[nrow(g$Table), 2], converged = g$convergence,
       iterations = g$Table[nrow(g$Table), 1])
}

datasets <- list(hs1939 = list(x = hs, file = "tests/data/hs1939.csv"),
                 study2 = list(x = sv, file = "tests/data/study2_fa_items.csv"))
ref <- list(
  meta = list(
    generator = "tests/reference/psych/make_fa_reference.R",
    r_version = R.version.string,
    psych = as.character(packageVersion("psych")),
    GPArotation = as.character(packageVersion("GPArotation")),
    n_factors = 3,
    rotation_names = as.list(rotations)
  ),
  datasets = list()
)
for (dn in names(datasets)) {
  x <- datasets[[dn]]$x
  R <- cor(x)
  n <- nrow(x)
  d <- list(file = datasets[[dn]]$file, items = colnames(x), n = n, methods = list())
  for (fm in c("ml", "minres")) {
    m <- list()
    for (rot in names(rotations)) m[[rot]] <- one_fit(R, n, fm, rot)
    unrot <- m[["none"]]$loadings
    for (rot in names(gpa_fun)) {
      g <- gpa_fun[[rot]](unrot)
      m[[rot]]$criterion <- g$Table[nrow(g$Table), 2]
      m[[rot]]$converged <- g$convergence
      m[[rot]]$iterations <- g$Table[nrow(g$Table), 1]
    }
    rf <- refine(m[["none"]]$psi, R, 3, fm)
    rf$fits <- list()
    for (rot in names(rotations)) rf$fits[[rot]] <- fa_at(rf$psi, R, 3, fm, rot)
    d$methods[[fm]] <- list(fits = m, refined = rf)
  }
  # rotation options psych::fa does not use by default, applied to psych's unrotated ML loadings
  # (columns as GPArotation / stats return them: no sign or order normalisation)
  U <- d$methods$ml$fits$none$loadings
  d$extra_rotations <- list(
    oblimin_kaiser = gpa_out(GPArotation::oblimin(U, normalize = TRUE)),
    oblimin_gamma_0.5 = gpa_out(GPArotation::oblimin(U, gam = 0.5)),
    quartimin = gpa_out(GPArotation::quartimin(U)),
    oblimax = gpa_out(GPArotation::oblimax(U)),
    geomin_obl_kaiser = gpa_out(GPArotation::geominQ(U, normalize = TRUE)),
    quartimax_kaiser = gpa_out(GPArotation::quartimax(U, normalize = TRUE)),
    varimax_gpa = gpa_out(GPArotation::Varimax(U)),
    varimax_raw = list(loadings = unclass(stats::varimax(U, normalize = FALSE)$loadings)),
    Promax = list(loadings = unclass(psych::Promax(U)$loadings), phi = psych::Promax(U)$Phi)
  )
  ref$datasets[[dn]] <- d
}

# --- a Heywood case: population correlations of a 2-factor model whose first item has h2 = .998 -----
Lh <- matrix(c(0.999, 0.6, 0.5, 0, 0, 0, 0, 0, 0, 0.7, 0.6, 0.5), ncol = 2)
Rh <- Lh %*% matrix(c(1, 0.3, 0.3, 1), 2) %*% t(Lh)
diag(Rh) <- 1
hw <- list(r = Rh, n = 200, methods = list())
for (fm in c("ml", "minres")) {
  f <- suppressWarnings(fa(Rh, nfactors = 2, n.obs = 200, fm = fm, rotate = "oblimin"))
  u <- suppressWarnings(fa(Rh, nfactors = 2, n.obs = 200, fm = fm, rotate = "none"))
  hw$methods[[fm]] <- list(psi = unname(1 - f$communalities), communality = unname(f$communality),
                           unrotated = unclass(u$loadings), loadings = unclass(f$loadings),
                           phi = unname(f$Phi))
}
ref$heywood <- hw
out_json <- out_file("tests/reference/psych/fa_reference.json", "fa_reference.json")
writeLines(to_json(ref), out_json)
cat("wrote", out_csv, "and", out_json, "\n")
