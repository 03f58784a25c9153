"""A module the test program `pool_main` imports, and the function its workers run."""

from __future__ import annotations

import os

IMPORTED_IN = os.getpid()


def where_imported(items: list[object]) -> list[str]:
    """Which process imported this module, and which process runs this call."""
    return [f"{IMPORTED_IN} {os.getpid()}" for _ in items]
