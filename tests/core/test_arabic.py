from services.core.arabic import arabic_ratio, clean_text, content_hash, dedup_key, word_count


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
