"""The table renderer: tidy CSV in, LaTeX (booktabs, longtable) and HTML out, APA style.

One function builds the cell texts of a table (:func:`build_table`: columns chosen and formatted by the
table's :class:`~crfm.report.specs.common.TableSpec`); two writers set them (:func:`to_html`, :func:`to_latex`),
each escaping every cell, header and note for its format. Numbering ("Table 2.9") follows the
registry's order within a study. Nothing here depends on the time or the machine: the same CSV gives
the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from markupsafe import Markup, escape

from crfm.data.tables import SYNTHETIC_NOTE, is_synthetic_table, read_table, table_header, table_notes
from crfm.report.apa import (
    escape_latex,
    fmt_ci,
    fmt_value,
    label_html,
    label_plain,
    label_tex,
)
from crfm.report.labels import Labels
from crfm.report.mathtext import Rich, rich_note
from crfm.report.specs import Col, TableSpec, all_tables, infer_col, item_number, order_key, spec_for, study_of

NUMERIC = {"int", "num", "bounded", "p", "ci"}


@dataclass
class Table:
    """A table ready to set: headers, column specs, cell texts (plain Unicode), notes."""

    name: str
    number: str
    title: str
    columns: list[Col]
    rows: list[list[str]]
    notes: list[str]  # from the CSV: literal text
    extra_notes: list[str]  # from the spec: may hold *italic* markup
    synthetic: bool
    rich_notes: list[Rich] | None = None  # the CSV notes as readers see them (maths, names, citations)
    header_labels: list[tuple[str, bool]] | None = None  # reader-facing headers of unnamed columns
    producer: dict | None = None  # {"rule", "rules_file", "code"} from the CSV's `# rule:`/`# code:` lines

    @property
    def headers(self) -> list[tuple[str, bool]]:
        """(label, is_markup): spec labels may hold *italic*; other headers come from
        :meth:`crfm.report.labels.Labels.header` (or, without labels, the column name, literally)."""
        if self.header_labels is not None:
            return list(self.header_labels)
        return [(c.label, True) if c.label is not None else (c.key, False) for c in self.columns]

    @property
    def reader_notes(self) -> list[Rich]:
        return self.rich_notes if self.rich_notes is not None else [Rich((n,)) for n in self.notes]

    def cites(self) -> list[str]:
        """Bibliography keys cited by the notes."""
        return [k for n in self.reader_notes for k in n.keys()]

    def aligns(self) -> list[str]:
        return ["r" if c.fmt in NUMERIC or c.row_fmt else ("w" if c.wide else "l") for c in self.columns]


def resolve_columns(df: pd.DataFrame, spec: TableSpec) -> list[Col]:
    """The columns to show: the spec's (those present), then the rest if the spec keeps them; an
    unregistered table (no columns in its spec) shows every column with an inferred format."""
    if not spec.columns and spec.rest is None:
        return [infer_col(str(c), df[c].dtype.kind) for c in df.columns]
    present = [c for c in spec.columns if all(k in df.columns for k in c.keys)]
    named = {k for c in spec.columns for k in c.keys}
    rest = [replace(spec.rest, key=str(c), label=None) for c in df.columns if c not in named] if spec.rest else []
    if not spec.keep_order:
        return present + rest
    by_key = {c.key: c for c in present + rest}
    return [by_key[str(c)] for c in df.columns if str(c) in by_key]


def format_cell(row: pd.Series, col: Col, labels: Labels | None = None):
    if col.fmt == "ci":
        return fmt_ci(row[col.key], row[col.hi], col.dec, leading_zero=not col.bounded)
    value = row[col.key]
    if col.values and isinstance(value, str):
        value = col.values.get(value, value)
    if col.display and isinstance(value, str) and value:
        if col.display == "rich":
            return rich_note(fmt_value(value, "text"))
        value = (labels or Labels()).apply(col.display, value)
    if col.row_fmt:
        key = str(row[col.row_key]) if col.row_key in row.index else ""
        for prefix, fmt, dec in col.row_fmt:
            if key.startswith(prefix):
                return fmt_value(value, fmt, dec)
    if col.fmt in ("int", "num", "bounded", "p") and isinstance(value, str) and not _numeric(value):
        return fmt_value(value, "text")  # a text column caught by a spec's numeric `rest`: shown as text
    return fmt_value(value, col.fmt, col.dec)


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def build_table(
    df: pd.DataFrame,
    name: str,
    *,
    number: str,
    notes=(),
    synthetic: bool = False,
    labels: Labels | None = None,
    bib=None,
    producer: dict | None = None,
) -> Table:
    """The cells of a table. With ``labels`` (:class:`crfm.report.labels.Labels`) every term, rule and
    column shows its reader-facing name and the notes their maths; ``bib`` links their citations."""
    spec = spec_for(name)
    cols = resolve_columns(df, spec)
    rows = [[format_cell(r, c, labels) for c in cols] for _, r in df.iterrows()]
    # group columns: printed when they (or a group column before them) change
    prev = None
    group_idx = [i for i, c in enumerate(cols) if c.group]
    for row in rows:
        key = [row[i] for i in group_idx]
        if prev is not None:
            for j, i in enumerate(group_idx):
                if key[: j + 1] == prev[: j + 1]:
                    row[i] = ""
        prev = key
    if spec.triangle and cols:
        matrix = [c.key for c in cols[1:]]
        for r, (_, src) in zip(rows, df.iterrows()):
            label = str(src[cols[0].key])
            if label in matrix:
                for j, key in enumerate(matrix, start=1):
                    if matrix.index(key) > matrix.index(label):
                        r[j] = ""
    headers = None
    if labels is not None:
        headers = [(c.label, True) if c.label is not None else labels.header(c.key) for c in cols]
    rich = [rich_note(n, bib) for n in notes] if labels is not None or bib is not None else None
    return Table(
        name, number, spec.title, cols, rows, list(notes), list(spec.extra_notes), synthetic, rich, headers, producer
    )


def load_table(path, name: str | None = None, *, number: str = "", labels: Labels | None = None, bib=None) -> Table:
    path = Path(path)
    name = name or path.stem
    df = read_table(path, keep_default_na=True)
    head = table_header(path)
    producer = {k: head[k] for k in ("rule", "rules_file", "code")} if head["rule"] or head["code"] else None
    return build_table(
        df,
        name,
        number=number,
        notes=table_notes(path),
        synthetic=is_synthetic_table(path),
        labels=labels,
        bib=bib,
        producer=producer,
    )


def producer_parts(t: Table) -> list[tuple[str, str]]:
    """The footnote naming a table's producer, as (plain text, code) pieces: "Computed by" the
    function, "in rule" the rule "of" its rules file (from the CSV's `# code:`/`# rule:` lines)."""
    p = t.producer or {}
    parts: list[tuple[str, str]] = []
    if p.get("code"):
        parts += [("Computed by ", ""), ("", p["code"])]
    if p.get("rule"):
        parts += [(", rule " if parts else "Rule ", ""), ("", p["rule"])]
        if p.get("rules_file"):
            parts += [(" in ", ""), ("", p["rules_file"])]
    return parts + [(".", "")] if parts else []


def _cell_html(v) -> Markup:
    return v.html() if isinstance(v, Rich) else escape(v)


def _cell_tex(v) -> str:
    return v.tex(escape_latex) if isinstance(v, Rich) else escape_latex(v)


def _cell_plain(v) -> str:
    return v.plain() if isinstance(v, Rich) else str(v)


# --- HTML -----------------------------------------------------------------------------------------


FRAGMENT_START = "<!-- crfm:table -->"
FRAGMENT_END = "<!-- /crfm:table -->"


def to_html(t: Table) -> str:
    """An HTML fragment: the table with its number and title as ``<caption>``, column headers with
    ``scope``, the note below; every text escaped (the fragment holds no markup but its own)."""
    cls = {"r": "num", "l": "txt", "w": "txt wide"}
    aligns = t.aligns()
    out = []
    if t.synthetic:
        out.append(f"<!-- {escape(SYNTHETIC_NOTE)} -->")
    out.append(f'<div class="apa-table" id="tab-{escape(t.name)}">')
    widths = [w for w, _ in layout(t)]
    total = sum(widths) or 1.0
    table_pct = min(100.0, 100.0 * total / TEXT_WIDTH_CM)
    # data-width: the share of the text width (table) and of the table (columns) a paged medium
    # should give; browsers lay the table out themselves and ignore it.
    out.append(f'<table class="apa" data-width="{table_pct:.0f}">')
    out.append(
        f'<caption><span class="table-number">Table {escape(t.number)}</span>'
        f'<span class="table-title">{escape(t.title)}</span></caption>'
    )
    out.append("<thead><tr>")
    for (label, markup), a, w in zip(t.headers, aligns, widths):
        out.append(
            f'<th scope="col" class="{cls[a]}" data-width="{100.0 * w / total:.1f}">{label_html(label, markup=markup)}</th>'
        )
    out.append("</tr></thead>")
    out.append("<tbody>")
    for k, row in enumerate(t.rows):
        last = " last" if k == len(t.rows) - 1 else ""
        cells = "".join(f'<td class="{cls[a]}{last}">{_cell_html(v)}</td>' for v, a in zip(row, aligns))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody>")
    out.append("</table>")
    notes = note_html(t)
    if notes:
        out.append(f'<p class="table-note"><em>Note.</em> {notes}</p>')
    source = "".join(str(escape(text)) if text else f"<code>{escape(code)}</code>" for text, code in producer_parts(t))
    if source:
        out.append(f'<p class="table-source">{source}</p>')
    out.append("</div>")
    return "\n".join(out) + "\n"


TABLE_CSS = """body { font-family: "Times New Roman", "STIX Two Text", "Liberation Serif", Times, serif; color: #111;
       background: #fff; margin: 1.5rem; }
table.apa { border-collapse: collapse; font-size: .9rem; border-top: 2px solid #000; border-bottom: 2px solid #000; }
table.apa caption { caption-side: top; text-align: left; padding-bottom: .4rem; }
.table-number { display: block; font-weight: bold; }
.table-title { display: block; font-style: italic; }
table.apa th { border-bottom: 1px solid #000; font-weight: normal; padding: .25rem .5rem; vertical-align: bottom; }
table.apa td { padding: .12rem .5rem; vertical-align: top; }
th.num, td.num { text-align: right; white-space: nowrap; }
th.txt, td.txt { text-align: left; }
td.wide { min-width: 14em; }
.table-note { font-size: .9rem; margin-top: .3rem; max-width: 60rem; }
.cite { color: inherit; }"""


def to_html_document(t: Table) -> str:
    """The table as a page of its own (what the Snakemake report shows): the fragment of
    :func:`to_html` between markers, with a charset, a title and the table style."""
    title = f"Table {t.number}: {t.title}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>\n{TABLE_CSS}\n</style>\n</head>\n<body>\n"
        f"{FRAGMENT_START}\n{to_html(t)}{FRAGMENT_END}\n</body>\n</html>\n"
    )


def html_fragment(document: str) -> str:
    """The table fragment inside a page written by :func:`to_html_document` (a bare fragment as is)."""
    if FRAGMENT_START in document:
        return document.split(FRAGMENT_START, 1)[1].split(FRAGMENT_END, 1)[0].lstrip("\n")
    return document


def note_html(t: Table) -> Markup:
    parts = [n.html() for n in t.reader_notes] + [label_html(n) for n in t.extra_notes]
    return Markup(" ").join(parts)


# --- layout: column widths shared by LaTeX and the PDF ---------------------------------------

TEXT_WIDTH_CM = 17.0  # A4 with 2 cm margins
CHAR_CM = 0.16  # average character width at 8 pt (Times-like)
PAD_CM = 0.3  # 2 x 4 pt column separation + slack
LONG_TEXT_CM = 6.0  # a text column wider than this wraps
MIN_WRAP_CM = 3.0


def text_cm(s: str) -> float:
    """Approximate set width of ``s`` at 8 pt: capitals and wide letters count more than narrow ones."""
    w = 0.0
    for c in s:
        if c.isupper() or c in "mwMW_%":
            w += 1.35
        elif c in " .,;:'|!il[]()−-":
            w += 0.6
        else:
            w += 1.0
    return w * CHAR_CM * 0.95


def layout(t: Table) -> list[tuple[float, bool]]:
    """(width in cm, wraps) per column: the natural width of short columns; long text columns wrap
    and share what the others leave of the text width (at least 3 cm each)."""
    aligns = t.aligns()
    natural = []
    for i, (h, m) in enumerate(t.headers):
        longest = max([text_cm(label_plain(h) if m else h)] + [text_cm(_cell_plain(r[i])) for r in t.rows])
        natural.append(longest + PAD_CM)
    wraps = [a == "w" or (a == "l" and natural[i] > LONG_TEXT_CM) for i, a in enumerate(aligns)]
    others = sum(w for w, wr in zip(natural, wraps) if not wr)
    n_wrap = sum(wraps)
    out = []
    for w, wr in zip(natural, wraps):
        if wr:
            share = max(MIN_WRAP_CM, (TEXT_WIDTH_CM - others) / n_wrap)
            out.append((round(min(w, share), 1), True))
        else:
            out.append((round(w, 1), False))
    return out


# --- LaTeX ----------------------------------------------------------------------------------------


def latex_colspec(t: Table) -> str:
    """l / r for short columns; a ragged-right p-column for long text (see :func:`layout`)."""
    spec = []
    for a, (width, wraps) in zip(t.aligns(), layout(t)):
        if wraps:
            spec.append(rf">{{\raggedright\arraybackslash}}p{{{width - PAD_CM:.1f}cm}}")
        else:
            spec.append(a)
    return "@{}" + "".join(spec) + "@{}"


def table_lines(t: Table) -> int:
    """Approximate height of a table in lines of its type: caption, header, rows (wrapped cells
    count their lines) and the note."""
    lay = layout(t)
    lines = 4
    for row in t.rows:
        lines += max(
            [1] + [int(text_cm(_cell_plain(v)) // max(w - PAD_CM, 1.0)) + 1 for v, (w, wr) in zip(row, lay) if wr]
        )
    note = " ".join(n.plain() for n in t.reader_notes) + " ".join(t.extra_notes)
    return lines + (len(note) // 150 + 1 if note.strip() else 0)


def to_latex(t: Table) -> str:
    """A LaTeX fragment (booktabs + longtable + array): number and title as the longtable's caption
    (so they enter the list of tables and never part from the table's head), note below; every text
    escaped. A table shorter than a page is kept on one page (``\\crfmNeedspace``, which the
    appendix defines; elsewhere it does nothing). Needs \\usepackage{booktabs,longtable,array}."""
    ncol = len(t.columns)
    header = " & ".join(label_tex(h, markup=m) for h, m in t.headers) + r" \\"
    out = []
    if t.synthetic:
        out.append(f"% {SYNTHETIC_NOTE}")
    out.append(f"% Table {t.number}: {t.name}")
    out.append(r"\providecommand{\crfmNeedspace}[1]{}")
    out.append(r"\begingroup")
    lines = table_lines(t)
    need = lines if lines <= 40 else 12
    out.append(r"\par\crfmNeedspace{" + str(int(need * 0.8) + 2) + r"\baselineskip}")
    out.append(r"\renewcommand{\thetable}{" + escape_latex(t.number) + "}")
    crowded = sum(w for w, _ in layout(t)) > TEXT_WIDTH_CM
    size = r"\scriptsize\setlength{\tabcolsep}{3pt}" if crowded else r"\footnotesize\setlength{\tabcolsep}{4pt}"
    out.append(size + r"\setlength{\LTpre}{4pt}\setlength{\LTpost}{2pt}\setlength{\LTcapwidth}{\linewidth}")
    out.append(r"\begin{longtable}[l]{" + latex_colspec(t) + "}")
    title = escape_latex(t.title)
    out.append(r"\caption{" + title + r"}\label{tab:" + re.sub(r"[^A-Za-z0-9]", "", t.name) + r"}\\")
    out.append(r"\toprule")
    out.append(header)
    out.append(r"\midrule")
    out.append(r"\endfirsthead")
    out.append(r"\caption[]{" + title + r" (continued)}\\")
    out.append(r"\toprule")
    out.append(header)
    out.append(r"\midrule")
    out.append(r"\endhead")
    out.append(r"\midrule")
    out.append(rf"\multicolumn{{{ncol}}}{{r@{{}}}}{{\textit{{(continued)}}}}\\")
    out.append(r"\endfoot")
    out.append(r"\bottomrule")
    out.append(r"\endlastfoot")
    for row in t.rows:
        out.append(" & ".join(_cell_tex(v) for v in row) + r" \\")
    out.append(r"\end{longtable}")
    notes = note_latex(t)
    if notes:
        out.append(r"\noindent\textit{Note.} " + notes + r"\par")
    source = "".join(escape_latex(text) if text else _tt(code) for text, code in producer_parts(t))
    if source:
        out.append(r"{\scriptsize\noindent " + source + r"\par}")
    out.append(r"\endgroup")
    return "\n".join(out) + "\n"


def _tt(code: str) -> str:
    """Typewriter text that may break after a dot, underscore or slash (long dotted names)."""
    out = escape_latex(code)
    for sep in (".", r"\_", "/"):
        out = out.replace(sep, sep + r"\allowbreak{}")
    return r"\texttt{" + out + "}"


def note_latex(t: Table) -> str:
    return " ".join([n.tex(escape_latex) for n in t.reader_notes] + [str(label_tex(n)) for n in t.extra_notes])


# --- all tables of a run --------------------------------------------------------------------------


def number_tables(names) -> dict[str, str]:
    """'2.9' = the ninth table of Study 2 in registry order (unknown tables last, by name)."""
    out, count = {}, {}
    for name in sorted(names, key=lambda n: order_key(n, all_tables())):
        study = study_of(name)
        count[study] = count.get(study, 0) + 1
        out[name] = item_number(name, count[study])
    return out


def render_tables(csv_paths, html_dir, tex_dir, index_path, *, labels: Labels | None = None, bib=None) -> list[dict]:
    """Render every table to ``html_dir/<name>.html`` (a page of its own, the fragment inside) and
    ``tex_dir/<name>.tex``; write the index (order, number, title, files, cited works) that the
    appendix lays out. Returns the index entries."""
    paths = {Path(p).stem: Path(p) for p in csv_paths}
    numbers = number_tables(paths)
    html_dir, tex_dir = Path(html_dir), Path(tex_dir)
    html_dir.mkdir(parents=True, exist_ok=True)
    tex_dir.mkdir(parents=True, exist_ok=True)
    entries, synthetic = [], False
    for name in sorted(paths, key=lambda n: order_key(n, all_tables())):
        t = load_table(paths[name], name, number=numbers[name], labels=labels, bib=bib)
        synthetic = synthetic or t.synthetic
        html_path, tex_path = html_dir / f"{name}.html", tex_dir / f"{name}.tex"
        html_path.write_text(to_html_document(t), encoding="utf-8")
        tex_path.write_text(to_latex(t), encoding="utf-8")
        entries.append(
            {
                "name": name,
                "study": study_of(name),
                "number": t.number,
                "title": t.title,
                "csv": str(paths[name]),
                "html": str(html_path),
                "tex": str(tex_path),
                "rows": len(t.rows),
                "columns": len(t.columns),
                "cites": sorted(set(t.cites())),
            }
        )
    index = {"synthetic": synthetic, "tables": entries}
    Path(index_path).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return entries
