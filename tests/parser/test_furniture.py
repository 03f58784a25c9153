import pytest

from services.parser.furniture import FurnitureList, default_furniture
from tests.conftest import SEED_FURNITURE
from tests.parser.conftest import BOILERPLATE, SENTENCES_WITH_BOILERPLATE_PHRASES


def test_default_list_drops_every_seed_furniture_line() -> None:
    furniture = default_furniture()
    assert all(furniture.matches(line) for line in SEED_FURNITURE)


def test_spelling_variants_match() -> None:
    assert default_furniture().matches("قد يعجبك أيضاً")


def test_phrase_inside_a_sentence_is_kept() -> None:
    line = "وقال الكاتب إن قد يعجبك ايضا أن تقرأ تقرير الأمس عن العلاقات بين البلدين"
    assert not default_furniture().matches(line)


def test_numbers_only_as_whole_short_lines() -> None:
    furniture = default_furniture()
    assert furniture.matches("12")
    assert not furniture.matches("ارتفع إلى 340 مليون دولار")


def test_parse_comments_regex_and_strip() -> None:
    furniture = FurnitureList.parse("# comment\n\nشارك\nre:\\d+ تعليق\n")
    assert furniture.strip(["شارك", "نص الخبر", "5 تعليق", "5 تعليقات كثيرة"]) == [
        "نص الخبر",
        "5 تعليقات كثيرة",
    ]


@pytest.mark.parametrize("line", BOILERPLATE)
def test_common_boilerplate_lines_are_furniture(line: str) -> None:
    assert default_furniture().matches(line)


@pytest.mark.parametrize("line", SENTENCES_WITH_BOILERPLATE_PHRASES)
def test_sentences_containing_boilerplate_phrases_are_kept(line: str) -> None:
    assert not default_furniture().matches(line)


def test_boilerplate_is_removed_only_as_whole_lines() -> None:
    article = "وقعت دولة قطر اليوم اتفاقا مع حلف الناتو."
    lines = [article, "شارك الخبر", f"{article} شارك الخبر", "جميع الحقوق محفوظة"]
    assert default_furniture().strip(lines) == [article, f"{article} شارك الخبر"]


def test_long_line_opening_like_boilerplate_is_kept() -> None:
    line = "اضغط هنا " + "وقال الوزير إن الحكومة ستواصل دعم المزارعين في كل المحافظات " * 3
    assert not default_furniture().matches(line)


def test_patterns_ignore_diacritics_and_tatweel() -> None:
    furniture = FurnitureList.parse("re:شارك الخبر\n")
    assert furniture.matches("شارِكْ الخـــبر")
    assert not furniture.matches("شارك الخبر الآن مع أصدقائك")


def test_named_patterns_expand_in_later_entries() -> None:
    furniture = FurnitureList.parse(
        "@NET = فيسبوك|تويتر\n@ANY = @NET|يوتيوب\nre:تابعونا على @ANY\n"
    )
    assert furniture.matches("تابعونا على تويتر")
    assert furniture.matches("تابعونا على يوتيوب")
    assert not furniture.matches("تابعونا على الموقع")


def test_undefined_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="@NET"):
        FurnitureList.parse("re:تابعونا على @NET\n")
