"""From a raw document to a corpus record or a rejection: the parser's whole decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.core.arabic import arabic_ratio, clean_text, content_hash, word_count
from services.core.errors import AkhbarError, ExtractionError, UndecodableBodyError
from services.core.messages import CorpusRecord, RawDocument, Rejection
from services.core.settings import Settings
from services.parser.cleanup import clean_extracted
from services.parser.extract import Extracted, check_html_size
from services.parser.furniture import FurnitureList
from services.parser.language import detect_language
from services.parser.text import parse_plain_text

HtmlExtractor = Callable[[str, str | None], Extracted | None]


@dataclass(frozen=True)
class ParserPolicy:
    """What the corpus keeps (which languages, how short a text may be) and how large a page
    the extractor may read."""

    languages: frozenset[str]
    min_text_chars: int
    max_html_bytes: int = Settings.model_fields["parser_max_html_bytes"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> ParserPolicy:
        return cls(
            frozenset(settings.languages), settings.min_text_chars, settings.parser_max_html_bytes
        )


def is_plain_text(raw: RawDocument) -> bool:
    return raw.content_type.split(";")[0].strip().lower() == "text/plain"


class DocumentParser:
    """Turns raw documents into corpus records; HTML goes through `extractor`."""

    def __init__(
        self, extractor: HtmlExtractor, furniture: FurnitureList, policy: ParserPolicy
    ) -> None:
        self._extractor = extractor
        self._furniture = furniture
        self._policy = policy

    def _extract(self, raw: RawDocument) -> Extracted:
        if is_plain_text(raw):
            article = parse_plain_text(raw.body, self._furniture)
            return Extracted(text=article.text, title=article.title)
        check_html_size(raw.body, self._policy.max_html_bytes)
        try:
            found = self._extractor(raw.body, raw.url)
        except AkhbarError:
            raise
        except Exception as exc:
            # The extractor is deterministic: what it raises on a page it raises again.
            raise ExtractionError(f"extractor failed: {type(exc).__name__}: {exc}") from exc
        if found is None:
            raise ExtractionError("no main text found in the page")
        found.text = clean_extracted(found.text, found.title or raw.entry.title, self._furniture)
        return found

    def parse(self, raw: RawDocument) -> CorpusRecord | Rejection:
        if not raw.body.strip():
            raise UndecodableBodyError("empty body")
        found = self._extract(raw)
        text = found.text
        title = clean_text(found.title or raw.entry.title or "") or None
        if not text:
            return self._reject(raw, "empty", "no text left after extraction", title)
        language, probability = detect_language(text)
        if language not in self._policy.languages:
            detail = (
                f"language {language} (p={probability:.2f}) not in {sorted(self._policy.languages)}"
            )
            return self._reject(raw, "language", detail, title, language, len(text))
        if len(text) < self._policy.min_text_chars:
            detail = f"{len(text)} characters, fewer than {self._policy.min_text_chars}"
            return self._reject(raw, "too_short", detail, title, language, len(text))
        return CorpusRecord(
            id=raw.id,
            url=raw.url,
            source=raw.source,
            title=title,
            text=text,
            date=found.date or raw.entry.published,
            language=language,
            fetched_at=raw.fetched_at,
            author=found.author or raw.entry.author,
            sitename=found.sitename,
            description=found.description or raw.entry.summary,
            categories=found.categories,
            tags=sorted({*found.tags, *raw.entry.tags, *raw.feed_tags}),
            content_hash=content_hash(text),
            word_count=word_count(text),
            arabic_ratio=arabic_ratio(text),
        )

    @staticmethod
    def _reject(
        raw: RawDocument,
        reason: str,
        detail: str,
        title: str | None,
        language: str | None = None,
        text_chars: int = 0,
    ) -> Rejection:
        return Rejection.model_validate(
            {
                "id": raw.id,
                "url": raw.url,
                "source": raw.source,
                "reason": reason,
                "detail": detail,
                "title": title,
                "language": language,
                "text_chars": text_chars,
            }
        )
