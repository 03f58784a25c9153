"""`akhbar tail` against a real server."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.messages import CorpusRecord, Rejection, utcnow
from services.core.streams import Streams
from tests.cli.conftest import clean_env, run_akhbar
from tests.core.test_delivery import add, seed_document


@pytest.fixture
def env(redis_url: str, prefix: str) -> dict[str, str]:
    return clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)


async def test_readable_lines_for_each_stream(
    client: Redis, streams: Streams, env: dict[str, str]
) -> None:
    await ensure_groups(client, streams)
    document = seed_document(0)
    await add(client, streams.raw, document)
    record = CorpusRecord(
        id="r",
        url="https://e.com/a",
        source="site",
        title="قطر وتركيا",
        text="نص " * 50,
        date=None,
        language="ar",
        fetched_at=utcnow(),
        word_count=50,
    )
    await client.xadd(streams.parsed, {"__data__": record.model_dump_json()})
    rejection = Rejection(
        id="x", url="https://e.ir/a", source="site", reason="language", detail="language fa"
    )
    await client.xadd(streams.rejected, {"__data__": rejection.model_dump_json()})

    raw = run_akhbar("tail", "raw", env=env)
    assert raw.returncode == 0, raw.stderr
    (line,) = raw.stdout.splitlines()
    assert "replay" in line
    assert "chars" in line
    assert document.url in line
    parsed = run_akhbar("tail", "parsed", env=env).stdout
    assert "قطر وتركيا" in parsed
    assert "50 words" in parsed
    rejected = run_akhbar("tail", "rejected", env=env).stdout
    assert "reason: language (language fa)" in rejected


async def test_last_n_and_json(client: Redis, streams: Streams, env: dict[str, str]) -> None:
    for n in range(5):
        await client.xadd(
            streams.raw,
            {"__data__": json.dumps({"id": f"d{n}", "url": f"u{n}", "source": "s", "body": "x"})},
        )
    done = run_akhbar("tail", streams.raw, "-n", "2", "--json", env=env)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["d3", "d4"]
    assert {r["stream"] for r in rows} == {streams.raw}
    assert all("-" in r["entry_id"] for r in rows)


def test_follow_prints_new_messages(redis_url: str, prefix: str, env: dict[str, str]) -> None:
    streams = Streams(prefix)
    writer = SyncRedis.from_url(redis_url, decode_responses=True)
    writer.xadd(streams.dead, {"__data__": json.dumps({"id": "old"})})
    letter = {
        "stage": "store",
        "stream": streams.parsed,
        "message_id": "1-1",
        "error": "boom",
        "deliveries": 5,
        "payload": {"url": "https://e.com/x"},
    }
    follower = subprocess.Popen(
        [Path(sys.executable).with_name("akhbar"), "tail", "dead", "-f", "-n", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def publish_until_stopped() -> None:
        # The follower only sees what arrives after it connected: keep publishing.
        while not stop.is_set():
            writer.xadd(streams.dead, {"__data__": json.dumps(letter)})
            time.sleep(0.2)

    publisher = threading.Thread(target=publish_until_stopped, daemon=True)
    publisher.start()
    try:
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 60)
        assert ready, "tail -f printed nothing"
        line = follower.stdout.readline()
    finally:
        stop.set()
        publisher.join()
        follower.terminate()
        follower.wait(timeout=10)
        if follower.stdout is not None:
            follower.stdout.close()
        writer.close()
    assert "store  x5  https://e.com/x  reason: boom" in line
    assert "old" not in line


def test_missing_stream_is_a_clear_message(env: dict[str, str]) -> None:
    done = run_akhbar("tail", "parsed", env=env)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
