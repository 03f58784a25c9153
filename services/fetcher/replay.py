"""Replay: publish saved pages and plain-text articles from folders as raw documents."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path

from services.core.messages import RawDocument, document_id
from services.fetcher.charset import decode_body

logger = logging.getLogger(__name__)

Publish = Callable[[RawDocument], Awaitable[object]]

REPLAY_SOURCE = "replay"
CONTENT_TYPES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html"}


def replay_files(folders: Iterable[Path]) -> Iterator[Path]:
    """Every replayable file under the folders, in a stable order."""
    for folder in folders:
        if folder.is_file():
            candidates: Iterable[Path] = [folder]
        else:
            candidates = sorted(p for p in folder.rglob("*") if p.is_file())
        for path in candidates:
            if path.suffix.lower() in CONTENT_TYPES:
                yield path


def replay_document(path: Path) -> RawDocument:
    """A raw document for one saved file; its URL is the file's absolute `file://` URI."""
    data = path.read_bytes()
    text, charset = decode_body(data)
    url = path.resolve().as_uri()
    return RawDocument(
        id=document_id(url),
        url=url,
        source=REPLAY_SOURCE,
        content_type=CONTENT_TYPES[path.suffix.lower()],
        charset=charset,
        body=text,
    )


async def replay(folders: Iterable[Path], publish: Publish) -> int:
    """Publish every replayable file; returns how many were published."""
    count = 0
    for path in replay_files(folders):
        try:
            document = replay_document(path)
        except OSError as exc:
            logger.error("replay skipped path=%s reason=%s", path, exc)
            continue
        await publish(document)
        count += 1
        logger.debug("replayed path=%s url=%s", path, document.url)
    return count
