"""Evaluation results kept as data, and the gate that holds them to a pinned baseline.

An evaluation's figures (named numbers) are written to `bench/results/NAME.json` with the date
and the machine they were measured on. `bench/baselines/NAME.json` pins, for the figures that
matter, the least (`minimum`) or the most (`maximum`) acceptable value, and says in `why` how
the bounds were chosen. A figure past its bound, missing or not a number is a shortfall; the
gate fails on any.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.paths import BASELINES, RESULTS

Figures = Mapping[str, float]

_BASELINE_KEYS = {"evaluation", "why", "minimum", "maximum"}


class BaselineError(ValueError):
    """A baseline file that cannot be read as bounds on named figures."""


@dataclass(frozen=True)
class Baseline:
    """The least and most acceptable value of some of an evaluation's figures."""

    evaluation: str
    why: str
    minimum: Mapping[str, float]
    maximum: Mapping[str, float]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        unknown = set(data) - _BASELINE_KEYS
        if unknown:
            raise BaselineError(
                f"unknown keys {sorted(unknown)}; expected {sorted(_BASELINE_KEYS)}"
            )
        if not data.get("evaluation") or not data.get("why"):
            raise BaselineError("a baseline names its evaluation and says why (`why`)")
        bounds = {side: _bounds(data.get(side, {}), side) for side in ("minimum", "maximum")}
        if not bounds["minimum"] and not bounds["maximum"]:
            raise BaselineError("a baseline bounds at least one figure")
        return cls(str(data["evaluation"]), str(data["why"]), **bounds)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except BaselineError as exc:
            raise BaselineError(f"{path}: {exc}") from None

    def shortfalls(self, figures: Figures) -> list[str]:
        """One line for every bounded figure that is missing, not a number or past its bound."""
        found = []
        for name, least in self.minimum.items():
            problem = _problem(figures, name)
            if problem is None and not figures[name] >= least:
                problem = f"{name} = {figures[name]:g} is below the baseline minimum {least:g}"
            if problem:
                found.append(problem)
        for name, most in self.maximum.items():
            problem = _problem(figures, name)
            if problem is None and not figures[name] <= most:
                problem = f"{name} = {figures[name]:g} is above the baseline maximum {most:g}"
            if problem:
                found.append(problem)
        return found


def _bounds(raw: object, side: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise BaselineError(f"`{side}` maps figure names to numbers")
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise BaselineError(f"`{side}.{name}` is {value!r}, not a number")
    return {str(name): float(value) for name, value in raw.items()}


def _problem(figures: Figures, name: str) -> str | None:
    if name not in figures:
        return f"{name}: missing from the results"
    value = figures[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return f"{name} = {value!r} is not a number"
    return None


def baseline_path(evaluation: str) -> Path:
    return BASELINES / f"{evaluation}.json"


def results_path(evaluation: str) -> Path:
    return RESULTS / f"{evaluation}.json"


def machine(packages: Iterable[str] = ()) -> dict[str, Any]:
    """The machine and the software versions a set of figures was measured with."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "packages": versions,
    }


def write_results(
    path: Path,
    evaluation: str,
    figures: Figures,
    details: Mapping[str, Any],
    packages: Iterable[str] = (),
) -> None:
    document = {
        "evaluation": evaluation,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(packages),
        "figures": dict(figures),
        "details": dict(details),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


def read_figures(path: Path) -> dict[str, float]:
    figures: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))["figures"]
    return figures


def add_arguments(parser: argparse.ArgumentParser, evaluation: str) -> None:
    """The options every evaluation takes: where its results go, and whether to gate them."""
    parser.add_argument(
        "--results",
        type=Path,
        default=results_path(evaluation),
        help="write the figures as JSON here (default: %(default)s)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a figure falls short of the baseline"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=baseline_path(evaluation),
        help="the bounds --check holds the figures to (default: %(default)s)",
    )


def finish(
    args: argparse.Namespace,
    evaluation: str,
    figures: Figures,
    details: Mapping[str, Any],
    packages: Iterable[str] = (),
) -> int:
    """Write the results where `--results` says; with `--check`, the gate's exit code."""
    write_results(args.results, evaluation, figures, details, packages)
    print(f"\nresults written to {args.results}")
    if not args.check:
        return 0
    shortfalls = Baseline.load(args.baseline).shortfalls(figures)
    for line in shortfalls:
        print(f"SHORT OF THE BASELINE: {line}")
    if not shortfalls:
        print(f"every figure meets {args.baseline}")
    return 1 if shortfalls else 0
