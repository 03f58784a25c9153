"""Each service run alone, as compose runs it: SIGTERM means a clean exit 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from services.core.streams import PARSER_GROUP, STORE_GROUP, Streams
from tests.cli.conftest import clean_env


@pytest.mark.parametrize("service", ["fetcher", "parser", "store"])
def test_sigterm_stops_a_service_with_exit_code_0(
    service: str, tmp_path: Path, redis_url: str, prefix: str
) -> None:
    env = clean_env(
        AKHBAR_REDIS_URL=redis_url,
        AKHBAR_STREAM_PREFIX=prefix,
        AKHBAR_CORPUS_DIR=str(tmp_path / "corpus"),
        AKHBAR_FEEDS_FILE=str(tmp_path / "feeds.toml"),
    )
    streams = Streams(prefix)
    client = Redis.from_url(redis_url, decode_responses=True)
    with subprocess.Popen(
        [Path(sys.executable).with_name("akhbar"), service],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not client.exists(streams.parsed):
                time.sleep(0.2)
            time.sleep(2)  # past startup, consumers registered
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr[-3000:]
    for stream, group in ((streams.raw, PARSER_GROUP), (streams.parsed, STORE_GROUP)):
        assert client.xinfo_consumers(stream, group) == []  # it left its groups tidy
    client.close()
