"""A parser killed with SIGKILL leaves no extraction process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_up import alive, descendants

SCRIPT = """
import asyncio, sys, time
from services.parser.pool import WorkerPool
from tests.parser.pool_dependency import where_imported

async def main():
    pool = WorkerPool(where_imported)
    found = await pool.run(["<p>x</p>"])
    print("ready" if found else "nothing", flush=True)
    time.sleep(300)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_extraction_processes_die_with_a_killed_parser(tmp_path: Path) -> None:
    script = tmp_path / "parser_like.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
    ) as parser:
        assert parser.stdout is not None
        assert parser.stdout.readline().strip() == "ready"
        helpers = descendants(parser.pid)
        assert len(helpers) >= 2  # the forkserver and its worker (and a resource tracker)
        parser.send_signal(signal.SIGKILL)
        parser.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(helpers):
        time.sleep(0.1)
    assert not alive(helpers)
