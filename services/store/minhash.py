"""MinHash of word shingles: LSH band keys to find candidates, a small sketch to check them.

A text's words are those of its dedup key; every run of `shingle_size` words is a shingle,
hashed to 64 bits. `perm` random multiply-add permutations of those hashes give `perm`
min-hashes (the top 32 bits of each minimum). Two compact things come out of them:

- band keys: `bands` 8-byte digests, each over `rows` consecutive min-hashes. Two texts that
  share one band key are candidates (LSH);
- a sketch: the low 4 bits of every min-hash, packed two per byte (b-bit minwise hashing), so
  `perm / 2` bytes from which the Jaccard similarity of two candidates is estimated.

Neither keeps the full signature, which is what holds the Redis index to a few hundred bytes
per document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from services.core.errors import ConfigError
from services.core.settings import Settings

# Two 4-bit values agree by chance once in 16.
_CHANCE = 1 / 16
# Odd 64-bit constants that weight the words of a shingle by position.
_POSITION = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0x27D4EB2F165667C5,
        0x85EBCA77C2B2AE63,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0xD6E8FEB86659FD93,
    ],
    dtype=np.uint64,
)
_ROWS = 1024


@dataclass(frozen=True)
class MinHashParams:
    """What a signature is made of; changing any of these needs `akhbar reindex`."""

    shingle_size: int = 3
    perm: int = 128
    bands: int = 8
    rows: int = 1
    seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.shingle_size <= len(_POSITION):
            raise ConfigError(f"shingle size must be 1 to {len(_POSITION)}")
        if self.perm % 2 or not 2 <= self.perm <= 128:
            raise ConfigError("minhash_perm must be even and at most 128 (a 64-byte sketch)")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.perm:
            raise ConfigError("minhash_bands x minhash_rows must be at most minhash_perm")

    @classmethod
    def from_settings(cls, settings: Settings) -> MinHashParams:
        return cls(
            shingle_size=settings.shingle_size,
            perm=settings.minhash_perm,
            bands=settings.minhash_bands,
            rows=settings.minhash_rows,
        )


@dataclass(frozen=True)
class Signature:
    """A text's LSH band keys and its similarity sketch."""

    bands: tuple[bytes, ...]
    sketch: bytes

    def shares_band(self, other: Signature) -> bool:
        return any(a == b for a, b in zip(self.bands, other.bands, strict=True))


def estimate_similarity(sketch: bytes, other: bytes) -> float:
    """Estimated Jaccard similarity of two texts from their sketches (the Lua script's twin)."""
    x = np.frombuffer(sketch, dtype=np.uint8)
    y = np.frombuffer(other, dtype=np.uint8)
    same = int(np.count_nonzero((x & 15) == (y & 15))) + int(np.count_nonzero((x >> 4) == (y >> 4)))
    return max(0.0, (same / (2 * len(x)) - _CHANCE) / (1 - _CHANCE))


class MinHasher:
    """Signatures of dedup keys. Not thread-safe: it reuses one scratch buffer."""

    def __init__(self, params: MinHashParams) -> None:
        self.params = params
        rng = np.random.default_rng(params.seed)
        self._mul = (rng.integers(0, 2**63, size=(1, params.perm), dtype=np.uint64) << 1) | 1
        self._add = rng.integers(0, 2**63, size=(1, params.perm), dtype=np.uint64) << 1
        self._scratch = np.empty((_ROWS, params.perm), dtype=np.uint64)

    def shingle_hashes(self, key: str) -> np.ndarray:
        """64-bit hashes of the key's word shingles (one shingle if it is short), with repeats."""
        words = key.encode("utf-8").split()
        if not words:
            return np.empty(0, dtype=np.uint64)
        hashes = np.fromiter(map(xxhash.xxh64_intdigest, words), dtype=np.uint64, count=len(words))
        width = min(self.params.shingle_size, len(words))
        count = len(words) - width + 1
        mixed: np.ndarray = hashes[:count] * _POSITION[0]
        for offset in range(1, width):
            mixed += hashes[offset : offset + count] * _POSITION[offset]
        # splitmix64's finaliser, so shingles sharing words still get unrelated hashes
        mixed ^= mixed >> 30
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> 27
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> 31
        return mixed

    def shingles(self, key: str) -> np.ndarray:
        """The distinct shingle hashes of a key."""
        distinct: np.ndarray = np.unique(self.shingle_hashes(key))
        return distinct

    def _minima(self, shingles: np.ndarray) -> np.ndarray:
        # Written into a preallocated buffer: fresh temporaries cost more than the arithmetic.
        lowest = np.full(self.params.perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        for start in range(0, len(shingles), _ROWS):
            chunk = shingles[start : start + _ROWS, None]
            out = self._scratch[: len(chunk)]
            np.multiply(chunk, self._mul, out=out)
            np.add(out, self._add, out=out)
            np.minimum(lowest, out.min(axis=0), out=lowest)
        return (lowest >> 32).astype(np.uint32)

    def signature(self, key: str) -> Signature | None:
        """The signature of a dedup key; None when it has no words."""
        shingles = self.shingle_hashes(key)  # a repeated shingle does not change a minimum
        if not len(shingles):
            return None
        minima = self._minima(shingles)
        rows = self.params.rows
        bands = tuple(
            xxhash.xxh64_digest(minima[j * rows : (j + 1) * rows].tobytes(), seed=j)
            for j in range(self.params.bands)
        )
        nibbles = (minima & 15).astype(np.uint8)
        sketch = ((nibbles[0::2] << 4) | nibbles[1::2]).astype(np.uint8).tobytes()
        return Signature(bands, sketch)
