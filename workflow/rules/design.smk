# Monte Carlo design analysis: power, recovery and coverage under the population model
# (crfm.studies.design). Sharded; `--set-scatter design=N` changes the number of shards, never a
# number in the results.


rule design_shard:
    output:
        f"{RESULTS}/design/shard_{{scatteritem}}.csv",
    log:
        f"{RESULTS}/logs/design_shard_{{scatteritem}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/design_shard_{{scatteritem}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        settings=settings("design_shard"),
    script:
        "../scripts/design_shard.py"


rule design_summary:
    input:
        shards=gather.design(f"{RESULTS}/design/shard_{{scatteritem}}.csv"),
    output:
        power=f"{RESULTS}/tables/design_power.csv",
        recovery=f"{RESULTS}/tables/design_recovery.csv",
        convergence=f"{RESULTS}/tables/design_convergence.csv",
        replications=f"{RESULTS}/design/replications.csv",
        figure=report(
            f"{RESULTS}/figures/design_power.png",
            caption="../report/figure.rst",
            category="Design analysis",
            subcategory="Figures",
            labels=report_labels("design_power"),
        ),
        figure_pdf=f"{RESULTS}/figures/design_power.pdf",
    log:
        f"{RESULTS}/logs/design_summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/design_summary.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings("design_summary"),
    script:
        "../scripts/design_summary.py"


rule design:
    input:
        study_outputs("design"),
