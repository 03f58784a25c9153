"""A local web site for tests: feeds and Arabic pages built from the seeds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import SEEDS, seed_article


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    body: bytes = b""
    delay: float = 0.0


Handler = Callable[[dict[str, str]], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class LocalSite:
    """An HTTP server on a free loopback port serving whatever a test puts in `routes`."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[Request] = []
        site = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                site.requests.append(Request(self.path, headers))
                route = site.routes.get(self.path)
                reply = route(headers) if callable(route) else route or Reply(404, body=b"no")
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def seed_pages() -> list[tuple[str, str]]:
    return [seed_article(p) for p in sorted(SEEDS.glob("*.txt"))]


def page_html(title: str, text: str, charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n"))
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="{charset}">'
        f"<title>{escape(title)}</title></head><body><nav><a href='/'>الرئيسية</a></nav>"
        f"<article><h1>{escape(title)}</h1>{paragraphs}</article>"
        f"<footer>جميع الحقوق محفوظة</footer></body></html>"
    )


def rss(items: list[tuple[str, str]], encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 feed of (title, link) items, encoded as declared."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<pubDate>Sat, 21 Nov 2020 10:00:00 +0300</pubDate><category>سياسة</category></item>"
        for t, u in items
    )
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>أخبار</title><link>http://example.com/</link>{body}</channel></rss>"
    )
    return xml.encode(encoding)


def feeds_toml(path: Path, feeds: list[tuple[str, str]], interval: int = 600) -> None:
    path.write_text(
        "".join(
            f'[[feeds]]\nname = "{name}"\nurl = "{url}"\ninterval = {interval}\ntags = ["test"]\n\n'
            for name, url in feeds
        ),
        encoding="utf-8",
    )
