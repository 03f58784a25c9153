"""What every consuming service does around its handlers: upkeep and metrics while up, tidy
exit."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.core.maintenance import Maintenance, remove_consumer_if_idle, retention_policy
from services.core.metrics import MetricsServer
from services.core.settings import Settings
from services.core.streams import Streams

logger = logging.getLogger(__name__)


class Lifecycle:
    """Runs periodic maintenance, and on shutdown removes this process's idle consumers."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        settings: Settings,
        inputs: dict[str, list[str]],
    ) -> None:
        self._client = client
        self._streams = streams
        self._inputs = inputs
        self._maintenance = Maintenance(
            client,
            streams,
            list(inputs),
            retention=retention_policy(settings, streams),
            interval=settings.maintenance_seconds,
            emergency_maxlen=settings.stream_emergency_maxlen,
            stale_consumer_ms=int(settings.stale_consumer_seconds * 1000),
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.metrics = MetricsServer(client, streams, settings.metrics_port)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._maintenance.run(self._stopping), name="maintenance")
        await self.metrics.start()

    async def stop(self) -> None:
        await self.metrics.stop()
        self._stopping.set()
        if self._task is not None:
            await stop_task(self._task)

    async def close(self) -> None:
        """After the subscribers stopped: leave the groups tidy, then disconnect."""
        groups = self._streams.groups()
        try:
            for stream, consumers in self._inputs.items():
                for consumer in consumers:
                    await remove_consumer_if_idle(self._client, stream, groups[stream], consumer)
        except RedisError as exc:
            logger.warning("consumer cleanup skipped reason=%s", exc)
        await self._client.aclose()


async def stop_task(task: asyncio.Task[None], grace: float = 5.0) -> None:
    """Let a background task end on its own, then cancel it; never wait for ever.

    A cancellation that lands inside a Redis client call can be absorbed there, so a bare
    `cancel(); await task` may hang a shutdown.
    """
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        logger.warning("background task did not stop task=%s", task.get_name())
    elif not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("background task failed task=%s reason=%s", task.get_name(), exc)
