"""The pipeline benchmark's report: each run against its own ceilings, several runs pooled."""

from __future__ import annotations

import pytest

from bench.bench_pipeline import _report_runs


def test_one_run_is_set_against_the_mean_of_its_two_ceilings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _report_runs([80.0], [90.0, 110.0], cores=2, sample=3000)
    out = capsys.readouterr().out
    assert "| ratio (to the mean of the two ceilings) | 0.80 (0.73 to 0.89 against each) |" in out


def test_runs_are_pooled_against_every_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    # Ceilings 90, 100, 80, 90: run 2 sits between 100 and 80; all four average 90.
    _report_runs([72.0, 81.0, 76.5], [90.0, 100.0, 80.0, 90.0], cores=2, sample=3000)
    out = capsys.readouterr().out
    assert "| 1 | 90.0 / 100.0 | 72.0 | 0.76 (0.72 to 0.80) |" in out
    assert "| 2 | 100.0 / 80.0 | 81.0 | 0.90 (0.81 to 1.01) |" in out
    assert "| 3 | 80.0 / 90.0 | 76.5 | 0.90 (0.85 to 0.96) |" in out
    assert "mean of all 4 ceilings, **0.85**; median of the runs' ratios 0.90." in out
