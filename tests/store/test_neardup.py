"""Near duplicates against a real server: found across replicas, bounded by the window."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis

from services.core.arabic import dedup_key
from services.core.settings import Settings
from services.core.streams import Streams
from services.store.corpus import CorpusWriter, corpus_files, iter_records
from services.store.duplicates import iter_duplicates
from services.store.minhash import estimate_similarity
from services.store.store import CorpusStore
from tests.store.factory import record, republished, seed_texts


def make_store(client: Redis, streams: Streams, corpus: Path, writer: str = "w1") -> CorpusStore:
    settings = Settings(redis_url=None, stream_prefix=streams.prefix)
    return CorpusStore(client, streams, CorpusWriter(corpus, writer, 1 << 20), settings)


async def test_republished_story_is_a_near_duplicate_and_same_story_article_is_not(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    first, second = seed_texts()
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/a", first)])
    copy = republished(first, random.Random(1))
    result = await store.write_batch(
        [record("b", "https://y.com/b", copy), record("c", "https://x.com/c", second)]
    )
    assert [r.id for r in result.stored] == ["c"]
    ((dropped, duplicate),) = result.duplicates
    assert (dropped.id, duplicate.reason, duplicate.of_id) == ("b", "near", "a")
    assert 0.5 <= duplicate.similarity < 1.0
    assert await client.hget(streams.counters, "near_duplicates") == "1"
    # The Lua script and the Python estimate read the same sketches the same way.
    hasher = store.keymaker.hasher
    ours, theirs = (hasher.signature(dedup_key(t)) for t in (first, copy))
    assert ours is not None
    assert theirs is not None
    expected = estimate_similarity(ours.sketch, theirs.sketch)
    assert duplicate.similarity == round(expected, 4)


async def test_duplicates_log_sits_beside_the_corpus_without_being_part_of_it(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    (first, _) = seed_texts()
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/a", first)])
    await store.write_batch([record("b", "https://y.com/b", republished(first, random.Random(2)))])
    assert [p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path)] == [
        "w1-00001.jsonl"
    ]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    (line,) = iter_duplicates(tmp_path)
    assert (tmp_path / "duplicates" / "w1-00001.ndjson").exists()
    assert {k: line[k] for k in ("id", "url", "source", "duplicate_of", "reason")} == {
        "id": "b",
        "url": "https://y.com/b",
        "source": "test",
        "duplicate_of": "a",
        "reason": "near",
    }
    assert line["similarity"] >= 0.5


async def test_two_replicas_never_both_keep_one_story(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    first, second = seed_texts()
    one, two = (
        make_store(client, streams, tmp_path, "w1"),
        make_store(client, streams, tmp_path, "w2"),
    )
    await one.start()
    await two.start()
    rng = random.Random(3)
    for n in range(10):
        # The same story reaches both replicas at once, each in its own batch.
        story = first if n % 2 else second
        a = record(f"a{n}", f"https://x.com/{n}", republished(story, rng))
        b = record(f"b{n}", f"https://y.com/{n}", republished(story, rng))
        results = await asyncio.gather(one.write_batch([a]), two.write_batch([b]))
        kept = [r.id for result in results for r in result.stored]
        assert len(kept) <= 1
    stored = [r["id"] for r in iter_records(tmp_path)]
    assert len(stored) == 2  # one copy of each seed story, whichever replica got there first


async def test_near_keys_expire_with_the_window_and_exact_keys_stay(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    first, _ = seed_texts()
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/a", first)])
    base = streams.index_prefix
    ttls = {}
    for key in [k async for k in client.scan_iter(match=f"{base}:*")]:
        kind = key.removeprefix(f"{base}:").split(":")[0]
        ttls.setdefault(kind, set()).add(await client.ttl(key))
    assert ttls["u"] == ttls["h"] == {-1}
    window = store.index.window
    longest = (window.days + window.generation_days) * 86400
    assert all(window.days * 86400 - 10 < t <= longest for t in ttls["s"] | ttls["b"])


async def test_records_older_than_the_window_are_matched_only_exactly(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    first, _ = seed_texts()
    old = record("a", "https://x.com/a", first)
    old.stored_at = datetime.now(UTC) - timedelta(days=60)
    CorpusWriter(tmp_path, "w1", 1 << 20).append([old.model_dump_json()])
    store = make_store(client, streams, tmp_path)
    await store.start()  # rebuilt from the corpus
    result = await store.write_batch(
        [
            record("b", "https://y.com/b", republished(first, random.Random(4))),
            record("c", "https://z.com/c", first),
        ]
    )
    assert [r.id for r in result.stored] == ["b"]
    assert [(r.id, d.reason, d.of_id) for r, d in result.duplicates] == [("c", "exact-hash", "a")]
