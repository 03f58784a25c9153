"""Sampling profiles of running services with py-spy, summarized as their hottest functions.

py-spy (`pip install -e '.[bench]'`) attaches to a process by pid and samples its Python
stacks without stopping it; `--gil` keeps only samples holding the GIL, so waiting is not
counted as work. Stacks are written in py-spy's raw (collapsed) format, one file per process,
and summarized per service: the share of samples whose innermost frame is each function.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# The extraction workers' stacks run under this frame; the parser's own work does not.
_WORKER_FRAME = "_process_worker"
_LINE = re.compile(r":\d+\)$")
_SITE = re.compile(r"\s*\((?:/[^()]*?/(?:site-packages|lib/python3\.\d+|main)/)?")


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")  # a venv's, without activating it
    return str(beside) if beside.exists() else shutil.which("py-spy")


def available() -> bool:
    return _py_spy() is not None


def start(pid: int, role: str, out_dir: Path, seconds: int) -> subprocess.Popen[bytes]:
    """Sample `pid` (and, for a parser, its extraction workers) for `seconds`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        _py_spy() or "py-spy",
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        "100",
        "--gil",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(out_dir / f"{role}-{pid}.txt"),
    ]
    if role == "parser":
        command.append("--subprocesses")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame(raw: str) -> str:
    """`function (path:line)` shortened to `function (module/file.py)`: lines of one function
    count together."""
    return _LINE.sub(")", _SITE.sub(" (", raw, count=1))


def hottest(files: list[Path], top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """Per part ("service", or "extraction worker" for a parser's workers): the functions
    most samples were in, with their share of that part's samples."""
    counts: dict[str, Counter[str]] = {}
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, number = line.rpartition(" ")
            if not stack or not number.isdigit():
                continue
            frames = stack.split(";")
            part = "extraction worker" if any(_WORKER_FRAME in f for f in frames) else "service"
            counts.setdefault(part, Counter())[_frame(frames[-1])] += int(number)
    result = {}
    for part, counter in counts.items():
        total = sum(counter.values())
        result[part] = [(name, n / total) for name, n in counter.most_common(top)]
    return result


def report(out_dir: Path, roles: list[str], top: int = 12) -> str:
    """Markdown: for each service, its hottest functions."""
    lines = []
    for role in roles:
        files = sorted(out_dir.glob(f"{role}-*.txt"))
        if not files:
            continue
        for part, rows in hottest(files, top).items():
            name = role if part == "service" else f"{role}: {part}"
            lines.append(f"\n**{name}** (share of samples holding the GIL)\n")
            lines.append("| function | share |\n| --- | ---: |")
            lines += [f"| `{fn}` | {share:.1%} |" for fn, share in rows]
    return "\n".join(lines)
