"""CPU attribution of the pipeline benchmark's process watcher."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.procs import Seen, TreeWatcher, cpu_by_role


def test_live_processes_count_their_own_time() -> None:
    seen = {
        1: Seen("up", 0, own=1.0, last_scan=9),
        2: Seen("store", 1, own=2.0, last_scan=9),
    }
    assert cpu_by_role(seen) == {"up": 1.0, "store": 2.0}


def test_a_reaped_worker_counts_in_full_once_through_its_forkserver() -> None:
    # The worker used 5.0 s; the watcher read 4.5 of them before it exited.
    seen = {
        10: Seen("parser-helper", 2, own=0.5, children=5.0, last_scan=9),
        11: Seen("parser-helper", 10, own=4.5, last_scan=6),
        12: Seen("parser-helper", 10, own=3.0, last_scan=9),
    }
    assert cpu_by_role(seen)["parser-helper"] == pytest.approx(0.5 + 5.0 + 3.0)


def test_a_reaped_process_of_another_role_keeps_its_time_under_its_role() -> None:
    # The parser service reaped its forkserver (own 1.0, its reaped workers 5.0 by the last
    # reading; 1.2 and 6.0 in the end, all of it in the service's children time).
    seen = {
        2: Seen("parser", 1, own=0.7, children=7.2, last_scan=9),
        10: Seen("parser-helper", 2, own=1.0, children=5.0, last_scan=6),
    }
    by_role = cpu_by_role(seen)
    assert by_role["parser-helper"] == pytest.approx(6.0)
    assert by_role["parser"] == pytest.approx(0.7 + 1.2)
    assert sum(by_role.values()) == pytest.approx(0.7 + 7.2)


def test_a_process_seen_until_its_parents_last_reading_is_not_taken_as_reaped() -> None:
    seen = {
        2: Seen("parser", 1, own=0.7, children=0.0, last_scan=9),
        10: Seen("parser-helper", 2, own=1.0, children=5.0, last_scan=9),
    }
    assert cpu_by_role(seen) == {"parser": 0.7, "parser-helper": 6.0}


def test_an_orphan_is_not_taken_off_its_former_parents_time() -> None:
    # The parser service exited before its forkserver, which init took over; the service,
    # a zombie, was read again afterwards, its children time without the forkserver's.
    seen = {
        2: Seen("parser", 1, own=0.7, children=0.0, last_scan=9),
        10: Seen("parser-helper", 2, own=1.0, children=5.0, last_scan=6, orphaned=True),
    }
    assert cpu_by_role(seen) == {"parser": 0.7, "parser-helper": 6.0}


# A service that starts a helper and exits without reaping it; the root reaps the service
# only once the helper has done its work, so the watcher reads the exited service after its
# helper changed parent. The helper says it is done through a file, not a clock: on a loaded
# machine its 0.6 s of CPU can take far longer than 0.6 s.
_SERVICE = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1], "multiprocessing", "forkserver"])
time.sleep(0.3)
"""
_HELPER = """
import os, time
end = time.process_time() + 0.6
while time.process_time() < end:
    pass
open(os.environ["HELPER_DONE"], "w").close()
time.sleep(0.3)
"""
_ROOT = """
import os, subprocess, sys, time
service = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1], sys.argv[2], "services.cli.main", "parser"]
)
deadline = time.monotonic() + 120
while not os.path.exists(os.environ["HELPER_DONE"]) and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.2)
service.wait()
"""


def test_the_watcher_follows_a_process_whose_parent_exited_first(tmp_path: Path) -> None:
    env = {**os.environ, "HELPER_DONE": str(tmp_path / "done")}
    root = subprocess.Popen([sys.executable, "-c", _ROOT, _SERVICE, _HELPER], env=env)
    watcher = TreeWatcher(root.pid)
    while root.poll() is None:
        watcher.sample()
        time.sleep(0.02)
    assert (tmp_path / "done").exists()
    by_role = watcher.cpu_by_role()
    assert by_role["parser"] >= 0, by_role
    # Read until it exited: all but its last moments.
    assert by_role["parser-helper"] >= 0.5


# A service that forks a worker which never execs, like a forkserver's workers.
_FORKING_SERVICE = """
import os, time
time.sleep(0.2)
if os.fork() == 0:
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    os._exit(0)
os.wait()
"""


def test_a_fork_that_never_execs_counts_under_its_parents_role() -> None:
    service = subprocess.Popen(
        [sys.executable, "-c", _FORKING_SERVICE, "services.cli.main", "store"]
    )
    watcher = TreeWatcher(os.getpid())
    while service.poll() is None:
        watcher.sample()
        time.sleep(0.02)
    by_role = watcher.cpu_by_role()
    assert by_role["store"] >= 0.25, by_role
    assert by_role.get("other", 0.0) < 0.1, by_role
