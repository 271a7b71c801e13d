"""Data control for the person: /export everything stored about them, /forget all of it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Button, Message
from bot.storage import conversations, items, people
from bot.storage.models import ChatMessage, Person, SafetyEvent
from bot.words import Words

Section = Callable[[AsyncSession, Person], Awaitable[tuple[str, object]]]


class Privacy:
    """An extension of the conversation service: the /export and /forget commands."""

    commands = frozenset({"export", "forget"})
    prefix = "x"

    def __init__(self, words: Words) -> None:
        self._words = words
        self._sections: list[Section] = []

    def add_section(self, section: Section) -> None:
        """Let another feature (e.g. check-ins) add what it stores to the export."""
        self._sections.append(section)

    async def command(
        self, session: AsyncSession, person: Person, name: str, argument: str
    ) -> list[Message]:
        say = self._words.say
        if name == "export":
            payload = await self.export(session, person)
            document = json.dumps(payload, ensure_ascii=False, indent=2).encode()
            return [Message(say(person.language, "export_caption"), protect=True,
                            document=("safeplace-export.json", document))]  # fmt: skip
        buttons = (
            (Button(say(person.language, "forget_yes"), "x:forget"),),
            (Button(say(person.language, "forget_no"), "x:keep"),),
        )
        return [Message(say(person.language, "forget_confirm"), buttons)]

    async def press(self, session: AsyncSession, person: Person, value: str) -> list[Message]:
        if value == "forget":
            language = person.language
            await people.forget_person(session, person.id)
            return [Message(self._words.say(language, "forget_done"))]
        return [Message(self._words.say(person.language, "forget_kept"))]

    async def text(self, session: AsyncSession, person: Person, text: str) -> list[Message] | None:
        return None

    async def export(self, session: AsyncSession, person: Person) -> dict[str, object]:
        """Return everything stored about the person, decrypted, as plain JSON values."""
        current = await conversations.load_progress(session, person.id)
        events = await session.scalars(
            select(SafetyEvent).where(SafetyEvent.person_id == person.id).order_by(SafetyEvent.id)
        )
        message_ids = await session.scalars(
            select(ChatMessage.message_id).where(ChatMessage.person_id == person.id)
        )
        payload: dict[str, object] = {
            "exported_at": datetime.now(UTC).isoformat(),
            "person": {
                "telegram_id": person.telegram_id,
                "language": person.language,
                "country": person.country,
                "created_at": person.created_at.isoformat(),
            },
            "current_exercise": None
            if current is None
            else {
                "flow": current[0].flow_id,
                "step": current[0].state,
                "answers": dict(current[0].answers),
                "paused": current[1],
            },
            "saved_items": [
                {
                    "kind": item.kind,
                    "flow": item.flow_id,
                    "title": item.title,
                    "content": item.content,
                    "created_at": item.created_at.isoformat(),
                }
                for item in await items.list_items(session, person.id)
            ],
            "safety_events": [
                {
                    "level": event.level,
                    "categories": event.categories.split(",") if event.categories else [],
                    "created_at": event.created_at.isoformat(),
                }
                for event in events
            ],
            "recent_message_ids": list(message_ids),
        }
        for section in self._sections:
            name, value = await section(session, person)
            payload[name] = value
        return payload
