"""Arabic text helpers: faithful cleaning for the corpus, aggressive folding for dedup keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

# Zero-width and bidi controls, soft hyphen, BOM: invisible in print, noise in a corpus. So are
# the C0/C1 control characters that are not whitespace (those become spaces below), which
# pages converted from legacy charsets still carry.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
)
# Unicode spaces other than the newline that separates paragraphs.
_SPACES = re.compile(r"[^\S\n]+")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")

# Folding applied only to dedup keys, never to the stored text.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = (
    ("\u0623", "\u0627"),  # alef with hamza above
    ("\u0625", "\u0627"),  # alef with hamza below
    ("\u0622", "\u0627"),  # alef with madda
    ("\u0671", "\u0627"),  # alef wasla
    ("\u0649", "\u064a"),  # alef maqsura -> ya
    ("\u0629", "\u0647"),  # ta marbuta -> ha
    *((chr(0x0660 + d), str(d)) for d in range(10)),  # Arabic-Indic digits
    *((chr(0x06F0 + d), str(d)) for d in range(10)),  # extended (Persian) digits
)
_KEY_JUNK = re.compile(r"[^\w\s]|_", re.UNICODE)


def fold_presentation_forms(text: str) -> str:
    """Map Arabic presentation forms (legacy glyph codepoints) to the letters they draw."""
    return _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def clean_line(line: str) -> str:
    """One line, faithful to its text: invisible controls gone, spaces collapsed."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()


def clean_text(text: str) -> str:
    """Corpus text: NFC, presentation forms folded, one paragraph per line, diacritics kept."""
    text = unicodedata.normalize("NFC", fold_presentation_forms(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (clean_line(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def strip_marks(text: str) -> str:
    """The text without Arabic diacritics and tatweel, letters otherwise untouched."""
    return _DIACRITICS.sub("", text)


def dedup_key(text: str) -> str:
    """The aggressive normal form two copies of one story share despite spelling variants."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text)
    # One replace per letter is twenty times faster than str.translate on non-ASCII text;
    # no replacement produces a letter another one replaces, so their order does not matter.
    for letter, folded in _FOLD:
        if letter in text:
            text = text.replace(letter, folded)
    text = _KEY_JUNK.sub(" ", text.casefold())
    return " ".join(text.split())


def content_hash(text: str) -> str:
    return hashlib.sha256(dedup_key(text).encode("utf-8")).hexdigest()


# Which code points of the Basic Multilingual Plane are letters, and which of those are
# letters of the Arabic block: counting through these tables is ten times faster than a
# regex scan plus a Python-level test of each character.
_BMP = 0x10000
_LETTERS = np.fromiter((chr(c).isalpha() for c in range(_BMP)), dtype=bool, count=_BMP)
_ARABIC_LETTERS = np.zeros(_BMP, dtype=bool)
_ARABIC_LETTERS[0x0600:0x0700] = _LETTERS[0x0600:0x0700]


def _code_points(text: str) -> np.ndarray:
    """The text's code points as an array, for counting through the tables above."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


# The Arabic alphabet proper: hamza and its seats, the 28 letters, ta marbuta, alef maqsura.
_ALPHABET_RANGES = ((0x0621, 0x063B), (0x0641, 0x064B))
# Where the letters other languages add to the Arabic script live (Persian pe, che, zhe, gaf
# and its own kaf and ya; Urdu's tteh, noon ghunna, heh goal and yeh barree; Pashto, Kurdish,
# Sindhi, Uyghur, ...), and presentation forms, which could draw any of them.
_ARABIC_SCRIPT_RANGES = (
    (0x0600, 0x0700),
    (0x0750, 0x0780),
    (0x0870, 0x0900),
    (0xFB50, 0xFE00),
    (0xFE70, 0xFF00),
)
_TATWEEL = 0x0640  # a letter to Unicode, a stretch of the line to a reader: counted as neither
_ZWNJ = 0x200C  # Persian spelling joins word parts with it; Arabic has no use for it
_IN_ALPHABET, _OTHER_ARABIC_SCRIPT, _OTHER_SCRIPT = 1, 2, 3
_LETTER_CLASS = np.zeros(_BMP, dtype=np.uint8)
_LETTER_CLASS[_LETTERS] = _OTHER_SCRIPT
for _low, _high in _ARABIC_SCRIPT_RANGES:
    _LETTER_CLASS[_low:_high][_LETTERS[_low:_high]] = _OTHER_ARABIC_SCRIPT
for _low, _high in _ALPHABET_RANGES:
    _LETTER_CLASS[_low:_high] = _IN_ALPHABET
_LETTER_CLASS[_TATWEEL] = 0
_LETTER_CLASS[_ZWNJ] = _OTHER_ARABIC_SCRIPT


def letters_by_alphabet(text: str) -> tuple[int, int, int]:
    """How many letters of the text are of the Arabic alphabet proper, of the letters other
    languages add to the Arabic script (Persian's zero-width non-joiner counted with them),
    and of other scripts. Letters beyond the Basic Multilingual Plane are not counted."""
    codes = _code_points(text)
    counts = np.bincount(_LETTER_CLASS[codes[codes < _BMP]], minlength=4)
    return (
        int(counts[_IN_ALPHABET]),
        int(counts[_OTHER_ARABIC_SCRIPT]),
        int(counts[_OTHER_SCRIPT]),
    )


def arabic_ratio(text: str) -> float:
    """Share of letters that are Arabic-script letters."""
    codes = _code_points(text)
    beyond = codes >= _BMP
    if beyond.any():
        # Rare (emoji, mathematical letters): those few are tested one by one.
        extra = sum(chr(code).isalpha() for code in codes[beyond].tolist())
        codes = codes[~beyond]
    else:
        extra = 0
    letters = int(_LETTERS[codes].sum()) + extra
    if not letters:
        return 0.0
    return round(int(_ARABIC_LETTERS[codes].sum()) / letters, 4)


def word_count(text: str) -> int:
    return len(text.split())
