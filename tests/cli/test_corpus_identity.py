"""One server, several corpora: `akhbar up` as real processes fills each corpus it is given,
whatever the dedup index served before."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.core.streams import STORE_GROUP, Streams
from services.store.corpus import iter_records
from services.store.duplicates import iter_duplicates
from services.store.identity import MANIFEST, read_manifest
from tests.cli.conftest import clean_env, run_akhbar
from tests.conftest import SEEDS
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

UP = ("up", "--replay", str(SEEDS), "--until-idle", "--timeout", "120")


def up(corpus: Path, cwd: Path, env: dict[str, str]) -> dict[str, int]:
    """One `akhbar up --until-idle` on `corpus`; its summary's counts."""
    done = run_akhbar(*UP, "--corpus", str(corpus), env=env, cwd=cwd)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    return {row[0]: int(row[1]) for row in rows}


def stored_ids(corpus: Path) -> list[str]:
    return sorted(str(r["id"]) for r in iter_records(corpus))


FILLED = {"stored": 2, "duplicates": 0, "rejected": 0, "dead": 0, "corpus": 2}
KNOWN = {"stored": 0, "duplicates": 2, "rejected": 0, "dead": 0, "corpus": 2}


def test_a_second_corpus_on_the_same_server_gets_every_document(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    a, b = tmp_path / "a", tmp_path / "b"
    assert up(a, tmp_path, env) == FILLED
    assert up(b, tmp_path, env) == FILLED
    assert stored_ids(a) == stored_ids(b)
    assert list(iter_duplicates(b)) == []
    # Back to the first corpus: its documents are known again, as duplicates of its own.
    assert up(a, tmp_path, env) == KNOWN
    assert {d["duplicate_of"] for d in iter_duplicates(a)} == set(stored_ids(a))


def test_a_second_corpus_with_the_embedded_server_gets_every_document(tmp_path: Path) -> None:
    env = clean_env()
    assert up(tmp_path / "a", tmp_path, env) == FILLED
    assert (tmp_path / ".akhbar").is_dir()
    assert up(tmp_path / "b", tmp_path, env) == FILLED
    manifests = [read_manifest(tmp_path / name) for name in "ab"]
    assert None not in manifests
    assert len({m.id for m in manifests if m}) == 2


def test_an_emptied_corpus_is_refilled(tmp_path: Path, redis_url: str, prefix: str) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    corpus = tmp_path / "corpus"
    assert up(corpus, tmp_path, env) == FILLED
    assert up(corpus, tmp_path, env) == KNOWN
    # The corpus files deleted, the folder and its manifest kept.
    for path in corpus.rglob("*"):
        if path.is_file() and path.name != MANIFEST:
            path.unlink()
    assert up(corpus, tmp_path, env) == FILLED
    # The whole folder deleted.
    shutil.rmtree(corpus)
    assert up(corpus, tmp_path, env) == FILLED
    assert list(iter_duplicates(corpus)) == []


def test_two_prefixes_on_one_server_keep_separate_indexes(tmp_path: Path, redis_url: str) -> None:
    one = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=f"{tmp_path.name}-one")
    two = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=f"{tmp_path.name}-two")
    a, b = tmp_path / "a", tmp_path / "b"
    assert up(a, tmp_path, one) == FILLED
    assert up(b, tmp_path, two) == FILLED
    # Binding the second prefix's index to b left the first one's bound to a.
    assert up(a, tmp_path, one) == KNOWN
    assert up(b, tmp_path, two) == KNOWN


def start_store(corpus: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("akhbar")), "store", "--corpus", str(corpus)]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def test_a_store_for_another_corpus_stops_while_one_is_running(
    tmp_path: Path, redis_url: str, prefix: str, client: Redis
) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    streams = Streams(prefix)
    running = start_store(tmp_path / "a", tmp_path, {**env, "AKHBAR_STORE_WRITER": "a"})
    try:

        async def reading() -> bool:
            if running.poll() is not None:
                raise AssertionError(f"the store on a exited with {running.returncode}")
            try:
                return bool(await client.xinfo_consumers(streams.parsed, STORE_GROUP))
            except ResponseError:  # the store has not created its group yet
                return False

        await eventually(reading, within=60)
        refused = await asyncio.to_thread(
            run_akhbar,
            "store",
            "--corpus",
            str(tmp_path / "b"),
            env={**env, "AKHBAR_STORE_WRITER": "b"},
            cwd=tmp_path,
            timeout=60,
        )
        assert refused.returncode != 0
        assert "ConfigError" in refused.stderr
        assert "other-corpus" in refused.stderr
        assert "Stop those stores" in refused.stderr
        assert running.poll() is None
        binding = await client.hgetall(streams.corpus_binding)
        manifest = read_manifest(tmp_path / "a")
        assert manifest is not None
        assert binding["id"] == manifest.id
    finally:
        running.terminate()
        assert running.wait(timeout=30) == 0
    assert list(iter_records(tmp_path / "b")) == []


def test_a_new_corpus_gets_the_articles_its_feeds_still_list(tmp_path: Path) -> None:
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
        args = ("up", "--until-idle", "--timeout", "120", "--corpus")
        for corpus in ("a", "b"):
            done = run_akhbar(*args, str(tmp_path / corpus), env=env, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert len(list(iter_records(tmp_path / corpus))) == 2, done.stdout
        # the feed was asked again in full for the new corpus, not with the old validators
        assert site.hits("/news/0") == 2
        feed_polls = [r.headers for r in site.requests if r.path == "/rss"]
        assert len(feed_polls) == 2
        assert "if-none-match" not in feed_polls[-1]
    finally:
        site.stop()
