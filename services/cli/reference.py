"""The settings and command references in `docs/`, generated from `Settings` and the `akhbar`
command itself, so they cannot drift: `python -m services.cli.reference` writes them, and a
test fails when the committed files differ from what this module makes."""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any

import typer
import typer.cli
import typer.main
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from services.core.settings import Settings

SETTINGS_DOC = Path("docs/settings.md")
CLI_DOC = Path("docs/cli.md")

_SETTINGS_HEAD = """# Settings

Every setting is an `AKHBAR_*` environment variable, or a line of a `.env` file in the
working directory; command-line flags override them. Lists are JSON (`AKHBAR_LANGUAGES='["ar"]'`).
This page is generated from `services/core/settings.py` by `python -m services.cli.reference`.

| variable | default | meaning |
| --- | --- | --- |
"""

_CLI_HEAD = """<!-- Generated from the `akhbar` command by `python -m services.cli.reference`. -->

"""


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and value >= 1024 * 1024 and value % (1024 * 1024) == 0:
        return f"{value // (1024 * 1024)} MiB"
    if isinstance(value, list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def settings_reference() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(f"| `AKHBAR_{name.upper()}` | {_default(field)} | {meaning} |")
    return _SETTINGS_HEAD + "\n".join(rows) + "\n"


def cli_reference() -> str:
    from services.cli.main import app

    command = typer.main.get_command(app)
    text = typer.cli.get_docs_for_click(
        obj=command, ctx=typer.Context(command), name="akhbar", title="Commands"
    )
    # Typer escapes quotes for HTML; these pages are read as Markdown source too.
    lines = [line.rstrip() for line in html.unescape(text).splitlines()]
    return _CLI_HEAD + "\n".join(lines).strip() + "\n"


def write(root: Path) -> list[Path]:
    """Write both references under the project root `root`; the paths written."""
    written = []
    for path, text in ((SETTINGS_DOC, settings_reference()), (CLI_DOC, cli_reference())):
        (root / path).write_text(text, encoding="utf-8")
        written.append(root / path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()):
        print(f"wrote {path}")
