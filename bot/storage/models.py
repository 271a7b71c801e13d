"""The database tables, as typed SQLAlchemy models."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
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


class CheckInSchedule(Base):
    """A person's daily check-in settings, and the next UTC instant one is due.

    `next_due_at` is NULL while check-ins are off or not set up, so the due query only ever
    sees people who asked for them. `awaiting` names the typed answer the bot asked for
    ("time", "zone", "quiet", "pause", "note"), kept here because several processes share it.
    """

    __tablename__ = "check_in_schedule"
    __table_args__ = (
        Index("ix_check_in_schedule_due", "next_due_at", "id"),
        Index("ix_check_in_schedule_follow_up", "follow_up_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    local_time: Mapped[str | None] = mapped_column(String(5))  # "21:30" on the local clock
    time_zone: Mapped[str | None] = mapped_column(String(64))  # "Europe/Berlin", "UTC+05:45"
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    silent: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    awaiting: Mapped[str | None] = mapped_column(String(16))
    awaiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    awaiting_check_in_id: Mapped[int | None] = mapped_column(Integer)
    awaiting_tries: Mapped[int] = mapped_column(Integer, default=0)
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    follow_up_offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    crisis_seen_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return (
            f"CheckInSchedule(id={self.id}, person_id={self.person_id}, enabled={self.enabled}, "
            f"next_due_at={self.next_due_at})"
        )


class CheckIn(Base):
    """One daily check-in: claimed, then sent; the mood (1-5) and a short note once answered.

    A row in state "claimed" is the promise to send it: a pass that dies before sending leaves
    it behind, and the next pass sends it (within the grace period) or lets it go.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        Index("ix_check_in_person_day", "person_id", "day"),
        Index("ix_check_in_state_claimed", "state", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)  # the person's local day it was due on
    state: Mapped[str] = mapped_column(String(8))  # claimed, sent, failed
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    mood: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(EncryptedText)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return (
            f"CheckIn(id={self.id}, person_id={self.person_id}, day={self.day}, "
            f"state={self.state})"
        )
