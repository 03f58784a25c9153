"""Fixtures for the parser: the seeds wrapped in a news-site page with its furniture."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest

from tests.conftest import SEEDS, seed_article

NAV = ["الرئيسية", "سياسة", "اقتصاد", "رياضة", "اتصل بنا"]
PERSIAN = (
    "به گزارش خبرگزاری، وزیر امور خارجه ایران امروز در دیدار با همتای خود درباره همکاری‌های "
    "اقتصادی و فرهنگی دو کشور گفت‌وگو کرد و گفت که روابط دو کشور در سال‌های اخیر گسترش یافته است. "
    "او افزود که دولت برای توسعه این همکاری‌ها برنامه‌های تازه‌ای دارد و به زودی اجرا می‌شود."
)
URDU = (
    "وزیر اعظم نے آج اسلام آباد میں ایک اجلاس کی صدارت کی جس میں ملک کی معاشی صورتحال پر تفصیلی "
    "غور کیا گیا۔ انہوں نے کہا کہ حکومت عوام کو ریلیف دینے کے لیے ہر ممکن اقدامات کر رہی ہے اور "
    "مہنگائی پر قابو پانے کے لیے نئی پالیسی جلد متعارف کرائی جائے گی۔"
)


def article_page(title: str, paragraphs: list[str], *, date: str | None = None) -> str:
    """A news page: navigation, the article, a related-links box, a comment form, a footer."""
    meta_date = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/{i}">{escape(n)}</a></li>' for i, n in enumerate(NAV))
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{escape(title)}</title>{meta_date}</head><body>
<header><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{escape(title)}</h1>{body}</article>
<aside><h3>اقرأ أيضا</h3><ul><li><a href="/x">خبر آخر عن الطقس</a></li></ul></aside>
<section class="comments"><h3>اترك رد</h3><form><textarea></textarea></form></section></main>
<footer><p>جميع الحقوق محفوظة © 2024</p></footer></body></html>"""


@pytest.fixture
def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


@pytest.fixture
def seed_page(seed_paths: list[Path]) -> tuple[str, str, str]:
    """HTML of the first seed, with its expected title and text."""
    title, text = seed_article(seed_paths[0])
    return article_page(title, text.split("\n"), date="2020-11-21T10:00:00+03:00"), title, text
