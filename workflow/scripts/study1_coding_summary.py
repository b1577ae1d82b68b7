"""Study 1: informants, coding summary, code x company heatmap, saturation curve, co-occurrence,
inter-coder agreement and code -> dimension -> item traceability."""

from _common import run


def main(smk, ctx):
    from crfm.data.contract import read_sheet
    from crfm.report import figures
    from crfm.studies import study1

    interviews = ctx.read(smk.input.interviews, dtype=str).astype({"order": int})
    segments = ctx.read(smk.input.segments, dtype=str, keep_default_na=False)
    codebook = ctx.read(smk.input.codebook, dtype=str, keep_default_na=False)
    survey_columns = list(read_sheet(smk.input.survey).data.columns) if smk.input.get("survey") else None
    r = study1.coding_tables(ctx.settings, interviews, segments, codebook, survey_columns)
    synthetic = ctx.synthetic
    ctx.write(r)
    fig = figures.code_heatmap_figure(r.table("study1_code_company_share"), labels=r.labels)
    figures.save_figure(fig, [smk.output.heatmap, smk.output.heatmap_pdf], synthetic=synthetic)
    fig = figures.saturation_figure(r.saturation)
    figures.save_figure(fig, [smk.output.saturation_plot, smk.output.saturation_plot_pdf], synthetic=synthetic)
    fig = figures.cooccurrence_figure(r.table("study1_cooccurrence"), labels=r.labels)
    figures.save_figure(fig, [smk.output.cooccurrence_plot, smk.output.cooccurrence_plot_pdf], synthetic=synthetic)
    ctx.write_json(r.facts, smk.output.summary)
    ctx.log.info("study1: %s", r.facts)


run(snakemake, main)  # noqa: F821
