"""The quality gate: baselines as bounds on named figures, and the results kept as data."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from bench import gate
from bench.gate import Baseline, BaselineError

EVALUATIONS = ("eval_extract", "eval_dedup", "eval_feeds")


def baseline(minimum: dict[str, float], maximum: dict[str, float] | None = None) -> Baseline:
    return Baseline.from_dict(
        {"evaluation": "x", "why": "test", "minimum": minimum, "maximum": maximum or {}}
    )


def test_a_figure_below_its_minimum_falls_short() -> None:
    bounds = baseline({"f1": 0.95, "pairs": 700})
    assert bounds.shortfalls({"f1": 0.9499, "pairs": 700}) == [
        "f1 = 0.9499 is below the baseline minimum 0.95"
    ]


def test_figures_at_or_above_their_minimum_pass() -> None:
    bounds = baseline({"f1": 0.95, "pairs": 700})
    assert bounds.shortfalls({"f1": 0.95, "pairs": 700}) == []
    assert bounds.shortfalls({"f1": 1.0, "pairs": 732, "unbounded": 0.0}) == []


def test_a_figure_above_its_maximum_falls_short() -> None:
    bounds = baseline({}, {"crashed": 0})
    assert bounds.shortfalls({"crashed": 0}) == []
    assert bounds.shortfalls({"crashed": 1}) == ["crashed = 1 is above the baseline maximum 0"]


def test_a_missing_or_nan_figure_falls_short() -> None:
    bounds = baseline({"recall": 0.99}, {"crashed": 0})
    assert bounds.shortfalls({}) == [
        "recall: missing from the results",
        "crashed: missing from the results",
    ]
    assert bounds.shortfalls({"recall": math.nan, "crashed": 0}) == ["recall = nan is not a number"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"evaluation": "x", "why": "w", "minimum": {"f1": 0.9}, "minimun": {}}, "unknown keys"),
        ({"evaluation": "x", "minimum": {"f1": 0.9}}, "says why"),
        ({"evaluation": "x", "why": "w"}, "at least one figure"),
        ({"evaluation": "x", "why": "w", "minimum": {"f1": "0.9"}}, "not a number"),
        ({"evaluation": "x", "why": "w", "minimum": {"ok": True}}, "not a number"),
        ({"evaluation": "x", "why": "w", "minimum": [0.9]}, "maps figure names"),
    ],
)
def test_a_malformed_baseline_is_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(BaselineError, match=message):
        Baseline.from_dict(data)


def run_finish(tmp_path: Path, minimum: dict[str, float], figures: dict[str, float]) -> int:
    bounds = tmp_path / "baseline.json"
    bounds.write_text(json.dumps({"evaluation": "x", "why": "test", "minimum": minimum}))
    parser = argparse.ArgumentParser()
    gate.add_arguments(parser, "x")
    args = parser.parse_args(
        ["--check", "--baseline", str(bounds), "--results", str(tmp_path / "x.json")]
    )
    return gate.finish(args, "x", figures, {"per_page": {"a": 1}}, ["pytest"])


def test_the_check_exits_1_on_a_shortfall_and_keeps_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_finish(tmp_path, {"f1": 0.95}, {"f1": 0.9}) == 1
    assert "SHORT OF THE BASELINE: f1 = 0.9 is below the baseline minimum 0.95" in (
        capsys.readouterr().out
    )
    written = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert written["figures"] == {"f1": 0.9}
    assert written["details"] == {"per_page": {"a": 1}}
    assert written["machine"]["packages"]["pytest"]
    assert written["machine"]["cores"] >= 1
    assert written["date"].endswith("+00:00")
    assert run_finish(tmp_path, {"f1": 0.9}, {"f1": 0.9}) == 0


@pytest.mark.parametrize("evaluation", EVALUATIONS)
def test_the_recorded_results_meet_their_pinned_baseline(evaluation: str) -> None:
    bounds = Baseline.load(gate.baseline_path(evaluation))
    assert bounds.evaluation == evaluation
    assert bounds.shortfalls(gate.read_figures(gate.results_path(evaluation))) == []
