"""Study 2, exploratory stage: item analysis, KMO/Bartlett, parallel analysis, EFA, purification,
retained items (the input of Study 3)."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.report import figures
    from crfm.studies import study2

    settings = ctx.settings
    df = ctx.read(smk.input.data, dtype={settings["study2"]["id_column"]: str})
    r = study2.explore(df, settings, MeasurementModel.from_config(settings))
    ctx.write(r)
    ctx.write_frame(
        r.retained,
        smk.output.retained,
        notes=["Items retained after purification: the scale Study 3 uses."],
        code="crfm.stats.efa.purify",
    )
    ctx.write_frame(r.samples, smk.output.samples, code="crfm.studies.study2.split_samples")
    figures.save_figure(
        figures.scree_figure(r.parallel), [smk.output.scree, smk.output.scree_pdf], synthetic=ctx.synthetic
    )
    figures.save_figure(
        figures.efa_loadings_figure(r.efa_loadings),
        [smk.output.heatmap, smk.output.heatmap_pdf],
        synthetic=ctx.synthetic,
    )
    ctx.write_json(r.facts(), smk.output.summary)
    ctx.log.info("study2 explore: %s", r.facts())


run(snakemake, main)  # noqa: F821
