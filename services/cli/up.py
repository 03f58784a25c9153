"""`akhbar up`: the whole pipeline on this machine, each service in its own process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.cli.progress import Totals, fetcher_pass_since, pipeline_drained, totals
from services.core.broker import connect, ensure_groups
from services.core.embedded import EmbeddedServer
from services.core.errors import AkhbarError
from services.core.settings import Settings
from services.core.streams import Streams
from services.store.corpus import corpus_files
from services.store.identity import Binding, read_manifest

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
STOP_TIMEOUT = 20.0
# A service that exits this many times within RESTART_WINDOW seconds is given up on: a
# crash loop (bad configuration, say) ends the run instead of spinning for ever.
MAX_RESTARTS = 10
RESTART_WINDOW = 60.0


class PipelineError(AkhbarError):
    """The pipeline could not be kept running (a service keeps crashing, or a timeout passed)."""


@dataclass
class UpOptions:
    replay: list[Path] = field(default_factory=list)
    parsers: int = 1
    until_idle: bool = False
    timeout: float | None = None


@dataclass
class Service:
    """One supervised child process, restarted when it dies."""

    role: str
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    exits: list[float] = field(default_factory=list)

    def start(self) -> None:
        command = [sys.executable, "-m", "services.cli.main", self.role, *self.args]
        # Its own process group, so whatever the service started (extraction workers,
        # multiprocessing helpers) can be cleaned up with it even after a SIGKILL.
        self.process = subprocess.Popen(command, env=self.env, start_new_session=True)
        logger.info("service started role=%s pid=%d", self.role, self.process.pid)

    def check(self) -> None:
        """Restart the process if it exited; give up if it keeps exiting."""
        if self.process is None or self.process.poll() is None:
            return
        now = time.monotonic()
        self.exits = [t for t in self.exits if now - t < RESTART_WINDOW] + [now]
        logger.error("service exited role=%s code=%s", self.role, self.process.returncode)
        self._kill_leftovers()
        if len(self.exits) >= MAX_RESTARTS:
            raise PipelineError(f"{self.role} exited {len(self.exits)} times in a minute")
        self.start()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("service killed after timeout role=%s", self.role)
            self.process.kill()
            self.process.wait()
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """SIGKILL what remains of the exited service's process group."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)


def child_env(settings: Settings, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AKHBAR_REDIS_URL=redis_url,
        AKHBAR_STREAM_PREFIX=settings.stream_prefix,
        AKHBAR_CORPUS_DIR=str(settings.corpus_dir.resolve()),
        AKHBAR_FEEDS_FILE=str(settings.feeds_file.resolve()),
    )
    return env


def corpus_documents(corpus_dir: Path) -> int:
    count = 0
    for path in corpus_files(corpus_dir):
        with path.open("rb") as handle:
            count += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return count


def format_summary(run: Totals, documents: int, corpus_dir: Path, seconds: float) -> str:
    rows = [
        ("stored", run.stored),
        ("duplicates", run.duplicates),
        ("rejected", run.rejected),
        ("dead", run.dead),
    ]
    lines = [f"akhbar up: idle after {seconds:.1f}s"]
    lines += [f"  {name:<11}{value}" for name, value in rows]
    lines.append(f"  corpus     {documents} documents in {corpus_dir}")
    return "\n".join(lines)


async def _supervise(settings: Settings, options: UpOptions, redis_url: str) -> int:
    streams = Streams(settings.stream_prefix)
    client = connect(settings.model_copy(update={"redis_url": redis_url}))
    env = child_env(settings, redis_url)
    replay_args = [str(p.resolve()) for p in options.replay]
    fetcher = Service("fetcher", [a for p in replay_args for a in ("--replay", p)], env)
    services = [Service("store", [], env)]
    services += [Service("parser", [], env) for _ in range(options.parsers)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await ensure_groups(client, streams)
        before = await totals(client, streams)
        started = time.time()
        for service in services:
            service.start()
        while not stop.is_set():
            for service in services:
                service.check()
            # The fetcher waits for the store to bind the index to this corpus: on a new
            # corpus the store forgets what was fetched for another, and a poll before that
            # would skip the articles the feeds still list.
            if fetcher not in services and await _corpus_bound(client, streams, settings):
                services.append(fetcher)
                fetcher.start()
            if options.until_idle and await _idle_or_unknown(client, streams, started):
                run = await totals(client, streams) - before
                documents = corpus_documents(settings.corpus_dir)
                print(format_summary(run, documents, settings.corpus_dir, time.time() - started))
                return 0
            if options.timeout and time.time() - started > options.timeout:
                raise PipelineError(f"not idle after {options.timeout:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        logger.info("stopping on signal")
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for service in services:
            service.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for service in services:
            service.wait(deadline)
        await client.aclose()


async def _corpus_bound(client: Redis, streams: Streams, settings: Settings) -> bool:
    """True once the index serves the corpus folder of this run, ready for messages."""
    manifest = await asyncio.to_thread(read_manifest, settings.corpus_dir)
    try:
        found: Any = await client.hgetall(streams.corpus_binding)
    except (RedisError, OSError) as exc:
        logger.warning("broker unreachable while waiting for the store reason=%s", exc)
        return False
    binding = Binding.from_hash(dict(found))
    return (
        manifest is not None
        and binding is not None
        and binding.ready
        and binding.corpus_id == manifest.id
    )


async def _idle_or_unknown(client: Redis, streams: Streams, started: float) -> bool:
    """Idle as far as the server says; a server that cannot be reached is not idle."""
    try:
        return await _idle(client, streams, started)
    except (RedisError, OSError) as exc:
        logger.warning("broker unreachable while checking progress reason=%s", exc)
        return False


async def _idle(client: Redis, streams: Streams, started: float) -> bool:
    return await fetcher_pass_since(client, streams, started) and await pipeline_drained(
        client, streams
    )


def run_up(settings: Settings, options: UpOptions) -> int:
    server: EmbeddedServer | None = None
    redis_url = settings.redis_url
    if not redis_url:
        server = EmbeddedServer(settings.state_dir)
        redis_url = server.start()
    try:
        return asyncio.run(_supervise(settings, options, redis_url))
    finally:
        if server is not None:
            server.stop()
