# Study 1: conceptualization, from coded interviews to the coding summary and the item pool
# (crfm.studies.study1).


rule study1_validate:
    input:
        interviews=config["study1"]["interviews"],
        codebook=config["study1"]["codebook"],
        segments=(
            config["study1"]["qdpx"]
            if config["study1"].get("source", "segments") == "qdpx"
            else config["study1"]["segments"]
        ),
        manifest=get_manifest(),
        shipped=get_shipped_manifest(),
    output:
        interviews=f"{RESULTS}/study1/validated/interviews.csv",
        segments=f"{RESULTS}/study1/validated/segments.csv",
        codebook=f"{RESULTS}/study1/validated/codebook.csv",
    log:
        f"{RESULTS}/logs/study1_validate.log",
    benchmark:
        f"{RESULTS}/benchmarks/study1_validate.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("study1_validate"),
    script:
        "../scripts/study1_validate.py"


rule study1_coding_summary:
    input:
        unpack(get_study1_survey),
        interviews=rules.study1_validate.output.interviews,
        segments=rules.study1_validate.output.segments,
        codebook=rules.study1_validate.output.codebook,
    output:
        informants=f"{RESULTS}/tables/study1_informants.csv",
        coding_summary=f"{RESULTS}/tables/study1_coding_summary.csv",
        dimension_by_company=f"{RESULTS}/tables/study1_dimension_by_company.csv",
        code_company_share=f"{RESULTS}/tables/study1_code_company_share.csv",
        saturation=f"{RESULTS}/tables/study1_saturation.csv",
        cooccurrence=f"{RESULTS}/tables/study1_cooccurrence.csv",
        reliability=(
            [
                f"{RESULTS}/tables/study1_reliability.csv",
                f"{RESULTS}/tables/study1_reliability_by_code.csv",
            ]
            if "study1_reliability" in study_tables("study1")
            else []
        ),
        traceability=f"{RESULTS}/tables/study1_traceability.csv",
        heatmap=report(
            f"{RESULTS}/figures/study1_code_heatmap.png",
            caption="../report/figure.rst",
            category="Study 1",
            subcategory="Figures",
            labels=report_labels("study1_code_heatmap"),
        ),
        heatmap_pdf=f"{RESULTS}/figures/study1_code_heatmap.pdf",
        saturation_plot=report(
            f"{RESULTS}/figures/study1_saturation.png",
            caption="../report/figure.rst",
            category="Study 1",
            subcategory="Figures",
            labels=report_labels("study1_saturation"),
        ),
        saturation_plot_pdf=f"{RESULTS}/figures/study1_saturation.pdf",
        cooccurrence_plot=report(
            f"{RESULTS}/figures/study1_cooccurrence.png",
            caption="../report/figure.rst",
            category="Study 1",
            subcategory="Figures",
            labels=report_labels("study1_cooccurrence"),
        ),
        cooccurrence_plot_pdf=f"{RESULTS}/figures/study1_cooccurrence.pdf",
        summary=f"{RESULTS}/study1/summary.json",
    log:
        f"{RESULTS}/logs/study1_coding_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/study1_coding_summary.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study1_coding_summary"),
    script:
        "../scripts/study1_coding_summary.py"


rule study1_qdpx_crosscheck:
    input:
        qdpx=get_study1_qdpx(),
        interviews=rules.study1_validate.output.interviews,
        segments=rules.study1_validate.output.segments,
        codebook=rules.study1_validate.output.codebook,
    output:
        f"{RESULTS}/tables/study1_qdpx_crosscheck.csv",
    log:
        f"{RESULTS}/logs/study1_qdpx_crosscheck.log",
    benchmark:
        f"{RESULTS}/benchmarks/study1_qdpx_crosscheck.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study1_qdpx_crosscheck"),
    script:
        "../scripts/study1_qdpx_crosscheck.py"


rule study1:
    input:
        study_outputs("study1"),
