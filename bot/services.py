"""The long-lived services of one process, built once at startup from Settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.checkins import CheckIns
from bot.config import Settings
from bot.conversation import Conversations
from bot.crypto import Cipher, use_cipher
from bot.delivery import DeliveryLog
from bot.flood import FloodGate
from bot.privacy import Privacy
from bot.storage.people import find_person
from bot.storage.session import create_engine, is_sqlite, session_factory, upgrade
from bot.words import words
from flows.engine import Library
from safety.detector import rules

logger = logging.getLogger(__name__)

HIDE_QUIET_HOURS = 12  # no check-in or follow-up right after /hide: someone may be watching


@dataclass
class Services:
    """What handlers need: the session factory, the flow library and the conversation service."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    library: Library
    conversations: Conversations
    privacy: Privacy
    flood: FloodGate
    deliveries: DeliveryLog
    checkins: CheckIns

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """Load and check every data file, prepare the database, and build the services."""
        use_cipher(cipher_for(settings))
        rules()  # a broken rule file stops the program here, not at the first message
        library = Library.load()
        if is_sqlite(settings.database_url):
            # A fresh embedded database is created and upgraded on first run; PostgreSQL is
            # upgraded by the operator with `safeplace db upgrade`.
            await asyncio.to_thread(upgrade, settings.database_url)
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        retention = {
            "conversation_days": str(settings.conversation_retention_days),
            "safety_days": str(settings.safety_event_retention_days),
            "mood_days": str(settings.mood_retention_days),
        }
        conversations = Conversations(
            sessions, library, words(), settings.default_country, retention=retention
        )
        privacy = Privacy(words())
        conversations.extend(privacy)
        checkins = CheckIns.from_settings(sessions, words(), settings)
        conversations.extend(checkins)
        privacy.add_section(checkins.export_section)
        logger.info("services ready")
        flood = FloodGate(settings.flood_messages, settings.flood_seconds)
        deliveries = DeliveryLog(sessions)
        return cls(
            settings, engine, sessions, library, conversations, privacy, flood, deliveries,
            checkins=checkins,
        )  # fmt: skip

    async def quiet_after_hide(self, telegram_id: int) -> None:
        """After a quick exit, SafePlace writes nothing on its own for a while."""
        async with self.sessions.begin() as session:
            person = await find_person(session, telegram_id)
            if person is not None:
                await self.checkins.mute(session, person, HIDE_QUIET_HOURS)

    async def close(self) -> None:
        await self.deliveries.close()
        await self.engine.dispose()


class NoEncryptionKey(RuntimeError):
    """Neither ENCRYPTION_KEY nor explicit development mode (ALLOW_UNENCRYPTED) is set."""


def cipher_for(settings: Settings) -> Cipher:
    """Return the cipher for stored text; refuse to run unencrypted unless told to."""
    if settings.encryption_key:
        return Cipher.from_keys(settings.encryption_key)
    if settings.allow_unencrypted:
        return Cipher.plaintext()
    raise NoEncryptionKey(
        "ENCRYPTION_KEY is not set. Generate one with: "
        'python -c "from bot.crypto import generate_key; print(generate_key())" '
        "(or set ALLOW_UNENCRYPTED=1 for local development only)"
    )
