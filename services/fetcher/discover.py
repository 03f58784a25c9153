"""Finding a site's feed from its address: the page's advertised feeds, then usual paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin, urlsplit

from services.core.errors import FeedRejectedError, FetchError
from services.fetcher.feedparse import ParsedFeed, parse_feed
from services.fetcher.http import HttpClient, raise_for_status

_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
)
USUAL_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feed/")


@dataclass(frozen=True)
class Discovered:
    url: str
    feed: ParsedFeed


def advertised_feeds(html: str, base_url: str) -> list[str]:
    """Feed URLs a page lists in `<link rel="alternate" type="...">`, in page order."""
    found = []
    for tag in _LINK.findall(html):
        attrs = {m[0].lower(): unescape(m[1] or m[2] or m[3]) for m in _ATTR.findall(tag)}
        rels = attrs.get("rel", "").lower().split()
        if (
            "alternate" in rels
            and attrs.get("type", "").lower() in FEED_TYPES
            and attrs.get("href")
        ):
            found.append(urljoin(base_url, attrs["href"]))
    return list(dict.fromkeys(found))


async def _try(http: HttpClient, url: str, max_bytes: int) -> tuple[Discovered | None, str]:
    response = await http.get(url, max_bytes=max_bytes)
    raise_for_status(response)
    try:
        return Discovered(
            response.url, parse_feed(response.body, response.headers, response.url)
        ), ""
    except FeedRejectedError:
        return None, response.body.decode("utf-8", errors="replace")


async def discover(http: HttpClient, url: str, max_bytes: int) -> Discovered:
    """The feed at `url`, or the first working feed its page advertises or a usual path holds."""
    found, page = await _try(http, url, max_bytes)
    if found is not None:
        return found
    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}"
    candidates = advertised_feeds(page, url) + [site + path for path in USUAL_PATHS]
    tried = []
    for candidate in dict.fromkeys(candidates):
        try:
            found, _ = await _try(http, candidate, max_bytes)
        except FetchError as exc:
            tried.append(f"{candidate} ({exc})")
            continue
        if found is not None and found.feed.entries:
            return found
        tried.append(f"{candidate} (not a feed)")
    raise FeedRejectedError(f"no feed found at {url}; tried {len(tried)} addresses")
