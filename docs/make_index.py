#!/usr/bin/env python
"""Write docs/table_index.md: every result table -> the rule that writes it -> its .smk file -> the
script the rule runs -> the function its ``# code:`` line names.

    python docs/make_index.py            # (re)write docs/table_index.md
    python docs/make_index.py --check    # exit 1 if docs/table_index.md differs from what it would write

Everything comes from the sources, nothing from a run (``results/`` is not committed):

* rules and their tables: ``workflow/rules/*.smk`` - every ``rule <name>:`` block, the
  ``{RESULTS}/tables/<name>.csv`` literals of its ``output:`` section (the style guide keeps table
  names literal in the rules, so a conditional output is listed too) and its ``script:``;
* the ``# code:`` value: the ``Table(name, frame, notes, code)`` constructions in ``src/crfm/studies/*.py``.
  Each ``code`` is ``code_of(<function>)``, directly or through a local variable assigned from it; the
  function is looked up through the module's imports (module-level and function-level) and imported,
  so the dotted name is exactly what ``crfm.studies.base.code_of`` writes at run time (the defining
  module, also for names re-exported by a package ``__init__``). A table name written as an f-string
  (``f"{self.study}_exclusions"``) matches every rule output of that shape. A ``code`` that is not of
  that form would be reported as not statically derivable (none is today).

The tests (tests/test_docs_index.py) hold docs/table_index.md equal to what this script writes now and
check that every table of every registered study is in it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "workflow" / "rules"
STUDIES_DIR = ROOT / "src" / "crfm" / "studies"
OUT = ROOT / "docs" / "table_index.md"

NOT_STATIC = "(not statically derivable)"
_RULE_RE = re.compile(r"^rule\s+([A-Za-z_][A-Za-z0-9_]*)\s*:", re.MULTILINE)
_DIRECTIVE_RE = re.compile(r"^    ([a-z_]+):")
_TABLE_RE = re.compile(r"\{RESULTS\}/tables/([A-Za-z0-9_]+)\.csv")
_SCRIPT_RE = re.compile(r"^    script:\s*\n\s+\"([^\"]+)\"", re.MULTILINE)


def _src_on_path() -> None:
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


# --------------------------------------------------------------------------------------------------
# rules: table outputs per rule, from workflow/rules/*.smk
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    rules_file: str  # relative to the repository root
    script: str  # relative to the repository root ('' if the rule runs no script)
    tables: tuple[str, ...]


def _rule_blocks(text: str):
    """(name, body) of every top-level ``rule`` block: the indented (or blank) lines after its header."""
    for m in _RULE_RE.finditer(text):
        body = []
        for line in text[m.end() :].splitlines()[1:]:
            if line.strip() and not line[0].isspace():
                break
            body.append(line)
        yield m.group(1), "\n".join(body)


def _section(body: str, directive: str) -> str:
    """The lines of one directive (``output:``) of a rule body, up to the next directive."""
    out, inside = [], False
    for line in body.splitlines():
        d = _DIRECTIVE_RE.match(line)
        if d:
            inside = d.group(1) == directive
            continue
        if inside:
            out.append(line)
    return "\n".join(out)


def parse_rules(rules_dir: Path = RULES_DIR, root: Path = ROOT) -> list[Rule]:
    """Every rule of ``rules_dir/*.smk`` (files by name, rules in file order) with its table outputs."""
    rules = []
    for smk in sorted(rules_dir.glob("*.smk")):
        for name, body in _rule_blocks(smk.read_text(encoding="utf-8")):
            tables = tuple(dict.fromkeys(_TABLE_RE.findall(_section(body, "output"))))
            m = _SCRIPT_RE.search(body)
            script = (smk.parent / m.group(1)).resolve().relative_to(root.resolve()).as_posix() if m else ""
            rules.append(Rule(name, smk.relative_to(root).as_posix(), script, tables))
    return rules


# --------------------------------------------------------------------------------------------------
# codes: the `code` of every Table(...) in src/crfm/studies/*.py
# --------------------------------------------------------------------------------------------------


@dataclass
class TableDecl:
    name: str  # literal name, or a regular expression when the name is an f-string
    pattern: bool
    code: str  # dotted name as code_of writes it, or NOT_STATIC / ''
    declared_in: str  # the function that builds the Table (module.Class.method)
    module_file: str = ""  # the defining module's file, relative to the repository root


@dataclass
class _Scope:
    name: str
    imports: dict = field(default_factory=dict)  # local name -> dotted target
    assigns: dict = field(default_factory=dict)  # local name -> ast expression assigned to it


def _imports_of(node: ast.AST, scope: _Scope) -> None:
    # `pm = lazy_module("crfm.stats.psychometrics")` (crfm.studies.base.lazy_module) is an import too
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "lazy_module"
        and node.value.args
        and isinstance(node.value.args[0], ast.Constant)
    ):
        scope.imports[node.targets[0].id] = node.value.args[0].value
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        for a in node.names:
            scope.imports[a.asname or a.name] = f"{node.module}.{a.name}"
    elif isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                scope.imports[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                scope.imports[top] = top


def _dotted(expr: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        return [expr.id, *reversed(parts)]
    return None


def _import_object(dotted: str):
    """The object a dotted name denotes: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _module_file(module: str) -> str:
    base = ROOT / "src" / Path(*module.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p.relative_to(ROOT).as_posix()
    return ""


class _TableFinder(ast.NodeVisitor):
    def __init__(self, module: str):
        self.module = module
        self.scopes = [_Scope(module)]
        self.qual: list[str] = []
        self.module_defs: set[str] = set()
        self.found: list[TableDecl] = []

    # scopes ---------------------------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            _imports_of(stmt, self.scopes[0])
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.module_defs.add(stmt.name)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.qual.append(node.name)
        self.generic_visit(node)
        self.qual.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        scope = _Scope(node.name)
        for sub in ast.walk(node):
            _imports_of(sub, scope)
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                t, v = sub.targets[0], sub.value
                if isinstance(t, ast.Name):
                    scope.assigns[t.id] = v
                elif isinstance(t, ast.Tuple) and isinstance(v, ast.Tuple) and len(t.elts) == len(v.elts):
                    for te, ve in zip(t.elts, v.elts):
                        if isinstance(te, ast.Name):
                            scope.assigns[te.id] = ve
        self.scopes.append(scope)
        self.qual.append(node.name)
        self.generic_visit(node)
        self.qual.pop()
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    # resolution -----------------------------------------------------------------------------------
    def _target(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.imports:
                return scope.imports[name]
        if name in self.module_defs:
            return f"{self.module}.{name}"
        return None

    def _resolve_code(self, expr: ast.AST | None, depth: int = 0) -> str:
        if expr is None:
            return ""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.Name) and depth < 5:
            for scope in reversed(self.scopes[1:]):
                if expr.id in scope.assigns:
                    return self._resolve_code(scope.assigns[expr.id], depth + 1)
            return NOT_STATIC
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "code_of"
            and len(expr.args) == 1
        ):
            parts = _dotted(expr.args[0])
            base = self._target(parts[0]) if parts else None
            if base is None:
                return NOT_STATIC
            try:
                obj = _import_object(".".join([base, *parts[1:]]))
            except (ImportError, AttributeError):
                return NOT_STATIC
            return f"{obj.__module__}.{obj.__qualname__}"
        return NOT_STATIC

    @staticmethod
    def _name(expr: ast.AST) -> tuple[str, bool] | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value, False
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for v in expr.values:
                if isinstance(v, ast.Constant):
                    parts.append(re.escape(str(v.value)))
                else:
                    parts.append("[A-Za-z0-9]+")
            return "".join(parts), True
        return None

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "Table":
            kw = {k.arg: k.value for k in node.keywords}
            name_expr = node.args[0] if node.args else kw.get("name")
            code_expr = node.args[3] if len(node.args) > 3 else kw.get("code")
            named = self._name(name_expr) if name_expr is not None else None
            if named is not None:
                code = self._resolve_code(code_expr)
                module = code.rsplit(".", 1)[0] if code and code != NOT_STATIC else ""
                while module and not _module_file(module):  # Class.method: strip to the module
                    module = module.rsplit(".", 1)[0] if "." in module else ""
                self.found.append(
                    TableDecl(
                        named[0],
                        named[1],
                        code,
                        ".".join([self.module, *self.qual]),
                        _module_file(module) if module else "",
                    )
                )
        self.generic_visit(node)


def parse_table_codes(studies_dir: Path = STUDIES_DIR) -> list[TableDecl]:
    """Every ``Table(...)`` construction in the study modules, with its resolved ``code``."""
    _src_on_path()
    out = []
    for py in sorted(studies_dir.glob("*.py")):
        if py.name == "__init__.py":
            continue
        finder = _TableFinder(f"crfm.studies.{py.stem}")
        finder.visit(ast.parse(py.read_text(encoding="utf-8"), filename=str(py)))
        out.extend(finder.found)
    return out


# --------------------------------------------------------------------------------------------------
# the index
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    table: str
    rule: str
    rules_file: str
    script: str
    codes: tuple[TableDecl, ...]


def _decls_for(table: str, decls: list[TableDecl]) -> tuple[TableDecl, ...]:
    exact = [d for d in decls if not d.pattern and d.name == table]
    chosen = exact or [d for d in decls if d.pattern and re.fullmatch(d.name, table)]
    unique: dict[tuple[str, str], TableDecl] = {}
    for d in chosen:
        unique.setdefault((d.code, d.declared_in), d)
    return tuple(unique.values())


def build_rows(rules: list[Rule] | None = None, decls: list[TableDecl] | None = None) -> list[Row]:
    rules = parse_rules() if rules is None else rules
    decls = parse_table_codes() if decls is None else decls
    return [Row(t, r.name, r.rules_file, r.script, _decls_for(t, decls)) for r in rules for t in r.tables]


def problems(rows: list[Row]) -> list[str]:
    """What would make the index (or a run's ``# rule:``/``# code:`` lines) wrong: a table written by two
    rules, a table with no statically derivable code, a rule whose ``# rule:`` line would name another file."""
    _src_on_path()
    from crfm.workflow import rules_file

    out, seen = [], {}
    for r in rows:
        if r.table in seen:
            out.append(f"table {r.table} is an output of rules {seen[r.table]} and {r.rule}")
        seen[r.table] = r.rule
        if not r.codes:
            out.append(f"table {r.table} (rule {r.rule}): no Table() in src/crfm/studies names it")
        for d in r.codes:
            if d.code in ("", NOT_STATIC):
                out.append(f"table {r.table}: the code of {d.declared_in}'s Table() is {NOT_STATIC}")
        if rules_file(r.rule) != r.rules_file:
            out.append(
                f"rule {r.rule} is in {r.rules_file}, but its tables' '# rule:' line would name '{rules_file(r.rule)}'"
            )
    return out


def _link(text: str, path: str) -> str:
    return f"[{text}](../{path})" if path else text


def render(rows: list[Row] | None = None) -> str:
    _src_on_path()
    from crfm.studies import registry

    rows = build_rows() if rows is None else rows
    reg = registry()
    order = {f"workflow/rules/{sid}.smk": k for k, sid in enumerate(reg)}
    files = sorted({r.rules_file for r in rows}, key=lambda f: (order.get(f, len(order)), f))
    titles = {f"workflow/rules/{sid}.smk": s.title for sid, s in reg.items()}
    lines = [
        "# Table index: table -> rule -> .smk file -> computing function",
        "",
        "<!-- GENERATED by docs/make_index.py; do not edit by hand. Regenerate with",
        "     `python docs/make_index.py`; tests/test_docs_index.py fails when this file is stale. -->",
        "",
        "Every result table `results/<run>/tables/<table>.csv`, the rule that writes it (the table's",
        "`# rule:` line), the rule's script, and the function its `# code:` line names. Derived statically",
        "from `workflow/rules/*.smk` and the `Table(...)` constructions in `src/crfm/studies/*.py` (see the",
        "docstring of `docs/make_index.py`); *built in* is the study-layer function that assembles the table.",
        "How to follow a number from the appendix to its code: `docs/architecture.md`, section 'From a",
        "number to its code'.",
        "",
        f"{len(rows)} tables, {len({r.rule for r in rows})} rules.",
    ]
    for f in files:
        lines += ["", f"## {titles.get(f, Path(f).stem)} ({_link(f'`{f}`', f)})", ""]
        lines.append("| table | rule | script | `# code:` (computing function) | built in |")
        lines.append("| --- | --- | --- | --- | --- |")
        for r in rows:
            if r.rules_file != f:
                continue
            codes = (
                "<br>".join(
                    _link(f"`{d.code}`", d.module_file) if d.code not in ("", NOT_STATIC) else NOT_STATIC
                    for d in r.codes
                )
                or "-"
            )
            built = "<br>".join(f"`{d.declared_in}`" for d in r.codes) or "-"
            script = _link(f"`{Path(r.script).name}`", r.script) if r.script else "-"
            lines.append(f"| `{r.table}` | `{r.rule}` | {script} | {codes} | {built} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the index is stale; write nothing")
    args = ap.parse_args(argv)
    rows = build_rows()
    for p in problems(rows):
        print(f"make_index: {p}", file=sys.stderr)
    text = render(rows)
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python docs/make_index.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(rows)} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
