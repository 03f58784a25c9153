"""Records for the store tests: the real seed articles, copies of them, and distinct texts."""

from __future__ import annotations

import random

from services.core.arabic import content_hash
from services.core.messages import CorpusRecord, utcnow
from tests.conftest import SEEDS, seed_article


def record(rid: str, url: str, text: str, source: str = "test") -> CorpusRecord:
    return CorpusRecord(
        id=rid,
        url=url,
        source=source,
        title="عنوان",
        text=text,
        date=None,
        language="ar",
        fetched_at=utcnow(),
        content_hash=content_hash(text),
        categories=["سياسة"],
        tags=["قطر", "تركيا"],
    )


def seed_texts() -> list[str]:
    """The two seed articles: different articles on the same story (Qatar's military ties)."""
    return [seed_article(path)[1] for path in sorted(SEEDS.glob("*.txt"))]


def republished(text: str, rng: random.Random) -> str:
    """The same story as another site runs it: a dateline, its boilerplate, a few typos."""
    paragraphs = [p.split() for p in text.split("\n")]
    places = [(n, i) for n, words in enumerate(paragraphs) for i in range(len(words))]
    for n, i in rng.sample(places, max(1, len(places) // 100)):
        paragraphs[n][i] = paragraphs[n][i][::-1]
    edited = [" ".join(words) for words in paragraphs]
    return "\n".join(
        ["الدوحة - (الأناضول) -", *edited, "تابعونا على تويتر وفيسبوك للمزيد من الأخبار"]
    )


def vocabulary() -> list[str]:
    return " ".join(seed_texts()).split()


def distinct_text(rng: random.Random, words: list[str], size: int = 120) -> str:
    """A text of real words in random order: no near duplicate of another one like it."""
    lines = [" ".join(rng.choices(words, k=size // 3)) for _ in range(3)]
    return "\n".join(lines)
