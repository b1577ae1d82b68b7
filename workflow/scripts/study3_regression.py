"""Study 3 hierarchical moderated regression (composite, dimension-level, per indicator), simple slopes,
Johnson-Neyman region, interaction and Johnson-Neyman plots."""

from _common import run


def main(smk, ctx):
    from crfm.data.config import MeasurementModel
    from crfm.report import figures
    from crfm.report.labels import Labels
    from crfm.studies import study3
    from crfm.studies.survey import read_retained

    settings = ctx.settings
    frame = ctx.read(smk.input.frame, dtype={settings["study3"]["id_column"]: str})
    retained = read_retained(ctx.read(smk.input.retained))
    constructs = study3.study_constructs(settings, MeasurementModel.from_config(settings), retained)
    r = study3.regressions(frame, settings, constructs[settings["study3"]["outcome"]])
    ctx.write(r)
    mod = settings["study3"]["moderators"][0]
    labels = Labels.from_config(settings)
    focal, outcome, res = settings["study3"]["focal"], settings["study3"]["outcome"], r.results[mod]
    fig = figures.interaction_figure(
        res,
        focal_label=labels.axis(focal),
        moderator_label=labels.short(mod),
        outcome_label="Predicted " + labels.axis(outcome, "mean item score", short=True).lower(),
    )
    figures.save_figure(fig, [smk.output.interaction_plot, smk.output.interaction_plot_pdf], synthetic=ctx.synthetic)
    curve, jn = r.curves[mod]
    effect = f"Effect of {labels.short(focal)} on {labels.short(outcome).lower()} (b)"
    fig = figures.johnson_neyman_figure(
        curve, jn, labels.axis(mod, "raw score"), effect, observed=res.design[mod] + res.means[mod]
    )
    figures.save_figure(fig, [smk.output.jn_plot, smk.output.jn_plot_pdf], synthetic=ctx.synthetic)
    ctx.log.info("study3 regression:\n%s", r.summary_table.to_string())


run(snakemake, main)  # noqa: F821
