"""`akhbar store` as real processes: killed with SIGKILL again and again, and two replicas at
once; the corpus ends with every document exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.messages import CorpusRecord
from services.core.streams import STORE_GROUP, Streams
from services.store.corpus import iter_records
from services.store.duplicates import iter_duplicates
from tests.conftest import PROJECT
from tests.helpers import eventually
from tests.store.factory import distinct_text, record, republished, vocabulary

pytestmark = pytest.mark.e2e


def spawn_store(
    redis_url: str, prefix: str, corpus: Path, writer: str, batch: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "AKHBAR_REDIS_URL": redis_url,
        "AKHBAR_STREAM_PREFIX": prefix,
        "AKHBAR_CORPUS_DIR": str(corpus),
        "AKHBAR_STORE_WRITER": writer,
        "AKHBAR_CONSUMER_NAME": f"store-{writer}",
        "AKHBAR_STORE_BATCH": str(batch),
        "AKHBAR_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "store"],
            cwd=corpus.parent,  # away from any .env of the project
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def stopped_at_exit(procs: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


async def publish(client: Redis, streams: Streams, records: list[CorpusRecord]) -> None:
    await ensure_groups(client, streams)
    for start in range(0, len(records), 500):
        async with client.pipeline(transaction=False) as pipe:
            for rec in records[start : start + 500]:
                pipe.xadd(streams.parsed, {"__data__": rec.model_dump_json()})
            await pipe.execute()


async def drained(client: Redis, streams: Streams) -> bool:
    (group,) = await client.xinfo_groups(streams.parsed)
    pending = await client.xpending(streams.parsed, STORE_GROUP)
    return bool(group["lag"] == 0 and pending["pending"] == 0)


async def stored_count(client: Redis, streams: Streams) -> int:
    return int(await client.hget(streams.counters, "stored") or 0)


async def test_store_killed_again_and_again_keeps_every_document_once(
    client: Redis, redis_url: str, streams: Streams, tmp_path: Path
) -> None:
    rng = random.Random(7)
    words = vocabulary()
    records = [
        record(f"doc{n:05d}", f"https://news.example/{n}", distinct_text(rng, words))
        for n in range(3000)
    ]
    await publish(client, streams, records)
    corpus, log = tmp_path / "corpus", tmp_path / "store.log"
    kills = 0
    async with asyncio.timeout(50):
        while not await drained(client, streams):
            before = await stored_count(client, streams)
            proc = spawn_store(redis_url, streams.prefix, corpus, "crashy", 10, log)
            with stopped_at_exit([proc]):

                async def progressed(
                    proc: subprocess.Popen[bytes] = proc, base: int = before
                ) -> bool:
                    if proc.poll() is not None:
                        raise AssertionError(f"store exited: {log.read_text()[-3000:]}")
                    return await stored_count(client, streams) > base or await drained(
                        client, streams
                    )

                # Once this process has stored something, kill it a moment later: in a batch
                # (reserving, writing, settling) or in the next restart's reconciliation.
                await eventually(progressed, within=30)
                await asyncio.sleep(rng.uniform(0.01, 0.3))
                proc.kill()
                kills += 1
    assert kills >= 1
    ids = Counter(row["id"] for row in iter_records(corpus))
    assert set(ids) == {r.id for r in records}
    assert [i for i, n in ids.items() if n > 1] == []
    texts = {row["id"]: row["text"] for row in iter_records(corpus)}
    assert all(texts[r.id] == r.text for r in records)
    # Distinct documents: a crash never makes one look like a copy of itself.
    assert list(iter_duplicates(corpus)) == []


def story_copies(rng: random.Random, words: list[str], n: int) -> list[CorpusRecord]:
    """One story four times: first seen, republished, at the same URL, with the same text."""
    text = distinct_text(rng, words, 150)
    variant = text.replace("ا", "أ", 3).replace("ي", "ى", 2)  # the same text to the dedup key
    return [
        record(f"s{n}-orig", f"https://a.example/{n}", text),
        record(f"s{n}-near", f"https://b.example/{n}", republished(text, rng)),
        record(f"s{n}-url", f"HTTPS://A.example/{n}#comments", republished(text, rng)),
        record(f"s{n}-hash", f"https://c.example/{n}", variant),
    ]


async def test_two_replicas_keep_one_copy_of_each_story(
    client: Redis, redis_url: str, streams: Streams, tmp_path: Path
) -> None:
    rng = random.Random(7)
    words = vocabulary()
    stories = [story_copies(rng, words, n) for n in range(60)]
    singles = [
        record(f"one{n}", f"https://d.example/{n}", distinct_text(rng, words)) for n in range(60)
    ]
    messages = [r for story in stories for r in story] + singles
    rng.shuffle(messages)
    await ensure_groups(client, streams)
    corpus = tmp_path / "corpus"
    procs = [
        spawn_store(redis_url, streams.prefix, corpus, w, 5, tmp_path / f"{w}.log")
        for w in ("r1", "r2")
    ]
    with stopped_at_exit(procs):

        async def both_reading() -> bool:
            consumers = await client.xinfo_consumers(streams.parsed, STORE_GROUP)
            return {c["name"] for c in consumers} >= {"store-r1", "store-r2"}

        await eventually(both_reading)
        await publish(client, streams, messages)
        await eventually(lambda: drained(client, streams))
        for proc in procs:
            proc.terminate()
        assert [proc.wait(timeout=30) for proc in procs] == [0, 0]

    rows = list(iter_records(corpus))
    ids = Counter(row["id"] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    assert {f"one{n}" for n in range(60)} <= set(ids)
    logged = {d["id"]: d for d in iter_duplicates(corpus)}
    for story in stories:
        kept = [r.id for r in story if r.id in ids]
        assert len(kept) == 1, kept
        for copy in story:
            if copy.id != kept[0]:
                assert logged[copy.id]["duplicate_of"] == kept[0]
    assert len(ids) + len(logged) == len(messages)
    # Both replicas took part: each wrote corpus lines or duplicate lines.
    writers = {p.name.split("-")[0] for p in corpus.rglob("*-0000*")}
    assert writers == {"r1", "r2"}
