"""Broker factory and the stream setup every service relies on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal, overload

from faststream.redis import RedisBroker, StreamSub
from faststream.redis.prometheus import RedisPrometheusMiddleware
from faststream.specification import AsyncAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.core.errors import ConfigError
from services.core.metrics import REGISTRY
from services.core.settings import Settings
from services.core.streams import Streams
from services.core.wire import PlainJSONFormat

logger = logging.getLogger(__name__)
# FastStream's own lines (messages received, subscriber tasks reaped) go to a child logger, so
# entry points can keep them out of INFO without silencing this module.
FASTSTREAM_LOGGER = f"{__name__}.faststream"


def redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise ConfigError(
            "AKHBAR_REDIS_URL is not set: run the services through `akhbar up`, which starts "
            "an embedded server, or point them at a Redis/Valkey server"
        )
    return settings.redis_url


def make_broker(settings: Settings) -> RedisBroker:
    return RedisBroker(
        redis_url(settings),
        message_format=PlainJSONFormat,
        logger=logging.getLogger(FASTSTREAM_LOGGER),
        log_level=logging.DEBUG,
        # On SIGTERM, in-flight handlers get this long to finish; what does not finish stays
        # pending and is claimed by another consumer.
        graceful_timeout=settings.shutdown_timeout,
        middlewares=[RedisPrometheusMiddleware(registry=REGISTRY, app_name="akhbar")],
    )


def connect(settings: Settings) -> Redis:
    """A plain client for the bookkeeping FastStream does not do (groups, counters, index)."""
    return Redis.from_url(redis_url(settings), decode_responses=True)


async def wait_for_broker(client: Redis, max_delay: float = 10.0) -> None:
    """Return once the server answers PING, retrying with backoff; a service started while
    the broker is down waits for it instead of exiting."""
    delay = 0.5
    while True:
        try:
            await client.ping()
            return
        except (RedisError, OSError) as exc:
            logger.warning("broker unreachable retry_in=%.1fs reason=%s", delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def ensure_groups(client: Redis, streams: Streams) -> None:
    """Create each consumer group at id 0, so messages published before a consumer starts count."""
    for stream, group in streams.groups().items():
        try:
            await client.xgroup_create(stream, group, id="0", mkstream=True)
            logger.info("group created stream=%s group=%s", stream, group)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def specification(service: str, description: str) -> AsyncAPI:
    """AsyncAPI metadata for one service (`faststream docs gen --factory ...:build_app`)."""
    return AsyncAPI(title=f"akhbar {service}", version="0.1.0", description=description)


def claimer_name(consumer: str) -> str:
    """The consumer name of a reader's claimer in the same group."""
    return f"{consumer}-claim"


@overload
def claimer_sub(
    stream: str, group: str, consumer: str, settings: Settings, *, batch: Literal[False] = False
) -> StreamSub[Literal[False]]: ...


@overload
def claimer_sub(
    stream: str, group: str, consumer: str, settings: Settings, *, batch: Literal[True]
) -> StreamSub[Literal[True]]: ...


def claimer_sub(
    stream: str, group: str, consumer: str, settings: Settings, *, batch: bool = False
) -> StreamSub[Any]:
    """The claim-only subscriber (XAUTOCLAIM) that takes over messages a consumer has held
    for longer than `claim_idle_seconds`; it runs beside the reader named `consumer`."""
    return StreamSub(
        stream,
        group=group,
        consumer=claimer_name(consumer),
        batch=batch,
        min_idle_time=int(settings.claim_idle_seconds * 1000),
        polling_interval=1000,
    )
