"""What the parser's worker processes run: raw messages in, outcomes ready to publish out.

The whole parse happens here, next to the extraction, so the service only moves messages:
it hands over each entry's JSON as it came from the stream and publishes the JSON it gets
back, and no page is decoded, validated or copied in the service.
"""

from __future__ import annotations

import pickle
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from types import FrameType

from pydantic import ValidationError

from services.core.errors import AkhbarError, ExtractionTimeoutError, MalformedMessageError
from services.core.messages import CorpusRecord, RawDocument
from services.core.wire import model_json
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import extract_html
from services.parser.furniture import default_furniture
from services.parser.language import load_model


@dataclass(frozen=True)
class Outcome:
    """A raw message parsed: the record's or the rejection's JSON, and what to log of it."""

    rejected: bool
    body: bytes
    id: str
    url: str
    source: str
    seconds: float
    reason: str | None = None
    detail: str | None = None


def prepare() -> None:
    """Load what every parse needs, so workers forked afterwards share it."""
    default_furniture()
    load_model()


@cache
def _parser(policy: ParserPolicy) -> DocumentParser:
    return DocumentParser(extract_html, default_furniture(), policy)


def _sendable(error: Exception) -> Exception:
    """The error itself when it can travel back to the service, else its description."""
    if isinstance(error, ValidationError):
        return MalformedMessageError(str(error))
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return AkhbarError(f"{type(error).__name__}: {error}")
    return error


def parse_one(message: bytes, policy: ParserPolicy) -> Outcome:
    started = time.perf_counter()
    raw = RawDocument.model_validate_json(message)
    found = _parser(policy).parse(raw)
    seconds = time.perf_counter() - started
    if isinstance(found, CorpusRecord):
        return Outcome(False, model_json(found), raw.id, raw.url, raw.source, seconds)
    return Outcome(
        True, model_json(found), raw.id, raw.url, raw.source, seconds, found.reason, found.detail
    )


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Stop the work inside after `seconds`, with `ExtractionTimeoutError`.

    The rest of the batch goes on in the same worker. Only Python code can be stopped this
    way; a worker stuck in C code is killed by the pool, whose limit is the batch's.
    """
    if not seconds:
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise ExtractionTimeoutError(f"extraction took longer than {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_messages(
    messages: list[bytes], policy: ParserPolicy, time_limit: float | None = None
) -> list[Outcome | Exception]:
    """Each message's outcome, or the exception it ended with (the others go on); each
    message may take `time_limit` seconds."""
    results: list[Outcome | Exception] = []
    for message in messages:
        try:
            with _time_limit(time_limit):
                results.append(parse_one(message, policy))
        except Exception as exc:
            results.append(_sendable(exc))
    return results
