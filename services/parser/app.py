"""The parser service: raw documents in, corpus records (or rejections) out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage

from services.core.broker import (
    claimer_name,
    claimer_sub,
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.delivery import Deliveries, as_payload, guarded, message_ids
from services.core.lifecycle import Lifecycle
from services.core.messages import CorpusRecord, RawDocument, Rejection
from services.core.metrics import EXTRACTION, PARSED, REJECTED
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams, consumer_name
from services.core.wire import decode_batch, parse_batch
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import ExtractorPool
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
        timed=EXTRACTION.observe,
    )
    parser = DocumentParser(
        pool.extract,
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

    async def handle(body: Any, message_id: str, claimed: bool) -> None:
        payload = as_payload(body)
        await guarded(
            deliveries,
            message_id,
            payload,
            lambda: parse(payload),
            claimed=claimed,
            max_deliveries=settings.max_deliveries,
        )

    async def handle_batch(bodies: list[Any], ids: list[str]) -> None:
        """Parse a batch concurrently: while the worker extracts one page, this process
        finishes the one before. Failed messages stay pending, the others are acknowledged."""
        outcomes = await asyncio.gather(
            *(
                handle(body, message_id, False)
                for body, message_id in zip(bodies, ids, strict=True)
            ),
            return_exceptions=True,
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if not failures:
            return
        done = [i for i, o in zip(ids, outcomes, strict=True) if not isinstance(o, BaseException)]
        if done:
            await client.xack(streams.raw, PARSER_GROUP, *done)
        raise failures[0]

    reader = StreamSub(
        streams.raw,
        group=PARSER_GROUP,
        consumer=name,
        batch=True,
        max_records=settings.parser_batch,
    )
    claimer = claimer_sub(streams.raw, PARSER_GROUP, name, settings)

    @broker.subscriber(
        stream=reader,
        title="parser",
        description="Raw documents (RawDocument JSON) to parse; dead letters go to <prefix>:dead.",
        parser=parse_batch,
        decoder=decode_batch,
    )
    async def on_raw(bodies: list[Any], message: RedisBatchStreamMessage) -> None:
        await handle_batch(list(bodies), message_ids(message.raw_message))

    @broker.subscriber(stream=claimer, title="parser-claim")
    async def on_raw_claimed(body: Any, message: RedisStreamMessage) -> None:
        (message_id,) = message_ids(message.raw_message)
        await handle(body, message_id, claimed=True)

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
