"""Gather the design-analysis shards: power curves, recovery (bias, RMSE, coverage), convergence."""

from _common import run


def main(smk, log):
    import pandas as pd

    from crfm.studies import design
    from crfm.data.tables import read_table, write_table

    config = smk.config
    reps = pd.concat([read_table(p) for p in smk.input.shards], ignore_index=True).sort_values("replicate")
    expected = design.n_replications(config)
    if len(reps) != expected or reps["replicate"].tolist() != list(range(expected)):
        raise RuntimeError(f"design shards hold {len(reps)} replications, expected {expected}")
    s = design.design_settings(config)
    out = design.summarise(reps)
    base = f"Monte Carlo, {s['replications']} replications per cell, replication i seeded from (seed {s['seed']}, i); simulated from the population model (synthetic by construction)."
    notes = {
        "power": [base, "Power: share of replications rejecting at alpha = .05 (HC3 t test, predicted sign); mc_se: Monte Carlo standard error."],
        "recovery": [base, "Loadings: std.all vs the population loadings of the continuous responses (the Likert discretisation attenuates them); effects: standardized coefficients of composites vs the latent population effects (measurement error attenuates them); coverage of the 95% CIs."],
        "convergence": [base, "Share of CFA replications that did not converge or gave an improper solution (Heywood case)."],
    }
    for name in ("power", "recovery", "convergence"):
        write_table(out[name], smk.output[name], synthetic=True, notes=notes[name])
    write_table(reps, smk.output.replications, synthetic=True, notes=[base])
    design.plot_power(out["power"], smk.output.figure, synthetic=True)
    log.info("design power:\n%s", out["power"].to_string())


run(snakemake, main)  # noqa: F821
