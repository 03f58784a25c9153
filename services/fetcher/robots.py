"""robots.txt: fetched once per site and cached, obeyed for every article download."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from services.core.errors import FetchError, RefusedFetchError
from services.fetcher.http import HttpClient

logger = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class _Entry:
    rules: Protego | None  # None: everything allowed
    expires: float


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RobotsCache:
    """Per-origin robots.txt rules; a missing file allows all, an unreachable one is retried."""

    def __init__(self, http: HttpClient, user_agent: str, ttl: float = 24 * 3600) -> None:
        self._http = http
        self._agent = user_agent
        self._ttl = ttl
        self._cache: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _rules(self, site: str) -> Protego | None:
        # One fetch per site even when many of its articles arrive at once.
        async with self._locks.setdefault(site, asyncio.Lock()):
            entry = self._cache.get(site)
            if entry is not None and entry.expires > time.monotonic():
                return entry.rules
            return await self._fetch(site)

    async def _fetch(self, site: str) -> Protego | None:
        rules: Protego | None
        ttl = self._ttl
        try:
            response = await self._http.get(f"{site}/robots.txt", max_bytes=ROBOTS_MAX_BYTES)
        except RefusedFetchError as exc:
            logger.info("robots.txt unusable site=%s reason=%s", site, exc)
            rules = None
        except FetchError as exc:
            # Unreachable is not permission; ask again soon rather than crawl blind.
            logger.warning("robots.txt unreachable site=%s reason=%s", site, exc)
            rules, ttl = Protego.parse("User-agent: *\nDisallow: /"), 300.0
        else:
            if response.status >= 500:
                rules, ttl = Protego.parse("User-agent: *\nDisallow: /"), 300.0
            elif response.status >= 400:
                rules = None
            else:
                rules = Protego.parse(response.body.decode("utf-8", errors="replace"))
        self._cache[site] = _Entry(rules, time.monotonic() + ttl)
        return rules

    async def allowed(self, url: str) -> bool:
        rules = await self._rules(origin(url))
        return rules is None or bool(rules.can_fetch(url, self._agent))

    async def crawl_delay(self, url: str) -> float | None:
        rules = await self._rules(origin(url))
        delay = rules.crawl_delay(self._agent) if rules is not None else None
        return float(delay) if delay is not None else None
