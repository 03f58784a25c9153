"""Worker processes for the parser's heavy work, recycled and time-limited.

trafilatura is not thread-safe and its memory grows over long runs, so it never runs in the
service's own process: a process pool runs it, and each worker is replaced after a fixed
number of documents. The pool takes a batch at a time, so a worker goes from one page to
the next without a round trip through the service for each. A batch that keeps a worker
busy past its time limit gets the worker killed, so one pathological page cannot stall the
service; its pages are then run one at a time, so only the page at fault fails.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sys
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from services.core.errors import ExtractionError, ExtractionTimeoutError, TransientError
from services.parser import orphans

logger = logging.getLogger(__name__)

# Imported by the forkserver: it warms trafilatura up there (named, as it imports this module).
_FORKSERVER_PRELOAD = "services.parser.forkserver"

# Runs in a worker: one result (or the exception it met) per item, in the items' order.
BatchFunction = Callable[[list[Any]], list[Any]]


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


class WorkerPool:
    """A worker process running `function` on batches, replaced every `items_per_worker` items.

    `timeout` bounds one item's time: a batch may take `timeout` per item. Past that the
    worker is killed and the batch's items are run again one at a time; an item that runs
    out of time alone gets `ExtractionTimeoutError`, one whose worker dies `TransientError`,
    one on which `function` itself raises `ExtractionError`. Results come back per item:
    a value or the exception for that item, never raised.
    """

    def __init__(
        self,
        function: BatchFunction,
        *,
        items_per_worker: int = 500,
        timeout: float = 30.0,
    ) -> None:
        self._function = function
        self._items_per_worker = items_per_worker
        self._timeout = timeout
        self._done = 0
        # One batch at a time, so a batch's time limit never counts time spent queued.
        self._slot = asyncio.Lock()
        self._pool = self._new_pool()

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

    def _replace(self, *, kill: bool) -> None:
        pool, self._pool = self._pool, self._new_pool()
        self._done = 0
        if kill:
            # shutdown() never stops a running task; a stuck worker has to be killed.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, items: Sequence[Any]) -> list[Any]:
        """`function`'s result for each item, or the exception that item ended with."""
        if not items:
            return []
        async with self._slot:
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
        loop = asyncio.get_running_loop()
        limit = self._timeout * len(items)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                results = await loop.run_in_executor(self._pool, self._function, items)
        except TimeoutError as exc:
            if not deadline.expired():
                raise ExtractionError(f"worker failed: TimeoutError: {exc}") from exc
            logger.error("worker timed out items=%d limit=%.1fs", len(items), limit)
            self._replace(kill=True)
            raise ExtractionTimeoutError(f"extraction took longer than {self._timeout:g}s") from exc
        except BrokenProcessPool as exc:
            # A worker died (segfault, OOM kill): replace the pool and let the message be
            # redelivered; repeated deaths on one document end in the dead stream.
            logger.error("worker died items=%d reason=%s", len(items), exc)
            self._replace(kill=False)
            raise TransientError(f"extractor worker died: {exc}") from exc
        except Exception as exc:
            raise ExtractionError(f"worker failed: {type(exc).__name__}: {exc}") from exc
        if len(results) != len(items):
            raise ExtractionError(f"worker gave {len(results)} results for {len(items)} items")
        self._done += len(items)
        if self._done >= self._items_per_worker:
            self._replace(kill=False)  # between batches: nothing runs in the old worker
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
