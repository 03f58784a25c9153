import json

import pytest

from services.core.errors import FeedRejectedError
from services.fetcher.feedparse import parse_feed

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>أخبار</title>
<entry><title type="html">&lt;b&gt;قطر&lt;/b&gt; توقع اتفاقا</title>
<link rel="alternate" href="/news/1"/><updated>2020-11-21T10:00:00+03:00</updated>
<author><name>مراسل</name></author><summary>ملخص &amp; تفاصيل</summary></entry>
<entry><title>بلا رابط</title></entry></feed>"""


def test_atom_entries_with_relative_links_and_metadata() -> None:
    feed = parse_feed(ATOM.encode(), {"content-type": "application/atom+xml"}, "https://e.com/feed")
    assert feed.format == "atom10"
    assert feed.title == "أخبار"
    (entry,) = feed.entries  # the entry without a link is skipped
    assert entry.url == "https://e.com/news/1"
    assert entry.title == "قطر توقع اتفاقا"
    assert entry.published == "2020-11-21T07:00:00+00:00"
    assert (entry.author, entry.summary) == ("مراسل", "ملخص & تفاصيل")


def test_rss_1_0() -> None:
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>t</title></channel>
    <item rdf:about="https://e.com/a"><title>a</title><link>https://e.com/a</link></item></rdf:RDF>"""
    feed = parse_feed(rdf, {}, "https://e.com/")
    assert (feed.format, [e.url for e in feed.entries]) == ("rss10", ["https://e.com/a"])


def test_json_feed() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "خلاصة",
            "items": [
                {
                    "id": "1",
                    "url": "https://e.com/a",
                    "title": "عنوان",
                    "tags": ["قطر"],
                    "date_published": "2020-11-21T10:00:00+03:00",
                    "authors": [{"name": "مراسل"}],
                },
                {"id": "2", "content_text": "no url"},
            ],
        },
        ensure_ascii=False,
    ).encode()
    feed = parse_feed(body, {"content-type": "application/feed+json"}, "https://e.com/")
    assert feed.format == "json1.1"
    (entry,) = feed.entries
    assert (entry.url, entry.title, entry.author, entry.tags) == (
        "https://e.com/a",
        "عنوان",
        "مراسل",
        ["قطر"],
    )
    assert entry.published == "2020-11-21T10:00:00+03:00"


@pytest.mark.parametrize(
    "body", [b"", b"   ", b"<html><body>hi</body></html>", b"{not json", b'{"items": []}']
)
def test_not_feeds_rejected(body: bytes) -> None:
    with pytest.raises(FeedRejectedError):
        parse_feed(body, {}, "https://e.com/")
