"""What the store service does with the corpus records it reads.

A batch is written to the corpus and settled in the index as a whole (`CorpusStore`); a body
that is not a valid record is dead-lettered at once and the rest of its batch stored. A batch
that fails stays pending, each message's error remembered for its dead letter; the claimer
hands such messages back one at a time, under the stage's delivery limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from services.core.delivery import PERMANENT, Deliveries, guarded
from services.core.messages import CorpusRecord
from services.core.metrics import DUPLICATES, STORED
from services.store.pending import recover_pending
from services.store.store import CorpusStore


class ParsedConsumer:
    """Appends corpus records read from the parsed stream to the corpus, once each."""

    def __init__(
        self,
        store: CorpusStore,
        deliveries: Deliveries,
        *,
        batch_size: int,
        linger_seconds: float,
        max_deliveries: int,
    ) -> None:
        self._store = store
        self._deliveries = deliveries
        self._batch_size = batch_size
        self._linger_seconds = linger_seconds
        self._max_deliveries = max_deliveries

    async def start(self, client: Redis, consumer: str, own_consumers: Sequence[str]) -> None:
        """Before the subscribers read: make the index agree with the corpus, then handle the
        entries `consumer` read and never acknowledged (a killed process with the same name)."""
        await self._store.start(own_consumers=own_consumers)
        await recover_pending(
            client,
            self._deliveries.stream,
            self._deliveries.group,
            consumer,
            self._batch_size,
            self.handle,
        )

    async def batch(self, bodies: Sequence[Any], ids: Sequence[str]) -> None:
        """A batch read from the stream."""
        await self.handle(list(bodies), list(ids))
        if len(bodies) < self._batch_size:
            # Each batch costs two round trips and an fsync whatever its size: at a trickle,
            # let records gather for a moment instead of settling them one by one.
            await asyncio.sleep(self._linger_seconds)

    async def claimed(self, bodies: Sequence[Any], ids: Sequence[str]) -> None:
        """Messages claimed from a consumer that left them pending."""
        await self.handle(list(bodies), list(ids), claimed=True)

    async def handle(self, bodies: list[Any], ids: list[str], claimed: bool = False) -> None:
        records: list[CorpusRecord] = []
        record_ids: list[str] = []
        for body, message_id in zip(bodies, ids, strict=True):
            try:
                records.append(CorpusRecord.model_validate(body))
                record_ids.append(message_id)
            except PERMANENT as exc:
                await self._deliveries.refuse(message_id, body, exc, deliveries=1)
        if claimed and record_ids:
            # XAUTOCLAIM hands the claimer one message at a time: apply the delivery limit.
            (message_id,) = record_ids
            await guarded(
                self._deliveries,
                message_id,
                bodies[0],
                lambda: self._write(records, record_ids),
                claimed=True,
                max_deliveries=self._max_deliveries,
            )
            return
        try:
            await self._write(records, record_ids)
        except Exception as exc:
            for message_id in record_ids:
                await self._deliveries.failed(message_id, exc)
            raise

    async def _write(self, records: list[CorpusRecord], ids: list[str]) -> None:
        result = await self._store.write_batch(records, ids)
        STORED.inc(len(result.stored))
        DUPLICATES.inc(len(result.duplicates))
