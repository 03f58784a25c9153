"""HTML extraction with trafilatura, run in recycled worker processes.

trafilatura is not thread-safe and its memory grows over long runs, so it never runs in the
service's own process: a process pool runs it, and each worker is replaced after a fixed
number of documents.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from services.core.errors import TransientError

logger = logging.getLogger(__name__)


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


def extract_html(html: str, url: str | None = None) -> Extracted | None:
    """Main text and metadata of a page, comments excluded; None when it holds no text."""
    import trafilatura  # imported here so the service process never loads it

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
    )
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
        date=found.get("date"),
        sitename=found.get("sitename"),
        description=found.get("description"),
        categories=list(found.get("categories") or []),
        tags=list(found.get("tags") or []),
        image=found.get("image"),
    )


class ExtractorPool:
    """Worker processes for `extract_html`, recycled after `tasks_per_worker` documents."""

    def __init__(self, workers: int = 1, tasks_per_worker: int = 500) -> None:
        self._workers = workers
        self._tasks_per_worker = tasks_per_worker
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("forkserver"),
            max_tasks_per_child=self._tasks_per_worker,
        )

    async def extract(self, html: str, url: str | None = None) -> Extracted | None:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, extract_html, html, url)
        except BrokenProcessPool as exc:
            # A worker died (segfault, OOM kill): replace the pool and let the message be
            # redelivered; repeated deaths on one document end in the dead stream.
            logger.error("extractor worker died url=%s reason=%s", url, exc)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            raise TransientError(f"extractor worker died: {exc}") from exc

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
