"""Modification indices as lavaan's ``modindices()`` (score test of each omitted parameter).

Candidates (``lav_partable_full`` as lavaan uses it, minus the parameters already in the model):
every cross-loading ``lv =~ ov`` (ov not a fixed.x covariate) and every residual covariance
``ov1 ~~ ov2`` among the non-x observed variables, per group. With the unit information I of the
model extended by the candidates (lavaan's default ``information = "expected"``; under FIML the
pattern-wise expected information, ``lav_mvnorm_missing_information_expected``), s the candidate's
derivative of logL/N, and V = I_11 - I_12 I_22^-1 I_21:

    mi = N s^2 / V,     epc = s / V,
    sepc.lv / sepc.all: the epc standardized like the parameter itself (``lav_standardize_lv/_all``;
    a residual covariance by the product of the two residual SDs, cov.std = TRUE).

Rows whose V is below eps^(1/3) (not identified) are dropped (lavaan's na.remove).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crfm.errors import AnalysisError

from .ml import _grad_group

__all__ = ["modindices"]


def modindices(res, minimum: float = 0.0) -> pd.DataFrame:
    prob = res._problem
    comp, pt = prob.c, prob.c.pt
    theta = res.theta
    imp, vals = prob.implied(theta)
    q = comp.q
    names = list(comp.ov) + list(comp.lv)
    pos = {v: k for k, v in enumerate(names)}
    xs = set(comp.ov_x)
    ov = [v for v in comp.ov if v not in xs]
    I22 = np.zeros((q, q))
    per_group = []
    for g, (gd, (Sigma, mu, E, S, al, _A)) in enumerate(zip(prob.groups, imp)):
        out = _grad_group(comp.p, gd, Sigma, mu, prob, want_info=True)
        if out is None:
            raise AnalysisError("modification indices: the implied covariance matrix is not positive definite")
        ll, mgrad, A1 = out[:3]
        D = comp.delta(g, vals, E, S, al)
        I22 += D.T @ A1 @ D / prob.N
        rows = np.nonzero(pt.group == g)[0]
        have = {(pt.lhs[k], pt.op[k], pt.rhs[k]) for k in rows}
        cand = []
        for lv in comp.lv:
            for v in ov:
                if (lv, "=~", v) not in have:
                    cand.append((lv, "=~", v, "A", pos[v], pos[lv]))
        for i, a in enumerate(ov):
            for b in ov[i + 1 :]:
                if (a, "~~", b) not in have and (b, "~~", a) not in have:
                    cand.append((a, "~~", b, "S", pos[a], pos[b]))
        if not cand:
            continue
        Aij = (
            np.array([c[4] for c in cand if c[3] == "A"], dtype=int),
            np.array([c[5] for c in cand if c[3] == "A"], dtype=int),
        )
        Sij = (
            np.array([c[4] for c in cand if c[3] == "S"], dtype=int),
            np.array([c[5] for c in cand if c[3] == "S"], dtype=int),
        )
        cand = [c for c in cand if c[3] == "A"] + [c for c in cand if c[3] == "S"]
        Jc = comp.jac_rows(E, S, al, Aij, Sij, np.array([], dtype=int))  # (ncand, nmom)
        I11 = np.einsum("im,mn,in->i", Jc, A1, Jc) / prob.N
        I12 = Jc @ A1 @ D / prob.N
        s = Jc @ mgrad / prob.N  # d logL / N
        Om = E @ S @ E.T
        per_group.append((g, gd, cand, I11, I12, s, Om, S))
    if not per_group:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"])
    I22inv = np.linalg.inv(I22)
    out_rows = []
    for _g, gd, cand, I11, I12, s, Om, S in per_group:
        V = I11 - np.einsum("iq,qr,ir->i", I12, I22inv, I12)
        sd = np.sqrt(np.clip(np.diag(Om), 0, None))
        for t, (a, op, b, _kind, i, j) in enumerate(cand):
            if V[t] < np.finfo(float).eps ** (1 / 3):
                continue
            mi = prob.N * s[t] ** 2 / V[t]
            epc = s[t] / V[t]
            if op == "=~":
                sepc_lv = epc * sd[j]
                sepc_all = epc * sd[j] / sd[i]
            else:
                denom = np.sqrt(S[i, i] * S[j, j]) if S[i, i] > 0 and S[j, j] > 0 else np.nan
                sepc_lv = epc if i < comp.p else epc / denom
                sepc_all = epc / denom
            out_rows.append(
                {
                    "lhs": a,
                    "op": op,
                    "rhs": b,
                    "group": gd.label if comp.ngroups > 1 else 1,
                    "mi": mi,
                    "epc": epc,
                    "sepc_lv": sepc_lv,
                    "sepc_all": sepc_all,
                }
            )
    df = pd.DataFrame(out_rows)
    df = df[df["mi"] >= minimum].sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)
    return df
