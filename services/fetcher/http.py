"""HTTP GET the careful way: guarded redirects, bounded time, bounded decompressed size."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from services.core.errors import (
    RateLimitedError,
    RefusedFetchError,
    TemporaryFetchError,
)
from services.fetcher.netguard import check_address, check_url

logger = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# zlib wbits that accept both gzip and zlib (deflate) framing.
_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS


@dataclass(frozen=True)
class Response:
    """A complete response: final URL after redirects, status, headers and decoded body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def raise_for_status(response: Response) -> None:
    """Map an unsuccessful status to the transient or permanent error it means."""
    status = response.status
    if status in (429, 503):
        retry = retry_after_seconds(response.headers.get("retry-after"))
        raise RateLimitedError(f"HTTP {status}", retry_after=retry)
    if status >= 500 or status == 408:
        raise TemporaryFetchError(f"HTTP {status}")
    if status >= 400:
        raise RefusedFetchError(f"HTTP {status}")


class _Decoder:
    """Content-Encoding decoding that stops as soon as the output passes the cap."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            self._zlib: zlib._Decompress | None = zlib.decompressobj(_GZIP_OR_ZLIB)
        elif encoding in ("", "identity"):
            self._zlib = None
        else:
            raise RefusedFetchError(f"unsupported content encoding {encoding}")
        self._max = max_bytes
        self._parts: list[bytes] = []
        self._size = 0

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max:
            raise RefusedFetchError(f"body larger than {self._max} bytes")
        self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._zlib is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            # max_length bounds what one compressed chunk can expand to in memory.
            out = self._zlib.decompress(data, self._max - self._size + 1)
            self._keep(out)
            data = self._zlib.unconsumed_tail

    def result(self) -> bytes:
        if self._zlib is not None:
            self._keep(self._zlib.flush())
        return b"".join(self._parts)


class HttpClient:
    """GETs with a User-Agent, guarded redirects and caps on time and size."""

    def __init__(
        self,
        user_agent: str,
        *,
        allow_private: bool = False,
        timeout: float = 20.0,
        max_redirects: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._total_timeout = timeout
        self._max_redirects = max_redirects
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self, url: str, *, max_bytes: int, headers: dict[str, str] | None = None
    ) -> Response:
        """The response to GET `url`; transport failures become TemporaryFetchError."""
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._follow(url, max_bytes, headers or {})
        except TimeoutError as exc:
            raise TemporaryFetchError(f"timed out after {self._total_timeout:.0f}s") from exc
        except httpx.TimeoutException as exc:
            raise TemporaryFetchError(f"timed out: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise TemporaryFetchError(f"{type(exc).__name__}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise RefusedFetchError(f"invalid URL: {exc}") from exc

    async def _follow(self, url: str, max_bytes: int, headers: dict[str, str]) -> Response:
        for _ in range(self._max_redirects + 1):
            await check_url(url, self._allow_private)
            async with self._client.stream("GET", url, headers=headers) as response:
                self._check_peer(response)
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise RefusedFetchError(f"body larger than {max_bytes} bytes")
                decoder = _Decoder(response.headers.get("content-encoding", ""), max_bytes)
                async for chunk in response.aiter_raw():
                    decoder.feed(chunk)
                return Response(
                    url=str(response.url),
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=decoder.result(),
                )
        raise RefusedFetchError(f"more than {self._max_redirects} redirects")

    def _check_peer(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            check_address(str(peer[0]), self._allow_private)
