"""A module the test program `pool_main` imports, and the function its workers run."""

from __future__ import annotations

import os

from services.parser.extract import Extracted

IMPORTED_IN = os.getpid()


def where_imported(html: str, url: str | None = None) -> Extracted:
    """Which process imported this module, and which process runs this call."""
    return Extracted(text=f"{IMPORTED_IN} {os.getpid()}")
