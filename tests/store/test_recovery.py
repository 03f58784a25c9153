"""Crash leftovers against a real server: reservations settled, released or taken over."""

import asyncio
import threading
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.core.errors import ConfigError, StillWritingError
from services.core.messages import utcnow
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams
from services.store.corpus import CorpusWriter, iter_records
from services.store.store import CorpusStore
from tests.store.factory import record, seed_texts


def make_store(
    client: Redis, streams: Streams, corpus: Path, writer: str = "w1", **settings: object
) -> CorpusStore:
    config = Settings(redis_url=None, stream_prefix=streams.prefix, **settings)
    return CorpusStore(client, streams, CorpusWriter(corpus, writer, 1 << 20), config)


async def pending_message(client: Redis, streams: Streams) -> str:
    """A message of the parsed stream, read by a consumer and not acknowledged."""
    await client.xgroup_create(streams.parsed, STORE_GROUP, id="0", mkstream=True)
    message_id: str = await client.xadd(streams.parsed, {"__data__": "{}"})
    await client.xreadgroup(STORE_GROUP, "dead-consumer", {streams.parsed: ">"})
    return message_id


async def crash_after_reserve(store: CorpusStore, text: str, message_id: str) -> None:
    """What a store does for a batch before it dies: the keys reserved, nothing written."""
    keys = store.keymaker.keys("a", "https://x.com/a", text, None)
    position = store._writer.position()
    (verdict,) = await store.index.reserve([(keys, message_id)], store.writer, utcnow(), position)
    assert verdict.status == "new"


async def test_reservation_never_written_is_released_at_restart(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    store = make_store(client, streams, tmp_path)
    await store.start()
    await crash_after_reserve(store, text, message_id)
    restarted = make_store(client, streams, tmp_path)
    report = await restarted.start()
    assert (report.settled, report.released) == (0, 1)
    # Released keys block nothing: the redelivery stores the record, once.
    again = await restarted.write_batch([record("a", "https://x.com/a", text)], [message_id])
    assert [r.id for r in again.stored] == ["a"]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0


async def test_record_written_before_the_crash_is_settled_and_its_message_acknowledged(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    store = make_store(client, streams, tmp_path)
    await store.start()
    await crash_after_reserve(store, text, message_id)
    CorpusWriter(tmp_path, "w1", 1 << 20).append(
        [record("a", "https://x.com/a", text).model_dump_json()]
    )
    restarted = make_store(client, streams, tmp_path)
    report = await restarted.start()
    assert (report.settled, report.released) == (1, 0)
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0
    assert await client.hlen(restarted.index.reserved_key) == 0
    late = await restarted.write_batch([record("a", "https://x.com/a", text)], [message_id])
    assert late.stored == []
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]


async def test_other_replica_takes_over_a_dead_writers_reservation(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    dead = make_store(client, streams, tmp_path, "w1")
    await dead.start()
    await crash_after_reserve(dead, text, message_id)
    # The message is claimed by the other replica while w1 stays down.
    other = make_store(client, streams, tmp_path, "w2")
    await other.start()
    result = await other.write_batch([record("a", "https://x.com/a", text)], [message_id])
    assert [r.id for r in result.stored] == ["a"]
    back = make_store(client, streams, tmp_path, "w1")
    assert (await back.start()).released == 0  # the reservation is w2's now
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]


async def test_takeover_finds_what_the_dead_writer_had_written(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    dead = make_store(client, streams, tmp_path, "w1")
    await dead.start()
    await crash_after_reserve(dead, text, message_id)
    CorpusWriter(tmp_path, "w1", 1 << 20).append(
        [record("a", "https://x.com/a", text).model_dump_json()]
    )
    other = make_store(client, streams, tmp_path, "w2")
    await other.start()
    result = await other.write_batch([record("a", "https://x.com/a", text)], [message_id])
    assert ([r.id for r in result.already_stored], result.stored) == (["a"], [])
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0


async def test_index_built_with_other_parameters_is_refused(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await make_store(client, streams, tmp_path).start()
    with pytest.raises(ConfigError, match="akhbar reindex"):
        await make_store(client, streams, tmp_path, shingle_size=4).start()


async def test_same_writer_redelivery_after_a_failed_commit_is_not_written_twice(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # The batch was written, then its commit failed (the broker restarted): the message is
    # redelivered to the same writer, which must find its own line instead of adding another.
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    store = make_store(client, streams, tmp_path)
    await store.start()
    await crash_after_reserve(store, text, message_id)
    store._writer.append([record("a", "https://x.com/a", text).model_dump_json()])
    again = await store.write_batch([record("a", "https://x.com/a", text)], [message_id])
    assert ([r.id for r in again.already_stored], again.stored) == (["a"], [])
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0


async def write_with_failed_commit(
    store: CorpusStore, monkeypatch: pytest.MonkeyPatch, text: str, message_id: str
) -> None:
    """A batch written to the corpus whose commit then fails, as when the broker restarts."""

    async def lost_connection(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Connection closed by server.")

    with monkeypatch.context() as patch:
        patch.setattr(store.index, "commit", lost_connection)
        with pytest.raises(ConnectionError):
            await store.write_batch([record("a", "https://x.com/a", text)], [message_id])


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "restarted"])
async def test_failed_commit_is_settled_after_later_batches_moved_the_checkpoint(
    client: Redis,
    streams: Streams,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    restart: bool,
) -> None:
    # Later batches commit and move the writer's checkpoint past the unsettled record; its
    # redelivery, in this process or after a restart, must still find it in the corpus.
    first, second = seed_texts()
    message_id = await pending_message(client, streams)
    store = make_store(client, streams, tmp_path)
    await store.start()
    await write_with_failed_commit(store, monkeypatch, first, message_id)
    later = await store.write_batch([record("b", "https://x.com/b", second)])
    assert [r.id for r in later.stored] == ["b"]
    if restart:
        store = make_store(client, streams, tmp_path)
        report = await store.start()
        assert (report.settled, report.released) == (1, 0)
    again = await store.write_batch([record("a", "https://x.com/a", first)], [message_id])
    assert again.stored == []
    assert sorted(r["id"] for r in iter_records(tmp_path)) == ["a", "b"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0
    assert await store.index.reservations(store.writer) == []


async def test_claim_of_a_record_still_being_written_here_waits_for_it(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    # The claimer can take a message whose first delivery this process is still writing
    # (a batch slower than the claim idle time); it must not write the record a second time.
    text, _ = seed_texts()
    message_id = await pending_message(client, streams)
    store = make_store(client, streams, tmp_path)
    await store.start()
    writing, release = threading.Event(), threading.Event()
    writer_append = store._writer.append

    def slow_append(lines: list[str]) -> tuple[str, int]:
        writing.set()
        release.wait(timeout=10)
        return writer_append(lines)

    store._writer.append = slow_append  # type: ignore[method-assign]
    first = asyncio.create_task(
        store.write_batch([record("a", "https://x.com/a", text)], [message_id])
    )
    assert await asyncio.to_thread(writing.wait, 10)
    with pytest.raises(StillWritingError):
        await store.write_batch([record("a", "https://x.com/a", text)], [message_id])
    release.set()
    assert [r.id for r in (await first).stored] == ["a"]
    assert [r["id"] for r in iter_records(tmp_path)] == ["a"]
    assert (await client.xpending(streams.parsed, STORE_GROUP))["pending"] == 0
