"""What the dedup index compares: 8-byte digests of URL and text, and the text's MinHash.

Exact keys: the canonical URL and the content hash (SHA-256 of the dedup key), each cut to
64 bits, which keeps the Redis index small; two different documents share one only with a
probability of about n²/2⁶⁵ (3 × 10⁻⁶ at ten million documents).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from services.core.arabic import dedup_key
from services.core.urls import canonical_url
from services.store.minhash import MinHasher, Signature


@dataclass(frozen=True)
class Duplicate:
    """Why a record is a duplicate, of which stored record, and how similar it is."""

    reason: str
    of_id: str
    similarity: float = 1.0


@dataclass(frozen=True)
class DedupKeys:
    """One record as the index sees it."""

    id: str
    url: bytes
    content: bytes
    signature: Signature | None


def url_digest(url: str) -> bytes:
    return hashlib.blake2b(canonical_url(url).encode("utf-8"), digest_size=8).digest()


def content_digest(content_hash: str) -> bytes:
    try:
        return bytes.fromhex(content_hash[:16]) if len(content_hash) >= 16 else b""
    except ValueError:
        return b""


class KeyMaker:
    """Computes a record's dedup keys; one per process (the MinHasher is not thread-safe)."""

    def __init__(self, hasher: MinHasher) -> None:
        self.hasher = hasher

    def keys(
        self, record_id: str, url: str, text: str, content_hash: str | None, near: bool = True
    ) -> DedupKeys:
        key = dedup_key(text)
        digest = content_digest(content_hash or "")
        if len(digest) != 8:
            digest = hashlib.sha256(key.encode("utf-8")).digest()[:8]
        signature = self.hasher.signature(key) if near else None
        return DedupKeys(record_id, url_digest(url), digest, signature)


def as_datetime(value: object) -> datetime | None:
    """A corpus row's timestamp (ISO string, or datetime) as an aware datetime, if it has one."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
