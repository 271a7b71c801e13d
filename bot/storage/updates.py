"""Processed updates: Telegram may deliver an update twice; it must act only once."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedUpdate


class Delivery(enum.Enum):
    """What a claim found: a new update, one whose reply went out, or one still in hand."""

    NEW = "new"
    REPLIED = "replied"
    PENDING = "pending"


async def claim_update(session: AsyncSession, update_id: int | None) -> Delivery:
    """Claim an update inside the unit of work that acts on it, so both commit together.

    One round trip in the common case: insert unless present, and see whether it was.
    """
    if update_id is None:
        return Delivery.NEW
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ProcessedUpdate)
        .values(update_id=update_id, replied=False)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    if (await session.execute(statement)).first() is not None:
        return Delivery.NEW
    replied = await session.scalar(
        select(ProcessedUpdate.replied).where(ProcessedUpdate.update_id == update_id)
    )
    return Delivery.REPLIED if replied else Delivery.PENDING


async def was_replied(session: AsyncSession, update_id: int | None) -> bool:
    """Return whether the replies to this update already went out (a read, no claim)."""
    if update_id is None:
        return False
    replied = await session.scalar(
        select(ProcessedUpdate.replied).where(ProcessedUpdate.update_id == update_id)
    )
    return bool(replied)


async def mark_replied(session: AsyncSession, update_ids: Iterable[int]) -> None:
    ids = list(update_ids)
    if ids:
        await session.execute(
            update(ProcessedUpdate).where(ProcessedUpdate.update_id.in_(ids)).values(replied=True)
        )


async def prune_updates(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
