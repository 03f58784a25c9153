"""`akhbar dead list / retry / drop` against a real server."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.delivery import Deliveries
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams
from services.parser.app import build_app
from tests.cli.conftest import clean_env, run_akhbar
from tests.core.test_delivery import add, seed_document
from tests.helpers import eventually, running, stream_payloads


@pytest.fixture
def env(redis_url: str, prefix: str) -> dict[str, str]:
    return clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)


async def kill_in_parser(client: Redis, streams: Streams, error: str) -> str:
    """A raw message the parser gave up on; returns its dead-letter entry id."""
    await ensure_groups(client, streams)
    document = seed_document(1)
    message_id = await add(client, streams.raw, document)
    await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=1)
    deliveries = Deliveries(client, streams, "parser", streams.raw, PARSER_GROUP)
    await deliveries.dead_letter(message_id, document.model_dump(mode="json"), error, 5)
    ((entry_id, _),) = await client.xrange(streams.dead)
    return str(entry_id)


async def test_list_shows_stage_deliveries_url_and_error(
    client: Redis, streams: Streams, env: dict[str, str]
) -> None:
    entry_id = await kill_in_parser(client, streams, "gave up after 5 deliveries: boom")
    done = run_akhbar("dead", "list", env=env)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith(entry_id)
    assert "parser" in line
    assert "x5" in line
    assert "002_5d3db40c777d7577.txt" in line
    assert "boom" in line
    as_json = run_akhbar("dead", "list", "--json", env=env)
    (row,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (row["entry_id"], row["stage"], row["deliveries"]) == (entry_id, "parser", 5)
    assert row["payload"]["id"] == "seed1"


async def test_retry_brings_the_message_back_and_it_is_parsed(
    client: Redis, settings: Settings, streams: Streams, env: dict[str, str]
) -> None:
    entry_id = await kill_in_parser(client, streams, "boom")
    done = run_akhbar("dead", "retry", entry_id, env=env)
    assert done.returncode == 0, done.stderr
    assert "retried 1 dead letters" in done.stdout
    assert await client.xlen(streams.dead) == 0
    async with running(build_app(settings)):

        async def parsed() -> bool:
            return await client.xlen(streams.parsed) == 1

        await eventually(parsed)
    (record,) = await stream_payloads(client, streams.parsed)
    assert record["id"] == "seed1"


async def test_retry_of_a_fetcher_letter_forgets_the_url(
    client: Redis, streams: Streams, env: dict[str, str]
) -> None:
    url = "https://example.com/news/1"
    await client.sadd(streams.seen_urls, url)
    letter = {
        "stage": "fetcher",
        "stream": "",
        "message_id": url,
        "error": "HTTP 503",
        "deliveries": 5,
        "payload": {"url": url, "source": "f"},
    }
    await client.xadd(streams.dead, {"__data__": json.dumps(letter)})
    done = run_akhbar("dead", "retry", "--all", env=env)
    assert done.returncode == 0, done.stderr
    assert not await client.sismember(streams.seen_urls, url)
    assert await client.xlen(streams.dead) == 0


async def test_drop_and_bad_input(client: Redis, streams: Streams, env: dict[str, str]) -> None:
    entry_id = await kill_in_parser(client, streams, "boom")
    neither = run_akhbar("dead", "retry", env=env)
    assert neither.returncode == 2
    assert "give dead-letter ids or --all" in neither.stderr
    unknown = run_akhbar("dead", "drop", "1-1", env=env)
    assert unknown.returncode == 2
    assert "1 of the given ids are not in the dead stream" in unknown.stderr
    done = run_akhbar("dead", "drop", entry_id, env=env)
    assert (done.returncode, done.stdout.strip()) == (0, "dropped 1 dead letters")
    assert await client.xlen(streams.dead) == 0


def test_unreachable_broker_is_one_clear_line() -> None:
    done = run_akhbar("dead", "list", env=clean_env(AKHBAR_REDIS_URL="redis://127.0.0.1:9"))
    assert done.returncode == 2
    assert "cannot reach the broker at redis://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
