"""Conversation progress: a person's place in an exercise, kept between messages."""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation
from flows.engine import Progress


async def load_progress(
    session: AsyncSession, person_id: int, *, for_update: bool = False
) -> tuple[Progress, bool] | None:
    """Return the person's progress and whether it is paused, or None outside any exercise.

    With `for_update`, the row stays locked until the unit of work ends (PostgreSQL), so two
    processes never advance the same person at once.
    """
    query = select(Conversation).where(Conversation.person_id == person_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        return None
    progress = Progress(
        row.flow_id, row.flow_version, row.state, json.loads(row.answers), row.language
    )
    return progress, row.paused


async def save_progress(
    session: AsyncSession, person_id: int, progress: Progress | None, *, paused: bool = False
) -> None:
    """Store the person's progress; None clears it (the exercise ended or was stopped)."""
    row = await session.get(Conversation, person_id)
    if progress is None:
        if row is not None:
            await session.delete(row)
        return
    answers = json.dumps(dict(progress.answers), ensure_ascii=False)
    if row is None:
        row = Conversation(person_id=person_id)
        session.add(row)
    row.flow_id = progress.flow_id
    row.flow_version = progress.version
    row.state = progress.state
    row.answers = answers
    row.language = progress.language
    row.paused = paused


async def set_paused(session: AsyncSession, person_id: int, paused: bool) -> bool:
    """Mark the current exercise paused or not; return whether there was one."""
    row = await session.get(Conversation, person_id)
    if row is None:
        return False
    row.paused = paused
    return True


async def clear_progress(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(Conversation).where(Conversation.person_id == person_id))
