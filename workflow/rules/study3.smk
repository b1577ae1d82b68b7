# Study 3: predictive validation on the firms' survey, reading the items Study 2 retained
# (crfm.studies.study3).


rule study3_validate:
    input:
        get_raw("study3"),
    output:
        data=f"{RESULTS}/study3/validated/survey.csv",
        exclusions=f"{RESULTS}/tables/study3_exclusions.csv",
        flow=f"{RESULTS}/tables/study3_flow.csv",
    log:
        f"{RESULTS}/logs/study3_validate.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_validate.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("study3_validate"),
    script:
        "../scripts/survey_validate.py"


rule study3_measurement:
    input:
        data=rules.study3_validate.output.data,
        retained=rules.study2_explore.output.retained,
    output:
        measurement_fit=f"{RESULTS}/tables/study3_measurement_fit.csv",
        measurement_loadings=f"{RESULTS}/tables/study3_measurement_loadings.csv",
        second_order_loadings=(
            f"{RESULTS}/tables/study3_second_order_loadings.csv"
            if "study3_second_order_loadings" in study_tables("study3")
            else []
        ),
        reliability=f"{RESULTS}/tables/study3_reliability.csv",
        htmt=f"{RESULTS}/tables/study3_htmt.csv",
        fornell_larcker=f"{RESULTS}/tables/study3_fornell_larcker.csv",
        descriptives=f"{RESULTS}/tables/study3_descriptives.csv",
        correlations=f"{RESULTS}/tables/study3_correlations.csv",
        marker=(
            f"{RESULTS}/tables/study3_marker.csv"
            if "study3_marker" in study_tables("study3")
            else []
        ),
        frame=f"{RESULTS}/study3/analysis_frame.csv",
    log:
        f"{RESULTS}/logs/study3_measurement.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_measurement.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study3_measurement"),
    script:
        "../scripts/study3_measurement.py"


rule study3_regression:
    input:
        frame=rules.study3_measurement.output.frame,
        retained=rules.study2_explore.output.retained,
    output:
        coefficients=f"{RESULTS}/tables/study3_coefficients.csv",
        summary=f"{RESULTS}/tables/study3_summary.csv",
        vif=f"{RESULTS}/tables/study3_vif.csv",
        dimensions=(
            [
                f"{RESULTS}/tables/study3_dimension_coefficients.csv",
                f"{RESULTS}/tables/study3_dimension_summary.csv",
            ]
            if "study3_dimension_coefficients" in study_tables("study3")
            else []
        ),
        indicator_models=f"{RESULTS}/tables/study3_indicator_models.csv",
        simple_slopes=f"{RESULTS}/tables/study3_simple_slopes.csv",
        johnson_neyman=f"{RESULTS}/tables/study3_johnson_neyman.csv",
        interaction_plot=report(
            f"{RESULTS}/figures/study3_interaction.png",
            caption="../report/figure.rst",
            category="Study 3",
            subcategory="Figures",
            labels=report_labels("study3_interaction"),
        ),
        interaction_plot_pdf=f"{RESULTS}/figures/study3_interaction.pdf",
        jn_plot=report(
            f"{RESULTS}/figures/study3_johnson_neyman.png",
            caption="../report/figure.rst",
            category="Study 3",
            subcategory="Figures",
            labels=report_labels("study3_johnson_neyman"),
        ),
        jn_plot_pdf=f"{RESULTS}/figures/study3_johnson_neyman.pdf",
    log:
        f"{RESULTS}/logs/study3_regression.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_regression.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study3_regression"),
    script:
        "../scripts/study3_regression.py"


rule study3_bootstrap_shard:
    input:
        frame=rules.study3_measurement.output.frame,
    output:
        f"{RESULTS}/study3/bootstrap/shard_{{scatteritem}}.csv",
    log:
        f"{RESULTS}/logs/study3_bootstrap_shard_{{scatteritem}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_bootstrap_shard_{{scatteritem}}.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        settings=settings("study3_bootstrap_shard"),
    script:
        "../scripts/study3_bootstrap_shard.py"


rule study3_bootstrap_ci:
    input:
        frame=rules.study3_measurement.output.frame,
        shards=gather.bootstrap(f"{RESULTS}/study3/bootstrap/shard_{{scatteritem}}.csv"),
    output:
        bootstrap_ci=f"{RESULTS}/tables/study3_bootstrap_ci.csv",
    log:
        f"{RESULTS}/logs/study3_bootstrap_ci.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_bootstrap_ci.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings("study3_bootstrap_ci"),
    script:
        "../scripts/study3_bootstrap_ci.py"


rule study3_sem:
    input:
        data=rules.study3_validate.output.data,
        frame=rules.study3_measurement.output.frame,
        retained=rules.study2_explore.output.retained,
    output:
        sem_paths=f"{RESULTS}/tables/study3_sem_paths.csv",
        sem_fit=f"{RESULTS}/tables/study3_sem_fit.csv",
    log:
        f"{RESULTS}/logs/study3_sem.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_sem.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study3_sem"),
    script:
        "../scripts/study3_sem.py"


rule study3_hypotheses:
    input:
        coefficients=rules.study3_regression.output.coefficients,
        summary=rules.study3_regression.output.summary,
        bootstrap=rules.study3_bootstrap_ci.output.bootstrap_ci,
        sem=rules.study3_sem.output.sem_paths,
    output:
        hypotheses=f"{RESULTS}/tables/study3_hypotheses.csv",
        summary=f"{RESULTS}/study3/summary.json",
    log:
        f"{RESULTS}/logs/study3_hypotheses.log",
    benchmark:
        f"{RESULTS}/benchmarks/study3_hypotheses.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("study3_hypotheses"),
    script:
        "../scripts/study3_hypotheses.py"


rule study3:
    input:
        study_outputs("study3"),
