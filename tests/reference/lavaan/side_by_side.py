"""Side by side: the estimation core (crfm.stats.sem) and lavaan 0.6-14 on the reference cases.

    python tests/reference/lavaan/side_by_side.py          # Markdown tables on stdout

For the methods reviewer: the FIML, MLR and invariance fits of Holzinger-Swineford (complete, with the
planted missing answers of tests/data/hs1939_missing.csv, and by school) and lavaan's
PoliticalDemocracy SEM, with chi-square, df, CFI, RMSEA, SRMR as each program reports them and the
largest absolute difference over all estimates and standard errors, plus the core's fit time.
The tests (tests/test_sem_*.py) assert the same agreement at the brief's tolerances; this script only
shows it. Reads the committed JSON (tests/reference/lavaan/*.json, written by references.R).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from _sem_ref import FIT_NAMES, merged_params  # noqa: E402
from crfm.stats.sem import Model, fit  # noqa: E402

REF = ROOT / "tests/reference/lavaan"
DATA = ROOT / "tests/data"
STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
CASES = [
    # (label, reference case, data file, fit options)
    ("HS ML (complete)", "hs_ml", "hs1939.csv", {}),
    ("HS MLR (complete)", "hs_mlr", "hs1939.csv", {"estimator": "MLR"}),
    ("HS FIML (planted missing answers)", "hs_fiml", "hs1939_missing.csv", {"missing": "fiml"}),
    ("HS FIML + MLR", "hs_fiml_mlr", "hs1939_missing.csv", {"missing": "fiml", "estimator": "MLR"}),
    *[
        (f"HS by school, {s} (ML)", f"hs_mg_ml_{s}", "hs1939.csv", {"group": "school", "group_equal": eq})
        for s, eq in STEPS.items()
    ],
    *[
        (
            f"HS by school, {s} (MLR)",
            f"hs_mg_mlr_{s}",
            "hs1939.csv",
            {"group": "school", "group_equal": eq, "estimator": "MLR"},
        )
        for s, eq in STEPS.items()
    ],
    ("PoliticalDemocracy SEM (ML)", "poldem_ml", "political_democracy.csv", {}),
]
SHOWN = [("chi2", "chisq"), ("df", "df"), ("cfi", "cfi"), ("rmsea", "rmsea"), ("srmr", "srmr")]


def robust_names(opts) -> list[tuple[str, str]]:
    if opts.get("estimator") == "MLR":
        return [("chi2_scaled", "chisq.scaled"), ("cfi_robust", "cfi.robust"), ("rmsea_robust", "rmsea.robust")]
    return []


def row(label, case, file, opts):
    ref = json.loads((REF / f"{case}.json").read_text())
    data = pd.read_csv(DATA / file)
    model = Model.from_syntax(ref["model"])
    res = fit(model, data, **opts)
    t = time.perf_counter()
    for _ in range(5):
        fit(model, data, **opts)
    ms = 1e3 * (time.perf_counter() - t) / 5
    m = merged_params(res, ref)
    d_est = float(np.nanmax(np.abs(m["est_ref"].astype(float) - m["est"].astype(float))))
    d_se = float(np.nanmax(np.abs(m["se_ref"].astype(float) - m["se"].astype(float))))
    cells = []
    for ours, theirs in SHOWN + robust_names(opts):
        a, b = float(res.fit[ours]), float(ref["fit"][theirs])
        cells.append(f"{a:.4f} / {b:.4f}" if ours != "df" else f"{a:.0f} / {b:.0f}")
    assert all(k in FIT_NAMES or k in ("chi2", "df", "chi2_scaled") for k, _ in SHOWN)
    return label, cells, d_est, d_se, ms, opts


def main() -> None:
    rows = [row(*c) for c in CASES]
    print("Each cell: crfm.stats.sem / lavaan 0.6-14. max |diff|: over every estimate and SE of the parameter table.\n")
    print(
        "| case | chi2 | df | CFI | RMSEA | SRMR | robust chi2, CFI, RMSEA | max abs diff est | max abs diff SE | fit, ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, cells, d_est, d_se, ms, _ in rows:
        robust = "; ".join(cells[5:]) if len(cells) > 5 else ""
        print(f"| {label} | {' | '.join(cells[:5])} | {robust} | {d_est:.1e} | {d_se:.1e} | {ms:.1f} |")


if __name__ == "__main__":
    main()
