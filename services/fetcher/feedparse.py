"""Feed bytes to entries: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by hand.

feedparser does not read JSON Feed, and the format is small enough not to need a library.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from services.core.errors import FeedRejectedError

_TAGS = re.compile(r"<[^>]+>")
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


@dataclass(frozen=True)
class Entry:
    """One article announced by a feed."""

    url: str
    title: str | None = None
    published: str | None = None
    author: str | None = None
    summary: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedFeed:
    format: str
    title: str | None
    entries: list[Entry]


def _text(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    text = " ".join(html.unescape(_TAGS.sub(" ", value)).split())
    return text or None


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def _feedparser_entry(item: Any, base_url: str) -> Entry | None:
    link = item.get("link")
    if not link:
        for candidate in item.get("links", []):
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not link:
        return None
    tags = [t.get("term") for t in item.get("tags", []) if t.get("term")]
    return Entry(
        url=urljoin(base_url, link.strip()),
        title=_text(item.get("title")),
        published=_iso(item.get("published_parsed") or item.get("updated_parsed")),
        author=_text(item.get("author")),
        summary=_text(item.get("summary")),
        tags=[" ".join(str(t).split()) for t in tags],
    )


def _parse_xml(body: bytes, headers: dict[str, str], base_url: str) -> ParsedFeed:
    parsed = feedparser.parse(body, response_headers=headers)
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        reason = f"{type(problem).__name__}: {problem}" if problem else "no feed markup found"
        raise FeedRejectedError(f"not a feed ({reason})")
    entries = [e for e in (_feedparser_entry(i, base_url) for i in parsed.entries) if e]
    return ParsedFeed(parsed.version, _text(parsed.feed.get("title")), entries)


def _json_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


def _parse_json(body: bytes, base_url: str) -> ParsedFeed:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedRejectedError(f"not a feed (invalid JSON: {exc})") from exc
    version = data.get("version", "") if isinstance(data, dict) else ""
    items = data.get("items") if isinstance(data, dict) else None
    if not str(version).startswith(_JSON_FEED_VERSION) or not isinstance(items, list):
        raise FeedRejectedError("not a feed (JSON without a JSON Feed version and items)")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link:
            continue
        entries.append(
            Entry(
                url=urljoin(base_url, link.strip()),
                title=_text(item.get("title")),
                published=item.get("date_published") or item.get("date_modified"),
                author=_json_author(item),
                summary=_text(item.get("summary") or item.get("content_text")),
                tags=[str(t) for t in item.get("tags", []) if isinstance(t, str)],
            )
        )
    return ParsedFeed("json" + str(version).rsplit("/", 1)[-1], _text(data.get("title")), entries)


def parse_feed(body: bytes, headers: dict[str, str], base_url: str) -> ParsedFeed:
    """Entries of a feed; raises FeedRejectedError when the body is not a readable feed."""
    if not body.strip():
        raise FeedRejectedError("empty body")
    content_type = headers.get("content-type", "").lower()
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return _parse_json(body, base_url)
    return _parse_xml(body, headers, base_url)
