from pathlib import Path

import pytest

from services.core.errors import DocumentTooLargeError
from services.parser.extract import check_html_size, extract_html, warm_up
from tests.parser.conftest import article_page


def test_extracts_article_without_site_furniture(seed_page: tuple[str, str, str]) -> None:
    html, title, text = seed_page
    found = extract_html(html, "https://example.com/a")
    assert found is not None
    assert found.title == title
    assert found.date == "2020-11-21"
    for paragraph in text.split("\n")[1:]:
        assert paragraph in found.text
    for furniture in ["الرئيسية", "اتصل بنا", "خبر آخر عن الطقس", "جميع الحقوق محفوظة"]:
        assert furniture not in found.text


def test_page_without_text_gives_none() -> None:
    assert (
        extract_html("<html><head><title>t</title></head><body><script>x=1</script></body></html>")
        is None
    )


def _with_footer(html: str, footer: str) -> str:
    return html.replace("</footer>", f"<p>{footer}</p></footer>")


def test_copyright_year_is_not_taken_for_the_date(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    html = _with_footer(article_page(lines[0], lines[1:]), "© 2019 جريدة الأخبار")
    found = extract_html(html, "https://example.com/news/story")
    assert found is not None
    assert found.date is None  # htmldate alone would say 2019-01-01


def test_a_real_january_first_is_kept(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    html = _with_footer(
        article_page(lines[0], lines[1:], date="2019-01-01T09:00:00+03:00"), "© 2019"
    )
    found = extract_html(html, "https://example.com/news/story")
    assert found is not None
    assert found.date == "2019-01-01"


def test_date_in_the_url_is_found(seed_paths: list[Path]) -> None:
    lines = seed_paths[0].read_text(encoding="utf-8").splitlines()
    found = extract_html(article_page(lines[0], lines[1:]), "https://example.com/2020/11/21/a")
    assert found is not None
    assert found.date == "2020-11-21"


@pytest.mark.parametrize(
    ("html", "too_large"),
    [
        ("a" * 1024, False),
        ("a" * 1025, True),
        ("ب" * 512, False),  # 1,024 bytes in UTF-8
        ("ب" * 513, True),  # fewer characters than the cap, more bytes
        ("", False),
    ],
)
def test_size_cap_counts_utf8_bytes(html: str, too_large: bool) -> None:
    if too_large:
        with pytest.raises(DocumentTooLargeError):
            check_html_size(html, 1024)
    else:
        check_html_size(html, 1024)


def test_warm_up_loads_what_workers_would_otherwise_load_on_their_first_pages() -> None:
    from htmldate.extractors import get_external_parser
    from justext.core import define_stoplist

    define_stoplist.cache_clear()
    get_external_parser.cache_clear()
    warm_up()
    assert define_stoplist.cache_info().currsize == 1
    assert get_external_parser.cache_info().currsize == 1
