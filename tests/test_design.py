"""Monte Carlo design analysis: shard invariance, failures recorded not raised, HC3 by hand, and the
workflow's scatter count changing no number."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import copy_workflow, snakemake
from crfm.errors import AnalysisError
from crfm.studies import design


@pytest.fixture
def small(config_and_model):
    config, model = config_and_model
    cfg = copy.deepcopy(config)
    cfg["design"]["sizes"]["tiny"] = {"replications": 3, "n": [120], "interaction": [0.0, 0.2]}
    cfg["design"]["size"] = "tiny"
    return cfg, model


def test_shard_ranges_partition_the_replications():
    for total in (0, 1, 7, 200):
        for k in (1, 2, 3, 8):
            ranges = [design.shard_range(total, s, k) for s in range(k)]
            assert [i for a, b in ranges for i in range(a, b)] == list(range(total))


def test_shards_take_the_same_slice_of_every_cell():
    """Every replication in exactly one shard; each shard holds its share of every cell (so the
    shards of a grid ordered by n cost alike)."""
    for cells, R, k in ((4, 7, 3), (20, 1000, 2), (2, 3, 5)):
        parts = [design.shard_replicates(cells, R, s, k) for s in range(k)]
        flat = sorted(i for p in parts for _, reps in p for i in reps)
        assert flat == list(range(cells * R))
        for p in parts:
            assert all(len(reps) in (R // k, R // k + 1) for _, reps in p)
            assert {c for c, _ in p} == (set(range(cells)) if p else set())


def test_results_do_not_depend_on_the_shard_count(small):
    cfg, model = small
    one = design.run_shard(cfg, model, 0, 1)
    three = pd.concat([design.run_shard(cfg, model, s, 3) for s in range(3)], ignore_index=True)
    three = three.sort_values("replicate", ignore_index=True)
    pd.testing.assert_frame_equal(one, three)
    assert one["replicate"].tolist() == list(range(6))
    assert set(one["interaction"]) == {0.0, 0.2}


def test_a_failed_cfa_is_recorded_and_the_shard_goes_on(small, monkeypatch):
    cfg, model = small
    cfg["design"]["missing_rate"] = 0.05  # one fit per replication (FIML): the path that can raise
    import crfm.stats.cfa

    real = crfm.stats.cfa.fit_cfa
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise AnalysisError("cfa: the model did not converge (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(crfm.stats.cfa, "fit_cfa", flaky)
    reps = design.run_shard(cfg, model, 0, 1)
    assert len(reps) == 6
    bad = reps[~reps["cfa_converged"].astype(bool)]
    assert len(bad) == 1 and "did not converge" in bad["cfa_error"].iloc[0]
    assert reps["p_interaction"].notna().all()  # the regression half still ran
    conv = design.summarise(reps)["convergence"]
    assert conv["non_converged"].sum() == pytest.approx(1 / 3)


def test_batched_cfa_equals_the_single_fit_path(small):
    """The batched estimator (vectorised Fisher scoring) and the single-fit path give the same
    standardized loadings and CIs (1e-6), fit indices and convergence / improper flags, on replications
    small enough (n = 25) that a third of the solutions are improper; both refuse n below the number of
    free parameters alike."""
    cfg, model = small
    sim = design.Simulator(cfg, model)
    z2, _, _ = sim.draws(25, range(60), 11)
    x = sim.study2(z2)
    batch = design._cfa_batch(sim, x)
    single = design._cfa_single(sim, x)
    ok = batch["cfa_error"].eq("") & single["cfa_error"].eq("")
    assert ok.sum() >= 55
    for col in ("cfa_converged", "cfa_proper"):
        assert batch.loc[ok, col].tolist() == single.loc[ok, col].tolist(), col
    both = ok & batch["cfa_converged"]
    for col in ("loading_bias", "loading_sq_error", "cfi", "rmsea", "srmr"):
        np.testing.assert_allclose(batch.loc[both, col], single.loc[both, col], rtol=0, atol=1e-6, err_msg=col)
    assert (batch.loc[both, "loading_coverage"] == single.loc[both, "loading_coverage"]).all()
    assert (~batch["cfa_proper"]).sum() >= 10, "few improper solutions: the flags were not exercised"
    z2, _, _ = sim.draws(20, range(3), 11)  # 20 cases, 21 free parameters
    for res in (design._cfa_batch(sim, sim.study2(z2)), design._cfa_single(sim, sim.study2(z2))):
        assert res["cfa_error"].str.contains("cases for 21 free parameters").all()


def test_fiml_recovers_the_loadings_under_mcar(small):
    """Parameter recovery of FIML under MCAR: with 10% of the answers blanked at random, the FIML CFA's
    standardized loadings are as close to the population as the complete-data fits of the same
    replications (the Likert discretisation, not the missing data, sets the bias) and their 95% CIs
    keep their coverage."""
    cfg, model = small
    cfg["design"]["sizes"]["tiny"] = {"replications": 40, "n": [300], "interaction": [0.15]}
    full = design.run_shard(cfg, model, 0, 1)
    cfg["design"]["missing_rate"] = 0.10
    fiml = design.run_shard(cfg, model, 0, 1)
    assert fiml["cfa_converged"].all() and (fiml["cfa_error"] == "").all()
    assert abs(fiml["loading_bias"].mean() - full["loading_bias"].mean()) < 0.01
    assert fiml["loading_coverage"].mean() >= 0.88
    # the same regressions: blanking Study 2 answers leaves Study 3's draws untouched
    pd.testing.assert_series_equal(fiml["b_crfm"], full["b_crfm"])


def test_block_size_changes_no_number(small):
    cfg, model = small
    a = design.run_shard(cfg, model, 0, 1)
    b = design.run_shard(cfg, model, 0, 1, block=1)
    pd.testing.assert_frame_equal(a, b)


def test_hc3_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(80), rng.standard_normal((80, 3))])
    y = X @ [1, 0.5, -0.2, 0.1] + rng.standard_normal(80) * (1 + np.abs(X[:, 1]))
    b, se, dfr = design.ols_hc3(X[None], y[None])
    ref = sm.OLS(y, X).fit(cov_type="HC3")
    np.testing.assert_allclose(b[0], ref.params, rtol=1e-10)
    np.testing.assert_allclose(se[0], ref.bse, rtol=1e-10)
    assert dfr == 76


@pytest.mark.e2e
def test_workflow_scatter_count_changes_no_number(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"design": {"size": "tiny", "sizes": {"tiny": {"replications": 4, "n": [120], "interaction": [0.15]}}}}
        )
    )
    tables = [
        "results/default/tables/design_power.csv",
        "results/default/tables/design_recovery.csv",
        "results/default/tables/design_convergence.csv",
    ]
    res = snakemake(wf, "design", "--cores", "2", "--configfile", str(cfg))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    first = {t: (wf / t).read_bytes() for t in tables}
    res = snakemake(
        wf,
        "design",
        "--cores",
        "2",
        "--configfile",
        str(cfg),
        "--set-scatter",
        "design=3",
        "--forcerun",
        "design_shard",
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert len(list((wf / "results/default/design").glob("shard_*-of-3.csv"))) == 3
    for t in tables:
        assert (wf / t).read_bytes() == first[t], t
