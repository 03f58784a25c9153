"""Broker factory and the stream setup every service relies on."""

from __future__ import annotations

import logging

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.errors import ConfigError
from services.core.settings import Settings
from services.core.streams import Streams
from services.core.wire import PlainJSONFormat

logger = logging.getLogger(__name__)


def redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise ConfigError(
            "AKHBAR_REDIS_URL is not set: run the services through `akhbar up`, which starts "
            "an embedded server, or point them at a Redis/Valkey server"
        )
    return settings.redis_url


def make_broker(settings: Settings) -> RedisBroker:
    # Per-message "Received"/"Processed" lines are debug detail, not events worth a log line.
    return RedisBroker(
        redis_url(settings), message_format=PlainJSONFormat, logger=logger, log_level=logging.DEBUG
    )


def connect(settings: Settings) -> Redis:
    """A plain client for the bookkeeping FastStream does not do (groups, counters, index)."""
    return Redis.from_url(redis_url(settings), decode_responses=True)


async def ensure_groups(client: Redis, streams: Streams) -> None:
    """Create each consumer group at id 0, so messages published before a consumer starts count."""
    for stream, group in streams.groups().items():
        try:
            await client.xgroup_create(stream, group, id="0", mkstream=True)
            logger.info("group created stream=%s group=%s", stream, group)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
