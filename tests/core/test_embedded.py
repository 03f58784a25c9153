"""The embedded server of a state directory: one owner at a time, found by others, and no
server left behind by an owner that was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from redis import Redis

from services.core.embedded import (
    EmbeddedServer,
    StateDirInUseError,
    find_server,
    has_data,
    read_address,
)


def test_the_owner_is_found_and_a_second_one_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert find_server(state) is None
    assert not has_data(state)
    server = EmbeddedServer(state)
    url = server.start()
    try:
        found = find_server(state)
        assert found is not None
        assert (found.url, found.owner_pid) == (url, os.getpid())
        with Redis.from_url(found.url) as client:
            assert client.ping()
            assert int(client.info("server")["process_id"]) == found.server_pid
        with pytest.raises(StateDirInUseError, match=f"pid {os.getpid()}"):
            EmbeddedServer(state).start()
    finally:
        server.stop()
    assert find_server(state) is None
    assert has_data(state)


def test_data_outlives_the_server(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    with Redis.from_url(server.start()) as client:
        client.set("kept", "1")
    server.stop()
    server = EmbeddedServer(tmp_path)
    try:
        with Redis.from_url(server.start()) as client:
            assert client.get("kept") == b"1"
    finally:
        server.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(") ")[1][0] != "Z"


def test_a_server_orphaned_by_a_killed_owner_is_stopped_by_the_next(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from pathlib import Path
                from services.core.embedded import EmbeddedServer
                EmbeddedServer(Path({str(tmp_path)!r})).start()
                print("started", flush=True)
                time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    orphan_pid = 0
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "started"
        address = read_address(tmp_path)
        assert address is not None
        orphan_pid = address.server_pid
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        assert _alive(orphan_pid)
        # the lock died with its owner: nobody runs the server any more, as far as others know
        assert find_server(tmp_path) is None

        server = EmbeddedServer(tmp_path)
        server.start()
        try:
            deadline = time.monotonic() + 10
            while _alive(orphan_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _alive(orphan_pid)
            found = find_server(tmp_path)
            assert found is not None
            assert found.server_pid != orphan_pid
        finally:
            server.stop()
    finally:
        owner.kill()
        owner.communicate()
        if orphan_pid and _alive(orphan_pid):
            os.kill(orphan_pid, signal.SIGKILL)
