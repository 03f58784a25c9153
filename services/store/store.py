"""The store's work: reserve each batch in the shared index, write the new records, settle.

Per batch: (1) one Lua call checks every record against the index (exact URL, exact text,
near-duplicate text) and reserves the keys of the new ones; (2) the new records are appended
to this writer's corpus file and fsynced, the duplicates to its duplicates log; (3) one
transaction acknowledges the messages, drops the reservations and moves the checkpoint.
A crash anywhere leaves reservations that the writer's next start settles or releases
against its corpus (`services/store/reconcile.py`). Before that, the start makes sure the
index serves this corpus at all (`services/store/binding.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from services.core.errors import StillWritingError
from services.core.messages import CorpusRecord, utcnow
from services.core.settings import Settings
from services.core.streams import Streams
from services.store.binding import bind_and_reconcile
from services.store.corpus import CorpusWriter, iter_after
from services.store.dedup import Duplicate, KeyMaker
from services.store.duplicates import duplicate_line, duplicate_log
from services.store.index import DedupIndex, Position, Reservation, Verdict, Window, earliest
from services.store.minhash import MinHasher, MinHashParams
from services.store.reconcile import ReconcileReport

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    stored: list[CorpusRecord] = field(default_factory=list)
    duplicates: list[tuple[CorpusRecord, Duplicate]] = field(default_factory=list)
    # Redelivered records that a writer which died before settling had already written.
    already_stored: list[CorpusRecord] = field(default_factory=list)


def build_index(client: Redis, streams: Streams, settings: Settings) -> DedupIndex:
    return DedupIndex(
        client,
        streams,
        MinHashParams.from_settings(settings),
        Window.of(settings.near_dup_window_days),
        settings.index_buckets,
        settings.near_dup_threshold,
    )


class CorpusStore:
    """Writes batches exactly once across replicas: reserved, then durable, then settled."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        writer: CorpusWriter,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or Settings(redis_url=None)
        self._client = client
        self._streams = streams
        self._live_seconds = settings.claim_idle_seconds
        self._writer = writer
        self._duplicates = duplicate_log(writer.corpus_dir, writer.writer, writer.rotate_bytes)
        self.index = build_index(client, streams, settings)
        self.keymaker = KeyMaker(MinHasher(self.index.params))
        # Records between reserve and commit in this process. The claimer may take over a
        # message whose first delivery is still being written here; it must wait for it.
        self._writing: set[str] = set()

    @property
    def writer(self) -> str:
        return self._writer.writer

    @property
    def corpus_dir(self) -> Path:
        return self._writer.corpus_dir

    async def start(self, own_consumers: Collection[str] = ()) -> ReconcileReport:
        """Repair crash-cut last lines, then make the index serve and agree with the corpus.

        `own_consumers` are this process's consumer names in the store group: they are not
        other running stores (a fixed name's previous process was killed).
        """
        self._writer.repair()
        self._duplicates.repair()
        return await bind_and_reconcile(
            self._client,
            self._streams,
            self.index,
            self.keymaker,
            self.corpus_dir,
            self.writer,
            own_consumers,
            self._live_seconds,
        )

    async def write_batch(
        self, records: Sequence[CorpusRecord], message_ids: Sequence[str] | None = None
    ) -> BatchResult:
        """Store a batch; `message_ids` (stream entry ids) are acknowledged with it."""
        if not records:
            return BatchResult()
        ids = list(message_ids) if message_ids is not None else [""] * len(records)
        busy = self._writing.intersection(r.id for r in records)
        if busy:
            raise StillWritingError(f"records still being written here: {sorted(busy)}")
        batch_ids = {r.id for r in records}
        self._writing |= batch_ids
        try:
            return await self._write(records, ids)
        finally:
            self._writing -= batch_ids

    async def _write(self, records: Sequence[CorpusRecord], ids: list[str]) -> BatchResult:
        now = utcnow()
        keys = [self.keymaker.keys(r.id, r.url, r.text, r.content_hash) for r in records]
        verdicts = await self.index.reserve(
            list(zip(keys, ids, strict=True)), self.writer, now, self._writer.position()
        )
        written_elsewhere = await self._written_elsewhere(records, verdicts)
        result = BatchResult()
        reservations: list[Reservation] = []
        for record, message_id, verdict in zip(records, ids, verdicts, strict=True):
            if verdict.duplicate is not None:
                result.duplicates.append((record, verdict.duplicate))
                continue
            reservations.append(Reservation(record.id, message_id))
            if record.id in written_elsewhere:
                result.already_stored.append(record)
            else:
                record.stored_at = now
                result.stored.append(record)
        position = await asyncio.to_thread(
            self._writer.append, [r.model_dump_json() for r in result.stored]
        )
        if result.duplicates:
            lines = [duplicate_line(r, d, now) for r, d in result.duplicates]
            await asyncio.to_thread(self._duplicates.append, lines)
        near = sum(1 for _, d in result.duplicates if d.reason == "near")
        counters = {
            "stored": len(result.stored),
            "duplicates": len(result.duplicates),
            "near_duplicates": near,
        }
        settled = len(result.stored) + len(result.already_stored)
        await self.index.commit(reservations, ids, self.writer, position, counters, settled)
        for record, dup in result.duplicates:
            logger.info(
                "duplicate url=%s source=%s reason=%s of=%s similarity=%.3f",
                record.url,
                record.source,
                dup.reason,
                dup.of_id,
                dup.similarity,
            )
        return result

    async def _written_elsewhere(
        self, records: Sequence[CorpusRecord], verdicts: list[Verdict]
    ) -> set[str]:
        """Ids of redelivered records whose earlier writer wrote them but never settled.

        A message claimed from a dead consumer, or redelivered after a failed commit, finds
        the reservation its first delivery made. That writer's corpus from where it stood
        when it reserved (its checkpoint may have moved past since) tells whether the write
        happened.
        """
        wanted: dict[str, set[str]] = {}
        since: dict[str, list[Position | None]] = {}
        for record, verdict in zip(records, verdicts, strict=True):
            if verdict.status == "takeover" and verdict.previous_writer:
                wanted.setdefault(verdict.previous_writer, set()).add(record.id)
                since.setdefault(verdict.previous_writer, []).append(verdict.previous_position)
        if not wanted:
            return set()
        checkpoints = await self.index.checkpoints()

        def scan() -> set[str]:
            found: set[str] = set()
            for other, record_ids in wanted.items():
                start = earliest(checkpoints.get(other), *since[other])
                for row in iter_after(self.corpus_dir, other, start):
                    if row.get("id") in record_ids:
                        found.add(str(row["id"]))
            return found

        found = await asyncio.to_thread(scan)
        taken = sum(len(v) for v in wanted.values())
        logger.warning("reservations taken over count=%d already_written=%d", taken, len(found))
        return found
