"""crfm.stats.sem: the project's own structural-equation-model estimation core (lavaan 0.6-14 semantics).

Why the project keeps its own code instead of semopy: semopy has no FIML fit indices, no MLR
(sandwich SEs, Yuan-Bentler scaled chi-square, robust CFI/RMSEA), no multi-group equality
constraints (group.equal/group.partial), and it counts the fixed.x moments of observed covariates in
the degrees of freedom. Every number here is checked against lavaan 0.6-14 (Debian 12's r-cran-lavaan)
by the reference scripts in tests/reference/lavaan/.

    model = Model.from_syntax(text)
    res = fit(model, data, group=None, estimator="ML"|"MLR", missing="listwise"|"fiml",
              group_equal=(), group_partial=(), se=True, std_lv=False)      -> SEMResult

Modules: ``syntax`` (parser), ``partable`` (lavaanify defaults), ``model`` (matrices, implied moments,
Jacobian), ``data`` (sample statistics, missing-data patterns, EM h1), ``ml`` (objective, gradient,
Hessian, information, optimiser), ``robust`` (MLR), ``fitmeasures``, ``result`` (standardized
solution, R-squared, flags), ``modindices``, ``invariance`` (multi-group steps and chi-square
differences), ``batch`` (vectorised ML for Monte Carlo).
"""

from .data import SaturatedMoments, coverage, missing_patterns, saturated_moments
from .engine import fit
from .model import Model
from .result import SEMResult

__all__ = [
    "Model",
    "fit",
    "SEMResult",
    "missing_patterns",
    "coverage",
    "saturated_moments",
    "SaturatedMoments",
    "chi_square_difference",
    "measurement_invariance",
    "ChiSquareDifferenceResult",
    "InvarianceResult",
    "fit_ml_batch",
    "BatchResult",
]


def __getattr__(name):
    if name in ("chi_square_difference", "measurement_invariance", "ChiSquareDifferenceResult", "InvarianceResult"):
        from . import invariance

        return getattr(invariance, name)
    if name in ("fit_ml_batch", "BatchResult"):
        from . import batch

        return getattr(batch, name)
    raise AttributeError(name)
