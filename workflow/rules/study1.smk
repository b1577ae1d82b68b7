# Study 1: conceptualization, from coded interviews to the coding summary and the item pool.


rule validate_study1:
    input:
        get_study1_raw(),
    output:
        interviews="results/study1/validated/interviews.csv",
        segments="results/study1/validated/segments.csv",
        codebook="results/study1/validated/codebook.csv",
    log:
        "results/logs/validate_study1.log",
    benchmark:
        "results/benchmarks/validate_study1.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=study_settings("study1"),
    script:
        "../scripts/validate_study1.py"


rule study1_coding_summary:
    input:
        unpack(get_study1_survey),
        interviews="results/study1/validated/interviews.csv",
        segments="results/study1/validated/segments.csv",
        codebook="results/study1/validated/codebook.csv",
    output:
        **{
            t: report(
                f"results/tables/study1_{t}.csv",
                caption=f"../report/study1_{t}.rst",
                category="Study 1",
                subcategory="Tables",
            )
            for t in study1_table_names()
        },
        heatmap=report(
            multiext("results/figures/study1_code_heatmap", ".png", ".pdf"),
            caption="../report/study1_code_heatmap.rst",
            category="Study 1",
            subcategory="Figures",
        ),
        saturation_plot=report(
            multiext("results/figures/study1_saturation", ".png", ".pdf"),
            caption="../report/study1_saturation.rst",
            category="Study 1",
            subcategory="Figures",
        ),
        cooccurrence_plot=report(
            multiext("results/figures/study1_cooccurrence", ".png", ".pdf"),
            caption="../report/study1_cooccurrence.rst",
            category="Study 1",
            subcategory="Figures",
        ),
        summary="results/study1/summary.json",
    log:
        "results/logs/study1_coding_summary.log",
    benchmark:
        "results/benchmarks/study1_coding_summary.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study1"),
    script:
        "../scripts/study1_coding_summary.py"


rule study1_qdpx_crosscheck:
    input:
        qdpx=config.get("study1", {}).get("qdpx") or [],
        interviews="results/study1/validated/interviews.csv",
        segments="results/study1/validated/segments.csv",
        codebook="results/study1/validated/codebook.csv",
    output:
        report(
            "results/tables/study1_qdpx_crosscheck.csv",
            caption="../report/study1_qdpx_crosscheck.rst",
            category="Study 1",
            subcategory="Tables",
        ),
    log:
        "results/logs/study1_qdpx_crosscheck.log",
    benchmark:
        "results/benchmarks/study1_qdpx_crosscheck.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study1"),
    script:
        "../scripts/study1_qdpx_crosscheck.py"


rule study1:
    input:
        get_study1_outputs(),
