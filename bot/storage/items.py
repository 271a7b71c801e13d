"""Saved items: the boundaries, reflections and safety plans people choose to keep."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import SavedItem


async def add_item(
    session: AsyncSession, person_id: int, kind: str, flow_id: str, title: str, content: str
) -> SavedItem:
    item = SavedItem(person_id=person_id, kind=kind, flow_id=flow_id, title=title, content=content)
    session.add(item)
    return item


async def latest_item(session: AsyncSession, person_id: int, kind: str) -> SavedItem | None:
    """Return the newest item of a kind (e.g. the current safety plan), or None."""
    return await session.scalar(
        select(SavedItem)
        .where(SavedItem.person_id == person_id, SavedItem.kind == kind)
        .order_by(SavedItem.created_at.desc(), SavedItem.id.desc())
        .limit(1)
    )


async def list_items(session: AsyncSession, person_id: int) -> list[SavedItem]:
    rows = await session.scalars(
        select(SavedItem).where(SavedItem.person_id == person_id).order_by(SavedItem.id)
    )
    return list(rows)
