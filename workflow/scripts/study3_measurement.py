"""Study 3 measurement model: CFA of every construct (second-order CRFM from Study 2's retained items),
reliability, HTMT, descriptives and correlations with sqrt(AVE), marker-variable adjustment, and the
composite scores the regressions use."""

from _common import run, study_context


def main(smk, log):
    from crfm.studies import study3
    from crfm.data.tables import write_table

    ctx = study_context(smk, "study3")
    config, synthetic = ctx.config, ctx.synthetic
    df = ctx.read(smk.input.data)
    r = study3.measurement(df, config, ctx.model, ctx.retained)
    ml = f"ML (semopy MLW = lavaan ML), listwise complete n = {r['n_cfa']} of {len(df)} firms; items of the CRFM dimensions: those Study 2 retained."
    warn = [f"WARNING: {w}" for w in r["warnings"]]
    notes = {
        "measurement_fit": [ml, *warn],
        "measurement_loadings": [ml, "Standardized loadings, delta-method SEs, 95% CIs.", *warn],
        "second_order_loadings": [ml],
        "reliability": ["CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); AVE = mean(l^2); l = standardized loadings (for the second-order factor: its loadings on the dimensions)."],
        "htmt": ["Heterotrait-monotrait ratio (Henseler et al. 2015), first-order constructs."],
        "descriptives": ["Composite scores: mean of answered items (at least half answered); CRFM = mean of its dimensions."],
        "correlations": ["Pearson correlations of composite scores (pairwise); diagonal: sqrt(AVE) where defined."],
        "marker": ["Lindell & Whitney (2001): r_A = (r - r_M) / (1 - r_M), r_M = smallest positive marker correlation; t test on n - 3 df."],
    }
    tables = {
        "measurement_fit": r["fit"],
        "measurement_loadings": r["loadings"],
        "second_order_loadings": r["second_order_loadings"],
        "reliability": r["reliability"],
        "htmt": r["htmt"],
        "descriptives": r["descriptives"],
        "correlations": r["correlations"],
    }
    if r["marker"] is not None:
        tables["marker"] = r["marker"]
    for name, table in tables.items():
        write_table(table, smk.output[name], synthetic=synthetic, notes=notes[name])
    write_table(r["frame"], smk.output.frame, synthetic=synthetic, notes=["Analysis frame: composite scores, outcome indicators and controls per firm."])
    for w in r["warnings"]:
        log.warning("%s", w)
    log.info("study3 measurement: %s", r["fit"].iloc[0].to_dict())


run(snakemake, main)  # noqa: F821
