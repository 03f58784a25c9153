"""The shared dedup index in Redis: exact keys kept for good, near-duplicate keys for a window.

Several store replicas share it. Each batch is checked and reserved by one Lua script, so two
replicas never both keep a story; the layout is described in `services/store/scripts.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.core.streams import STORE_GROUP, Streams
from services.store.dedup import DedupKeys, Duplicate
from services.store.identity import BUILDING, READY, Binding
from services.store.minhash import MinHashParams
from services.store.scripts import ADD, RELEASE, RESERVE

_DAY = 86400
# Bumped when the layout changes, so an old index is never read with new rules.
LAYOUT_VERSION = "1"


@dataclass(frozen=True)
class Window:
    """How long near-duplicate keys live: generations of a third of the window each."""

    days: int
    generation_days: int

    @classmethod
    def of(cls, days: int) -> Window:
        return cls(days, max(1, math.ceil(days / 3)))

    def generation(self, when: datetime) -> int:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp() // (self.generation_days * _DAY))

    def expire_at(self, generation: int) -> int:
        """When a generation's keys go: once its newest entry is older than the window."""
        return (generation + 1) * self.generation_days * _DAY + self.days * _DAY

    @property
    def searched(self) -> int:
        """Generations a lookup reads: the current one and those the window reaches back to."""
        return math.ceil(self.days / self.generation_days) + 1


# A place in one writer's corpus: file name and byte offset; None stands for its beginning.
Position = tuple[str, int]


def parse_position(value: str) -> Position | None:
    name, _, offset = value.rpartition("\t")
    return (name, int(offset)) if name and offset.isdigit() else None


def earliest(*positions: Position | None) -> Position | None:
    """The first of several positions of one writer (file names sort in writing order)."""
    if any(p is None for p in positions):
        return None
    return min(p for p in positions if p is not None)


@dataclass(frozen=True)
class Verdict:
    """The index's answer for one record of a batch."""

    keys: DedupKeys
    status: str  # new, takeover, exact-url, exact-hash, near
    duplicate: Duplicate | None
    previous_writer: str | None
    # Where the taken-over writer's lines for this record would start, if it wrote them.
    previous_position: Position | None = None


@dataclass(frozen=True)
class Reservation:
    record_id: str
    message_id: str
    # The writer's corpus position when it reserved: the record, if written, lies after it.
    position: Position | None = None


class DedupIndex:
    """Check-and-reserve, commit, release and bulk add against the shared index."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        params: MinHashParams,
        window: Window,
        buckets: int,
        threshold: float,
    ) -> None:
        self._client = client
        self._streams = streams
        self.params = params
        self.window = window
        self.buckets = buckets
        self.threshold = threshold
        self.base = streams.index_prefix
        self.binding_key = streams.corpus_binding
        self._reserve = client.register_script(RESERVE)
        self._add = client.register_script(ADD)
        self._release = client.register_script(RELEASE)

    @property
    def reserved_key(self) -> str:
        return self._streams.index_key("reserved")

    @property
    def checkpoint_key(self) -> str:
        return self._streams.index_key("checkpoint")

    @property
    def meta_key(self) -> str:
        return self._streams.index_key("meta")

    def expected_meta(self) -> dict[str, str]:
        p = self.params
        return {
            "layout": LAYOUT_VERSION,
            "shingle_size": str(p.shingle_size),
            "perm": str(p.perm),
            "bands": str(p.bands),
            "rows": str(p.rows),
            "seed": str(p.seed),
            "buckets": str(self.buckets),
            "generation_days": str(self.window.generation_days),
        }

    async def meta(self) -> dict[str, str]:
        found: Any = await self._client.hgetall(self.meta_key)
        return dict(found)

    async def write_meta(self, records: int | None = None) -> None:
        """Mark the index built; with `records`, a rebuild that settled that many records
        has finished, and the binding says so in the same transaction."""
        mapping: dict[Any, Any] = self.expected_meta()
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self.meta_key, mapping=mapping)
            if records is not None:
                pipe.hset(self.binding_key, mapping={"records": records, "state": READY})
                pipe.hdel(self.binding_key, "reset_fetcher")
            await pipe.execute()

    async def binding(self) -> Binding | None:
        """The corpus the index serves, as it recorded it; None if it names none."""
        found: Any = await self._client.hgetall(self.binding_key)
        return Binding.from_hash(dict(found))

    async def begin_binding(self, corpus_id: str, path: str, reset_fetcher: bool) -> None:
        """Name the corpus a rebuild is for, before it clears anything: a rebuild cut short
        is found unfinished (and, with `reset_fetcher`, the fetcher reset still owed)."""
        mapping: dict[Any, Any] = {
            "id": corpus_id,
            "path": path,
            "records": 0,
            "state": BUILDING,
            "bound_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if reset_fetcher:
            mapping["reset_fetcher"] = "1"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self.binding_key)
            pipe.hset(self.binding_key, mapping=mapping)
            await pipe.execute()

    async def fetcher_reset_done(self) -> None:
        await self._client.hdel(self.binding_key, "reset_fetcher")

    async def reserve(
        self,
        batch: Sequence[tuple[DedupKeys, str]],
        writer: str,
        now: datetime,
        position: Position,
    ) -> list[Verdict]:
        """Check each record against the index and earlier records of the batch, reserving the
        keys of every record that is new; one atomic round trip for the whole batch.

        `position` is where the writer's corpus ends before it writes this batch: kept with
        each reservation, it tells a later check where to look for the record.
        """
        if not batch:
            return []
        generation = self.window.generation(now)
        args: list[Any] = [
            self.base,
            self.buckets,
            writer,
            repr(self.threshold),
            self.params.bands,
            generation,
            self.window.expire_at(generation),
            self.window.searched,
            position[0],
            position[1],
        ]
        for keys, message_id in batch:
            sig = keys.signature
            args += [keys.id, message_id, keys.url, keys.content, sig.sketch if sig else b""]
            args += sig.bands if sig else [b"\0\0"] * self.params.bands
        reply = await self._reserve(args=args)
        verdicts = []
        for n, (keys, _) in enumerate(batch):
            status, of_id, similarity, previous, previous_at = reply[5 * n : 5 * n + 5]
            duplicate = None
            if status not in ("new", "takeover"):
                duplicate = Duplicate(status, of_id, float(similarity))
            verdicts.append(
                Verdict(keys, status, duplicate, previous or None, parse_position(previous_at))
            )
        return verdicts

    async def commit(
        self,
        reservations: Sequence[Reservation],
        acks: Sequence[str],
        writer: str,
        checkpoint: tuple[str, int] | None,
        counters: dict[str, int],
        records: int = 0,
    ) -> None:
        """Settle a written batch in one transaction: acknowledge its messages, drop its
        reservations (the records are in the corpus now), move the writer's checkpoint and
        count the `records` settled in the binding."""
        ids = [i for i in acks if i]
        async with self._client.pipeline(transaction=True) as pipe:
            if ids:
                pipe.xack(self._streams.parsed, STORE_GROUP, *ids)
            if reservations:
                pipe.hdel(self.reserved_key, *[r.record_id for r in reservations])
            if checkpoint:
                pipe.hset(self.checkpoint_key, writer, f"{checkpoint[0]}\t{checkpoint[1]}")
            for name, amount in counters.items():
                if amount:
                    pipe.hincrby(self._streams.counters, name, amount)
            if records:
                pipe.hincrby(self.binding_key, "records", records)
            await pipe.execute()

    async def reservations(self, writer: str) -> list[Reservation]:
        """The writer's reservations not yet settled (records it may or may not have written)."""
        held: Any = await self._client.hgetall(self.reserved_key)
        found = []
        for record_id, value in held.items():
            owner, message_id, *rest = value.split("\t")
            if owner == writer:
                at = parse_position("\t".join(rest[3:5])) if len(rest) >= 5 else None
                found.append(Reservation(record_id, message_id, at))
        return found

    async def release(self, writer: str, record_ids: Sequence[str]) -> int:
        if not record_ids:
            return 0
        dropped = await self._release(args=[self.base, self.buckets, writer, *record_ids])
        return int(dropped)

    async def add(self, entries: Sequence[tuple[DedupKeys, datetime | None]]) -> int:
        """Add stored records (keys and when they were stored); existing entries are kept."""
        if not entries:
            return 0
        now = datetime.now(UTC)
        args: list[Any] = [self.base, self.buckets, self.params.bands]
        for keys, stored_at in entries:
            sig = keys.signature
            generation = self.window.generation(stored_at) if stored_at and sig else None
            expire_at = self.window.expire_at(generation) if generation is not None else 0
            if generation is not None and expire_at <= now.timestamp():
                generation = None  # older than the window: exact keys only
            args += [keys.id, keys.url, keys.content]
            args += ["" if generation is None else generation, expire_at]
            args += [sig.sketch if sig and generation is not None else b""]
            args += sig.bands if sig else [b"\0\0"] * self.params.bands
        return int(await self._add(args=args))

    async def checkpoints(self) -> dict[str, Position]:
        found: Any = await self._client.hgetall(self.checkpoint_key)
        result = {}
        for writer, value in found.items():
            name, offset = value.rsplit("\t", 1)
            result[writer] = (name, int(offset))
        return result

    async def set_checkpoints(
        self, positions: dict[str, tuple[str, int]], replace: bool = True
    ) -> None:
        """Record where writers' settled records end; without `replace`, only where unset."""
        async with self._client.pipeline(transaction=False) as pipe:
            for writer, (name, offset) in positions.items():
                value = f"{name}\t{offset}"
                if replace:
                    pipe.hset(self.checkpoint_key, writer, value)
                else:
                    pipe.hsetnx(self.checkpoint_key, writer, value)
            await pipe.execute()

    async def clear(self) -> int:
        """Delete every key of the index (exact, near, reservations, checkpoints, meta); the
        binding stays, naming the corpus a rebuild is for."""
        removed = 0
        batch: list[str] = []
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.base) + ":*"
        async for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += await self._client.unlink(*batch)
                batch = []
        if batch:
            removed += await self._client.unlink(*batch)
        return removed
