# Study 2: scale development on the managers' survey.


rule validate_study2:
    input:
        get_survey("study2"),
    output:
        data="results/study2/validated/survey.csv",
        exclusions=report(
            "results/tables/study2_exclusions.csv",
            caption="../report/study2_exclusions.rst",
            category="Study 2",
            subcategory="Tables",
        ),
        flow=report(
            "results/tables/study2_flow.csv",
            caption="../report/study2_flow.rst",
            category="Study 2",
            subcategory="Tables",
        ),
    log:
        "results/logs/validate_study2.log",
    benchmark:
        "results/benchmarks/validate_study2.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        study="study2",
        settings=study_settings("study2"),
    script:
        "../scripts/validate_survey.py"


rule study2_explore:
    input:
        data="results/study2/validated/survey.csv",
    output:
        **{
            t: report(
                f"results/tables/study2_{t}.csv",
                caption=f"../report/study2_{t}.rst",
                category="Study 2",
                subcategory="Tables",
            )
            for t in STUDY2_EXPLORE_TABLES
        },
        retained="results/study2/retained_items.csv",
        samples="results/study2/samples.csv",
        scree=report(
            multiext("results/figures/study2_scree", ".png", ".pdf"),
            caption="../report/study2_scree.rst",
            category="Study 2",
            subcategory="Figures",
        ),
        heatmap=report(
            multiext("results/figures/study2_efa_loadings", ".png", ".pdf"),
            caption="../report/study2_efa_loadings.rst",
            category="Study 2",
            subcategory="Figures",
        ),
        summary="results/study2/explore_summary.json",
    log:
        "results/logs/study2_explore.log",
    benchmark:
        "results/benchmarks/study2_explore.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study2"),
    script:
        "../scripts/study2_explore.py"


rule study2_confirm:
    input:
        data="results/study2/validated/survey.csv",
        samples="results/study2/samples.csv",
        retained="results/study2/retained_items.csv",
    output:
        **{
            t: report(
                f"results/tables/study2_{t}.csv",
                caption=f"../report/study2_{t}.rst",
                category="Study 2",
                subcategory="Tables",
            )
            for t in STUDY2_CONFIRM_TABLES
        },
        summary="results/study2/summary.json",
    log:
        "results/logs/study2_confirm.log",
    benchmark:
        "results/benchmarks/study2_confirm.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study2"),
    script:
        "../scripts/study2_confirm.py"


rule study2:
    input:
        STUDY2_OUTPUTS,
