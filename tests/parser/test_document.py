from pathlib import Path

import pytest

from services.core.arabic import content_hash
from services.core.errors import DocumentTooLargeError, ExtractionError, UndecodableBodyError
from services.core.messages import CorpusRecord, FeedEntry, RawDocument, Rejection
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import Extracted, extract_html
from services.parser.furniture import default_furniture
from tests.conftest import seed_article
from tests.parser.conftest import PERSIAN, URDU, article_page, furnished_page

POLICY = ParserPolicy(languages=frozenset({"ar"}), min_text_chars=200)


def make_parser(found: Extracted | None = None) -> DocumentParser:
    def extractor(html: str, url: str | None) -> Extracted | None:
        return found

    return DocumentParser(extractor, default_furniture(), POLICY)


def raw(body: str, content_type: str = "text/plain", **fields: object) -> RawDocument:
    return RawDocument.model_validate(
        {
            "id": "doc",
            "url": "https://example.com/a",
            "source": "test",
            "body": body,
            "content_type": content_type,
            **fields,
        }
    )


def test_plain_text_seed_becomes_a_record(seed_paths: list[Path]) -> None:
    title, text = seed_article(seed_paths[1])
    record = make_parser().parse(raw(seed_paths[1].read_text(encoding="utf-8")))
    assert isinstance(record, CorpusRecord)
    assert (record.title, record.text, record.language) == (title, text, "ar")
    assert record.content_hash == content_hash(text)
    assert record.word_count == len(text.split())
    assert record.arabic_ratio > 0.95


def test_html_metadata_falls_back_on_the_feed_entry(seed_paths: list[Path]) -> None:
    _, text = seed_article(seed_paths[0])
    parser = make_parser(Extracted(text=text + "\nقد يعجبك أيضا"))
    entry = FeedEntry(
        title="عنوان من الخلاصة", published="2020-11-21", author="مراسل", tags=["قطر"]
    )
    record = parser.parse(
        raw("<html>…</html>", "text/html; charset=utf-8", entry=entry, feed_tags=["gulf"])
    )
    assert isinstance(record, CorpusRecord)
    assert record.title == "عنوان من الخلاصة"
    assert record.date == "2020-11-21"
    assert record.author == "مراسل"
    assert record.tags == ["gulf", "قطر"]
    assert record.text == text  # the widget line is furniture


def test_page_metadata_wins_over_the_feed_entry(seed_paths: list[Path]) -> None:
    _, text = seed_article(seed_paths[0])
    parser = make_parser(
        Extracted(text=text, title="عنوان الصفحة", date="2020-11-20", author="كاتب")
    )
    entry = FeedEntry(title="عنوان من الخلاصة", published="2020-11-21", author="مراسل")
    record = parser.parse(raw("<html>…</html>", "text/html", entry=entry))
    assert isinstance(record, CorpusRecord)
    assert (record.title, record.date, record.author) == ("عنوان الصفحة", "2020-11-20", "كاتب")


def test_persian_is_rejected_with_its_language() -> None:
    rejection = make_parser().parse(raw("عنوان\n" + PERSIAN))
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.language) == ("language", "fa")


def test_short_arabic_is_rejected_as_too_short() -> None:
    rejection = make_parser().parse(raw("عنوان\nوقعت دولة قطر اليوم اتفاقا مع حلف الناتو."))
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "too_short"
    assert rejection.language == "ar"


def test_title_only_is_rejected_as_empty() -> None:
    rejection = make_parser().parse(raw("عنوان وحده\n\nاترك رد"))
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "empty"


def test_empty_body_is_a_permanent_error() -> None:
    with pytest.raises(UndecodableBodyError):
        make_parser().parse(raw("  \n "))


def test_page_without_text_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError):
        make_parser(None).parse(raw("<html></html>", "text/html"))


def test_an_extractor_exception_is_a_permanent_extraction_error() -> None:
    def choking(html: str, url: str | None) -> Extracted | None:
        raise ValueError("lxml choked")

    parser = DocumentParser(choking, default_furniture(), POLICY)
    with pytest.raises(ExtractionError, match="ValueError: lxml choked"):
        parser.parse(raw("<html></html>", "text/html"))


def test_pages_over_the_size_cap_never_reach_the_extractor() -> None:
    seen: list[str] = []

    def extractor(html: str, url: str | None) -> Extracted | None:
        seen.append(html)
        return Extracted(text="نص")

    small = ParserPolicy(frozenset({"ar"}), 1, max_html_bytes=4096)
    parser = DocumentParser(extractor, default_furniture(), small)
    with pytest.raises(DocumentTooLargeError, match="limit is 4096"):
        parser.parse(raw("<p>" + "خبر " * 1000 + "</p>", "text/html"))  # 7,000 bytes
    assert seen == []
    parser.parse(raw("<p>" + "x" * 4000 + "</p>", "text/html"))
    assert len(seen) == 1


def html_parser(policy: ParserPolicy = POLICY) -> DocumentParser:
    """The worker's HTML path, run in-process."""
    return DocumentParser(extract_html, default_furniture(), policy)


def test_html_page_gives_the_article_without_boilerplate(seed_paths: list[Path]) -> None:
    title, text = seed_article(seed_paths[1])
    page = furnished_page(title, text.split("\n"), date="2020-11-21T10:00:00+03:00")
    record = html_parser().parse(raw(page, "text/html; charset=utf-8"))
    assert isinstance(record, CorpusRecord)
    assert (record.title, record.text, record.language) == (title, text, "ar")
    assert record.date == "2020-11-21"


@pytest.mark.parametrize(("text", "language"), [(PERSIAN, "fa"), (URDU, "ur")])
def test_arabic_script_pages_in_other_languages_are_rejected(text: str, language: str) -> None:
    page = article_page("عنوان", [text, text])
    rejection = html_parser().parse(raw(page, "text/html"))
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.language) == ("language", language)
    assert rejection.text_chars > 0


def test_english_page_is_rejected() -> None:
    paragraph = (
        "The foreign ministers met in Doha on Saturday to discuss military cooperation "
        "between the two countries and signed several agreements on training and supplies."
    )
    rejection = html_parser().parse(raw(article_page("Title", [paragraph] * 3), "text/html"))
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.language) == ("language", "en")


def test_arabic_article_with_latin_names_and_credits_is_arabic(
    seed_paths: list[Path],
) -> None:
    title, text = seed_article(seed_paths[1])
    text = f"{text}\nBrussels (Reuters) - NATO, Qatar, Doha"
    record = make_parser(Extracted(text=text, title=title)).parse(raw("<p/>", "text/html"))
    assert isinstance(record, CorpusRecord)
    assert record.language == "ar"


def test_languages_come_from_the_policy() -> None:
    policy = ParserPolicy(languages=frozenset({"ar", "fa"}), min_text_chars=200)
    record = html_parser(policy).parse(raw(article_page("عنوان", [PERSIAN, PERSIAN]), "text/html"))
    assert isinstance(record, CorpusRecord)
    assert record.language == "fa"


def test_feed_date_and_summary_fill_what_the_page_lacks(seed_paths: list[Path]) -> None:
    title, text = seed_article(seed_paths[0])
    # No date in the page but its copyright year, which is not taken for a date.
    page = article_page(title, text.split("\n")).replace(
        "</footer>", "<p>© 2019 جريدة الأخبار</p></footer>"
    )
    entry = FeedEntry(published="2020-11-21T08:00:00+00:00", summary="ملخص الخلاصة")
    record = html_parser().parse(raw(page, "text/html", entry=entry))
    assert isinstance(record, CorpusRecord)
    assert record.date == "2020-11-21T08:00:00+00:00"
    assert record.description == "ملخص الخلاصة"
    assert record.title == title


def test_feed_title_is_dropped_from_the_top_of_the_text(seed_paths: list[Path]) -> None:
    _, text = seed_article(seed_paths[0])
    parser = make_parser(Extracted(text=f"عنوان من الخلاصة\n{text}"))
    record = parser.parse(
        raw("<html>…</html>", "text/html", entry=FeedEntry(title="عنوان من الخلاصة"))
    )
    assert isinstance(record, CorpusRecord)
    assert record.title == "عنوان من الخلاصة"
    assert record.text == text
