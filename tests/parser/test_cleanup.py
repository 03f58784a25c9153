import unicodedata
from pathlib import Path

import pytest

from services.parser.cleanup import clean_extracted
from services.parser.extract import extract_html
from services.parser.furniture import FurnitureList, default_furniture
from tests.conftest import seed_article
from tests.parser.conftest import furnished_page

NOTHING = FurnitureList.parse("")
SENTENCE = "وقعت دولة قطر اليوم اتفاقا مع حلف الناتو."


@pytest.mark.parametrize(
    "control",
    [
        "\u200b",  # zero-width space
        "\u200c",  # zero-width non-joiner
        "\u200d",  # zero-width joiner
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u061c",  # Arabic letter mark
        "\u202b",  # right-to-left embedding
        "\u202c",  # pop directional formatting
        "\u2067",  # right-to-left isolate
        "\u2069",  # pop directional isolate
        "\ufeff",  # byte order mark
        "\u00ad",  # soft hyphen
        "\x07",  # C0 control
        "\x9d",  # C1 control
    ],
)
def test_invisible_and_bidi_controls_are_removed(control: str) -> None:
    dirty = f"{control}وقعت دولة{control} قطر اليوم اتفاقا مع حلف الناتو.{control}"
    assert clean_extracted(dirty, None, NOTHING) == SENTENCE


def test_whitespace_collapsed_and_paragraphs_one_per_line() -> None:
    dirty = (
        "  وقعت\u00a0دولة \t قطر\u2003اليوم اتفاقا مع حلف الناتو.  \r\n\n\n  فقرة\u202fثانية \n \n"
    )
    assert clean_extracted(dirty, None, NOTHING) == f"{SENTENCE}\nفقرة ثانية"


def test_text_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "آمنة قالت إن المؤتمر ناجح")
    assert decomposed != "آمنة قالت إن المؤتمر ناجح"
    assert clean_extracted(decomposed, None, NOTHING) == "آمنة قالت إن المؤتمر ناجح"


def test_presentation_forms_become_letters() -> None:
    # The lam-alef ligature, then isolated, initial, medial and final glyph forms.
    assert clean_extracted("\ufefb \ufe8d\ufedf\ufee4\ufeee\ufe98\ufead", None, NOTHING) == (
        "لا الموتر"
    )


def test_diacritics_tatweel_and_punctuation_are_kept() -> None:
    text = "كَتَبَ الطالبُ الدرسَ، ثم قال: «الـحمد لله»!"
    assert clean_extracted(text, None, NOTHING) == text


def test_furniture_lines_go_and_sentences_stay() -> None:
    text = f"{SENTENCE}\nشارك الخبر\nتابعونا على تويتر\n{SENTENCE} شارك الخبر"
    assert clean_extracted(text, None, default_furniture()) == (
        f"{SENTENCE}\n{SENTENCE} شارك الخبر"
    )


@pytest.mark.parametrize(
    "title",
    [
        "قطر توقع اتفاقا مع الناتو",
        "قطر توقع اتفاقاً مع الناتو.",
        "قطر توقع اتفاقا مع الناتو - جريدة الأخبار",
        "قطر توقع اتفاقا مع الناتو | جريدة الأخبار",
    ],
)
def test_title_repeated_as_first_line_is_dropped(title: str) -> None:
    text = f"قطر توقع اتفاقا مع الناتو\n{SENTENCE}"
    assert clean_extracted(text, title, NOTHING) == SENTENCE


def test_title_is_only_dropped_on_top() -> None:
    text = f"{SENTENCE}\nقطر توقع اتفاقا مع الناتو"
    assert clean_extracted(text, "قطر توقع اتفاقا مع الناتو", NOTHING) == text
    assert clean_extracted(text, "عنوان آخر", NOTHING) == text
    assert clean_extracted(text, None, NOTHING) == text


def test_seed_pages_with_in_article_boilerplate_give_the_seed_text(
    seed_paths: list[Path],
) -> None:
    for path in seed_paths:
        title, text = seed_article(path)
        found = extract_html(furnished_page(title, text.split("\n")), "https://example.com/a")
        assert found is not None
        assert clean_extracted(found.text, found.title, default_furniture()) == text
