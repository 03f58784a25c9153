"""Copies and non-copies of real articles, for the near-duplicate evaluation.

Copies (should be found): what happens to a story republished by another site. A new
dateline; a paragraph dropped; one paragraph added (a typical news paragraph, 15 to 60 words,
from another article); another site's boilerplate lines at the top or bottom; light edits
(typos in a few words, diacritics, punctuation, alef/ya/ta marbuta spelling); and all of those
combined.

Non-copies (should not be found): distinct articles, including the two seeds, which cover the
same story; and splices that share text without being the same article: an article with one
or two paragraphs of another in it, against that other; an article's two halves; the two
halves each after the same lead paragraph.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITIES = ["القاهرة", "الدوحة", "بيروت", "دبي", "الرياض", "عمان", "تونس", "الرباط", "بغداد"]
AGENCIES = ["(رويترز)", "(أ ف ب)", "(الأناضول)", "(واس)", "(قنا)", "(د ب أ)", "(سبوتنيك)"]
BOILERPLATE = [
    "تابعونا على تويتر وفيسبوك للمزيد من الأخبار العاجلة",
    "اقرأ أيضا: آخر مستجدات الأوضاع في المنطقة",
    "جميع الحقوق محفوظة © 2024",
    "اشترك في النشرة البريدية ليصلك كل جديد",
    "شارك هذا المقال",
    "المصدر: وكالات",
    "حمّل تطبيق الموقع على هاتفك المحمول",
    "لمتابعة آخر الأخبار انضم إلى قناتنا على تيليجرام",
    "نشر في: الأحد 12 مايو 2024 - 10:35 ص",
    "تحرير: قسم الأخبار",
]
DIACRITICS = ["\u064e", "\u064f", "\u0650", "\u0652", "\u064b", "\u0651"]
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
SPELLING = {"ا": "أ", "أ": "ا", "إ": "ا", "ي": "ى", "ى": "ي", "ة": "ه", "ه": "ة"}
PUNCTUATION = {"،": ",", ",": "،", ".": "", "؟": "?", "\u201c": '"', "\u201d": '"'}


@dataclass(frozen=True)
class Doc:
    name: str
    text: str


@dataclass(frozen=True)
class Pair:
    a: Doc
    b: Doc
    duplicate: bool
    kind: str


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def joined(paras: list[str]) -> str:
    return "\n".join(paras)


def dateline(rng: random.Random, paras: list[str]) -> list[str]:
    line = f"{rng.choice(CITIES)} - {rng.choice(AGENCIES)} -"
    if rng.random() < 0.5:
        return [line, *paras]
    return [f"{line} {paras[0]}", *paras[1:]]


def drop_paragraph(rng: random.Random, paras: list[str]) -> list[str]:
    if len(paras) < 3:
        return paras
    gone = rng.randrange(len(paras))
    return [p for n, p in enumerate(paras) if n != gone]


def add_paragraph(rng: random.Random, paras: list[str], pool: list[str]) -> list[str]:
    fitting = [p for p in pool if 15 <= len(p.split()) <= 60] or pool
    at = rng.randrange(1, len(paras) + 1)
    return [*paras[:at], rng.choice(fitting), *paras[at:]]


def boilerplate(rng: random.Random, paras: list[str]) -> list[str]:
    lines = rng.sample(BOILERPLATE, rng.randint(1, 3))
    cut = rng.randint(0, len(lines))
    return [*lines[:cut], *paras, *lines[cut:]]


def _edit_word(rng: random.Random, word: str) -> str:
    roll = rng.random()
    if roll < 0.3 and len(word) > 3:  # typo: a letter replaced, dropped or swapped
        i = rng.randrange(1, len(word) - 1)
        how = rng.randrange(3)
        if how == 0:
            return word[:i] + rng.choice(LETTERS) + word[i + 1 :]
        if how == 1:
            return word[:i] + word[i + 1 :]
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if roll < 0.55:  # diacritics
        i = rng.randrange(len(word))
        return word[: i + 1] + rng.choice(DIACRITICS) + word[i + 1 :]
    if roll < 0.8:  # spelling variants of alef, ya, ta marbuta
        return "".join(SPELLING.get(c, c) if rng.random() < 0.5 else c for c in word)
    return "".join(PUNCTUATION.get(c, c) for c in word) + rng.choice(["", "،", "."])


def light_edits(rng: random.Random, paras: list[str], rate: float = 0.08) -> list[str]:
    out = []
    for para in paras:
        words = [_edit_word(rng, w) if rng.random() < rate else w for w in para.split()]
        out.append(" ".join(words))
    return out


def variants(rng: random.Random, base: Doc, pool: list[str], each: int) -> list[tuple[str, Doc]]:
    """`each` copies of every kind of one base article."""
    paras = paragraphs(base.text)
    found: list[tuple[str, Doc]] = []
    for n in range(each):
        made = {
            "dateline": dateline(rng, paras),
            "dropped paragraph": drop_paragraph(rng, paras),
            "added paragraph": add_paragraph(rng, paras, pool),
            "boilerplate": boilerplate(rng, paras),
            "light edits": light_edits(rng, paras),
            "all combined": light_edits(
                rng,
                boilerplate(
                    rng,
                    dateline(
                        rng,
                        drop_paragraph(rng, paras)
                        if rng.random() < 0.5
                        else add_paragraph(rng, paras, pool),
                    ),
                ),
            ),
        }
        for kind, new in made.items():
            if new != paras:
                found.append((kind, Doc(f"{base.name}/{kind}/{n}", joined(new))))
    return found


def splices(rng: random.Random, bases: list[Doc]) -> list[Pair]:
    """Pairs of different articles that share some text."""
    pairs = []
    for a in bases:
        pa = paragraphs(a.text)
        for b in bases:
            if a is b:
                continue
            pb = paragraphs(b.text)
            at = rng.randrange(1, len(pa) + 1)
            one = Doc(f"{a.name}+1p({b.name})", joined([*pa[:at], rng.choice(pb), *pa[at:]]))
            pairs.append(Pair(one, b, False, "shares one paragraph"))
            if len(pb) >= 6 and len(pa) >= 4:
                two = rng.sample(pb, 2)
                text = joined([*pa[:at], *two, *pa[at:]])
                pairs.append(Pair(Doc(f"{a.name}+2p({b.name})", text), b, False, "shares two"))
            lead = Doc(f"{b.name}/lead({a.name})", joined([pa[0], *pb[1:]]))
            pairs.append(Pair(lead, a, False, "shares the lead paragraph"))
    for a in bases:
        pa = paragraphs(a.text)
        if len(pa) >= 6:
            half = len(pa) // 2
            first, second = Doc(f"{a.name}/h1", joined(pa[:half])), joined(pa[half:])
            pairs.append(Pair(first, Doc(f"{a.name}/h2", second), False, "two halves"))
            led = Doc(f"{a.name}/lead+h2", joined([pa[0], *pa[half:]]))
            pairs.append(Pair(first, led, False, "two halves, same lead"))
    return pairs


def build_pairs(rng: random.Random, bases: list[Doc], each: int) -> list[Pair]:
    pool = [p for doc in bases for p in paragraphs(doc.text)]
    pairs: list[Pair] = []
    made: dict[str, list[Doc]] = {}
    for base in bases:
        others = [p for doc in bases if doc is not base for p in paragraphs(doc.text)]
        copies = variants(rng, base, others or pool, each)
        made[base.name] = [d for _, d in copies]
        pairs += [Pair(base, doc, True, kind) for kind, doc in copies]
        for _ in range(each * 2):
            x, y = rng.sample(made[base.name], 2)
            pairs.append(Pair(x, y, True, "copy of a copy"))
    for i, a in enumerate(bases):
        for b in bases[i + 1 :]:
            pairs.append(Pair(a, b, False, "distinct articles"))
            for _ in range(each):
                x, y = rng.choice(made[a.name]), rng.choice(made[b.name])
                pairs.append(Pair(x, y, False, "copies of distinct articles"))
    return pairs + splices(rng, bases)
