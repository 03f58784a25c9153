"""Fixtures for the parser: the seeds wrapped in news-site pages with their furniture."""

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


# Boilerplate lines Arabic news sites put inside the article element itself, where the
# extractor cannot tell them from paragraphs: each must go, as a whole line.
BOILERPLATE = [
    "اقرأ أيضاً: وزير الخارجية يلتقي نظيره الفرنسي في باريس",
    "إقرأ ايضا.. الحكومة تعلن موعد إجازة العيد",
    "شارك الخبر",
    "شارِكْ على فيسبوك",
    "فيسبوك تويتر واتساب تيليجرام",
    "تابعونا على تويتر وإنستغرام",
    "لمتابعة آخر الأخبار العاجلة تابعونا على قناتنا في تيليجرام",
    "اشترك في النشرة البريدية ليصلك كل جديد",
    "أدخل بريدك الإلكتروني",
    "يستخدم هذا الموقع ملفات تعريف الارتباط لتحسين تجربتك، وبمواصلة التصفح فإنك توافق على ذلك.",
    "جميع الحقوق محفوظة © 2024",
    "© 2024 جريدة الأخبار. جميع الحقوق محفوظة",
    "يمنع نسخ أو إعادة نشر المحتوى دون إذن مسبق",
    "(أ ف ب)",
    "رويترز / وكالات",
    "المصدر: وكالات",
    "الآراء الواردة أدناه لا تعبر عن رأي الموقع، بل تعكس وجهات نظر أصحابها فقط.",
    "نرحب بتعليقاتكم، ونرجو الالتزام بقواعد النشر وشروط الاستخدام قبل كتابة تعليقك.",
    "الرئيسية » أخبار » سياسة",
    "آخر تحديث: 14:05 - 21 نوفمبر 2020",
    "إعلان",
    "صورة أرشيفية",
    "1250 مشاهدة",
]
# Sentences of real articles that merely contain a boilerplate phrase: each must stay.
SENTENCES_WITH_BOILERPLATE_PHRASES = [
    "وقال الكاتب إن عبارة اقرأ أيضا صارت تملأ صفحات المواقع الإخبارية العربية.",
    "شارك في المؤتمر الدولي للطاقة وزراء من عشرين دولة عربية وأجنبية.",
    "شارك الوزير في الاجتماع الطارئ الذي عقد في العاصمة أمس.",
    "انضم إلى تويتر عام 2009 ونشر أولى تغريداته عن الانتخابات.",
    "وقال الوزير إن المواطنين تابعوا عبر فيسبوك كلمته في البرلمان.",
    "تابعنا خلال الأسابيع الماضية تطورات الأزمة بين البلدين.",
    "أعلنت جوجل وقف دعم ملفات تعريف الارتباط في متصفح كروم بحلول العام المقبل.",
    "وأكد المحامي أن جميع الحقوق محفوظة للورثة بموجب القانون.",
    "يحظر نقل الأسلحة إلى المنطقة دون إذن من مجلس الأمن الدولي.",
    "وقالت وكالة رويترز إن الاجتماع انتهى دون اتفاق.",
    "الآراء التي طرحها الوزير لا تعبر عن رأي الحكومة بحسب المتحدث باسمها.",
    "قالت فيسبوك إن التعليقات التي تخالف شروط الاستخدام ستحذف فورا.",
    "سجل الفريق هدفا في الدقيقة 90 من عمر المباراة.",
]


def furnished_page(
    title: str, paragraphs: list[str], *, site: str = "جريدة الأخبار", date: str | None = None
) -> str:
    """A news page whose article element mixes the paragraphs with in-article boilerplate."""
    meta_date = f'<meta property="article:published_time" content="{date}">' if date else ""
    half = len(paragraphs) // 2
    blocks = [*paragraphs[:half], *BOILERPLATE[:3], *paragraphs[half:], *BOILERPLATE[3:]]
    body = "".join(f"<p>{escape(block)}</p>" for block in blocks)
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{escape(title)} - {escape(site)}</title>{meta_date}</head><body>
<main><article><h1>{escape(title)}</h1>{body}</article></main>
<footer><p>{escape(site)}</p></footer></body></html>"""


@pytest.fixture
def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


@pytest.fixture
def seed_page(seed_paths: list[Path]) -> tuple[str, str, str]:
    """HTML of the first seed, with its expected title and text."""
    title, text = seed_article(seed_paths[0])
    return article_page(title, text.split("\n"), date="2020-11-21T10:00:00+03:00"), title, text
