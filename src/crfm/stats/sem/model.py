"""Model: parameter table -> model matrices -> implied moments and their Jacobian.

Representation (RAM / McArdle-McDonald, equivalent to lavaan's LISREL matrices): all observed and
latent variables in one vector v (observed first, in lavaan's ``ov`` order, then latents),
``v = alpha + A v + e`` with Cov(e) = S. With E = (I - A)^-1 and F the selector of the observed:

    Sigma(theta) = F E S E' F',      mu(theta) = F E alpha.

``lhs =~ rhs`` is A[rhs, lhs], ``lhs ~ rhs`` is A[lhs, rhs], ``lhs ~~ rhs`` is S[lhs, rhs] = S[rhs, lhs],
``lhs ~ 1`` is alpha[lhs]. (lavaan: ``lav_model_implied``/``computeSigmaHat`` with
Sigma = Lambda (I - B)^-1 Psi (I - B)^-T Lambda' + Theta.)

Jacobian Delta = d(mu, vech Sigma)/d theta' (lavaan ``computeDelta``), with M = E S E' F'
(covariances of every variable with the observed ones) and m = E alpha:

* A[a, b]:  dSigma = u w' + w u',  u = (F E)[:, a], w = M[b, :];   dmu = u m_b
* S[a, b]:  dSigma = u v' + v u' (a != b) or u u' (a = b), u = (F E)[:, a], v = (F E)[:, b]
* alpha[a]: dmu = (F E)[:, a]

vech runs over i >= j (row-major lower triangle); rows of the table that share a free parameter
(equality constraints) are summed into one column. Everything that depends only on the model
(index maps, row -> parameter maps) is computed once per (model, groups, options) and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crfm.errors import AnalysisError

from .partable import ParTable, build_partable
from .syntax import Statement, parse_syntax

__all__ = ["Model", "Compiled", "compile_model"]


class Model:
    """A model in lavaan syntax. ``Model.from_syntax(text)``; immutable and hashable (by its text)."""

    __slots__ = ("syntax", "statements")

    def __init__(self, syntax: str):
        self.syntax = syntax
        self.statements: tuple[Statement, ...] = tuple(parse_syntax(syntax))

    @classmethod
    def from_syntax(cls, text: str) -> Model:
        return cls(text)

    def __hash__(self) -> int:
        return hash(self.syntax)

    def __eq__(self, other) -> bool:
        return isinstance(other, Model) and other.syntax == self.syntax

    def __repr__(self) -> str:
        return f"Model.from_syntax({self.syntax!r})"

    @property
    def observed(self) -> tuple[str, ...]:
        return compile_model(self, 1, False, False, (), ()).ov

    @property
    def latent(self) -> tuple[str, ...]:
        return compile_model(self, 1, False, False, (), ()).lv


@dataclass(frozen=True)
class Compiled:
    pt: ParTable
    ov: tuple[str, ...]
    lv: tuple[str, ...]
    ov_x: tuple[str, ...]
    p: int
    m: int
    q: int  # unique free parameters
    meanstructure: bool
    # per-group row index maps: arrays of table rows, and positions in the matrices
    g_rows: tuple  # per group: dict kind -> (rows, i, j)
    g_P: tuple  # per group: (nrows_g, q) row -> free parameter map (dense 0/1)
    vech_i: np.ndarray
    vech_j: np.ndarray
    vech_f: np.ndarray  # 1 off-diagonal, 0.5 diagonal
    x_idx: np.ndarray  # positions of ov.x among the observed
    theta_rows: np.ndarray  # for each free parameter, the first table row carrying it

    def jac_rows(self, E, S, al, A_ij, S_ij, al_i):
        return _jac_rows(self, E, S, al, A_ij, S_ij, al_i)

    @property
    def ngroups(self) -> int:
        return self.pt.ngroups

    def values(self, theta: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """Value of every table row: fixed values, with the free rows taken from theta."""
        v = fixed.copy()
        fr = self.pt.free > 0
        v[fr] = theta[self.pt.free[fr] - 1]
        return v

    def matrices(self, g: int, vals: np.ndarray):
        """A, S, alpha of group g from the row values."""
        m = self.m
        A = np.zeros((m, m))
        S = np.zeros((m, m))
        al = np.zeros(m)
        rows = self.g_rows[g]
        r, i, j = rows["A"]
        A[i, j] = vals[r]
        r, i, j = rows["S"]
        S[i, j] = vals[r]
        S[j, i] = vals[r]
        r, i, _ = rows["al"]
        al[i] = vals[r]
        return A, S, al

    def implied(self, g: int, vals: np.ndarray):
        """(Sigma, mu, E, S, alpha, A) of group g; mu is None without a mean structure."""
        A, S, al = self.matrices(g, vals)
        E = np.linalg.inv(np.eye(self.m) - A)
        Ef = E[: self.p]
        Sigma = Ef @ S @ Ef.T
        mu = Ef @ al if self.meanstructure else None
        return Sigma, mu, E, S, al, A

    def delta(self, g: int, vals: np.ndarray, E=None, S=None, al=None):
        """Delta_g: d(mu, vech Sigma)/d theta' (mean rows first when there is a mean structure)."""
        if E is None:
            _, _, E, S, al, _ = self.implied(g, vals)
        rows = self.g_rows[g]
        J = self.jac_rows(E, S, al, rows["A_free"][1:], rows["S_free"][1:], rows["al_free"][1])
        return J.T @ self.g_P[g]


def _jac_rows(c, E, S, al, A_ij, S_ij, al_i):
    """d(mu, vech Sigma)/d(value) for matrix elements A[a, b], S[c, d] (symmetric), alpha[e] (one row each)."""
    p = c.p
    Ef = E[:p]
    M = E @ S @ Ef.T  # (m, p)
    vi, vj = c.vech_i, c.vech_j
    iA, jA = A_ij
    iS, jS = S_ij
    blocks = []
    mblocks = []
    if len(iA):
        U = Ef[:, iA].T
        W = M[jA]
        blocks.append(U[:, vi] * W[:, vj] + W[:, vi] * U[:, vj])
        if c.meanstructure:
            mvec = E @ al
            mblocks.append(U * mvec[jA][:, None])
    if len(iS):
        U = Ef[:, iS].T
        V = Ef[:, jS].T
        cc = np.where(iS == jS, 0.5, 1.0)[:, None]
        blocks.append(cc * (U[:, vi] * V[:, vj] + V[:, vi] * U[:, vj]))
        if c.meanstructure:
            mblocks.append(np.zeros((len(iS), p)))
    if len(al_i):
        blocks.append(np.zeros((len(al_i), len(vi))))
        mblocks.append(Ef[:, al_i].T)
    nmom = len(vi) + (p if c.meanstructure else 0)
    if not blocks:
        return np.zeros((0, nmom))
    Jc = np.vstack(blocks)
    if c.meanstructure:
        return np.hstack([np.vstack(mblocks), Jc])
    return Jc


def _vech_idx(p: int):
    ii, jj = [], []
    for j in range(p):
        for i in range(j, p):
            ii.append(i)
            jj.append(j)
    ii = np.array(ii, dtype=int)
    jj = np.array(jj, dtype=int)
    return ii, jj, np.where(ii == jj, 0.5, 1.0)


@lru_cache(maxsize=128)
def compile_model(
    model: Model, ngroups: int, meanstructure: bool, std_lv: bool, group_equal: tuple, group_partial: tuple
) -> Compiled:
    pt = build_partable(
        list(model.statements),
        ngroups=ngroups,
        meanstructure=meanstructure,
        std_lv=std_lv,
        group_equal=group_equal,
        group_partial=group_partial,
    )
    ov = pt.roles.ov
    lv = pt.roles.lv
    names = list(ov) + list(lv)
    pos = {v: k for k, v in enumerate(names)}
    p, m = len(ov), len(names)
    if p == 0:
        raise AnalysisError("model has no observed variables")
    q = pt.npar
    g_rows = []
    g_P = []
    for g in range(ngroups):
        rows = {"A": ([], [], []), "S": ([], [], []), "al": ([], [], [])}
        order = []  # free rows in the order Delta stacks them: A_free, S_free, al_free
        free_rows = {"A_free": ([], [], []), "S_free": ([], [], []), "al_free": ([], [], [])}
        for k in np.nonzero(pt.group == g)[0]:
            o, a, b = pt.op[k], pt.lhs[k], pt.rhs[k]
            if o == "=~":
                kind, i, j = "A", pos[b], pos[a]
            elif o == "~":
                kind, i, j = "A", pos[a], pos[b]
            elif o == "~~":
                kind, i, j = "S", pos[a], pos[b]
            elif o == "~1":
                kind, i, j = "al", pos[a], 0
            else:  # pragma: no cover - parser refuses others
                raise AnalysisError(f"unsupported operator {o}")
            for lst, val in zip(rows[kind], (k, i, j)):
                lst.append(val)
            if pt.free[k] > 0:
                for lst, val in zip(free_rows[kind + "_free"], (k, i, j)):
                    lst.append(val)
        d = {kk: tuple(np.array(x, dtype=int) for x in vv) for kk, vv in rows.items()}
        d.update({kk: tuple(np.array(x, dtype=int) for x in vv) for kk, vv in free_rows.items()})
        order = list(d["A_free"][0]) + list(d["S_free"][0]) + list(d["al_free"][0])
        P = np.zeros((len(order), q))
        for r_i, k in enumerate(order):
            P[r_i, pt.free[k] - 1] = 1.0
        g_rows.append(d)
        g_P.append(P)
    vi, vj, vf = _vech_idx(p)
    theta_rows = np.array([int(np.nonzero(pt.free == k)[0][0]) for k in range(1, q + 1)], dtype=int)
    x_idx = np.array([ov.index(x) for x in pt.roles.ov_x], dtype=int)
    return Compiled(
        pt=pt,
        ov=tuple(ov),
        lv=tuple(lv),
        ov_x=tuple(pt.roles.ov_x),
        p=p,
        m=m,
        q=q,
        meanstructure=meanstructure,
        g_rows=tuple(g_rows),
        g_P=tuple(g_P),
        vech_i=vi,
        vech_j=vj,
        vech_f=vf,
        x_idx=x_idx,
        theta_rows=theta_rows,
    )
