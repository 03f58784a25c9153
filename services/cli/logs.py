"""Logging setup for the entry points: one line per event, key=value fields."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("AKHBAR_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # FastStream logs every message received and processed; keep that for debugging only.
    logging.getLogger("faststream").setLevel(logging.WARNING)
