"""The appendix: jinja2 templates -> results/appendix/appendix.{html,tex,pdf}.

The templates read only numbers.json (every number of the running text, already APA-formatted), the
rendered tables (the renderer's HTML/LaTeX fragments, laid out in the index's order), the figures and,
for the last section, provenance.json. Two template environments, one per output format:

* HTML: jinja's autoescape; the table fragments arrive as ``Markup`` (escaped when rendered).
* LaTeX: ``finalize`` escapes every ``{{ expression }}`` (:func:`crfm.report.apa.tex_finalize`) unless it is
  ``TexMarkup``; the ``tex`` filter escapes explicitly.

The running text of each study lives once, format-neutral, in ``text/<study>.j2`` and
``text/<study>_methods.j2``; it formats through the globals ``em``/``strong`` and is rendered by both
environments. The PDF is the HTML, set by xhtml2pdf (pure Python, on ReportLab) with fonts from
matplotlib's own font directory (DejaVu/STIX, so no system font is needed), ReportLab's invariant
mode (fixed dates and document ID) and no network access: the same input gives the same bytes.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup, escape

from crfm.data.tables import SYNTHETIC_NOTE
from crfm.report.apa import TexMarkup, escape_latex, tex_finalize
from crfm.report.bib import Bibliography, software_citations
from crfm.report.labels import Labels
from crfm.report.mathtext import Math
from crfm.report.render import html_fragment
from crfm.report.specs import all_figures, default_title, item_number, order_key, study_of, study_titles

PAPER = (
    "Terho, H., & Jalkala, A. (2017). Customer reference marketing: Conceptualization, measurement "
    "and link to selling performance. Industrial Marketing Management, 64, 175\u2013186."
)
TITLE = "Web appendix: Customer reference marketing \u2014 a reproduction of Terho & Jalkala (2017)"


@dataclass(frozen=True)
class Num:
    """A number leaf of numbers.json; prints as its APA text."""

    value: object
    text: str
    source: str
    eq: str | None = None

    def __str__(self) -> str:
        return self.text


def wrap_numbers(node):
    if isinstance(node, dict) and "text" in node and "source" in node:
        return Num(node.get("value"), node["text"], node["source"], node.get("eq"))
    if isinstance(node, dict):
        return {k: wrap_numbers(v) for k, v in node.items()}
    return node


def png_size(path) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


FIGURE_DPI = 150  # crfm.report.figures.save_figure writes PNGs at 150 dpi


def fit_box(w: int, h: int, max_w_cm: float = 16.0, max_h_cm: float = 19.0) -> tuple[float, float]:
    scale = min(max_w_cm / w, max_h_cm / h)
    return round(w * scale, 2), round(h * scale, 2)


def figure_entries(figures: dict[str, dict], tex_dir: Path | None = None) -> list[dict]:
    """{name: {'png': path, 'pdf': path}} -> numbered entries, per study in registry order."""
    entries, count = [], {}
    for name in sorted(figures, key=lambda n: order_key(n, all_figures())):
        study = study_of(name)
        count[study] = count.get(study, 0) + 1
        png = Path(figures[name]["png"])
        w, h = png_size(png)
        wcm, hcm = fit_box(w, h)
        pdf = Path(figures[name]["pdf"]) if figures[name].get("pdf") else None
        print_w, print_h = w / FIGURE_DPI * 2.54, h / FIGURE_DPI * 2.54  # the size the figure was drawn at
        entries.append(
            {
                "name": name,
                "study": study,
                "number": item_number(name, count[study]),
                "title": all_figures().get(name, default_title(name)),
                "data_uri": "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii"),
                "width_px": w,
                "height_px": h,
                "width_cm": wcm,
                "height_cm": hcm,
                # print size: the figure's own size (its 9 pt text stays 9 pt), shrunk only to fit the page
                "print_width_cm": round(min(print_w, 17.0, print_w * 21.0 / print_h), 2),
                "css_width_px": round(min(print_w, 17.0, print_w * 21.0 / print_h) / 2.54 * 96),
                "tex_path": _relpath(pdf, tex_dir) if pdf is not None and tex_dir is not None else None,
            }
        )
    return entries


def _relpath(path: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


# --- template environments --------------------------------------------------------------------------


class ProseText(Extension):
    """Escape the literal text of the format-neutral prose templates (``text/*.j2``) for the output
    format at compile time, so a '&', '<' or 'χ²' written in the prose is as safe as one printed from
    a variable. Line breaks are kept (blank lines separate paragraphs). The document templates are
    written in their own format and left alone."""

    escaper = staticmethod(lambda s: s)

    def filter_stream(self, stream):
        if not (stream.name or "").startswith("text/"):
            yield from stream
            return
        for tok in stream:
            if tok.type == "data":
                yield Token(tok.lineno, "data", "\n".join(self.escaper(line) for line in tok.value.split("\n")))
            else:
                yield tok


class ProseHTML(ProseText):
    escaper = staticmethod(lambda s: str(escape(s)))


class ProseTeX(ProseText):
    escaper = staticmethod(escape_latex)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def html_env(template_dir) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[ProseHTML],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        em=lambda s: Markup("<em>%s</em>") % s,
        strong=lambda s: Markup("<strong>%s</strong>") % s,
        fmt="html",
    )
    return env


def tex_path(path: str) -> TexMarkup:
    """A file path for \\includegraphics: passed verbatim, so only plain characters are allowed."""
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", str(path)):
        raise ValueError(f"figure path {path!r} holds characters LaTeX cannot read in a file name")
    return TexMarkup(path)


def tex_env(template_dir) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_dir)),
        autoescape=False,
        finalize=tex_finalize,
        undefined=StrictUndefined,
        extensions=[ProseTeX],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tex"] = escape_latex
    env.filters["texpath"] = tex_path
    env.globals.update(
        em=lambda s: TexMarkup(r"\textit{" + tex_finalize(s) + "}"),
        strong=lambda s: TexMarkup(r"\textbf{" + tex_finalize(s) + "}"),
        fmt="tex",
    )
    return env


def helpers(kind: str, ctx: dict) -> dict:
    """Format-aware globals for the prose: italics, statistics strings and cross-references. Each
    returns safe markup for its format, escaping whatever it is given."""
    if kind == "html":

        def em(s):
            return Markup("<em>%s</em>") % s

        def join(*parts):
            return Markup("").join(p for p in parts if p is not None)

    else:

        def em(s):
            return TexMarkup(r"\textit{" + tex_finalize(s) + "}")

        def join(*parts):
            return TexMarkup("".join(tex_finalize(p) for p in parts if p is not None))

    def p(num):
        return join(em("p"), " ", num.eq or num.text)

    def eq(symbol, num):
        return join(em(symbol), " = ", num)

    def fit(f):
        parts = [em("χ"), "²(", f["df"], ") = ", f["chi2"], ", ", p(f["p"])]
        for key, label in (("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA")):
            if key in f:
                parts += [", ", label, " = ", f[key]]
        if "rmsea_ci" in f:
            parts += [", 90% CI ", f["rmsea_ci"]]
        if "srmr" in f:
            parts += [", SRMR = ", f["srmr"]]
        return join(*parts)

    def coef(c):
        parts = [eq("b", c["b"])]
        if "se" in c:
            parts += [", ", eq("SE", c["se"])]
        parts += [", 95% CI ", c["ci"], ", ", p(c["p"])]
        if "beta" in c:
            parts += [", ", eq("β", c["beta"])]
        return join(*parts)

    def ftest(step):
        return join(em("F"), "(", step["df1"], ", ", step["df2"], ") = ", step["f_change"], ", ", p(step["p"]))

    tables = {t["name"]: t["number"] for s in ctx["studies"] for t in s["tables"]}
    figures = {f["name"]: f["number"] for s in ctx["studies"] for f in s["figures"]}

    def tab(name):
        return f"Table {tables[name]}" if name in tables else "the tables"

    def fig(name):
        return f"Figure {figures[name]}" if name in figures else "the figures"

    bib: Bibliography | None = ctx.get("bib")
    cited: list = ctx.setdefault("cited", [])

    def link(key, text):
        cited.append(key)
        if kind == "html":
            return Markup('<a class="cite" href="#ref-%s">%s</a>') % (key, text)
        return TexMarkup(r"\hyperlink{ref-" + key + "}{" + escape_latex(text) + "}")

    def cite(*keys, pre=None, post=None):
        """'(Henseler et al., 2015; Horn, 1965)': parenthetical citation of ``keys``."""
        parts = ["("] + ([pre, " "] if pre else [])
        for k, key in enumerate(keys):
            parts += (["; "] if k else []) + [link(key, bib[key].citation())]
        return join(*parts, *([", ", post] if post else []), ")")

    def citet(key):
        """'Lindell and Whitney (2001)': narrative citation."""
        return link(key, bib[key].citation(narrative=True))

    def math(tex):
        m = Math(tex)
        if kind == "html":
            return m.to_html()
        return TexMarkup(m.to_tex(escape_latex))

    labels: Labels = ctx.get("labels") or Labels()
    index_names = {t["name"] for s in ctx["studies"] for t in s["tables"]}

    def has_table(fragment):
        return any(fragment in n for n in index_names)

    versions = software_versions(ctx.get("provenance") or {})

    def version_of(entry):
        return versions.get(entry.fields.get("package")) if entry.fields.get("package") else None

    def reference(entry):
        """The entry's APA reference, software with the run's version."""
        if kind == "html":
            return entry.reference_html(version_of(entry))
        return TexMarkup(entry.reference_tex(escape_latex, version_of(entry)))

    return {
        "version_of": version_of,
        "reference": reference,
        "em": em, "join": join, "p": p, "eq": eq, "fit": fit, "coef": coef, "ftest": ftest, "tab": tab,
        "fig": fig, "cite": cite, "citet": citet, "math": math, "spell": spell, "labels": labels,
        "has_table": has_table,
    }  # fmt: skip


NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()


def spell(num, capital: bool = False) -> str:
    """A count as a word (APA: a sentence never opens with a numeral; counts below 10 are words in
    running text): 2 -> 'two' ('Two'); above twenty the numeral itself."""
    value = getattr(num, "value", num)
    try:
        k = int(value)
    except (TypeError, ValueError):
        return str(num)
    if k != value or not 0 <= k <= 20:
        return str(num)
    w = NUMBER_WORDS[k]
    return w.capitalize() if capital else w


def render_prose(env: Environment, name: str, ctx: dict) -> list:
    """Render the format-neutral text template ``text/<name>.j2``; a list of safe paragraphs."""
    try:
        tmpl = env.get_template(f"text/{name}.j2")
    except TemplateNotFound:  # no running text for this study: tables and figures only
        return []
    out = tmpl.render(**ctx)
    wrap = Markup if env.globals["fmt"] == "html" else TexMarkup
    return [wrap(p) for p in _paragraphs(out)]


# --- context --------------------------------------------------------------------------------------


def build_context(
    numbers: dict,
    index: dict,
    provenance: dict,
    figures: list[dict],
    *,
    labels: Labels | None = None,
    bib=None,
    pdf_engine=None,
) -> dict:
    """Everything the templates see. Numbers wrapped as :class:`Num`; tables as index entries;
    ``labels`` the reader-facing names, ``bib`` the bibliography (:class:`~crfm.report.bib.Bibliography`),
    ``pdf_engine`` what sets the PDF (named in its colophon)."""
    studies = []
    for sid in numbers.get("studies", []):
        studies.append(
            {
                "id": sid,
                "title": study_titles().get(sid, sid),
                "tables": [t for t in index["tables"] if t["study"] == sid],
                "figures": [f for f in figures if f["study"] == sid],
            }
        )
    synthetic = bool(numbers.get("synthetic")) or bool(index.get("synthetic"))
    return {
        "title": TITLE,
        "paper": PAPER,
        "synthetic": synthetic,
        "banner": SYNTHETIC_NOTE if synthetic else None,
        "n": wrap_numbers(numbers.get("numbers", {})),
        "studies": studies,
        "provenance": provenance,
        "counts": {
            "tables": len(index["tables"]),
            "figures": len(figures),
            "numbers": numbers.get("count", 0),
        },
        "labels": labels or Labels(),
        "bib": bib,
        "pdf_engine": pdf_engine,
        "table_cites": sorted({k for t in index["tables"] for k in t.get("cites", [])}),
    }


def _with_fragments(ctx: dict, kind: str) -> dict:
    """Attach each table's rendered fragment (read from the renderer's output) to its entry."""
    wrap = Markup if kind == "html" else TexMarkup
    studies = []
    for s in ctx["studies"]:
        tables = [dict(t, fragment=wrap(_fragment(Path(t[kind]), kind))) for t in s["tables"]]
        studies.append(dict(s, tables=tables))
    return dict(ctx, studies=studies)


def _fragment(path: Path, kind: str) -> str:
    text = path.read_text(encoding="utf-8")
    return html_fragment(text) if kind == "html" else text


def _prose_and_references(env: Environment, ctx: dict) -> None:
    """Render every prose template (collecting citations), then the reference list of exactly the
    works the text, the table notes and the software section cite."""
    ctx["cited"].clear()
    ctx["intro"] = render_prose(env, "intro", ctx)
    for s in ctx["studies"]:
        s["prose"] = render_prose(env, s["id"], ctx)
        s["methods"] = render_prose(env, f"{s['id']}_methods", ctx)
    ctx["software"] = render_prose(env, "software", ctx)
    bib = ctx.get("bib")
    keys = list(ctx["cited"]) + list(ctx.get("table_cites", []))
    ctx["references"] = bib.cited(keys) if bib is not None else []
    ctx["counts"] = dict(ctx["counts"], references=len(ctx["references"]))


def software_versions(provenance: dict) -> dict:
    """{package: version} of the run: provenance's key packages and Python."""
    out = dict(provenance.get("key_packages") or {})
    out["python"] = (provenance.get("python") or {}).get("version")
    return out


def _software(ctx: dict) -> list:
    bib = ctx.get("bib")
    if bib is None:
        return []
    versions = software_versions(ctx["provenance"])
    return [{"package": p, "version": v, "key": e.key, "entry": e} for p, v, e in software_citations(bib, versions)]


def _with_bib(template_dir, ctx: dict) -> dict:
    """The context with a bibliography: the one given, else the templates' references.bib."""
    if ctx.get("bib") is None and (Path(template_dir) / "references.bib").is_file():
        ctx = dict(ctx, bib=Bibliography.load(Path(template_dir) / "references.bib"))
    return dict(ctx, cited=[], software_list=_software(ctx))


def render_html(template_dir, ctx: dict, *, for_pdf: bool = False, font_dir=None) -> str:
    env = html_env(template_dir)
    ctx = _with_bib(template_dir, ctx)
    env.globals.update(helpers("html", ctx))
    ctx = _with_fragments(ctx, "html")
    ctx.update(for_pdf=for_pdf, font_dir=Path(font_dir).as_posix() if font_dir else None)
    _prose_and_references(env, ctx)
    html = env.get_template("appendix.html.j2").render(**ctx)
    if for_pdf:
        html = pdf_widths(html)
    return html


def pdf_widths(html: str) -> str:
    """xhtml2pdf splits a table's width evenly over its columns unless told: turn the renderer's
    data-width hints into width attributes, and repeat the header row on every page."""
    html = re.sub(
        r'<table class="apa" data-width="([0-9.]+)">\n<caption><span class="table-number">(.*?)</span><span class="table-title">(.*?)</span></caption>',
        r'<p class="table-number">\2</p>\n<p class="table-title">\3</p>\n<table class="apa" data-width="\1">',
        html,
    )  # xhtml2pdf sets no <caption>: number and title as the paragraphs above the table
    html = re.sub(r'<table class="apa" data-width="([0-9.]+)">', r'<table class="apa" repeat="1" width="\1%">', html)
    return re.sub(r'(<th class="[a-z ]+") data-width="([0-9.]+)"', r'\1 width="\2%"', html)


def render_tex(template_dir, ctx: dict) -> str:
    env = tex_env(template_dir)
    ctx = _with_bib(template_dir, ctx)
    env.globals.update(helpers("tex", ctx))
    ctx = _with_fragments(ctx, "tex")
    _prose_and_references(env, ctx)
    return env.get_template("appendix.tex.j2").render(**ctx)


# --- PDF ------------------------------------------------------------------------------------------


def font_dir() -> Path:
    """matplotlib's bundled TrueType fonts (DejaVu, STIX): pip-installed with the pipeline."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def html_to_pdf(html: str, out_path, *, base_dir) -> None:
    """Set ``html`` as a PDF with xhtml2pdf: local reads confined to ``base_dir`` and the font
    directory, no network, ReportLab invariant mode (fixed CreationDate/ModDate and /ID)."""
    from reportlab import rl_config

    rl_config.invariant = 1
    import io
    import logging

    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    from crfm.errors import CRFMError

    policy = ResourceAccessPolicy(
        allow_remote=False, base_dir=Path(base_dir).resolve(), extra_roots=(font_dir().resolve(),)
    )
    logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)
    buf = io.BytesIO()
    status = pisa.CreatePDF(html, dest=buf, encoding="utf-8", resource_policy=policy)
    if status.err:
        raise CRFMError(f"xhtml2pdf could not set the appendix ({status.err} error(s)); see the rule's log")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_bytes(buf.getvalue())


def load_json(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


__all__ = [
    "Num",
    "build_context",
    "escape",
    "figure_entries",
    "html_to_pdf",
    "load_json",
    "render_html",
    "render_tex",
    "wrap_numbers",
]
