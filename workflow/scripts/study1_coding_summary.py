"""Study 1: informants, coding summary, code x company heatmap, saturation curve, co-occurrence,
inter-coder reliability and code -> dimension -> item traceability."""

from _common import run


def main(smk, log):
    from crfm.stats import coding as qual
    from crfm.data.config import MeasurementModel
    from crfm.data.contract import read_sheet
    from crfm.data.tables import read_table, write_json, write_table
    from crfm.studies.steps import is_synthetic, study1_tables

    config = smk.config
    synthetic = is_synthetic(config)
    model = MeasurementModel.from_config(config)
    interviews = read_table(smk.input.interviews, dtype=str).astype({"order": int})
    segments = read_table(smk.input.segments, dtype=str, keep_default_na=False)
    codebook = read_table(smk.input.codebook, dtype=str, keep_default_na=False)
    survey_columns = list(read_sheet(smk.input.survey).data.columns) if smk.input.get("survey") else None
    tables, sat = study1_tables(config, model, interviews, segments, codebook, survey_columns)
    for name, (df, notes, index) in tables.items():
        write_table(df, smk.output[name], synthetic=synthetic, index=index, notes=notes)
    labels = dict(zip(codebook["code"], codebook["label"]))
    qual.plot_code_heatmap(tables["code_company_share"][0], smk.output.heatmap, synthetic=synthetic, labels=labels)
    qual.plot_saturation(sat, smk.output.saturation_plot, synthetic=synthetic)
    qual.plot_cooccurrence(tables["cooccurrence"][0], smk.output.cooccurrence_plot, synthetic=synthetic, labels=labels)
    rel = tables["reliability"][0].set_index("statistic")["value"].to_dict() if "reliability" in tables else {}
    summary = {
        "n_interviews": len(interviews),
        "n_companies": int(interviews["company"].nunique()),
        "n_codes_used": int(sat.n_codes),
        "n_segments_primary": int((segments["coder"] == config["study1"]["primary_coder"]).sum()),
        "saturation_position": sat.saturation_position,
        "saturation_interview": sat.saturation_interview,
        "saturation_k": config["study1"]["saturation_k"],
        "reliability": rel,
    }
    write_json(summary, smk.output.summary, synthetic=synthetic)
    log.info("study1: %s", summary)


run(snakemake, main)  # noqa: F821
