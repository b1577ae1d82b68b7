"""crfm.stats.fa against psych::fa / GPArotation (tests/reference/psych/fa_reference.json, written by
tests/reference/psych/make_fa_reference.R).

What each comparison isolates:

* rotation only: our rotations applied to psych's own unrotated loadings reproduce psych::fa's rotated
  output to rounding error (GPArotation's / stats::varimax's iterations, transcribed);
* extraction: our uniquenesses are the optimum of psych's objective (psych's, refined in R with a
  strict stopping rule) to ~1e-9; psych's default stopping rule (optim factr = 1e7) lands 2e-6 to
  1.4e-5 away from it, which is the whole of the end-to-end difference to psych's printed numbers;
* end to end: psych::fa's rotation + normalisation steps at the optimum ("refined.fits") agree with
  ``factor_analysis`` to 1e-7 (after aligning factor order and sign; measured <= 2.4e-9); psych's printed numbers within
  the distance of psych's own optimiser from the optimum.

(A cross-check against factor_analyzer 0.5.1, the library this module replaced, agreed to ~1e-6 while
both were installed; factor_analyzer does not run with scikit-learn >= 1.8 and left the stack, so that
check, which could only skip, was removed. psych covers every configuration it covered.)
"""

from __future__ import annotations

import ast
import json
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crfm.errors import AnalysisError
from crfm.stats import fa as F

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/psych/fa_reference.json").read_text())
DATASETS = list(REF["datasets"])
METHODS = ["ml", "minres"]
PSYCH_ROTATIONS = ["none", "oblimin", "promax", "varimax", "quartimax", "geomin_obl", "geomin_ort", "equamax"]
GPA_ROTATIONS = {"oblimin", "quartimax", "geomin_obl", "geomin_ort", "equamax"}


def corr(name: str) -> tuple[np.ndarray, int]:
    ds = REF["datasets"][name]
    x = pd.read_csv(ROOT / ds["file"], comment="#")[ds["items"]]
    assert len(x) == ds["n"] and not x.isna().any().any()
    return np.corrcoef(x.to_numpy(dtype=float), rowvar=False), len(x)


def aligned(a: np.ndarray, b: np.ndarray, phi_a: np.ndarray | None = None):
    """``a`` (and its phi) with columns permuted and reflected to best match ``b``."""
    k = a.shape[1]
    best = None
    for perm in permutations(range(k)):
        x = a[:, perm]
        s = np.sign(np.sum(x * b, axis=0))
        s[s == 0] = 1.0
        d = np.max(np.abs(x * s - b))
        if best is None or d < best[0]:
            best = (d, perm, s)
    _, perm, s = best
    out = a[:, perm] * s
    if phi_a is None:
        return out
    return out, phi_a[np.ix_(perm, perm)] * np.outer(s, s)


def arr(x) -> np.ndarray:
    return np.array(x, dtype=float)


@pytest.fixture(scope="module")
def fits():
    """factor_analysis for every data set x method x rotation of the reference (computed once)."""
    out = {}
    for dn in DATASETS:
        r, n = corr(dn)
        for m in METHODS:
            for rot in PSYCH_ROTATIONS:
                out[dn, m, rot] = F.factor_analysis(r, 3, m, rot, n_obs=n)
    return out


def test_reference_versions():
    meta = REF["meta"]
    assert meta["psych"] == "2.2.9" and meta["GPArotation"].startswith("2022.10")


# --------------------------------------------------------------------------------------------------
# rotation alone: psych's unrotated loadings in, psych's rotated loadings out
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rot", [r for r in PSYCH_ROTATIONS if r != "none"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dn", DATASETS)
def test_rotation_reproduces_psych_on_psych_unrotated_loadings(dn, method, rot):
    fits = REF["datasets"][dn]["methods"][method]["fits"]
    ref = fits[rot]
    res = F.rotate(arr(fits["none"]["loadings"]), rot)
    assert res.converged
    lam, phi, ss = F.psych_normalise(res.loadings, res.phi)
    # no alignment needed: psych's sign and order conventions are reproduced
    np.testing.assert_allclose(lam, arr(ref["loadings"]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(phi, arr(ref["phi"]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ss, arr(ref["ss_loadings"]), rtol=0, atol=1e-10)
    if rot in GPA_ROTATIONS:
        assert res.criterion == pytest.approx(ref["criterion"], abs=1e-12)
        assert res.iterations == ref["iterations"] and ref["converged"]
    # L = A T and Phi = (T'T)^-1
    np.testing.assert_allclose(arr(fits["none"]["loadings"]) @ res.rotation_matrix, res.loadings, atol=1e-12)
    t = res.rotation_matrix
    np.testing.assert_allclose(np.linalg.inv(t.T @ t), res.phi, atol=1e-12)


EXTRA = {
    "oblimin_kaiser": dict(method="oblimin", normalize=True),
    "oblimin_gamma_0.5": dict(method="oblimin", gamma=0.5),
    "quartimin": dict(method="quartimin"),
    "geomin_obl_kaiser": dict(method="geomin_obl", normalize=True),
    "quartimax_kaiser": dict(method="quartimax", normalize=True),
    "varimax_raw": dict(method="varimax", normalize=False),
    "Promax": dict(method="promax", normalize=False),
}


@pytest.mark.parametrize("name", list(EXTRA) + ["varimax_gpa", "oblimax"])
@pytest.mark.parametrize("dn", DATASETS)
def test_non_default_rotation_options_match_gparotation(dn, name):
    """Kaiser normalisation on/off, oblimin gamma, quartimin, oblimax, GPA varimax, psych::Promax:
    raw GPArotation / stats / psych output (no sign or order normalisation) on the same input."""
    ds = REF["datasets"][dn]
    ref = ds["extra_rotations"][name]
    a = arr(ds["methods"]["ml"]["fits"]["none"]["loadings"])
    if name == "oblimax":  # GPArotation's oblique oblimax: degenerate (|loadings| ~ 1e5), same path
        res = F.gpa(a, "oblimax", orthogonal=False)
        assert np.max(np.abs(res.loadings)) > 1e3
        np.testing.assert_allclose(res.loadings, arr(ref["loadings"]), rtol=1e-2)
        assert res.criterion == pytest.approx(ref["criterion"], abs=1e-12)
        assert res.iterations == ref["iterations"] and res.converged == ref["converged"]
        return
    res = F.gpa(a, "varimax") if name == "varimax_gpa" else F.rotate(a, **EXTRA[name])
    np.testing.assert_allclose(res.loadings, arr(ref["loadings"]), rtol=0, atol=1e-10)
    if ref.get("phi") is not None:
        np.testing.assert_allclose(res.phi, arr(ref["phi"]), rtol=0, atol=1e-10)
    if "criterion" in ref:
        assert res.criterion == pytest.approx(ref["criterion"], abs=1e-12)
        assert res.iterations == ref["iterations"] and res.converged == ref["converged"]


def test_orthogonal_oblimax_is_quartimax():
    """Under an orthogonal rotation sum L^2 is fixed, so oblimax and quartimax share their optimum."""
    a = arr(REF["datasets"]["study2"]["methods"]["ml"]["fits"]["none"]["loadings"])
    o = F.rotate(a, "oblimax", tol=1e-8)
    q = F.rotate(a, "quartimax", tol=1e-8)
    assert o.orthogonal and np.array_equal(o.phi, np.eye(3))
    np.testing.assert_allclose(o.loadings, q.loadings, atol=1e-6)


def test_gpa_and_stats_varimax_reach_the_same_optimum():
    """Two algorithms, one criterion: with tight tolerances stats::varimax (no normalisation) and GPA
    varimax agree, while the default tolerances leave them ~1e-3 apart (why we transcribe, not
    re-derive, psych's iterations)."""
    a = arr(REF["datasets"]["hs1939"]["methods"]["ml"]["fits"]["none"]["loadings"])
    s = F.varimax(a, normalize=False, tol=1e-15)
    g = F.gpa(a, "varimax", tol=1e-8)
    assert g.converged
    np.testing.assert_allclose(aligned(g.loadings, s.loadings), s.loadings, atol=1e-7)
    loose = F.varimax(a, normalize=False)
    assert np.max(np.abs(aligned(loose.loadings, s.loadings) - s.loadings)) > 1e-5


# --------------------------------------------------------------------------------------------------
# extraction: the optimum of psych's objective
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dn", DATASETS)
def test_extraction_is_the_optimum_of_psychs_objective(fits, dn, method):
    ex = fits[dn, method, "none"].extraction
    m = REF["datasets"][dn]["methods"][method]
    refined, psych = m["refined"], m["fits"]["none"]
    assert ex.converged and not ex.heywood and not ex.warnings
    psi_refined, psi_psych = arr(refined["psi"]), arr(psych["psi"])
    np.testing.assert_allclose(ex.psi, psi_refined, rtol=0, atol=1e-7)
    # the objective psych minimises (ML: FAfn; minres: U = 2 x psych's lower-triangle criterion)
    full = ex.objective if method == "ml" else 2 * ex.objective
    assert full == pytest.approx(refined["objective"], abs=1e-11)
    # psych's default optimiser stops short; our distance to psych is its distance to the optimum
    d_psych = np.max(np.abs(psi_psych - psi_refined))
    assert d_psych < 3e-5
    assert np.max(np.abs(ex.psi - psi_psych)) <= d_psych + 1e-7
    # interior optimum: psi equals the reported uniquenesses 1 - h2
    np.testing.assert_allclose(ex.uniquenesses, ex.psi, atol=1e-7)
    np.testing.assert_allclose(ex.communalities, np.sum(ex.loadings**2, axis=1), atol=1e-14)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dn", DATASETS)
def test_fit_statistics_match_psych(fits, dn, method):
    ex = fits[dn, method, "none"].extraction
    ref = REF["datasets"][dn]["methods"][method]["fits"]["none"]
    assert ex.dof == ref["dof"]
    # ML: psych stops where the objective is flat, so its value agrees to 1e-9; minres: psych's psi is
    # up to 1.4e-5 from the optimum, which moves the ML discrepancy of its solution by ~1e-6 relative
    rel = 1e-8 if method == "ml" else 1e-5
    assert ex.fit_objective == pytest.approx(ref["objective"], rel=rel)
    assert ex.chi2 == pytest.approx(ref["statistic"], rel=rel)
    assert ex.p_value == pytest.approx(ref["p_value"], rel=10 * rel)
    if method == "ml":  # no Heywood case: psych's objective is the ML criterion at the optimum
        assert ex.fit_objective == pytest.approx(ex.objective, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# end to end
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rot", PSYCH_ROTATIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dn", DATASETS)
def test_factor_analysis_matches_psych_at_the_optimum(fits, dn, method, rot):
    res = fits[dn, method, rot]
    at_opt = REF["datasets"][dn]["methods"][method]["refined"]["fits"][rot]
    psych = REF["datasets"][dn]["methods"][method]["fits"][rot]
    assert res.converged and not res.warnings
    lam, phi = aligned(res.loadings, arr(at_opt["loadings"]), res.phi)  # measured: <= 2.4e-9
    np.testing.assert_allclose(lam, arr(at_opt["loadings"]), rtol=0, atol=1e-7)
    np.testing.assert_allclose(phi, arr(at_opt["phi"]), rtol=0, atol=1e-7)
    np.testing.assert_allclose(res.communalities, arr(at_opt["communality"]), rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.sort(res.ss_loadings), np.sort(arr(at_opt["ss_loadings"])), rtol=0, atol=1e-7)
    # psych's printed numbers: within its optimiser's distance from the optimum (<= 1e-5 here)
    lam_p, phi_p = aligned(res.loadings, arr(psych["loadings"]), res.phi)
    np.testing.assert_allclose(lam_p, arr(psych["loadings"]), rtol=0, atol=2e-5)
    np.testing.assert_allclose(phi_p, arr(psych["phi"]), rtol=0, atol=2e-5)
    np.testing.assert_allclose(res.uniquenesses, arr(psych["uniquenesses"]), rtol=0, atol=2e-5)
    # invariants
    np.testing.assert_allclose(res.structure, res.loadings @ res.phi, atol=1e-14)
    np.testing.assert_allclose(np.diag(res.phi), 1.0, atol=1e-12)
    unrot = res.extraction.loadings
    np.testing.assert_allclose(res.loadings @ res.phi @ res.loadings.T, unrot @ unrot.T, atol=1e-10)
    assert res.ss_loadings.sum() == pytest.approx(res.communalities.sum(), abs=1e-10)
    assert (res.loadings.sum(axis=0) >= 0).all() and (np.diff(res.ss_loadings) <= 1e-12).all()


def test_heywood_case_is_flagged_like_psych():
    hw = REF["heywood"]
    r = arr(hw["r"])
    for method in METHODS:
        ref = hw["methods"][method]
        ex = F.extract(r, 2, method, n_obs=hw["n"])
        assert ex.heywood == (0,) and ex.psi[0] == F.LOWER_BOUND and ref["psi"][0] == pytest.approx(F.LOWER_BOUND)
        assert ex.converged  # the bound is active, the projected gradient vanishes
        assert any("Heywood" in w for w in ex.warnings)
        # psych stops within 1e-4 of the constrained optimum on this boundary solution
        np.testing.assert_allclose(ex.psi, arr(ref["psi"]), atol=1e-4)
        res = F.factor_analysis(r, 2, method, "oblimin")
        assert res.heywood == (0,) and any("Heywood" in w for w in res.warnings)
        lam, phi = aligned(res.loadings, arr(ref["loadings"]), res.phi)
        np.testing.assert_allclose(lam, arr(ref["loadings"]), atol=1e-4)
        np.testing.assert_allclose(phi, arr(ref["phi"]), atol=1e-5)
    # minres recovers the population uniquenesses of the items not involved exactly
    ex = F.extract(r, 2, "minres")
    np.testing.assert_allclose(ex.psi[3:], [0.51, 0.64, 0.75], atol=1e-7)


# --------------------------------------------------------------------------------------------------
# bad input, one factor, non-convergence, determinism, dependencies
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def r_hs():
    return corr("hs1939")[0]


def test_not_positive_definite(r_hs):
    r = r_hs.copy()
    r[0, 1] = r[1, 0] = 0.99
    r[0, 2] = r[2, 0] = -0.99
    with pytest.raises(AnalysisError, match="not positive definite"):
        F.extract(r, 3)
    with pytest.raises(AnalysisError, match="not positive definite"):
        F.factor_analysis(np.ones((4, 4)), 1)


def test_too_many_factors(r_hs):
    with pytest.raises(AnalysisError, match="negative degrees of freedom"):
        F.extract(r_hs, 6, "ml")  # (9 - 6)^2 - (9 + 6) < 0
    res = F.extract(r_hs, 6, "minres")  # psych allows it for minres: a warning, not an error
    assert res.dof < 0 and any("negative degrees of freedom" in w for w in res.warnings)
    with pytest.raises(AnalysisError, match="between 1 and 8"):
        F.extract(r_hs, 9, "minres")
    with pytest.raises(AnalysisError, match="between 1 and 8"):
        F.extract(r_hs, 0)
    with pytest.raises(AnalysisError, match="whole number"):
        F.extract(r_hs, 2.5)


def test_one_factor_with_a_rotation(r_hs):
    res = F.factor_analysis(r_hs, 1, "ml", "oblimin")
    assert res.rotation == "none" and res.loadings.shape == (9, 1)
    assert any("single factor" in w for w in res.warnings)
    np.testing.assert_array_equal(res.phi, np.eye(1))
    with pytest.raises(AnalysisError, match="single-factor"):
        F.rotate(res.loadings, "oblimin")
    with pytest.raises(AnalysisError, match="single-factor"):
        F.rotate(res.loadings, "varimax")
    assert F.rotate(res.loadings, "none").loadings.shape == (9, 1)


def test_nan_and_malformed_matrices(r_hs):
    r = r_hs.copy()
    r[2, 4] = r[4, 2] = np.nan
    with pytest.raises(AnalysisError, match=r"NaN.*\[2, 4\]"):
        F.extract(r, 3)
    with pytest.raises(AnalysisError, match="square"):
        F.extract(r_hs[:, :5], 2)
    asym = r_hs.copy()
    asym[0, 1] += 0.1
    with pytest.raises(AnalysisError, match="not symmetric"):
        F.extract(asym, 2)
    with pytest.raises(AnalysisError, match="unit diagonal"):
        F.extract(r_hs * 2.0, 2)
    with pytest.raises(AnalysisError, match="method"):
        F.extract(r_hs, 2, "pa")
    with pytest.raises(AnalysisError, match="unknown method"):
        F.factor_analysis(r_hs, 2, "ml", "oblimn")
    with pytest.raises(AnalysisError, match="NaN"):
        F.rotate(np.full((5, 2), np.nan), "oblimin")


def test_non_convergence_is_reported_not_hidden(r_hs):
    ex = F.extract(r_hs, 3, "ml", max_iter=2)
    assert not ex.converged and any("did not converge" in w for w in ex.warnings)
    a = F.extract(r_hs, 3).loadings
    rr = F.rotate(a, "geomin_obl", max_iter=3)
    assert not rr.converged and rr.iterations == 3
    vm = F.varimax(a, max_iter=1)
    assert not vm.converged


def test_deterministic_and_permutation_equivariant(r_hs):
    a = F.factor_analysis(r_hs, 3, "ml", "oblimin")
    b = F.factor_analysis(r_hs.copy(), 3, "ml", "oblimin")
    np.testing.assert_array_equal(a.loadings, b.loadings)
    np.testing.assert_array_equal(a.phi, b.phi)
    perm = np.array([4, 0, 8, 2, 6, 1, 3, 7, 5])
    c = F.factor_analysis(r_hs[np.ix_(perm, perm)], 3, "ml", "oblimin")
    lam, phi = aligned(c.loadings, a.loadings[perm], c.phi)
    np.testing.assert_allclose(lam, a.loadings[perm], atol=1e-6)
    np.testing.assert_allclose(phi, a.phi, atol=1e-6)


def test_imports_only_numpy_scipy_pandas_and_crfm_errors():
    tree = ast.parse((ROOT / "src/crfm/stats/fa.py").read_text())
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods.add(node.module)
    third_party = {m.split(".")[0] for m in mods} - {"__future__", "collections", "dataclasses", "typing"}
    assert third_party <= {"numpy", "scipy", "pandas", "crfm"}, third_party
    assert {m for m in mods if m.startswith("crfm")} <= {"crfm.errors"}
