"""A private Docker engine for deployment tests.

Its own containerd and dockerd, with sockets, data, state and pidfiles under one directory.
dockerd runs without the default bridge and without iptables: compose's own network is the
one bridge, reached from the host directly and through docker-proxy for published ports, so
the engine adds no firewall rule and leaves no interface behind once stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# containerd keeps shim sockets in /run/containerd/s and dockerd looks for plugins in
# /run/docker whatever their flags say; the others would appear only if a flag were lost.
# Each is removed on stop when the engine created it.
FIXED_HOST_PATHS = (
    Path("/run/containerd"),
    Path("/run/docker"),
    Path("/etc/docker/key.json"),
    Path("/var/lib/containerd"),
)
ENGINE_BINARIES = ("containerd", "dockerd", "runc", "docker-proxy")


def missing_engine() -> str | None:
    """Why no engine can start here, or None when one can."""
    if os.geteuid() != 0:
        return "a private Docker engine needs root"
    missing = [name for name in ENGINE_BINARIES if shutil.which(name) is None]
    if missing:
        return f"no {', '.join(missing)} (Debian: apt-get install docker.io)"
    return None


def docker_client() -> str:
    """The docker client, preferring Debian's, which matches Debian's daemon."""
    debian = Path("/usr/bin/docker")
    found = str(debian) if debian.exists() else shutil.which("docker")
    if found is None:
        raise FileNotFoundError("no docker client (apt-get install docker.io)")
    return found


@dataclass(frozen=True)
class HostState:
    """What an engine could leave behind on the host: interfaces, firewall rules, paths."""

    links: frozenset[str]
    rules: tuple[str, ...]
    paths: frozenset[Path]

    @classmethod
    def snapshot(cls) -> HostState:
        rules: list[str] = []
        if shutil.which("iptables"):
            for table in ("filter", "nat"):
                listed = subprocess.run(
                    ["iptables", "-t", table, "-S"], capture_output=True, text=True, check=True
                )
                rules += [f"{table}: {line}" for line in listed.stdout.splitlines()]
        return cls(
            links=frozenset(os.listdir("/sys/class/net")),
            rules=tuple(rules),
            paths=frozenset(p for p in FIXED_HOST_PATHS if p.exists()),
        )

    def differences(self, before: HostState) -> list[str]:
        found = [f"interface {name}" for name in sorted(self.links - before.links)]
        found += [f"iptables {rule}" for rule in self.rules if rule not in before.rules]
        found += [f"path {path}" for path in sorted(self.paths - before.paths)]
        return found


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (the engine's root directory)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if text.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return pids


def mounts_under(root: Path) -> list[str]:
    prefix = str(root) + "/"
    lines = Path("/proc/mounts").read_text().splitlines()
    return [line.split()[1] for line in lines if (line.split()[1] + "/").startswith(prefix)]


class DockerEngine:
    """containerd plus dockerd under `root`; `stop` puts the host back as `start` found it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.client = docker_client()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._before: HostState | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}"}

    def start(self, timeout: float = 60) -> None:
        self._before = HostState.snapshot()
        containerd = self.root / "containerd"
        containerd.mkdir(parents=True)
        config = containerd / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{containerd / "root"}"\n'
            f'state = "{containerd / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\naddress = "{containerd / "containerd.sock"}"\n'
            f'[ttrpc]\naddress = "{containerd / "containerd.sock.ttrpc"}"\n'
            f'[plugins."io.containerd.internal.v1.opt"]\npath = "{containerd / "opt"}"\n'
        )
        self._spawn(["containerd", "--config", str(config)], "containerd.log")
        self._wait_for(containerd / "containerd.sock", timeout)
        daemon_json = self.root / "daemon.json"
        # dockerd 20.10 writes its trust key to /etc/docker unless told where.
        daemon_json.write_text(f'{{"deprecated-key-path": "{self.root / "key.json"}"}}\n')
        self._spawn(
            [
                "dockerd",
                f"--config-file={daemon_json}",
                f"--data-root={self.root / 'data'}",
                f"--exec-root={self.root / 'exec'}",
                f"--pidfile={self.root / 'dockerd.pid'}",
                f"--host=unix://{self.socket}",
                f"--containerd={containerd / 'containerd.sock'}",
                "--bridge=none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ],
            "dockerd.log",
        )
        deadline = time.monotonic() + timeout
        while self.docker("version", check=False, timeout=10).returncode != 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self._procs):
                raise RuntimeError(f"dockerd did not start: {self.log_tail('dockerd.log')}")
            time.sleep(0.3)

    def docker(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.client, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {done.stderr[-3000:]}")
        return done

    def stop(self) -> None:
        """Stop both daemons by PID, then remove everything they made. Idempotent."""
        for proc in reversed(self._procs):  # dockerd first: it stops its containers
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self._procs.clear()
        for pid in processes_mentioning(str(self.root)):  # shims of containers still running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for mount in sorted(mounts_under(self.root), reverse=True):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
        if self.root.exists() and not mounts_under(self.root):
            shutil.rmtree(self.root)
        if self._before is not None:
            for path in FIXED_HOST_PATHS:
                if path.is_dir() and path not in self._before.paths:
                    shutil.rmtree(path, ignore_errors=True)
                elif path.exists() and path not in self._before.paths:
                    path.unlink()

    def leftovers(self) -> list[str]:
        """What of this engine is still on the host (empty after a clean stop)."""
        found = [f"process {pid}" for pid in processes_mentioning(str(self.root))]
        found += [f"mount {mount}" for mount in mounts_under(self.root)]
        if self.root.exists():
            found.append(f"directory {self.root}")
        if self._before is not None:
            found += HostState.snapshot().differences(self._before)
        return found

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _spawn(self, argv: list[str], log: str) -> None:
        with (self.root / log).open("wb") as out:
            self._procs.append(
                subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            )

    def _wait_for(self, path: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline or self._procs[-1].poll() is not None:
                raise RuntimeError(f"{path.name} did not appear: {self.log_tail('containerd.log')}")
            time.sleep(0.1)


@contextlib.contextmanager
def running_engine(root: Path) -> Iterator[DockerEngine]:
    engine = DockerEngine(root)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
