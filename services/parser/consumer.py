"""What the parser service does with the raw messages it reads.

A batch goes to the worker as it came from the stream; what comes back is published, with
the raw messages acknowledged, in one transaction, so a record is never published without
its message being acknowledged or the other way round. Failures follow the stage's delivery
policy one message at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis

from services.core.delivery import Deliveries, as_payload, guarded
from services.core.metrics import EXTRACTION, PARSED, REJECTED
from services.core.streams import PARSER_GROUP, Streams
from services.core.wire import DATA_FIELD, decode_data
from services.parser.pool import WorkerPool
from services.parser.worker import Outcome

logger = logging.getLogger(__name__)


def payload_of(message: bytes) -> dict[str, Any]:
    """A raw message as its dead letter keeps it."""
    return as_payload(decode_data(message))


class RawConsumer:
    """Parses raw messages in the worker pool and publishes the records and rejections."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        pool: WorkerPool,
        deliveries: Deliveries,
        max_deliveries: int,
    ) -> None:
        self._client = client
        self._streams = streams
        self._pool = pool
        self._deliveries = deliveries
        self._max_deliveries = max_deliveries

    async def batch(self, messages: Sequence[bytes], ids: Sequence[str]) -> None:
        """Parse a batch read from the stream. Messages that failed for a reason that may
        pass stay pending (the first such error is raised, so the batch is not acknowledged
        as a whole); the others are acknowledged."""
        results = await self._pool.run(messages)
        await self._publish(
            [(i, r) for i, r in zip(ids, results, strict=True) if isinstance(r, Outcome)]
        )
        failures: list[Exception] = []
        for message, message_id, result in zip(messages, ids, results, strict=True):
            if isinstance(result, Outcome):
                continue
            try:
                await guarded(
                    self._deliveries,
                    message_id,
                    payload_of(message),
                    _raiser(result),
                    claimed=False,
                    max_deliveries=self._max_deliveries,
                )
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    async def claimed(self, message: bytes, message_id: str) -> None:
        """Parse a message claimed from a consumer that left it pending."""

        async def work() -> None:
            (result,) = await self._pool.run([message])
            if not isinstance(result, Outcome):
                raise result
            await self._publish([(message_id, result)])

        await guarded(
            self._deliveries,
            message_id,
            payload_of(message),
            work,
            claimed=True,
            max_deliveries=self._max_deliveries,
        )

    async def _publish(self, done: list[tuple[str, Outcome]]) -> None:
        if not done:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            for _, outcome in done:
                stream = self._streams.rejected if outcome.rejected else self._streams.parsed
                pipe.xadd(stream, {DATA_FIELD: outcome.body})
            pipe.xack(self._streams.raw, PARSER_GROUP, *(message_id for message_id, _ in done))
            await pipe.execute()
        for _, outcome in done:
            EXTRACTION.observe(outcome.seconds)
            if outcome.rejected:
                REJECTED.labels(outcome.reason).inc()
                logger.info(
                    "rejected id=%s url=%s source=%s reason=%s detail=%s",
                    outcome.id,
                    outcome.url,
                    outcome.source,
                    outcome.reason,
                    outcome.detail,
                )
            else:
                PARSED.inc()


def _raiser(error: Exception) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        raise error

    return work
