"""Study 3 hierarchical moderated regression (composite, dimension-level, per indicator), simple slopes,
Johnson-Neyman region, interaction and Johnson-Neyman plots."""

from _common import run, study_context


def main(smk, log):
    from crfm.studies import study3
    from crfm.data.tables import save_figure, write_table
    from crfm.report.figures import plt
    from crfm.stats.regression import plot_interaction, plot_johnson_neyman

    ctx = study_context(smk, "study3")
    config, synthetic = ctx.config, ctx.synthetic
    st = study3.settings(config)
    frame = ctx.read(smk.input.frame)
    constructs = study3.study_constructs(config, ctx.model, ctx.retained)
    r = study3.regressions(frame, config, constructs[st["outcome"]])
    hc3 = "OLS with HC3 robust SEs, t(df_resid) inference; focal and moderator mean-centred, interaction = product of the centred variables; beta: coefficients of the refit on z-scored variables (product of z-scores)."
    notes = {
        "coefficients": [hc3],
        "summary": ["Delta R-squared with the classical nested F-change test; wald_*: HC3 Wald test of the added block."],
        "vif": ["Variance inflation factors of the final model's (centred) design."],
        "dimension_coefficients": [hc3, "Dimension-level variant: the CRFM dimensions replace the composite, each with its own product with the moderator."],
        "dimension_summary": ["Dimension-level variant."],
        "indicator_models": [hc3, "Final model with each selling-performance indicator as the outcome."],
        "simple_slopes": ["Conditional effect of the focal variable at the moderator's mean and +/-1 SD; HC3 SEs."],
        "johnson_neyman": ["Johnson-Neyman bounds (closed form): moderator values where the conditional effect's t equals t_crit; value on the centred scale, value_raw on the original."],
    }
    for name in notes:
        write_table(r[name], smk.output[name], synthetic=synthetic, notes=notes[name])
    mod = st["moderators"][0]
    res = r["results"][mod]
    fig = plot_interaction(res)
    save_figure(fig, smk.output.interaction_plot, synthetic=synthetic)
    plt.close(fig)
    curve, jn = r["curves"][mod]
    fig = plot_johnson_neyman(curve, jn)
    save_figure(fig, smk.output.jn_plot, synthetic=synthetic)
    plt.close(fig)
    log.info("study3 regression:\n%s", r["summary"].to_string())


run(snakemake, main)  # noqa: F821
