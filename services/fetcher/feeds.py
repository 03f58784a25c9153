"""The feeds file (`feeds.toml`): which feeds to poll, how often, with which tags."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from services.core.errors import ConfigError

logger = logging.getLogger(__name__)


class Feed(BaseModel):
    """One `[[feeds]]` table."""

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    interval: int = Field(default=600, ge=30)
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)


class FeedsFile(BaseModel):
    feeds: list[Feed] = Field(default_factory=list)


def parse_feeds(text: str) -> list[Feed]:
    """Feeds from TOML text; raises ConfigError naming what is wrong."""
    try:
        parsed = FeedsFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"feeds file does not parse: {exc}") from exc
    names = [f.name for f in parsed.feeds]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"feed names must be unique: {', '.join(duplicated)}")
    return parsed.feeds


def load_feeds(path: Path) -> list[Feed]:
    """Feeds from the file; a missing file means no feeds."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_feeds(text)


class FeedsWatcher:
    """The feeds file, re-read when it changes; a broken edit keeps the last good feeds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.feeds: list[Feed] = []
        self.error: str | None = None
        self._stamp: tuple[int, int] | None = None

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def refresh(self) -> bool:
        """Re-read the file if it changed; True when the feeds in force changed."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            feeds = load_feeds(self.path)
        except ConfigError as exc:
            self.error = str(exc)
            logger.error("feeds file rejected path=%s reason=%s", self.path, exc)
            return False
        self.error = None
        changed = feeds != self.feeds
        self.feeds = feeds
        if changed:
            logger.info("feeds loaded path=%s feeds=%d", self.path, len(feeds))
        return changed
