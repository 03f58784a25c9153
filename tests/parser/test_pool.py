import asyncio
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from services.core.errors import (
    DocumentTooLargeError,
    ExtractionError,
    ExtractionTimeoutError,
    PermanentError,
    TransientError,
)
from services.core.messages import CorpusRecord, RawDocument
from services.parser.pool import WorkerPool
from services.parser.worker import Outcome, parse_messages
from tests.helpers import eventually
from tests.parser.stub_workers import POLICY, hoarding_batch, preloaded, stub_batch

POOL_MAIN = Path(__file__).with_name("pool_main.py")


def _pid(result: str) -> int:
    return int(result.split()[1])


def _process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has stopped running


async def _until_gone(pid: int) -> bool:
    for _ in range(100):
        if _process_gone(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_pool_parses_raw_messages_in_worker_processes(
    seed_page: tuple[str, str, str],
) -> None:
    html, title, _ = seed_page
    messages = [
        RawDocument(id=name, url=f"https://example.com/{name}", source="site", body=html)
        .model_dump_json()
        .encode()
        for name in ("a", "b")
    ]
    pool = WorkerPool(partial(parse_messages, policy=POLICY))
    try:
        results = await pool.run(messages)
    finally:
        pool.close()
    assert [type(r) for r in results] == [Outcome, Outcome]
    records = [CorpusRecord.model_validate_json(r.body) for r in results]
    assert [(r.id, r.title) for r in records] == [("a", title), ("b", title)]


async def test_a_worker_holding_more_than_its_memory_limit_is_replaced() -> None:
    pool = WorkerPool(hoarding_batch, max_worker_bytes=300 << 20)
    try:
        first = await pool.run([1])
        second = await pool.run([1])
        grown = await pool.run([400])  # the worker is replaced after this batch
        fresh = await pool.run([1])
    finally:
        pool.close()
    assert first == second == grown
    assert fresh != first
    assert await _until_gone(first[0])


async def test_a_batch_runs_in_one_worker_replaced_after_its_quota() -> None:
    pool = WorkerPool(stub_batch, items_per_worker=3)
    try:
        first = await pool.run(["a", "b"])
        second = await pool.run(["c", "d"])  # 4 items: the worker is replaced after this
        third = await pool.run(["e"])
    finally:
        pool.close()
    assert [r.split()[0] for r in [*first, *second, *third]] == ["a", "b", "c", "d", "e"]
    assert len({_pid(r) for r in [*first, *second]}) == 1
    assert _pid(third[0]) != _pid(first[0])


async def test_a_stalled_item_times_out_alone_and_its_worker_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    pool = WorkerPool(stub_batch, timeout=1.0)
    try:
        await pool.run(["warm-up"])  # the worker is started before the clock matters
        started = time.monotonic()
        results = await pool.run(["before", f"sleep:{pid_file}", "after"])
        assert time.monotonic() - started < 20
        stuck = int(pid_file.read_text())  # the worker it stalled when it ran alone
        assert await _until_gone(stuck)
        later = await pool.run(["next"])  # a fresh pool
    finally:
        pool.close()
    before, stalled, after = results
    assert isinstance(stalled, ExtractionTimeoutError)
    assert str(stalled) == "extraction took longer than 1s"
    assert (before.split()[0], after.split()[0]) == ("before", "after")
    assert _pid(later[0]) != stuck


async def test_a_dead_worker_fails_only_its_item_as_transient() -> None:
    pool = WorkerPool(stub_batch)
    try:
        results = await pool.run(["a", "exit", "b"])
        later = await pool.run(["next"])
    finally:
        pool.close()
    a, died, b = results
    assert isinstance(died, TransientError)
    assert (a.split()[0], b.split()[0], later[0].split()[0]) == ("a", "b", "next")


async def test_a_function_that_raises_fails_only_its_item_as_permanent() -> None:
    pool = WorkerPool(stub_batch)
    try:
        a, failed = await pool.run(["a", "raise"])
        (alone,) = await pool.run(["raise"])
    finally:
        pool.close()
    assert a.split()[0] == "a"
    for error in (failed, alone):
        assert isinstance(error, ExtractionError)
        assert "ValueError: lxml choked" in str(error)


async def test_the_next_batch_waits_in_the_worker_while_one_runs(tmp_path: Path) -> None:
    release = tmp_path / "release"
    pool = WorkerPool(stub_batch)
    try:
        first = asyncio.create_task(pool.run([f"wait:{release}"]))
        second = asyncio.create_task(pool.run(["next"]))

        async def both_handed_over() -> bool:
            return pool.in_flight == 2

        await eventually(both_handed_over)
        assert not first.done()
        assert not second.done()
        release.touch()
        (held,), (queued,) = await asyncio.gather(first, second)
    finally:
        release.touch()  # a failed check must not leave the worker waiting
        pool.close()
    assert _pid(held) == _pid(queued)
    assert pool.in_flight == 0


async def test_a_queued_batch_time_limit_starts_when_the_batch_ahead_is_done() -> None:
    pool = WorkerPool(stub_batch, timeout=1.0)
    try:
        await pool.run(["warm-up"])
        # 1.8 s ahead, then 0.6 s: within each batch's limit only if counted from its turn.
        ahead, queued = await asyncio.gather(
            pool.run(["nap:0.6", "nap:0.6", "nap:0.6"]), pool.run(["nap:0.6"])
        )
    finally:
        pool.close()
    assert [r.split()[0] for r in [*ahead, *queued]] == ["nap:0.6"] * 4


async def test_a_batch_queued_behind_a_stalled_one_runs_in_the_next_worker(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    pool = WorkerPool(stub_batch, timeout=1.0)
    try:
        (warm_up,) = await pool.run(["warm-up"])  # the worker the batch ahead stalls
        stalled_batch, queued = await asyncio.gather(
            pool.run(["before", f"sleep:{pid_file}"]), pool.run(["b1", "b2"])
        )
    finally:
        pool.close()
    before, stalled = stalled_batch
    assert isinstance(stalled, ExtractionTimeoutError)
    assert [r.split()[0] for r in [before, *queued]] == ["before", "b1", "b2"]
    assert _pid(warm_up) not in {_pid(r) for r in queued}


async def test_a_batch_queued_behind_a_dying_one_runs_in_the_next_worker() -> None:
    pool = WorkerPool(stub_batch)
    try:
        (a, died), (b,) = await asyncio.gather(pool.run(["a", "exit"]), pool.run(["b"]))
    finally:
        pool.close()
    assert isinstance(died, TransientError)
    assert (a.split()[0], b.split()[0]) == ("a", "b")


async def test_a_worker_replaced_for_its_quota_finishes_the_batch_queued_with_it() -> None:
    pool = WorkerPool(stub_batch, items_per_worker=2)
    try:
        first, queued = await asyncio.gather(pool.run(["a", "b"]), pool.run(["c", "d"]))
        (later,) = await pool.run(["e"])
    finally:
        pool.close()
    assert [r.split()[0] for r in [*first, *queued, later]] == ["a", "b", "c", "d", "e"]
    assert {_pid(r) for r in [*first, *queued]} == {_pid(first[0])}
    assert _pid(later) != _pid(first[0])


async def test_a_worker_replaced_for_its_quota_is_killed_if_its_last_batch_stalls(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    pool = WorkerPool(stub_batch, items_per_worker=2, timeout=1.0)
    try:
        await pool.run(["warm-up"])
        # "a" fills the quota; the stalling batch is already queued with the same worker.
        (a,), (stalled,) = await asyncio.gather(pool.run(["a"]), pool.run([f"sleep:{pid_file}"]))
        assert isinstance(stalled, ExtractionTimeoutError)
        assert int(pid_file.read_text()) == _pid(a)
        assert await _until_gone(_pid(a))
        (later,) = await pool.run(["next"])
    finally:
        pool.close()
    assert _pid(later) != _pid(a)


async def test_workers_start_with_the_model_and_furniture_loaded() -> None:
    pool = WorkerPool(preloaded)
    try:
        (loaded,) = await pool.run(["first call"])
    finally:
        pool.close()
    assert loaded == (1, 1)


def test_timeout_and_size_errors_are_permanent() -> None:
    assert issubclass(ExtractionTimeoutError, ExtractionError)
    assert issubclass(DocumentTooLargeError, ExtractionError)
    assert issubclass(ExtractionError, PermanentError)


@pytest.mark.parametrize("how", ["module", "script"])
def test_new_workers_do_not_import_the_main_modules_imports_again(how: str) -> None:
    """multiprocessing runs the main module again in each new worker; what it imports is
    imported once, in the forkserver, not in every worker (0.3 s each for the CLI)."""
    root = Path(__file__).resolve().parents[2]
    program = ["-m", "tests.parser.pool_main"] if how == "module" else [str(POOL_MAIN)]
    result = subprocess.run(
        [sys.executable, *program],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    runs = json.loads(result.stdout)
    assert len({run["worker"] for run in runs}) == 3  # each call in a new worker
    for run in runs:
        assert run["imported_in"] != run["worker"]
    assert result.stderr == ""
