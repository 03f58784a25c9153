import pytest

from services.parser.language import detect_language
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
