# Study 2: scale development on the managers' survey.


rule validate_study2:
    input:
        get_survey("study2"),
    output:
        data="results/study2/validated/survey.csv",
        exclusions="results/tables/study2_exclusions.csv",
        flow="results/tables/study2_flow.csv",
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
        **{t: f"results/tables/study2_{t}.csv" for t in STUDY2_EXPLORE_TABLES},
        retained="results/study2/retained_items.csv",
        samples="results/study2/samples.csv",
        scree=multiext("results/figures/study2_scree", ".png", ".pdf"),
        heatmap=multiext("results/figures/study2_efa_loadings", ".png", ".pdf"),
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
        **{t: f"results/tables/study2_{t}.csv" for t in STUDY2_CONFIRM_TABLES},
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
