"""The appendix's bibliography: references.bib in, APA citations and an APA reference list out.

A small reader of the BibTeX the repository ships (``@type{key, field = {value}, ...}``, braces or
quotes, ``and``-separated names, the accents ``{\\"o}`` ``{\\'e}``, ``--`` for a range) - no BibTeX run
is needed to build the appendix, and the same entries serve a manuscript's BibTeX. Citations are
author-year (APA 7): ``(Henseler et al., 2015)``, ``Lindell and Whitney (2001)``; the reference list
holds exactly the works a document cites, sorted by author and year, each with an anchor the
citations link to (``#ref-<key>`` in HTML, ``\\hypertarget`` in LaTeX).

Software entries carry ``package = {<distribution>}``; :func:`software_citations` pairs them with the
versions provenance.json recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

ACCENTS = {
    '"': {"a": "ä", "o": "ö", "u": "ü", "e": "ë", "i": "ï", "A": "Ä", "O": "Ö", "U": "Ü"},
    "'": {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "E": "É", "y": "ý"},
    "`": {"a": "à", "e": "è", "i": "ì", "o": "ò", "u": "ù"},
    "^": {"a": "â", "e": "ê", "i": "î", "o": "ô", "u": "û"},
    "~": {"n": "ñ", "a": "ã", "o": "õ"},
}


def _detex(s: str) -> str:
    """BibTeX value -> Unicode text: accents, \\&, --, and braces dropped."""
    s = re.sub(
        r"\{\\([\"'`^~])\{?(\\?[A-Za-z])\}?\}",
        lambda m: ACCENTS[m.group(1)].get(m.group(2).lstrip("\\"), m.group(2)),
        s,
    )
    s = re.sub(r"\\([\"'`^~])\{?([A-Za-z])\}?", lambda m: ACCENTS[m.group(1)].get(m.group(2), m.group(2)), s)
    s = s.replace(r"\&", "&").replace("---", "\u2014").replace("--", "\u2013").replace("~", "\u00a0")
    return " ".join(s.replace("{", "").replace("}", "").split())


@dataclass(frozen=True)
class Name:
    last: str
    first: str = ""
    corporate: bool = False

    @property
    def initials(self) -> str:
        out = []
        for part in self.first.split():
            out.append(
                "-".join(p[0] + "." for p in part.split("-") if p) if not part.endswith(".") or len(part) > 2 else part
            )
        return " ".join(out)

    def apa(self) -> str:
        return self.last if self.corporate or not self.first else f"{self.last}, {self.initials}"


def _names(value: str) -> tuple[list[Name], bool]:
    names, others = [], False
    for raw in re.split(r"\s+and\s+", value.strip()):
        raw = raw.strip()
        if raw == "others":
            others = True
        elif raw.startswith("{") and raw.endswith("}") and raw.count("{") == 1:
            names.append(Name(_detex(raw), corporate=True))
        elif "," in raw:
            last, first = raw.split(",", 1)
            names.append(Name(_detex(last), _detex(first)))
        else:
            parts = _detex(raw).split()
            names.append(Name(parts[-1], " ".join(parts[:-1])))
    return names, others


@dataclass
class Entry:
    key: str
    type: str
    fields: dict
    authors: list[Name] = field(default_factory=list)
    others: bool = False

    def get(self, name: str, default: str = "") -> str:
        return _detex(self.fields[name]) if name in self.fields else default

    @property
    def year(self) -> str:
        return self.get("year", "n.d.")

    def author_text(self, narrative: bool) -> str:
        a = self.authors
        if len(a) == 1 and not self.others:
            return a[0].last
        if len(a) == 2 and not self.others:
            return f"{a[0].last} {'and' if narrative else '&'} {a[1].last}"
        return f"{a[0].last} et al."

    def citation(self, narrative: bool = False) -> str:
        """'Henseler et al., 2015' (inside parentheses) or 'Henseler et al. (2015)' (narrative)."""
        return f"{self.author_text(True)} ({self.year})" if narrative else f"{self.author_text(False)}, {self.year}"

    def sort_key(self) -> tuple:
        return (self.authors[0].last.lower() if self.authors else self.key, self.year, self.key)

    def patterns(self) -> list[re.Pattern]:
        """How plain text cites this work: 'Author et al. 2015', 'A & B (2001)', plus the ``cites`` field."""
        author = re.escape(self.author_text(False)).replace("\\&", "(?:&|and)")
        year = re.escape(self.year)
        out = [re.compile(rf"{author} \({year}\)"), re.compile(rf"{author},? {year}")]
        if "cites" in self.fields:
            out.append(re.compile(self.fields["cites"]))
        return out

    # --- the reference (APA 7) as (text, italic) runs --------------------------------------------

    def reference(self, version: str | None = None) -> list[tuple[str, str]]:
        """[(kind, text)] with kind 'text', 'em' or 'url'."""
        names = [n.apa() for n in self.authors]
        if self.others:
            authors = ", ".join(names) + ", et al."
        elif len(names) == 1:
            authors = names[0]
        else:
            authors = ", ".join(names[:-1]) + ", & " + names[-1]
        out = [("text", f"{authors}{'' if authors.endswith('.') else '.'} ({self.year}). ")]
        title = self.get("title")
        t = self.type
        if t == "article":
            out.append(("text", f"{title}. "))
            out.append(("em", self.get("journal")))
            if self.get("volume"):
                out.append(("text", ", "))
                out.append(("em", self.get("volume")))
            if self.get("number"):
                out.append(("text", f"({self.get('number')})"))
            if self.get("pages"):
                out.append(("text", f", {self.get('pages')}"))
            out.append(("text", "."))
        elif t == "inproceedings":
            out.append(("text", f"{title}. In "))
            out.append(("em", self.get("booktitle")))
            out.append(("text", f" (pp. {self.get('pages')})." if self.get("pages") else "."))
        elif t in ("book", "techreport"):
            out.append(("em", title))
            out.append(("text", f". {self.get('publisher') or self.get('institution')}."))
        else:  # software, misc
            out.append(("em", title))
            v = version or self.get("version")
            out.append(("text", f" (Version {v}) [Computer software]." if v else " [Computer software]."))
        if self.get("doi"):
            out.append(("text", " "))
            out.append(("url", f"https://doi.org/{self.get('doi')}"))
        elif self.get("url"):
            out.append(("text", " "))
            out.append(("url", self.get("url")))
        return out

    def reference_html(self, version: str | None = None) -> Markup:
        parts = []
        for kind, text in self.reference(version):
            if kind == "em":
                parts.append(Markup("<em>%s</em>") % text)
            elif kind == "url":
                parts.append(Markup('<a href="%s">%s</a>') % (text, text))
            else:
                parts.append(escape(text))
        return Markup("").join(parts)

    def reference_tex(self, escape_latex, version: str | None = None) -> str:
        parts = []
        for kind, text in self.reference(version):
            if kind == "em":
                parts.append(r"\textit{" + escape_latex(text) + "}")
            elif kind == "url":
                parts.append(r"\url{" + re.sub(r"([%#&_{}~^\\])", r"\\\1", text) + "}")
            else:
                parts.append(escape_latex(text))
        return "".join(parts)

    def reference_plain(self, version: str | None = None) -> str:
        return "".join(text for _, text in self.reference(version))


def parse_bibtex(text: str) -> dict[str, Entry]:
    """Entries of a BibTeX file (comments outside entries ignored)."""
    entries, pos = {}, 0
    for m in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body, pos = text[m.end() : i - 1], i
        fields = {}
        for fm in re.finditer(r"(\w[\w-]*)\s*=\s*", body):
            j = fm.end()
            if j < len(body) and body[j] == "{":
                d, k = 1, j + 1
                while d and k < len(body):
                    d += {"{": 1, "}": -1}.get(body[k], 0)
                    k += 1
                value = body[j + 1 : k - 1]
            elif j < len(body) and body[j] == '"':
                k = body.index('"', j + 1)
                value = body[j + 1 : k]
            else:
                value = re.match(r"[^,\s]*", body[j:]).group(0)
            # skip matches inside a value already taken
            if any(s <= fm.start() < e for s, e in fields.get("__spans__", [])):
                continue
            fields.setdefault("__spans__", []).append((fm.start(), j + len(value) + 2))
            fields[fm.group(1).lower()] = value
        fields.pop("__spans__", None)
        key, kind = m.group(2), m.group(1).lower()
        authors, others = _names(fields.get("author", ""))
        entries[key] = Entry(key, kind, fields, authors, others)
    return entries


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Entry]:
    return parse_bibtex(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Cite:
    """A citation inside rich text: links to the reference list."""

    key: str
    text: str

    def to_html(self) -> Markup:
        return Markup('<a class="cite" href="#ref-%s">%s</a>') % (self.key, self.text)

    def to_tex(self, escape_latex) -> str:
        return r"\hyperlink{ref-" + self.key + "}{" + escape_latex(self.text) + "}"

    def to_plain(self) -> str:
        return self.text


class Bibliography:
    """The entries of references.bib, and the links of plain-text citations to them."""

    def __init__(self, entries: dict[str, Entry]):
        self.entries = entries

    @classmethod
    def load(cls, path) -> Bibliography:
        p = Path(path)
        return cls(dict(_load(str(p.resolve()), p.stat().st_mtime)))

    def __getitem__(self, key: str) -> Entry:
        try:
            return self.entries[key]
        except KeyError:
            raise KeyError(f"no entry '{key}' in references.bib (known: {', '.join(sorted(self.entries))})") from None

    def link(self, parts: tuple) -> tuple:
        """Turn 'Henseler et al. 2015' / 'Lindell & Whitney (2001)' in the literal runs of ``parts``
        into :class:`Cite` parts with the APA text."""
        from crfm.report.mathtext import replace_matches

        def cite(entry):
            def make(m):
                text = m.group(0)
                if "(" in text:  # narrative: 'Lindell and Whitney (2001)'
                    return [Cite(entry.key, entry.citation(narrative=True))]
                if entry.year in text:  # inside parentheses: 'Henseler et al., 2015'
                    return [Cite(entry.key, entry.citation())]
                return [text + " (", Cite(entry.key, entry.citation()), ")"]  # 'Horn parallel analysis (Horn, 1965)'

            return make

        for entry in self.entries.values():
            for pattern in entry.patterns():
                parts = tuple(p for p in replace_matches(parts, pattern, cite(entry)) if p != "")
        return parts

    def cited(self, keys) -> list[Entry]:
        """The entries of ``keys`` (unknown keys raise), in reference-list order, each once."""
        return sorted({k: self[k] for k in keys}.values(), key=Entry.sort_key)


def software_citations(bib: Bibliography, versions: dict) -> list[tuple[str, str, Entry]]:
    """(package, version, entry) for every entry with a ``package`` field whose package has a
    recorded version (provenance.json's key packages, plus Python)."""
    out = []
    for entry in bib.entries.values():
        pkg = entry.fields.get("package")
        if pkg and versions.get(pkg):
            out.append((pkg, str(versions[pkg]), entry))
    return out
