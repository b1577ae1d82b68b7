"""Gather the design-analysis shards: power curves, recovery (bias, RMSE, coverage), convergence."""

from _common import run


def main(smk, ctx):
    from crfm.report import figures
    from crfm.studies import design

    r = design.gather(ctx.settings, [ctx.read(p) for p in smk.input.shards])
    ctx.write(r, synthetic=True)
    ctx.write_frame(
        r.replications,
        smk.output.replications,
        notes=[r.notes()],
        code="crfm.studies.design.replicate_block",
        synthetic=True,
    )
    figures.save_figure(figures.power_figure(r.power), [smk.output.figure, smk.output.figure_pdf], synthetic=True)
    ctx.log.info("design power:\n%s", r.power.to_string())


run(snakemake, main)  # noqa: F821
