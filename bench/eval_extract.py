"""Text extraction quality of akhbar's parser against bare trafilatura, on real news pages.

Usage: .venv/bin/python -m bench.eval_extract [DATA_DIR] [--results PATH] [--check]
(DATA_DIR default: ../shared/data beside the repository)

For every page of DATA_DIR/arabic_html/ with a ground-truth body (NAME.expected.txt, or
NAME.expected.json with `content`), it prints the token F1 of bare `trafilatura.extract(html)`
and of akhbar's pipeline (`extract_html` plus the cleaning and furniture stripping of
`DocumentParser`). It then compares akhbar's `date` with every `date` of the ground truth, and
checks that the pages of DATA_DIR/arabic_script_nonarabic_html/ are rejected as not Arabic.
The figures go to bench/results/eval_extract.json; `--check` holds them to
bench/baselines/eval_extract.json (bench/gate.py).

Token F1: both texts are normalised to NFC and case-folded, every Unicode punctuation
character (general category P*) becomes a space, and the text is split on whitespace. The two
bags (multisets) of tokens give precision = common / predicted tokens and recall = common /
expected tokens, where `common` counts each token min(predicted, expected) times;
F1 = 2PR / (P + R), and 0 when nothing is in common.

The pages are publishers' content: they are read at run time and never copied.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import trafilatura

from bench import gate
from bench.paths import SHARED_DATA
from services.core.messages import CorpusRecord, RawDocument, Rejection
from services.core.settings import Settings
from services.parser.document import DocumentParser, ParserPolicy
from services.parser.extract import extract_html
from services.parser.furniture import default_furniture

NAME = "eval_extract"
ARABIC = "arabic_html"
NON_ARABIC = "arabic_script_nonarabic_html"
PACKAGES = ("trafilatura", "htmldate", "lxml", "py3langid")


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


@dataclass(frozen=True)
class Scored:
    """Token F1 of one page's body: bare trafilatura's and akhbar's."""

    page: str
    bare: float
    akhbar: float


@dataclass(frozen=True)
class Dated:
    """The publication day a page's ground truth gives, and what each side found."""

    page: str
    expected: str | None
    bare: str | None
    akhbar: str | None


@dataclass(frozen=True)
class OtherLanguage:
    """What became of an Arabic-script page in another language."""

    page: str
    rejected: bool
    reason: str | None
    language: str | None
    detail: str | None
    expected_date: str | None
    extracted_date: str | None


@dataclass
class Evaluation:
    scored: list[Scored] = field(default_factory=list)
    dates: list[Dated] = field(default_factory=list)
    others: list[OtherLanguage] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """The named numbers kept as results; bench/baselines/eval_extract.json bounds some."""
        with_truth = [d for d in self.dates if d.expected is not None]
        found: dict[str, float] = {
            "pages_scored": len(self.scored),
            "dates_expected": len(with_truth),
            "dates_matched": sum(1 for d in with_truth if d.akhbar == d.expected),
            "non_arabic_pages": len(self.others),
            "non_arabic_rejected": sum(
                1 for o in self.others if o.rejected and o.reason == "language"
            ),
        }
        if self.scored:
            found["akhbar_mean_f1"] = round(mean(s.akhbar for s in self.scored), 6)
            found["bare_mean_f1"] = round(mean(s.bare for s in self.scored), 6)
        return found

    def details(self) -> dict[str, Any]:
        return {
            "f1": {
                s.page: {"bare": round(s.bare, 6), "akhbar": round(s.akhbar, 6)}
                for s in self.scored
            },
            "dates": {
                d.page: {"expected": d.expected, "bare": d.bare, "akhbar": d.akhbar}
                for d in self.dates
            },
            "other_languages": {
                o.page: {"rejected": o.rejected, "reason": o.reason, "language": o.language}
                for o in self.others
            },
        }


def evaluate(data: Path) -> Evaluation:
    """Every measurement of the module docstring, on the pages under `data`."""
    parser = make_parser()
    arabic = load_pages(data / ARABIC)
    outcomes = {page.name: run_ours(parser, page) for page in arabic}
    result = Evaluation()
    for page in arabic:
        if page.body is None:
            continue
        outcome = outcomes[page.name]
        ours = outcome.text if isinstance(outcome, CorpusRecord) else ""
        result.scored.append(
            Scored(page.name, token_f1(bare_text(page), page.body), token_f1(ours, page.body))
        )
    for page in sorted(arabic, key=lambda p: p.date is None):
        outcome = outcomes[page.name]
        found = outcome.date if isinstance(outcome, CorpusRecord) else None
        bare = bare_date(page)
        result.dates.append(
            Dated(
                page.name,
                expected=page.date[:10] if page.date else None,
                bare=bare[:10] if bare else None,
                akhbar=found[:10] if found else None,
            )
        )
    for page in load_pages(data / NON_ARABIC):
        outcome = run_ours(parser, page)
        # A rejection carries no date; the extractor's own finding is shown instead.
        extracted = extract_html(page.html, page.url)
        rejected = isinstance(outcome, Rejection)
        result.others.append(
            OtherLanguage(
                page.name,
                rejected=rejected,
                reason=outcome.reason if isinstance(outcome, Rejection) else None,
                language=outcome.language,
                detail=outcome.detail if isinstance(outcome, Rejection) else None,
                expected_date=page.date,
                extracted_date=extracted.date if extracted else None,
            )
        )
    return result


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def report(result: Evaluation, data: Path) -> None:
    print(f"## Token F1 against the ground-truth body ({data / ARABIC})\n")
    print("| page | bare trafilatura | akhbar | akhbar - bare |")
    print("| --- | ---: | ---: | ---: |")
    for s in result.scored:
        print(f"| {s.page} | {_fmt(s.bare)} | {_fmt(s.akhbar)} | {s.akhbar - s.bare:+.4f} |")
    if not result.scored:
        print("\nNo page with a ground-truth body.")
    else:
        bare, ours = mean(s.bare for s in result.scored), mean(s.akhbar for s in result.scored)
        print(
            f"| **mean** ({len(result.scored)} pages) | {_fmt(bare)} | {_fmt(ours)} "
            f"| {ours - bare:+.4f} |"
        )

    print("\n## Publication date (compared on the day, YYYY-MM-DD)\n")
    print("| page | expected | bare trafilatura | akhbar | akhbar matches |")
    print("| --- | --- | --- | --- | --- |")
    for d in result.dates:
        verdict = (
            "no ground truth" if d.expected is None else "yes" if d.akhbar == d.expected else "NO"
        )
        print(
            f"| {d.page} | {d.expected or '-'} | {d.bare or '-'} | {d.akhbar or '-'} | {verdict} |"
        )

    print(f"\n## Arabic-script pages in other languages ({data / NON_ARABIC})\n")
    print("| page | outcome | reason | language | detail | date: expected / extracted |")
    print("| --- | --- | --- | --- | --- | --- |")
    for o in result.others:
        if o.rejected:
            row = f"rejected | {o.reason} | {o.language} | {o.detail}"
        else:
            row = f"KEPT | - | {o.language} | -"
        dates = f"{o.expected_date or '-'} / {o.extracted_date or '-'}"
        print(f"| {o.page} | {row} | {dates} |")

    print(
        f"\ntrafilatura {trafilatura.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=SHARED_DATA, help="DATA_DIR")
    gate.add_arguments(parser, NAME)
    args = parser.parse_args(argv)
    if not (args.data / ARABIC).is_dir():
        print(f"eval_extract: no evaluation data at {args.data / ARABIC}; nothing to evaluate.")
        return 1 if args.check else 0
    # trafilatura and htmldate warn about every page they find odd; the tables are the output.
    logging.basicConfig(level=logging.ERROR)
    result = evaluate(args.data)
    report(result, args.data)
    return gate.finish(args, NAME, result.figures(), result.details(), PACKAGES)


if __name__ == "__main__":
    raise SystemExit(main())
