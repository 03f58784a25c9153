"""Binding the dedup index to the corpus it serves, before a store takes any message.

At startup a store (and `akhbar reindex`) takes the prefix's binding lock, makes sure its
corpus folder has a manifest, and compares the corpus with what the index says it serves
(`services/store/identity.py`). When they agree it only reconciles its own crash leftovers.
When they do not, it rebuilds the index from its corpus: it names the corpus in the binding
first, clears the index, clears the fetcher's seen-set and feed validators if they belong to
another corpus, then adds every record and marks the binding ready. Each step can be cut
short by a crash; the next start finds the binding unfinished and does it again.

Clearing the index under a running store would break it (its reservations and keys vanish
mid-batch), so a store refuses to rebuild an index in service (built, and not being rebuilt)
while another store consumer of the prefix has read within `AKHBAR_CLAIM_IDLE_SECONDS`: it
stops with a `ConfigError` saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.errors import ConfigError
from services.core.streams import STORE_GROUP, Streams
from services.store.dedup import KeyMaker
from services.store.identity import (
    Assessment,
    Binding,
    CorpusManifest,
    assess,
    count_records,
    ensure_manifest,
)
from services.store.index import DedupIndex
from services.store.reconcile import ReconcileReport, finish_rebuild, rebuild, reconcile
from services.store.scripts import LOCK_DROP, LOCK_RENEW, LOCK_TAKE

logger = logging.getLogger(__name__)

# The lock expires this long after its holder stopped renewing it (killed, say).
LOCK_SECONDS = 30.0
_LOCK_POLL = 0.5


class BindingLock:
    """One process at a time checks, binds or rebuilds one prefix's index.

    Held for as long as a rebuild takes (renewed in the background); a holder that dies
    loses it after `LOCK_SECONDS`, or at once to its own restart (same owner name).
    """

    def __init__(self, client: Redis, key: str, owner: str, seconds: float = LOCK_SECONDS):
        self._client = client
        self._key = key
        self.owner = owner
        self._ms = int(seconds * 1000)
        self._take = client.register_script(LOCK_TAKE)
        self._renew = client.register_script(LOCK_RENEW)
        self._drop = client.register_script(LOCK_DROP)
        self._renewing: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        waited_for = ""
        while True:
            holder = str(await self._take(keys=[self._key], args=[self.owner, self._ms]))
            if not holder:
                break
            if holder != waited_for:
                logger.info("waiting for the index binding lock holder=%s", holder)
                waited_for = holder
            await asyncio.sleep(_LOCK_POLL)
        self._renewing = asyncio.create_task(self._keep(), name="binding-lock")

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._ms / 3000)
            await self._renew(keys=[self._key], args=[self.owner, self._ms])

    async def release(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewing
            self._renewing = None
        await self._drop(keys=[self._key], args=[self.owner])

    async def __aenter__(self) -> BindingLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.release()


def reindex_owner() -> str:
    return f"reindex-{socket.gethostname()}-{os.getpid()}"


async def live_stores(
    client: Redis, streams: Streams, exclude: Collection[str], within_seconds: float
) -> list[str]:
    """Store consumers of the prefix, other than `exclude`, that read within the window."""
    try:
        consumers: list[dict[str, Any]] = await client.xinfo_consumers(streams.parsed, STORE_GROUP)
    except ResponseError:  # no stream or no group yet: no store has ever read
        return []
    window = within_seconds * 1000
    return [
        str(c["name"]) for c in consumers if c["name"] not in exclude and int(c["idle"]) < window
    ]


async def forget_fetched(client: Redis, streams: Streams) -> tuple[int, int]:
    """Forget every URL the fetcher took and every feed's ETag and Last-Modified, keeping its
    health: the next poll of each feed downloads every article it still lists, into the new
    corpus. Returns how many URLs were forgotten and how many feeds were reset.

    The store does this itself, through the keys in `Streams`, rather than through the
    fetcher's code: services depend on `core` only."""
    urls = int(await client.scard(streams.seen_urls))
    # UNLINK frees a large set in the background instead of blocking the server.
    await client.unlink(streams.seen_urls)
    feeds = 0
    async for key in client.scan_iter(match=streams.feed_states, count=500):
        await client.hdel(key, "etag", "last_modified")
        feeds += 1
    return urls, feeds


async def start_rebuild(
    client: Redis,
    streams: Streams,
    index: DedupIndex,
    manifest: CorpusManifest,
    corpus_dir: Path,
    reset_fetcher: bool,
) -> int:
    """Bind the index to `manifest`'s corpus and empty it (and, with `reset_fetcher`, the
    fetcher's seen-set and feed validators); returns how many index keys were removed. The
    caller then adds the corpus's records and finishes with `finish_rebuild`."""
    path = await asyncio.to_thread(corpus_dir.resolve)
    await index.begin_binding(manifest.id, str(path), reset_fetcher)
    removed = await index.clear()
    if reset_fetcher:
        urls, feeds = await forget_fetched(client, streams)
        await index.fetcher_reset_done()
        logger.info("fetcher state reset seen_urls=%d feeds=%d", urls, feeds)
    return removed


@dataclass(frozen=True)
class Inspection:
    """The corpus as found on disk, and the index's binding read just before counting it."""

    corpus_dir: Path
    manifest: CorpusManifest
    binding: Binding | None
    on_disk: int
    assessment: Assessment

    def announce(self) -> None:
        """The one line a rebuild is logged with."""
        # A new corpus on a new server is how every installation begins: nothing to warn of.
        level = logging.INFO if self.assessment.reason == "new-corpus" else logging.WARNING
        logger.log(
            level,
            "index does not serve this corpus, rebuilding reason=%s corpus=%s corpus_id=%s "
            "index_corpus_id=%s index_records=%d corpus_records=%d reset_fetcher=%s",
            self.assessment.reason,
            self.corpus_dir,
            self.manifest.id,
            self.binding.corpus_id if self.binding else "",
            self.binding.records if self.binding else 0,
            self.on_disk,
            str(self.assessment.reset_fetcher).lower(),
        )


async def inspect(index: DedupIndex, corpus_dir: Path) -> Inspection:
    """The corpus's manifest (written now if it has none) and how the index compares."""
    manifest, created = await asyncio.to_thread(ensure_manifest, corpus_dir)
    # The binding before the count: a record settled meanwhile is on disk by then.
    binding = await index.binding()
    on_disk = await asyncio.to_thread(count_records, corpus_dir)
    assessment = assess(manifest, created, binding, on_disk)
    return Inspection(corpus_dir, manifest, binding, on_disk, assessment)


def _refusal(
    streams: Streams, found: Inspection, live: list[str], within_seconds: float
) -> ConfigError:
    binding = found.binding
    served = f"corpus {binding.corpus_id} ({binding.path})" if binding else "no named corpus"
    return ConfigError(
        f"the dedup index of prefix {streams.prefix!r} has to be rebuilt for "
        f"{found.corpus_dir} ({found.assessment.reason}; it serves {served}), but store "
        "consumer(s) "
        f"{', '.join(sorted(live))} of that prefix read within the last {within_seconds:.0f}s "
        "and rebuilding under a running store would break it. Stop those stores, or give "
        "this corpus its own AKHBAR_STREAM_PREFIX. A store killed less than "
        "AKHBAR_CLAIM_IDLE_SECONDS ago counts as running; `akhbar reindex` rebinds at once."
    )


async def bind_and_reconcile(
    client: Redis,
    streams: Streams,
    index: DedupIndex,
    keymaker: KeyMaker,
    corpus_dir: Path,
    writer: str,
    own_consumers: Collection[str],
    live_seconds: float,
) -> ReconcileReport:
    """Make the index serve this writer's corpus, then reconcile the writer's leftovers."""
    async with BindingLock(client, streams.corpus_binding_lock, writer):
        found = await inspect(index, corpus_dir)
        if not found.assessment.rebuild:
            return await reconcile(index, keymaker, corpus_dir, writer)
        # Only an index that finished a build can have stores reading with it: one with no
        # `meta` or a rebuild cut short has served nobody since.
        binding = found.binding
        in_service = bool(await index.meta()) and (binding is None or binding.ready)
        if in_service:
            live = await live_stores(client, streams, own_consumers, live_seconds)
            if live:
                raise _refusal(streams, found, live, live_seconds)
        found.announce()
        # Read before the clear: the messages of those whose records this corpus holds are
        # acknowledged after the rebuild; the others are redelivered and checked afresh.
        held = await index.reservations(writer)
        reset = found.assessment.reset_fetcher
        await start_rebuild(client, streams, index, found.manifest, corpus_dir, reset)
        return await reconcile(index, keymaker, corpus_dir, writer, held=held)


async def rebind(
    client: Redis, streams: Streams, index: DedupIndex, keymaker: KeyMaker, corpus_dir: Path
) -> tuple[int, int]:
    """`akhbar reindex`: clear the index and build it from this corpus, bound to it, whatever
    it served before; returns the keys removed and the records indexed."""
    async with BindingLock(client, streams.corpus_binding_lock, reindex_owner()):
        found = await inspect(index, corpus_dir)
        if found.assessment.rebuild:
            found.announce()
        reset = found.assessment.reset_fetcher
        removed = await start_rebuild(client, streams, index, found.manifest, corpus_dir, reset)
        count, _, positions = await rebuild(index, keymaker, corpus_dir)
        await finish_rebuild(index, positions, count)
        return removed, count
