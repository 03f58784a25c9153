"""`akhbar up` end to end: real service processes on a real server, seeds to corpus."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.core.streams import PARSER_GROUP, STORE_GROUP, Streams
from services.store.corpus import iter_records
from tests.cli.conftest import clean_env, run_akhbar
from tests.conftest import SEEDS, seed_article

pytestmark = pytest.mark.e2e


def akhbar(*args: str, cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    """Run the installed console script; fail the test with its output if it fails."""
    done = run_akhbar(*args, env=env, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def summary(output: str) -> dict[str, int]:
    rows = [line.split() for line in output.splitlines() if line.startswith("  ")]
    return {row[0]: int(row[1]) for row in rows}


def assert_seed_corpus(corpus: Path) -> None:
    records = list(iter_records(corpus))
    assert len(records) == 2
    expected = {path.resolve().as_uri(): seed_article(path) for path in SEEDS.glob("*.txt")}
    for record in records:
        assert record["source"] == "replay"
        assert (record["title"], record["text"]) == expected[record["url"]]
        assert record["language"] == "ar"
        for key in ("id", "date", "fetched_at", "content_hash", "stored_at"):
            assert key in record


async def test_up_until_idle_on_an_external_server(
    tmp_path: Path, redis_url: str, prefix: str, client: Redis
) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    args = ["up", "--replay", str(SEEDS), "--until-idle", "--parsers", "2", "--timeout", "120"]
    first = summary(akhbar(*args, cwd=tmp_path, env=env))
    assert first == {"stored": 2, "duplicates": 0, "rejected": 0, "dead": 0, "corpus": 2}
    assert_seed_corpus(tmp_path / "corpus")

    second = summary(akhbar(*args, cwd=tmp_path, env=env))
    assert second == {"stored": 0, "duplicates": 2, "rejected": 0, "dead": 0, "corpus": 2}
    assert_seed_corpus(tmp_path / "corpus")

    streams = Streams(prefix)
    for stream, group in ((streams.raw, PARSER_GROUP), (streams.parsed, STORE_GROUP)):
        (info,) = await client.xinfo_groups(stream)
        assert (info["pending"], info["lag"]) == (0, 0)
        # every service left the group on its way out
        assert await client.xinfo_consumers(stream, group) == []


def test_up_polls_feeds_and_replays_until_idle(tmp_path: Path) -> None:
    from tests.localsite import LocalSite, Reply, feeds_toml, page_html, rss, seed_pages

    site = LocalSite()
    site.start()
    try:
        items = []
        for n, (title, text) in enumerate(seed_pages()):
            site.routes[f"/news/{n}"] = Reply(body=page_html(title, text).encode())
            items.append((title, site.url(f"/news/{n}")))
        etag = {"ETag": '"1"', "Content-Type": "application/rss+xml"}
        site.routes["/rss"] = lambda h: (
            Reply(304, headers={})
            if h.get("if-none-match") == '"1"'
            else Reply(headers=etag, body=rss(items))
        )
        feeds_toml(tmp_path / "feeds.toml", [("local", site.url("/rss"))])
        env = clean_env(AKHBAR_ALLOW_PRIVATE_NETWORKS="true")
        args = ["up", "--replay", str(SEEDS), "--until-idle", "--timeout", "120"]
        first = summary(akhbar(*args, cwd=tmp_path, env=env))
        # the feed serves the seed articles again: same stories, stored once
        assert first == {"stored": 2, "duplicates": 2, "rejected": 0, "dead": 0, "corpus": 2}
        second = summary(akhbar(*args, cwd=tmp_path, env=env))
        assert second == {"stored": 0, "duplicates": 2, "rejected": 0, "dead": 0, "corpus": 2}
        assert site.hits("/news/0") == 1
    finally:
        site.stop()


def test_up_with_the_embedded_server_keeps_streams_between_runs(tmp_path: Path) -> None:
    env = clean_env()
    args = ["up", "--replay", str(SEEDS), "--until-idle", "--timeout", "120"]
    first = summary(akhbar(*args, cwd=tmp_path, env=env))
    assert (first["stored"], first["duplicates"]) == (2, 0)
    assert (tmp_path / ".akhbar" / "valkey" / "appendonlydir").is_dir()
    second = summary(akhbar(*args, cwd=tmp_path, env=env))
    assert (second["stored"], second["duplicates"], second["corpus"]) == (0, 2, 2)
    assert_seed_corpus(tmp_path / "corpus")


async def test_replay_command_publishes_raw_documents(
    tmp_path: Path, redis_url: str, prefix: str, client: Redis
) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    output = akhbar("replay", str(SEEDS), cwd=tmp_path, env=env)
    assert f"published 2 documents to {prefix}:raw" in output
    streams = Streams(prefix)
    assert await client.xlen(streams.raw) == 2
    groups = await client.xinfo_groups(streams.raw)
    assert [(g["name"], g["lag"]) for g in groups] == [(PARSER_GROUP, 2)]


def test_replay_of_a_missing_folder_is_a_clear_error(tmp_path: Path, redis_url: str) -> None:
    done = subprocess.run(
        [Path(sys.executable).with_name("akhbar"), "replay", str(tmp_path / "nope")],
        env=clean_env(AKHBAR_REDIS_URL=redis_url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_service_without_a_broker_url_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [Path(sys.executable).with_name("akhbar"), "store"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "AKHBAR_REDIS_URL is not set" in done.stderr


def test_up_stops_every_service_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = clean_env()
    up = subprocess.Popen(
        [Path(sys.executable).with_name("akhbar"), "up", "--parsers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(children(up.pid)) < 5:
            time.sleep(0.2)
        time.sleep(3)  # let them finish starting, as a user would
        processes = descendants(up.pid)
        # valkey, store, two parsers, the fetcher, and the parsers' extraction workers
        assert len(children(up.pid)) == 5
        up.send_signal(signal.SIGINT)
        _, stderr = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, stderr
    assert "embedded server stopped" in stderr
    # multiprocessing's helper processes notice their parent's exit a moment later
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(processes):
        time.sleep(0.1)
    assert not alive(processes)


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    found = children(pid)
    for child in list(found):
        found += descendants(child)
    return found
