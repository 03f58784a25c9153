"""Site furniture lines (comment forms, widgets, counters) kept as data, matched as whole lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from services.core.arabic import dedup_key, strip_marks

_REGEX_PREFIX = "re:"
# "@NAME = pattern" names a pattern that later `re:` entries use as @NAME.
_DEFINITION = re.compile(r"@([A-Z][A-Z0-9_]*)\s*=\s*(.+)")
_REFERENCE = re.compile(r"@([A-Z][A-Z0-9_]*)")


def _expand(pattern: str, names: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            raise ValueError(f"furniture pattern uses @{name} before defining it: {pattern}")
        return f"(?:{names[name]})"

    return _REFERENCE.sub(substitute, pattern)


@dataclass(frozen=True)
class FurnitureList:
    """Whole-line phrases and patterns that are never article text."""

    keys: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, text: str) -> FurnitureList:
        keys: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        names: dict[str, str] = {}
        for raw in text.splitlines():
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            if definition := _DEFINITION.fullmatch(entry):
                names[definition.group(1)] = _expand(definition.group(2), names)
            elif entry.startswith(_REGEX_PREFIX):
                patterns.append(re.compile(_expand(entry[len(_REGEX_PREFIX) :], names)))
            else:
                keys.add(dedup_key(entry))
        return cls(frozenset(keys), tuple(patterns))

    def matches(self, line: str) -> bool:
        # Patterns see the line without diacritics and tatweel, so "شارِكْ" is still "شارك".
        bare = strip_marks(line)
        if any(p.fullmatch(bare) for p in self.patterns):
            return True
        return dedup_key(line) in self.keys

    def strip(self, lines: list[str]) -> list[str]:
        return [line for line in lines if not self.matches(line)]


@cache
def default_furniture() -> FurnitureList:
    """The list shipped in `data/furniture.txt`."""
    data = files("services.parser").joinpath("data/furniture.txt").read_text(encoding="utf-8")
    return FurnitureList.parse(data)
