"""End-to-end throughput against the bare-extraction ceiling, and memory of every process.

Usage: python -m bench.bench_pipeline [--documents N] [--runs N] [--workdir DIR]

1. Generates N distinct realistic pages (bench/corpus_gen.py).
2. Ceiling: bare `trafilatura.bare_extraction` with the parser's options, on the same page
   and URL the parser gets, in a process pool with one worker per core: documents/s on up to
   3,000 of the pages, right before step 3 and again right after it; the ratio is taken
   against the mean of the two.
3. `akhbar up --replay DIR --until-idle --parsers <cores>` with a fresh embedded server:
   documents/s over the wall time of the run, peak RSS and CPU time of every process
   (sampled from /proc every 0.5 s, children included, `bench/procs.py`), the whole
   machine's busy time, and the parsers' RSS at the start and the end.
4. With `--runs N`, repeats step 3 on the same pages, measuring the ceiling again after
   each run, and pools the runs: their mean throughput against the mean of every ceiling.
5. Prints a Markdown report with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import profiles
from bench.corpus_gen import generate
from bench.procs import SERVICES, TreeWatcher, descendants, machine_cpu
from services.parser.extract import trafilatura_options


def _extract_file(path: str) -> int:
    """Bare trafilatura with the parser's options, on the page and the URL the parser gets."""
    import trafilatura

    page = Path(path)
    found = trafilatura.bare_extraction(
        page.read_text(encoding="utf-8"),
        url=page.resolve().as_uri(),  # what `akhbar replay` gives as the document's URL
        **trafilatura_options(),
    )
    if found is None:
        return 0
    text = found.get("text") if isinstance(found, dict) else found.text
    return len(text or "")


def ceiling(pages: list[Path], workers: int) -> float:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_extract_file, [str(p) for p in pages[:workers]]))  # warm the workers
        started = time.perf_counter()
        list(pool.map(_extract_file, [str(p) for p in pages], chunksize=16))
        return len(pages) / (time.perf_counter() - started)


# The ceiling is measured on the same pages right before and right after the pipeline:
# shared machines drift by several percent within minutes, and two short windows next to
# the run bracket its speed more closely than one long one.
CEILING_PAGES = 3000
# Profiles start once the services have loaded and the pipeline is flowing.
PROFILE_AFTER = 8.0
SAMPLE_SECONDS = 0.5


def run_pipeline(
    folder: Path,
    workdir: Path,
    parsers: int,
    profile: Path | None = None,
    profile_seconds: int = 20,
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKHBAR_")}
    env["AKHBAR_LOG_LEVEL"] = "WARNING"
    command = [
        str(Path(sys.executable).with_name("akhbar")),
        "up",
        "--replay",
        str(folder),
        "--until-idle",
        "--parsers",
        str(parsers),
    ]
    profilers: list[subprocess.Popen[bytes]] = []
    machine_before = machine_cpu()
    own_before = time.process_time()
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, text=True) as up:
        watcher = TreeWatcher(up.pid)
        while up.poll() is None:
            watcher.sample()
            if profile and not profilers and time.perf_counter() - started > PROFILE_AFTER:
                profilers = [
                    profiles.start(pid, name, profile, profile_seconds)
                    for pid, (_, name) in descendants(up.pid).items()
                    if name in SERVICES
                ]
            time.sleep(SAMPLE_SECONDS)
        output = up.stdout.read() if up.stdout else ""
    elapsed = time.perf_counter() - started
    watching = time.process_time() - own_before
    machine_after = machine_cpu()
    for profiler in profilers:
        profiler.wait()
    ticks = machine_after[0] - machine_before[0]
    busy = 1 - (machine_after[1] - machine_before[1]) / ticks if ticks else 0.0
    # Growth from a tenth of the way in (imports and first pages done) to the end.
    growth = [s[-1] - s[len(s) // 10] for s in watcher.rss.values() if len(s) >= 10]
    return {
        "cpu": watcher.cpu_by_role(),
        "elapsed": elapsed,
        # Busy share of every core of the machine during the run, and the CPU this script
        # spent watching it.
        "machine_busy": busy,
        "watching": watching,
        "output": output,
        "peaks": dict(watcher.peaks),
        "parser_growth": growth,
        "code": up.returncode,
    }


def _clear_state(workdir: Path) -> None:
    # A reused --workdir keeps its pages, not the last run's corpus and server state: against
    # those, every page would be a duplicate, which costs the store less than storing it.
    for state in (workdir / "corpus", workdir / ".akhbar"):
        shutil.rmtree(state, ignore_errors=True)


def _against_ceilings(rate: float, before: float, after: float) -> tuple[float, float, float]:
    """A run's ratio to the mean of the ceilings around it, and its lowest and highest
    against each of them."""
    low, high = sorted((rate / before, rate / after))
    return rate / ((before + after) / 2), low, high


def _report_runs(rates: list[float], ceilings: list[float], cores: int, sample: int) -> None:
    """Each run against the ceilings right before and after it; several runs pooled."""
    if len(rates) == 1:
        rate, (before, after) = rates[0], ceilings
        print(
            f"| bare extraction, {cores} processes, {sample} of the pages, right before the "
            f"pipeline | {before:.1f} documents/s |"
        )
        print(f"| the same, right after it | {after:.1f} documents/s |")
        print(
            f"| `akhbar up --until-idle --parsers {cores}` (wall time, startup included) | "
            f"{rate:.1f} documents/s |"
        )
        ratio, low, high = _against_ceilings(rate, before, after)
        print(
            f"| ratio (to the mean of the two ceilings) | {ratio:.2f} "
            f"({low:.2f} to {high:.2f} against each) |"
        )
        return
    print(
        f"Ceiling: bare extraction, {cores} processes, {sample} of the pages, right before "
        "the first run and right after each.\n"
    )
    print(
        "| run | ceiling before / after (documents/s) | `akhbar up` (documents/s) "
        "| ratio to the mean (to each) |\n| --- | --- | --- | --- |"
    )
    ratios = []
    for index, rate in enumerate(rates):
        before, after = ceilings[index], ceilings[index + 1]
        ratio, low, high = _against_ceilings(rate, before, after)
        ratios.append(ratio)
        print(
            f"| {index + 1} | {before:.1f} / {after:.1f} | {rate:.1f} | {ratio:.2f} "
            f"({low:.2f} to {high:.2f}) |"
        )
    pooled = (sum(rates) / len(rates)) / (sum(ceilings) / len(ceilings))
    print(
        f"\nPooled: the runs' mean throughput against the mean of all {len(ceilings)} "
        f"ceilings, **{pooled:.2f}**; median of the runs' ratios {statistics.median(ratios):.2f}."
    )


def _report_run(run: dict[str, Any], documents: int, cores: int) -> None:
    """One run's memory and CPU rows, and what `akhbar up` printed."""
    for name, kb in sorted(run["peaks"].items()):
        print(f"| peak RSS {name} | {kb / 1024:.0f} MiB |")
    cpu_total = sum(run["cpu"].values())
    for name, seconds in sorted(run["cpu"].items()):
        print(
            f"| CPU {name} | {seconds:.1f} s ({100 * seconds / cpu_total:.0f}%, "
            f"{1000 * seconds / documents:.1f} ms/document) |"
        )
    machine = float(run["machine_busy"]) * float(run["elapsed"]) * cores
    watching = float(run["watching"])
    print(
        f"| CPU, whole machine during the run | {machine:.1f} s "
        f"({100 * float(run['machine_busy']):.0f}% of {cores} cores busy, "
        f"{1000 * machine / documents:.1f} ms/document) |"
    )
    print(f"| CPU, this script watching the run | {watching:.1f} s |")
    print(
        f"| CPU not attributed (the kernel's own work, anything else running) | "
        f"{machine - cpu_total - watching:.1f} s |"
    )
    growth = run["parser_growth"]
    if growth:
        print(
            f"| parser RSS growth, 10% of the run to its end | {round(max(growth) / 1024)} MiB "
            "(largest replica) |"
        )
    print(f"\nexit code {run['code']}; summary:\n```\n{run['output'].strip()}\n```")
    stored = re.search(r"^\s*stored\s+(\d+)", str(run["output"]), re.MULTILINE)
    if not stored or int(stored.group(1)) != documents:
        print(
            f"\n**Not every page was stored** ({stored.group(1) if stored else 'no'} of "
            f"{documents}): the run does not measure the whole pipeline."
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Run the pipeline this many times on the same pages, with the ceiling measured "
        "before the first and after each; the report pools them.",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="Sample each service with py-spy into this folder and report its hottest "
        "functions (sampling slows the run a little: take throughput from a run without).",
    )
    parser.add_argument("--profile-seconds", type=int, default=20)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.profile and not profiles.available():
        parser.error("--profile needs py-spy: pip install -e '.[bench]'")
    cores = os.cpu_count() or 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="akhbar-bench-"))
    _clear_state(workdir)
    folder = workdir / "pages"
    origin = generate(folder, args.documents)
    pages = sorted(folder.glob("*.html"))
    size = sum(p.stat().st_size for p in pages) / len(pages)
    sample = pages[:CEILING_PAGES]
    ceilings = [ceiling(sample, cores)]
    runs: list[dict[str, Any]] = []
    for index in range(args.runs):
        _clear_state(workdir)
        # Only the first run is profiled: the others measure throughput undisturbed.
        profile = args.profile if index == 0 else None
        runs.append(run_pipeline(folder, workdir, cores, profile, args.profile_seconds))
        ceilings.append(ceiling(sample, cores))
    rates = [args.documents / float(run["elapsed"]) for run in runs]
    print(f"## Pipeline benchmark ({args.documents} pages)\n")
    print(
        f"- machine: {platform.processor() or platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"- pages: {origin}; mean size {size / 1024:.0f} KiB")
    runs_flag = f" --runs {args.runs}" if args.runs > 1 else ""
    print(f"- command: `python -m bench.bench_pipeline --documents {args.documents}{runs_flag}`\n")
    if len(runs) == 1:
        print("| measure | value |\n| --- | --- |")
        _report_runs(rates, ceilings, cores, len(sample))
        _report_run(runs[0], args.documents, cores)
    else:
        _report_runs(rates, ceilings, cores, len(sample))
        for index, run in enumerate(runs):
            print(f"\n### Run {index + 1}\n\n| measure | value |\n| --- | --- |")
            _report_run(run, args.documents, cores)
    if args.profile:
        print(f"\n### Where the time goes ({args.profile_seconds} s of py-spy samples)\n")
        print(profiles.report(args.profile, list(SERVICES)))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
