"""Editing the feeds file without losing its comments and layout (tomlkit)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit

from services.core.errors import ConfigError
from services.fetcher.feeds import Feed, load_feeds

_SLUG = re.compile(r"[^a-z0-9]+")


def suggest_name(url: str, taken: set[str]) -> str:
    """A feed name from the site's host (`www.example.com` → `example`), unique in `taken`."""
    host = (urlsplit(url).hostname or "feed").lower().removeprefix("www.")
    parts = host.split(".")
    base = _SLUG.sub("-", parts[0] if len(parts) > 1 else host).strip("-") or "feed"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def append_feed(path: Path, feed: Feed) -> None:
    """Add a `[[feeds]]` table at the end of the file, keeping everything already there."""
    existing = load_feeds(path)
    if any(f.name == feed.name for f in existing):
        raise ConfigError(f"a feed named {feed.name} is already in {path}")
    if any(f.url == feed.url for f in existing):
        raise ConfigError(f"{feed.url} is already in {path}")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(text)
    table = tomlkit.table()
    table["name"] = feed.name
    table["url"] = feed.url
    table["interval"] = feed.interval
    if feed.tags:
        table["tags"] = feed.tags
    feeds = document.get("feeds")
    if feeds is None:
        feeds = tomlkit.aot()
        document["feeds"] = feeds
    feeds.append(table)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
