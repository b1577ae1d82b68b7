"""The appendix as readers get it: HTML in headless Chromium at phone (390 px) and desktop (1280 px)
widths, the PDF through pdftotext, numbers.tex in a manuscript, the Snakemake report in Chromium.

Checks: every table has a <caption> and scoped header cells, every figure loaded, every citation
links to an entry of the reference list, no internal name of the deny-list
(crfm.report.labels.INTERNAL_NAMES) in the text a reader sees, a banner that does not stick to the
screen; the PDF has contents, lists of tables and figures, references and its engine; the manuscript
example compiles against the run's numbers.tex; the report lists each table as rendered HTML and each
figure once. Screenshots stay under the test's tmp dir and are copied to $CRFM_ARTEFACTS when set.
Chromium, poppler-utils and pdflatex are system tools: skipped without them locally, failed in CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, copy_workflow, snakemake
from crfm.report.labels import INTERNAL_NAMES
from test_appendix_workflow import need, pdf_text

PROBE = """
<script>
window.addEventListener('load', function () {
  var out = {};
  var imgs = Array.prototype.slice.call(document.images);
  out.images = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length + '/' + imgs.length;
  var tables = document.querySelectorAll('div.apa-table table');
  out.tables = tables.length;
  out.captions = document.querySelectorAll('div.apa-table table > caption').length;
  out.th = document.querySelectorAll('div.apa-table th').length;
  out.th_scoped = document.querySelectorAll('div.apa-table th[scope=col]').length;
  out.references = document.querySelectorAll('#references li[id^=ref-]').length;
  var cites = Array.prototype.slice.call(document.querySelectorAll('a.cite'));
  out.cites = cites.length;
  out.cites_dangling = cites.filter(function (a) { return !document.getElementById(a.getAttribute('href').slice(1)); }).length;
  var cited = {};
  cites.forEach(function (a) { cited[a.getAttribute('href').slice(1)] = 1; });
  out.refs_uncited = Array.prototype.slice.call(document.querySelectorAll('#references li[id^=ref-]')).filter(function (li) { return !cited[li.id]; }).length;
  var banner = document.getElementById('synthetic-banner');
  out.banner_position = banner ? getComputedStyle(banner).position : 'none';
  out.banner_share = banner ? (banner.getBoundingClientRect().height / window.innerHeight).toFixed(3) : '0';
  out.overflow = document.documentElement.scrollWidth > window.innerWidth + 1 ? 1 : 0;
  out.lot = document.querySelectorAll('nav ol.lot li').length;
  out.lof = document.querySelectorAll('nav ol.lof li').length;
  var prov = document.getElementById('provenance');
  if (prov) prov.remove();
  out.text = document.body.innerText;
  document.body.setAttribute('data-crfm-check', JSON.stringify(out));
  document.title = 'CHECKED';
});
</script>
"""

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def chromium(args, url, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = need(["chromium", "chromium-browser", "google-chrome"], "Chromium")
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000", *args, url,
    ]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def keep(path: Path) -> None:
    dest = os.environ.get("CRFM_ARTEFACTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(dest) / path.name)


def probe(html_path: Path, tmp_path: Path, size) -> dict:
    page = tmp_path / f"probe-{size[0]}.html"
    page.write_text(html_path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    res = chromium([f"--window-size={size[0]},{size[1]}", "--dump-dom"], page.as_uri(), tmp_path)
    m = re.search(r"data-crfm-check=\"([^\"]+)\"", res.stdout)
    assert m, res.stdout[:500]
    import html as htmllib

    return json.loads(htmllib.unescape(m.group(1)))


def deny_hits(text: str) -> list[str]:
    return [
        f"{p}: ...{text[max(0, m.start() - 40) : m.end() + 40]}..."
        for p in INTERNAL_NAMES
        for m in re.finditer(p, text)
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    wf = copy_workflow(tmp_path_factory.mktemp("reader") / "wf")
    res = snakemake(wf, "--cores", "2")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return wf


def results(wf: Path) -> Path:
    return wf / "results/default"


@pytest.mark.e2e
@pytest.mark.parametrize("width", list(WIDTHS))
def test_html_appendix_in_chromium(run, tmp_path, width):
    size = WIDTHS[width]
    html = results(run) / "appendix/appendix.html"
    seen = probe(html, tmp_path, size)
    index = json.loads((results(run) / "tables/index.json").read_text())
    n_tables, n_figures = len(index["tables"]), len(list((results(run) / "figures").glob("*.png")))
    assert seen["images"] == f"{n_figures}/{n_figures}", seen["images"]
    assert seen["tables"] == seen["captions"] == n_tables
    assert seen["th"] == seen["th_scoped"] > 0
    assert seen["lot"] == n_tables and seen["lof"] == n_figures
    assert seen["references"] >= 20 and seen["cites"] >= seen["references"]
    assert seen["cites_dangling"] == 0 and seen["refs_uncited"] == 0
    assert seen["banner_position"] != "sticky" and seen["banner_position"] != "fixed"
    assert seen["overflow"] == 0, "the page scrolls sideways"
    assert not deny_hits(seen["text"]), deny_hits(seen["text"])[:5]
    assert "References" in seen["text"] and "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015)" in seen["text"]
    shot = tmp_path / f"appendix-{width}.png"
    chromium([f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}"], html.as_uri(), tmp_path)
    assert shot.stat().st_size > 10_000
    keep(shot)


@pytest.mark.e2e
def test_pdf_has_contents_lists_references_and_its_engine(run):
    pdf = results(run) / "appendix/appendix.pdf"
    pages, text = pdf_text(pdf)
    assert pages >= 20
    for heading in ("Contents", "List of Tables", "List of Figures", "References"):
        assert heading in text, heading
    assert "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015)" in text
    assert re.search(r"This appendix: \d+ pages, \d+ tables, \d+ figures and \d+ references; typeset with pdfTeX", text)
    body = text.rsplit("Provenance", 1)[0]
    assert not deny_hits(body), deny_hits(body)[:5]
    assert "p < .001" in text and "p <.001" not in text


@pytest.mark.e2e
def test_numbers_tex_compiles_in_the_manuscript_example(run, tmp_path):
    pdflatex = need(["pdflatex"], "pdflatex (TeX Live)")
    shutil.copy2(ROOT / "docs/manuscript_example.tex", tmp_path)
    shutil.copy2(results(run) / "numbers.tex", tmp_path)
    res = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "manuscript_example.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout[-2000:]
    _, text = pdf_text(tmp_path / "manuscript_example.pdf")
    numbers = json.loads((results(run) / "numbers.json").read_text())["numbers"]
    assert f"CFI = {numbers['study2']['cfa']['correlated']['cfi']['text']}" in text
    macros = (results(run) / "numbers.tex").read_text()
    assert macros.count("\\newcommand") >= json.loads((results(run) / "numbers.json").read_text())["count"]


@pytest.mark.e2e
def test_snakemake_report_shows_tables_and_figures_once(run, tmp_path):
    res = snakemake(run, "--report", "report.html")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    report = (run / "report.html").read_text(errors="replace")
    index = json.loads((results(run) / "tables/index.json").read_text())
    # registered results are embedded as data URIs named ';filename=<name>;'
    for t in index["tables"]:
        assert f"filename={t['name']}.html;" in report and f"filename={t['name']}.csv;" not in report, t["name"]
    for png in (results(run) / "figures").glob("*.png"):
        assert (
            report.count(f"filename={png.name};") == 1 and f"filename={png.with_suffix('.pdf').name};" not in report
        ), png.name
    assert "Confirmatory factor analysis: fit of rival models" in report  # a title from the specs
    seen = chromium(["--window-size=1280,900", "--dump-dom"], (run / "report.html").as_uri(), tmp_path).stdout
    assert "Study 2" in seen and "Appendix" in seen
    shot = tmp_path / "report-1280.png"
    chromium(["--window-size=1280,900", f"--screenshot={shot}"], (run / "report.html").as_uri(), tmp_path)
    keep(shot)


@pytest.mark.e2e
def test_the_fallback_engine_makes_the_pdf_without_tex(run, tmp_path):
    """Where no TeX is installed the PDF still comes out (xhtml2pdf), says so, and is reproducible."""
    wf = copy_workflow(tmp_path / "wf")
    shutil.copytree(results(run), wf / "results/default")
    env_runs = []
    for _k in range(2):
        (wf / "results/default/appendix/appendix.pdf").unlink(missing_ok=True)
        env = {k2: v for k2, v in os.environ.items()}
        env["CRFM_PDF_ENGINE"] = "xhtml2pdf"
        res = subprocess.run(
            [__import__("sys").executable, "-m", "snakemake", "appendix", "--cores", "1", "--forcerun", "appendix_pdf"],
            cwd=wf, capture_output=True, text=True, env=env, timeout=900,
        )  # fmt: skip
        assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
        env_runs.append((wf / "results/default/appendix/appendix.pdf").read_bytes())
    assert env_runs[0] == env_runs[1]
    pdf = wf / "results/default/appendix/appendix.pdf"
    _, text = pdf_text(pdf)
    assert "set from the HTML appendix by xhtml2pdf" in text and "References" in text
