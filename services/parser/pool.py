"""Worker processes for the parser's heavy work, recycled and time-limited.

trafilatura is not thread-safe and its memory grows over long runs, so it never runs in the
service's own process: a process pool runs it, and each worker is replaced once its memory
or its count of documents passes a limit. The worker takes a batch at a time, with the next
one already queued beside it, so it goes from one page to the next without a round trip
through the service. A batch that keeps a worker busy past its time limit gets the worker
killed, so one pathological page cannot stall the service; its pages are then run one at a
time, so only the page at fault fails.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from services.core.errors import ExtractionError, ExtractionTimeoutError, TransientError
from services.parser import orphans

logger = logging.getLogger(__name__)

# Imported by the forkserver: it warms trafilatura up there (named, as it imports this module).
_FORKSERVER_PRELOAD = "services.parser.forkserver"

# Runs in a worker: one result (or the exception it met) per item, in the items' order.
BatchFunction = Callable[[list[Any]], list[Any]]

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes(pid: int) -> int | None:
    """The process's resident memory now (pages it shares with the forkserver included), or
    None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return None


def main_module_imports() -> list[str]:
    """The modules the running program's main module takes its names from.

    multiprocessing runs the main module again in every process it starts (`python -m NAME`
    and script mains alike). The forkserver imports these once, so that costs a worker
    milliseconds instead of the CLI's whole import time (0.3 s of CPU per recycled worker).
    """
    main = sys.modules.get("__main__")
    names: set[str] = set()
    for value in vars(main).values() if main is not None else ():
        if isinstance(value, types.ModuleType):
            names.add(value.__name__)
        elif isinstance(module := getattr(value, "__module__", None), str):
            names.add(module)
    # The main module itself is run again, not imported: importing it too would run it twice.
    names -= {"__main__", "__mp_main__", getattr(getattr(main, "__spec__", None), "name", "")}
    return sorted(names)


@dataclass
class _Handover:
    """A batch handed to a worker whose outcome is not handled yet: the pool it went to and
    its future there (both replaced when it is handed to a new worker)."""

    items: list[Any]
    pool: ProcessPoolExecutor = field(init=False)
    future: asyncio.Future[list[Any]] = field(init=False)


class WorkerPool:
    """A worker process running `function` on batches, replaced every `items_per_worker` items
    or, sooner, after a batch that leaves it holding more than `max_worker_bytes`.

    Two batches may be handed over at once: while one runs, the next waits in the worker's own
    queue, so the worker goes from one batch to the next without waiting for the service to
    publish the last one's results and read more. Batches run, and their outcomes are
    handled, in the order they were handed over.

    `timeout` bounds one item's time: a batch may take `timeout` per item, counted from the
    moment the batch ahead of it was handled. Past that the worker is killed, the batch's
    items are run again one at a time, and the batch queued behind it is handed to the new
    worker. An item that runs out of time alone gets `ExtractionTimeoutError`, one whose
    worker dies `TransientError`, one on which `function` itself raises `ExtractionError`.
    Results come back per item: a value or the exception for that item, never raised.
    """

    # One batch running and one queued behind it.
    DEPTH = 2

    def __init__(
        self,
        function: BatchFunction,
        *,
        items_per_worker: int = 5000,
        max_worker_bytes: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._function = function
        self._items_per_worker = items_per_worker
        self._max_worker_bytes = max_worker_bytes
        self._timeout = timeout
        self._done = 0
        self._slots = asyncio.Semaphore(self.DEPTH)
        # Taken in hand-over order (asyncio locks are fair): the holder's batch is the one the
        # worker runs, so a time limit never counts another batch's time.
        self._turn = asyncio.Lock()
        self._handed: list[_Handover] = []
        self._pool = self._new_pool()

    @property
    def in_flight(self) -> int:
        """Batches handed to the worker whose outcome is not handled yet."""
        return len(self._handed)

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from the forkserver: with trafilatura imported and warmed there once, a
        # recycled worker starts ready instead of importing it again (about 1.5 s of CPU).
        # "__main__" has the forkserver run a script main itself, so workers skip it.
        context.set_forkserver_preload(
            [orphans.__name__, _FORKSERVER_PRELOAD, "__main__", *main_module_imports()]
        )
        return ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=orphans.die_with_parent
        )

    def _hand_over(self, handover: _Handover) -> None:
        loop = asyncio.get_running_loop()
        handover.pool = self._pool
        handover.future = loop.run_in_executor(self._pool, self._function, handover.items)

    def _replace(self, *, failed: _Handover | None = None) -> None:
        """A new worker. After a failure the failed batch's worker is killed and the batches
        queued behind it are handed to the new one, in order; a worker replaced for its quota
        first finishes the batch already queued with it. `_retire` shuts the old one down."""
        old = failed.pool if failed is not None else self._pool
        if old is self._pool:
            self._pool = self._new_pool()
            self._done = 0
        if failed is None:
            return
        # shutdown() never stops a running task; a stuck worker has to be killed.
        for process in _processes(old).values():
            process.kill()
        for queued in self._handed:
            if queued is not failed and queued.pool is old:
                _discard(queued.future)  # it fails, or never starts, with the old worker
                self._hand_over(queued)

    def _retire(self, pool: ProcessPoolExecutor) -> None:
        """Shut a replaced pool down once no batch handed to it is left (once the failed
        batch is handled, or the last one queued with a worker replaced for its quota)."""
        if pool is not self._pool and not any(h.pool is pool for h in self._handed):
            pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, items: Sequence[Any]) -> list[Any]:
        """`function`'s result for each item, or the exception that item ended with."""
        if not items:
            return []
        async with self._slots:
            try:
                return await self._call(list(items))
            except (ExtractionTimeoutError, TransientError, ExtractionError) as exc:
                if len(items) == 1:
                    return [exc]
                logger.warning("batch failed, running its items one by one reason=%s", exc)
            return [await self._single(item) for item in items]

    async def _single(self, item: Any) -> Any:
        try:
            (result,) = await self._call([item])
        except (ExtractionTimeoutError, TransientError, ExtractionError) as exc:
            return exc
        return result

    async def _call(self, items: list[Any]) -> list[Any]:
        handover = _Handover(items)
        self._hand_over(handover)
        self._handed.append(handover)
        try:
            async with self._turn:
                return await self._outcome(handover)
        finally:
            self._handed.remove(handover)
            _discard(handover.future)
            self._retire(handover.pool)

    async def _outcome(self, handover: _Handover) -> list[Any]:
        items, future = handover.items, handover.future
        limit = self._timeout * len(items)
        done, _ = await asyncio.wait([future], timeout=limit)
        if not done:
            logger.error("worker timed out items=%d limit=%.1fs", len(items), limit)
            self._replace(failed=handover)
            raise ExtractionTimeoutError(f"extraction took longer than {self._timeout:g}s")
        if future.cancelled():
            raise TransientError("extraction cancelled: the worker pool was closed")
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            # A worker died (segfault, OOM kill): replace the pool and let the message be
            # redelivered; repeated deaths on one document end in the dead stream.
            logger.error("worker died items=%d reason=%s", len(items), error)
            self._replace(failed=handover)
            raise TransientError(f"extractor worker died: {error}") from error
        if error is not None:
            raise ExtractionError(f"worker failed: {type(error).__name__}: {error}") from error
        results = future.result()
        if len(results) != len(items):
            raise ExtractionError(f"worker gave {len(results)} results for {len(items)} items")
        # A batch the replaced worker finished counts for neither worker.
        if handover.pool is self._pool:
            self._done += len(items)
            if self._done >= self._items_per_worker or self._over_memory():
                self._replace()
        return results

    def _over_memory(self) -> bool:
        if self._max_worker_bytes is None:
            return False
        for pid in _processes(self._pool):
            size = resident_bytes(pid)
            if size is not None and size > self._max_worker_bytes:
                logger.info(
                    "worker replaced for its memory pid=%d rss_mb=%d limit_mb=%d documents=%d",
                    pid,
                    size >> 20,
                    self._max_worker_bytes >> 20,
                    self._done,
                )
                return True
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _processes(pool: ProcessPoolExecutor) -> dict[int, Any]:
    """The pool's worker processes by pid (a private attribute: none once it is shut down)."""
    return dict(getattr(pool, "_processes", None) or {})


def _discard(future: asyncio.Future[Any]) -> None:
    """Give up a batch's future: cancel it, or read its error so none is logged as unread."""
    if not future.cancel() and not future.cancelled():
        future.exception()
