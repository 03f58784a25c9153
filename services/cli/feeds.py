"""`akhbar feeds list / add / check`."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from redis.asyncio import Redis

from services.cli.common import (
    FeedsOpt,
    JsonOpt,
    PrefixOpt,
    RedisOpt,
    fail,
    load_settings,
    with_client,
)
from services.core.errors import AkhbarError, FetchError
from services.core.settings import Settings
from services.core.streams import Streams
from services.fetcher.discover import discover
from services.fetcher.feedparse import parse_feed
from services.fetcher.feeds import Feed, load_feeds
from services.fetcher.feedsfile import append_feed, suggest_name
from services.fetcher.http import HttpClient, raise_for_status
from services.fetcher.state import FetcherState

app = typer.Typer(help="The feeds file and each feed's health.", no_args_is_help=True)

HEALTH = ("last_poll", "status", "last_error", "failures", "articles_published", "entries_seen")


def _feeds(settings: Settings) -> list[Feed]:
    try:
        return load_feeds(settings.feeds_file)
    except AkhbarError as exc:
        raise fail(str(exc)) from exc


def _http(settings: Settings) -> HttpClient:
    return HttpClient(
        settings.user_agent,
        allow_private=settings.allow_private_networks,
        timeout=settings.fetch_timeout,
    )


@app.command("list")
def list_command(
    as_json: JsonOpt = False,
    feeds: FeedsOpt = None,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Each feed of the feeds file with its health: last poll, status, error, failures."""
    settings = load_settings(feeds_file=feeds, redis_url=redis_url, stream_prefix=prefix)
    listed = _feeds(settings)
    state_of = FetcherState

    async def work(client: Redis) -> list[dict[str, str]]:
        state = state_of(client, Streams(settings.stream_prefix))
        return [await state.feed(feed.name) for feed in listed]

    healths = with_client(settings, work)
    for feed, health in zip(listed, healths, strict=True):
        row: dict[str, Any] = {**feed.model_dump(), **{k: health.get(k) for k in HEALTH}}
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
            continue
        status = health.get("status", "never polled") if feed.enabled else "disabled"
        line = (
            f"{feed.name:<18} {status:<13} last {health.get('last_poll', '-'):<25} "
            f"failures {health.get('failures', '0'):<3} articles "
            f"{health.get('articles_published', '0'):<6} {feed.url}"
        )
        if health.get("last_error"):
            line += f"\n{'':<19}error: {health['last_error']}"
        typer.echo(line)


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="A feed URL, or a site whose feed to discover.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Feed name (default: from host).")
    ] = None,
    interval: Annotated[int, typer.Option("--interval", min=30)] = 600,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="Tag for its records.")] = None,
    feeds: FeedsOpt = None,
) -> None:
    """Find the feed of URL, check that it parses, and append it to the feeds file."""
    settings = load_settings(feeds_file=feeds)
    existing = _feeds(settings)

    async def work() -> tuple[str, int]:
        http = _http(settings)
        try:
            found = await discover(http, url, settings.feed_max_bytes)
        finally:
            await http.aclose()
        return found.url, len(found.feed.entries)

    try:
        feed_url, entries = asyncio.run(work())
        feed = Feed(
            name=name or suggest_name(feed_url, {f.name for f in existing}),
            url=feed_url,
            interval=interval,
            tags=list(tags or []),
        )
        append_feed(settings.feeds_file, feed)
    except AkhbarError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added {feed.name}: {feed.url} ({entries} entries) to {settings.feeds_file}")


async def _check_one(http: HttpClient, feed: Feed, max_bytes: int) -> dict[str, Any]:
    try:
        response = await http.get(feed.url, max_bytes=max_bytes)
        raise_for_status(response)
        parsed = parse_feed(response.body, response.headers, response.url)
    except FetchError as exc:
        return {"name": feed.name, "url": feed.url, "ok": False, "error": str(exc)}
    return {
        "name": feed.name,
        "url": feed.url,
        "ok": True,
        "format": parsed.format,
        "entries": len(parsed.entries),
    }


@app.command()
def check(as_json: JsonOpt = False, feeds: FeedsOpt = None) -> None:
    """Poll each enabled feed once and report; publishes and records nothing."""
    settings = load_settings(feeds_file=feeds)
    listed = [f for f in _feeds(settings) if f.enabled]

    async def work() -> list[dict[str, Any]]:
        http = _http(settings)
        try:
            return list(
                await asyncio.gather(
                    *(_check_one(http, f, settings.feed_max_bytes) for f in listed)
                )
            )
        finally:
            await http.aclose()

    results = asyncio.run(work())
    for result in results:
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        elif result["ok"]:
            typer.echo(
                f"{result['name']:<18} ok      {result['format']:<8} {result['entries']} entries"
            )
        else:
            typer.echo(f"{result['name']:<18} failed  {result['error']}")
    if not all(r["ok"] for r in results):
        raise typer.Exit(code=1)
