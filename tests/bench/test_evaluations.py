"""The quality gates: each evaluation run afresh on ../shared/data and held to its baseline.

The evaluation data are publishers' content kept beside the repository, never in it. Where a
folder is missing the test is skipped with its path in the reason: nothing was checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import eval_dedup, eval_extract, eval_feeds, gate
from bench.paths import SHARED_DATA


def evaluation_data(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"evaluation data not found: {folder} is missing, so the gate did not run")
    return folder


def assert_meets_baseline(evaluation: str, figures: dict[str, float]) -> None:
    shortfalls = gate.Baseline.load(gate.baseline_path(evaluation)).shortfalls(figures)
    assert not shortfalls, f"{evaluation} fell short of its baseline: " + "; ".join(shortfalls)


def test_extraction_meets_its_baseline() -> None:
    evaluation_data(SHARED_DATA / eval_extract.ARABIC)
    evaluation_data(SHARED_DATA / eval_extract.NON_ARABIC)
    assert_meets_baseline("eval_extract", eval_extract.evaluate(SHARED_DATA).figures())


def test_dedup_meets_its_baseline() -> None:
    evaluation_data(SHARED_DATA / eval_dedup.ARABIC)
    assert_meets_baseline("eval_dedup", eval_dedup.evaluate(SHARED_DATA).figures())


async def test_feeds_meet_their_baseline() -> None:
    folder = evaluation_data(eval_feeds.DEFAULT_DIR)
    outcomes = await eval_feeds.evaluate(folder, eval_feeds.feed_files(folder))
    assert_meets_baseline("eval_feeds", eval_feeds.figures(outcomes))
