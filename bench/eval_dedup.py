"""Near-duplicate detection of the store, measured over pairs built from real articles.

Usage: .venv/bin/python -m bench.eval_dedup [DATA_DIR] [--results PATH] [--check]
(DATA_DIR default: ../shared/data beside the repository)

Base articles: the seeds (`seeds/*.txt`, through the parser's plain-text path) and, when the
folder exists, the pages of DATA_DIR/arabic_html/ (text by `extract_html`). The pages are
publishers' content: read at run time, never copied. From them `bench/dedup_variants.py` makes
copies (positive pairs) and distinct or partly shared articles (negative pairs).

A pair is detected as the store detects it: the same content hash, or a shared LSH band and
a sketch-estimated Jaccard similarity at or above the threshold. Precision and recall are
over pairs, for each shingle size and threshold; then, at the chosen defaults, per kind of
pair and for other band layouts. The figures go to bench/results/eval_dedup.json (only when
DATA_DIR/arabic_html/ exists: the seeds alone are not the evaluation the baseline pins);
`--check` holds them to bench/baselines/eval_dedup.json (bench/gate.py).
"""

from __future__ import annotations

import argparse
import logging
import platform
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import gate
from bench.dedup_variants import Doc, Pair, build_pairs
from bench.paths import SEEDS, SHARED_DATA
from services.core.arabic import clean_text, content_hash, dedup_key
from services.core.settings import Settings
from services.parser.extract import extract_html
from services.parser.furniture import default_furniture
from services.parser.text import parse_plain_text
from services.store.minhash import MinHasher, MinHashParams, Signature, estimate_similarity

NAME = "eval_dedup"
ARABIC = "arabic_html"
SHINGLES = (1, 2, 3, 4, 5)
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
LAYOUTS = ((8, 1), (4, 1), (6, 1), (16, 1), (4, 2), (8, 2), (16, 2))
COPIES_PER_KIND = 6
PACKAGES = ("trafilatura", "numpy", "xxhash")


def load_bases(data: Path) -> list[Doc]:
    furniture = default_furniture()
    bases = []
    for path in sorted(SEEDS.glob("*.txt")):
        article = parse_plain_text(path.read_text(encoding="utf-8"), furniture)
        bases.append(Doc(f"seed:{path.stem}", article.text))
    folder = data / ARABIC
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


@dataclass(frozen=True)
class Kind:
    """How the store fared on one kind of pair at the defaults."""

    kind: str
    duplicate: bool
    pairs: int
    detected: int
    jaccard_min: float
    jaccard_max: float


@dataclass
class Evaluation:
    bases: list[Doc]
    pairs: list[Pair]
    shingle: int
    threshold: float
    precision: float = 0.0
    recall: float = 0.0
    # (shingle, threshold) -> (precision, recall), bands 8 x rows 1
    grid: dict[tuple[int, float], tuple[float, float]] = field(default_factory=dict)
    kinds: list[Kind] = field(default_factory=list)
    # (bands, rows) -> (precision, recall) at the default shingle and threshold
    layouts: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        """The named numbers kept as results; bench/baselines/eval_dedup.json bounds some."""
        copies = sum(1 for p in self.pairs if p.duplicate)
        return {
            "base_articles": len(self.bases),
            "pairs": len(self.pairs),
            "copy_pairs": copies,
            "non_copy_pairs": len(self.pairs) - copies,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
        }

    def details(self) -> dict[str, Any]:
        return {
            "defaults": {"shingle": self.shingle, "threshold": self.threshold},
            "by_shingle_and_threshold": [
                {"shingle": s, "threshold": t, "precision": round(p, 6), "recall": round(r, 6)}
                for (s, t), (p, r) in self.grid.items()
            ],
            "by_kind": [
                {
                    "kind": k.kind,
                    "copies": k.duplicate,
                    "pairs": k.pairs,
                    "detected": k.detected,
                    "jaccard_min": round(k.jaccard_min, 4),
                    "jaccard_max": round(k.jaccard_max, 4),
                }
                for k in self.kinds
            ],
            "by_band_layout": [
                {"bands": b, "rows": r, "precision": round(p, 6), "recall": round(rc, 6)}
                for (b, r), (p, rc) in self.layouts.items()
            ],
        }


def evaluate(data: Path) -> Evaluation:
    """Every measurement of the module docstring, on the seeds and the pages under `data`."""
    bases = load_bases(data)
    pairs = build_pairs(random.Random(20240601), bases, COPIES_PER_KIND)
    defaults = Settings.model_construct()
    result = Evaluation(bases, pairs, defaults.shingle_size, defaults.near_dup_threshold)
    judges = {}
    for shingle in SHINGLES:
        judges[shingle] = judge = Judge(params_for(shingle))
        for t in THRESHOLDS:
            precision, recall, _ = scores(judge, pairs, t)
            result.grid[(shingle, t)] = (precision, recall)

    judge = judges[result.shingle]
    result.precision, result.recall, decided = scores(judge, pairs, result.threshold)
    kinds = Counter((p.kind, p.duplicate) for p in pairs)
    for (kind, dup), count in sorted(kinds.items(), key=lambda k: (not k[0][1], k[0][0])):
        chosen = [
            (p, d)
            for p, d in zip(pairs, decided, strict=True)
            if (p.kind, p.duplicate) == (kind, dup)
        ]
        js = [judge.jaccard(p) for p, _ in chosen]
        found = sum(1 for _, d in chosen if d)
        result.kinds.append(Kind(kind, dup, count, found, min(js), max(js)))

    for bands, rows in LAYOUTS:
        layout_judge = Judge(params_for(result.shingle, bands, rows))
        precision, recall, _ = scores(layout_judge, pairs, result.threshold)
        result.layouts[(bands, rows)] = (precision, recall)
    return result


def report(result: Evaluation) -> None:
    positives = sum(1 for p in result.pairs if p.duplicate)
    print(f"{len(result.bases)} base articles: {', '.join(b.name for b in result.bases)}")
    print(
        f"{len(result.pairs)} pairs: {positives} copies, "
        f"{len(result.pairs) - positives} non-copies\n"
    )

    print("## Precision / recall by shingle size (words) and threshold (bands 8 x rows 1)\n")
    print("| shingle | " + " | ".join(f"t={t}" for t in THRESHOLDS) + " |")
    print("| --- |" + " --- |" * len(THRESHOLDS))
    for shingle in SHINGLES:
        cells = []
        for t in THRESHOLDS:
            precision, recall = result.grid[(shingle, t)]
            mark = " ✓" if precision >= 0.99 and recall >= 0.95 else ""
            cells.append(f"P {precision:.3f} R {recall:.3f}{mark}")
        print(f"| {shingle} | " + " | ".join(cells) + " |")

    print(
        f"\n## Defaults: shingle {result.shingle}, threshold {result.threshold}: "
        f"precision {result.precision:.4f}, recall {result.recall:.4f}\n"
    )
    print("| kind of pair | copies? | pairs | detected | true Jaccard min / max |")
    print("| --- | --- | ---: | ---: | --- |")
    for k in result.kinds:
        print(
            f"| {k.kind} | {'yes' if k.duplicate else 'no'} | {k.pairs} | {k.detected} "
            f"| {k.jaccard_min:.2f} / {k.jaccard_max:.2f} |"
        )

    print(f"\n## Band layouts at shingle {result.shingle}, threshold {result.threshold}\n")
    print("| bands x rows | precision | recall | band keys per document |")
    print("| --- | ---: | ---: | ---: |")
    for (bands, rows), (precision, recall) in result.layouts.items():
        print(f"| {bands} x {rows} | {precision:.4f} | {recall:.4f} | {bands} |")
    print(f"\nPython {platform.python_version()}, {platform.system()} {platform.machine()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=SHARED_DATA, help="DATA_DIR")
    gate.add_arguments(parser, NAME)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    result = evaluate(args.data)
    report(result)
    if not (args.data / ARABIC).is_dir():
        print(f"\nresults not written: {args.data / ARABIC} not found (seeds only)")
        return 1 if args.check else 0
    return gate.finish(args, NAME, result.figures(), result.details(), PACKAGES)


if __name__ == "__main__":
    raise SystemExit(main())
