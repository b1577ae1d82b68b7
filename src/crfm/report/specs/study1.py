"""How Study 1 is presented: one spec per table (in appendix order) and a title per figure."""

from __future__ import annotations

from crfm.data.tables import read_table
from crfm.report.numbers import NumberBook, load_json, source
from crfm.report.specs.common import RELIABILITY_STATS, Col, TableSpec, ci

PREFIX = "1"
CATEGORY = "Study 1"  # the Snakemake report's category of its tables and figures

TABLES: dict[str, TableSpec] = {
    "study1_informants": TableSpec(
        "Informants by company and role",
        (
            Col("company", "Company", group=True),
            Col("industry", "Industry", group=True),
            Col("role", "Role"),
            Col("n_interviews", "Interviews", "int"),
            Col("interview_ids", "Interview IDs", wide=True),
        ),
    ),
    "study1_coding_summary": TableSpec(
        "Coding summary: codes of the primary coder",
        (
            Col("code", "Code"),
            Col("label", "Label", wide=True),
            Col("dimension", "Dimension"),
            Col("level", "Level"),
            Col("kind", "Kind"),
            Col("n_segments", "Segments", "int"),
            Col("n_interviews", "Interviews", "int"),
            Col("n_companies", "Companies", "int"),
            Col("share_interviews", "Share of interviews", "bounded", 2),
        ),
    ),
    "study1_dimension_by_company": TableSpec(
        "Interviews in which each CRFM dimension appears, by company",
        (Col("dimension", "Dimension"),),
        rest=Col("", fmt="int"),
    ),
    "study1_code_company_share": TableSpec(
        "Share of each company's interviews in which a code appears",
        (Col("code", "Code"),),
        rest=Col("", fmt="bounded", dec=2),
    ),
    "study1_saturation": TableSpec(
        "Code saturation in data-collection order",
        (
            Col("position", "Position", "int"),
            Col("interview_id", "Interview"),
            Col("company", "Company"),
            Col("n_segments", "Segments", "int"),
            Col("n_new_codes", "New codes", "int"),
            Col("cumulative_codes", "Cumulative codes", "int"),
            Col("new_codes", "Codes first seen", wide=True),
        ),
    ),
    "study1_cooccurrence": TableSpec(
        "Code co-occurrence across interviews (Jaccard similarity)",
        (
            Col("code_a", "Code A"),
            Col("code_b", "Code B"),
            Col("n_a", "*n* A", "int"),
            Col("n_b", "*n* B", "int"),
            Col("n_both", "*n* both", "int"),
            Col("n_either", "*n* either", "int"),
            Col("jaccard", "Jaccard", "bounded", 2),
        ),
    ),
    "study1_reliability": TableSpec(
        "Inter-coder agreement",
        (
            Col("variable", "Coded", group=True, values={"code": "Code"}),
            Col("statistic", "Statistic", values=RELIABILITY_STATS),
            Col("level", "Level"),
            Col("coders", "Coders"),
            Col("n_units", "Units", "int"),
            Col("n_pairable", "Pairable values", "int"),
            Col("value", "Value", "bounded", 3),
            ci("ci_lower", "ci_upper", "95% CI", 3, bounded=True),
            Col("note", "Note", wide=True),
        ),
        rest=Col("", fmt="bounded", dec=3),
        extra_notes=("*q*(α < *x*): share of bootstrap alphas below *x*; CI = bootstrap percentile interval of α.",),
    ),
    "study1_reliability_by_code": TableSpec(
        "Inter-coder agreement by code (presence or absence of the code in a segment)",
        (
            Col("code", "Code", group=True),
            Col("statistic", "Statistic", values=RELIABILITY_STATS),
            Col("level", "Level"),
            Col("coders", "Coders"),
            Col("n_units", "Units", "int"),
            Col("n_pairable", "Pairable values", "int"),
            Col("n_present", "Codings", "int"),
            Col("value", "Value", "bounded", 3),
            ci("ci_lower", "ci_upper", "95% CI", 3, bounded=True),
            Col("note", "Note", wide=True),
        ),
        rest=Col("", fmt="bounded", dec=3),
        extra_notes=("*q*(α < *x*): share of bootstrap alphas below *x*; CI = bootstrap percentile interval of α.",),
    ),
    "study1_traceability": TableSpec(
        "Traceability: code, CRFM dimension and scale item",
        (
            Col("dimension", "Dimension", group=True),
            Col("code", "Code"),
            Col("label", "Label"),
            Col("kind", "Kind"),
            Col("level", "Level"),
            Col("item", "Item"),
            Col("item_text", "Item wording", wide=True),
        ),
    ),
    "study1_qdpx_crosscheck": TableSpec(
        "Cross-check: every Study 1 table rebuilt from the REFI-QDA export",
        (
            Col("table", "Table", display="words"),
            Col("rows_csv", "Rows (CSV)", "int"),
            Col("rows_qdpx", "Rows (QDPX)", "int"),
            Col("identical", "Identical", "bool"),
        ),
    ),
}

FIGURES: dict[str, str] = {
    "study1_code_heatmap": "Codes by company: share of each company's interviews in which a code appears",
    "study1_saturation": "Saturation curve: cumulative number of codes by interview",
    "study1_cooccurrence": "Code co-occurrence (Jaccard similarity)",
}


# --- numbers the running text quotes (numbers.json) ---------------------------------------------------


def numbers(book: NumberBook, tables: dict, summaries: dict, config: dict) -> None:
    """Study 1's numbers: counts and saturation from summary.json, reliability and the .qdpx check from the tables."""
    sp = summaries["study1"]
    s = load_json(sp)
    for key in ("n_interviews", "n_companies", "n_segments_primary", "n_codes_used"):
        if key in s:
            book.put(f"study1.{key}", s[key], "int", source=source(sp, "", key))
    if s.get("saturation_position") is not None:
        book.put(
            "study1.saturation.position", s["saturation_position"], "int", source=source(sp, "", "saturation_position")
        )
        book.put_text(
            "study1.saturation.interview", str(s["saturation_interview"]), source(sp, "", "saturation_interview")
        )
    book.put("study1.saturation.k", s.get("saturation_k"), "int", source=source(sp, "", "saturation_k"))
    sat_path = tables.get("study1_saturation")
    if sat_path and s.get("saturation_position") is not None:
        sat = read_table(sat_path)
        later = sat[sat["position"] > int(s["saturation_position"]) + int(s["saturation_k"])]
        later = later[later["n_new_codes"] > 0]
        book.put(
            "study1.saturation.later_new_codes",
            int(later["n_new_codes"].sum()),
            "int",
            source=source(
                sat_path, f"position > {int(s['saturation_position']) + int(s['saturation_k'])}", "sum n_new_codes"
            ),
        )
        book.put_text(
            "study1.saturation.later_interviews",
            ", ".join(map(str, later["interview_id"])) or "none",
            source(sat_path, "n_new_codes > 0 after the window", "interview_id"),
        )
    if "study1_coding_summary" in tables:
        path = tables["study1_coding_summary"]
        df = read_table(path)
        book.put("study1.n_codes_codebook", len(df), "int", source=source(path, "", "rows"))
        for kind in sorted(set(df["kind"].astype(str))):
            book.put(
                f"study1.codes_by_kind.{kind}",
                int((df["kind"] == kind).sum()),
                "int",
                source=source(path, f"kind={kind}", "rows"),
            )
    if "study1_reliability" in tables:
        path = tables["study1_reliability"]
        df = read_table(path)
        for _, r in df.iterrows():
            var, stat, level = str(r["variable"]), str(r["statistic"]), str(r["level"])
            key = f"study1.reliability.{var}.{stat}" + (
                f".{level}" if stat == "krippendorff_alpha" else f".{str(r['coders']).replace('|', '_')}"
            )
            where = f"variable={var}, statistic={stat}, level={level}, coders={r['coders']}"
            book.put(f"{key}.value", r["value"], "bounded", 2, source(path, where, "value"))
            if stat == "krippendorff_alpha":
                book.put_ci(
                    f"{key}.ci",
                    r["ci_lower"],
                    r["ci_upper"],
                    2,
                    bounded=True,
                    source=source(path, where, "ci_lower, ci_upper"),
                )
                for q in [c for c in df.columns if c.startswith("q_below_")]:
                    book.put(f"{key}.{q.replace('.', '_')}", r[q], "bounded", 3, source(path, where, q))
                book.put_text(f"study1.reliability.{var}.levels.{level}", level, source(path, where, "level"))
        book.put("study1.reliability.n_units", df["n_units"].iloc[0], "int", source=source(path, "", "n_units"))
        alpha = df[(df["statistic"] == "krippendorff_alpha")]
        book.put(
            "study1.reliability.n_alphas",
            len(alpha),
            "int",
            source=source(path, "statistic=krippendorff_alpha", "rows"),
        )
    if "study1_qdpx_crosscheck" in tables:
        path = tables["study1_qdpx_crosscheck"]
        df = read_table(path)
        book.put("study1.qdpx.tables_compared", len(df), "int", source=source(path, "", "rows"))
        book.put(
            "study1.qdpx.tables_identical",
            int(df["identical"].astype(bool).sum()),
            "int",
            source=source(path, "identical=True", "rows"),
        )
