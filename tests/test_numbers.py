"""crfm.report.numbers: numbers.json collects the running text's numbers from result files, APA-formatted."""

from __future__ import annotations

import json

import pandas as pd

from crfm.data.tables import write_table
from crfm.report.numbers import NumberBook, collect_numbers, write_numbers

DICT_METHODS = set(dir(dict))


def _tables(tmp_path):
    t = tmp_path / "tables"
    write_table(
        pd.DataFrame(
            {
                "step": ["received", "excluded: attention_check", "excluded: straightlining", "analysed"],
                "n": [267, 11, 6, 250],
            }
        ),
        t / "study2_flow.csv",
        synthetic=True,
    )
    write_table(
        pd.DataFrame(
            {
                "model": ["correlated"],
                "chi2": [92.35324],
                "df": [87],
                "p": [0.32704],
                "cfi": [0.99628],
                "tli": [0.99551],
                "rmsea": [0.01772],
                "rmsea_ci_lower": [0.0],
                "rmsea_ci_upper": [0.04373],
                "srmr": [0.03903],
                "aic": [9062.79],
                "bic": [9170.97],
                "n": [196],
            }
        ),
        t / "study2_fit.csv",
        synthetic=True,
    )
    write_table(
        pd.DataFrame(
            {"construct": ["A", "B", "C"], "A": [0.77, 0.64, 0.58], "B": [0.64, 0.62, 0.55], "C": [0.58, 0.55, 0.76]}
        ),
        t / "study2_fornell_larcker.csv",
        synthetic=True,
    )
    write_table(
        pd.DataFrame(
            {
                "construct": ["RCOM", "RSEL", "CRFM"],
                "alpha": [0.871, 0.857, 0.919],
                "cr": [0.877, 0.856, 0.835],
                "ave": [0.589, 0.545, 0.629],
            }
        ),
        t / "study3_reliability.csv",
        synthetic=True,
    )
    write_table(
        pd.DataFrame(
            {
                "step": [4, 4],
                "step_label": ["Step 4", "Step 4"],
                "term": ["CRFM", "CRFM_x_COMP"],
                "b": [0.3668, 0.1794],
                "se": [0.0706, 0.0675],
                "t": [5.19, 2.66],
                "p": [3.9e-07, 0.00832],
                "ci_lower": [0.2278, 0.0465],
                "ci_upper": [0.5058, 0.3123],
                "beta": [0.305, 0.172],
                "model": ["composite", "composite"],
                "moderator": ["COMP", "COMP"],
            }
        ),
        t / "study3_coefficients.csv",
        synthetic=True,
    )
    return {p.stem: str(p) for p in sorted(t.glob("*.csv"))}


def _summaries(tmp_path):
    p = tmp_path / "explore_summary.json"
    p.write_text(
        json.dumps(
            {
                "n_efa": 189,
                "kmo": 0.92107,
                "bartlett_chi2": 1683.6067,
                "bartlett_df": 153.0,
                "bartlett_p": 9.3e-256,
                "parallel_analysis_factors": 3,
                "factors_extracted": 3,
                "items_in_pool": 18,
                "items_retained": 15,
                "items_removed": ["RSEL5", "RINT6", "RCOM6"],
            }
        )
    )
    return {"study2_explore": str(p)}


def _walk(node, path=""):
    if isinstance(node, dict) and "text" in node and "source" in node:
        yield path, node
        return
    for k, v in node.items():
        assert k not in DICT_METHODS, f"numbers.json key {path}.{k} shadows a dict method in jinja"
        yield from _walk(v, f"{path}.{k}" if path else k)


def test_numbers_are_collected_formatted_and_sourced(tmp_path, config_and_model):
    config, _ = config_and_model
    config = dict(config, studies=["study2", "study3"])
    out = collect_numbers(config, _tables(tmp_path), _summaries(tmp_path), synthetic=True)
    n = out["numbers"]
    assert out["synthetic"] is True and out["data_note"].startswith("SYNTHETIC DATA")
    assert n["study2"]["flow"]["received"]["text"] == "267"
    assert n["study2"]["flow"]["excluded"]["value"] == 17
    assert n["study2"]["flow"]["excluded_by"]["straightlining"]["text"] == "6"
    fit = n["study2"]["cfa"]["correlated"]
    assert fit["cfi"]["text"] == ".996" and fit["p"]["eq"] == "= .327" and fit["rmsea_ci"]["text"] == "[.000, .044]"
    assert fit["cfi"]["source"].endswith("study2_fit.csv [model=correlated, cfi]")
    assert n["study2"]["efa"]["bartlett"]["p"]["eq"] == "<\u00a0.001"
    assert n["study2"]["efa"]["bartlett"]["chi2"]["text"] == "1,683.61"
    assert n["study2"]["scale"]["removed_list"]["text"] == "RSEL5, RINT6, RCOM6"
    assert n["study2"]["thresholds"]["ave"]["source"] == "config:study2.thresholds.ave"
    # B's sqrt(AVE) .62 is below its correlation with A (.64): 2 of 3 pass Fornell-Larcker
    assert (
        n["study2"]["fornell_larcker"]["passed"]["value"] == 2
        and n["study2"]["fornell_larcker"]["constructs"]["value"] == 3
    )
    # the second-order composite is left out of the first-order ranges
    assert n["study3"]["reliability"]["range"]["alpha_max"]["text"] == ".87"
    focal = n["study3"]["moderators"]["COMP"]["focal"]
    assert (
        focal["b"]["text"] == "0.367" and focal["p"]["eq"] == "<\u00a0.001" and focal["ci"]["text"] == "[0.228, 0.506]"
    )
    assert n["model"]["focal"]["name"]["text"] == "CRFM"
    leaves = list(_walk(n))
    assert out["count"] == len(leaves) and all(leaf["source"] for _, leaf in leaves)


def test_missing_tables_are_skipped_not_fatal(tmp_path, config_and_model):
    config, _ = config_and_model
    out = collect_numbers(dict(config, studies=["study3"]), {}, {}, synthetic=False)
    assert "data_note" not in out
    assert "flow" not in out["numbers"].get("study3", {})


def test_written_json_is_sorted_and_stable(tmp_path):
    book = NumberBook()
    book.put("b.x", 0.5, "bounded", 2, "s")
    book.put("a.p", 0.0001, "p", 3, "s")
    book.put("a.n", float("nan"), "int", source="s")
    obj = {"numbers": book.data}
    write_numbers(obj, tmp_path / "1.json")
    write_numbers(obj, tmp_path / "2.json")
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()
    data = json.loads((tmp_path / "1.json").read_text())
    assert list(data["numbers"]) == ["a", "b"]
    assert data["numbers"]["a"]["n"] == {"source": "s", "text": "\u2014", "value": None}
    assert book.count() == 3


def test_source_names_the_cell_and_its_producer(tmp_path):
    """numbers.json sources carry the table's `# code:`/`# rule:` lines: a number is two hops from its code."""
    import pandas as pd

    from crfm.data.tables import Producer, write_table
    from crfm.report.numbers import source

    path = tmp_path / "study2_fit.csv"
    producer = Producer("study2_confirm", "workflow/rules/study2.smk", "crfm.stats.cfa.rival_models")
    write_table(pd.DataFrame({"model": ["correlated"], "cfi": [0.99]}), path, synthetic=False, producer=producer)
    assert source(path, "model=correlated", "cfi") == (
        f"{path.as_posix()} [model=correlated, cfi] <- crfm.stats.cfa.rival_models (rule study2_confirm, workflow/rules/study2.smk)"
    )
    # a table without producer lines (hand-made) keeps the plain source; a rewrite is read again
    write_table(pd.DataFrame({"cfi": [0.99]}), path, synthetic=False, notes=["hand-made, with a longer note"])
    assert source(path, "", "cfi") == f"{path.as_posix()} [cfi]"
