"""Pieces every CLI command shares: settings with flags on top, clean errors, a Redis client
to the right server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.broker import connect
from services.core.embedded import EmbeddedServer, find_server, has_data
from services.core.errors import AkhbarError, ConfigError
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


class NoServerError(ConfigError):
    """Neither a configured server nor an embedded one of the state directory can be used."""


@contextmanager
def server_settings(settings: Settings, *, start_if_stopped: bool = True) -> Iterator[Settings]:
    """Settings pointing at the server this command should use.

    In order: `AKHBAR_REDIS_URL` (or `--redis-url`); the embedded server that `akhbar up`
    runs for the state directory; else, when `start_if_stopped`, that embedded server started
    on its persisted data for as long as the command runs, so a finished run can still be
    inspected.
    """
    if settings.redis_url:
        yield settings
        return
    running = find_server(settings.state_dir)
    if running is not None:
        yield settings.model_copy(update={"redis_url": running.url})
        return
    if not has_data(settings.state_dir):
        raise NoServerError(
            f"no akhbar server has run with state directory {settings.state_dir.resolve()}: "
            "start `akhbar up` here (or set AKHBAR_STATE_DIR), or set AKHBAR_REDIS_URL"
        )
    if not start_if_stopped:
        raise NoServerError(
            f"no `akhbar up` is running for {settings.state_dir.resolve()}: start it first "
            "(nothing would process what this command publishes), or set AKHBAR_REDIS_URL"
        )
    server = EmbeddedServer(settings.state_dir)
    url = server.start()
    typer.echo(f"akhbar: no `akhbar up` running; opened {server.data_dir} at {url}", err=True)
    try:
        yield settings.model_copy(update={"redis_url": url})
    finally:
        server.stop()


def with_client(
    settings: Settings, work: Callable[[Redis], Awaitable[T]], *, start_if_stopped: bool = True
) -> T:
    """Run `work` with a client to the command's server; errors become one clear line."""

    async def run(resolved: Settings) -> T:
        client = connect(resolved)
        try:
            return await work(client)
        finally:
            await client.aclose()

    url = settings.redis_url
    try:
        with server_settings(settings, start_if_stopped=start_if_stopped) as resolved:
            url = resolved.redis_url
            return asyncio.run(run(resolved))
    except AkhbarError as exc:
        raise fail(str(exc)) from exc
    except (RedisConnectionError, OSError) as exc:
        raise fail(f"cannot reach the broker at {url}: {exc}") from exc
