"""Language identification with py3langid, which tells Arabic from Persian and Urdu."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.core.arabic import letters_by_alphabet

# Identification on a prefix is as reliable for news articles and bounds the cost: on the
# evaluation pages, 1,000 characters give the same decisions as whole texts (probabilities
# within 0.03) at two thirds of the cost; it was the parser service's largest single cost.
_SAMPLE_CHARS = 1000
# A sample is decided by its alphabet when it holds at least this many letters of the Arabic
# alphabet proper, none of the letters other languages add to the script, and at most one
# letter of another script for every twenty (names and acronyms in Latin letters).
_ALPHABET_MIN_LETTERS = 100
_ALPHABET_MAX_OTHER_SHARE = 20


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # The table stays float16, as shipped. Widened to float32 once, identification alone runs
    # in 0.25 ms instead of 0.40; in the worker, next to extraction, the pipeline was no
    # faster for it (paired runs within noise) and every parser held 29 MB more.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_model() -> None:
    """Load the model now: the forkserver does, so every worker shares one copy."""
    _identifier()


def written_in_arabic_alphabet(sample: str) -> bool:
    """Whether the sample is Arabic by its letters alone, with no model to ask.

    Persian, Urdu, Pashto, Kurdish and the other languages written in Arabic script each add
    letters of their own (Persian pe, che, zhe, gaf and its own kaf and ya; Urdu's tteh,
    noon ghunna, heh goal and yeh barree) that a thousand characters of their prose contain:
    on the evaluation pages, 109 such letters in the Persian sample and 257 in the Urdu one,
    none in any Arabic one (tatweel aside).
    """
    alphabet, other_arabic_script, other_script = letters_by_alphabet(sample)
    return (
        alphabet >= _ALPHABET_MIN_LETTERS
        and other_arabic_script == 0
        and other_script * _ALPHABET_MAX_OTHER_SHARE <= alphabet
    )


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and probability of the text's language.

    A sample in the Arabic alphabet alone is Arabic, with probability 1.0, without the model:
    the model costs 0.3 ms on 1,000 characters, the letters 0.01 ms, and on the texts of the
    evaluation and benchmark pages the model says Arabic for every such sample as well.
    """
    sample = text[:_SAMPLE_CHARS]
    if written_in_arabic_alphabet(sample):
        return "ar", 1.0
    lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)
