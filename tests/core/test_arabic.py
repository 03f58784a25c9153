import random
import re
import unicodedata

from services.core.arabic import (
    arabic_ratio,
    clean_text,
    content_hash,
    dedup_key,
    letters_by_alphabet,
    strip_marks,
    word_count,
)


def test_clean_text_removes_invisible_controls_and_collapses_spaces() -> None:
    text = "قطر\u200f  وتركيا\u00a0شريكان\u200b\n\n\n  استراتيجيان\u202b "
    assert clean_text(text) == "قطر وتركيا شريكان\nاستراتيجيان"


def test_clean_text_keeps_diacritics_and_folds_presentation_forms() -> None:
    # U+FEB3 U+FEE0 U+FEE4 is "سلم" drawn with presentation-form glyphs.
    assert clean_text("\ufeb3\ufee0\ufee4 مُحَمَّد") == "سلم مُحَمَّد"


def test_clean_text_is_nfc() -> None:
    decomposed = "\u0627\u0653"  # alef + combining madda, NFC composes to U+0622
    assert clean_text(decomposed) == "\u0622"


def test_dedup_key_folds_spelling_variants() -> None:
    assert dedup_key("أحمد إلى آخر ٱلقرية") == dedup_key("احمد الي اخر القريه")


def test_dedup_key_strips_diacritics_tatweel_and_punctuation() -> None:
    assert dedup_key("مُحَمَّـــد، قال؛ هل؟") == "محمد قال هل"


def test_dedup_key_maps_arabic_indic_digits() -> None:
    assert dedup_key("عام ٢٠١٩ و۲۰۲۰") == "عام 2019 و2020"


def test_content_hash_same_for_variants_different_for_other_text() -> None:
    a = "وقعت دولة قطر اليوم اتفاقاً مع حلف شمال الأطلسي."
    b = "وقعت دولة قطر اليوم اتفاقا مع حلف شمال الاطلسي"
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash("اجتمع رئيس الأركان القطري مع الملحق العسكري التركي")


def test_arabic_ratio_and_word_count() -> None:
    assert arabic_ratio("قطر abc") == 0.5
    assert arabic_ratio("123 !") == 0.0
    assert word_count("قطر  وتركيا\nشريكان") == 3


def test_arabic_ratio_counts_letters_beyond_the_basic_plane() -> None:
    # U+1D400 is a letter outside the Basic Multilingual Plane; U+1F600 (an emoji) is not.
    assert arabic_ratio("قطر \U0001d400\U0001f600") == 0.75


_SAMPLE_CHARS = [
    chr(c) for c in [*range(0x20, 0x800), *range(0xFB50, 0xFF00), 0x1D400, 0x1F600, 0x20000]
]


def _samples() -> list[str]:
    rng = random.Random(7)
    return [
        "".join(rng.choice(_SAMPLE_CHARS) for _ in range(rng.randint(0, 200))) for _ in range(2000)
    ]


def test_arabic_ratio_matches_its_definition() -> None:
    def by_definition(text: str) -> float:
        letters = [c for c in text if c.isalpha()]
        arabic = [c for c in letters if "\u0600" <= c <= "\u06ff"]
        return round(len(arabic) / len(letters), 4) if letters else 0.0

    for text in _samples():
        assert arabic_ratio(text) == by_definition(text), text


def test_letters_by_alphabet_counts_each_kind() -> None:
    # Arabic letters (hamza on ya, ta marbuta, alef maqsura among them), Persian's pe and
    # gaf and its zero-width non-joiner, Latin letters; tatweel, digits and marks not at all.
    text = "\u0643\u062a\u0628 \u0626\u0629\u0649 \u067e\u06af\u200c ABC \u0640\u064e 12 \u0661"
    assert letters_by_alphabet(text) == (6, 3, 3)


def test_letters_by_alphabet_matches_its_definition() -> None:
    def alphabet(c: str) -> bool:
        return "\u0621" <= c <= "\u063a" or "\u0641" <= c <= "\u064a"

    def other_arabic_script(c: str) -> bool:
        ranges = [(0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF)]
        ranges.append((0xFE70, 0xFEFF))
        arabic_script = any(low <= ord(c) <= high for low, high in ranges)
        return c == "\u200c" or (c.isalpha() and arabic_script and not alphabet(c))

    def by_definition(text: str) -> tuple[int, int, int]:
        letters = [c for c in text if c != "\u0640" and ord(c) < 0x10000]
        return (
            sum(map(alphabet, letters)),
            sum(map(other_arabic_script, letters)),
            sum(c.isalpha() and not alphabet(c) and not other_arabic_script(c) for c in letters),
        )

    for text in _samples():
        assert letters_by_alphabet(text + "\u200c") == by_definition(text + "\u200c"), text


def test_dedup_key_folds_like_a_translation_table() -> None:
    # The key folds letters with chained replacements; a translation table is the plain form.
    table = str.maketrans(
        {
            "\u0623": "\u0627",
            "\u0625": "\u0627",
            "\u0622": "\u0627",
            "\u0671": "\u0627",
            "\u0649": "\u064a",
            "\u0629": "\u0647",
            **{chr(0x0660 + d): str(d) for d in range(10)},
            **{chr(0x06F0 + d): str(d) for d in range(10)},
        }
    )

    def by_table(text: str) -> str:
        text = strip_marks(unicodedata.normalize("NFKC", text)).translate(table)
        return " ".join(re.sub(r"[^\w\s]|_", " ", text.casefold()).split())

    for text in _samples():
        assert dedup_key(text) == by_table(text), text
