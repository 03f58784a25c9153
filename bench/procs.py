"""A process tree watched through /proc: each process's role, peak RSS and CPU time.

The watcher walks the tree from its root through `/proc/PID/task/TID/children` instead of
reading every process on the machine, so watching costs the run under test little (a full
scan every 0.2 s took about 1% of the two cores of the benchmark machine).

CPU time: a process's own time is read while it lives; once it has exited and its parent has
reaped it, its whole time shows in the parent's `cutime`/`cstime`, so the extraction workers
replaced during a run are counted in full through the forkserver that reaped them. A process
that leaves the tree without being reaped (its parent exited first, so it was handed to init)
is followed on its own until it exits: its time is not in any watched parent's.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from services.parser.pool import resident_bytes

TICKS = os.sysconf("SC_CLK_TCK")
SERVICES = ("store", "parser", "fetcher")


def role(cmdline: str) -> str:
    for name in SERVICES:
        if f"services.cli.main {name}" in cmdline:
            return name
    if "valkey-server" in cmdline:
        return "valkey"
    if "forkserver" in cmdline or "multiprocessing" in cmdline:
        return "parser-helper"
    return "other"


def rss_kb(pid: int) -> int:
    return (resident_bytes(pid) or 0) >> 10


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), None once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def parent_pid(pid: int) -> int | None:
    """The process's parent now, or None once it is gone."""
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def cpu_times(pid: int) -> tuple[float, float] | None:
    """Seconds of CPU the process has used, and its reaped children have, so far."""
    fields = _stat(pid)
    if fields is None:
        return None
    own = (int(fields[11]) + int(fields[12])) / TICKS
    children = (int(fields[13]) + int(fields[14])) / TICKS
    return own, children


# The role of a process still running its parent's program: forked and not yet exec'd (it
# will soon show its own command line), or a fork that never execs (a forkserver's worker).
FORKED = ""


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def descendants(root: int) -> dict[int, tuple[int, str]]:
    """Every live descendant of `root`: its parent and role (`FORKED` while it runs its
    parent's command line)."""
    found: dict[int, tuple[int, str]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        parent_cmdline = _cmdline(parent)
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child in found:
                    continue
                cmdline = _cmdline(child)
                if cmdline is None:
                    continue
                if cmdline == parent_cmdline:
                    found[child] = (parent, FORKED)
                else:
                    found[child] = (parent, role(cmdline.replace(b"\0", b" ").decode()))
                frontier.append(child)
    return found


def machine_cpu() -> tuple[int, int]:
    """Clock ticks of the whole machine so far: all, and idle (idle plus I/O wait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


@dataclass
class Seen:
    """What the watcher last read of one process."""

    role: str
    parent: int
    own: float = 0.0
    children: float = 0.0
    last_scan: int = 0
    # Left the tree alive, handed to another parent: never reaped by a watched one.
    orphaned: bool = False


@dataclass
class TreeWatcher:
    """Call `sample()` every few tenths of a second while the tree runs."""

    root: int
    peaks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rss: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    _seen: dict[int, Seen] = field(default_factory=dict)
    _forked: set[int] = field(default_factory=set)
    _scans: int = 0

    def sample(self) -> None:
        self._scans += 1
        live = descendants(self.root)
        live[self.root] = (0, "up")
        for pid, seen in self._seen.items():
            if pid in live or seen.last_scan != self._scans - 1:
                continue
            # Gone from the tree since the last scan: reaped, or alive under a new parent.
            if not seen.orphaned and parent_pid(pid) not in (None, seen.parent):
                seen.orphaned = True
        for pid, seen in list(self._seen.items()):
            if seen.orphaned and pid not in live:
                live[pid] = (seen.parent, seen.role)
                live.update(descendants(pid))
        for pid, (parent, seen_as) in live.items():
            times = cpu_times(pid)
            if times is None:
                continue
            if seen_as == FORKED:
                # Caught between fork and exec, its role would stick wrongly: give it one
                # scan to exec; one that still runs its parent's program is its parent's.
                if pid not in self._seen and pid not in self._forked:
                    self._forked.add(pid)
                    continue
                parent_seen = self._seen.get(parent)
                seen_as = parent_seen.role if parent_seen else "other"
            # A process's first clear role sticks: an exiting one has no command line.
            seen = self._seen.setdefault(pid, Seen(seen_as, parent))
            if seen.role == "other" and seen_as != "other":
                seen.role = seen_as
            seen.own = max(seen.own, times[0])
            seen.children = max(seen.children, times[1])
            seen.last_scan = self._scans
            kb = rss_kb(pid)
            self.peaks[seen.role] = max(self.peaks[seen.role], kb)
            if seen.role == "parser" and kb:
                self.rss[pid].append(kb)

    def cpu_by_role(self) -> dict[str, float]:
        return cpu_by_role(self._seen)


def cpu_by_role(seen: dict[int, Seen]) -> dict[str, float]:
    """CPU seconds per role: live processes' own time, and processes that exited and were
    reaped while their parent was still watched through the parent's children time (their
    own time read before exiting misses the last moments). An orphan's time is only its own:
    no watched parent reaped it."""
    by_role: dict[str, float] = defaultdict(float)
    for process in seen.values():
        by_role[process.role] += process.children + process.own
    for process in seen.values():
        parent = seen.get(process.parent)
        if parent is not None and process.last_scan < parent.last_scan and not process.orphaned:
            # Reaped: its time, its own reaped children's included, is in the parent's
            # children time. What was read of it stays under its role; only its last
            # moments stay under the parent's.
            by_role[parent.role] -= process.own + process.children
    return dict(by_role)
