"""The parser service: raw documents in, corpus records (or rejections) out."""

from __future__ import annotations

import logging
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisStreamMessage

from services.core.broker import connect, ensure_groups, make_broker
from services.core.handling import PERMANENT, dead_letter, message_ids
from services.core.messages import CorpusRecord, RawDocument
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams, consumer_name
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import ExtractorPool
from services.parser.furniture import default_furniture

logger = logging.getLogger(__name__)


def build_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    pool = ExtractorPool(workers=1, tasks_per_worker=settings.parser_worker_tasks)
    parser = DocumentParser(
        pool.extract,
        default_furniture(),
        ParserPolicy(frozenset(settings.languages), settings.min_text_chars),
    )
    reader = StreamSub(
        streams.raw,
        group=PARSER_GROUP,
        consumer=consumer_name("parser", settings.consumer_name),
        max_records=settings.parser_batch,
    )

    @broker.subscriber(stream=reader, title="parser")
    async def on_raw(body: dict[str, Any], message: RedisStreamMessage) -> None:
        try:
            raw = RawDocument.model_validate(body)
            outcome = await parser.parse(raw)
        except PERMANENT as exc:
            (message_id,) = message_ids(message.raw_message)
            await dead_letter(
                broker,
                streams.dead,
                stage="parser",
                stream=streams.raw,
                message_id=message_id,
                error=exc,
                deliveries=1,
                payload=body,
            )
            return
        target = streams.parsed if isinstance(outcome, CorpusRecord) else streams.rejected
        await broker.publish(outcome, stream=target)

    async def setup() -> None:
        client = connect(settings)
        try:
            await ensure_groups(client, streams)
        finally:
            await client.aclose()

    return FastStream(broker, logger=logger, on_startup=[setup], after_shutdown=[pool.close])
