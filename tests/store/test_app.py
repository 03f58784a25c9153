"""The store service in-process against a real server: batches land in the corpus once."""

from redis.asyncio import Redis

from services.core.arabic import content_hash
from services.core.broker import make_broker
from services.core.messages import CorpusRecord, utcnow
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams
from services.store.app import build_app
from services.store.corpus import iter_records
from tests.helpers import eventually, running, stream_payloads

TEXTS = [
    "وقعت دولة قطر اليوم اتفاقا مع حلف شمال الأطلسي لافتتاح مكاتب بعثة في بروكسل.",
    "اجتمع رئيس الأركان القطري مع الملحق العسكري التركي لبحث التعاون العسكري.",
]


async def test_records_stored_once_and_acknowledged(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    records = [
        CorpusRecord(
            id=f"r{n}",
            url=f"https://example.com/{n}",
            source="test",
            title="عنوان",
            text=TEXTS[n % 2],
            date=None,
            language="ar",
            fetched_at=utcnow(),
            content_hash=content_hash(TEXTS[n % 2]),
        )
        for n in range(6)
    ]
    async with make_broker(settings) as broker:
        for rec in records:
            await broker.publish(rec, stream=streams.parsed)
        await broker.publish({"id": "broken"}, stream=streams.parsed)
    async with running(build_app(settings)):

        async def drained() -> bool:
            pending = await client.xpending(streams.parsed, STORE_GROUP)
            groups = await client.xinfo_groups(streams.parsed)
            return pending["pending"] == 0 and groups[0]["lag"] == 0

        await eventually(drained)

    stored = list(iter_records(settings.corpus_dir))
    assert [r["id"] for r in stored] == ["r0", "r1"]
    assert stored[0]["text"] == TEXTS[0]
    assert stored[0]["stored_at"]
    assert await client.hgetall(streams.counters) == {"stored": "2", "duplicates": "4"}
    (dead,) = await stream_payloads(client, streams.dead)
    assert (dead["stage"], dead["payload"]) == ("store", {"id": "broken"})
