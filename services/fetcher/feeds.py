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
