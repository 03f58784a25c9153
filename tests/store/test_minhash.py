import random

import pytest

from services.core.arabic import dedup_key
from services.core.errors import ConfigError
from services.store.minhash import MinHasher, MinHashParams, estimate_similarity
from tests.store.factory import republished, seed_texts


def jaccard(hasher: MinHasher, a: str, b: str) -> float:
    x = set(hasher.shingles(dedup_key(a)).tolist())
    y = set(hasher.shingles(dedup_key(b)).tolist())
    return len(x & y) / len(x | y)


def test_signatures_are_the_same_in_every_process() -> None:
    text, _ = seed_texts()
    one, two = MinHasher(MinHashParams()), MinHasher(MinHashParams())
    assert one.signature(dedup_key(text)) == two.signature(dedup_key(text))
    assert one.signature("") is None
    signature = one.signature(dedup_key(text))
    assert signature is not None
    assert len(signature.bands) == 8
    assert {len(b) for b in signature.bands} == {8}
    assert len(signature.sketch) == 64


def test_estimate_follows_the_jaccard_similarity_of_shingles() -> None:
    first, second = seed_texts()
    hasher = MinHasher(MinHashParams())
    rng = random.Random(5)
    pairs = [(first, republished(first, rng)), (first, second), (second, republished(second, rng))]
    pairs.append((first, "\n".join(first.split("\n")[: len(first.split("\n")) // 2])))
    for a, b in pairs:
        sa, sb = hasher.signature(dedup_key(a)), hasher.signature(dedup_key(b))
        assert sa is not None
        assert sb is not None
        assert abs(estimate_similarity(sa.sketch, sb.sketch) - jaccard(hasher, a, b)) < 0.15
    assert estimate_similarity(b"\x12" * 64, b"\x12" * 64) == 1.0


def test_spelling_variants_share_every_shingle() -> None:
    hasher = MinHasher(MinHashParams())
    assert jaccard(hasher, "قالت الأمم المتحدة إن", "قالت الامم المتحده ان") == 1.0
    assert len(hasher.shingles("a b")) == 1  # shorter than one shingle: the whole key


@pytest.mark.parametrize(
    "params",
    [
        {"shingle_size": 0},
        {"shingle_size": 9},
        {"perm": 130},
        {"perm": 63},
        {"bands": 40, "rows": 4},
        {"bands": 0},
    ],
)
def test_impossible_parameters_are_refused(params: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        MinHashParams(**params)
