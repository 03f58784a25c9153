import pytest

from services.core.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM:443/a?b=1#frag", "https://example.com/a?b=1"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("file:///srv/seeds/a.txt", "file:///srv/seeds/a.txt"),
        (
            "https://example.com/a?utm_source=rss&id=7&UTM_Medium=x&fbclid=abc",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?utm_source=rss", "https://example.com/a"),
        ("https://EXAMPLE.com./a", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_arabic_slug_raw_and_encoded_meet() -> None:
    raw = "https://www.youm7.com/story/2024/5/20/وزارة-العمل/6574622"
    encoded = "https://www.youm7.com/story/2024/5/20/%D9%88%D8%B2%D8%A7%D8%B1%D8%A9-%D8%A7%D9%84%D8%B9%D9%85%D9%84/6574622"
    lower = encoded.lower().replace("https://www.youm7.com", "https://www.youm7.com")
    assert canonical_url(raw) == canonical_url(encoded) == canonical_url(lower)
    assert canonical_url(raw) == encoded


def test_arabic_host_becomes_idna() -> None:
    assert canonical_url("https://مثال.مصر/خبر").startswith("https://xn--")


def test_query_values_keep_their_meaning() -> None:
    assert canonical_url("https://e.com/s?q=a%26b&x=") == "https://e.com/s?q=a%26b&x="
