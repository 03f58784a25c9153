"""The skeleton every service runs in: broker and client, groups, upkeep, metrics, tidy exit.

An app module builds a `Service`, declares its publishers and subscribers on `service.broker`
(its readers and claimers handed out by `reader` and `claimer`, so the skeleton knows which
consumers this process holds), wires them to a plain class, and returns `service.app()`:

- on startup: wait for the server, create the groups, then the service's own preparation,
  all before any subscriber reads;
- after startup: maintenance of the streams it reads, `/metrics`, and its background loop if
  it has one (a loop that crashes ends the process, for its supervisor to restart);
- on shutdown, while the broker drains in-flight handlers: all of that stopped;
- after the subscribers stopped: the service's own closing, its idle consumers removed from
  their groups (a pending entry keeps its consumer, for a claimer to take over), the client
  disconnected.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, overload

from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.core.broker import (
    claimer_name,
    claimer_sub,
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.delivery import Deliveries
from services.core.maintenance import Maintenance, remove_consumer_if_idle, retention_policy
from services.core.metrics import MetricsServer
from services.core.settings import Settings
from services.core.streams import Streams, consumer_name

logger = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
Loop = Callable[[], Coroutine[Any, Any, None]]
# Closing steps may be plain functions (a process pool's close) or coroutines.
Closer = Callable[[], Awaitable[None] | None]


class Service:
    """One service process: its broker, client and consumers, and the lifecycle around them."""

    def __init__(self, name: str, description: str, settings: Settings | None = None) -> None:
        self.name = name
        self.settings = settings or Settings()
        self.streams = Streams(self.settings.stream_prefix)
        self.broker: RedisBroker = make_broker(self.settings)
        self.client: Redis = connect(self.settings)
        # This process's consumer name in its groups; replicas never share one.
        self.consumer = consumer_name(name, self.settings.consumer_name)
        self.metrics = MetricsServer(self.client, self.streams, self.settings.metrics_port)
        self._description = description
        self._inputs: dict[str, list[str]] = {}
        self._preparing: list[Hook] = []
        self._loops: dict[str, Loop] = {}
        self._closing: list[Closer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._app: FastStream | None = None

    def group(self, stream: str) -> str:
        return self.streams.groups()[stream]

    def deliveries(self, stream: str) -> Deliveries:
        """Delivery counts, last errors and dead letters of this service's input `stream`."""
        return Deliveries(self.client, self.streams, self.name, stream, self.group(stream))

    def reader(self, stream: str, consumer: str, *, max_records: int) -> StreamSub[Literal[True]]:
        """A batch reader of `stream` in its group under the name `consumer`."""
        self._hold(stream, consumer)
        return StreamSub(
            stream,
            group=self.group(stream),
            consumer=consumer,
            batch=True,
            max_records=max_records,
        )

    @overload
    def claimer(
        self, stream: str, consumer: str, *, batch: Literal[False] = False
    ) -> StreamSub[Literal[False]]: ...

    @overload
    def claimer(
        self, stream: str, consumer: str, *, batch: Literal[True]
    ) -> StreamSub[Literal[True]]: ...

    def claimer(self, stream: str, consumer: str, *, batch: bool = False) -> StreamSub[Any]:
        """The claimer beside the reader named `consumer` (see `claimer_sub`)."""
        self._hold(stream, claimer_name(consumer))
        if batch:
            return claimer_sub(stream, self.group(stream), consumer, self.settings, batch=True)
        return claimer_sub(stream, self.group(stream), consumer, self.settings)

    def _hold(self, stream: str, consumer: str) -> None:
        self._inputs.setdefault(stream, []).append(consumer)

    def consumers(self, stream: str) -> list[str]:
        """The consumer names this process reads `stream` under, so far declared."""
        return list(self._inputs.get(stream, []))

    def prepare(self, hook: Hook) -> None:
        """Run `hook` once the groups exist and before any subscriber reads."""
        self._preparing.append(hook)

    def run_in_background(self, name: str, loop: Loop) -> None:
        """Run `loop` while the service is up; cancelled on shutdown, fatal if it crashes."""
        self._loops[name] = loop

    def on_close(self, closer: Closer) -> None:
        """Run `closer` after the subscribers stopped, before the client disconnects."""
        self._closing.append(closer)

    def app(self) -> FastStream:
        """The FastStream application running this service."""
        self._app = FastStream(
            self.broker,
            specification=specification(self.name, self._description),
            # The app module's logger, so FastStream's lifecycle lines name the service.
            logger=logging.getLogger(f"services.{self.name}.app"),
            on_startup=[self._setup],
            after_startup=[self._start],
            on_shutdown=[self._stop],
            after_shutdown=[self._close],
        )
        return self._app

    async def _setup(self) -> None:
        await wait_for_broker(self.client)
        await ensure_groups(self.client, self.streams)
        for hook in self._preparing:
            await hook()

    async def _start(self) -> None:
        if self._inputs:
            maintenance = Maintenance(
                self.client,
                self.streams,
                list(self._inputs),
                retention=retention_policy(self.settings, self.streams),
                interval=self.settings.maintenance_seconds,
                emergency_maxlen=self.settings.stream_emergency_maxlen,
                stale_consumer_ms=int(self.settings.stale_consumer_seconds * 1000),
            )
            self._tasks.append(
                asyncio.create_task(maintenance.run(self._stopping), name="maintenance")
            )
        await self.metrics.start()
        for name, loop in self._loops.items():
            task = asyncio.create_task(loop(), name=name)
            task.add_done_callback(self._finished)
            self._tasks.append(task)

    def _finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The loop must not die silently: exit, and let the supervisor restart us.
            logger.critical("%s loop crashed reason=%s", task.get_name(), exc, exc_info=exc)
            if self._app is not None:
                self._app.exit()

    async def _stop(self) -> None:
        await self.metrics.stop()
        # Maintenance ends at its next check of the event; the loops have nothing to finish.
        self._stopping.set()
        for task in self._tasks:
            if task.get_name() in self._loops:
                task.cancel()
            await stop_task(task)

    async def _close(self) -> None:
        for closer in self._closing:
            result = closer()
            if inspect.isawaitable(result):
                await result
        try:
            for stream, consumers in self._inputs.items():
                for consumer in consumers:
                    await remove_consumer_if_idle(self.client, stream, self.group(stream), consumer)
        except RedisError as exc:
            logger.warning("consumer cleanup skipped reason=%s", exc)
        await self.client.aclose()


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
