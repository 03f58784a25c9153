"""HTML extraction with trafilatura (run in the parser's worker processes, `pool.py`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from services.core.errors import DocumentTooLargeError

# htmldate falls back on the footer's copyright year and reports it as January 1st.
_YEAR_ONLY_SUFFIX = "-01-01"


@dataclass
class Extracted:
    """What trafilatura found in a page."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None


def _confirmed_date(html: str, found: str | None, url: str | None) -> str | None:
    """The date, unless it is a year-only guess that no precise clue in the page supports.

    When its markup and URL rules find nothing, htmldate's extensive search falls back on the
    footer's copyright year (or any lone year) and reports it as January 1st: a made-up day.
    Such a date is dropped, so the feed entry's date applies instead.
    """
    if found is None or not found.endswith(_YEAR_ONLY_SUFFIX):
        return found
    from htmldate import find_date

    precise = find_date(html, extensive_search=False, original_date=True, url=url)
    return found if precise == found else None


def trafilatura_options() -> dict[str, Any]:
    """The options every extraction passes to `trafilatura.bare_extraction` (the benchmark's
    ceiling too)."""
    # Layout tables of older sites hold the article itself: with tables excluded, trafilatura's
    # fallback still finds that text, while kept tables bring navigation cells with them.
    # favor_precision is off for the same reason: it drops such pages altogether.
    return {
        "with_metadata": True,
        "include_comments": False,
        "include_tables": False,
        # trafilatura's own date defaults, spelled out so an upgrade cannot change them
        # silently: publication rather than update date, text patterns when the markup says
        # nothing, and no date after today.
        "date_extraction_params": {
            "extensive_search": True,
            "original_date": True,
            "max_date": datetime.date.today().isoformat(),
        },
    }


def extract_html(html: str, url: str | None = None) -> Extracted | None:
    """Main text and metadata of a page, comments excluded; None when it holds no text."""
    import trafilatura  # imported here so the service process never loads it

    document = trafilatura.bare_extraction(html, url=url, **trafilatura_options())
    if document is None:
        return None
    found: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    text = found.get("text") or ""
    if not text.strip():
        return None
    return Extracted(
        text=text,
        title=found.get("title"),
        author=found.get("author"),
        date=_confirmed_date(html, found.get("date"), url),
        sitename=found.get("sitename"),
        description=found.get("description"),
        categories=list(found.get("categories") or []),
        tags=list(found.get("tags") or []),
        image=found.get("image"),
    )


def warm_up() -> None:
    """Pay trafilatura's lazy one-time costs now: the stoplists its justext fallback uses
    when a page's language is unknown, and the date parser's language data."""
    from htmldate.extractors import get_external_parser
    from justext.core import define_stoplist
    from trafilatura.external import jt_stoplist_init

    define_stoplist(jt_stoplist_init())
    samples = files("services.parser").joinpath("data/warmup_dates.txt").read_text("utf-8")
    parser = get_external_parser()
    for line in samples.splitlines():
        if line.strip() and not line.startswith("#"):
            parser.get_date_data(line.strip())


def check_html_size(html: str, max_bytes: int) -> None:
    """Refuse a page larger than `max_bytes` in UTF-8 before trafilatura reads it."""
    # A character is at least one byte: most pages are decided without encoding them.
    if len(html) <= max_bytes // 4:
        return
    size = len(html) if len(html) > max_bytes else len(html.encode("utf-8"))
    if size > max_bytes:
        raise DocumentTooLargeError(f"HTML of {size} bytes or more, limit is {max_bytes}")
