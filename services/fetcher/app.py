"""The fetcher service: replays folders and polls feeds, publishing raw documents."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from faststream import FastStream

from services.core.backpressure import Backpressure
from services.core.messages import DeadLetter, RawDocument
from services.core.service import Service
from services.core.settings import Settings
from services.fetcher.fetcher import Fetcher, Outlet

DESCRIPTION = "Polls news feeds and replays saved pages into raw documents."


def declare(service: Service) -> Fetcher:
    """The fetcher's publishers on the service's broker, and its working parts around them."""
    settings, streams, broker = service.settings, service.streams, service.broker
    to_raw = broker.publisher(stream=streams.raw, schema=RawDocument, title="raw")
    to_dead = broker.publisher(stream=streams.dead, schema=DeadLetter, title="dead")
    outlet = Outlet(
        to_raw.publish,
        to_dead.publish,
        Backpressure(service.client, streams.raw, settings.raw_backlog_limit),
    )
    return Fetcher.assemble(settings, streams, broker, service.client, outlet)


def build_fetcher(settings: Settings) -> Fetcher:
    """The fetcher's working parts as the service runs them, without the service around them
    (the benchmark drives them)."""
    return declare(Service("fetcher", DESCRIPTION, settings))


def build_app(
    settings: Settings | None = None, replay_dirs: list[Path] | None = None
) -> FastStream:
    service = Service("fetcher", DESCRIPTION, settings)
    fetcher = declare(service)
    service.run_in_background("fetcher", partial(fetcher.run, list(replay_dirs or [])))
    service.on_close(fetcher.http.aclose)
    return service.app()
