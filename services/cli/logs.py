"""Logging setup for the entry points: one line per event, key=value fields."""

from __future__ import annotations

import logging

from services.core.broker import FASTSTREAM_LOGGER


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # FastStream logs every message received and processed, and each subscriber task it
    # reaps at shutdown, at INFO: detail for debugging, not events a user acts on.
    quiet = max(logging.WARNING, logging.getLogger().level)
    logging.getLogger("faststream").setLevel(quiet)
    logging.getLogger(FASTSTREAM_LOGGER).setLevel(quiet)
