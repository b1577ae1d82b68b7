# The output layer: numbers.json (every number of the running text) and numbers.tex (the same as LaTeX
# macros), every table rendered once to LaTeX and HTML, provenance.json, and the appendix (HTML, LaTeX,
# PDF) from jinja2 templates and the bibliography.


rule appendix_numbers:
    input:
        unpack(get_summaries),
        tables=get_tables(),
    output:
        report(
            f"{RESULTS}/numbers.json",
            caption="../report/numbers.rst",
            category="Appendix",
        ),
    log:
        f"{RESULTS}/logs/appendix_numbers.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_numbers.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("appendix_numbers"),
    script:
        "../scripts/appendix_numbers.py"


rule appendix_tables:
    input:
        tables=get_tables(),
        bib=BIB,
    output:
        **rendered_table_reports(),
        tex=get_rendered_tables("tex"),
        index=f"{RESULTS}/tables/index.json",
    log:
        f"{RESULTS}/logs/appendix_tables.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_tables.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("appendix_tables"),
    script:
        "../scripts/appendix_tables.py"


rule appendix_provenance:
    input:
        raw=get_raw_inputs(),
        outputs=get_all_study_outputs(),
    output:
        report(
            f"{RESULTS}/provenance.json",
            caption="../report/provenance.rst",
            category="Appendix",
        ),
    log:
        f"{RESULTS}/logs/appendix_provenance.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_provenance.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=settings("appendix_provenance"),
    script:
        "../scripts/appendix_provenance.py"


rule appendix_document:
    input:
        numbers=rules.appendix_numbers.output[0],
        index=rules.appendix_tables.output.index,
        html=get_rendered_tables("html"),
        tex=rules.appendix_tables.output.tex,
        png=get_figures("png"),
        pdf=get_figures("pdf"),
        provenance=rules.appendix_provenance.output[0],
        templates=get_templates(),
        bib=BIB,
    output:
        html=report(
            f"{RESULTS}/appendix/appendix.html",
            caption="../report/appendix_html.rst",
            category="Appendix",
        ),
        tex=report(
            f"{RESULTS}/appendix/appendix.tex",
            caption="../report/appendix_tex.rst",
            category="Appendix",
        ),
    log:
        f"{RESULTS}/logs/appendix_document.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_document.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("appendix_document"),
    script:
        "../scripts/appendix_document.py"


rule appendix_pdf:
    input:
        numbers=rules.appendix_numbers.output[0],
        index=rules.appendix_tables.output.index,
        html=get_rendered_tables("html"),
        tex=rules.appendix_tables.output.tex,
        document=rules.appendix_document.output.tex,
        png=get_figures("png"),
        pdf=get_figures("pdf"),
        provenance=rules.appendix_provenance.output[0],
        templates=get_templates(),
        bib=BIB,
    output:
        report(
            f"{RESULTS}/appendix/appendix.pdf",
            caption="../report/appendix_pdf.rst",
            category="Appendix",
        ),
    log:
        f"{RESULTS}/logs/appendix_pdf.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_pdf.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        settings=settings("appendix_pdf"),
    script:
        "../scripts/appendix_pdf.py"


rule appendix_macros:
    input:
        rules.appendix_numbers.output[0],
    output:
        report(
            f"{RESULTS}/numbers.tex",
            caption="../report/numbers_tex.rst",
            category="Appendix",
        ),
    log:
        f"{RESULTS}/logs/appendix_macros.log",
    benchmark:
        f"{RESULTS}/benchmarks/appendix_macros.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=settings("appendix_macros"),
    script:
        "../scripts/appendix_macros.py"


rule appendix:
    input:
        get_appendix_outputs(),
