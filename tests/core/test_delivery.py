"""Delivery guarantees against a real server: reclaim, delivery limits, dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.delivery import Deliveries, guarded
from services.core.errors import UndecodableBodyError
from services.core.messages import RawDocument
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams
from services.parser.app import build_app
from tests.conftest import SEEDS
from tests.helpers import eventually, running, stream_payloads
from tests.parser.stub_workers import poison_parse


def seed_document(n: int = 0) -> RawDocument:
    path = sorted(SEEDS.glob("*.txt"))[n]
    return RawDocument(
        id=f"seed{n}",
        url=path.as_uri(),
        source="replay",
        content_type="text/plain",
        body=path.read_text(encoding="utf-8"),
    )


async def add(client: Redis, stream: str, payload: dict[str, Any] | RawDocument) -> str:
    data = payload.model_dump_json() if isinstance(payload, RawDocument) else json.dumps(payload)
    return str(await client.xadd(stream, {"__data__": data}))


async def test_dead_consumers_message_is_reclaimed(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    await ensure_groups(client, streams)
    message_id = await add(client, streams.raw, seed_document())
    # A consumer takes the message and dies without acknowledging it.
    await client.xreadgroup(PARSER_GROUP, "crashed-parser", {streams.raw: ">"}, count=1)
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 1
    fast = settings.model_copy(update={"claim_idle_seconds": 0.5})
    async with running(build_app(fast)):

        async def parsed() -> bool:
            return await client.xlen(streams.parsed) == 1

        await eventually(parsed)

        async def acked() -> bool:
            return (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 0

        await eventually(acked)
    (record,) = await stream_payloads(client, streams.parsed)
    assert record["id"] == "seed0"
    assert message_id


async def test_poison_message_dead_lettered_after_max_deliveries_others_parsed(
    client: Redis, settings: Settings, streams: Streams, tmp_path: Path
) -> None:
    attempts = tmp_path / "attempts"  # the worker writes each attempt on the poison here
    await ensure_groups(client, streams)
    poison = seed_document(0).model_copy(update={"id": "poison", "url": attempts.as_uri()})
    await add(client, streams.raw, seed_document(0))
    await add(client, streams.raw, poison)
    await add(client, streams.raw, seed_document(1))
    fast = settings.model_copy(update={"claim_idle_seconds": 0.3, "max_deliveries": 3})
    async with running(build_app(fast, work=poison_parse)):

        async def dead() -> bool:
            return await client.xlen(streams.dead) == 1

        await eventually(dead)
    (letter,) = await stream_payloads(client, streams.dead)
    assert (letter["stage"], letter["stream"], letter["deliveries"]) == ("parser", streams.raw, 3)
    assert letter["payload"]["id"] == "poison"
    assert "gave up after 3 deliveries" in letter["error"]
    assert "extractor keeps failing on this page" in letter["error"]
    assert attempts.read_text().split() == ["poison"] * 3
    assert sorted(r["id"] for r in await stream_payloads(client, streams.parsed)) == [
        "seed0",
        "seed1",
    ]
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 0


async def test_permanent_failure_dead_lettered_at_once(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    message_id = await add(client, streams.raw, {"id": "x"})
    await client.xreadgroup(PARSER_GROUP, "c1", {streams.raw: ">"}, count=1)
    deliveries = Deliveries(client, streams, "parser", streams.raw, PARSER_GROUP)

    async def work() -> None:
        raise UndecodableBodyError("empty body")

    await guarded(deliveries, message_id, {"id": "x"}, work, claimed=False, max_deliveries=5)
    (letter,) = await stream_payloads(client, streams.dead)
    assert (letter["error"], letter["deliveries"]) == ("UndecodableBodyError: empty body", 1)
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 0


async def test_transient_failure_stays_pending_with_its_error(
    client: Redis, streams: Streams
) -> None:
    await ensure_groups(client, streams)
    message_id = await add(client, streams.raw, {"id": "x"})
    await client.xreadgroup(PARSER_GROUP, "c1", {streams.raw: ">"}, count=1)
    deliveries = Deliveries(client, streams, "parser", streams.raw, PARSER_GROUP)

    async def work() -> None:
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        await guarded(deliveries, message_id, {"id": "x"}, work, claimed=False, max_deliveries=5)
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 1
    assert await deliveries.last_error(message_id) == "ConnectionError: database went away"
    assert await client.xlen(streams.dead) == 0
