"""edu_gen.checks: a claim keeps its bounds or fails, and logs its margin for the sweep."""
import json
import math

import pytest
import torch

from edu_gen.checks import claim, holds, margin


def test_margin_is_the_distance_to_the_nearest_bound():
    assert margin(3.0, above=1.0, below=10.0) == 2.0
    assert margin(9.5, at_least=1.0, at_most=10.0) == 0.5
    assert margin(11.0, below=10.0) == -1.0


def test_strict_bounds_fail_on_equality_inclusive_ones_do_not():
    assert not holds(1.0, above=1.0) and holds(1.0, at_least=1.0)
    assert not holds(10.0, below=10.0) and holds(10.0, at_most=10.0)
    with pytest.raises(AssertionError):
        claim("equal to a strict bound", 100, below=100)
    assert claim("equal to an inclusive bound", 100, at_most=100) == 100


def test_claim_fails_with_the_claim_in_its_message(capsys):
    with pytest.raises(AssertionError, match="distinct samples"):
        claim("distinct samples", 189, below=100)
    assert "FAILED" in capsys.readouterr().out


def test_nan_never_passes():
    with pytest.raises(AssertionError):
        claim("a loss", math.nan, below=1.0)
    with pytest.raises(AssertionError):
        claim("a loss", float("nan"), above=-1.0)


def test_claim_needs_a_bound():
    with pytest.raises(ValueError, match="at least one bound"):
        claim("nothing to check", 1.0)


def test_claim_takes_tensors_and_logs_one_line_per_claim(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("EDU_GEN_CHECK_LOG", str(log))
    monkeypatch.setenv("EDU_GEN_NOTEBOOK", "book/x.ipynb")
    claim("rate", torch.tensor(0.05), below=0.1)
    with pytest.raises(AssertionError):
        claim("units", 2, at_most=1)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["claim"] for r in rows] == ["rate", "units"]
    assert rows[0]["notebook"] == "book/x.ipynb" and rows[0]["ok"] and rows[0]["below"] == 0.1
    assert abs(rows[0]["margin"] - 0.05) < 1e-6
    assert not rows[1]["ok"] and rows[1]["margin"] == -1.0


def test_soft_mode_logs_a_broken_claim_without_raising(tmp_path, monkeypatch, capsys):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("EDU_GEN_CHECK_LOG", str(log))
    monkeypatch.setenv("EDU_GEN_CHECK_SOFT", "1")
    assert claim("units", 2, at_most=1) == 2
    assert "FAILED" in capsys.readouterr().out
    assert not json.loads(log.read_text())["ok"]
