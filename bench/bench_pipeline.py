"""End-to-end throughput against the bare-extraction ceiling, and memory of every process.

Usage: python bench/bench_pipeline.py [--documents N] [--workdir DIR]

1. Generates N distinct realistic pages (bench/corpus_gen.py).
2. Ceiling: bare `trafilatura.bare_extraction` with the parser's options, on the same page
   and URL the parser gets, in a process pool with one worker per core: documents/s on up to
   3,000 of the pages, right before step 3 and again right after it; the ratio is taken
   against the mean of the two.
3. `akhbar up --replay DIR --until-idle --parsers <cores>` with a fresh embedded server:
   documents/s over the wall time of the run, peak RSS and CPU time of every process
   (sampled from /proc every 0.5 s, children included, `bench/procs.py`), the whole
   machine's busy time, and the parsers' RSS at the start and the end.
4. Prints a Markdown report with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import profiles  # noqa: E402
from bench.corpus_gen import generate  # noqa: E402
from bench.procs import SERVICES, TreeWatcher, descendants, machine_cpu  # noqa: E402
from services.parser.extract import trafilatura_options  # noqa: E402


def _extract_file(path: str) -> int:
    """Bare trafilatura with the parser's options, on the page and the URL the parser gets."""
    import trafilatura

    page = Path(path)
    found = trafilatura.bare_extraction(
        page.read_text(encoding="utf-8"),
        url=page.resolve().as_uri(),  # what `akhbar replay` gives as the document's URL
        **trafilatura_options(),
    )
    return len(found.text or "") if found else 0


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
) -> dict[str, object]:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="Sample each service with py-spy into this folder and report its hottest "
        "functions (sampling slows the run a little: take throughput from a run without).",
    )
    parser.add_argument("--profile-seconds", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="akhbar-bench-"))
    # A reused --workdir keeps its pages, not the last run's corpus and server state: against
    # those, every page would be a duplicate, which costs the store less than storing it.
    for state in (workdir / "corpus", workdir / ".akhbar"):
        shutil.rmtree(state, ignore_errors=True)
    folder = workdir / "pages"
    origin = generate(folder, args.documents)
    pages = sorted(folder.glob("*.html"))
    size = sum(p.stat().st_size for p in pages) / len(pages)
    sample = pages[:CEILING_PAGES]
    bare = ceiling(sample, cores)
    if args.profile and not profiles.available():
        parser.error("--profile needs py-spy: pip install -e '.[bench]'")
    run = run_pipeline(folder, workdir, cores, args.profile, args.profile_seconds)
    rate = args.documents / float(run["elapsed"])  # type: ignore[arg-type]
    bare_after = ceiling(sample, cores)
    bare_mean = (bare + bare_after) / 2
    print(f"## Pipeline benchmark ({args.documents} pages)\n")
    print(
        f"- machine: {platform.processor() or platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"- pages: {origin}; mean size {size / 1024:.0f} KiB")
    print(f"- command: `python bench/bench_pipeline.py --documents {args.documents}`\n")
    print("| measure | value |\n| --- | --- |")
    print(
        f"| bare extraction, {cores} processes, {len(sample)} of the pages, right before the "
        f"pipeline | {bare:.1f} documents/s |"
    )
    print(f"| the same, right after it | {bare_after:.1f} documents/s |")
    print(
        f"| `akhbar up --until-idle --parsers {cores}` (wall time, startup included) | "
        f"{rate:.1f} documents/s |"
    )
    low, high = sorted((rate / bare, rate / bare_after))
    print(
        f"| ratio (to the mean of the two ceilings) | {rate / bare_mean:.2f} "
        f"({low:.2f} to {high:.2f} against each) |"
    )
    for name, kb in sorted(run["peaks"].items()):  # type: ignore[attr-defined]
        print(f"| peak RSS {name} | {kb / 1024:.0f} MiB |")
    cpu_total = sum(run["cpu"].values())  # type: ignore[attr-defined]
    for name, seconds in sorted(run["cpu"].items()):  # type: ignore[attr-defined]
        print(
            f"| CPU {name} | {seconds:.1f} s ({100 * seconds / cpu_total:.0f}%, "
            f"{1000 * seconds / args.documents:.1f} ms/document) |"
        )
    machine = float(run["machine_busy"]) * float(run["elapsed"]) * cores  # type: ignore[arg-type]
    watching = float(run["watching"])  # type: ignore[arg-type]
    print(
        f"| CPU, whole machine during the run | {machine:.1f} s "
        f"({100 * float(run['machine_busy']):.0f}% of {cores} cores busy, "  # type: ignore[arg-type]
        f"{1000 * machine / args.documents:.1f} ms/document) |"
    )
    print(f"| CPU, this script watching the run | {watching:.1f} s |")
    print(
        f"| CPU not attributed (the kernel's own work, anything else running) | "
        f"{machine - cpu_total - watching:.1f} s |"
    )
    growth = run["parser_growth"]
    if growth:
        print(
            f"| parser RSS growth, 10% of the run to its end | {max(growth) / 1024:.0f} MiB "
            "(largest replica) |"
        )
    print(f"\nexit code {run['code']}; summary:\n```\n{run['output'].strip()}\n```")  # type: ignore[union-attr]
    stored = re.search(r"^\s*stored\s+(\d+)", str(run["output"]), re.MULTILINE)
    if not stored or int(stored.group(1)) != args.documents:
        print(
            f"\n**Not every page was stored** ({stored.group(1) if stored else 'no'} of "
            f"{args.documents}): the run does not measure the whole pipeline."
        )
    if args.profile:
        print(f"\n### Where the time goes ({args.profile_seconds} s of py-spy samples)\n")
        print(profiles.report(args.profile, list(SERVICES)))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
