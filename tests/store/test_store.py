"""The store against a real server: exact dedup, durability order and reconciliation."""

from pathlib import Path

from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.streams import Streams
from services.store.corpus import CorpusWriter, iter_records
from services.store.duplicates import iter_duplicates
from services.store.store import CorpusStore
from tests.store.factory import record

STORY = "وقعت دولة قطر اليوم اتفاقاً مع حلف شمال الأطلسي لافتتاح مكاتب بعثة في بروكسل."
OTHER = "اجتمع رئيس الأركان القطري مع الملحق العسكري التركي لبحث التعاون العسكري."


def make_store(client: Redis, streams: Streams, corpus: Path, writer: str = "test") -> CorpusStore:
    settings = Settings(redis_url=None, stream_prefix=streams.prefix)
    return CorpusStore(client, streams, CorpusWriter(corpus, writer, 1 << 20), settings)


async def test_exact_duplicates_dropped_by_url_and_by_text(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    store = make_store(client, streams, tmp_path)
    await store.start()
    first = await store.write_batch([record("a", "https://x.com/1", STORY)])
    assert [r.id for r in first.stored] == ["a"]
    variant = "وقعت دولة قطر اليوم اتفاقا مع حلف شمال الاطلسي لافتتاح مكاتب بعثة في بروكسل"
    second = await store.write_batch(
        [
            record("b", "HTTPS://X.com/1#comments", OTHER),  # same URL
            record("c", "https://y.com/2", variant),  # same text, other spelling
            record("d", "https://z.com/3", OTHER),
            record("e", "https://z.com/4", OTHER),  # same text within the batch
        ]
    )
    assert [r.id for r in second.stored] == ["d"]
    assert [(r.id, d.reason, d.of_id) for r, d in second.duplicates] == [
        ("b", "exact-url", "a"),
        ("c", "exact-hash", "a"),
        ("e", "exact-hash", "d"),
    ]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a", "d"]
    assert await client.hgetall(streams.counters) == {"stored": "2", "duplicates": "3"}
    logged = [(d["id"], d["reason"], d["duplicate_of"]) for d in iter_duplicates(tmp_path)]
    assert logged == [("b", "exact-url", "a"), ("c", "exact-hash", "a"), ("e", "exact-hash", "d")]


async def test_index_rebuilt_from_corpus_at_start(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/1", STORY)])
    # The index is lost (say, a server without persistence); the corpus is the truth.
    assert await store.index.clear() > 0
    restarted = make_store(client, streams, tmp_path)
    report = await restarted.start()
    assert (report.rebuilt, report.indexed) == (True, 1)
    again = await restarted.write_batch([record("b", "https://x.com/1", OTHER)])
    assert again.stored == []
    assert [d.reason for _, d in again.duplicates] == ["exact-url"]


async def test_record_in_the_corpus_but_not_the_index_is_not_written_twice(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # A record made durable by a store whose index entries were then lost.
    CorpusWriter(tmp_path, "test", 1 << 20).append(
        [record("a", "https://x.com/1", STORY).model_dump_json()]
    )
    store = make_store(client, streams, tmp_path)
    await store.start()
    redelivered = await store.write_batch([record("a", "https://x.com/1", STORY)], ["1-1"])
    assert redelivered.stored == []
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]


async def test_republished_document_with_the_same_id_is_a_duplicate(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # Replaying a folder twice publishes the same ids again, as new messages.
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/1", STORY)], ["1-1"])
    again = await store.write_batch([record("a", "https://x.com/1", STORY)], ["2-1"])
    assert again.stored == []
    assert [(d.reason, d.of_id) for _, d in again.duplicates] == [("exact-url", "a")]
