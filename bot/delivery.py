"""Delivery records written in batches: which updates were answered, and new message ids.

Recording each reply in its own transaction would double the database work per update, so
records wait here (a few hundred milliseconds at most) and go in together. A crash loses at
most that short tail: a redelivered update then re-shows the person's current step instead of
nothing, and /hide misses the ids of the last few messages.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import ChatMessage, Person
from bot.storage.updates import mark_replied

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
FLUSH_COUNT = 500


@dataclass(frozen=True)
class Delivered:
    """One answered update: whose, in which chat, and the ids of the messages involved."""

    telegram_id: int
    chat_id: int
    update_id: int | None
    message_ids: tuple[int, ...]


class DeliveryLog:
    """Collects delivery records and writes them in one transaction per batch."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[Delivered] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add(self, record: Delivered) -> None:
        self._pending.append(record)
        if len(self._pending) >= FLUSH_COUNT:
            self._schedule(0)
        elif self._task is None or self._task.done():
            self._schedule(FLUSH_SECONDS)

    def _schedule(self, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await self.flush()

        self._task = asyncio.get_running_loop().create_task(later())

    async def flush(self) -> None:
        """Write everything pending now (before /hide reads the ids, and at shutdown)."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                async with self._sessions.begin() as session:
                    await _write(session, batch)
            except (SQLAlchemyError, OSError) as error:
                logger.warning("lost %d delivery records (%s)", len(batch), type(error).__name__)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self.flush()


async def _write(session: AsyncSession, batch: list[Delivered]) -> None:
    await mark_replied(session, (r.update_id for r in batch if r.update_id is not None))
    telegram_ids = {record.telegram_id for record in batch if record.message_ids}
    if not telegram_ids:
        return
    # People who used /forget in the meantime are gone: their ids are simply not written.
    rows = await session.execute(
        select(Person.telegram_id, Person.id).where(Person.telegram_id.in_(telegram_ids))
    )
    person_of = {telegram_id: person_id for telegram_id, person_id in rows}
    values = [
        {"person_id": person_of[record.telegram_id], "chat_id": record.chat_id, "message_id": m}
        for record in batch
        if record.telegram_id in person_of
        for m in record.message_ids
    ]
    if values:
        await session.execute(insert(ChatMessage), values)
