"""A second terminal in the same folder: every command finds the embedded server of `up`, or
opens its persisted data once `up` has exited; no URL to set."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.core.embedded import find_server
from services.store.corpus import iter_records
from tests.cli.conftest import clean_env, run_akhbar
from tests.cli.test_up import akhbar, summary
from tests.store.factory import distinct_text, vocabulary

pytestmark = pytest.mark.e2e


def write_articles(folder: Path, count: int) -> Path:
    """`count` saved articles (title line, then text), none a near duplicate of another."""
    folder.mkdir()
    rng = random.Random(7)
    words = vocabulary()
    for n in range(count):
        title = " ".join(rng.choices(words, k=6))
        (folder / f"{n:03d}.txt").write_text(
            f"{title}\n{distinct_text(rng, words)}\n", encoding="utf-8"
        )
    return folder


def start_up(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("akhbar")), "up", *args],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_server(state_dir: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while find_server(state_dir) is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "akhbar up never announced its server"
        time.sleep(0.1)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stderr


def test_stats_and_tail_reach_a_running_up_with_no_url(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    articles = write_articles(tmp_path / "articles", 3)
    up = start_up(tmp_path, "--replay", str(articles))
    try:
        wait_for_server(tmp_path / ".akhbar", up)
        deadline = time.monotonic() + 60
        while len(list(iter_records(tmp_path / "corpus"))) < 3:
            assert time.monotonic() < deadline, "the articles were never stored"
            time.sleep(0.2)
        env = clean_env()
        stats = akhbar("stats", "--json", cwd=tmp_path, env=env)
        found = json.loads(stats)
        assert found["corpus"]["stored"] == 3
        assert "opened" not in run_akhbar("stats", env=env, cwd=tmp_path).stderr
        tail = akhbar("tail", "parsed", "-n", "2", "--json", cwd=tmp_path, env=env)
        assert len(tail.splitlines()) == 2
        # a second `up` for the same state directory is refused, the first left running
        second = run_akhbar("up", env=env, cwd=tmp_path, timeout=60)
        assert second.returncode == 2
        assert "runs the embedded server of" in second.stderr
        assert up.poll() is None
    finally:
        stderr = stop(up)
    assert stderr.count("embedded server started url=redis://") == 1
    assert "is being executed" not in stderr
    assert find_server(tmp_path / ".akhbar") is None


def test_a_finished_run_can_still_be_inspected(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    articles = write_articles(tmp_path / "articles", 7)
    env = clean_env()
    run = summary(akhbar("up", "--replay", str(articles), "--until-idle", cwd=tmp_path, env=env))
    assert run["stored"] == 7

    done = run_akhbar("tail", "parsed", "-n", "5", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no `akhbar up` running" in done.stderr
    tailed = [json.loads(line)["url"] for line in done.stdout.splitlines()]
    stored = [record["url"] for record in iter_records(tmp_path / "corpus")]
    assert tailed == stored[-5:]

    stats = json.loads(akhbar("stats", "--json", cwd=tmp_path, env=env))
    assert stats["corpus"]["stored"] == 7
    dead = run_akhbar("dead", "list", env=env, cwd=tmp_path)
    assert (dead.returncode, dead.stdout) == (0, "")
    # the command's own server is gone with it: the next one opens the data again
    assert find_server(tmp_path / ".akhbar") is None


def test_commands_say_what_to_do_when_there_is_no_server(tmp_path: Path) -> None:
    env = clean_env()
    stats = run_akhbar("stats", env=env, cwd=tmp_path)
    assert stats.returncode == 2
    assert "start `akhbar up` here" in stats.stderr
    assert not (tmp_path / ".akhbar").exists()
    articles = write_articles(tmp_path / "articles", 1)
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    akhbar("up", "--until-idle", cwd=tmp_path, env=env)
    # replay with nothing running to process it is refused rather than left unprocessed
    replay = run_akhbar("replay", str(articles), env=env, cwd=tmp_path)
    assert replay.returncode == 2
    assert "no `akhbar up` is running" in replay.stderr
