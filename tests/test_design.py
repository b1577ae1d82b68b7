"""Monte Carlo design analysis: shard invariance, failures recorded not raised, HC3 by hand, and the
workflow's scatter count changing no number."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import copy_workflow, snakemake
from crfm.studies import design
from crfm.errors import AnalysisError


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


def test_results_do_not_depend_on_the_shard_count(small):
    cfg, model = small
    one = design.run_shard(cfg, model, 0, 1)
    three = pd.concat([design.run_shard(cfg, model, s, 3) for s in range(3)], ignore_index=True)
    pd.testing.assert_frame_equal(one, three)
    assert one["replicate"].tolist() == list(range(6))
    assert set(one["interaction"]) == {0.0, 0.2}


def test_a_failed_cfa_is_recorded_and_the_shard_goes_on(small, monkeypatch):
    cfg, model = small
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


def test_hc3_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(80), rng.standard_normal((80, 3))])
    y = X @ [1, 0.5, -0.2, 0.1] + rng.standard_normal(80) * (1 + np.abs(X[:, 1]))
    b, se, dfr = design.ols_hc3(X, y)
    ref = sm.OLS(y, X).fit(cov_type="HC3")
    np.testing.assert_allclose(b, ref.params, rtol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-10)
    assert dfr == 76


@pytest.mark.e2e
def test_workflow_scatter_count_changes_no_number(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({"design": {"size": "tiny", "sizes": {"tiny": {"replications": 4, "n": [120], "interaction": [0.15]}}}}))
    tables = ["results/default/tables/design_power.csv", "results/default/tables/design_recovery.csv", "results/default/tables/design_convergence.csv"]
    res = snakemake(wf, "design", "--cores", "2", "--configfile", str(cfg))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    first = {t: (wf / t).read_bytes() for t in tables}
    res = snakemake(wf, "design", "--cores", "2", "--configfile", str(cfg), "--set-scatter", "design=3", "--forcerun", "design_shard")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert len(list((wf / "results/default/design").glob("shard_*-of-3.csv"))) == 3
    for t in tables:
        assert (wf / t).read_bytes() == first[t], t
