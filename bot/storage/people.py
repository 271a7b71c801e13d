"""People: find or create by Telegram id, change settings, forget."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Person


async def find_person(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def get_or_create_person(
    session: AsyncSession, telegram_id: int, language: str, country: str | None
) -> tuple[Person, bool]:
    """Return the person with this Telegram id, creating them if new; and whether they are new."""
    person = await find_person(session, telegram_id)
    if person is not None:
        return person, False
    person = Person(telegram_id=telegram_id, language=language, country=country)
    session.add(person)
    await session.flush()
    return person, True


async def forget_person(session: AsyncSession, person_id: int) -> None:
    """Erase the person; every row that refers to them goes with them (ON DELETE CASCADE)."""
    await session.execute(delete(Person).where(Person.id == person_id))
