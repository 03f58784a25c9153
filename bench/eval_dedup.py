"""Near-duplicate detection of the store, measured over pairs built from real articles.

Usage: .venv/bin/python bench/eval_dedup.py [DATA_DIR]   (default: ../shared/data)

Base articles: the seeds (`seeds/*.txt`, through the parser's plain-text path) and, when the
folder exists, the pages of DATA_DIR/arabic_html/ (text by `extract_html`). The pages are
publishers' content: read at run time, never copied. From them `dedup_variants.py` makes
copies (positive pairs) and distinct or partly shared articles (negative pairs).

A pair is detected as the store detects it: the same content hash, or a shared LSH band and
a sketch-estimated Jaccard similarity at or above the threshold. Precision and recall are
over pairs, for each shingle size and threshold; then, at the chosen defaults, per kind of
pair and for other band layouts.
"""

from __future__ import annotations

import logging
import platform
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dedup_variants import Doc, Pair, build_pairs  # noqa: E402

from services.core.arabic import clean_text, content_hash, dedup_key  # noqa: E402
from services.core.settings import Settings  # noqa: E402
from services.parser.extract import extract_html  # noqa: E402
from services.parser.furniture import default_furniture  # noqa: E402
from services.parser.text import parse_plain_text  # noqa: E402
from services.store.minhash import (  # noqa: E402
    MinHasher,
    MinHashParams,
    Signature,
    estimate_similarity,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data"
SHINGLES = (1, 2, 3, 4, 5)
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
LAYOUTS = ((8, 1), (4, 1), (6, 1), (16, 1), (4, 2), (8, 2), (16, 2))
COPIES_PER_KIND = 6


def load_bases(data: Path) -> list[Doc]:
    furniture = default_furniture()
    bases = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        article = parse_plain_text(path.read_text(encoding="utf-8"), furniture)
        bases.append(Doc(f"seed:{path.stem}", article.text))
    folder = data / "arabic_html"
    if not folder.is_dir():
        print(f"eval_dedup: {folder} not found; evaluating on the seeds only.\n")
        return bases
    for path in sorted(folder.glob("*.html")):
        found = extract_html(path.read_text(encoding="utf-8", errors="replace"))
        text = clean_text(found.text) if found else ""
        if len(text.split()) >= 50:
            bases.append(Doc(f"page:{path.stem}", text))
    return bases


class Judge:
    """Signatures of every document for one parameter set, and the store's decision."""

    def __init__(self, params: MinHashParams) -> None:
        self.hasher = MinHasher(params)
        self._sigs: dict[str, Signature | None] = {}
        self._hashes: dict[str, str] = {}
        self._shingles: dict[str, set[int]] = {}

    def _load(self, doc: Doc) -> None:
        if doc.name not in self._sigs:
            key = dedup_key(doc.text)
            self._sigs[doc.name] = self.hasher.signature(key)
            self._hashes[doc.name] = content_hash(doc.text)
            self._shingles[doc.name] = set(self.hasher.shingles(key).tolist())

    def similarity(self, pair: Pair) -> tuple[bool, bool, float]:
        """Same content hash, shares a band, estimated similarity."""
        self._load(pair.a)
        self._load(pair.b)
        if self._hashes[pair.a.name] == self._hashes[pair.b.name]:
            return True, True, 1.0
        a, b = self._sigs[pair.a.name], self._sigs[pair.b.name]
        if a is None or b is None:
            return False, False, 0.0
        return False, a.shares_band(b), estimate_similarity(a.sketch, b.sketch)

    def jaccard(self, pair: Pair) -> float:
        self._load(pair.a)
        self._load(pair.b)
        x, y = self._shingles[pair.a.name], self._shingles[pair.b.name]
        return len(x & y) / len(x | y) if x | y else 1.0


def scores(judge: Judge, pairs: list[Pair], threshold: float) -> tuple[float, float, list[bool]]:
    decided = []
    for pair in pairs:
        exact, candidate, sim = judge.similarity(pair)
        decided.append(exact or (candidate and sim >= threshold))
    tp = sum(1 for p, d in zip(pairs, decided, strict=True) if p.duplicate and d)
    fp = sum(1 for p, d in zip(pairs, decided, strict=True) if not p.duplicate and d)
    positives = sum(1 for p in pairs if p.duplicate)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / positives if positives else 1.0, decided


def params_for(shingle: int, bands: int = 8, rows: int = 1) -> MinHashParams:
    defaults = Settings.model_construct()
    return MinHashParams(shingle_size=shingle, perm=defaults.minhash_perm, bands=bands, rows=rows)


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)
    data = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA
    bases = load_bases(data)
    pairs = build_pairs(random.Random(20240601), bases, COPIES_PER_KIND)
    kinds = Counter((p.kind, p.duplicate) for p in pairs)
    positives = sum(1 for p in pairs if p.duplicate)
    print(f"{len(bases)} base articles: {', '.join(b.name for b in bases)}")
    print(f"{len(pairs)} pairs: {positives} copies, {len(pairs) - positives} non-copies\n")

    defaults = Settings.model_construct()
    print("## Precision / recall by shingle size (words) and threshold (bands 8 x rows 1)\n")
    print("| shingle | " + " | ".join(f"t={t}" for t in THRESHOLDS) + " |")
    print("| --- |" + " --- |" * len(THRESHOLDS))
    judges = {}
    for shingle in SHINGLES:
        judges[shingle] = judge = Judge(params_for(shingle))
        cells = []
        for t in THRESHOLDS:
            precision, recall, _ = scores(judge, pairs, t)
            mark = " ✓" if precision >= 0.99 and recall >= 0.95 else ""
            cells.append(f"P {precision:.3f} R {recall:.3f}{mark}")
        print(f"| {shingle} | " + " | ".join(cells) + " |")

    chosen, threshold = defaults.shingle_size, defaults.near_dup_threshold
    judge = judges[chosen]
    precision, recall, decided = scores(judge, pairs, threshold)
    print(
        f"\n## Defaults: shingle {chosen}, threshold {threshold}: "
        f"precision {precision:.4f}, recall {recall:.4f}\n"
    )
    print("| kind of pair | copies? | pairs | detected | true Jaccard min / max |")
    print("| --- | --- | ---: | ---: | --- |")
    for (kind, dup), count in sorted(kinds.items(), key=lambda k: (not k[0][1], k[0][0])):
        chosen_pairs = [
            (p, d)
            for p, d in zip(pairs, decided, strict=True)
            if (p.kind, p.duplicate) == (kind, dup)
        ]
        found = sum(1 for _, d in chosen_pairs if d)
        js = [judge.jaccard(p) for p, _ in chosen_pairs]
        print(
            f"| {kind} | {'yes' if dup else 'no'} | {count} | {found} "
            f"| {min(js):.2f} / {max(js):.2f} |"
        )

    print(f"\n## Band layouts at shingle {chosen}, threshold {threshold}\n")
    print("| bands x rows | precision | recall | band keys per document |")
    print("| --- | ---: | ---: | ---: |")
    for bands, rows in LAYOUTS:
        precision, recall, _ = scores(Judge(params_for(chosen, bands, rows)), pairs, threshold)
        print(f"| {bands} x {rows} | {precision:.4f} | {recall:.4f} | {bands} |")
    print(f"\nPython {platform.python_version()}, {platform.system()} {platform.machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
