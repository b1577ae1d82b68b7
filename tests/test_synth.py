"""The shipped raw inputs are exactly the generator's output, and say they are synthetic."""

from __future__ import annotations

import pandas as pd
import yaml

from conftest import ROOT
from crfm.data.synth import FILES, generate
from crfm.data.tables import SYNTHETIC_NOTE


def test_regenerating_gives_the_shipped_bytes(tmp_path, config_and_model):
    config, model = config_and_model
    cfg = dict(config, study1=dict(config["study1"], codebook=str(ROOT / config["study1"]["codebook"])))
    generate(cfg, model, tmp_path)
    for name in list(FILES.values()) + ["manifest.yaml"]:
        shipped = (ROOT / "resources/raw" / name).read_bytes()
        assert (tmp_path / name).read_bytes() == shipped, f"{name} differs: rerun python -m crfm.data.synth"


def test_every_raw_file_says_synthetic():
    manifest = yaml.safe_load((ROOT / "resources/raw/manifest.yaml").read_text())
    assert manifest["synthetic"] is True
    for name in FILES.values():
        if name.endswith(".csv"):
            first = (ROOT / "resources/raw" / name).read_text().splitlines()[0]
            assert first == f"# {SYNTHETIC_NOTE}"
        assert name in manifest["files"]


def test_planted_features_are_there(config_and_model):
    """Weak items, blanks and careless respondents exist for later steps to handle."""
    config, model = config_and_model
    df = pd.read_csv(ROOT / "resources/raw/study2_survey.csv", comment=None, skiprows=1)
    items = model.items_of(config["study2"]["constructs"])
    assert df[items].isna().to_numpy().mean() > 0.01  # blanks
    straight = (df[items].nunique(axis=1) == 1).sum()
    assert straight >= config["population"]["study2"]["careless"]
    r = df[items].corr()
    # the planted low-loading items correlate weakly with their own construct's other items
    for weak, own in (("RCOM6", "RCOM"), ("RINT6", "RINT")):
        others = [i for i in model.constructs[own].items if i != weak]
        assert r.loc[weak, others].mean() < 0.3 < r.loc[others[0], others[1:]].mean()
