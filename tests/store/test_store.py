"""The store against a real server: exact dedup, durability order and reconciliation."""

from pathlib import Path

from redis.asyncio import Redis

from services.core.arabic import content_hash
from services.core.messages import CorpusRecord, utcnow
from services.core.streams import Streams
from services.store.corpus import CorpusWriter, iter_records
from services.store.store import CorpusStore

STORY = "وقعت دولة قطر اليوم اتفاقاً مع حلف شمال الأطلسي لافتتاح مكاتب بعثة في بروكسل."
OTHER = "اجتمع رئيس الأركان القطري مع الملحق العسكري التركي لبحث التعاون العسكري."


def record(rid: str, url: str, text: str) -> CorpusRecord:
    return CorpusRecord(
        id=rid,
        url=url,
        source="test",
        title="عنوان",
        text=text,
        date=None,
        language="ar",
        fetched_at=utcnow(),
        content_hash=content_hash(text),
    )


def make_store(client: Redis, streams: Streams, corpus: Path) -> CorpusStore:
    return CorpusStore(client, streams, CorpusWriter(corpus, "test", rotate_bytes=1 << 20))


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
        ("b", "url", "a"),
        ("c", "content_hash", "a"),
        ("e", "in_batch", "d"),
    ]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a", "d"]
    assert await client.hgetall(streams.counters) == {"stored": "2", "duplicates": "3"}


async def test_index_rebuilt_from_corpus_at_start(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    store = make_store(client, streams, tmp_path)
    await store.start()
    await store.write_batch([record("a", "https://x.com/1", STORY)])
    # The index is lost (say, a server without persistence); the corpus is the truth.
    await store.index.clear()
    restarted = make_store(client, streams, tmp_path)
    await restarted.start()
    again = await restarted.write_batch([record("a", "https://x.com/1", STORY)])
    assert again.stored == []
    assert [d.reason for _, d in again.duplicates] == ["url"]


async def test_crash_between_corpus_and_index_never_duplicates(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # A record made durable by a store that died before indexing it and before the ack.
    CorpusWriter(tmp_path, "test", rotate_bytes=1 << 20).append(
        [record("a", "https://x.com/1", STORY).model_dump_json()]
    )
    store = make_store(client, streams, tmp_path)
    await store.start()
    redelivered = await store.write_batch([record("a", "https://x.com/1", STORY)])
    assert redelivered.stored == []
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
