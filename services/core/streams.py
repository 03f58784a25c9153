"""Stream keys and consumer group names: the only place they are spelled."""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass

PARSER_GROUP = "parser"
STORE_GROUP = "store"

STREAM_KINDS = ("raw", "parsed", "rejected", "dead")


@dataclass(frozen=True)
class Streams:
    """The stream keys under one prefix."""

    prefix: str = "akhbar"

    @property
    def raw(self) -> str:
        return f"{self.prefix}:raw"

    @property
    def parsed(self) -> str:
        return f"{self.prefix}:parsed"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}:rejected"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:dead"

    @property
    def counters(self) -> str:
        """Hash of running totals (stored, duplicates, ...) kept by the services."""
        return f"{self.prefix}:counters"

    @property
    def fetcher_state(self) -> str:
        """Hash the fetcher updates after each full pass (replay and every feed polled once)."""
        return f"{self.prefix}:fetcher"

    def feed_state(self, feed: str) -> str:
        """Hash of one feed's conditional-GET validators and health."""
        return f"{self.prefix}:feed:{feed}"

    @property
    def feed_states(self) -> str:
        """SCAN pattern matching every feed's state hash."""
        return f"{_glob_escape(self.prefix)}:feed:*"

    @property
    def seen_urls(self) -> str:
        """Set of canonical article URLs already published (or given up on) by the fetcher."""
        return f"{self.prefix}:seen"

    def last_error(self, stream: str, message_id: str) -> str:
        """The last error of a message of `stream` that failed and will be delivered again."""
        return f"{self.prefix}:error:{stream}:{message_id}"

    def fetch_attempts(self, url: str) -> str:
        """Counter of failed download attempts of one canonical article URL."""
        return f"{self.prefix}:attempts:{url}"

    def key(self, name: str) -> str:
        """Resolve a short stream name (raw, parsed, ...) or pass a full key through."""
        return f"{self.prefix}:{name}" if name in STREAM_KINDS else name

    def groups(self) -> dict[str, str]:
        """Each consumed stream and the group that consumes it."""
        return {self.raw: PARSER_GROUP, self.parsed: STORE_GROUP}

    def index_key(self, name: str) -> str:
        """Keys of the store's dedup index."""
        return f"{self.prefix}:index:{name}"

    @property
    def index_prefix(self) -> str:
        """What every key of the store's dedup index starts with (`akhbar reindex` clears them)."""
        return f"{self.prefix}:index"

    @property
    def corpus_binding(self) -> str:
        """Hash naming the corpus the dedup index serves (id, path, records, state); outside
        `index_prefix`, so clearing the index leaves it to say what the rebuild is for."""
        return f"{self.prefix}:corpus"

    @property
    def corpus_binding_lock(self) -> str:
        """Lock held by the one process checking, binding or rebuilding the dedup index."""
        return f"{self.prefix}:corpus:lock"


def _glob_escape(text: str) -> str:
    """`text` matched literally in a SCAN pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def consumer_name(role: str, configured: str | None = None) -> str:
    """A consumer name unique to this process, so two replicas never share pending entries."""
    if configured:
        return configured
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
