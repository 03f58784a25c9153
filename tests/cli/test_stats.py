"""`akhbar stats` against a real server, after and during a pipeline run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import clean_env, run_akhbar
from tests.conftest import SEEDS


def test_stats_after_a_run(tmp_path: Path, redis_url: str, prefix: str) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    done = run_akhbar("up", "--replay", str(SEEDS), "--until-idle", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    stats = run_akhbar("stats", "--json", cwd=tmp_path, env=env)
    assert stats.returncode == 0, stats.stderr
    found = json.loads(stats.stdout)
    assert set(found["streams"]) == {"raw", "parsed", "rejected", "dead"}
    (raw_group,) = found["streams"]["raw"]["groups"]
    assert (raw_group["name"], raw_group["pending"], raw_group["lag"]) == ("parser", 0, 0)
    assert found["streams"]["parsed"]["groups"][0]["name"] == "store"
    assert found["streams"]["dead"] == {"key": f"{prefix}:dead", "length": 0, "groups": []}
    corpus = found["corpus"]
    assert (corpus["documents"], corpus["stored"], corpus["duplicates"], corpus["dead"]) == (
        2,
        2,
        0,
        0,
    )
    text = run_akhbar("stats", cwd=tmp_path, env=env).stdout
    assert "corpus: 2 documents" in text
    assert "raw" in text
    assert "parser" in text


def test_stats_shows_consumers_of_a_running_pipeline(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    with subprocess.Popen(
        [Path(sys.executable).with_name("akhbar"), "up", "--replay", str(SEEDS), "--parsers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as up:
        try:
            deadline = time.monotonic() + 60
            consumers: list[dict[str, object]] = []
            while time.monotonic() < deadline:
                found = json.loads(run_akhbar("stats", "--json", cwd=tmp_path, env=env).stdout)
                groups = found["streams"]["raw"]["groups"]
                consumers = groups[0]["consumers"] if groups else []
                if len(consumers) >= 6 and found["corpus"]["documents"] == 2:
                    break
                time.sleep(0.5)
            names = sorted(str(c["name"]) for c in consumers)
            # two parsers, each two readers and a claimer
            assert len([n for n in names if n.startswith("parser-")]) == 6, names
            assert all(isinstance(c["idle_ms"], int) for c in consumers)
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
    assert up.returncode == 0


def test_watch_redraws_until_interrupted(tmp_path: Path, redis_url: str, prefix: str) -> None:
    env = clean_env(AKHBAR_REDIS_URL=redis_url, AKHBAR_STREAM_PREFIX=prefix)
    with subprocess.Popen(
        [Path(sys.executable).with_name("akhbar"), "stats", "--watch"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as watcher:
        assert watcher.stdout is not None
        # not a terminal: frames one after another, each under a time line
        frames = []
        for line in watcher.stdout:
            if line.startswith("--- "):
                frames.append(line)
            elif line.startswith("corpus: 0 documents") and len(frames) == 2:
                break
        watcher.send_signal(signal.SIGINT)
        _, errors = watcher.communicate(timeout=30)
    assert watcher.returncode == 0
    assert errors == ""
