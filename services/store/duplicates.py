"""The duplicates log: every record the store drops, why, and which stored record it copies.

Lines go to `<corpus>/duplicates/<writer>-<seq>.ndjson`, one JSON object each, written and
fsynced before the batch is acknowledged, rotated like the corpus. The `.ndjson` suffix keeps
them out of the corpus: readers glob `**/*.jsonl`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from services.core.messages import CorpusRecord
from services.store.corpus import CorpusWriter, iter_file
from services.store.dedup import Duplicate

DUPLICATES_DIR = "duplicates"
SUFFIX = ".ndjson"


def duplicate_log(corpus_dir: Path, writer: str, rotate_bytes: int) -> CorpusWriter:
    return CorpusWriter(corpus_dir / DUPLICATES_DIR, writer, rotate_bytes, suffix=SUFFIX)


def duplicate_line(record: CorpusRecord, duplicate: Duplicate, logged_at: datetime) -> str:
    return json.dumps(
        {
            "id": record.id,
            "url": record.url,
            "source": record.source,
            "title": record.title,
            "content_hash": record.content_hash,
            "duplicate_of": duplicate.of_id,
            "reason": duplicate.reason,
            "similarity": round(duplicate.similarity, 4),
            "fetched_at": record.fetched_at.isoformat(),
            "logged_at": logged_at.isoformat(),
        },
        ensure_ascii=False,
    )


def iter_duplicates(corpus_dir: Path) -> Iterator[dict[str, Any]]:
    """Every line of every writer's duplicates log."""
    for path in sorted((corpus_dir / DUPLICATES_DIR).glob(f"*{SUFFIX}")):
        yield from iter_file(path)
