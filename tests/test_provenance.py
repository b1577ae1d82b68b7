"""crfm.report.provenance: hashes, versions and git commit; deterministic, never fails for want of git."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from crfm.data.config import config_hash
from crfm.report.provenance import collect_provenance, git_info, package_versions, sha256_file, write_provenance


def test_sha256_of_a_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"a,b\n1,2\n" * 100_000)
    assert sha256_file(p, chunk=4096) == hashlib.sha256(p.read_bytes()).hexdigest()


def test_no_git_repository_gives_null(tmp_path):
    assert git_info(tmp_path) == {"commit": None, "dirty": None}


def test_no_git_executable_gives_null(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path
    assert git_info(tmp_path) == {"commit": None, "dirty": None}


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_commit_and_dirty_flag(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("1")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "one")
    info = git_info(tmp_path)
    assert len(info["commit"]) == 40 and info["dirty"] is False
    (tmp_path / "f.txt").write_text("2")
    assert git_info(tmp_path)["dirty"] is True
    # a workflow copied into a subfolder of some other repository is not that repository's commit
    (tmp_path / "sub").mkdir()
    assert git_info(tmp_path / "sub") == {"commit": None, "dirty": None}


def test_provenance_is_deterministic_and_complete(tmp_path, config_and_model):
    config, _ = config_and_model
    raw = tmp_path / "raw.csv"
    raw.write_text("x\n1\n")
    out = tmp_path / "table.csv"
    out.write_text("y\n2\n")
    a = collect_provenance(config, [raw, raw], [out], repo_dir=tmp_path, synthetic=True)
    b = collect_provenance(config, [raw], [out], repo_dir=tmp_path, synthetic=True)
    assert a == b
    assert a["config_hash"] == config_hash(config)
    assert a["raw_inputs"] == {raw.as_posix(): sha256_file(raw)}
    assert a["git"] == {"commit": None, "dirty": None}
    assert a["snakemake"] == package_versions()["snakemake"]
    assert a["key_packages"]["xhtml2pdf"] and a["key_packages"]["pandas"]
    assert a["key_packages"]["crfm"] == __import__("crfm").__version__  # even when run from src/
    assert a["python"]["version"].count(".") == 2 and a["platform"]["system"]
    write_provenance(a, tmp_path / "p1.json")
    write_provenance(b, tmp_path / "p2.json")
    assert (tmp_path / "p1.json").read_bytes() == (tmp_path / "p2.json").read_bytes()
    text = (tmp_path / "p1.json").read_text()
    assert "time" not in json.loads(text)  # nothing that changes between runs
