# Study 3: predictive validation on the firms' survey, reading the items Study 2 retained.


rule validate_study3:
    input:
        get_survey("study3"),
    output:
        data="results/study3/validated/survey.csv",
        exclusions=report(
            "results/tables/study3_exclusions.csv",
            caption="../report/study3_exclusions.rst",
            category="Study 3",
            subcategory="Tables",
        ),
        flow=report(
            "results/tables/study3_flow.csv",
            caption="../report/study3_flow.rst",
            category="Study 3",
            subcategory="Tables",
        ),
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


rule study3_measurement:
    input:
        data="results/study3/validated/survey.csv",
        retained=get_retained_items(),
    output:
        **{
            t: report(
                f"results/tables/study3_{t}.csv",
                caption=f"../report/study3_{t}.rst",
                category="Study 3",
                subcategory="Tables",
            )
            for t in study3_measurement_tables()
        },
        frame="results/study3/analysis_frame.csv",
    log:
        "results/logs/study3_measurement.log",
    benchmark:
        "results/benchmarks/study3_measurement.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_measurement.py"


rule study3_regression:
    input:
        frame="results/study3/analysis_frame.csv",
        retained=get_retained_items(),
    output:
        **{
            t: report(
                f"results/tables/study3_{t}.csv",
                caption=f"../report/study3_{t}.rst",
                category="Study 3",
                subcategory="Tables",
            )
            for t in STUDY3_REGRESSION_TABLES
        },
        interaction_plot=report(
            multiext("results/figures/study3_interaction", ".png", ".pdf"),
            caption="../report/study3_interaction.rst",
            category="Study 3",
            subcategory="Figures",
        ),
        jn_plot=report(
            multiext("results/figures/study3_johnson_neyman", ".png", ".pdf"),
            caption="../report/study3_johnson_neyman.rst",
            category="Study 3",
            subcategory="Figures",
        ),
    log:
        "results/logs/study3_regression.log",
    benchmark:
        "results/benchmarks/study3_regression.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_regression.py"


rule study3_bootstrap_shard:
    input:
        frame="results/study3/analysis_frame.csv",
    output:
        "results/study3/bootstrap/shard_{scatteritem}.csv",
    log:
        "results/logs/study3_bootstrap_shard_{scatteritem}.log",
    benchmark:
        "results/benchmarks/study3_bootstrap_shard_{scatteritem}.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_bootstrap_shard.py"


rule study3_bootstrap_ci:
    input:
        frame="results/study3/analysis_frame.csv",
        shards=gather.bootstrap("results/study3/bootstrap/shard_{scatteritem}.csv"),
    output:
        report(
            "results/tables/study3_bootstrap_ci.csv",
            caption="../report/study3_bootstrap_ci.rst",
            category="Study 3",
            subcategory="Tables",
        ),
    log:
        "results/logs/study3_bootstrap_ci.log",
    benchmark:
        "results/benchmarks/study3_bootstrap_ci.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_bootstrap_ci.py"


rule study3_sem:
    input:
        data="results/study3/validated/survey.csv",
        frame="results/study3/analysis_frame.csv",
        retained=get_retained_items(),
    output:
        paths=report(
            "results/tables/study3_sem_paths.csv",
            caption="../report/study3_sem_paths.rst",
            category="Study 3",
            subcategory="Tables",
        ),
        fit=report(
            "results/tables/study3_sem_fit.csv",
            caption="../report/study3_sem_fit.rst",
            category="Study 3",
            subcategory="Tables",
        ),
    log:
        "results/logs/study3_sem.log",
    benchmark:
        "results/benchmarks/study3_sem.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_sem.py"


rule study3_hypotheses:
    input:
        coefficients="results/tables/study3_coefficients.csv",
        summary="results/tables/study3_summary.csv",
        bootstrap="results/tables/study3_bootstrap_ci.csv",
        sem="results/tables/study3_sem_paths.csv",
    output:
        table=report(
            "results/tables/study3_hypotheses.csv",
            caption="../report/study3_hypotheses.rst",
            category="Study 3",
            subcategory="Tables",
        ),
        summary="results/study3/summary.json",
    log:
        "results/logs/study3_hypotheses.log",
    benchmark:
        "results/benchmarks/study3_hypotheses.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=study_settings("study3"),
    script:
        "../scripts/study3_hypotheses.py"


rule study3:
    input:
        STUDY3_OUTPUTS,
