"""The parser service: raw documents in, corpus records (or rejections) out."""

from __future__ import annotations

import logging
import time
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisStreamMessage

from services.core.broker import (
    claimer_name,
    claimer_sub,
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.delivery import Deliveries, guarded, message_ids
from services.core.lifecycle import Lifecycle
from services.core.messages import CorpusRecord, RawDocument, Rejection
from services.core.metrics import EXTRACTION, PARSED, REJECTED
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams, consumer_name
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import Extracted, ExtractorPool
from services.parser.furniture import default_furniture

logger = logging.getLogger(__name__)


def build_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    pool = ExtractorPool(
        workers=1,
        tasks_per_worker=settings.parser_worker_tasks,
        timeout=settings.parser_extract_timeout,
        max_html_bytes=settings.parser_max_html_bytes,
    )

    async def extract(html: str, url: str | None) -> Extracted | None:
        started = time.perf_counter()
        try:
            return await pool.extract(html, url)
        finally:
            EXTRACTION.observe(time.perf_counter() - started)

    parser = DocumentParser(
        extract,
        default_furniture(),
        ParserPolicy(frozenset(settings.languages), settings.min_text_chars),
    )
    deliveries = Deliveries(client, streams, "parser", streams.raw, PARSER_GROUP)
    name = consumer_name("parser", settings.consumer_name)
    lifecycle = Lifecycle(
        client, streams, settings, inputs={streams.raw: [name, claimer_name(name)]}
    )

    to_parsed = broker.publisher(stream=streams.parsed, schema=CorpusRecord, title="parsed")
    to_rejected = broker.publisher(stream=streams.rejected, schema=Rejection, title="rejected")

    async def parse(body: dict[str, Any]) -> None:
        outcome = await parser.parse(RawDocument.model_validate(body))
        if isinstance(outcome, CorpusRecord):
            await to_parsed.publish(outcome)
            PARSED.inc()
        else:
            await to_rejected.publish(outcome)
            REJECTED.labels(outcome.reason).inc()

    async def handle(body: dict[str, Any], message: RedisStreamMessage, claimed: bool) -> None:
        (message_id,) = message_ids(message.raw_message)
        await guarded(
            deliveries,
            message_id,
            body,
            lambda: parse(body),
            claimed=claimed,
            max_deliveries=settings.max_deliveries,
        )

    reader = StreamSub(
        streams.raw, group=PARSER_GROUP, consumer=name, max_records=settings.parser_batch
    )
    claimer = claimer_sub(streams.raw, PARSER_GROUP, name, settings)

    @broker.subscriber(
        stream=reader,
        title="parser",
        description="Raw documents (RawDocument JSON) to parse; dead letters go to <prefix>:dead.",
    )
    async def on_raw(body: dict[str, Any], message: RedisStreamMessage) -> None:
        await handle(body, message, claimed=False)

    @broker.subscriber(stream=claimer, title="parser-claim")
    async def on_raw_claimed(body: dict[str, Any], message: RedisStreamMessage) -> None:
        await handle(body, message, claimed=True)

    async def setup() -> None:
        await wait_for_broker(client)
        await ensure_groups(client, streams)

    async def close() -> None:
        pool.close()
        await lifecycle.close()

    return FastStream(
        broker,
        specification=specification(
            "parser", "Extracts clean Arabic text and metadata from raw documents."
        ),
        logger=logger,
        on_startup=[setup],
        after_startup=[lifecycle.start],
        on_shutdown=[lifecycle.stop],
        after_shutdown=[close],
    )
