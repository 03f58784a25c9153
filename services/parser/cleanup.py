"""Tidying the text trafilatura extracts: faithful cleaning, furniture lines, a repeated title."""

from __future__ import annotations

import re

from services.core.arabic import clean_text, dedup_key
from services.parser.furniture import FurnitureList

# "Headline - Site name" or "Headline | Site name": the page title often ends with the site.
_SITE_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{1,60}$")


def _title_keys(title: str) -> set[str]:
    keys = {dedup_key(title), dedup_key(_SITE_SUFFIX.sub("", title))}
    return {key for key in keys if key}


def clean_extracted(text: str, title: str | None, furniture: FurnitureList) -> str:
    """One paragraph per line, without furniture lines or the headline repeated on top.

    The page's <h1> is often inside the article element, so the extracted text starts with
    the title the record already carries in `title`.
    """
    lines = furniture.strip(clean_text(text).split("\n"))
    if title and lines and dedup_key(lines[0]) in _title_keys(clean_text(title)):
        lines = lines[1:]
    return "\n".join(line for line in lines if line)
