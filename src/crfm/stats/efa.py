"""Exploratory factor analysis, item purification and calibration/validation splits (Study 2).

Extraction and rotation are the project's own (:mod:`crfm.stats.fa`, checked against psych::fa):
ML or minres on the Pearson correlation matrix of the listwise-complete items, then the rotation
(default oblimin, gamma = 0, no Kaiser normalisation, as psych::fa). The project replaced
factor_analyzer, whose ``FactorAnalyzer.fit`` breaks under scikit-learn >= 1.8 and is unmaintained;
the numbers moved by at most 1.5e-6 (factor_analyzer stopped its extraction short of the optimum).

Determinism: rows are put in a canonical (lexicographic) order before the correlation matrix is
computed, so any permutation of the respondents gives bit-identical results. Factor signs are
normalised so every factor's pattern loadings sum to a positive number, and factors are ordered by
the position (in the item list) of their highest-|loading| item, ties by SS loadings; factors are
named F1..Fk in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError
from crfm.stats.fa import ROTATIONS, factor_analysis
from crfm.stats.psychometrics import ItemMoments, check_correlation_input, item_moments

__all__ = ["efa", "purify", "split_halves", "EFAResult", "PurifyResult", "RULE_KEYS"]

RULE_KEYS = ("min_loading", "max_cross_loading", "min_item_total")


@dataclass
class EFAResult:
    """An exploratory factor solution.

    loadings: pattern matrix, items x factors (F1..Fk). structure: loadings @ phi.
    phi: factor correlations (identity for orthogonal / no rotation).
    communalities: h2_i = sum_f (unrotated loading)^2 = diag(L phi L'); uniquenesses = 1 - h2.
    variance: columns factor, ss_loadings, proportion, cumulative with ss_loadings = diag(phi L'L)
    (psych's definition; colSums(L^2) for orthogonal solutions) and proportion = ss_loadings / p.
    heywood_items: items with communality >= 0.995 (uniqueness at the extraction's lower bound, .005).
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    n: int
    n_factors: int
    method: str
    rotation: str | None
    converged: bool = True
    heywood_items: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_long(self) -> pd.DataFrame:
        """Tidy loadings: columns item, factor, loading, communality."""
        t = self.loadings.reset_index(names="item").melt(id_vars="item", var_name="factor", value_name="loading")
        t["communality"] = t["item"].map(self.communalities)
        return t

    def primary(self) -> pd.DataFrame:
        """Per item: primary_factor (highest |loading|), primary_loading, cross_factor, cross_loading
        (the highest |loading| on any other factor, signed)."""
        rows = []
        a = self.loadings.to_numpy()
        cols = list(self.loadings.columns)
        for i, item in enumerate(self.loadings.index):
            order = np.argsort(-np.abs(a[i]), kind="stable")
            f1 = order[0]
            f2 = order[1] if len(order) > 1 else None
            rows.append(
                {
                    "item": item,
                    "primary_factor": cols[f1],
                    "primary_loading": a[i, f1],
                    "cross_factor": cols[f2] if f2 is not None else None,
                    "cross_loading": a[i, f2] if f2 is not None else 0.0,
                }
            )
        return pd.DataFrame(rows)


def _canonical_corr(x: np.ndarray) -> np.ndarray:
    """Correlation matrix of rows sorted lexicographically (row-order invariant to the last bit)."""
    order = np.lexsort(x.T[::-1])
    return np.corrcoef(x[order], rowvar=False)


def efa(
    df,
    n_factors: int,
    method: str = "ml",
    rotation: str | None = "oblimin",
    items: Sequence[str] | None = None,
) -> EFAResult:
    """Exploratory factor analysis of ``df[items]`` (all columns by default): listwise deletion, or the
    given :class:`~crfm.stats.psychometrics.ItemMoments` (e.g. EM estimates under MAR).

    method: "ml" (maximum likelihood) or "minres" (minimum residual / ULS), both as factor_analyzer
    fits them to the correlation matrix; rotation: "oblimin" (default), "promax", "quartimin",
    "geomin_obl", "varimax", "quartimax", "equamax", "geomin_ort" or None. See the module docstring
    for sign and order normalisation. Raises AnalysisError for bad input (see
    ``psychometrics.check_correlation_input``) or an impossible number of factors.
    """
    if method not in ("ml", "minres"):
        raise AnalysisError(f"efa: method must be 'ml' or 'minres', got {method!r}")
    if rotation is not None and rotation not in ROTATIONS:
        raise AnalysisError(
            f"efa: unknown rotation {rotation!r}; use one of {sorted(r for r in ROTATIONS if r != 'none')}"
        )
    if isinstance(df, ItemMoments):
        m = item_moments(df, items, what="efa")
        names, n_obs, r = m.items, m.n, m.corr.to_numpy(dtype=float)
    else:
        x, _ = check_correlation_input(df, items, what="efa")
        names, n_obs, r = [str(c) for c in x.columns], len(x), _canonical_corr(x.to_numpy())
    p = len(names)
    k = int(n_factors)
    if not 1 <= k < p:
        raise AnalysisError(f"efa: n_factors must be between 1 and {p - 1} for {p} items, got {n_factors}")
    if method == "ml" and ((p - k) ** 2 - (p + k)) < 0:
        raise AnalysisError(
            f"efa: {k} factors for {p} items leave negative degrees of freedom for ML; use fewer factors"
        )
    try:
        sol = factor_analysis(r, k, method=method, rotation=rotation or "none")
    except AnalysisError as exc:
        raise AnalysisError(f"efa: {exc} ({method}, {k} factors)") from None
    msgs = [w for w in sol.warnings if "Heywood" not in w]
    converged = bool(sol.converged)
    if not converged:
        msgs.insert(0, "NOT CONVERGED: the extraction or the rotation did not converge")
    lam, phi = np.asarray(sol.loadings, dtype=float).copy(), np.asarray(sol.phi, dtype=float).copy()
    h2 = np.asarray(sol.communalities, dtype=float)

    # signs: each factor's loadings sum positive
    s = np.sign(lam.sum(axis=0))
    s[s == 0] = 1.0
    lam = lam * s
    phi = phi * np.outer(s, s)
    # order: position of each factor's highest |loading| item, then SS loadings (desc), then index
    ss = np.diag(phi @ lam.T @ lam)
    top = np.argmax(np.abs(lam), axis=0)
    order = sorted(range(k), key=lambda f: (top[f], -round(float(ss[f]), 10), f))
    lam, phi, ss = lam[:, order], phi[np.ix_(order, order)], ss[order]
    fnames = [f"F{j + 1}" for j in range(k)]
    loadings = pd.DataFrame(lam, index=names, columns=fnames)
    phi_df = pd.DataFrame(phi, index=fnames, columns=fnames)
    variance = pd.DataFrame(
        {"factor": fnames, "ss_loadings": ss, "proportion": ss / p, "cumulative": np.cumsum(ss / p)}
    )
    heywood = [names[i] for i in np.flatnonzero(h2 >= 0.995)]
    if heywood:
        msgs.append(f"IMPROPER SOLUTION (Heywood case): communality >= .995 for {', '.join(heywood)}")
    return EFAResult(
        loadings=loadings,
        structure=pd.DataFrame(lam @ phi, index=names, columns=fnames),
        phi=phi_df,
        communalities=pd.Series(h2, index=names, name="communality"),
        uniquenesses=pd.Series(1.0 - h2, index=names, name="uniqueness"),
        variance=variance,
        n=n_obs,
        n_factors=k,
        method=method,
        rotation=rotation,
        converged=converged,
        heywood_items=heywood,
        warnings=msgs,
    )


# --------------------------------------------------------------------------------------------------
# purification
# --------------------------------------------------------------------------------------------------


@dataclass
class PurifyResult:
    """retained: {construct: [items]} after purification; removed: items in removal order;
    log: one row per removal, columns step, item, construct, rule, factor (the construct's factor),
    primary_loading (on that factor), cross_loading (largest |loading| elsewhere, signed),
    cross_factor, item_total_r, severity, n_items_after; assignment: {construct: factor} of the
    final solution; final: the EFA of the retained items."""

    retained: dict
    removed: list
    log: pd.DataFrame
    assignment: dict
    final: EFAResult
    rules: dict


def _assign_factors(lam: pd.DataFrame, constructs: Mapping[str, list]) -> dict:
    """Construct -> factor maximising the mean |loading| of the construct's items (one-to-one via the
    Hungarian algorithm when there are at least as many factors as constructs, else argmax)."""
    from scipy.optimize import linear_sum_assignment

    names = list(constructs)
    factors = list(lam.columns)
    score = np.array([[np.abs(lam.loc[constructs[c], f]).mean() for f in factors] for c in names])
    if len(factors) >= len(names):
        rows, cols = linear_sum_assignment(-score)
        return {names[r]: factors[c] for r, c in zip(rows, cols)}
    return {c: factors[int(np.argmax(score[i]))] for i, c in enumerate(names)}


def _item_total(m: ItemMoments, items: list) -> dict:
    c = m.subset(items).cov.to_numpy(dtype=float)
    out = {}
    for k, it in enumerate(items):
        others = [j for j in range(len(items)) if j != k]
        out[it] = float(c[k, others].sum() / np.sqrt(c[k, k] * c[np.ix_(others, others)].sum()))
    return out


def purify(
    df,
    constructs: Mapping[str, Sequence[str]],
    n_factors: int | None = None,
    rules: Mapping[str, float] | None = None,
    method: str = "ml",
    rotation: str | None = "oblimin",
) -> PurifyResult:
    """Iterative item purification: re-run the EFA after removing ONE item per step.

    Rules (each optional; absent or None = not applied), checked on every current item:

    * ``min_loading``: |loading on its construct's factor| must be >= min_loading;
    * ``max_cross_loading``: |loading| on every other factor must be <= max_cross_loading, and the
      item's highest |loading| must be on its construct's factor (else rule ``wrong_factor``);
    * ``min_item_total``: corrected item-total correlation within its construct >= min_item_total.

    Each construct's factor is found per step by ``_assign_factors``. An offending item's severity is
    its largest shortfall/excess over the thresholds (``wrong_factor``: |cross| - |primary| plus the
    cross-loading excess, if any); the item with the highest severity is removed, ties broken by
    construct order, then item order. If that removal would leave its construct with fewer than 2
    items, AnalysisError names the construct. Data: listwise deletion on the full item pool, once, so
    every step uses the same respondents (or the given :class:`~crfm.stats.psychometrics.ItemMoments`).
    ``n_factors`` defaults to the number of constructs.
    """
    rules = dict(rules or {})
    unknown = sorted(set(rules) - set(RULE_KEYS))
    if unknown:
        raise AnalysisError(f"purify: unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULE_KEYS)}")
    if not constructs:
        raise AnalysisError("purify: no constructs given")
    current = {c: list(items) for c, items in constructs.items()}
    for c, items in current.items():
        if len(items) < 2:
            raise AnalysisError(f"purify: construct '{c}' starts with fewer than 2 items ({items})")
    seen: dict = {}
    for c, items in current.items():
        for it in items:
            if it in seen:
                raise AnalysisError(f"purify: item '{it}' is listed under both '{seen[it]}' and '{c}'")
            seen[it] = c
    k = len(current) if n_factors is None else int(n_factors)
    pool = [it for items in current.values() for it in items]
    x = item_moments(df, pool, min_cases=len(pool) + 1, what="purify")
    c_order = {c: j for j, c in enumerate(current)}
    i_order = {it: j for j, it in enumerate(pool)}
    log_rows: list = []
    removed: list = []
    step = 0
    while True:
        items_now = [it for items in current.values() for it in items]
        res = efa(x, k, method=method, rotation=rotation, items=items_now)
        assign = _assign_factors(res.loadings, current)
        offenders = []
        for c, items in current.items():
            f = assign[c]
            itr = _item_total(x, items) if len(items) >= 2 else {}
            for it in items:
                row = res.loadings.loc[it]
                prim = float(row[f])
                other = row.drop(f)
                if len(other):
                    cf = str(other.abs().idxmax())
                    cross = float(other[cf])
                else:
                    cf, cross = None, 0.0
                r_it = itr.get(it, np.nan)
                cand = []
                if rules.get("min_loading") is not None and abs(prim) < rules["min_loading"]:
                    cand.append((rules["min_loading"] - abs(prim), "min_loading"))
                excess = abs(cross) - rules["max_cross_loading"] if rules.get("max_cross_loading") is not None else None
                if abs(cross) > abs(prim) and rules.get("max_cross_loading") is not None:
                    cand.append((abs(cross) - abs(prim) + max(excess, 0.0), "wrong_factor"))
                elif excess is not None and excess > 0:
                    cand.append((excess, "max_cross_loading"))
                if rules.get("min_item_total") is not None and r_it < rules["min_item_total"]:
                    cand.append((rules["min_item_total"] - r_it, "min_item_total"))
                if cand:
                    sev, rule = max(cand, key=lambda t: t[0])
                    offenders.append(
                        dict(
                            item=it,
                            construct=c,
                            rule=rule,
                            factor=f,
                            primary_loading=prim,
                            cross_loading=cross,
                            cross_factor=cf,
                            item_total_r=r_it,
                            severity=float(sev),
                        )
                    )
        if not offenders:
            break
        worst = min(offenders, key=lambda o: (-round(o["severity"], 12), c_order[o["construct"]], i_order[o["item"]]))
        c = worst["construct"]
        if len(current[c]) - 1 < 2:
            raise AnalysisError(
                f"purify: removing item '{worst['item']}' (rule {worst['rule']}) would leave construct "
                f"'{c}' with fewer than 2 items ({', '.join(current[c])}); relax the rules or revise "
                "the construct"
            )
        step += 1
        current[c].remove(worst["item"])
        removed.append(worst["item"])
        log_rows.append({"step": step, **worst, "n_items_after": sum(len(v) for v in current.values())})
    cols = [
        "step",
        "item",
        "construct",
        "rule",
        "factor",
        "primary_loading",
        "cross_loading",
        "cross_factor",
        "item_total_r",
        "severity",
        "n_items_after",
    ]
    return PurifyResult(
        retained={c: list(v) for c, v in current.items()},
        removed=removed,
        log=pd.DataFrame(log_rows, columns=cols),
        assignment=assign,
        final=res,
        rules=rules,
    )


def split_halves(df: pd.DataFrame, seed: int, fraction: float = 0.5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random calibration / validation split: ``round(fraction * n)`` rows to calibration, the rest to
    validation, drawn by ``numpy.random.default_rng(seed).permutation``; each half keeps the original
    row order and index. Deterministic for a given seed."""
    if not 0 < fraction < 1:
        raise AnalysisError(f"split_halves: fraction must be in (0, 1), got {fraction}")
    n = len(df)
    n_cal = int(round(fraction * n))
    if n_cal < 1 or n_cal >= n:
        raise AnalysisError(
            f"split_halves: {n} rows cannot be split with fraction {fraction} into two non-empty halves"
        )
    perm = np.random.default_rng(seed).permutation(n)
    cal = np.sort(perm[:n_cal])
    val = np.sort(perm[n_cal:])
    return df.iloc[cal].copy(), df.iloc[val].copy()
