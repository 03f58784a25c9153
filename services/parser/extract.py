"""HTML extraction with trafilatura, run in recycled worker processes.

trafilatura is not thread-safe and its memory grows over long runs, so it never runs in the
service's own process: a process pool runs it, and each worker is replaced after a fixed
number of documents. A page that keeps a worker busy past the time limit gets the worker
killed, so one pathological page cannot stall the service.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import multiprocessing
import sys
import time
import types
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from services.core.errors import (
    DocumentTooLargeError,
    ExtractionError,
    ExtractionTimeoutError,
    TransientError,
)
from services.parser import orphans

logger = logging.getLogger(__name__)

# Imported by the forkserver: it warms trafilatura up there (named, as it imports this module).
_FORKSERVER_PRELOAD = "services.parser.forkserver"
# htmldate falls back on the footer's copyright year and reports it as January 1st.
_YEAR_ONLY_SUFFIX = "-01-01"


@dataclass
class Extracted:
    """What trafilatura found in a page."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None


Extract = Callable[[str, str | None], Extracted | None]


def _confirmed_date(html: str, found: str | None, url: str | None) -> str | None:
    """The date, unless it is a year-only guess that no precise clue in the page supports.

    When its markup and URL rules find nothing, htmldate's extensive search falls back on the
    footer's copyright year (or any lone year) and reports it as January 1st: a made-up day.
    Such a date is dropped, so the feed entry's date applies instead.
    """
    if found is None or not found.endswith(_YEAR_ONLY_SUFFIX):
        return found
    from htmldate import find_date

    precise = find_date(html, extensive_search=False, original_date=True, url=url)
    return found if precise == found else None


def trafilatura_options() -> dict[str, Any]:
    """The options every extraction passes to `trafilatura.bare_extraction` (the benchmark's
    ceiling too)."""
    # Layout tables of older sites hold the article itself: with tables excluded, trafilatura's
    # fallback still finds that text, while kept tables bring navigation cells with them.
    # favor_precision is off for the same reason: it drops such pages altogether.
    return {
        "with_metadata": True,
        "include_comments": False,
        "include_tables": False,
        # trafilatura's own date defaults, spelled out so an upgrade cannot change them
        # silently: publication rather than update date, text patterns when the markup says
        # nothing, and no date after today.
        "date_extraction_params": {
            "extensive_search": True,
            "original_date": True,
            "max_date": datetime.date.today().isoformat(),
        },
    }


def extract_html(html: str, url: str | None = None) -> Extracted | None:
    """Main text and metadata of a page, comments excluded; None when it holds no text."""
    import trafilatura  # imported here so the service process never loads it

    document = trafilatura.bare_extraction(html, url=url, **trafilatura_options())
    if document is None:
        return None
    found: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    text = found.get("text") or ""
    if not text.strip():
        return None
    return Extracted(
        text=text,
        title=found.get("title"),
        author=found.get("author"),
        date=_confirmed_date(html, found.get("date"), url),
        sitename=found.get("sitename"),
        description=found.get("description"),
        categories=list(found.get("categories") or []),
        tags=list(found.get("tags") or []),
        image=found.get("image"),
    )


def warm_up() -> None:
    """Pay trafilatura's lazy one-time costs now: the stoplists its justext fallback uses
    when a page's language is unknown, and the date parser's language data."""
    from htmldate.extractors import get_external_parser
    from justext.core import define_stoplist
    from trafilatura.external import jt_stoplist_init

    define_stoplist(jt_stoplist_init())
    samples = files("services.parser").joinpath("data/warmup_dates.txt").read_text("utf-8")
    parser = get_external_parser()
    for line in samples.splitlines():
        if line.strip() and not line.startswith("#"):
            parser.get_date_data(line.strip())


def check_html_size(html: str, max_bytes: int) -> None:
    """Refuse a page larger than `max_bytes` in UTF-8 before it reaches a worker."""
    # A character is at least one byte: most pages are decided without encoding them.
    if len(html) <= max_bytes // 4:
        return
    size = len(html) if len(html) > max_bytes else len(html.encode("utf-8"))
    if size > max_bytes:
        raise DocumentTooLargeError(f"HTML of {size} bytes or more, limit is {max_bytes}")


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


def _failed(exc: BaseException) -> ExtractionError:
    return ExtractionError(f"extractor failed: {type(exc).__name__}: {exc}")


class ExtractorPool:
    """Worker processes running `function` (`extract_html`), recycled and time-limited.

    `timeout` bounds one document's time in a worker; past it the whole pool is replaced (its
    workers killed) and `ExtractionTimeoutError` is raised. Pages over `max_html_bytes` are
    refused with `DocumentTooLargeError` before reaching a worker.
    """

    def __init__(
        self,
        workers: int = 1,
        tasks_per_worker: int = 500,
        *,
        timeout: float = 30.0,
        max_html_bytes: int = 5 * 1024 * 1024,
        function: Extract = extract_html,
        timed: Callable[[float], object] | None = None,
    ) -> None:
        self._workers = workers
        self._tasks_per_worker = tasks_per_worker
        self._timeout = timeout
        self._max_html_bytes = max_html_bytes
        self._function = function
        # Told each extraction's seconds in a worker, time spent waiting for one excluded.
        self._timed = timed
        # One document per worker at a time, so the timeout never counts time spent queued.
        self._slots = asyncio.Semaphore(workers)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from the forkserver: with trafilatura imported and warmed there once, a
        # recycled worker starts ready instead of importing it again (about 1.5 s of CPU).
        # "__main__" has the forkserver run a script main itself, so workers skip it.
        context.set_forkserver_preload(
            [orphans.__name__, _FORKSERVER_PRELOAD, "__main__", *main_module_imports()]
        )
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=context,
            max_tasks_per_child=self._tasks_per_worker,
            initializer=orphans.die_with_parent,
        )

    def _replace(self, pool: ProcessPoolExecutor, *, kill: bool) -> None:
        """Swap in a fresh pool unless another failure already did."""
        if pool is not self._pool:
            return
        self._pool = self._new_pool()
        if kill:
            # shutdown() never stops a running task; a stuck worker has to be killed.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def extract(self, html: str, url: str | None = None) -> Extracted | None:
        check_html_size(html, self._max_html_bytes)
        loop = asyncio.get_running_loop()
        async with self._slots:
            pool = self._pool
            deadline = asyncio.timeout(self._timeout)
            started = time.perf_counter()
            try:
                async with deadline:
                    return await loop.run_in_executor(pool, self._function, html, url)
            except TimeoutError as exc:
                if not deadline.expired():
                    raise _failed(exc) from exc
                logger.error("extraction timed out url=%s timeout=%s", url, self._timeout)
                self._replace(pool, kill=True)
                raise ExtractionTimeoutError(
                    f"extraction took longer than {self._timeout:g}s"
                ) from exc
            except BrokenProcessPool as exc:
                # A worker died (segfault, OOM kill): replace the pool and let the message be
                # redelivered; repeated deaths on one document end in the dead stream.
                logger.error("extractor worker died url=%s reason=%s", url, exc)
                self._replace(pool, kill=False)
                raise TransientError(f"extractor worker died: {exc}") from exc
            except Exception as exc:
                # The extractor is deterministic: what it raises on a page it raises again.
                raise _failed(exc) from exc
            finally:
                if self._timed is not None:
                    self._timed(time.perf_counter() - started)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
