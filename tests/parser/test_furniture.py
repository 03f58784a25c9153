from services.parser.furniture import FurnitureList, default_furniture
from tests.conftest import SEED_FURNITURE


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
