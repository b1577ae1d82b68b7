# Study 2: scale development on the managers' survey (crfm.studies.study2).


rule study2_validate:
    input:
        get_raw("study2"),
    output:
        data=f"{RESULTS}/study2/validated/survey.csv",
        exclusions=f"{RESULTS}/tables/study2_exclusions.csv",
        flow=f"{RESULTS}/tables/study2_flow.csv",
    log:
        f"{RESULTS}/logs/study2_validate.log",
    benchmark:
        f"{RESULTS}/benchmarks/study2_validate.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=settings("study2_validate"),
    script:
        "../scripts/survey_validate.py"


rule study2_explore:
    input:
        data=rules.study2_validate.output.data,
    output:
        item_analysis=f"{RESULTS}/tables/study2_item_analysis.csv",
        kmo=f"{RESULTS}/tables/study2_kmo.csv",
        factorability=f"{RESULTS}/tables/study2_factorability.csv",
        parallel_analysis=f"{RESULTS}/tables/study2_parallel_analysis.csv",
        efa_loadings=f"{RESULTS}/tables/study2_efa_loadings.csv",
        efa_factor_correlations=f"{RESULTS}/tables/study2_efa_factor_correlations.csv",
        efa_variance=f"{RESULTS}/tables/study2_efa_variance.csv",
        purification=f"{RESULTS}/tables/study2_purification.csv",
        retained=f"{RESULTS}/study2/retained_items.csv",
        samples=f"{RESULTS}/study2/samples.csv",
        scree=report(
            f"{RESULTS}/figures/study2_scree.png",
            caption="../report/figure.rst",
            category="Study 2",
            subcategory="Figures",
            labels=report_labels("study2_scree"),
        ),
        scree_pdf=f"{RESULTS}/figures/study2_scree.pdf",
        heatmap=report(
            f"{RESULTS}/figures/study2_efa_loadings.png",
            caption="../report/figure.rst",
            category="Study 2",
            subcategory="Figures",
            labels=report_labels("study2_efa_loadings"),
        ),
        heatmap_pdf=f"{RESULTS}/figures/study2_efa_loadings.pdf",
        summary=f"{RESULTS}/study2/explore_summary.json",
    log:
        f"{RESULTS}/logs/study2_explore.log",
    benchmark:
        f"{RESULTS}/benchmarks/study2_explore.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study2_explore"),
    script:
        "../scripts/study2_explore.py"


rule study2_confirm:
    input:
        data=rules.study2_validate.output.data,
        samples=rules.study2_explore.output.samples,
        retained=rules.study2_explore.output.retained,
    output:
        fit=f"{RESULTS}/tables/study2_fit.csv",
        comparisons=f"{RESULTS}/tables/study2_comparisons.csv",
        loadings=f"{RESULTS}/tables/study2_loadings.csv",
        factor_correlations=f"{RESULTS}/tables/study2_factor_correlations.csv",
        modindices=f"{RESULTS}/tables/study2_modindices.csv",
        second_order_loadings=(
            f"{RESULTS}/tables/study2_second_order_loadings.csv"
            if "study2_second_order_loadings" in study_tables("study2")
            else []
        ),
        reliability=f"{RESULTS}/tables/study2_reliability.csv",
        fornell_larcker=f"{RESULTS}/tables/study2_fornell_larcker.csv",
        htmt=f"{RESULTS}/tables/study2_htmt.csv",
        common_method=f"{RESULTS}/tables/study2_common_method.csv",
        scale_items=f"{RESULTS}/tables/study2_scale_items.csv",
        missing_patterns=f"{RESULTS}/tables/study2_missing_patterns.csv",
        coverage=f"{RESULTS}/tables/study2_coverage.csv",
        summary=f"{RESULTS}/study2/summary.json",
    log:
        f"{RESULTS}/logs/study2_confirm.log",
    benchmark:
        f"{RESULTS}/benchmarks/study2_confirm.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study2_confirm"),
    script:
        "../scripts/study2_confirm.py"


rule study2_invariance:
    input:
        data=rules.study2_validate.output.data,
        samples=rules.study2_explore.output.samples,
        retained=rules.study2_explore.output.retained,
    output:
        invariance=f"{RESULTS}/tables/study2_invariance.csv",
    log:
        f"{RESULTS}/logs/study2_invariance.log",
    benchmark:
        f"{RESULTS}/benchmarks/study2_invariance.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings("study2_invariance"),
    script:
        "../scripts/study2_invariance.py"


rule study2:
    input:
        study_outputs("study2"),
