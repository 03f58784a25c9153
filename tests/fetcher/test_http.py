import email.utils

import httpx
import pytest

from services.core.errors import BlockedAddressError, RefusedFetchError
from services.fetcher.http import HttpClient, retry_after_seconds
from services.fetcher.netguard import check_url, is_public_address
from tests.localsite import LocalSite, Reply


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("172.16.5.5", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("2606:4700::1111", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://localhost:8080/", "http://[::1]/", "http://169.254.169.254/"],
)
async def test_private_urls_refused_by_default(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        await check_url(url, allow_private=False)
    await check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/a", "file:///etc/passwd", "http:///nohost"])
async def test_other_schemes_and_hostless_urls_refused(url: str) -> None:
    with pytest.raises(RefusedFetchError):
        await check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://localhost/admin", "http://10.0.0.1/"],
)
async def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": target})

    client = HttpClient("t", transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(BlockedAddressError):
            await client.get("http://93.184.216.34/feed", max_bytes=1000)
    finally:
        await client.aclose()


async def test_redirects_followed_to_the_final_url(site: LocalSite) -> None:
    site.routes["/old"] = Reply(301, headers={"Location": "/new"})
    site.routes["/new"] = Reply(headers={"Content-Type": "text/html"}, body=b"<p>here</p>")
    client = HttpClient("t", allow_private=True)
    try:
        response = await client.get(site.url("/old"), max_bytes=1000)
    finally:
        await client.aclose()
    assert (response.url, response.status, response.body) == (site.url("/new"), 200, b"<p>here</p>")
    assert site.requests[0].headers["user-agent"] == "t"


async def test_redirect_loops_end(site: LocalSite) -> None:
    site.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    client = HttpClient("t", allow_private=True, max_redirects=3)
    try:
        with pytest.raises(RefusedFetchError, match="more than 3 redirects"):
            await client.get(site.url("/loop"), max_bytes=1000)
    finally:
        await client.aclose()
    assert site.hits("/loop") == 4


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120.0
    when = email.utils.formatdate(1_000_060, usegmt=True)
    assert retry_after_seconds(when, now=1_000_000) == pytest.approx(60.0)
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
