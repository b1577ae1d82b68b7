# Study 1: conceptualization, from coded interviews to the coding summary and the item pool.

STUDY1_OUTPUTS = [
    "results/study1/validated/interviews.csv",
    "results/study1/validated/segments.csv",
    "results/study1/validated/codebook.csv",
]


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


rule study1:
    input:
        STUDY1_OUTPUTS,
