"""docs/settings.md and docs/cli.md are what the code says now."""

from __future__ import annotations

from services.cli.reference import CLI_DOC, SETTINGS_DOC, cli_reference, settings_reference
from services.core.settings import Settings
from tests.conftest import PROJECT

REGENERATE = "stale: run `python -m services.cli.reference` and commit the result"


def test_the_settings_reference_is_current() -> None:
    assert (PROJECT / SETTINGS_DOC).read_text(encoding="utf-8") == settings_reference(), REGENERATE


def test_the_command_reference_is_current() -> None:
    assert (PROJECT / CLI_DOC).read_text(encoding="utf-8") == cli_reference(), REGENERATE


def test_every_setting_is_described_and_listed() -> None:
    text = settings_reference()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`AKHBAR_{name.upper()}`" in text
