"""A corpus folder's identity, and whether the dedup index still describes that corpus.

The corpus is the truth; the index in Redis is derived from it and can outlive it (a new
corpus folder, an emptied one, another one given to the same server). So each corpus folder
carries a manifest, `corpus.json`, written once when a store or `akhbar reindex` first uses
the folder: a random id and the creation time. The index records the id of the corpus it was
built from and how many of its records it has settled (`Streams.corpus_binding`). `assess`
compares the two; the store rebuilds the index when they disagree.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.core.errors import ConfigError
from services.store.corpus import corpus_files, fsync_directory

# Not `*.jsonl`: nothing that globs the corpus's records (`corpus_files`) reads it.
MANIFEST = "corpus.json"

READY = "ready"
BUILDING = "building"


@dataclass(frozen=True)
class CorpusManifest:
    """The identity of one corpus folder."""

    id: str
    created_at: str


def read_manifest(corpus_dir: Path) -> CorpusManifest | None:
    """The folder's manifest, or None if it has none yet."""
    path = corpus_dir / MANIFEST
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not a readable corpus manifest: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise ConfigError(f"{path} is not a corpus manifest (no id); move it out of the corpus")
    return CorpusManifest(data["id"], str(data.get("created_at", "")))


def ensure_manifest(corpus_dir: Path) -> tuple[CorpusManifest, bool]:
    """The folder's manifest, written now if it has none; True when this call wrote it.

    Several stores may start on one new folder at once: the manifest is written whole under
    a temporary name and linked into place, which fails for all but the first, so every one
    of them reads the same id.
    """
    found = read_manifest(corpus_dir)
    if found is not None:
        return found, False
    corpus_dir.mkdir(parents=True, exist_ok=True)
    manifest = CorpusManifest(uuid.uuid4().hex, datetime.now(UTC).isoformat(timespec="seconds"))
    data = json.dumps({"id": manifest.id, "created_at": manifest.created_at}, indent=2) + "\n"
    target = corpus_dir / MANIFEST
    temporary = corpus_dir / f".{MANIFEST}.{manifest.id}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, target)
        created = True
    except FileExistsError:
        created = False
    except OSError:
        # A file system without hard links: exclusive creation is the next best thing.
        created = _create_exclusive(target, data)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(corpus_dir)
    if created:
        return manifest, True
    other = read_manifest(corpus_dir)
    if other is None:
        raise ConfigError(f"{target} vanished while it was being created")
    return other, False


def _create_exclusive(target: Path, data: str) -> bool:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, data.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def count_records(corpus_dir: Path) -> int:
    """Whole records in the corpus: the newlines of every corpus file (a line cut by a crash
    has none). Reads the files at disk speed without parsing them."""
    total = 0
    for path in corpus_files(corpus_dir):
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                total += chunk.count(b"\n")
    return total


@dataclass(frozen=True)
class Binding:
    """What the index says about the corpus it serves."""

    corpus_id: str
    # Records the index has settled from that corpus (each counted once, when settled).
    records: int
    # False from the moment a rebuild starts until it has finished.
    ready: bool
    # The fetcher's seen-set and validators still have to be cleared for this corpus.
    reset_fetcher: bool = False
    path: str = ""

    @classmethod
    def from_hash(cls, fields: dict[str, str]) -> Binding | None:
        if not fields.get("id"):
            return None
        records = fields.get("records", "0")
        return cls(
            corpus_id=fields["id"],
            records=int(records) if records.lstrip("-").isdigit() else 0,
            ready=fields.get("state") == READY,
            reset_fetcher=fields.get("reset_fetcher") == "1",
            path=fields.get("path", ""),
        )


@dataclass(frozen=True)
class Assessment:
    """Whether the index can serve this corpus as it is, and if not, why."""

    rebuild: bool
    # same-corpus, new-corpus, unbound, other-corpus, interrupted, emptied, records-missing
    reason: str
    # Whether the fetcher's seen-set and feed validators belong to another corpus too.
    reset_fetcher: bool = False


def assess(
    manifest: CorpusManifest, created: bool, binding: Binding | None, on_disk: int
) -> Assessment:
    """Compare the corpus (its manifest, and `on_disk` whole records counted after the
    binding was read) with what the index says it serves.

    The records count can only be checked one way: the index counts a record when it is
    settled, after it was fsynced, so a live corpus always holds at least that many; it may
    hold more (written, not yet settled: the crash leftovers that reconciliation settles).
    Fewer means records were deleted, and the index points at some that are gone.

    The fetcher's state is reset only on evidence that it was gathered for another corpus:
    an index bound to another one, or this corpus emptied. An index that names no corpus
    (a new server, or an index built before it recorded one) says nothing about it.
    """
    if binding is None:
        return Assessment(True, "new-corpus" if created and on_disk == 0 else "unbound")
    if binding.corpus_id != manifest.id:
        return Assessment(True, "other-corpus", reset_fetcher=True)
    if not binding.ready:
        return Assessment(True, "interrupted", reset_fetcher=binding.reset_fetcher)
    if on_disk < binding.records:
        if on_disk == 0:
            return Assessment(True, "emptied", reset_fetcher=True)
        return Assessment(True, "records-missing")
    return Assessment(False, "same-corpus")
