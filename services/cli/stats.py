"""`akhbar stats`: streams, groups, consumers and corpus counts at a glance."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.cli.common import (
    CorpusOpt,
    JsonOpt,
    PrefixOpt,
    RedisOpt,
    load_settings,
    with_client,
)
from services.cli.progress import totals
from services.cli.up import corpus_documents
from services.core.streams import STREAM_KINDS, Streams

WATCH_SECONDS = 2.0


async def stream_stats(client: Redis, key: str) -> dict[str, Any]:
    length = int(await client.xlen(key))
    groups = []
    try:
        infos = await client.xinfo_groups(key)
    except ResponseError:  # no such stream yet
        infos = []
    for info in infos:
        consumers = await client.xinfo_consumers(key, info["name"])
        groups.append(
            {
                "name": info["name"],
                "pending": int(info["pending"]),
                "lag": None if info.get("lag") is None else int(info["lag"]),
                "last_delivered_id": info["last-delivered-id"],
                "consumers": [
                    {"name": c["name"], "pending": int(c["pending"]), "idle_ms": int(c["idle"])}
                    for c in consumers
                ],
            }
        )
    return {"key": key, "length": length, "groups": groups}


async def collect(client: Redis, streams: Streams, corpus_dir: Path) -> dict[str, Any]:
    run = await totals(client, streams)
    return {
        "streams": {kind: await stream_stats(client, streams.key(kind)) for kind in STREAM_KINDS},
        "corpus": {
            "directory": str(corpus_dir),
            "documents": corpus_documents(corpus_dir),
            "stored": run.stored,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
            "dead": run.dead,
        },
    }


def _idle(ms: int) -> str:
    return f"{ms / 1000:.0f}s" if ms < 120_000 else f"{ms / 60_000:.0f}m"


def format_stats(stats: dict[str, Any]) -> str:
    lines = ["stream      length  group   pending  lag  consumers (pending, idle)"]
    for kind, info in stats["streams"].items():
        if not info["groups"]:
            lines.append(f"{kind:<10}{info['length']:>8}  -")
        for group in info["groups"]:
            consumers = ", ".join(
                f"{c['name']} ({c['pending']}, {_idle(c['idle_ms'])})" for c in group["consumers"]
            )
            lag = "?" if group["lag"] is None else group["lag"]
            lines.append(
                f"{kind:<10}{info['length']:>8}  {group['name']:<7}{group['pending']:>8}"
                f"{lag:>5}  {consumers or '-'}"
            )
    corpus = stats["corpus"]
    lines.append(
        f"corpus: {corpus['documents']} documents in {corpus['directory']}; "
        f"stored {corpus['stored']}, duplicates {corpus['duplicates']}, "
        f"rejected {corpus['rejected']}, dead {corpus['dead']}"
    )
    return "\n".join(lines)


def _frame(found: dict[str, Any], as_json: bool) -> str:
    text = json.dumps(found, ensure_ascii=False) if as_json else format_stats(found)
    if sys.stdout.isatty():
        return "\x1b[H\x1b[2J" + text  # clear the screen, redraw in place
    return f"--- {time.strftime('%H:%M:%S')}\n{text}"


async def watch_stats(client: Redis, streams: Streams, corpus_dir: Path, as_json: bool) -> None:
    """Redraw every WATCH_SECONDS until SIGINT or SIGTERM.

    The signals only set an event: a KeyboardInterrupt raised wherever the process happens
    to be (inside a request, closing the client) could leave it hanging instead of exiting.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        print(_frame(await collect(client, streams, corpus_dir), as_json), flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WATCH_SECONDS)


def stats(
    as_json: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every 2 seconds.")] = False,
    corpus: CorpusOpt = None,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Per stream length, per group pending, lag and consumers; corpus counts."""
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix, corpus_dir=corpus)
    streams = Streams(settings.stream_prefix)
    if watch:
        with_client(settings, lambda c: watch_stats(c, streams, settings.corpus_dir, as_json))
        return
    found = with_client(settings, lambda c: collect(c, streams, settings.corpus_dir))
    typer.echo(json.dumps(found, ensure_ascii=False) if as_json else format_stats(found))
