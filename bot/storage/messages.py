"""Recent message ids per chat (never content), so /hide can delete them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ChatMessage


async def remember_messages(
    session: AsyncSession, person_id: int, chat_id: int, message_ids: Iterable[int]
) -> None:
    session.add_all(
        ChatMessage(person_id=person_id, chat_id=chat_id, message_id=message_id)
        for message_id in message_ids
    )


async def recent_message_ids(
    session: AsyncSession, person_id: int, since: datetime
) -> list[tuple[int, int]]:
    """Return (chat_id, message_id) pairs sent since `since`, oldest first."""
    rows = await session.execute(
        select(ChatMessage.chat_id, ChatMessage.message_id)
        .where(ChatMessage.person_id == person_id, ChatMessage.sent_at >= since)
        .order_by(ChatMessage.id)
    )
    return [(chat_id, message_id) for chat_id, message_id in rows]


async def forget_messages(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(ChatMessage).where(ChatMessage.person_id == person_id))


async def prune_messages(session: AsyncSession, before: datetime) -> int:
    """Drop ids Telegram no longer lets the bot delete anyway; return how many."""
    result = await session.execute(delete(ChatMessage).where(ChatMessage.sent_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
