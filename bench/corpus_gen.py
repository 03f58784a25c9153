"""Distinct, realistic Arabic news pages for benchmarks.

Templates are real page layouts: the Arabic pages of ../shared/data/arabic_html when present
(read at run time, never copied), else the seeds wrapped in a news-site page. Each generated
page keeps a template's markup (navigation, widgets, scripts, footer) and replaces the words of
every Arabic text node with words drawn from an Arabic vocabulary, so the pages cost what real pages
cost to extract but no two are duplicates of each other.
"""

from __future__ import annotations

import random
import re
from html import escape
from pathlib import Path

import lxml.html

from bench.paths import SEEDS, SHARED_DATA

DATA = SHARED_DATA / "arabic_html"
_ARABIC_WORD = re.compile(r"[\u0621-\u064a]{3,}")


def seed_page(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in lines[1:])
    nav = "".join(f"<li><a href='/{n}'>قسم {n}</a></li>" for n in range(12))
    return (
        f"<!DOCTYPE html><html lang='ar' dir='rtl'><head><meta charset='utf-8'>"
        f"<title>{escape(lines[0])}</title></head><body><header><nav><ul>{nav}</ul></nav>"
        f"</header><main><article><h1>{escape(lines[0])}</h1>{paragraphs}</article>"
        f"<aside><h3>الأكثر قراءة</h3><ul>{nav}</ul></aside></main>"
        f"<footer><p>جميع الحقوق محفوظة</p></footer></body></html>"
    )


def templates() -> tuple[list[str], str]:
    """Page templates and where they came from."""
    if DATA.is_dir():
        pages = [
            p.read_text(encoding="utf-8", errors="replace") for p in sorted(DATA.glob("*.html"))
        ]
        if pages:
            return pages, f"{len(pages)} real pages from {DATA}"
    return [seed_page(p) for p in sorted(SEEDS.glob("*.txt"))], "the two seeds in a page layout"


def vocabulary(pages: list[str]) -> list[str]:
    words: set[str] = set()
    for page in pages + [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")]:
        words.update(_ARABIC_WORD.findall(page))
    return sorted(words)


def vary(template: str, words: list[str], rng: random.Random, n: int) -> str:
    """The template with each paragraph's words replaced; the title carries the page number."""
    tree = lxml.html.fromstring(template)

    def replace(text: str | None) -> str | None:
        if not text or not _ARABIC_WORD.search(text):
            return text
        return " ".join(rng.choices(words, k=max(2, len(text.split()))))

    # Every text node with Arabic in it, so no two pages share the template's own text.
    for element in tree.iter():
        if element.tag in ("script", "style") or not isinstance(element.tag, str):
            continue
        element.text = replace(element.text)
        element.tail = replace(element.tail)
    for title in tree.iter("title", "h1"):
        title.text = f"{title.text or ''} {n}"
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def generate(folder: Path, count: int, seed: int = 1) -> str:
    """Write `count` pages into `folder`; returns a description of the templates used."""
    pages, origin = templates()
    words = vocabulary(pages)
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        html = vary(pages[n % len(pages)], words, rng, n)
        (folder / f"page{n:06d}.html").write_text(html, encoding="utf-8")
    return origin
