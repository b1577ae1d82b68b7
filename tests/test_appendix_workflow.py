"""End to end: the output layer on a scratch copy of the repository.

The appendix holds every table and figure; `snakemake --report` works on the completed run; the HTML
appendix renders in headless Chromium with every figure loaded; the PDF has its pages and table titles;
appendix.tex compiles; hostile labels injected through --configfile render literally everywhere; real
(non-synthetic) data carry no synthetic banner.

Chromium, poppler-utils (pdfinfo, pdftotext) and pdflatex are system tools: these tests skip without
them locally and fail without them in CI (CI=true). `.ci/install-appendix-deps.sh` installs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_workflow, snakemake
from crfm.data.tables import SYNTHETIC_NOTE

IN_CI = os.environ.get("CI", "").lower() == "true"
INSTALL = ".ci/install-appendix-deps.sh"


def need(names, what: str) -> str:
    """The path of the first tool found; skip (locally) or fail (CI=true) when none is."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    msg = f"{what} is not installed ({' / '.join(names)}); {INSTALL} installs it"
    if IN_CI:
        pytest.fail(f"CI=true but {msg}")
    pytest.skip(msg)


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    wf = copy_workflow(tmp_path_factory.mktemp("appendix") / "wf")
    res = snakemake(wf, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return wf


def index_of(wf: Path) -> dict:
    return json.loads((wf / "results/default/tables/index.json").read_text())


# --- headless Chromium ----------------------------------------------------------------------------

CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var loaded = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var tables = document.querySelectorAll('div.apa-table table').length;
  var probes = JSON.parse(document.body.getAttribute('data-probes') || '[]');
  var text = document.body.innerText;
  var found = probes.filter(function (p) { return text.indexOf(p) >= 0; }).length;
  document.body.setAttribute('data-crfm-check',
    'images=' + loaded + '/' + imgs.length + ';tables=' + tables + ';scripts=' + document.scripts.length +
    ';probes=' + found + '/' + probes.length);
  document.title = 'CHECKED';
});
</script>
"""


def chromium_check(html_path: Path, tmp_path: Path, probes=()) -> tuple[dict, str]:
    """Load the appendix in headless Chromium with a probe script appended; return what it saw."""
    chromium = need(["chromium", "chromium-browser", "google-chrome"], "Chromium")
    page = tmp_path / "page.html"
    html = html_path.read_text(encoding="utf-8")
    probe_attr = json.dumps(list(probes)).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    html = html.replace("<body>", f'<body data-probes="{probe_attr}">', 1).replace(
        "</body>", CHECK_SCRIPT + "</body>", 1
    )
    page.write_text(html, encoding="utf-8")
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    m = re.search(r'data-crfm-check="([^"]+)"', res.stdout)
    assert m, f"the probe script did not run: {res.stdout[:500]!r} {res.stderr[-1500:]}"
    return dict(kv.split("=", 1) for kv in m.group(1).split(";")), res.stdout


def pdf_text(pdf: Path) -> tuple[int, str]:
    pdfinfo = need(["pdfinfo"], "poppler-utils (pdfinfo)")
    pdftotext = need(["pdftotext"], "poppler-utils (pdftotext)")
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return pages, squash(text).replace("\u2019", "'")  # TeX sets an apostrophe as a typographic one


def compile_tex(results: Path, tmp_path: Path) -> Path:
    """Compile appendix.tex (twice, for longtable widths and the contents) next to a copy of the
    figures, as a reader would from results/appendix/."""
    pdflatex = need(["pdflatex"], "pdflatex (TeX Live)")
    work = tmp_path / "tex"
    (work / "appendix").mkdir(parents=True)
    shutil.copy2(results / "appendix/appendix.tex", work / "appendix/appendix.tex")
    shutil.copytree(results / "figures", work / "figures")
    for _ in range(2):
        res = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "appendix.tex"],
            cwd=work / "appendix",
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stdout[-3000:]
    return work / "appendix/appendix.pdf"


# --- the default run ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_dry_run_plans_the_output_layer(workflow_copy):
    res = snakemake(workflow_copy, "-n", "--quiet", "rules")
    assert res.returncode == 0, res.stderr[-2000:]
    for rule in ("appendix_numbers", "appendix_tables", "appendix_provenance", "appendix_document", "appendix_pdf"):
        assert rule in res.stdout, rule


@pytest.mark.e2e
def test_appendix_holds_every_table_figure_and_number(run):
    results = run / "results/default"
    tables = sorted(p.stem for p in (results / "tables").glob("*.csv"))
    index = index_of(run)
    assert {t["name"] for t in index["tables"]} == set(tables)
    html = (results / "appendix/appendix.html").read_text()
    tex = (results / "appendix/appendix.tex").read_text()
    for t in index["tables"]:
        assert f'id="tab-{t["name"]}"' in html, t["name"]
        assert f"% Table {t['number']}: {t['name']}" in tex, t["name"]
    figures = sorted(p.stem for p in (results / "figures").glob("*.png"))
    assert html.count('src="data:image/png;base64,') == len(figures)
    assert tex.count(r"\includegraphics") == len(figures)
    numbers = json.loads((results / "numbers.json").read_text())
    assert numbers["count"] > 200 and numbers["synthetic"] is True
    assert f"{numbers['count']} numbers" in html
    # the running text quotes numbers.json, e.g. the CFA fit and the sample sizes
    s2 = numbers["numbers"]["study2"]
    assert f"CFI = {s2['cfa']['correlated']['cfi']['text']}" in html
    assert f"Of {s2['flow']['received']['text']} respondents" in html
    assert SYNTHETIC_NOTE.replace("&", "&amp;") in html and r"\markright{SYNTHETIC DATA" in tex


@pytest.mark.e2e
def test_provenance_records_inputs_config_and_versions(run):
    prov = json.loads((run / "results/default/provenance.json").read_text())
    assert prov["git"] == {"commit": None, "dirty": None}  # the scratch copy is no git checkout
    assert len(prov["config_hash"]) == 64 and prov["snakemake"] and prov["python"]["version"]
    assert "resources/raw/study2_survey.csv" in prov["raw_inputs"]
    for path, digest in list(prov["raw_inputs"].items()) + list(prov["outputs"].items()):
        assert hashlib.sha256((run / path).read_bytes()).hexdigest() == digest, path
    html = (run / "results/default/appendix/appendix.html").read_text()
    assert prov["config_hash"] in html and "not a git checkout" in html
    assert html.rstrip().endswith("</html>") and html.rfind('id="provenance"') > html.rfind('class="apa-table"')


@pytest.mark.e2e
def test_snakemake_report_on_the_completed_run(run):
    res = snakemake(run, "--report", "report.html")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    report = (run / "report.html").read_text(errors="replace")
    for category in ("Study 1", "Study 2", "Study 3", "Appendix"):
        assert f'"{category}"' in report, category
    assert "fit of rival models" in report  # a caption from workflow/report/
    assert "appendix.pdf" in report and "provenance.json" in report


@pytest.mark.e2e
def test_html_appendix_renders_in_chromium(run, tmp_path):
    seen, dom = chromium_check(run / "results/default/appendix/appendix.html", tmp_path)
    figures = len(list((run / "results/default/figures").glob("*.png")))
    index = index_of(run)
    assert seen["images"] == f"{figures}/{figures}", seen
    assert int(seen["tables"]) == len(index["tables"]), seen
    assert seen["scripts"] == "1", seen  # only the probe: the appendix itself runs no script
    for t in index["tables"]:
        assert f'id="tab-{t["name"]}"' in dom


@pytest.mark.e2e
def test_pdf_has_pages_and_every_table_title(run):
    pages, text = pdf_text(run / "results/default/appendix/appendix.pdf")
    index = index_of(run)
    assert pages >= 20, pages
    for t in index["tables"]:
        assert squash(f"Table {t['number']} {t['title']}") in text, t["name"]
    for n in range(1, 3):
        assert f"Figure 1.{n}" in text
    assert "SYNTHETIC DATA" in text and "Provenance" in text


@pytest.mark.e2e
def test_latex_appendix_compiles(run, tmp_path):
    pdf = compile_tex(run / "results/default", tmp_path)
    pages, text = pdf_text(pdf)
    assert pages >= 20
    assert squash(f"Table 2.{len([t for t in index_of(run)['tables'] if t['study'] == 'study2'])}") in text


# --- hostile labels through --configfile ---------------------------------------------------------

LABEL = 'Reference & "communication" <script>alert(1)</script> 100% #1 ~x^'
ITEM = "We use <b>case stories</b> & 50% of #ads_x > never {ok}"
CODE = "Case stories & <i>films</i> #2 $5"
MODERATOR = "Offering complexity <script>x</script> & 10% _y_"


def hostile_config(wf: Path) -> Path:
    """Rename construct RCOM to R_COM and give it, an item, a code and the moderator hostile text.
    Lists are replaced whole on merge, so the override carries the whole measurement model."""
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    measurement = base["measurement"]
    for c in measurement:
        if c["construct"] == "RCOM":
            c["construct"], c["label"] = "R_COM", LABEL
            c["items"][0]["text"] = ITEM
        if c["construct"] == "COMP":
            c["label"] = MODERATOR
    codebook = (wf / "config/codebook.csv").read_text().splitlines()
    out = [codebook[0]]
    for line in codebook[1:]:
        line = line.replace(",RCOM,", ",R_COM,")
        if line.startswith("P_CASESTORY,"):
            line = line.replace("P_CASESTORY,Customer case stories,", f'P_CASESTORY,"{CODE}",')
        out.append(line)
    (wf / "config/hostile_codebook.csv").write_text("\n".join(out) + "\n")
    override = {
        "studies": ["study1", "study2", "study3"],
        "measurement": measurement,
        "second_order": {"dimensions": ["R_COM", "RSEL", "RINT"]},
        "study1": {"codebook": "config/hostile_codebook.csv"},
        "study2": {
            "constructs": ["R_COM", "RSEL", "RINT"],
            "exclusions": {"straightlining": {"blocks": [["R_COM", "RSEL", "RINT"]]}},
        },
        "study3": {"exclusions": {"straightlining": {"blocks": [["R_COM", "RSEL", "RINT", "PERF", "COMP"]]}}},
    }
    path = wf / "hostile.yaml"
    path.write_text(yaml.safe_dump(override, sort_keys=False, allow_unicode=True))
    return path


@pytest.mark.e2e
def test_hostile_labels_render_literally_in_html_latex_and_pdf(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    res = snakemake(wf, "appendix", "--cores", "2", "--configfile", str(hostile_config(wf)))
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    results = wf / "results/default"
    html = (results / "appendix/appendix.html").read_text()
    tex = (results / "appendix/appendix.tex").read_text()

    # HTML: autoescaped, so the markup in the labels is text, and the page holds no script at all
    assert "<script" not in html and "<b>case" not in html and "<i>films" not in html
    for raw in (LABEL, ITEM, CODE, MODERATOR):
        assert str(__import__("markupsafe").escape(raw)) in html, raw
    assert "R_COM" in html

    # LaTeX: every special character escaped
    assert r"Reference \& \textquotedbl{}communication\textquotedbl{} \textless{}script\textgreater{}alert(1)" in tex
    assert r"100\% \#1 \textasciitilde{}x\textasciicircum{}" in tex
    assert (
        r"\textless{}b\textgreater{}case stories\textless{}/b\textgreater{} \& 50\% of \#ads\_x \textgreater{} never \{ok\}"
        in tex
    )
    assert r"Case stories \& \textless{}i\textgreater{}films\textless{}/i\textgreater{} \#2 \$5" in tex
    assert r"R\_COM" in tex and "R_COM" not in tex.replace(r"R\_COM", "")

    # the browser shows the labels as text (found by innerText), and runs no script of the page's own
    if shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome") or IN_CI:
        seen, _ = chromium_check(results / "appendix/appendix.html", tmp_path, probes=[LABEL, ITEM, CODE, MODERATOR])
        assert seen["probes"] == "4/4" and seen["scripts"] == "1", seen

    # the PDF (xhtml2pdf) and the compiled LaTeX show them literally too
    _, text = pdf_text(results / "appendix/appendix.pdf")
    assert squash(LABEL) in text and "<script>x</script>" in text
    _, tex_text = pdf_text(compile_tex(results, tmp_path))
    assert "<script>alert(1)</script>" in tex_text and "#ads_x" in tex_text


# --- real data: no banner -------------------------------------------------------------------------


@pytest.mark.e2e
def test_real_data_appendix_carries_no_synthetic_banner(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    res = snakemake(wf, "appendix", "--cores", "2", "--configfile", "config/examples/hs1939.yaml")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    results = wf / "results/hs1939"
    assert not (wf / "results/default").exists(), "an own-data run wrote into the default run's folder"
    for name in ("appendix.html", "appendix.tex"):
        assert "SYNTHETIC" not in (results / "appendix" / name).read_text().upper(), name
    numbers = json.loads((results / "numbers.json").read_text())
    assert numbers["synthetic"] is False and numbers["studies"] == ["study2"]
    html = (results / "appendix/appendix.html").read_text()
    assert 'id="study2"' in html and 'id="study1"' not in html
    _, text = pdf_text(results / "appendix/appendix.pdf")
    assert "SYNTHETIC" not in text.upper() and "Study 2: Scale development" in text


@pytest.mark.e2e
def test_appendix_without_a_second_order_factor(tmp_path):
    """second_order: null (a first-order focal construct): no second-order or dimension-level tables,
    and the appendix builds."""
    wf = copy_workflow(tmp_path / "wf")
    res = snakemake(wf, "appendix", "--cores", "2", "--configfile", "tests/data/config_no_second_order.yaml")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    tables = {p.stem for p in (wf / "results/noso/tables").glob("*.csv")}
    assert "study3_coefficients" in tables and "study2_fit" in tables
    assert (
        not {"study2_second_order_loadings", "study3_second_order_loadings", "study3_dimension_coefficients"} & tables
    )
    assert "Study 3" in (wf / "results/noso/appendix/appendix.html").read_text()
