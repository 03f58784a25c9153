"""Pieces every CLI command shares: settings with flags on top, clean errors, a Redis client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.broker import connect
from services.core.errors import AkhbarError
from services.core.settings import Settings

T = TypeVar("T")

RedisOpt = Annotated[str | None, typer.Option("--redis-url", help="Overrides AKHBAR_REDIS_URL.")]
CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="Overrides AKHBAR_CORPUS_DIR.")]
FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="Overrides AKHBAR_FEEDS_FILE.")]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="Overrides AKHBAR_STREAM_PREFIX.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def load_settings(**overrides: Any) -> Settings:
    """Settings from env and `.env`, with the CLI flags that were given on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)


def fail(message: str) -> typer.Exit:
    typer.echo(f"akhbar: {message}", err=True)
    return typer.Exit(code=2)


def with_client(settings: Settings, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run `work` with a client to the configured server; errors become one clear line."""

    async def run() -> T:
        client = connect(settings)
        try:
            return await work(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(run())
    except AkhbarError as exc:
        raise fail(str(exc)) from exc
    except (RedisConnectionError, OSError) as exc:
        raise fail(f"cannot reach the broker at {settings.redis_url}: {exc}") from exc
