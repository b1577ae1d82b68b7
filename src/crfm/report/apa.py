"""APA-style number formatting and the two escapers (HTML, LaTeX) of the output layer.

Numbers follow the conventions of marketing journals (APA 7): a fixed number of decimals per column,
no leading zero for statistics that cannot exceed 1 (correlations, p, alpha, CR, AVE, fit indices,
shares), ``p < .001`` below one in a thousand, a true minus sign, thousands separators and an em dash
for a missing value. Every formatter returns plain Unicode text; the escapers then make it safe for
HTML or LaTeX, so a number, an item wording or a construct label goes through the same two doors.
"""

from __future__ import annotations

import math
import re

from markupsafe import Markup, escape

MINUS = "\u2212"
MISSING = "\u2014"  # em dash


def _is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x, decimals: int = 2, *, leading_zero: bool = True, thousands: bool = True) -> str:
    """``x`` with ``decimals`` decimals, a minus sign (U+2212), a comma every three digits and,
    with ``leading_zero=False``, no zero before the decimal point (APA: for statistics bounded by 1)."""
    if _is_missing(x):
        return MISSING
    x = float(x)
    if math.isinf(x):
        return ("" if x > 0 else MINUS) + "\u221e"
    s = f"{abs(x):,.{decimals}f}" if thousands else f"{abs(x):.{decimals}f}"
    negative = x < 0 and any(c not in "0.," for c in s)  # -0.00 prints as 0.00
    if not leading_zero and s.startswith("0.") and decimals > 0:
        s = s[1:]
    return (MINUS if negative else "") + s


def fmt_bounded(x, decimals: int = 2) -> str:
    """A statistic that cannot exceed 1 in absolute value (r, alpha, CFI ...): no leading zero."""
    return fmt_num(x, decimals, leading_zero=False)


def fmt_int(x) -> str:
    if _is_missing(x):
        return MISSING
    v = float(x)
    return (MINUS if v < 0 else "") + f"{abs(round(v)):,d}"


NBSP = "\u00a0"


def fmt_p(p, decimals: int = 3) -> str:
    """APA p value: '.032', '< .001', '> .999' (no leading zero, never 0 or 1). The space after '<'
    and '>' is a no-break space: a line or a PDF engine never separates the relation from the value."""
    if _is_missing(p):
        return MISSING
    p = float(p)
    floor = 10.0**-decimals
    if p < floor:
        return "<" + NBSP + fmt_bounded(floor, decimals)
    if round(p, decimals) >= 1:
        return ">" + NBSP + fmt_bounded(1 - floor, decimals)
    return fmt_bounded(p, decimals)


def p_relation(p, decimals: int = 3) -> str:
    """'= .032' or '< .001': what follows an italic p in running text."""
    text = fmt_p(p, decimals)
    return text if text[:1] in "<>" else "= " + text


def fmt_ci(lo, hi, decimals: int = 2, *, leading_zero: bool = True) -> str:
    """APA confidence interval: '[.12, .45]'."""
    if _is_missing(lo) and _is_missing(hi):
        return MISSING
    return f"[{fmt_num(lo, decimals, leading_zero=leading_zero)}, {fmt_num(hi, decimals, leading_zero=leading_zero)}]"


def fmt_bool(x) -> str:
    if _is_missing(x):
        return MISSING
    if isinstance(x, str):
        x = x.strip().lower() in ("true", "1", "yes")
    return "Yes" if bool(x) else "No"


def fmt_text(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return " ".join(str(x).split())


FORMATS = ("text", "int", "num", "bounded", "p", "bool")


def fmt_value(x, kind: str, decimals: int = 2) -> str:
    """Dispatch on a column kind: text | int | num | bounded | p | bool."""
    if kind == "text":
        return fmt_text(x)
    if kind == "int":
        return fmt_int(x)
    if kind == "num":
        return fmt_num(x, decimals)
    if kind == "bounded":
        return fmt_bounded(x, decimals)
    if kind == "p":
        return fmt_p(x, max(decimals, 3))
    if kind == "bool":
        return fmt_bool(x)
    raise ValueError(f"unknown number format {kind!r}; use one of {FORMATS}")


# --- escaping -------------------------------------------------------------------------------------


def escape_html(s) -> Markup:
    """HTML-escape (& < > " ') unless ``s`` is already Markup."""
    return escape(s)


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    '"': r"\textquotedbl{}",
    "|": r"\textbar{}",
    "`": r"\textasciigrave{}",
    "\n": " ",
    "\r": " ",
    "\t": " ",
}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi",
    "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi",
    "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip
_TEX_UNICODE = {
    **{k: rf"\ensuremath{{\{v}}}" for k, v in _GREEK.items()},
    MINUS: r"\ensuremath{-}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≠": r"\ensuremath{\neq}",
    "≈": r"\ensuremath{\approx}",
    "±": r"\ensuremath{\pm}",
    "×": r"\ensuremath{\times}",
    "÷": r"\ensuremath{\div}",
    "√": r"\ensuremath{\surd}",
    "∞": r"\ensuremath{\infty}",
    "∑": r"\ensuremath{\Sigma}",
    "→": r"\ensuremath{\rightarrow}",
    "←": r"\ensuremath{\leftarrow}",
    "↔": r"\ensuremath{\leftrightarrow}",
    "·": r"\ensuremath{\cdot}",
    "²": r"\textsuperscript{2}",
    "³": r"\textsuperscript{3}",
    "¹": r"\textsuperscript{1}",
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "•": r"\textbullet{}",
    "€": r"\texteuro{}",
    "\u00a0": "~",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in sorted({**_TEX_SPECIAL, **_TEX_UNICODE}, key=len, reverse=True)))


def _tex_safe_char(c: str) -> bool:
    # Latin-1 and Latin Extended-A are set up by LaTeX's utf8 input encoding with T1 font encoding;
    # control characters (C0 but tab and line breaks, DEL, C1) are not text at all.
    o = ord(c)
    if o < 0x20:
        return c in "\t\n\r"
    return o < 0x7F or 0xA0 <= o < 0x180


def escape_latex(s) -> str:
    """Make text literal in LaTeX: the ten special characters, < > " | and common Unicode symbols
    (Greek, minus, relations, superscripts, dashes, quotes) become commands; any other character
    outside Latin-1/Latin Extended-A becomes '?' (pdfLaTeX cannot set it), so the file always compiles."""
    if isinstance(s, TexMarkup):
        return str(s)
    text = _TEX_RE.sub(lambda m: {**_TEX_SPECIAL, **_TEX_UNICODE}[m.group(0)], str(s))
    return "".join(c if _tex_safe_char(c) else "?" for c in text)


class TexMarkup(str):
    """LaTeX source that is already safe (the escaper leaves it alone), the analogue of Markup."""

    def __add__(self, other):
        return TexMarkup(str(self) + (other if isinstance(other, TexMarkup) else escape_latex(other)))


def tex_finalize(value) -> str:
    """jinja2 ``finalize`` for LaTeX templates: every {{ expression }} is escaped unless it is
    TexMarkup (or jinja's Markup, which a TeX template only ever receives as pre-rendered LaTeX)."""
    if value is None:
        return ""
    if isinstance(value, (TexMarkup, Markup)):
        return str(value)
    return escape_latex(value)


# --- inline markup of labels: *italic* ------------------------------------------------------------

_ITALIC = re.compile(r"\*([^*]+)\*")


def label_segments(label: str) -> list[tuple[str, bool]]:
    """Split a spec label such as '*p*' or 'RMSEA 90% CI' into (text, italic) runs."""
    out, pos = [], 0
    for m in _ITALIC.finditer(label):
        if m.start() > pos:
            out.append((label[pos : m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(label):
        out.append((label[pos:], False))
    return out


def label_html(label: str, *, markup: bool = True) -> Markup:
    if not markup:
        return escape(label)
    return Markup("").join(Markup("<em>%s</em>") % t if it else escape(t) for t, it in label_segments(label))


def label_tex(label: str, *, markup: bool = True) -> TexMarkup:
    if not markup:
        return TexMarkup(escape_latex(label))
    return TexMarkup(
        "".join(rf"\textit{{{escape_latex(t)}}}" if it else escape_latex(t) for t, it in label_segments(label))
    )


def label_plain(label: str) -> str:
    return _ITALIC.sub(r"\1", label)
