# The output layer: numbers.json (every number of the running text), every table rendered once to
# LaTeX and HTML, provenance.json, and the appendix (HTML, LaTeX, PDF) from jinja2 templates.


rule numbers:
    input:
        unpack(get_summaries),
        tables=expand("results/tables/{t}.csv", t=get_table_names()),
        manifest=get_manifest(),
    output:
        report(
            "results/numbers.json",
            caption="../report/numbers.rst",
            category="Appendix",
        ),
    log:
        "results/logs/numbers.log",
    benchmark:
        "results/benchmarks/numbers.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=appendix_settings(),
    script:
        "../scripts/collect_numbers.py"


rule render_tables:
    input:
        tables=expand("results/tables/{t}.csv", t=get_table_names()),
    output:
        html=get_rendered_tables("html"),
        tex=get_rendered_tables("tex"),
        index="results/tables/index.json",
    log:
        "results/logs/render_tables.log",
    benchmark:
        "results/benchmarks/render_tables.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/render_tables.py"


rule provenance:
    input:
        raw=get_raw_inputs(),
        outputs=get_all_study_outputs(),
    output:
        report(
            "results/provenance.json",
            caption="../report/provenance.rst",
            category="Appendix",
        ),
    log:
        "results/logs/provenance.log",
    benchmark:
        "results/benchmarks/provenance.tsv"
    conda:
        ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=appendix_settings(),
    script:
        "../scripts/provenance.py"


rule appendix_document:
    input:
        numbers="results/numbers.json",
        index="results/tables/index.json",
        html=get_rendered_tables("html"),
        tex=get_rendered_tables("tex"),
        png=get_figures("png"),
        pdf=get_figures("pdf"),
        provenance="results/provenance.json",
        templates=get_templates(),
    output:
        html=report(
            "results/appendix/appendix.html",
            caption="../report/appendix_html.rst",
            category="Appendix",
        ),
        tex=report(
            "results/appendix/appendix.tex",
            caption="../report/appendix_tex.rst",
            category="Appendix",
        ),
    log:
        "results/logs/appendix_document.log",
    benchmark:
        "results/benchmarks/appendix_document.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/appendix_document.py"


rule appendix_pdf:
    input:
        numbers="results/numbers.json",
        index="results/tables/index.json",
        html=get_rendered_tables("html"),
        png=get_figures("png"),
        provenance="results/provenance.json",
        templates=get_templates(),
    output:
        report(
            "results/appendix/appendix.pdf",
            caption="../report/appendix_pdf.rst",
            category="Appendix",
        ),
    log:
        "results/logs/appendix_pdf.log",
    benchmark:
        "results/benchmarks/appendix_pdf.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/appendix_pdf.py"


rule appendix:
    input:
        get_appendix_outputs(),
