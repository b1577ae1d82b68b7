# Study 2: scale development on the managers' survey.

STUDY2_OUTPUTS = [
    "results/study2/validated/survey.csv",
    "results/tables/study2_exclusions.csv",
    "results/tables/study2_flow.csv",
]


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


rule study2:
    input:
        STUDY2_OUTPUTS,
