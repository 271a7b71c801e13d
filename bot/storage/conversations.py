"""Conversation progress: a person's place in an exercise, kept between messages."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation, utcnow
from flows.engine import Progress


async def load_progress(
    session: AsyncSession, person_id: int, *, for_update: bool = False
) -> tuple[Progress, bool] | None:
    """Return the person's progress and whether it is paused, or None outside any exercise.

    With `for_update`, the row stays locked until the unit of work ends (PostgreSQL), so two
    processes never advance the same person at once.
    """
    query = select(
        Conversation.flow_id,
        Conversation.flow_version,
        Conversation.state,
        Conversation.answers,
        Conversation.language,
        Conversation.paused,
    ).where(Conversation.person_id == person_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    flow_id, version, state, answers, language, paused = row
    return Progress(flow_id, version, state, json.loads(answers), language), paused


async def save_progress(
    session: AsyncSession, person_id: int, progress: Progress | None, *, paused: bool = False
) -> None:
    """Store the person's progress; None clears it (the exercise ended or was stopped)."""
    if progress is None:
        await clear_progress(session, person_id)
        return
    values = {
        "flow_id": progress.flow_id,
        "flow_version": progress.version,
        "state": progress.state,
        "answers": json.dumps(dict(progress.answers), ensure_ascii=False),
        "language": progress.language,
        "paused": paused,
        "updated_at": utcnow(),
    }
    result = await session.execute(
        update(Conversation).where(Conversation.person_id == person_id).values(**values)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        await session.execute(insert(Conversation).values(person_id=person_id, **values))


async def set_paused(session: AsyncSession, person_id: int, paused: bool) -> bool:
    """Mark the current exercise paused or not; return whether there was one."""
    result = await session.execute(
        update(Conversation).where(Conversation.person_id == person_id).values(paused=paused)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_progress(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(Conversation).where(Conversation.person_id == person_id))
