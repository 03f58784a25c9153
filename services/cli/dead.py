"""`akhbar dead list / retry / drop`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from redis.asyncio import Redis

from services.cli.common import JsonOpt, PrefixOpt, RedisOpt, fail, load_settings, with_client
from services.core import deadletters
from services.core.streams import Streams

app = typer.Typer(help="Inspect and replay failures (the dead stream).", no_args_is_help=True)

IdsArg = Annotated[list[str] | None, typer.Argument(help="Dead-letter entry ids.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every dead letter.")]


def _ids(ids: list[str] | None, everything: bool) -> list[str] | None:
    if everything == bool(ids):
        raise fail("give dead-letter ids or --all (not both)")
    return None if everything else ids


@app.command("list")
def list_command(
    count: Annotated[int | None, typer.Option("-n", help="Show at most N.")] = None,
    as_json: JsonOpt = False,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Show dead letters, oldest first: id, stage, deliveries, URL and error."""
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    streams = Streams(settings.stream_prefix)

    async def work(client: Redis) -> list[deadletters.Entry]:
        return await deadletters.list_dead(client, streams, count)

    for entry in with_client(settings, work):
        letter = entry.letter
        if as_json:
            row = {"entry_id": entry.entry_id, **letter.model_dump(mode="json")}
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            url = letter.payload.get("url", "")
            typer.echo(
                f"{entry.entry_id}  {letter.stage:<8} x{letter.deliveries}  {url}  {letter.error}"
            )


def _apply(
    action: Callable[[Redis, Streams, list[str] | None], Awaitable[list[deadletters.Entry]]],
    verb: str,
    ids: list[str] | None,
    everything: bool,
    redis_url: str | None,
    prefix: str | None,
) -> None:
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    streams = Streams(settings.stream_prefix)
    chosen = _ids(ids, everything)
    done = with_client(settings, lambda client: action(client, streams, chosen))
    typer.echo(f"{verb} {len(done)} dead letters")
    if chosen is not None and len(done) < len(chosen):
        raise fail(f"{len(chosen) - len(done)} of the given ids are not in the dead stream")


@app.command()
def retry(
    ids: IdsArg = None,
    everything: AllOpt = False,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Publish dead letters again to the stream they failed on (fetcher: download again)."""
    _apply(deadletters.retry, "retried", ids, everything, redis_url, prefix)


@app.command()
def drop(
    ids: IdsArg = None,
    everything: AllOpt = False,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Delete dead letters for good."""
    _apply(deadletters.drop, "dropped", ids, everything, redis_url, prefix)
