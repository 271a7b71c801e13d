"""The periodic clean-up that enforces what /privacy promises about how long data is kept."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.storage.messages import prune_messages
from bot.storage.models import CheckIn, Conversation, SafetyEvent
from bot.storage.updates import prune_updates

logger = logging.getLogger(__name__)

DELETABLE_FOR = timedelta(hours=48)  # Telegram lets a bot delete messages for 48 hours
UPDATES_KEPT = timedelta(days=7)  # far longer than Telegram ever redelivers an update


async def clean_up(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> dict[str, int]:
    """Delete what has outlived its retention period; return how many rows of each kind."""
    async with sessions.begin() as session:
        removed = {
            "message_ids": await prune_messages(session, now - DELETABLE_FOR),
            "processed_updates": await prune_updates(session, now - UPDATES_KEPT),
            "safety_events": _count(
                await session.execute(
                    delete(SafetyEvent).where(
                        SafetyEvent.created_at
                        < now - timedelta(days=settings.safety_event_retention_days)
                    )
                )
            ),
            "check_ins": _count(
                await session.execute(
                    delete(CheckIn).where(
                        CheckIn.due_at < now - timedelta(days=settings.mood_retention_days)
                    )
                )
            ),
            "conversations": _count(
                await session.execute(
                    delete(Conversation).where(
                        Conversation.updated_at
                        < now - timedelta(days=settings.conversation_retention_days)
                    )
                )
            ),
        }
    logger.info("retention clean-up removed %s", removed)
    return removed


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
