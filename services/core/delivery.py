"""Delivery bookkeeping every consuming stage shares: counts, last errors, dead letters.

A group's reader takes new messages; its claimer (a second consumer of the same group) takes
over messages another consumer left pending for longer than the claim idle time. Each claim
is a new delivery; once a message has been delivered more than `max_deliveries` times it is
published to the dead stream and acknowledged in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.core.errors import PermanentError
from services.core.messages import DeadLetter
from services.core.metrics import DEAD
from services.core.streams import Streams
from services.core.wire import DATA_FIELD, model_json

logger = logging.getLogger(__name__)

# A message's last error is kept this long for its dead letter to quote.
ERROR_TTL = 7 * 24 * 3600
# Failures no retry can fix: the payload itself is wrong.
PERMANENT = (PermanentError, ValidationError, UnicodeError)


def message_ids(raw_message: Any) -> list[str]:
    """Stream entry ids behind a FastStream message (one, or several for a batch)."""
    ids = raw_message.get("message_ids", [])
    return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]


def as_payload(body: Any) -> dict[str, Any]:
    """A message body as a dead letter keeps it: a JSON object as-is, anything else wrapped."""
    return body if isinstance(body, dict) else {"body": body}


def reason(error: BaseException) -> str:
    """An error as a delivery's last error and a dead letter quote it."""
    return f"{type(error).__name__}: {error}"


def dead_letter(
    stage: str, stream: str, message_id: str, body: Any, error: str, deliveries: int
) -> DeadLetter:
    """The dead letter of a message `stage` gives up on. `stream` is where `akhbar dead
    retry` publishes the payload again; empty for the fetcher's, whose `message_id` is the
    article's URL (retrying one means downloading it again)."""
    return DeadLetter(
        stage=stage,
        stream=stream,
        message_id=message_id,
        error=error,
        deliveries=deliveries,
        payload=as_payload(body),
    )


class Deliveries:
    """Delivery counts and last errors of one stage's input stream."""

    def __init__(self, client: Redis, streams: Streams, stage: str, stream: str, group: str):
        self._client = client
        self._streams = streams
        self.stage = stage
        self.stream = stream
        self.group = group

    def _error_key(self, message_id: str) -> str:
        return self._streams.last_error(self.stream, message_id)

    async def count(self, message_id: str) -> int:
        """How many times the group has delivered this message (1 for a fresh one)."""
        rows = await self._client.xpending_range(
            self.stream, self.group, min=message_id, max=message_id, count=1
        )
        return int(rows[0]["times_delivered"]) if rows else 1

    async def failed(self, message_id: str, error: BaseException) -> None:
        """Remember why this delivery failed; the message stays pending for a later one."""
        why = reason(error)
        await self._client.set(self._error_key(message_id), why, ex=ERROR_TTL)
        logger.warning(
            "delivery failed stage=%s stream=%s id=%s reason=%s",
            self.stage,
            self.stream,
            message_id,
            why,
        )

    async def last_error(self, message_id: str) -> str | None:
        value = await self._client.get(self._error_key(message_id))
        return str(value) if value is not None else None

    async def dead_letter(self, message_id: str, body: Any, error: str, deliveries: int) -> None:
        """Publish to the dead stream and acknowledge here, atomically."""
        letter = dead_letter(self.stage, self.stream, message_id, body, error, deliveries)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(self._streams.dead, {DATA_FIELD: model_json(letter)})
            pipe.xack(self.stream, self.group, message_id)
            pipe.delete(self._error_key(message_id))
            await pipe.execute()
        DEAD.labels(self.stage).inc()
        logger.warning(
            "dead-lettered stage=%s stream=%s id=%s url=%s deliveries=%d reason=%s",
            self.stage,
            self.stream,
            message_id,
            letter.payload.get("url"),
            deliveries,
            error,
        )

    async def refuse(
        self, message_id: str, body: Any, error: BaseException, deliveries: int
    ) -> None:
        """Dead-letter a message at once: it failed for a reason no retry can fix."""
        await self.dead_letter(message_id, body, reason(error), deliveries)

    async def exhausted(self, message_id: str, max_deliveries: int) -> int | None:
        """The delivery count if this message has used up its deliveries, else None."""
        deliveries = await self.count(message_id)
        return deliveries if deliveries > max_deliveries else None


async def guarded(
    deliveries: Deliveries,
    message_id: str,
    payload: dict[str, Any],
    work: Callable[[], Awaitable[object]],
    *,
    claimed: bool,
    max_deliveries: int,
) -> None:
    """Run one message's work with the stage's failure policy.

    A claimed message that has used up its deliveries is dead-lettered without running. A
    permanent failure is dead-lettered at once. Any other failure is recorded and re-raised,
    so the message stays pending for the claimer to deliver again.
    """
    count = await deliveries.count(message_id) if claimed else 1
    if count > max_deliveries:
        attempts = count - 1
        error = await deliveries.last_error(message_id) or "no error recorded"
        await deliveries.dead_letter(
            message_id, payload, f"gave up after {attempts} deliveries: {error}", attempts
        )
        return
    try:
        await work()
    except PERMANENT as exc:
        await deliveries.refuse(message_id, payload, exc, count)
    except Exception as exc:
        await deliveries.failed(message_id, exc)
        raise
