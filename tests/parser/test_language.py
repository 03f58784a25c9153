from collections.abc import Iterator

import pytest

from services.parser import language
from services.parser.language import detect_language, written_in_arabic_alphabet
from tests.conftest import SEEDS
from tests.parser.conftest import PERSIAN, URDU

# Persian as older sites and some keyboards write it: with the Arabic ya and kaf.
PERSIAN_ARABIC_YA_KAF = PERSIAN.replace("\u06cc", "\u064a").replace("\u06a9", "\u0643")


def seed_samples() -> Iterator[str]:
    """Every 1,000-character window of the seeds that starts at a paragraph."""
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for start in [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]:
            if len(text) - start >= 300:
                yield text[start : start + 1000]


def test_seeds_are_arabic() -> None:
    for path in SEEDS.glob("*.txt"):
        assert detect_language(path.read_text(encoding="utf-8"))[0] == "ar"


@pytest.mark.parametrize(("text", "language"), [(PERSIAN, "fa"), (URDU, "ur")])
def test_arabic_script_languages_told_apart(text: str, language: str) -> None:
    found, probability = detect_language(text)
    assert found == language
    assert 0.0 <= probability <= 1.0


def test_persian_with_arabic_ya_and_kaf_is_still_persian() -> None:
    assert not written_in_arabic_alphabet(PERSIAN_ARABIC_YA_KAF)
    assert not written_in_arabic_alphabet(PERSIAN_ARABIC_YA_KAF.replace("\u200c", ""))
    assert detect_language(PERSIAN_ARABIC_YA_KAF)[0] == "fa"


def test_arabic_text_is_decided_by_its_alphabet_without_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_model() -> None:
        raise AssertionError("the model was asked")

    monkeypatch.setattr(language, "_identifier", no_model)
    samples = list(seed_samples())
    assert len(samples) > 20
    for sample in samples:
        assert detect_language(sample) == ("ar", 1.0)


def test_the_model_agrees_wherever_the_alphabet_decides() -> None:
    decided = [s for s in seed_samples() if written_in_arabic_alphabet(s)]
    assert decided
    for sample in decided:
        assert language._identifier().classify(sample)[0] == "ar", sample


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u062e\u0628\u0631 \u0639\u0627\u062c\u0644 " * 5, id="too-few-letters"),
        pytest.param(
            "\u0642\u0627\u0644 \u0627\u0644\u0648\u0632\u064a\u0631 " * 30 + "Reuters news " * 30,
            id="much-latin",
        ),
        pytest.param(PERSIAN, id="persian"),
        pytest.param(URDU, id="urdu"),
    ],
)
def test_the_model_decides_what_the_alphabet_cannot(text: str) -> None:
    assert not written_in_arabic_alphabet(text)
