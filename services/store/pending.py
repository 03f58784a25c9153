"""A restarted consumer's own pending entries, handled before it reads new ones.

FastStream's group reader only asks for new entries (`>`); the entries a killed process had
read but not acknowledged stay pending under its consumer name. A store restarted with the
same name (`AKHBAR_CONSUMER_NAME`) finds them here by reading its history (id `0` onwards).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from services.core.wire import DATA_FIELD

logger = logging.getLogger(__name__)

# Handles a batch: the decoded bodies (None for one that is not JSON) and their entry ids.
BatchHandler = Callable[[list[Any], list[str]], Awaitable[None]]


def _decode(fields: dict[str, str] | None) -> Any:
    if not fields or DATA_FIELD not in fields:
        return None
    try:
        return json.loads(fields[DATA_FIELD])
    except ValueError:
        return None


async def recover_pending(
    client: Redis, stream: str, group: str, consumer: str, count: int, handle: BatchHandler
) -> int:
    """Hand this consumer's pending entries to `handle` in batches, acknowledging each batch
    once it returns; returns how many were handled.

    A batch that fails stays pending and ends the recovery (logged): the service starts
    anyway, and the claimer, which counts deliveries, takes those entries over later. A
    failure here must not keep the service from starting again and again.
    """
    cursor = "0"
    total = 0
    while True:
        reply: Any = await client.xreadgroup(group, consumer, {stream: cursor}, count=count)
        entries: list[tuple[str, dict[str, str] | None]] = reply[0][1] if reply else []
        if not entries:
            break
        ids = [entry_id for entry_id, _ in entries]
        try:
            await handle([_decode(fields) for _, fields in entries], ids)
        except Exception as exc:
            logger.warning(
                "pending recovery stopped stream=%s consumer=%s first_id=%s reason=%s: %s",
                stream,
                consumer,
                ids[0],
                type(exc).__name__,
                exc,
            )
            break
        await client.xack(stream, group, *ids)
        cursor = ids[-1]
        total += len(ids)
    if total:
        logger.info(
            "pending entries recovered stream=%s consumer=%s count=%d", stream, consumer, total
        )
    return total
