# Monte Carlo design analysis: power, recovery and coverage under the population model. Sharded;
# `--set-scatter design=N` changes the number of shards, never a number in the results.


rule design_shard:
    output:
        "results/design/shard_{scatteritem}.csv",
    log:
        "results/logs/design_shard_{scatteritem}.log",
    benchmark:
        "results/benchmarks/design_shard_{scatteritem}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        settings=design_settings_params(),
    script:
        "../scripts/design_shard.py"


rule design_summary:
    input:
        shards=gather.design("results/design/shard_{scatteritem}.csv"),
    output:
        **{
            t: report(
                f"results/tables/design_{t}.csv",
                caption=f"../report/design_{t}.rst",
                category="Design analysis",
                subcategory="Tables",
            )
            for t in ["power", "recovery", "convergence"]
        },
        replications="results/design/replications.csv",
        figure=report(
            multiext("results/figures/design_power", ".png", ".pdf"),
            caption="../report/design_power.rst",
            category="Design analysis",
            subcategory="Figures",
        ),
    log:
        "results/logs/design_summary.log",
    benchmark:
        "results/benchmarks/design_summary.tsv"
    conda:
        ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=design_settings_params(),
    script:
        "../scripts/design_summary.py"


rule design:
    input:
        DESIGN_OUTPUTS,
