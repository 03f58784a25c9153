"""Scheduling and live reload of the feeds file."""

from __future__ import annotations

import random
from pathlib import Path

from services.core.metrics import FEED_FAILURES, REGISTRY
from services.fetcher.feeds import Feed, FeedsWatcher
from services.fetcher.poller import PollResult
from services.fetcher.scheduler import FeedScheduler, next_delay
from tests.helpers import eventually
from tests.localsite import feeds_toml

OK = PollResult(ok=True, status="ok")
METRIC = "akhbar_feed_consecutive_failures"


def test_next_delay_jitter_backoff_and_retry_after() -> None:
    feed = Feed(name="a", url="u", interval=600)
    rng = random.Random(1)
    delays = {round(next_delay(feed, OK, 0, 86400, rng)) for _ in range(50)}
    assert min(delays) >= 540
    assert max(delays) <= 660
    assert len(delays) > 10  # jittered
    failed = PollResult(ok=False, status="error")
    assert next_delay(feed, failed, 1, 86400, rng) == 1200
    assert next_delay(feed, failed, 3, 86400, rng) == 4800
    assert next_delay(feed, failed, 30, 21600, rng) == 21600
    limited = PollResult(ok=False, status="error", retry_after=50000)
    assert next_delay(feed, limited, 1, 21600, rng) == 50000


class Recorder:
    def __init__(self) -> None:
        self.polled: list[str] = []
        self.passes = 0

    async def poll(self, feed: Feed) -> PollResult:
        self.polled.append(feed.name)
        return OK

    async def on_pass(self) -> None:
        self.passes += 1


async def test_feed_added_to_the_file_is_polled_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    feeds_toml(path, [("a", "http://a/rss")])
    recorder = Recorder()
    scheduler = FeedScheduler(FeedsWatcher(path), recorder.poll, recorder.on_pass, max_backoff=3600)
    await scheduler.step()

    async def polled(name: str) -> bool:
        await scheduler.step()
        return name in recorder.polled

    await eventually(lambda: polled("a"), within=5)
    feeds_toml(path, [("a", "http://a/rss"), ("b", "http://b/rss")])
    await eventually(lambda: polled("b"), within=5)
    assert recorder.polled.count("a") == 1  # not due again for its interval


async def test_broken_edit_keeps_the_last_good_feeds(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    feeds_toml(path, [("a", "http://a/rss")])
    watcher = FeedsWatcher(path)
    assert watcher.refresh()
    path.write_text("[[feeds]\nname = ", encoding="utf-8")
    assert not watcher.refresh()
    assert [f.name for f in watcher.feeds] == ["a"]
    assert watcher.error is not None
    assert "does not parse" in watcher.error
    feeds_toml(path, [("c", "http://c/rss")])
    assert watcher.refresh()
    assert ([f.name for f in watcher.feeds], watcher.error) == (["c"], None)


async def test_pass_reported_once_every_enabled_feed_was_polled(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    feeds_toml(path, [("a", "http://a/rss"), ("b", "http://b/rss")])
    path.write_text(
        path.read_text(encoding="utf-8")
        + '[[feeds]]\nname = "off"\nurl = "http://off/rss"\nenabled = false\n',
        encoding="utf-8",
    )
    recorder = Recorder()
    scheduler = FeedScheduler(FeedsWatcher(path), recorder.poll, recorder.on_pass, max_backoff=60)

    async def passed() -> bool:
        await scheduler.step()
        return recorder.passes > 0

    await eventually(passed, within=5)
    assert sorted(recorder.polled) == ["a", "b"]


async def test_no_feeds_is_a_pass_at_once(tmp_path: Path) -> None:
    recorder = Recorder()
    scheduler = FeedScheduler(
        FeedsWatcher(tmp_path / "absent.toml"), recorder.poll, recorder.on_pass, max_backoff=60
    )
    await scheduler.step()
    assert recorder.passes == 1


async def test_a_feed_removed_from_the_file_leaves_the_failure_metric(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    feeds_toml(path, [("kept", "http://a/rss"), ("dropped", "http://b/rss")])
    recorder = Recorder()
    scheduler = FeedScheduler(FeedsWatcher(path), recorder.poll, recorder.on_pass, max_backoff=60)
    await scheduler.step()
    FEED_FAILURES.labels("dropped").set(3)
    FEED_FAILURES.labels("kept").set(2)
    feeds_toml(path, [("kept", "http://a/rss")])

    async def reloaded() -> bool:
        await scheduler.step()
        return REGISTRY.get_sample_value(METRIC, {"feed": "dropped"}) is None

    await eventually(reloaded, within=5)
    assert REGISTRY.get_sample_value(METRIC, {"feed": "kept"}) == 2
