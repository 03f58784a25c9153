"""The index bound to one corpus, against a real server: new, emptied, other and same corpus,
crash leftovers, the rebuild a running store forbids, and the fetcher state that goes with it."""

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.core.errors import ConfigError
from services.core.messages import CorpusRecord, utcnow
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams
from services.store.binding import BindingLock
from services.store.corpus import CorpusWriter, iter_records
from services.store.duplicates import iter_duplicates
from services.store.identity import ensure_manifest, read_manifest
from services.store.reindex import reindex
from services.store.store import CorpusStore
from tests.store.factory import record, seed_texts

URLS = ["https://x.com/a", "https://x.com/b"]


def make_store(
    client: Redis, streams: Streams, corpus: Path, writer: str = "w1", claim_idle: float = 120
) -> CorpusStore:
    config = Settings(redis_url=None, stream_prefix=streams.prefix, claim_idle_seconds=claim_idle)
    return CorpusStore(client, streams, CorpusWriter(corpus, writer, 1 << 20), config)


def seed_records() -> list[CorpusRecord]:
    return [record(rid, url, text) for rid, url, text in zip("ab", URLS, seed_texts(), strict=True)]


async def fill(client: Redis, streams: Streams, corpus: Path) -> CorpusStore:
    """A store on `corpus` that has stored both seed records."""
    store = make_store(client, streams, corpus)
    await store.start()
    result = await store.write_batch(seed_records())
    assert [r.id for r in result.stored] == ["a", "b"]
    return store


async def binding_of(client: Redis, streams: Streams) -> dict[str, str]:
    found: Any = await client.hgetall(streams.corpus_binding)
    return dict(found)


async def fetcher_state_used(client: Redis, streams: Streams) -> None:
    """What a fetcher leaves after polling a feed: seen URLs, validators and health."""
    await client.sadd(streams.seen_urls, *URLS)
    await client.hset(
        streams.feed_state("local"),
        mapping={"etag": '"1"', "last_modified": "Mon, 01 Jan 2024", "status": "ok", "failures": 0},
    )


async def fetcher_state(client: Redis, streams: Streams) -> tuple[set[str], dict[str, str]]:
    seen: Any = await client.smembers(streams.seen_urls)
    feed: Any = await client.hgetall(streams.feed_state("local"))
    return set(seen), dict(feed)


async def test_new_corpus_gets_a_manifest_and_the_index_is_bound_to_it(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    corpus = tmp_path / "a"
    await fill(client, streams, corpus)
    manifest = read_manifest(corpus)
    assert manifest is not None
    binding = await binding_of(client, streams)
    assert (binding["id"], binding["state"], binding["records"]) == (manifest.id, "ready", "2")
    assert binding["path"] == str(corpus.resolve())


async def test_a_different_corpus_gets_its_own_records_not_duplicates_of_the_old_one(
    client: Redis, streams: Streams, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await fill(client, streams, tmp_path / "a")
    caplog.clear()
    other = make_store(client, streams, tmp_path / "b")
    report = await other.start()
    assert report.rebuilt
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "reason=other-corpus" in warnings[0]
    assert "index_records=2 corpus_records=0" in warnings[0]
    result = await other.write_batch(seed_records())
    assert [r.id for r in result.stored] == ["a", "b"]
    assert [r["id"] for r in iter_records(tmp_path / "b")] == ["a", "b"]
    assert list(iter_duplicates(tmp_path / "b")) == []
    manifest_b = read_manifest(tmp_path / "b")
    assert manifest_b is not None
    binding = await binding_of(client, streams)
    assert (binding["id"], binding["records"]) == (manifest_b.id, "2")
    # And back to the first corpus: the index is rebuilt from it, its records are known.
    back = make_store(client, streams, tmp_path / "a")
    assert (await back.start()).rebuilt
    again = await back.write_batch(seed_records())
    reasons = [(d.reason, d.of_id) for _, d in again.duplicates]
    assert reasons == [("exact-url", "a"), ("exact-url", "b")]


@pytest.mark.parametrize("how", ["files", "folder"])
async def test_an_emptied_corpus_is_refilled(
    client: Redis, streams: Streams, tmp_path: Path, how: str
) -> None:
    corpus = tmp_path / "a"
    await fill(client, streams, corpus)
    if how == "files":
        for path in corpus.rglob("*.*json*"):
            if path.name != "corpus.json":
                path.unlink()
    else:
        shutil.rmtree(corpus)
    store = make_store(client, streams, corpus)
    assert (await store.start()).rebuilt
    result = await store.write_batch(seed_records())
    assert [r.id for r in result.stored] == ["a", "b"]
    assert [r["id"] for r in iter_records(corpus)] == ["a", "b"]


async def test_the_same_corpus_with_its_records_is_not_rebuilt(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    corpus = tmp_path / "a"
    first = await fill(client, streams, corpus)
    await fetcher_state_used(client, streams)
    index_keys = sorted(await client.keys(f"{first.index.base}:*"))
    restarted = make_store(client, streams, corpus)
    report = await restarted.start()
    assert (report.rebuilt, report.indexed) == (False, 0)
    assert sorted(await client.keys(f"{first.index.base}:*")) == index_keys
    again = await restarted.write_batch(seed_records())
    assert again.stored == []
    assert (await binding_of(client, streams))["records"] == "2"
    seen, feed = await fetcher_state(client, streams)
    assert seen == set(URLS)
    assert feed["etag"] == '"1"'


async def test_records_written_but_not_settled_are_reconciled_not_rebuilt(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    corpus = tmp_path / "a"
    store = await fill(client, streams, corpus)
    text = "نص ثالث عن خبر آخر تماما لا يشبه الخبرين الأولين في شيء."
    third = record("c", "https://x.com/c", text)
    # Killed after reserving and writing, before settling: the corpus holds 3, the index 2.
    keys = store.keymaker.keys(third.id, third.url, third.text, third.content_hash)
    position = store._writer.position()
    await store.index.reserve([(keys, "1-1")], store.writer, utcnow(), position)
    CorpusWriter(corpus, "w1", 1 << 20).append([third.model_dump_json()])
    restarted = make_store(client, streams, corpus)
    report = await restarted.start()
    assert (report.rebuilt, report.settled, report.released) == (False, 1, 0)
    assert (await binding_of(client, streams))["records"] == "3"
    # Settled means counted: the next start finds the count and the corpus agreeing.
    assert (await make_store(client, streams, corpus).start()).rebuilt is False


async def test_crash_leftovers_of_the_old_corpus_are_released_for_the_new_one(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    store = await fill(client, streams, tmp_path / "a")
    text = "نص ثالث عن خبر آخر تماما لا يشبه الخبرين الأولين في شيء."
    third = record("c", "https://x.com/c", text)
    message_id: Any = await client.xadd(streams.parsed, {"__data__": third.model_dump_json()})
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0")
    await client.xreadgroup(STORE_GROUP, "store-w1", {streams.parsed: ">"})
    keys = store.keymaker.keys(third.id, third.url, third.text, third.content_hash)
    await store.index.reserve([(keys, message_id)], "w1", utcnow(), store._writer.position())
    # Restarted by the same name, on another corpus: the record is not there.
    other = make_store(client, streams, tmp_path / "b")
    report = await other.start(own_consumers=["store-w1", "store-w1-claim"])
    assert (report.rebuilt, report.settled) == (True, 0)
    assert await client.hlen(other.index.reserved_key) == 0
    redelivered = await other.write_batch([third], [message_id])
    assert [r.id for r in redelivered.stored] == ["c"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0


async def test_a_running_store_forbids_rebuilding_for_another_corpus(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await fill(client, streams, tmp_path / "a")
    bound = await binding_of(client, streams)
    # Another store is reading the prefix's parsed stream right now.
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0", mkstream=True)
    await client.xreadgroup(STORE_GROUP, "store-other", {streams.parsed: ">"})
    with pytest.raises(ConfigError, match="store-other") as refused:
        await make_store(client, streams, tmp_path / "b").start()
    assert "other-corpus" in str(refused.value)
    assert str(tmp_path / "a") in str(refused.value)
    # Nothing was touched: the running store's index still serves its corpus.
    assert await binding_of(client, streams) == bound
    again = await make_store(client, streams, tmp_path / "a").start()
    assert again.rebuilt is False


async def test_a_store_silent_for_longer_than_the_claim_time_does_not_count(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await fill(client, streams, tmp_path / "a")
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0", mkstream=True)
    await client.xreadgroup(STORE_GROUP, "store-killed", {streams.parsed: ">"})
    await asyncio.sleep(0.3)
    store = make_store(client, streams, tmp_path / "b", claim_idle=0.2)
    assert (await store.start()).rebuilt


async def test_fetcher_state_is_reset_only_when_the_corpus_changes(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # A new server: the index names no corpus, so nothing says the fetcher's state is stale.
    await fetcher_state_used(client, streams)
    await fill(client, streams, tmp_path / "a")
    assert (await fetcher_state(client, streams))[0] == set(URLS)
    # The same corpus again.
    await make_store(client, streams, tmp_path / "a").start()
    assert (await fetcher_state(client, streams))[0] == set(URLS)
    # Another corpus: the seen-set and the validators go, the feed's health stays.
    await make_store(client, streams, tmp_path / "b").start()
    seen, feed = await fetcher_state(client, streams)
    assert seen == set()
    assert feed == {"status": "ok", "failures": "0"}
    # The emptied corpus (its manifest kept) is a new start for the fetcher too.
    await fetcher_state_used(client, streams)
    store = make_store(client, streams, tmp_path / "b")
    await store.start()
    await store.write_batch(seed_records())
    for path in (tmp_path / "b").glob("*.jsonl"):
        path.unlink()
    await make_store(client, streams, tmp_path / "b").start()
    assert await fetcher_state(client, streams) == (set(), {"status": "ok", "failures": "0"})


async def test_a_rebuild_cut_short_is_redone_with_the_fetcher_reset_it_owed(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    first = await fill(client, streams, tmp_path / "a")
    await fetcher_state_used(client, streams)
    manifest_b, _ = ensure_manifest(tmp_path / "b")
    # Killed after naming the new corpus, before clearing anything.
    await first.index.begin_binding(manifest_b.id, str(tmp_path / "b"), reset_fetcher=True)
    store = make_store(client, streams, tmp_path / "b")
    report = await store.start()
    assert report.rebuilt
    assert await fetcher_state(client, streams) == (set(), {"status": "ok", "failures": "0"})
    binding = await binding_of(client, streams)
    assert (binding["id"], binding["state"], "reset_fetcher" in binding) == (
        manifest_b.id,
        "ready",
        False,
    )
    # The old corpus's keys went with the clear that was redone.
    result = await store.write_batch(seed_records())
    assert [r.id for r in result.stored] == ["a", "b"]


async def test_two_prefixes_on_one_server_keep_separate_indexes(
    client: Redis, tmp_path: Path
) -> None:
    one, two = Streams(f"{tmp_path.name}-one"), Streams(f"{tmp_path.name}-two")
    await fill(client, one, tmp_path / "a")
    await fill(client, two, tmp_path / "b")
    manifests = [read_manifest(tmp_path / n) for n in "ab"]
    assert [(await binding_of(client, s))["id"] for s in (one, two)] == [
        m.id for m in manifests if m
    ]
    for streams, corpus in ((one, tmp_path / "a"), (two, tmp_path / "b")):
        store = make_store(client, streams, corpus)
        assert (await store.start()).rebuilt is False
        assert (await store.write_batch(seed_records())).stored == []


async def test_reindex_binds_the_index_to_its_corpus_and_counts_its_records(
    client: Redis, streams: Streams, settings: Settings, tmp_path: Path
) -> None:
    await fill(client, streams, tmp_path / "a")
    await fetcher_state_used(client, streams)
    same = await reindex(client, settings.model_copy(update={"corpus_dir": tmp_path / "a"}))
    assert same.records == 2
    assert (await fetcher_state(client, streams))[0] == set(URLS)
    CorpusWriter(tmp_path / "b", "w9", 1 << 20).append([seed_records()[0].model_dump_json()])
    other = await reindex(client, settings.model_copy(update={"corpus_dir": tmp_path / "b"}))
    assert other.records == 1
    manifest_b = read_manifest(tmp_path / "b")
    assert manifest_b is not None
    binding = await binding_of(client, streams)
    assert (binding["id"], binding["records"], binding["state"]) == (manifest_b.id, "1", "ready")
    assert (await fetcher_state(client, streams))[0] == set()
    assert (await make_store(client, streams, tmp_path / "b").start()).rebuilt is False


async def test_stores_starting_together_on_a_new_corpus_rebuild_once(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    stores = [make_store(client, streams, tmp_path / "a", w) for w in ("r1", "r2", "r3")]
    reports = await asyncio.gather(*(s.start() for s in stores))
    assert sorted(r.rebuilt for r in reports) == [False, False, True]
    assert (await binding_of(client, streams))["state"] == "ready"


async def test_the_binding_lock_waits_for_its_holder_and_yields_to_its_restart(
    client: Redis, streams: Streams
) -> None:
    key = streams.corpus_binding_lock
    held = BindingLock(client, key, "w1", seconds=5)
    await held.acquire()
    other = BindingLock(client, key, "w2", seconds=5)
    waiting = asyncio.create_task(other.acquire())
    await asyncio.sleep(0.8)
    assert not waiting.done()
    # A restart of w1 (its predecessor killed while holding the lock) takes it at once.
    restart = BindingLock(client, key, "w1", seconds=5)
    await asyncio.wait_for(restart.acquire(), 2)
    await restart.release()
    await asyncio.wait_for(waiting, 3)
    assert await client.get(key) == "w2"
    await held.release()  # no longer the holder: leaves w2's lock alone
    assert await client.get(key) == "w2"
    await other.release()
    assert await client.get(key) is None
