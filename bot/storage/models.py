"""The database tables, as typed SQLAlchemy models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.crypto import EncryptedText


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    """The declarative base every model derives from."""


class Person(Base):
    """Someone who talks to SafePlace: only ids and settings, never their words."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"Person(id={self.id}, created_at={self.created_at:%Y-%m-%d})"


class Conversation(Base):
    """A person's progress in one exercise: flow, version, step and (encrypted) answers."""

    __tablename__ = "conversation"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    flow_id: Mapped[str] = mapped_column(String(32))
    flow_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    answers: Mapped[str] = mapped_column(EncryptedText)
    language: Mapped[str] = mapped_column(String(8))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return f"Conversation(person_id={self.person_id}, flow={self.flow_id}, state={self.state})"


class SavedItem(Base):
    """Something a person chose to keep: a boundary, a reflection, their safety plan."""

    __tablename__ = "saved_item"
    __table_args__ = (Index("ix_saved_item_person_kind", "person_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    flow_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(EncryptedText)
    content: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"SavedItem(id={self.id}, kind={self.kind}, created_at={self.created_at:%Y-%m-%d})"


class SafetyEvent(Base):
    """That the safety layer answered, at what level and for what: never the words."""

    __tablename__ = "safety_event"
    __table_args__ = (Index("ix_safety_event_person", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    categories: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"SafetyEvent(id={self.id}, level={self.level}, created_at={self.created_at})"


class ChatMessage(Base):
    """The id of a recent message in a person's chat (theirs or the bot's), for /hide.

    Ids only, never content; pruned once Telegram no longer lets the bot delete them (48 h).
    """

    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_person_sent", "person_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"ChatMessage(person_id={self.person_id}, message_id={self.message_id})"


class ProcessedUpdate(Base):
    """A Telegram update already handled, so a redelivery has no second effect."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    replied: Mapped[bool] = mapped_column(Boolean, default=False)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    def __repr__(self) -> str:
        return f"ProcessedUpdate(update_id={self.update_id})"
