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
SUFFIX = ".jsonl"


def writer_name(writer: str) -> str:
    """The writer's name as it appears in file names."""
    return _UNSAFE.sub("-", writer).strip("-") or "store"


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(corpus_dir.glob(f"**/*{SUFFIX}"))


def writer_files(directory: Path, writer: str, suffix: str = SUFFIX) -> list[Path]:
    """One writer's files in `directory`, oldest first."""
    pattern = re.compile(rf"^{re.escape(writer)}-(\d+){re.escape(suffix)}$")
    return sorted(p for p in directory.glob(f"{writer}-*{suffix}") if pattern.match(p.name))


def file_writer(path: Path) -> str | None:
    """The writer a corpus file belongs to, from its `<writer>-<seq>.jsonl` name."""
    match = re.match(rf"^(.+)-\d+{re.escape(SUFFIX)}$", path.name)
    return match.group(1) if match else None


def iter_file(path: Path, start: int = 0) -> Iterator[dict[str, Any]]:
    """The whole records of one file from byte `start`; a trailing partial line is skipped."""
    with path.open("rb") as handle:
        handle.seek(start)
        for line in handle:
            if not line.endswith(b"\n"):
                break
            if line.strip():
                yield json.loads(line)


def iter_records(corpus_dir: Path) -> Iterator[dict[str, Any]]:
    """Every whole record in the corpus; a trailing partial line is skipped."""
    for path in corpus_files(corpus_dir):
        yield from iter_file(path)


def iter_after(
    corpus_dir: Path, writer: str, checkpoint: tuple[str, int] | None
) -> Iterator[dict[str, Any]]:
    """A writer's records written after `checkpoint` (file name, offset); all without one."""
    for path in writer_files(corpus_dir, writer):
        if checkpoint is None or path.name > checkpoint[0]:
            yield from iter_file(path)
        elif path.name == checkpoint[0]:
            yield from iter_file(path, checkpoint[1])


def end_position(corpus_dir: Path, writer: str) -> tuple[str, int] | None:
    """Where the writer's corpus ends now: its latest file and that file's size."""
    files = writer_files(corpus_dir, writer)
    return (files[-1].name, files[-1].stat().st_size) if files else None


def fsync_directory(directory: Path) -> None:
    """Make a file's creation durable: fsync of the file alone does not cover its name."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    """Appends batches of lines to `<dir>/<writer>-<seq><suffix>`, rotating by size."""

    def __init__(
        self, corpus_dir: Path, writer: str, rotate_bytes: int, suffix: str = SUFFIX
    ) -> None:
        self.corpus_dir = corpus_dir
        self.writer = writer_name(writer)
        self.rotate_bytes = rotate_bytes
        self.suffix = suffix
        corpus_dir.mkdir(parents=True, exist_ok=True)
        self._path = self._latest_file() or self._file(1)

    def _own_files(self) -> list[Path]:
        return writer_files(self.corpus_dir, self.writer, self.suffix)

    def _file(self, seq: int) -> Path:
        return self.corpus_dir / f"{self.writer}-{seq:05d}{self.suffix}"

    def _latest_file(self) -> Path | None:
        own = self._own_files()
        return own[-1] if own else None

    @property
    def path(self) -> Path:
        return self._path

    def position(self) -> tuple[str, int]:
        """Where the next batch starts at the earliest: its lines all land after this."""
        size = self._path.stat().st_size if self._path.exists() else 0
        return self._path.name, size

    def repair(self) -> int:
        """Remove crash leftovers from this writer's own files (no other process writes them)."""
        return sum(repair_partial_line(p) for p in self._own_files())

    def _rotate_if_full(self) -> None:
        if self._path.exists() and self._path.stat().st_size >= self.rotate_bytes:
            seq = int(self._path.name.removesuffix(self.suffix).rsplit("-", 1)[1]) + 1
            self._path = self._file(seq)
            logger.info("corpus rotated path=%s", self._path)

    def append(self, lines: list[str]) -> tuple[str, int]:
        """Write whole lines and fsync them; returns once they are durable, with the file's
        name and size after them (the writer's position)."""
        self._rotate_if_full()
        if not lines:
            size = self._path.stat().st_size if self._path.exists() else 0
            return self._path.name, size
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        created = not self._path.exists()
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            end = os.lseek(fd, 0, os.SEEK_END)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.corpus_dir)
        return self._path.name, end
