"""A restarted consumer's own pending entries, and `akhbar reindex`, against a real server."""

import random
from pathlib import Path
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner

from services.cli.main import app
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams
from services.store.corpus import CorpusWriter
from services.store.pending import recover_pending
from services.store.reindex import reindex
from services.store.store import CorpusStore
from tests.store.factory import record, republished, seed_texts


async def test_own_pending_entries_are_handled_and_acknowledged(
    client: Redis, streams: Streams
) -> None:
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0", mkstream=True)
    ids = [await client.xadd(streams.parsed, {"__data__": f'{{"n": {n}}}'}) for n in range(5)]
    await client.xadd(streams.parsed, {"__data__": "not json"})
    # A killed process read them all under this name and acknowledged none.
    await client.xreadgroup(STORE_GROUP, "store-1", {streams.parsed: ">"})
    later = await client.xadd(streams.parsed, {"__data__": '{"n": 9}'})
    seen: list[tuple[Any, str]] = []

    async def handle(bodies: list[Any], entry_ids: list[str]) -> None:
        seen.extend(zip(bodies, entry_ids, strict=True))

    count = await recover_pending(client, streams.parsed, STORE_GROUP, "store-1", 2, handle)
    assert count == 6
    assert [body for body, _ in seen] == [{"n": n} for n in range(5)] + [None]
    assert [i for _, i in seen][:5] == ids
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0
    # New entries are left to the subscriber.
    assert later not in [i for _, i in seen]
    assert await recover_pending(client, streams.parsed, STORE_GROUP, "store-2", 2, handle) == 0


async def test_reindex_rebuilds_exact_and_near_keys(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    text, _ = seed_texts()
    CorpusWriter(settings.corpus_dir, "w1", 1 << 20).append(
        [record("a", "https://x.com/a", text).model_dump_json()]
    )
    await client.hset(streams.index_key("url"), "legacy", "x")  # the index before near dups
    report = await reindex(client, settings)
    assert report.records == 1
    assert not await client.exists(streams.index_key("url"))
    store = CorpusStore(client, streams, CorpusWriter(settings.corpus_dir, "w2", 1 << 20), settings)
    assert (await store.start()).rebuilt is False
    copy = record("b", "https://y.com/b", republished(text, random.Random(6)))
    result = await store.write_batch([copy, record("c", "https://x.com/a", "نص آخر")])
    assert [(r.id, d.reason, d.of_id) for r, d in result.duplicates] == [
        ("b", "near", "a"),
        ("c", "exact-url", "a"),
    ]


def test_reindex_command(redis_url: str, prefix: str, tmp_path: Path) -> None:
    text, _ = seed_texts()
    CorpusWriter(tmp_path, "w1", 1 << 20).append(
        [record("a", "https://x.com/a", text).model_dump_json()]
    )
    args = ["reindex", "--corpus", str(tmp_path), "--redis-url", redis_url, "--prefix", prefix]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "index rebuilt: 1 records" in result.output
    with SyncRedis.from_url(redis_url, decode_responses=True) as sync:
        assert sync.hget(f"{prefix}:index:meta", "shingle_size") == "3"
        assert sync.hget(f"{prefix}:index:checkpoint", "w1") is not None


async def test_a_failing_batch_is_left_pending_and_startup_goes_on(
    client: Redis, streams: Streams
) -> None:
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0", mkstream=True)
    await client.xadd(streams.parsed, {"__data__": "{}"})
    await client.xreadgroup(STORE_GROUP, "store-1", {streams.parsed: ">"})

    async def broken(bodies: list[Any], entry_ids: list[str]) -> None:
        raise RuntimeError("a bug")

    assert await recover_pending(client, streams.parsed, STORE_GROUP, "store-1", 2, broken) == 0
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 1
