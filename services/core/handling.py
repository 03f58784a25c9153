"""What a consuming stage does with a failure: retry it later or dead-letter it now."""

from __future__ import annotations

import logging
from typing import Any

from faststream.redis import RedisBroker
from pydantic import ValidationError

from services.core.errors import PermanentError
from services.core.messages import DeadLetter

logger = logging.getLogger(__name__)

# Failures no retry can fix: the payload itself is wrong.
PERMANENT = (PermanentError, ValidationError, UnicodeError)


def message_ids(raw_message: Any) -> list[str]:
    """Stream entry ids behind a FastStream message (one, or several for a batch)."""
    return [
        i.decode() if isinstance(i, bytes) else str(i) for i in raw_message.get("message_ids", [])
    ]


async def dead_letter(
    broker: RedisBroker,
    dead_stream: str,
    *,
    stage: str,
    stream: str,
    message_id: str,
    error: BaseException | str,
    deliveries: int,
    payload: dict[str, Any],
) -> None:
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    letter = DeadLetter(
        stage=stage,
        stream=stream,
        message_id=message_id,
        error=reason,
        deliveries=deliveries,
        payload=payload,
    )
    await broker.publish(letter, stream=dead_stream)
    logger.warning(
        "dead-lettered stage=%s stream=%s id=%s url=%s reason=%s",
        stage,
        stream,
        message_id,
        payload.get("url"),
        reason,
    )
