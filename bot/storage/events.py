"""Safety events: that the safety layer answered, at which level and why; never the text."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import SafetyEvent
from safety import Assessment


async def record_safety_event(
    session: AsyncSession, person_id: int, assessment: Assessment
) -> SafetyEvent:
    event = SafetyEvent(
        person_id=person_id,
        level=assessment.level.value,
        categories=",".join(category.value for category in assessment.categories)[:255],
    )
    session.add(event)
    return event
