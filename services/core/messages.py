"""Wire messages: every stream carries one of these models as plain JSON."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def document_id(url: str) -> str:
    """A stable id for a document, so a redelivered or re-fetched URL keeps its id."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION


class FeedEntry(BaseModel):
    """What the feed said about an article; the parser falls back on it."""

    title: str | None = None
    published: str | None = None
    author: str | None = None
    summary: str | None = None
    tags: list[str] = Field(default_factory=list)


class RawDocument(Message):
    """A fetched (or replayed) page, decoded to text, on its way to the parser."""

    id: str
    url: str
    source: str
    entry: FeedEntry = Field(default_factory=FeedEntry)
    feed_tags: list[str] = Field(default_factory=list)
    fetched_at: datetime = Field(default_factory=utcnow)
    status: int | None = None
    content_type: str = "text/html"
    charset: str | None = None
    body: str


class CorpusRecord(Message):
    """One document of the corpus, as the parser builds it and the store writes it."""

    id: str
    url: str
    source: str
    title: str | None
    text: str
    date: str | None
    language: str
    fetched_at: datetime
    author: str | None = None
    sitename: str | None = None
    description: str | None = None
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    content_hash: str | None = None
    stored_at: datetime | None = None
    word_count: int = 0
    arabic_ratio: float = 0.0


class Rejection(Message):
    """A document the parser read fine but keeps out of the corpus, with the reason."""

    id: str
    url: str
    source: str
    reason: Literal["language", "too_short", "empty"]
    detail: str
    title: str | None = None
    language: str | None = None
    text_chars: int = 0
    rejected_at: datetime = Field(default_factory=utcnow)


class DeadLetter(Message):
    """A message a stage gave up on, with everything needed to publish it again."""

    stage: str
    stream: str
    message_id: str
    error: str
    deliveries: int
    payload: dict[str, Any]
    failed_at: datetime = Field(default_factory=utcnow)
