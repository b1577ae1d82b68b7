"""Maths for readers: one source (a small subset of LaTeX maths), two outputs (Unicode HTML, LaTeX).

The output layer writes every formula once, in LaTeX (``r"\\mathrm{CR} = (\\sum\\lambda)^2"``): the
.tex appendix sets it as maths (``$...$``), the HTML appendix shows it as Unicode with italics,
superscripts and subscripts, and plain text (figure labels, PDF bookmarks) gets the same Unicode without
markup. The subset is what statistical notes need: Latin letters (italic), digits and operators
(upright), Greek letters (``\\alpha``), ``\\sum``, ``\\sqrt{..}``, ``\\mathrm{..}``, ``\\text{..}``,
relations (``\\geq``, ``\\leq``, ``\\neq``, ``\\approx``, ``\\pm``, ``\\times``, ``\\to``, ``\\cap``,
``\\cup``, ``\\min``, ``\\max``), ``^`` and ``_`` with one character or a braced group, ``\\prime``.

:func:`rich_note` rewrites the studies' ASCII notes (``sqrt(AVE)``, ``alpha >= 0.7``,
``CR = (sum l)^2 / ...``, ``t(df_resid)``, ``wald_*``) into text + maths (:data:`NOTE_REWRITES`); the
studies layer keeps writing plain ASCII notes in the CSVs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
SYMBOLS = {
    "sum": "Σ", "geq": "≥", "leq": "≤", "neq": "≠", "approx": "≈", "pm": "±", "times": "×", "to": "→",
    "rightarrow": "→", "cap": "∩", "cup": "∪", "cdot": "·", "prime": "′", "infty": "∞", "min": "min",
    "max": "max", "ln": "ln", "log": "log", ",": "\u2009", ";": " ", "quad": " ", "lvert": "|", "rvert": "|",
}  # fmt: skip
_SUP = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_TOKEN = re.compile(r"\\([A-Za-z]+|[,;])|([\^_])|(\{)|(\})|([A-Za-z])|(\s+)|(.)", re.S)


@dataclass(frozen=True)
class Math:
    """A formula in the LaTeX subset; ``html``/``plain`` derived, ``tex`` as written."""

    tex: str

    @property
    def html(self) -> Markup:
        return Markup(_to_html(self.tex))

    @property
    def plain(self) -> str:
        return _to_plain(self.tex)

    def to_html(self) -> Markup:
        return Markup(f'<span class="math">{_to_html(self.tex)}</span>')

    def to_tex(self, escape_latex) -> str:
        return f"${self.tex}$"

    def to_plain(self) -> str:
        return self.plain


def _group(tokens: list, i: int) -> tuple[list, int]:
    """The argument starting at ``tokens[i]``: a braced group or one token."""
    if i < len(tokens) and tokens[i][0] == "{":
        depth, j = 1, i + 1
        while j < len(tokens) and depth:
            depth += {"{": 1, "}": -1}.get(tokens[j][0], 0)
            j += 1
        return tokens[i + 1 : j - 1], j
    return tokens[i : i + 1], i + 1


def _lex(tex: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(tex):
        cmd, script, lb, rb, letter, space, other = m.groups()
        if cmd:
            out.append(("cmd", cmd))
        elif script:
            out.append((script, script))
        elif lb:
            out.append(("{", "{"))
        elif rb:
            out.append(("}", "}"))
        elif letter:
            out.append(("letter", letter))
        elif space:
            out.append(("space", " "))
        else:
            out.append(("other", other))
    return out


def _raw(tokens: list) -> str:
    """The text of a \\text{..} or \\mathrm{..} group, as written."""
    return "".join(v if k != "cmd" else SYMBOLS.get(v, GREEK.get(v, v)) for k, v in tokens if k not in ("{", "}"))


BINARY = {"geq", "leq", "neq", "approx", "pm", "times", "to", "rightarrow", "cap", "cup"}


def _render(tokens: list, html: bool) -> str:
    """Spacing follows TeX, not the source: binary operators and relations get spaces, a minus at the
    start of a group or after an opening bracket or operator is unary."""
    esc = (lambda s: str(escape(s))) if html else (lambda s: s)
    out, i = [], 0

    def binary(sym: str) -> None:
        unary = not out or out[-1].rstrip().endswith(("(", "[", "{", " ", "\u2212", "=")) or out[-1] == ""
        out.append(sym if unary and sym == "\u2212" else f" {sym} ")

    while i < len(tokens):
        kind, val = tokens[i]
        if kind == "cmd" and val in ("mathrm", "text", "operatorname", "mathit"):
            arg, i = _group(tokens, i + 1)
            text = esc(_raw(arg))
            out.append(f"<em>{text}</em>" if html and val == "mathit" else text)
        elif kind == "cmd" and val == "sqrt":
            arg, i = _group(tokens, i + 1)
            inner = _render(arg, html)
            simple = len(_flat(arg)) == 1 or arg[0] == ("cmd", "mathrm")
            out.append("√" + (inner if simple else f"({inner})"))
        elif kind == "cmd" and val in BINARY:
            binary(esc(SYMBOLS[val]))
            i += 1
        elif kind == "cmd":
            g = GREEK.get(val)
            if g is not None:
                out.append(f"<em>{g}</em>" if html and g.islower() else g)
            else:
                out.append(esc(SYMBOLS.get(val, val)))
            i += 1
        elif kind in ("^", "_"):
            arg, i = _group(tokens, i + 1)
            inner = _render(arg, html)
            if html:
                out.append(f"<sup>{inner}</sup>" if kind == "^" else f"<sub>{inner}</sub>")
            elif kind == "^" and all(c in "0123456789+-=()n" for c in inner):
                out.append(inner.translate(_SUP))
            else:
                out.append(kind + (inner if len(inner) == 1 else f"({inner})"))
        elif kind == "letter":
            out.append(f"<em>{val}</em>" if html else val)
            i += 1
        elif kind in ("space", "{", "}"):
            i += 1
        elif val in "=<>+-":
            binary(esc("\u2212" if val == "-" else val))
            i += 1
        elif val == ",":
            out.append(", ")
            i += 1
        else:
            out.append(esc("′" if val == "'" else val))
            i += 1
    return re.sub(" {2,}", " ", "".join(out)).strip()


def _flat(tokens):
    return [t for t in tokens if t[0] not in ("{", "}")]


def _to_html(tex: str) -> str:
    return _render(_lex(tex), True)


def _to_plain(tex: str) -> str:
    return _render(_lex(tex), False)


# --- rich text: literal runs and formulas -------------------------------------------------------


@dataclass(frozen=True)
class Rich:
    """Reader-facing text: literal strings and :class:`Math` runs."""

    parts: tuple

    def html(self) -> Markup:
        return Markup("").join(escape(p) if isinstance(p, str) else p.to_html() for p in self.parts)

    def tex(self, escape_latex) -> str:
        return "".join(escape_latex(p) if isinstance(p, str) else p.to_tex(escape_latex) for p in self.parts)

    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else p.to_plain() for p in self.parts)

    def keys(self) -> list[str]:
        """Bibliography keys of the citations in this text."""
        return [p.key for p in self.parts if hasattr(p, "key")]


def parse_markup(text: str) -> tuple:
    """``'a $x^2$ b'`` -> ('a ', Math('x^2'), ' b'): the markup of rewrite targets (never user text)."""
    parts = []
    for k, chunk in enumerate(text.split("$")):
        if k % 2:
            parts.append(Math(chunk))
        elif chunk:
            parts.append(chunk)
    return tuple(parts)


def _apa_p(m: re.Match) -> str:
    from crfm.report.apa import p_relation

    return f"$p$ {p_relation(float(m.group(1)))}"


def _bounded(m: re.Match) -> str:
    value = m.group(2)
    return f"{m.group(1)}{value[1:] if value.startswith('0.') else value}"


# (pattern, replacement): the replacement is markup ($...$ = LaTeX maths) or a function returning it.
# Order matters: whole formulas first, then names, then single symbols.
NOTE_REWRITES: list[tuple[re.Pattern, object]] = [
    (re.compile(p), r)
    for p, r in [
        (
            r"CR = \(sum l\)\^2 / \(\(sum l\)\^2 \+ sum\(1 - l\^2\)\)",
            r"$\mathrm{CR} = (\sum\lambda)^2 / [(\sum\lambda)^2 + \sum(1 - \lambda^2)]$",
        ),
        (r"AVE = mean\(l\^2\)", r"$\mathrm{AVE} = \mathrm{mean}(\lambda^2)$"),
        (r"\bl = standardized", r"$\lambda$ = standardized"),
        (r"r_A = \(r - r_M\) / \(1 - r_M\)", r"$r_A = (r - r_M) / (1 - r_M)$"),
        (r"\br_M\b", r"$r_M$"),
        (r"t test on n - 3 df", r"$t$ test on $n - 3$ degrees of freedom"),
        (
            r"M = min\(25 x non-zero coincidence cells, \(coders - 1\) x n / 2\)",
            r"$M = \min(25 \times \text{non-zero coincidence cells}, (\text{coders} - 1) \times n / 2)$",
        ),
        (
            r"q_below_x = share of bootstrap alphas below x",
            r"$q(\alpha < x)$ = share of bootstrap $\alpha$ values below $x$",
        ),
        (r"Unit of analysis: one segment_id", "Unit of analysis: one coded segment"),
        (r"\|both\| / \|either\|", "interviews with both codes / interviews with either code"),
        (r"diag\(phi L'L\)", r"$\mathrm{diag}(\Phi\Lambda'\Lambda)$"),
        (r"\(phi\)", r"($\Phi$)"),
        (r"t\(df_resid\) inference", r"$t$ tests on the residual degrees of freedom"),
        (r"wald_\*: HC3 Wald test", r"Wald $F$: HC3 Wald test"),
        (r"Delta R-squared", r"$\Delta R^2$"),
        (r"mc_se: Monte Carlo standard error", r"MC $SE$: Monte Carlo standard error"),
        (
            r"moderator values where the conditional effect's t equals t_crit; value on the centred scale, value_raw on the original",
            r"moderator values where the conditional effect's $t$ equals the critical $t$; values on the centred and on the raw scale",
        ),
        (r"Standardized \(std\.all\) loadings", "Standardized loadings"),
        (r"std\.all vs", "fully standardized loadings vs"),
        (r"semopy\.calc_stats", "semopy"),
        (r"objective MLW = lavaan ML", "objective MLW, equivalent to lavaan's ML"),
        (r"semopy MLW = lavaan ML", "semopy's MLW, equivalent to lavaan's ML"),
        (r"removed as wrong_factor", "removed (wrong factor)"),
        (r"square root of AVE", r"$\sqrt{\mathrm{AVE}}$"),
        (r"sqrt\(AVE\)", r"$\sqrt{\mathrm{AVE}}$"),
        (r"bias-corrected G1/G2", r"bias-corrected $G_1$ and $G_2$"),
        (r"\(N-divisor covariance\)", r"($N$-divisor covariance)"),
        (r"beta: coefficients", r"$\beta$: coefficients"),
        (r"alpha: Cronbach's raw alpha", r"$\alpha$: Cronbach's raw $\alpha$"),
        (
            r"\b(alpha|CR|AVE|r|HTMT) ?(>=|<=|<|>) ?(0?\.\d+)",
            lambda m: "{} {} {}".format(
                {"alpha": r"$\alpha$", "r": "$r$"}.get(m.group(1), m.group(1)),
                {">=": "≥", "<=": "≤"}.get(m.group(2), m.group(2)),
                m.group(3)[1:] if m.group(3).startswith("0.") else m.group(3),
            ),
        ),
        (
            r"(loading|cross-loading) (>=|<=) (0?\.\d+)",
            lambda m: "{} {} {}".format(
                m.group(1),
                {">=": "≥", "<=": "≤"}[m.group(2)],
                m.group(3)[1:] if m.group(3).startswith("0.") else m.group(3),
            ),
        ),
        (r"\bp = (\d+(?:\.\d+)?e-?\d+)", _apa_p),
        (r"\bp = (0?\.\d+)", lambda m: "$p$ = " + (m.group(1)[1:] if m.group(1).startswith("0.") else m.group(1))),
        (r"\bp < (\.\d+)", r"$p$ < \1"),
        (r"\bdf = (\d+)", r"$df$ = \1"),
        (r"\bat alpha = (\.\d+)", r"at $\alpha$ = \1"),
        (r"\b(Krippendorff's|Cronbach's|Cohen's|Fleiss') (alpha|kappa)\b", lambda m: f"{m.group(1)} $\\{m.group(2)}$"),
        (r"\bAlpha CI\b", r"$\alpha$ CI"),
        (r"\+/-\s?1 SD", "±1 SD"),
        (r" -> ", " → "),
        (r"\bn = (\d)", r"$n$ = \1"),
        (r"\b(HC3 )?t test\b", r"\1$t$ test"),
        (r"\bB = (\d)", r"$B$ = \1"),
        (r"\breplicate i\b", r"replicate $i$"),
        (r"\((seed \d+), i\)", r"(\1, $i$)"),
        (r"\bdelta chi-square\b", r"$\Delta\chi^2$"),
        (r"\bchi-square\b", r"$\chi^2$"),
        (r"\(0\.667, 0\.800\)", "(.667, .800)"),
        (r"\bq_below_(0)?(\.\d+)", r"$q(\alpha < \2)$"),
    ]
]


def replace_matches(parts: tuple, pattern: re.Pattern, make) -> tuple:
    """``parts`` with every match of ``pattern`` in their literal (str) runs replaced by the parts
    ``make(match)`` returns; other parts (maths, citations) pass through untouched."""
    out = []
    for part in parts:
        if not isinstance(part, str):
            out.append(part)
            continue
        pos = 0
        for m in pattern.finditer(part):
            if m.start() > pos:
                out.append(part[pos : m.start()])
            out.extend(make(m))
            pos = m.end()
        if pos < len(part):
            out.append(part[pos:])
    return tuple(out)


def _apply(parts: tuple, pattern: re.Pattern, repl) -> tuple:
    def make(m):
        markup = repl(m) if callable(repl) else re.sub(r"\\(\d)", lambda g: m.group(int(g.group(1))) or "", repl)
        return parse_markup(markup)

    return replace_matches(parts, pattern, make)


def rich_note(text: str, citations=None) -> Rich:
    """A note of the studies layer (plain ASCII) as reader-facing text: formulas as maths, internal
    names as words, p values in APA style, citations linked to the reference list (``citations``: a
    :class:`crfm.report.bib.Bibliography`). Text no rule matches stays literal (and escaped)."""
    parts: tuple = (str(text),)
    if citations is not None:
        parts = citations.link(parts)
    for pattern, repl in NOTE_REWRITES:
        parts = _apply(parts, pattern, repl)
    return Rich(parts)
