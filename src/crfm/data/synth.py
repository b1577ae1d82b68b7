"""Synthetic raw inputs from a documented population model (config `population:`).

The paper's data are not public. This generator writes stand-ins to ``resources/raw`` deterministically
from ``population.seed``: the same config gives the same bytes (a test regenerates and compares).
Every file is labelled synthetic (a leading '#' comment in each CSV, a description in the .qdpx, and
``synthetic: true`` in ``manifest.yaml``, the flag the pipeline reads).

Population model (survey studies), all latent variables standardised:

* CRFM (second order) g ~ N(0, 1); dimension d: f_d = gamma_d g + sqrt(1 - gamma_d^2) zeta_d
* item i of dimension d: x_i = lambda_i f_d + sum(cross loadings on other dimensions) + m_i M + e_i,
  with var(e_i) chosen so var(x_i) = 1 (M: a common-method factor, Study 3 only)
* answer: clip(round(mid + offset_i + likert_scale * x_i), min, max); reverse-keyed items are stored
  as (min + max - answer), as respondents would give them
* Study 3: offering complexity C ~ N(0, 1) with corr(g, C) = 0.2; performance
  P = b_crfm g + b_comp C + b_int g C + b_size z(log size) + b_age z(age) + e, var(e) set so var(P) = 1
* planted: weak items (low loading), a cross-loading item, MCAR blanks, respondents leaving ~40% of
  the items blank, straight-liners (one answer to every item), failed attention checks.

Run ``python -m crfm.data.synth [--config config/config.yaml] [--out resources/raw]``.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from crfm.data.config import MeasurementModel, load_config
from crfm.data.manifest import SYNTHETIC_NOTE, sha256_file

GENERATOR = "crfm.data.synth"
FILES = {
    "study1_interviews": "study1_interviews.csv",
    "study1_segments": "study1_segments.csv",
    "study1_qdpx": "study1_coding.qdpx",
    "study2_survey": "study2_survey.csv",
    "study3_survey": "study3_survey.csv",
}
STREAMS = {"study1": 1, "study2": 2, "study3": 3, "study1_intensity": 4}


def rng_for(seed: int, stream: int, *more: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, *more]))


def _csv_bytes(df: pd.DataFrame, float_cols=()) -> bytes:
    buf = io.StringIO()
    buf.write(f"# {SYNTHETIC_NOTE}\n")
    df.to_csv(buf, index=False, lineterminator="\n", na_rep="")
    return buf.getvalue().encode("utf-8")


# --- Study 1 --------------------------------------------------------------------------------------


def make_study1(config: dict, codebook: pd.DataFrame, rng: np.random.Generator):
    pop = config["population"]["study1"]
    roles = pop["roles"]
    rows = []
    for comp in pop["companies"]:
        role_seq = list(rng.permutation(roles))
        for k in range(comp["interviews"]):
            rows.append({"company": comp["company"], "industry": comp["industry"], "role": role_seq[k % len(roles)]})
    interviews = pd.DataFrame(rows)
    order = rng.permutation(len(interviews)) + 1
    interviews["order"] = order
    interviews = interviews.sort_values("order", kind="stable").reset_index(drop=True)
    interviews.insert(0, "interview_id", [f"I{k + 1:02d}" for k in range(len(interviews))])
    interviews = interviews[["interview_id", "company", "industry", "role", "order"]]

    codes = codebook["code"].tolist()
    # prevalence: most codes common, a few rare so saturation comes late but comes
    base = rng.uniform(0.25, 0.75, size=len(codes))
    rare = rng.choice(len(codes), size=max(1, len(codes) // 6), replace=False)
    base[rare] = rng.uniform(0.06, 0.12, size=len(rare))
    companies = [c["company"] for c in pop["companies"]]
    company_mult = {c: rng.uniform(0.7, 1.3, size=len(codes)) for c in companies}
    lo, hi = pop["segments_per_interview"]
    dims = codebook.set_index("code")["dimension"].to_dict()
    label = codebook.set_index("code")["label"].to_dict()
    segs = []
    for _, iv in interviews.iterrows():
        p = np.clip(base * company_mult[iv["company"]], 0.02, 0.95)
        present = [c for c, pc in zip(codes, p) if rng.random() < pc]
        if not present:
            present = [codes[int(rng.integers(len(codes)))]]
        m = max(int(rng.integers(lo, hi + 1)), len(present))
        assigned = list(present) + list(rng.choice(present, size=m - len(present)))
        assigned = [assigned[j] for j in rng.permutation(m)]
        for s, code in enumerate(assigned, start=1):
            segs.append(
                {
                    "interview_id": iv["interview_id"],
                    "segment_id": f"{iv['interview_id']}-S{s:02d}",
                    "coder": pop["coders"][0],
                    "code": code,
                    "excerpt": f"[synthetic] informant ({iv['role']}) on {label[code].lower()}",
                }
            )
    primary = pd.DataFrame(segs)
    if len(pop["coders"]) > 1 and pop.get("double_coded_interviews", 0) > 0:
        chosen = set(rng.choice(interviews["interview_id"], size=pop["double_coded_interviews"], replace=False))
        second = []
        for _, seg in primary[primary["interview_id"].isin(chosen)].iterrows():
            for coder in pop["coders"][1:]:
                if rng.random() < 0.03:
                    continue  # left uncoded: a missing value for reliability
                if rng.random() < pop["agreement"]:
                    code = seg["code"]
                else:
                    same_dim = [c for c in codes if dims[c] == dims[seg["code"]] and c != seg["code"]]
                    code = same_dim[int(rng.integers(len(same_dim)))] if same_dim else seg["code"]
                second.append({**seg.to_dict(), "coder": coder, "code": code})
        segments = pd.concat([primary, pd.DataFrame(second)], ignore_index=True)
    else:
        segments = primary
    segments = segments.sort_values(["interview_id", "segment_id", "coder"], kind="stable").reset_index(drop=True)
    return interviews, segments


def add_intensity(segments: pd.DataFrame, spec: dict | None, primary: str, rng: np.random.Generator) -> pd.DataFrame:
    """An ordinal intensity rating (1..k) of every coded segment: the primary coder's drawn from
    ``spec['probabilities']``; another coder gives the same rating with probability
    ``spec['agreement']``, else a neighbouring one. Its own random stream, so the codes stay as they
    were without it."""
    if not spec:
        return segments
    probs = np.asarray(spec["probabilities"], dtype=float)
    k = len(probs)
    out = segments.copy()
    first = {}
    ratings = []
    for seg, coder in zip(out["segment_id"], out["coder"]):
        if coder == primary or seg not in first:
            r = int(rng.choice(k, p=probs / probs.sum())) + 1
            first.setdefault(seg, r)
        if coder != primary and seg in first:
            r = first[seg]
            if rng.random() >= spec["agreement"]:
                r = int(np.clip(r + (1 if rng.random() < 0.5 else -1), 1, k))
        ratings.append(r)
    out.insert(out.columns.get_loc("code") + 1, "intensity", ratings)
    return out


# --- Surveys --------------------------------------------------------------------------------------


def _latent_dimensions(pop: dict, dims: list[str], n: int, rng) -> tuple[np.ndarray, dict]:
    g = rng.standard_normal(n)
    f = {}
    for d in dims:
        gam = pop["second_order_loadings"].get(d, 0.7)
        f[d] = gam * g + np.sqrt(1 - gam**2) * rng.standard_normal(n)
    return g, f


def _items(
    pop,
    model: MeasurementModel,
    construct: str,
    factor: np.ndarray,
    others: dict,
    dim_corr,
    method,
    mload,
    rng,
    survey_pop,
):
    out = {}
    c = model.constructs[construct]
    lo, hi = c.scale_min, c.scale_max
    mid = (lo + hi) / 2
    for item in c.items:
        lam = pop["loadings"].get(item, 0.75)
        x = lam * factor
        var = lam**2
        for oc, cl in (pop.get("cross") or {}).get(item, {}).items():
            x = x + cl * others[oc]
            var += cl**2 + 2 * lam * cl * dim_corr(construct, oc)
        if method is not None:
            x = x + mload * method
            var += mload**2
        if var >= 1:
            raise ValueError(f"population.loadings: item {item} has explained variance {var:.2f} >= 1")
        x = x + np.sqrt(1 - var) * rng.standard_normal(len(factor))
        offset = rng.uniform(-0.4, 0.4)
        y = np.clip(np.round(mid + offset + survey_pop.get("likert_scale", 1.4) * x), lo, hi)
        if item in c.reverse:
            y = lo + hi - y
        out[item] = y
    return out


def _plant_careless(df: pd.DataFrame, items, sp: dict, rng, lo=1, hi=7) -> pd.DataFrame:
    """Append straight-liners and high-missing respondents; MCAR blanks for everyone."""
    n = len(df)
    x = df[items].to_numpy(dtype=float, copy=True)
    blank = rng.random(x.shape) < sp.get("missing_rate", 0.0)
    x[blank] = np.nan
    df = df.copy()
    df[items] = x
    extra = []
    for _ in range(sp.get("careless", 0)):
        v = float(rng.integers(lo, hi + 1))
        extra.append({i: v for i in items} | {"_kind": "careless"})
    for _ in range(sp.get("high_missing", 0)):
        src = df.iloc[int(rng.integers(n))]
        row = {i: src[i] for i in items}
        for i in rng.choice(items, size=int(0.4 * len(items)), replace=False):
            row[i] = np.nan
        extra.append(row | {"_kind": "high_missing"})
    if extra:
        df = pd.concat([df.assign(_kind="valid"), pd.DataFrame(extra)], ignore_index=True)
    else:
        df = df.assign(_kind="valid")
    return df


def make_study2(config: dict, model: MeasurementModel, rng: np.random.Generator) -> pd.DataFrame:
    pop, sp = config["population"], config["population"]["study2"]
    s2 = config["study2"]
    dims = s2["constructs"]
    n = sp["n"] + sp.get("attention_failures", 0)
    g, f = _latent_dimensions(pop, dims, n, rng)
    so = pop["second_order_loadings"]
    corr = lambda a, b: so.get(a, 0.7) * so.get(b, 0.7)  # noqa: E731
    data = {}
    for d in dims:
        data.update(_items(pop, model, d, f[d], f, corr, None, 0.0, rng, sp))
    items = model.items_of(dims)
    df = pd.DataFrame(data)[items]
    df = _plant_careless(df, items, sp, rng)
    ac = (s2.get("exclusions") or {}).get("attention_check")
    if ac:
        passv = ac["pass_values"][0]
        att = np.full(len(df), passv, dtype=object)
        valid_idx = np.flatnonzero(df["_kind"].to_numpy() == "valid")
        fails = rng.choice(valid_idx, size=sp.get("attention_failures", 0), replace=False)
        for k in fails:
            att[k] = int(rng.choice([v for v in range(1, 8) if v not in ac["pass_values"]]))
        careless = np.flatnonzero(df["_kind"].to_numpy() == "careless")
        for k in careless:
            att[k] = int(rng.integers(1, 8))
        df[ac["column"]] = att
    df = df.drop(columns="_kind").iloc[rng.permutation(len(df))].reset_index(drop=True)
    df.insert(0, s2["id_column"], [f"R{k + 1:03d}" for k in range(len(df))])
    for i in items:
        df[i] = df[i].astype("Int64")
    return df


def make_study3(config: dict, model: MeasurementModel, rng: np.random.Generator) -> pd.DataFrame:
    pop, sp = config["population"], config["population"]["study3"]
    s3 = config["study3"]
    dims = config["second_order"]["dimensions"]
    n = sp["n"]
    g, f = _latent_dimensions(pop, dims, n, rng)
    comp = 0.2 * g + np.sqrt(1 - 0.04) * rng.standard_normal(n)
    industry_levels = next(v["levels"] for v in s3["variables"] if v["column"] == "industry")
    industry = rng.choice(
        industry_levels, size=n, p=[0.4, 0.4, 0.2][: len(industry_levels)] if len(industry_levels) == 3 else None
    )
    size = np.maximum(1, np.round(np.exp(np.log(150) + 1.1 * rng.standard_normal(n))))
    age = np.clip(np.round(np.exp(np.log(25) + 0.6 * rng.standard_normal(n))), 1, 250)
    z = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    eff = sp["effects"]
    systematic = (
        eff["crfm"] * g
        + eff["complexity"] * comp
        + eff["interaction"] * (g * comp)
        + eff.get("log_firm_size", 0.0) * z(np.log(size))
        + eff.get("firm_age", 0.0) * z(age)
    )
    r = 0.2
    var_sys = (
        eff["crfm"] ** 2
        + eff["complexity"] ** 2
        + 2 * r * eff["crfm"] * eff["complexity"]
        + eff["interaction"] ** 2 * (1 + r**2)
        + eff.get("log_firm_size", 0.0) ** 2
        + eff.get("firm_age", 0.0) ** 2
    )
    if var_sys >= 1:
        raise ValueError("population.study3.effects explain >= 100% of performance variance; lower them")
    perf = systematic + np.sqrt(1 - var_sys) * rng.standard_normal(n)
    method = rng.standard_normal(n)
    mload = sp.get("method_factor", 0.0)
    so = pop["second_order_loadings"]
    corr = lambda a, b: so.get(a, 0.7) * so.get(b, 0.7)  # noqa: E731
    data = {}
    for d in dims:
        data.update(_items(pop, model, d, f[d], f, corr, method, mload, rng, sp))
    data.update(_items(pop, model, s3["outcome"], perf, {}, corr, method, mload, rng, sp))
    for m in s3["moderators"]:
        data.update(_items(pop, model, m, comp, {}, corr, method, mload, rng, sp))
    if s3.get("marker"):
        marker_trait = rng.standard_normal(n)
        data.update(_items(pop, model, s3["marker"], marker_trait, {}, corr, method, 0.6 if mload else 0.0, rng, sp))
    items = list(data)
    df = pd.DataFrame(data)
    df["firm_size"] = size
    df["industry"] = industry
    df["firm_age"] = age
    df = _plant_careless(df, items, sp, rng)
    kinds = df["_kind"].to_numpy()
    for k in np.flatnonzero(kinds != "valid"):
        donor = int(rng.integers(n))
        for col in ("firm_size", "industry", "firm_age"):
            df.loc[k, col] = df.loc[donor, col]
    df = df.drop(columns="_kind").iloc[rng.permutation(len(df))].reset_index(drop=True)
    df.insert(0, s3["id_column"], [f"F{k + 1:03d}" for k in range(len(df))])
    for i in items:
        df[i] = df[i].astype("Int64")
    for col in ("firm_size", "firm_age"):
        df[col] = df[col].astype(float).astype("Int64")
    return df


# --- Driver ---------------------------------------------------------------------------------------


def generate(config: dict, model: MeasurementModel, out_dir, codebook_path=None) -> dict[str, Path]:
    """Write every synthetic raw input and the manifest; return the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed = config["population"]["seed"]
    written = {}
    if "study1" in config:
        codebook = pd.read_csv(codebook_path or config["study1"]["codebook"], dtype=str, keep_default_na=False)
        interviews, segments = make_study1(config, codebook, rng_for(seed, STREAMS["study1"]))
        pop1 = config["population"]["study1"]
        segments = add_intensity(
            segments, pop1.get("intensity"), pop1["coders"][0], rng_for(seed, STREAMS["study1_intensity"])
        )
        for key, df in (("study1_interviews", interviews), ("study1_segments", segments)):
            p = out / FILES[key]
            p.write_bytes(_csv_bytes(df))
            written[key] = p
        from crfm.data.qdpx import write_qdpx

        p = out / FILES["study1_qdpx"]
        write_qdpx(
            segments,
            codebook,
            p,
            project_name="crfm-pipeline Study 1 coding (SYNTHETIC)",
            description=SYNTHETIC_NOTE,
        )
        written["study1_qdpx"] = p
    if "study2" in config:
        p = out / FILES["study2_survey"]
        p.write_bytes(_csv_bytes(make_study2(config, model, rng_for(seed, STREAMS["study2"]))))
        written["study2_survey"] = p
    if "study3" in config:
        p = out / FILES["study3_survey"]
        p.write_bytes(_csv_bytes(make_study3(config, model, rng_for(seed, STREAMS["study3"]))))
        written["study3_survey"] = p
    manifest = {
        "synthetic": True,
        "note": SYNTHETIC_NOTE,
        "generator": GENERATOR,
        "population_seed": seed,
        "how_to_regenerate": "python -m crfm.data.synth --config config/config.yaml --out resources/raw",
        "files": {p.name: sha256_file(p) for p in sorted(written.values())},
    }
    (out / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=True), encoding="utf-8")
    return written


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--schema", default="workflow/schemas/config.schema.yaml")
    ap.add_argument("--out", default="resources/raw")
    args = ap.parse_args(argv)
    config, model = load_config(args.config, args.schema)
    for key, p in generate(config, model, args.out).items():
        print(f"wrote {p}  ({key})")


if __name__ == "__main__":
    main()
