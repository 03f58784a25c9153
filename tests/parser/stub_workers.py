"""Functions the parser's worker processes run in tests (importable there by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson

from services.core.errors import TransientError
from services.core.settings import Settings
from services.parser.document import ParserPolicy
from services.parser.worker import Outcome, parse_messages

# The service's default policy, without reading AKHBAR_* from the environment.
POLICY = ParserPolicy.from_settings(Settings.model_construct())


def stub_batch(items: list[str]) -> list[str]:
    """Each item back with the worker's pid: "sleep:PATH" hangs (its pid written to PATH),
    "wait:PATH" waits until PATH exists, "nap:SECONDS" sleeps that long, "exit" kills the
    worker, "raise" raises for the whole batch."""
    for item in items:
        if item.startswith("wait:"):
            while not Path(item.removeprefix("wait:")).exists():
                time.sleep(0.01)
        if item.startswith("nap:"):
            time.sleep(float(item.removeprefix("nap:")))
        if item.startswith("sleep:"):
            Path(item.removeprefix("sleep:")).write_text(str(os.getpid()))
            time.sleep(600)
        if item == "exit":
            os._exit(1)
        if item == "raise":
            raise ValueError("lxml choked")
    return [f"{item} {os.getpid()}" for item in items]


def flaky_parse(messages: list[bytes]) -> list[Outcome | Exception]:
    """The real parse, except that the document with id "flaky" fails as a dead worker does."""
    return [
        TransientError("worker died")
        if orjson.loads(message).get("id") == "flaky"
        else parse_messages([message], POLICY)[0]
        for message in messages
    ]


def poison_parse(messages: list[bytes]) -> list[Outcome | Exception]:
    """The real parse, except that the document with id "poison" always fails; each attempt
    is written to the file its URL names."""
    results: list[Outcome | Exception] = []
    for message in messages:
        document = orjson.loads(message)
        if document.get("id") == "poison":
            with Path(document["url"].removeprefix("file://")).open("a") as attempts:
                attempts.write("poison\n")
            results.append(RuntimeError("extractor keeps failing on this page"))
        else:
            results.extend(parse_messages([message], POLICY))
    return results


def preloaded(items: list[object]) -> list[tuple[int, int]]:
    """Whether this worker started with the language model and the furniture list loaded."""
    from services.parser.furniture import default_furniture
    from services.parser.language import _identifier

    loaded = (_identifier.cache_info().currsize, default_furniture.cache_info().currsize)
    return [loaded for _ in items]


_HELD: list[bytes] = []


def hoarding_batch(items: list[int]) -> list[int]:
    """Each item is a number of MiB the worker allocates and keeps; back comes its pid."""
    for size in items:
        _HELD.append(os.urandom(size << 20))
    return [os.getpid() for _ in items]
