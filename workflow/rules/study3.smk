# Study 3: predictive validation on the firms' survey.

STUDY3_OUTPUTS = [
    "results/study3/validated/survey.csv",
    "results/tables/study3_exclusions.csv",
    "results/tables/study3_flow.csv",
]


rule validate_study3:
    input:
        get_survey("study3"),
    output:
        data="results/study3/validated/survey.csv",
        exclusions="results/tables/study3_exclusions.csv",
        flow="results/tables/study3_flow.csv",
    log:
        "results/logs/validate_study3.log",
    benchmark:
        "results/benchmarks/validate_study3.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        study="study3",
        settings=study_settings("study3"),
    script:
        "../scripts/validate_survey.py"


rule study3:
    input:
        STUDY3_OUTPUTS,
