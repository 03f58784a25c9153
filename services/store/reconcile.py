"""Making the index agree with the corpus, which is the truth.

At startup (`reconcile`): a writer reads its own records written after its checkpoint, adds
any that the index lacks, settles the reservations whose records did reach its corpus
(acknowledging their messages) and releases those whose records did not, so the redelivered
messages are checked afresh. An index with no `meta` (a new or emptied server) is rebuilt
from the whole corpus (`rebuild`); `akhbar reindex`, and a store that finds the index serving
another corpus (`services/store/binding.py`), clear it and do the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.core.errors import ConfigError
from services.store.corpus import corpus_files, end_position, file_writer, iter_after, iter_file
from services.store.dedup import DedupKeys, KeyMaker, as_datetime
from services.store.index import DedupIndex, Reservation, earliest

logger = logging.getLogger(__name__)

# Records per round trip when adding corpus records to the index.
_CHUNK = 500


@dataclass
class ReconcileReport:
    rebuilt: bool = False
    indexed: int = 0
    settled: int = 0
    released: int = 0


def row_keys(
    keymaker: KeyMaker, index: DedupIndex, row: dict[str, Any], now: datetime
) -> tuple[DedupKeys, datetime | None]:
    """A corpus row's keys; MinHash only when it was stored within the window."""
    stored_at = as_datetime(row.get("stored_at")) or as_datetime(row.get("fetched_at"))
    window = index.window
    recent = stored_at is not None and (
        window.expire_at(window.generation(stored_at)) > now.timestamp()
    )
    keys = keymaker.keys(
        str(row["id"]), str(row["url"]), row.get("text") or "", row.get("content_hash"), recent
    )
    return keys, stored_at


async def add_rows(
    index: DedupIndex, keymaker: KeyMaker, rows: Iterable[dict[str, Any]], wanted: set[str]
) -> tuple[int, set[str]]:
    """Add rows to the index in chunks; returns how many, and which `wanted` ids were seen."""
    now = datetime.now(UTC)
    total = 0
    seen: set[str] = set()
    chunk: list[tuple[DedupKeys, datetime | None]] = []
    for row in rows:
        if row.get("id") in wanted:
            seen.add(str(row["id"]))
        chunk.append(row_keys(keymaker, index, row, now))
        if len(chunk) >= _CHUNK:
            total += await index.add(chunk)
            chunk = []
    total += await index.add(chunk)
    return total, seen


def _all_rows(corpus_dir: Path) -> Iterator[dict[str, Any]]:
    for path in corpus_files(corpus_dir):
        yield from iter_file(path)


async def rebuild(
    index: DedupIndex, keymaker: KeyMaker, corpus_dir: Path, wanted: set[str] | None = None
) -> tuple[int, set[str], dict[str, tuple[str, int]]]:
    """Add every record of the corpus; returns the number of records, which `wanted` ids the
    corpus holds, and where each writer's files end (its checkpoint once this is settled)."""
    writers = {w for w in map(file_writer, corpus_files(corpus_dir)) if w}
    positions = {w: p for w in writers if (p := end_position(corpus_dir, w))}
    count, seen = await add_rows(index, keymaker, _all_rows(corpus_dir), wanted or set())
    logger.info("index rebuilt records=%d corpus=%s", count, corpus_dir)
    return count, seen, positions


async def finish_rebuild(
    index: DedupIndex,
    positions: dict[str, tuple[str, int]],
    records: int,
    keep_others_of: str | None = None,
) -> None:
    """Checkpoints, then `meta` and the binding's `records` last: an interrupted rebuild is
    redone at the next start.

    With `keep_others_of`, only that writer's checkpoint is moved and other writers keep
    theirs if they have one: a live writer's unsettled reservations sit past its checkpoint.
    """
    if keep_others_of is None:
        await index.set_checkpoints(positions)
    else:
        own = {w: p for w, p in positions.items() if w == keep_others_of}
        await index.set_checkpoints({w: p for w, p in positions.items() if w not in own}, False)
        await index.set_checkpoints(own)
    await index.write_meta(records)


async def reconcile(
    index: DedupIndex,
    keymaker: KeyMaker,
    corpus_dir: Path,
    writer: str,
    held: list[Reservation] | None = None,
) -> ReconcileReport:
    """Bring the index in line with this writer's corpus; run before it reads any message.

    `held` are the writer's reservations when they were read before the index was cleared:
    the messages of those whose records the corpus holds are acknowledged all the same.
    """
    report = ReconcileReport()
    meta = await index.meta()
    if held is None:
        held = await index.reservations(writer)
    wanted = {r.record_id for r in held}
    if not meta:
        report.rebuilt = True
        report.indexed, written, positions = await rebuild(index, keymaker, corpus_dir, wanted)
    elif meta != index.expected_meta():
        raise ConfigError(
            f"the dedup index under {index.base} was built with other settings ({meta}); "
            "stop the stores and run `akhbar reindex`"
        )
    else:
        checkpoint = (await index.checkpoints()).get(writer)
        end = end_position(corpus_dir, writer)
        positions = {writer: end} if end else {}
        # Later batches may have moved the checkpoint past an unsettled record (its commit
        # failed): read from where the oldest reservation started, if that comes first.
        start = earliest(checkpoint, *(r.position for r in held))
        tail = iter_after(corpus_dir, writer, start)
        report.indexed, written = await add_rows(index, keymaker, tail, wanted)
    # Reservations first, checkpoint after: a crash in between rereads the same tail, whereas
    # a checkpoint moved first would hide records whose reservations then look unwritten.
    settle = [r for r in held if r.record_id in written]
    release = [r.record_id for r in held if r.record_id not in written]
    # A rebuild counted every record of the corpus, these among them.
    settled = 0 if report.rebuilt else len(settle)
    await index.commit(settle, [r.message_id for r in settle], writer, None, {}, settled)
    report.settled = len(settle)
    report.released = await index.release(writer, release)
    if report.rebuilt:
        await finish_rebuild(index, positions, report.indexed, keep_others_of=writer)
    else:
        await index.set_checkpoints(positions)
    logger.info(
        "index reconciled writer=%s rebuilt=%s indexed=%d settled=%d released=%d",
        writer,
        report.rebuilt,
        report.indexed,
        report.settled,
        report.released,
    )
    return report
