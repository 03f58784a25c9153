"""Corpus files: JSON lines appended by one writer each, rotated by size, fsynced per batch.

A reader may glob `**/*.jsonl` at any time: lines are written whole and fsynced before the
messages behind them are acknowledged; a line cut by a crash is removed at the next start.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(corpus_dir.glob("**/*.jsonl"))


def iter_records(corpus_dir: Path) -> Iterator[dict[str, Any]]:
    """Every whole record in the corpus; a trailing partial line is skipped."""
    for path in corpus_files(corpus_dir):
        with path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                if line.strip():
                    yield json.loads(line)


def repair_partial_line(path: Path) -> int:
    """Truncate a last line that a crash left without its newline; returns bytes removed."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return 0
        block = 64 * 1024
        end = size
        while end > 0:
            start = max(0, end - block)
            handle.seek(start)
            chunk = handle.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        else:
            keep = 0
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    logger.warning("repaired partial line path=%s removed_bytes=%d", path, size - keep)
    return size - keep


class CorpusWriter:
    """Appends batches of records to `<dir>/<writer>-<seq>.jsonl`, rotating by size."""

    def __init__(self, corpus_dir: Path, writer: str, rotate_bytes: int) -> None:
        self.corpus_dir = corpus_dir
        self.writer = _UNSAFE.sub("-", writer).strip("-") or "store"
        self.rotate_bytes = rotate_bytes
        corpus_dir.mkdir(parents=True, exist_ok=True)
        self._path = self._latest_file() or self._file(1)

    def _own_files(self) -> list[Path]:
        pattern = re.compile(rf"^{re.escape(self.writer)}-(\d+)\.jsonl$")
        return sorted(
            p for p in self.corpus_dir.glob(f"{self.writer}-*.jsonl") if pattern.match(p.name)
        )

    def _file(self, seq: int) -> Path:
        return self.corpus_dir / f"{self.writer}-{seq:05d}.jsonl"

    def _latest_file(self) -> Path | None:
        own = self._own_files()
        return own[-1] if own else None

    @property
    def path(self) -> Path:
        return self._path

    def repair(self) -> int:
        """Remove crash leftovers from this writer's own files (no other process writes them)."""
        return sum(repair_partial_line(p) for p in self._own_files())

    def _rotate_if_full(self) -> None:
        if self._path.exists() and self._path.stat().st_size >= self.rotate_bytes:
            seq = int(self._path.stem.rsplit("-", 1)[1]) + 1
            self._path = self._file(seq)
            logger.info("corpus rotated path=%s", self._path)

    def append(self, lines: list[str]) -> None:
        """Write whole lines and fsync them; returns only once they are durable."""
        if not lines:
            return
        self._rotate_if_full()
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
