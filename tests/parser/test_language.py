import pytest

from services.parser.language import _SAMPLE_CHARS, detect_language
from tests.conftest import SEEDS
from tests.parser.conftest import PERSIAN, URDU


def test_seeds_are_arabic() -> None:
    for path in SEEDS.glob("*.txt"):
        assert detect_language(path.read_text(encoding="utf-8"))[0] == "ar"


@pytest.mark.parametrize(("text", "language"), [(PERSIAN, "fa"), (URDU, "ur")])
def test_arabic_script_languages_told_apart(text: str, language: str) -> None:
    found, probability = detect_language(text)
    assert found == language
    assert 0.0 <= probability <= 1.0


def test_same_scores_as_the_shipped_model() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    shipped = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt")]
    for text in [*texts, PERSIAN, URDU, "The minister met his counterpart in Doha."]:
        language, probability = shipped.classify(text[:_SAMPLE_CHARS])
        assert detect_language(text) == (language, pytest.approx(probability, abs=1e-6))
