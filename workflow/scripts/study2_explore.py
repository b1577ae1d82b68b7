"""Study 2, exploratory stage: item analysis, KMO/Bartlett, parallel analysis, EFA, purification,
retained items (the input of Study 3)."""

from _common import run, study_context


def main(smk, log):
    from crfm.studies import study2
    from crfm.data.tables import write_json, write_table

    ctx = study_context(smk, "study2")
    config, synthetic = ctx.config, ctx.synthetic
    df = ctx.read(smk.input.data)
    r = study2.explore(df, config, ctx.model)
    st = study2.settings(config)
    par, efa = r["parallel_analysis"], r["efa_initial"]
    pur = st["purification"]
    notes = {
        "item_analysis": ["Corrected item-total correlation: item vs the sum of the other items of its construct. Skewness and kurtosis (excess): bias-corrected G1/G2. Listwise complete cases."],
        "kmo": ["Kaiser-Meyer-Olkin measure of sampling adequacy per item; last row overall."],
        "factorability": [par.description],
        "parallel_analysis": [par.description],
        "efa_loadings": [f"{efa.method.upper()} extraction, {efa.rotation} rotation, {efa.n_factors} factors, n = {efa.n}; pattern loadings of the whole item pool; factor signs make each factor's loadings sum positive, factors ordered by their highest-loading item."],
        "efa_factor_correlations": ["Factor correlations (phi) of the oblique solution."],
        "efa_variance": ["Sums of squared loadings: diag(phi L'L)."],
        "purification": [f"One item removed per step, EFA rerun after each; rules: primary loading >= {pur['min_loading']}, cross-loading <= {pur['max_cross_loading']}, corrected item-total r >= {pur['min_item_total']}; an item loading highest on another construct's factor is removed as wrong_factor."],
    }
    tables = {
        "item_analysis": r["item_analysis"],
        "kmo": r["kmo"],
        "factorability": r["factorability"],
        "parallel_analysis": par.table,
        "efa_loadings": r["efa_loadings"],
        "efa_factor_correlations": r["efa_factor_correlations"],
        "efa_variance": r["efa_variance"],
        "purification": r["purification_log"],
    }
    for name, table in tables.items():
        write_table(table, smk.output[name], synthetic=synthetic, notes=notes.get(name, ()))
    write_table(r["retained"], smk.output.retained, synthetic=synthetic, notes=["Items retained after purification: the scale Study 3 uses."])
    write_table(r["samples"], smk.output.samples, synthetic=synthetic)
    study2.plot_scree(par, smk.output.scree, synthetic=synthetic)
    study2.plot_loading_heatmap(r["efa_loadings"], smk.output.heatmap, synthetic=synthetic)
    k, b = r["kmo_result"], r["bartlett"]
    summary = {
        "n_analysed": len(df),
        "n_efa": int(efa.n),
        "kmo": float(k.overall),
        "bartlett_chi2": float(b.chi2),
        "bartlett_df": float(b.df),
        "bartlett_p": float(b.p),
        "parallel_analysis_factors": int(par.n_factors),
        "factors_extracted": int(r["n_factors"]),
        "items_in_pool": int(len(r["efa_loadings"])),
        "items_retained": int(len(r["retained"])),
        "items_removed": r["purification"].removed,
    }
    write_json(summary, smk.output.summary, synthetic=synthetic)
    log.info("study2 explore: %s", summary)


run(snakemake, main)  # noqa: F821
