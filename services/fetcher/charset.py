"""Bytes to text: the declared charset first, detection only when nothing is declared."""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_PROLOG = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_HEADER = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Where an Arabic page declares nothing and is not UTF-8, windows-1256 is by far the likeliest.
FALLBACK = "windows-1256"
# Arabic sites often declare one legacy charset and serve the other; when the declared one
# cannot decode the bytes, the other is tried before falling back to replacement characters.
_MISLABELLED = {"iso8859-6": ("cp1256",), "cp1256": ("iso8859-6",)}


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset the bytes declare: BOM, then HTTP header, then XML prolog or `<meta>`."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    header = _HEADER.search(content_type or "")
    if header and (known := _known(header.group(1))):
        return known
    head = data[:4096]
    for pattern in (_XML_PROLOG, _META):
        if (found_bytes := pattern.search(head)) and (
            known := _known(found_bytes.group(1).decode("ascii", "replace"))
        ):
            return known
    return None


def decode_body(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Text and the charset used to decode it."""
    charset = declared_charset(data, content_type)
    if charset:
        candidates = [charset, *_MISLABELLED.get(charset, ())]
        for candidate in candidates:
            try:
                return data.decode(candidate).removeprefix("\ufeff"), candidate
            except UnicodeDecodeError:
                continue
        return data.decode(charset, errors="replace").removeprefix("\ufeff"), charset
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode(FALLBACK, errors="replace"), FALLBACK
