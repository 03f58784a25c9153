"""Helpers for tests that run services in-process against the session's real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from faststream import FastStream
from redis.asyncio import Redis


@asynccontextmanager
async def running(app: FastStream) -> AsyncIterator[FastStream]:
    """Start an app with its hooks, and stop it whatever the test does."""
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Wait until `check` holds; fail the test after `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while not await check():  # noqa: ASYNC110 - the state is on the server; nothing to await
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"condition not met within {within}s") from None


async def stream_payloads(client: Redis, stream: str) -> list[dict[str, Any]]:
    return [json.loads(fields["__data__"]) for _, fields in await client.xrange(stream)]
