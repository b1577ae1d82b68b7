"""The parameter table: lavaan's ``lavaanify()`` defaults for ``sem()``/``cfa()`` (lavaan 0.6-14).

Mirrors ``lav_partable_vnames``, ``lav_partable_flat`` and ``lav_partable_labels``:

* variable roles: ``lv`` = left of ``=~``; ``ov.ind`` = observed indicators; ``ov.y`` = observed
  left of ``~`` that are not indicators; ``ov.x`` = observed right of ``~`` that are neither
  indicators nor ``ov.y`` and have no user ``~~``/``~1`` (the exogenous covariates); ``lv.x`` =
  latents that are neither indicators nor left of ``~``; ``lv.y`` / pure ``ov.y`` = left of ``~``,
  not indicators and not right of ``~``.
* defaults added (``auto.var``, ``auto.cov.lv.x``, ``auto.cov.y``, ``fixed.x``): variances of every
  non-x observed variable and every latent; covariances among ``lv.x``; covariances among pure
  ``lv.y``/``ov.y``; the (co)variances (and means) of ``ov.x`` fixed at their sample values
  (``exo`` rows, not counted as parameters); intercepts of all observed variables (free) and latent
  means (fixed 0) when there is a mean structure. No covariance is added between an exogenous latent
  and an observed covariate: it is fixed at 0 (lavaan's behaviour, checked with
  ``textual ~ visual + ageyr``).
* identification: the first loading of each factor fixed to 1 (``auto.fix.first``) unless
  ``std.lv``, which fixes every latent (residual) variance to 1 instead; a single indicator that
  belongs to one factor only gets its residual variance fixed to 0 (``auto.fix.single``).
* multi-group: the table is replicated per group; ``group.equal`` gives the group-1 parameters of
  the named kinds a shared label across groups (``group.partial`` "lhs op rhs" excluded); with
  equal intercepts (and not equal means) the latent means of groups 2..G are freed; with std.lv
  and equal loadings (and not equal lv.variances) the latent variances of groups 2..G are freed.
* equality: rows sharing a label share one free parameter (lavaan's ``==`` constraints folded in:
  the optimiser works on the unique free parameters, npar counts them once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crfm.errors import AnalysisError

from .syntax import Statement

__all__ = ["Roles", "ParTable", "variable_roles", "build_partable", "GROUP_EQUAL_KINDS"]

GROUP_EQUAL_KINDS = (
    "loadings",
    "intercepts",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "means",
    "regressions",
)


def _uniq(seq):
    seen = set()
    out = []
    for s in seq:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


@dataclass(frozen=True)
class Roles:
    lv: tuple[str, ...]
    ov: tuple[str, ...]  # observed variables in lavaan's order: ov.ind, ov.y, ov.x, others
    ov_x: tuple[str, ...]
    ov_nox: tuple[str, ...]
    lv_x: tuple[str, ...]
    lvov_y: tuple[str, ...]  # pure dependent variables (auto.cov.y)
    ov_ind: tuple[str, ...]


def variable_roles(stmts: list[Statement]) -> Roles:
    lv = _uniq(s.lhs for s in stmts if s.op == "=~")
    lvset = set(lv)
    v_ind = _uniq(s.rhs for s in stmts if s.op == "=~")
    eqs_y = _uniq(s.lhs for s in stmts if s.op == "~")
    eqs_x = _uniq(s.rhs for s in stmts if s.op == "~")
    ov_ind = [v for v in v_ind if v not in lvset]
    ov_y = [v for v in eqs_y if v not in lvset and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lvset and v not in ov_ind and v not in ov_y]
    user_mentioned = {s.lhs for s in stmts if s.op in ("~1", "~~")} | {s.rhs for s in stmts if s.op == "~~"}
    ov_x = [v for v in ov_x if v not in user_mentioned]
    ov_cov = [s.lhs for s in stmts if s.op == "~~" and s.lhs not in lvset] + [
        s.rhs for s in stmts if s.op == "~~" and s.rhs not in lvset
    ]
    ov_int = [s.lhs for s in stmts if s.op == "~1" and s.lhs not in lvset]
    ov_tmp = ov_ind + ov_y + [v for v in eqs_x if v not in lvset and v not in ov_ind and v not in ov_y]
    ov = _uniq(ov_tmp + [v for v in _uniq(ov_cov + ov_int) if v not in ov_tmp])
    ov_nox = [v for v in ov if v not in ov_x]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    pure_ov_y = [v for v in ov if v in eqs_y and v not in v_ind and v not in eqs_x and v not in lvset]
    return Roles(tuple(lv), tuple(ov), tuple(ov_x), tuple(ov_nox), tuple(lv_x), tuple(lv_y + pure_ov_y), tuple(ov_ind))


@dataclass
class ParTable:
    """Columns of lavaan's parameter table (one row per parameter per group)."""

    lhs: list[str]
    op: list[str]
    rhs: list[str]
    group: np.ndarray  # 0-based
    user: np.ndarray  # 1 = written by the user, 0 = default
    free: np.ndarray  # 0 = fixed, k >= 1 = unique free parameter k (equalities folded in)
    ustart: np.ndarray  # fixed value (NaN for exo rows: filled from the sample)
    exo: np.ndarray  # 1 = fixed.x row
    label: list[str]  # user label, or the group.equal label (".pN." style not used)
    eq_label: list[str]  # lavaan's internal label (lhs op rhs .gG, shared under group.equal)
    roles: Roles
    ngroups: int
    meanstructure: bool
    npar: int = field(default=0)

    def __len__(self) -> int:
        return len(self.lhs)

    def key(self, i: int) -> str:
        return f"{self.lhs[i]} {self.op[i]} {self.rhs[i]}".strip()

    def unit_variance_latents(self, latents) -> set[str]:
        """The latent variables of ``latents`` whose variance is fixed at 1 (std.lv identification)."""
        return {
            self.lhs[k]
            for k in range(len(self))
            if self.op[k] == "~~"
            and self.lhs[k] == self.rhs[k]
            and self.lhs[k] in latents
            and self.free[k] == 0
            and self.ustart[k] == 1.0
        }


def _norm_partial(s: str) -> str:
    return "".join(s.split())


def build_partable(
    stmts: list[Statement],
    *,
    ngroups: int = 1,
    meanstructure: bool = False,
    std_lv: bool = False,
    group_equal=(),
    group_partial=(),
    fixed_x: bool = True,
) -> ParTable:
    roles = variable_roles(stmts)
    group_equal = tuple(group_equal or ())
    for ge in group_equal:
        if ge not in GROUP_EQUAL_KINDS:
            raise AnalysisError(f"group_equal: unknown kind '{ge}' (use one of {', '.join(GROUP_EQUAL_KINDS)})")
    lv = list(roles.lv)
    lvset = set(lv)
    # ---- USER rows (duplicates dropped, as lavaan does with a warning)
    user_rows: list[Statement] = []
    seen = set()
    for s in stmts:
        k = (s.lhs, s.op, s.rhs)
        k2 = (s.rhs, s.op, s.lhs) if s.op == "~~" else k
        if k in seen or k2 in seen:
            continue
        seen.add(k)
        user_rows.append(s)
    # ---- DEFAULT rows (lav_partable_flat)
    dl, dr, dop = [], [], []
    for v in list(roles.ov_nox) + lv:
        dl.append(v)
        dr.append(v)
        dop.append("~~")  # noqa: E702
    lvx = list(roles.lv_x)
    for i in range(len(lvx)):
        for j in range(i + 1, len(lvx)):
            dl.append(lvx[i])
            dr.append(lvx[j])
            dop.append("~~")  # noqa: E702
    ys = list(roles.lvov_y)
    for i in range(len(ys)):
        for j in range(i + 1, len(ys)):
            dl.append(ys[i])
            dr.append(ys[j])
            dop.append("~~")  # noqa: E702
    ovx = list(roles.ov_x)
    for j in range(len(ovx)):
        for i in range(j, len(ovx)):
            dl.append(ovx[j])
            dr.append(ovx[i])
            dop.append("~~")  # noqa: E702
    if meanstructure:
        for v in list(roles.ov) + lv:
            dl.append(v)
            dr.append("")
            dop.append("~1")  # noqa: E702
    lhs = [s.lhs for s in user_rows]
    op = [s.op for s in user_rows]
    rhs = [s.rhs for s in user_rows]
    for a, o, b in zip(dl, dop, dr):
        if (a, o, b) in seen or (o == "~~" and (b, o, a) in seen):
            continue
        lhs.append(a)
        op.append(o)
        rhs.append(b)  # noqa: E702
    nu = len(user_rows)
    n1 = len(lhs)
    user = np.array([1] * nu + [0] * (n1 - nu))
    free = np.ones(n1, dtype=int)
    ustart = np.full(n1, np.nan)
    exo = np.zeros(n1, dtype=int)
    lhs_a, op_a, rhs_a = np.array(lhs, dtype=object), np.array(op, dtype=object), np.array(rhs, dtype=object)
    is_lv_lhs = np.array([x in lvset for x in lhs])
    if std_lv:
        idx = (op_a == "~~") & is_lv_lhs & (lhs_a == rhs_a)
        ustart[idx] = 1.0
        free[idx] = 0
    else:
        done = set()
        for i in range(n1):
            if op[i] == "=~" and lhs[i] not in done:
                done.add(lhs[i])
                ustart[i] = 1.0
                free[i] = 0
    # auto.fix.single
    mm = [i for i in range(n1) if op[i] == "=~"]
    counts: dict[str, int] = {}
    for i in mm:
        counts[lhs[i]] = counts.get(lhs[i], 0) + 1
    rhs_mm = [rhs[i] for i in mm]
    for i in mm:
        if counts[lhs[i]] == 1 and lhs[i] != rhs[i] and rhs_mm.count(rhs[i]) == 1:
            for k in range(n1):
                if op[k] == "~~" and lhs[k] == rhs[i] and rhs[k] == rhs[i] and user[k] == 0:
                    ustart[k] = 0.0
                    free[k] = 0
    if meanstructure:
        idx = (op_a == "~1") & is_lv_lhs & (user == 0)
        ustart[idx] = 0.0
        free[idx] = 0
    if fixed_x and ovx:
        xs = set(ovx)
        for k in range(n1):
            if user[k] == 0 and ((op[k] == "~~" and lhs[k] in xs and rhs[k] in xs) or (op[k] == "~1" and lhs[k] in xs)):
                ustart[k] = np.nan
                free[k] = 0
                exo[k] = 1
    # ---- replicate per group
    G = ngroups
    group = np.repeat(np.arange(G), n1)
    lhs_g = lhs * G
    op_g = op * G
    rhs_g = rhs * G
    user_g = np.tile(user, G)
    free_g = np.tile(free, G)
    ustart_g = np.tile(ustart, G)
    exo_g = np.tile(exo, G)
    n = n1 * G
    for k in range(n):
        if group[k] == 0:
            continue
        if meanstructure and op_g[k] == "~1" and lhs_g[k] in lvset and user_g[k] == 0:
            if "intercepts" in group_equal and "means" not in group_equal:
                free_g[k] = 1
                ustart_g[k] = np.nan
        if std_lv and "loadings" in group_equal and "lv.variances" not in group_equal:
            if op_g[k] == "~~" and lhs_g[k] in lvset and lhs_g[k] == rhs_g[k] and user_g[k] == 0:
                free_g[k] = 1
                ustart_g[k] = np.nan
    # ---- user modifiers (a single modifier applies to every group)
    label_user = [""] * n
    for k in range(n):
        if user_g[k] != 1:
            continue
        s = user_rows[k % n1]
        if s.fixed is not None:
            free_g[k] = 0
            ustart_g[k] = s.fixed
        elif s.free:
            free_g[k] = 1
            ustart_g[k] = np.nan
        if s.label:
            label_user[k] = s.label
    # ---- labels (lav_partable_labels)
    lab = [f"{lhs_g[k]}{op_g[k]}{rhs_g[k]}" + (f".g{group[k] + 1}" if group[k] > 0 else "") for k in range(n)]
    if G > 1 and group_equal:
        ov_nox = set(roles.ov_nox)
        partial = {_norm_partial(p) for p in (group_partial or ())}
        for k in range(n1):  # group-1 rows
            o, a, b = op_g[k], lhs_g[k], rhs_g[k]
            flag = (
                ("loadings" in group_equal and o == "=~")
                or ("intercepts" in group_equal and o == "~1" and a in ov_nox)
                or ("means" in group_equal and o == "~1" and a in lvset)
                or ("regressions" in group_equal and o == "~")
                or ("residuals" in group_equal and o == "~~" and a in ov_nox and a == b)
                or ("residual.covariances" in group_equal and o == "~~" and a in ov_nox and a != b)
                or ("lv.variances" in group_equal and o == "~~" and a in lvset and a == b)
                or ("lv.covariances" in group_equal and o == "~~" and a in lvset and a != b)
            )
            if flag and f"{a}{o}{b}" in partial:
                flag = False
            if flag:
                for g in range(1, G):
                    lab[g * n1 + k] = lab[k]
    for k in range(n):
        if label_user[k]:
            lab[k] = label_user[k]
    # ---- equality constraints folded into unique free parameters
    groups_of: dict[str, list[int]] = {}
    for k in range(n):
        groups_of.setdefault(lab[k], []).append(k)
    free_idx = np.zeros(n, dtype=int)
    for k in range(n):
        members = groups_of[lab[k]]
        if len(members) > 1:
            fixed_members = [m for m in members if free_g[m] == 0]
            if fixed_members:
                val = ustart_g[fixed_members[0]]
                for m in members:
                    free_g[m] = 0
                    ustart_g[m] = val
    counter = 0
    assigned: dict[str, int] = {}
    for k in range(n):
        if free_g[k] == 0:
            continue
        if lab[k] in assigned and len(groups_of[lab[k]]) > 1:
            free_idx[k] = assigned[lab[k]]
        else:
            counter += 1
            free_idx[k] = counter
            assigned[lab[k]] = counter
    shown_label = [label_user[k] if label_user[k] else (lab[k] if len(groups_of[lab[k]]) > 1 else "") for k in range(n)]
    return ParTable(
        lhs=lhs_g,
        op=op_g,
        rhs=rhs_g,
        group=group,
        user=user_g,
        free=free_idx,
        ustart=ustart_g,
        exo=exo_g,
        label=shown_label,
        eq_label=lab,
        roles=roles,
        ngroups=G,
        meanstructure=meanstructure,
        npar=counter,
    )
