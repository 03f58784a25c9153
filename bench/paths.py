"""Where the benchmarks and evaluations find their inputs and keep their results."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# Publishers' content beside the clone (never inside it): read at run time, never copied.
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
BASELINES = ROOT / "bench" / "baselines"
