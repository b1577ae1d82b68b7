"""results/<run>/numbers.tex: every number of numbers.json as a LaTeX macro, for a manuscript to \\input.

One ``\\newcommand`` per number leaf (showyourwork's ``\\variable`` idea, without the tooling): the macro
prints the number's APA text, exactly as the appendix does. LaTeX command names are letters only, so a
key becomes a name by :func:`macro_name`:

* the prefix ``crfm``, then every part of the key (split at ``.``, ``_``, ``-``, ``|`` and spaces) with
  its first letter upper-cased (the rest kept: ``COMP`` stays ``COMP``);
* every digit becomes its English word, capitalised (``step2`` -> ``StepTwo``, ``0.800`` -> ``ZeroEightZeroZero``);
* any other character is dropped.

``study3.moderators.COMP.steps.step2.delta_r2`` -> ``\\crfmStudyThreeModeratorsCOMPStepsStepTwoDeltaRTwo``.
p values get a second macro with the relation, suffix ``Eq`` (``= .032`` / ``< .001``). Two keys that
map to one name (``a_b`` and ``a.b``) are an error naming both (:func:`macro_table`), so a manuscript
never gets the wrong number silently. The file starts with a comment per macro: key and source.
"""

from __future__ import annotations

import re

from crfm.errors import CRFMError
from crfm.report.apa import escape_latex

DIGITS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
PREFIX = "crfm"


def macro_name(key: str) -> str:
    """The letters-only LaTeX command name (without backslash) of a numbers.json key."""
    out = [PREFIX]
    for part in re.split(r"[._\-|\s/]+", str(key)):
        word = "".join(
            DIGITS[int(c)] if c.isdigit() else c for c in part if c.isascii() and (c.isalpha() or c.isdigit())
        )
        if word:
            out.append(word[0].upper() + word[1:])
    return "".join(out)


def _leaves(node, path=()):
    if isinstance(node, dict) and "text" in node and "source" in node:
        yield ".".join(path), node
    elif isinstance(node, dict):
        for k in sorted(node):
            yield from _leaves(node[k], (*path, str(k)))


def macro_table(numbers: dict) -> list[tuple[str, str, str, str]]:
    """(name, text, key, source) for every number (and the ``Eq`` macro of every p value), sorted by
    key; raises :class:`CRFMError` when two keys give one name."""
    rows, seen = [], {}
    for key, leaf in _leaves(numbers.get("numbers", {})):
        items = [(macro_name(key), leaf["text"])]
        if leaf.get("eq"):
            items.append((macro_name(key) + "Eq", leaf["eq"]))
        for name, text in items:
            if name in seen:
                raise CRFMError(
                    f"numbers.json keys '{seen[name]}' and '{key}' both give the LaTeX macro \\{name}; rename one of them"
                )
            seen[name] = key
            rows.append((name, str(text), key, str(leaf.get("source", ""))))
    return rows


def macros_tex(numbers: dict) -> str:
    """The text of numbers.tex."""
    rows = macro_table(numbers)
    out = [
        "% numbers.tex: every number of numbers.json as a LaTeX macro (crfm-pipeline, rule appendix_macros).",
        "% \\input{numbers.tex} in a manuscript's preamble; \\crfmStudyTwoCfaCorrelatedCfi prints the APA text.",
        "% Names: 'crfm' + each key part capitalised, digits as words; p values also have <name>Eq ('= .032').",
        "% Needs \\usepackage[T1]{fontenc} (and utf8 input, the default): texts use \\ensuremath for symbols.",
    ]
    if numbers.get("synthetic"):
        out.append(
            "% SYNTHETIC DATA: these numbers come from the synthetic stand-in data, not from Terho & Jalkala (2017)."
        )
    out.append(f"% {len(rows)} macros.")
    for name, text, key, source in rows:
        out.append(f"% {key}: {source}".replace("\n", " "))
        out.append(f"\\newcommand{{\\{name}}}{{{escape_latex(text)}}}")
    return "\n".join(out) + "\n"
