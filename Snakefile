# crfm-pipeline: regenerates the tables and figures of Terho & Jalkala (2017), Industrial Marketing
# Management 64, from raw inputs. `snakemake --cores 4` builds everything; `snakemake -n` shows the plan.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# Study 3's bootstrap and the design analysis run in shards (scatter/gather); `--set-scatter
# bootstrap=N` or `design=N` changes the split without changing a single number (replicate i is
# seeded from (seed, i)).
scattergather:
    bootstrap=2,
    design=2,


include: "workflow/rules/common.smk"


# Under a cluster executor these run on the submit host, not as SLURM jobs: each takes a few seconds
# (checking the raw sheets, Study 1's summaries, the EFA, building the analysis frame, gathering
# shards, writing documents), less than a SLURM job costs in start-up and status polling.
localrules:
    study1_validate,
    study1_coding_summary,
    study1_qdpx_crosscheck,
    study2_validate,
    study3_validate,
    study2_explore,
    study3_measurement,
    study3_bootstrap_ci,
    study3_hypotheses,
    design_summary,
    appendix_numbers,
    appendix_tables,
    appendix_provenance,
    appendix_document,
    appendix_pdf,
    appendix_macros,


# One rules file per registered study (crfm.studies) the configuration needs: workflow/rules/<study>.smk.
for study_id in NEEDED:

    include: f"workflow/rules/{study_id}.smk"


include: "workflow/rules/appendix.smk"
include: "workflow/rules/hooks.smk"


rule all:
    default_target: True
    input:
        get_final_outputs(),
