"""Study 2, confirmatory stage: rival CFA models, loadings, reliability and validity, common-method
checks and the scale-items table."""

from _common import run, study_context


def main(smk, log):
    from crfm.studies import study2
    from crfm.data.tables import write_json, write_table

    ctx = study_context(smk, "study2")
    config, synthetic = ctx.config, ctx.synthetic
    samples = ctx.read(smk.input.samples)
    r = study2.confirm(ctx.read(smk.input.data), samples, ctx.retained, config, ctx.model)
    thr = study2.settings(config)["thresholds"]
    sample = "validation sample" if (samples["sample"] == "validation").any() else "full sample"
    n_used = r["fits"]["correlated"].fit["n"]
    ml = f"ML (semopy, objective MLW = lavaan ML), {sample}: listwise complete n = {n_used} of {r['n']} respondents."
    warn = [f"WARNING: {p}" for p in r["problems"]]
    notes = {
        "fit": [ml, "SRMR: Bentler's, on correlations; log-likelihood, AIC and BIC computed from the ML discrepancy (N-divisor covariance), as lavaan.", *warn],
        "comparisons": ["Chi-square difference (likelihood-ratio) tests of nested models."],
        "loadings": [ml, "Standardized (std.all) loadings; SEs by the delta method; 95% Wald CIs.", *warn],
        "factor_correlations": [ml],
        "second_order_loadings": [ml, "Standardized loadings of the first-order factors on the second-order factor."],
        "reliability": [f"alpha: Cronbach's raw alpha. CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)); AVE = mean(l^2); l = standardized CFA loadings. Pass: alpha >= {thr['alpha']}, CR >= {thr['cr']}, AVE >= {thr['ave']}."],
        "fornell_larcker": ["Diagonal: square root of AVE; off-diagonal: CFA factor correlations. Discriminant validity when each sqrt(AVE) exceeds the construct's correlations."],
        "htmt": [f"Heterotrait-monotrait ratio (Henseler et al. 2015), arithmetic means of absolute item correlations; pass: HTMT < {thr['htmt']}."],
        "common_method": ["Harman: first unrotated principal component of all retained items."],
        "scale_items": [ml, "Standardized loadings of the correlated-factors model with the constructs' alpha, CR and AVE."],
    }
    for name in notes:
        write_table(r[name], smk.output[name], synthetic=synthetic, notes=notes[name])
    fits = {k: {m: v for m, v in f.fit.items()} for k, f in r["fits"].items()}
    summary = {
        "n_cfa": r["n"],
        "fit": fits,
        "reliability": r["reliability"].set_index("construct")[["alpha", "cr", "ave"]].to_dict(orient="index"),
        "problems": r["problems"],
    }
    write_json(summary, smk.output.summary, synthetic=synthetic)
    for p in r["problems"]:
        log.warning("%s", p)
    log.info("study2 confirm: correlated model %s", fits["correlated"])


run(snakemake, main)  # noqa: F821
