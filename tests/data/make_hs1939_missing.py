"""Plant a deterministic missingness pattern in HS1939 -> tests/data/hs1939_missing.csv.

Rerun from the repository root: ``python tests/data/make_hs1939_missing.py`` (numpy only; the
result is committed, so the lavaan references in tests/reference/lavaan/ read the same file).

* MCAR: each of the 2709 cells x1..x9 is deleted with probability .08 (independent uniforms from
  ``numpy.random.default_rng(20170417)``, PCG64 - stable across numpy versions).
* MAR-ish: x9 is additionally deleted for the 25 pupils with the highest x7 whose x7 is observed
  (missingness of x9 depends on an observed variable).
* No respondent loses all nine items: a row that would is given back its x1 value.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ITEMS = [f"x{i}" for i in range(1, 10)]


def main() -> None:
    df = pd.read_csv(HERE / "hs1939.csv")
    rng = np.random.default_rng(20170417)
    vals = df[ITEMS].to_numpy(dtype=float)
    drop = rng.uniform(size=vals.shape) < 0.08
    out = vals.copy()
    out[drop] = np.nan
    x7 = out[:, ITEMS.index("x7")]
    order = np.argsort(-np.where(np.isnan(x7), -np.inf, x7), kind="stable")
    out[order[:25], ITEMS.index("x9")] = np.nan
    empty = np.isnan(out).all(axis=1)
    out[empty, 0] = vals[empty, 0]
    res = df.copy()
    res[ITEMS] = out
    res.to_csv(HERE / "hs1939_missing.csv", index=False, float_format="%.10g")
    print(f"{np.isnan(out).mean():.4f} of item cells missing; complete rows: {(~np.isnan(out).any(axis=1)).sum()}")


if __name__ == "__main__":
    main()
