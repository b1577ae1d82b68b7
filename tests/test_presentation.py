"""The presentation layer's vocabulary: reader-facing labels, maths in notes, the bibliography and
CITATION.cff, numbers.tex macro names, and a reproducible pdfLaTeX build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import CONFIG, ROOT
from crfm.errors import CRFMError
from crfm.report.bib import Bibliography
from crfm.report.labels import INTERNAL_NAMES, Labels
from crfm.report.macros import macro_name, macro_table, macros_tex
from crfm.report.mathtext import Math, rich_note

BIB = ROOT / "workflow/templates/references.bib"
TEMPLATES = ROOT / "workflow/templates"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def labels():
    return Labels.from_config(yaml.safe_load(CONFIG.read_text()))


# --- labels --------------------------------------------------------------------------------------


def test_model_terms_read_as_words(labels):
    assert labels.term("industry[T.other]") == "Industry: other (vs information technology)"
    assert labels.term("industry[T.process technology]") == "Industry: process technology (vs information technology)"
    assert labels.term("CRFM_x_COMP") == "CRFM × Complexity"
    assert labels.term("log_firm_size") == "Firm size (log employees)"
    assert labels.term("RCOM_x_COMP") == "Reference communication × Complexity"
    assert labels.terms("log_firm_size, firm_age") == "Firm size (log employees), Firm age (years)"
    assert labels.step("Step 3: + COMP") == "Step 3: + Complexity"
    assert labels.step("Step 2: + RCOM + RSEL") == "Step 2: + Reference communication + Reference selling"


def test_rules_flow_and_headers(labels):
    assert labels.flow("excluded: attention_check") == "Excluded: failed the attention check"
    assert labels.rule("max_missing_share") == "Too many items left blank"
    assert labels.header("respondent_id") == ("Respondent ID", False)
    assert labels.header("firm_id") == ("Firm ID", False)
    assert labels.header("q_below_0.667") == ("*q*(α < .667)", True)
    assert labels.header("delta_cfi") == ("Δ CFI", True)
    assert labels.header("log_firm_size") == ("Firm size (log employees)", False)
    assert labels.header("RCOM") == ("RCOM", False)


def test_an_empty_label_map_still_hides_machine_names():
    lab = Labels()
    assert lab.term("industry[T.other]") == "Industry: other"
    assert lab.term("a_x_b") == "a × b"
    for text in (lab.term("log_firm_size"), lab.rule("attention_check"), lab.header("mc_se_h1")[0]):
        assert not any(re.search(p, text) for p in INTERNAL_NAMES), text


# --- maths in notes ------------------------------------------------------------------------------

NOTES = {
    "CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); AVE = mean(l^2); l = standardized loadings.": (
        "CR = (Σλ)²/[(Σλ)² + Σ(1 − λ²)]; AVE = mean(λ²); λ = standardized loadings.",
        r"$\mathrm{CR} = (\sum\lambda)^2 / [(\sum\lambda)^2 + \sum(1 - \lambda^2)]$",
    ),
    "Discriminant validity when each sqrt(AVE) exceeds the construct's correlations.": (
        "Discriminant validity when each √AVE exceeds the construct's correlations.",
        r"$\sqrt{\mathrm{AVE}}$",
    ),
    "Pass: alpha >= 0.7, CR >= 0.7.": ("Pass: α ≥ .7, CR ≥ .7.", r"$\alpha$"),
    "OLS with HC3 robust SEs, t(df_resid) inference.": (
        "OLS with HC3 robust SEs, t tests on the residual degrees of freedom.",
        "$t$ tests",
    ),
    "Delta R-squared with the F-change test; wald_*: HC3 Wald test of the added block.": (
        "ΔR² with the F-change test; Wald F: HC3 Wald test of the added block.",
        r"$\Delta R^2$",
    ),
    "df = 3, p = 2.27e-84": ("df = 3, p <\u00a0.001", "$p$"),
    "Lindell & Whitney (2001): r_A = (r - r_M) / (1 - r_M)": (
        "Lindell and Whitney (2001): r_A = (r − r_M)/(1 − r_M)",
        r"\hyperlink{ref-lindell2001}",
    ),
}


@pytest.mark.parametrize("note", list(NOTES))
def test_notes_become_maths_for_both_formats(note):
    from crfm.report.apa import escape_latex

    rich = rich_note(note, Bibliography.load(BIB))
    plain, tex_fragment = NOTES[note]
    assert rich.plain() == plain
    assert tex_fragment in rich.tex(escape_latex)
    html = str(rich.html())
    assert "<script" not in html and not any(re.search(p, rich.plain()) for p in INTERNAL_NAMES)


def test_math_html_italicises_symbols_only():
    assert (
        str(Math(r"r_A = (r - r_M)").to_html())
        == '<span class="math"><em>r</em><sub><em>A</em></sub> = (<em>r</em> − <em>r</em><sub><em>M</em></sub>)</span>'
    )
    assert Math(r"\sqrt{\mathrm{AVE}}").plain == "√AVE"


def test_user_text_in_a_note_stays_literal():
    rich = rich_note('<b>x</b> $5 & "q" sqrt(AVE)')
    assert str(rich.html()).startswith("&lt;b&gt;x&lt;/b&gt; $5 &amp; &#34;q&#34;")


# --- bibliography ----------------------------------------------------------------------------------


def _template_keys() -> set[str]:
    keys = set()
    for p in TEMPLATES.rglob("*.j2"):
        text = re.sub(r'\b(tab|fig)\("[^"]*"\)', "", p.read_text())  # cross-references, not citations
        keys |= set(re.findall(r'\bcitet?\("(\w+)"', text))
        keys |= {k for args in re.findall(r"\bcite\(([^)]*)\)", text) for k in re.findall(r'"(\w+)"', args)}
    return keys


def test_every_citation_resolves_and_every_entry_is_cited():
    bib = Bibliography.load(BIB)
    cited = _template_keys()
    assert cited - set(bib.entries) == set(), "cited but not in references.bib"
    software = {k for k, e in bib.entries.items() if "package" in e.fields}  # cited by text/software.j2
    assert set(bib.entries) - cited - software == set(), "in references.bib but cited nowhere"
    software_template = (TEMPLATES / "text/software.j2").read_text()
    for k in software - cited:
        assert f'"{bib[k].fields["package"]}"' in software_template, k


def test_bibtex_entries_render_as_apa():
    bib = Bibliography.load(BIB)
    assert bib["henseler2015"].citation() == "Henseler et al., 2015"
    assert bib["lindell2001"].citation(narrative=True) == "Lindell and Whitney (2001)"
    assert bib["henseler2015"].reference_plain() == (
        "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant validity in "
        "variance-based structural equation modeling. Journal of the Academy of Marketing Science, 43(1), 115–135. "
        "https://doi.org/10.1007/s11747-014-0403-8"
    )
    assert "(Version 2.4.0) [Computer software]" in bib["jinja"].reference_plain("2.4.0")
    assert bib["molder2021"].authors[0].last == "Mölder"


def test_citation_cff_agrees_with_the_bibliography():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    bib = Bibliography.load(BIB)
    paper, software = bib["terho2017"], bib["crfmpipeline"]
    pc = cff["preferred-citation"]
    assert pc["title"] == paper.get("title") and str(pc["year"]) == paper.year
    assert pc["doi"] == paper.get("doi") and str(pc["volume"]) == paper.get("volume")
    assert f"{pc['start']}–{pc['end']}" == paper.get("pages")
    assert [a["family-names"] for a in pc["authors"]] == [n.last for n in paper.authors]
    assert cff["title"] == software.get("title") and cff["version"] == software.get("version")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{cff["version"]}"' in pyproject


def test_bib_file_is_valid_bibtex(tmp_path):
    """BibTeX itself reads references.bib (every entry cited) without an error."""
    bibtex = shutil.which("bibtex")
    if not bibtex:
        if IN_CI:
            pytest.fail("CI=true but bibtex is not installed (.ci/install-appendix-deps.sh)")
        pytest.skip("bibtex not installed")
    shutil.copy2(BIB, tmp_path / "refs.bib")
    (tmp_path / "t.aux").write_text("\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n")
    res = subprocess.run([bibtex, "t"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0 and "error" not in res.stdout.lower(), res.stdout


# --- numbers.tex -------------------------------------------------------------------------------------


def test_macro_names_are_letters_only_and_readable():
    assert (
        macro_name("study3.moderators.COMP.steps.step2.delta_r2") == "crfmStudyThreeModeratorsCOMPStepsStepTwoDeltaRTwo"
    )
    assert macro_name("study2.cfa.correlated.cfi") == "crfmStudyTwoCfaCorrelatedCfi"
    assert re.fullmatch(r"[A-Za-z]+", macro_name("study1.reliability.code.q_below_0_800|x y"))


def test_colliding_keys_are_refused():
    numbers = {"numbers": {"a_b": {"text": "1", "source": "s"}, "a": {"b": {"text": "2", "source": "s"}}}}
    with pytest.raises(CRFMError, match="both give the LaTeX macro"):
        macro_table(numbers)


def test_numbers_tex_defines_each_number_and_p_relation():
    numbers = {
        "numbers": {
            "s": {
                "p": {"value": 0.0001, "text": "<\u00a0.001", "eq": "<\u00a0.001", "source": "t.csv"},
                "n": {"value": 5, "text": "5", "source": "t.csv"},
            }
        }
    }
    tex = macros_tex(numbers)
    assert "\\newcommand{\\crfmSP}{\\textless{}~.001}" in tex and "\\newcommand{\\crfmSPEq}" in tex
    assert "\\newcommand{\\crfmSN}{5}" in tex and "% 3 macros." in tex


# --- a reproducible pdfLaTeX build ---------------------------------------------------------------------


def test_tex_route_is_byte_reproducible(tmp_path, monkeypatch):
    from crfm.report.pdf import choose_engine, typeset_tex

    if not shutil.which("pdflatex"):
        if IN_CI:
            pytest.fail("CI=true but pdflatex is not installed (.ci/install-appendix-deps.sh)")
        pytest.skip("pdflatex not installed")
    monkeypatch.setenv("CRFM_PDF_ENGINE", "pdflatex")
    engine = choose_engine()
    (tmp_path / "figures").mkdir()
    src = tmp_path / "appendix.tex"
    src.write_text(
        "\\documentclass{article}\\pdfinfoomitdate=1\\pdftrailerid{}\\pdfsuppressptexinfo=-1\n"
        "\\providecommand{\\crfmPdfEngine}{x}\\begin{document}\\tableofcontents\\section{A}Typeset with \\crfmPdfEngine, \\today.\\end{document}\n"
    )
    typeset_tex(src, tmp_path / "a.pdf", engine, figures_dir=tmp_path / "figures")
    typeset_tex(src, tmp_path / "b.pdf", engine, figures_dir=tmp_path / "figures")
    a = (tmp_path / "a.pdf").read_bytes()
    assert a == (tmp_path / "b.pdf").read_bytes()
    assert b"/CreationDate" not in a and b"/ID" not in a


def test_engine_choice_falls_back_without_tex(monkeypatch):
    from crfm.report.pdf import choose_engine

    monkeypatch.setenv("CRFM_PDF_ENGINE", "xhtml2pdf")
    assert choose_engine().name == "xhtml2pdf"
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CRFM_PDF_ENGINE", "auto")
    assert choose_engine().name == "xhtml2pdf"
    monkeypatch.setenv("CRFM_PDF_ENGINE", "nonsense")
    with pytest.raises(CRFMError):
        choose_engine()
