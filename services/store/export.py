"""The corpus as one Parquet file, for pandas, Hugging Face `datasets` and the like.

Columns follow the corpus record; `categories` and `tags` are lists of strings. `fetched_at`
and `stored_at` become UTC timestamps (microseconds); `date` stays the ISO 8601 string the
record holds, since a page may give a day, a time or nothing. The file is written in row
groups as the corpus is read, so memory stays flat whatever the corpus size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from services.core.errors import ConfigError
from services.store.corpus import iter_records
from services.store.dedup import as_datetime

FORMATS = ("parquet",)
ROW_GROUP = 10_000

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("date", pa.string()),
        ("language", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("author", pa.string()),
        ("sitename", pa.string()),
        ("description", pa.string()),
        ("categories", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("content_hash", pa.string()),
        ("stored_at", pa.timestamp("us", tz="UTC")),
        ("word_count", pa.int32()),
        ("arabic_ratio", pa.float32()),
        ("schema_version", pa.int16()),
    ]
)
_TIMES = {"fetched_at", "stored_at"}
_LISTS = {"categories", "tags"}


def _utc(value: Any) -> datetime | None:
    when = as_datetime(value)
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _column(name: str, rows: list[dict[str, Any]]) -> list[Any]:
    if name in _TIMES:
        return [_utc(row.get(name)) for row in rows]
    if name in _LISTS:
        return [[str(v) for v in row.get(name) or []] for row in rows]
    return [row.get(name) for row in rows]


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_corpus(corpus_dir: Path, out: Path, fmt: str = "parquet") -> int:
    """Write every corpus record to `out`; returns the number of records."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for rows in _chunks(iter_records(corpus_dir), ROW_GROUP):
            arrays = [pa.array(_column(f.name, rows), type=f.type) for f in SCHEMA]
            writer.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))
            count += len(rows)
    # Readers never see a half-written file under the final name.
    partial.replace(out)
    return count
