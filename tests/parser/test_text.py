from pathlib import Path

from services.parser.furniture import default_furniture
from services.parser.text import parse_plain_text
from tests.conftest import seed_article


def test_seeds_give_title_and_body_without_furniture(seed_paths: list[Path]) -> None:
    assert len(seed_paths) == 2
    for path in seed_paths:
        article = parse_plain_text(path.read_text(encoding="utf-8"), default_furniture())
        title, text = seed_article(path)
        assert article.title == title
        assert article.text == text
        assert "اترك رد" not in article.text
        assert "قد يعجبك ايضا" not in article.text
        assert "\n0\n" not in article.text


def test_paragraphs_kept_one_per_line() -> None:
    article = parse_plain_text("العنوان\n\nفقرة أولى\n\n\nفقرة  ثانية\n", default_furniture())
    assert article.title == "العنوان"
    assert article.text == "فقرة أولى\nفقرة ثانية"


def test_empty_text() -> None:
    article = parse_plain_text(" \n\n", default_furniture())
    assert article.title is None
    assert article.text == ""
