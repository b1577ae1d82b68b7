"""`snakemake --report` never turns text from the config into live markup.

A label that closes a script element and opens an image with an ``onerror`` handler is put everywhere
config text can reach the report: a construct's label and short name, the second-order factor's label,
an item's wording, a hypothesis, a variable's label and a categorical level (in the config and in the
data), and a codebook label. The run and the report are built, and:

* headless Chromium loads report.html: no element carries the probe's id, no ``onerror`` attribute
  holds it, and its handler never ran (it would mark <body>);
* every HTML page the report embeds (the rendered tables, the appendix) is parsed: the label is there,
  as text, and no element, script or event attribute was made from it;
* nowhere in report.html does the raw label occur outside the embedded (base64) files.

File paths are the exception: the report writes every job's input paths into a <script> element
unescaped, so a path holding the label ended the script and ran the image's handler. Config paths with
'<' or '>' are therefore refused (crfm.data.config.check_values); the second test holds that.

Chromium is a system tool: skipped without it locally, failed without it under CI=true.
"""

from __future__ import annotations

import base64
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_workflow, snakemake
from test_appendix_workflow import need

PROBE_ID = "crfmpwn"
# The handler marks <body> if it ever runs; no '/' (a folder name holds it too).
HOSTILE = f"</script><img src=x id={PROBE_ID} onerror=document.body.setAttribute('data-pwned',1)>"
LEVEL = f"other {HOSTILE}"


def hostile_run(tmp_path: Path) -> Path:
    wf = copy_workflow(tmp_path / "wf")
    base = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    measurement = base["measurement"]
    for c in measurement:
        if c["construct"] == "RCOM":
            c["label"] = f"Reference communication {HOSTILE}"
            c["items"][0]["text"] = f"We describe cases {HOSTILE}"
        if c["construct"] == "COMP":
            c["short"] = f"Complexity {HOSTILE}"
    variables = base["study3"]["variables"]
    for v in variables:
        if v["column"] == "industry":
            v["levels"] = [LEVEL if x == "other" else x for x in v["levels"]]
            v["label"] = f"Industry {HOSTILE}"
    # the Study 3 sheet with the level rewritten
    text = (wf / "resources/raw/study3_survey.csv").read_text(encoding="utf-8")
    (wf / "config/hostile_study3.csv").write_text(text.replace(",other,", f',"{LEVEL}",'), encoding="utf-8")
    codebook = (wf / "config/codebook.csv").read_text().splitlines()
    codebook = [
        ln.replace("P_CASESTORY,Customer case stories,", f'P_CASESTORY,"Case stories {HOSTILE}",') for ln in codebook
    ]
    (wf / "config/hostile_codebook.csv").write_text("\n".join(codebook) + "\n")
    override = {
        "studies": ["study1", "study2", "study3"],
        "measurement": measurement,
        "second_order": {**base["second_order"], "label": f"CRFM {HOSTILE}"},
        "study1": {"codebook": "config/hostile_codebook.csv"},
        "study3": {
            "survey": "config/hostile_study3.csv",
            "variables": variables,
            "hypotheses": [dict(h, text=f"{h.get('text', '')} {HOSTILE}") for h in base["study3"]["hypotheses"]],
        },
    }
    (wf / "hostile.yaml").write_text(yaml.safe_dump(override, sort_keys=False, allow_unicode=True))
    return wf


class Markup(HTMLParser):
    """Elements and attributes of an HTML document that came from the probe."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.made, self.text = [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if (
                PROBE_ID in (value or "")
                or PROBE_ID in name
                or (name.startswith("on") and "data-pwned" in (value or ""))
            ):
                self.made.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.made.append(f"<img src=x> {attrs}")

    def handle_data(self, data):
        self.text.append(data)


def embedded_html(report: str) -> dict:
    """The HTML files report.html embeds as base64 data URIs, by file name."""
    out = {}
    for m in re.finditer(r"data:text/html;(?:charset=[^;]+;)?filename=([^;]+);base64,([A-Za-z0-9+/=]+)", report):
        out[m.group(1)] = base64.b64decode(m.group(2)).decode("utf-8", errors="replace")
    return out


@pytest.mark.e2e
def test_config_text_never_becomes_markup_in_the_report(tmp_path):
    chromium = need(["chromium", "chromium-browser", "google-chrome"], "Chromium")
    wf = hostile_run(tmp_path)
    res = snakemake(wf, "appendix", "--cores", "2", "--configfile", "hostile.yaml")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    res = snakemake(wf, "--report", "report.html", "--configfile", "hostile.yaml")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    report = (wf / "report.html").read_text(encoding="utf-8", errors="replace")

    # the label reached the report (inside the files it embeds), as text only
    pages = embedded_html(report)
    assert pages, "the report embeds no HTML page"
    carrying = {}
    for name, page in pages.items():
        p = Markup()
        p.feed(page)
        assert not p.made, f"{name}: markup made from the label: {p.made[:3]}"
        if HOSTILE in "".join(p.text):
            carrying[name] = page
    assert any(n.startswith("appendix") for n in carrying), (
        f"the label is not shown in the appendix: {sorted(pages)[:5]}"
    )
    assert len(carrying) >= 3, f"the label reaches only {sorted(carrying)}"

    # report.html itself: the raw label nowhere outside the base64 files
    outside = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", report)
    assert f"id={PROBE_ID}" not in outside and "<img src=x" not in outside

    # and Chromium, running the report's own scripts, creates nothing from it
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000", "--dump-dom", (wf / "report.html").as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    p = Markup()
    p.feed(dom.stdout)
    assert "data-pwned" not in dom.stdout, "the label's onerror handler ran"
    assert not p.made, f"markup made from the label: {p.made[:3]}"
    assert len(dom.stdout) > 1000 and "Study 2" in dom.stdout, dom.stdout[:500]


@pytest.mark.e2e
@pytest.mark.parametrize("key", ["study2.survey", "study1.codebook", "data.manifest"])
def test_a_config_path_holding_markup_is_refused_before_any_job(tmp_path, key):
    wf = copy_workflow(tmp_path / "wf")
    section, name = key.split(".")
    (wf / "bad.yaml").write_text(yaml.safe_dump({section: {name: f"data/x{HOSTILE}/file.csv"}}))
    res = snakemake(wf, "-n", "--configfile", "bad.yaml")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert f"config key '{key}'" in out and "'<' or '>'" in out and "Fix:" in out, out[-2000:]
    assert "Traceback" not in out
