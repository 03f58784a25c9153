"""Text extraction quality of akhbar's parser against bare trafilatura, on real news pages.

Usage: .venv/bin/python bench/eval_extract.py [DATA_DIR]   (default: ../shared/data)

For every page of DATA_DIR/arabic_html/ with a ground-truth body (NAME.expected.txt, or
NAME.expected.json with `content`), it prints the token F1 of bare `trafilatura.extract(html)`
and of akhbar's pipeline (`extract_html` plus the cleaning and furniture stripping of
`DocumentParser`). It then compares akhbar's `date` with every `date` of the ground truth, and
checks that the pages of DATA_DIR/arabic_script_nonarabic_html/ are rejected as not Arabic.

Token F1: both texts are normalised to NFC and case-folded, every Unicode punctuation
character (general category P*) becomes a space, and the text is split on whitespace. The two
bags (multisets) of tokens give precision = common / predicted tokens and recall = common /
expected tokens, where `common` counts each token min(predicted, expected) times;
F1 = 2PR / (P + R), and 0 when nothing is in common.

The pages are publishers' content: they are read at run time and never copied.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from services.core.messages import CorpusRecord, RawDocument, Rejection  # noqa: E402
from services.core.settings import Settings  # noqa: E402
from services.parser.document import DocumentParser, ParserPolicy  # noqa: E402
from services.parser.extract import extract_html  # noqa: E402
from services.parser.furniture import default_furniture  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
ARABIC = "arabic_html"
NON_ARABIC = "arabic_script_nonarabic_html"


def tokens(text: str) -> Counter[str]:
    """The bag of tokens the F1 compares (see the module docstring)."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return Counter(text.split())


def token_f1(predicted: str, expected: str) -> float:
    found, wanted = tokens(predicted), tokens(expected)
    common = sum((found & wanted).values())
    if common == 0:
        return 0.0
    precision = common / sum(found.values())
    recall = common / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Page:
    name: str
    html: str
    url: str | None
    body: str | None
    date: str | None


def load_pages(folder: Path) -> list[Page]:
    pages = []
    for path in sorted(folder.glob("*.html")):
        stem = path.name.removesuffix(".html")
        meta_path = path.with_name(f"{stem}.expected.json")
        text_path = path.with_name(f"{stem}.expected.txt")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        body = text_path.read_text(encoding="utf-8") if text_path.exists() else meta.get("content")
        pages.append(
            Page(
                name=stem,
                html=path.read_text(encoding="utf-8"),
                url=meta.get("url"),
                body=body,
                date=meta.get("date"),
            )
        )
    return pages


def make_parser() -> DocumentParser:
    # The service's default policy, without reading AKHBAR_* from the environment.
    defaults = Settings.model_construct()
    policy = ParserPolicy.from_settings(defaults)
    # The service runs the same parser in a worker process; in-process is equivalent here.
    return DocumentParser(extract_html, default_furniture(), policy)


def run_ours(parser: DocumentParser, page: Page) -> CorpusRecord | Rejection:
    raw = RawDocument(
        id=page.name,
        # The service always knows the page's URL; the ground truth records it.
        url=page.url or f"file:///{page.name}.html",
        source="eval",
        content_type="text/html; charset=utf-8",
        body=page.html,
    )
    return parser.parse(raw)


def bare_text(page: Page) -> str:
    return trafilatura.extract(page.html) or ""


def bare_date(page: Page) -> str | None:
    document = trafilatura.bare_extraction(page.html, with_metadata=True)
    if document is None:
        return None
    found: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    return found.get("date")


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def evaluate(data: Path) -> int:
    parser = make_parser()
    arabic = load_pages(data / ARABIC)
    outcomes = {page.name: run_ours(parser, page) for page in arabic}

    print(f"## Token F1 against the ground-truth body ({data / ARABIC})\n")
    print("| page | bare trafilatura | akhbar | akhbar - bare |")
    print("| --- | ---: | ---: | ---: |")
    bare_scores, our_scores = [], []
    for page in arabic:
        if page.body is None:
            continue
        outcome = outcomes[page.name]
        ours = outcome.text if isinstance(outcome, CorpusRecord) else ""
        bare, mine = token_f1(bare_text(page), page.body), token_f1(ours, page.body)
        bare_scores.append(bare)
        our_scores.append(mine)
        print(f"| {page.name} | {_fmt(bare)} | {_fmt(mine)} | {mine - bare:+.4f} |")
    if not our_scores:
        print("\nNo page with a ground-truth body.")
    else:
        print(
            f"| **mean** ({len(our_scores)} pages) | {_fmt(mean(bare_scores))} "
            f"| {_fmt(mean(our_scores))} | {mean(our_scores) - mean(bare_scores):+.4f} |"
        )

    print("\n## Publication date (compared on the day, YYYY-MM-DD)\n")
    print("| page | expected | bare trafilatura | akhbar | akhbar matches |")
    print("| --- | --- | --- | --- | --- |")
    for page in sorted(arabic, key=lambda p: p.date is None):
        outcome = outcomes[page.name]
        found = outcome.date if isinstance(outcome, CorpusRecord) else None
        day = found[:10] if found else None
        expected = page.date[:10] if page.date else None
        verdict = "no ground truth" if expected is None else "yes" if day == expected else "NO"
        print(
            f"| {page.name} | {expected or '-'} | {bare_date(page) or '-'} | {day or '-'} "
            f"| {verdict} |"
        )

    print(f"\n## Arabic-script pages in other languages ({data / NON_ARABIC})\n")
    print("| page | outcome | reason | language | detail | date: expected / extracted |")
    print("| --- | --- | --- | --- | --- | --- |")
    for page in load_pages(data / NON_ARABIC):
        outcome = run_ours(parser, page)
        if isinstance(outcome, Rejection):
            row = f"rejected | {outcome.reason} | {outcome.language} | {outcome.detail}"
        else:
            row = f"KEPT | - | {outcome.language} | -"
        # A rejection carries no date; the extractor's own finding is shown instead.
        extracted = extract_html(page.html, page.url)
        dates = f"{page.date or '-'} / {(extracted.date if extracted else None) or '-'}"
        print(f"| {page.name} | {row} | {dates} |")

    print(
        f"\ntrafilatura {trafilatura.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )
    return 0


def main(argv: list[str]) -> int:
    data = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA
    if not (data / ARABIC).is_dir():
        print(f"eval_extract: no evaluation data at {data / ARABIC}; nothing to evaluate.")
        return 0
    # trafilatura and htmldate warn about every page they find odd; the tables are the output.
    logging.basicConfig(level=logging.ERROR)
    return evaluate(data)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
