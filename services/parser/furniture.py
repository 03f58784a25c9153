"""Site furniture lines (comment forms, widgets, counters) kept as data, matched as whole lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from services.core.arabic import dedup_key

_REGEX_PREFIX = "re:"


@dataclass(frozen=True)
class FurnitureList:
    """Whole-line phrases and patterns that are never article text."""

    keys: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, text: str) -> FurnitureList:
        keys: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for raw in text.splitlines():
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            if entry.startswith(_REGEX_PREFIX):
                patterns.append(re.compile(entry[len(_REGEX_PREFIX) :]))
            else:
                keys.add(dedup_key(entry))
        return cls(frozenset(keys), tuple(patterns))

    def matches(self, line: str) -> bool:
        if any(p.fullmatch(line) for p in self.patterns):
            return True
        return dedup_key(line) in self.keys

    def strip(self, lines: list[str]) -> list[str]:
        return [line for line in lines if not self.matches(line)]


@cache
def default_furniture() -> FurnitureList:
    """The list shipped in `data/furniture.txt`."""
    data = files("services.parser").joinpath("data/furniture.txt").read_text(encoding="utf-8")
    return FurnitureList.parse(data)
