"""Processed updates: Telegram may deliver an update twice; it must act only once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedUpdate


class Delivery(enum.Enum):
    """What a claim found: a new update, one whose reply went out, or one still in hand."""

    NEW = "new"
    REPLIED = "replied"
    PENDING = "pending"


async def claim_update(session: AsyncSession, update_id: int | None) -> Delivery:
    """Claim an update inside the unit of work that acts on it, so both commit together."""
    if update_id is None:
        return Delivery.NEW
    seen = await session.get(ProcessedUpdate, update_id)
    if seen is not None:
        return Delivery.REPLIED if seen.replied else Delivery.PENDING
    session.add(ProcessedUpdate(update_id=update_id, replied=False))
    await session.flush()
    return Delivery.NEW


async def mark_replied(session: AsyncSession, update_id: int) -> None:
    await session.execute(
        update(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id).values(replied=True)
    )


async def prune_updates(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
