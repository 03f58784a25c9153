"""The plain-text path: saved articles whose first line is the title."""

from __future__ import annotations

from dataclasses import dataclass

from services.core.arabic import clean_text
from services.parser.furniture import FurnitureList


@dataclass(frozen=True)
class TextArticle:
    title: str | None
    text: str


def parse_plain_text(body: str, furniture: FurnitureList) -> TextArticle:
    """Title from the first line, then the paragraphs that are not site furniture."""
    lines = clean_text(body).split("\n")
    if not lines or not lines[0]:
        return TextArticle(title=None, text="")
    title, paragraphs = lines[0], furniture.strip(lines[1:])
    return TextArticle(title=title, text="\n".join(paragraphs))
