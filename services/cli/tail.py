"""`akhbar tail STREAM`: a stream's messages as readable lines (or JSON), optionally following."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

import typer
from redis.asyncio import Redis

from services.cli.common import JsonOpt, PrefixOpt, RedisOpt, fail, load_settings, with_client
from services.core.streams import Streams
from services.core.wire import DATA_FIELD


def entry_time(entry_id: str) -> str:
    """The wall-clock time a stream entry id encodes, local time to the second."""
    return datetime.fromtimestamp(int(entry_id.split("-")[0]) / 1000).strftime("%Y-%m-%d %H:%M:%S")


def decode(fields: dict[str, str]) -> dict[str, Any]:
    raw = fields.get(DATA_FIELD)
    if raw is None:
        return dict(fields)
    try:
        value = json.loads(raw)
    except ValueError:
        return {"data": raw}
    return value if isinstance(value, dict) else {"data": value}


def _size(chars: int) -> str:
    return f"{chars / 1000:.1f}k chars" if chars >= 1000 else f"{chars} chars"


def describe(payload: dict[str, Any]) -> str:
    """One readable line for a message of any of akhbar's streams."""
    url = payload.get("url", "")
    source = payload.get("source", "")
    if "stage" in payload and "payload" in payload:  # dead letter
        inner = payload.get("payload") or {}
        return (
            f"{payload['stage']}  x{payload.get('deliveries', '?')}  {inner.get('url', '')}  "
            f"reason: {payload.get('error', '')}"
        )
    if "reason" in payload:  # rejection
        title = payload.get("title") or ""
        return (
            f"{source}  {title}  reason: {payload['reason']} ({payload.get('detail', '')})  {url}"
        )
    if "text" in payload:  # corpus record
        title = payload.get("title") or ""
        return f"{source}  {title}  {payload.get('word_count', 0)} words  {url}"
    if "body" in payload:  # raw document
        title = (payload.get("entry") or {}).get("title") or ""
        return f"{source}  {title}  {_size(len(payload['body']))}  {url}"
    return json.dumps(payload, ensure_ascii=False)


def render(stream: str, entry_id: str, fields: dict[str, str], as_json: bool) -> str:
    payload = decode(fields)
    if as_json:
        return json.dumps({"entry_id": entry_id, "stream": stream, **payload}, ensure_ascii=False)
    return f"{entry_time(entry_id)}  {describe(payload)}"


async def _tail(client: Redis, key: str, count: int, follow: bool, as_json: bool) -> None:
    if not await client.exists(key):
        raise fail(f"stream {key} does not exist (streams: raw, parsed, rejected, dead)")
    if await client.type(key) != "stream":
        raise fail(f"{key} is not a stream")
    last = "$"
    if count > 0:
        newest: Any = await client.xrevrange(key, count=count)
        for entry_id, fields in reversed(newest):
            typer.echo(render(key, entry_id, fields, as_json))
            last = entry_id
    while follow:
        reply: Any = await client.xread({key: last}, block=1000, count=100)
        for _, rows in reply or []:
            for entry_id, fields in rows:
                typer.echo(render(key, entry_id, fields, as_json))
                last = entry_id


def tail(
    stream: Annotated[str, typer.Argument(help="raw, parsed, rejected, dead, or a full key.")],
    count: Annotated[int, typer.Option("-n", help="Show the last N messages.", min=0)] = 10,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="Keep printing new ones.")] = False,
    as_json: JsonOpt = False,
    redis_url: RedisOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Print a stream's messages as readable lines: time, source, title, size, URL, reason."""
    settings = load_settings(redis_url=redis_url, stream_prefix=prefix)
    key = Streams(settings.stream_prefix).key(stream)
    try:
        with_client(settings, lambda client: _tail(client, key, count, follow, as_json))
    except KeyboardInterrupt:
        pass
    except asyncio.CancelledError:
        pass
