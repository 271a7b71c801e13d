"""Check-ins: schedules, the due query, atomic claims, moods and notes; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import CheckIn, CheckInSchedule, Conversation, Person, SafetyEvent

CLAIMED, SENT = "claimed", "sent"
# What a released claim's claimed_at is set to: older than any lease, so the next pass takes it.
RELEASED = datetime(2000, 1, 1, tzinfo=UTC)


def aware(moment: datetime | None) -> datetime | None:
    """Return a stored instant as aware UTC (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    """Bind every instant as UTC, so SQLite's text comparison matches instant order."""
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Due:
    """A schedule whose next check-in is due, with what is needed to send and reschedule it."""

    schedule_id: int
    person_id: int
    due_at: datetime
    telegram_id: int
    language: str
    local_time: str
    time_zone: str
    quiet_start: str | None
    quiet_end: str | None
    silent: bool
    paused_until: datetime | None
    muted_until: datetime | None


@dataclass(frozen=True)
class Claimed:
    """A check-in row left in state "claimed": promised but not (known to be) sent."""

    check_in_id: int
    claimed_at: datetime
    due_at: datetime
    person_id: int
    telegram_id: int
    language: str
    silent: bool
    enabled: bool
    paused_until: datetime | None
    muted_until: datetime | None


@dataclass(frozen=True)
class FollowUp:
    """A caring follow-up someone said yes to, due now."""

    schedule_id: int
    person_id: int
    at: datetime
    telegram_id: int
    language: str
    silent: bool


# -- schedules -------------------------------------------------------------------------


async def get_schedule(
    session: AsyncSession, person_id: int, *, for_update: bool = False
) -> CheckInSchedule | None:
    query = select(CheckInSchedule).where(CheckInSchedule.person_id == person_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_or_create_schedule(session: AsyncSession, person_id: int) -> CheckInSchedule:
    """Return the person's schedule row, creating an empty (off) one the first time."""
    schedule = await get_schedule(session, person_id, for_update=True)
    if schedule is not None:
        return schedule
    schedule = CheckInSchedule(person_id=person_id, enabled=False, silent=True, awaiting_tries=0)
    session.add(schedule)
    await session.flush()
    return schedule


async def turn_off(session: AsyncSession, person_id: int) -> None:
    """Stop everything the bot would send on its own: check-ins and a pending follow-up."""
    await session.execute(
        update(CheckInSchedule)
        .where(CheckInSchedule.person_id == person_id)
        .values(enabled=False, next_due_at=None, follow_up_at=None, awaiting=None)
    )


async def moved_on(session: AsyncSession, person_id: int, since: datetime) -> bool:
    """Say whether, since `since`, the person moved in an exercise or got a safety reply."""
    updated = aware(
        await session.scalar(
            select(Conversation.updated_at).where(Conversation.person_id == person_id)
        )
    )
    if updated is not None and updated > since:
        return True
    answered = await session.scalar(
        select(SafetyEvent.id)
        .where(SafetyEvent.person_id == person_id, SafetyEvent.created_at > _utc(since))
        .limit(1)
    )
    return answered is not None


# -- the due query and claims ----------------------------------------------------------


async def find_due(session: AsyncSession, now: datetime, limit: int | None) -> list[Due]:
    """Return schedules due at `now`, earliest first (ties by id): an index range scan."""
    query = (
        select(
            CheckInSchedule.id,
            CheckInSchedule.person_id,
            CheckInSchedule.next_due_at,
            Person.telegram_id,
            Person.language,
            CheckInSchedule.local_time,
            CheckInSchedule.time_zone,
            CheckInSchedule.quiet_start,
            CheckInSchedule.quiet_end,
            CheckInSchedule.silent,
            CheckInSchedule.paused_until,
            CheckInSchedule.muted_until,
        )
        .join(Person, Person.id == CheckInSchedule.person_id)
        .where(CheckInSchedule.next_due_at <= _utc(now))
        .order_by(CheckInSchedule.next_due_at, CheckInSchedule.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = await session.execute(query)
    return [
        Due(
            sid,
            pid,
            aware(due) or now,
            tid,
            language,
            local_time or "00:00",
            zone or "UTC",
            quiet_start,
            quiet_end,
            silent,
            aware(paused),
            aware(muted),
        )
        for sid, pid, due, tid, language, local_time, zone, quiet_start, quiet_end, silent, paused, muted in rows
    ]


async def count_due(session: AsyncSession, now: datetime) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(CheckInSchedule)
            .where(CheckInSchedule.next_due_at <= _utc(now))
        )
        or 0
    )


async def claim(
    session: AsyncSession, claims: Sequence[tuple[Due, datetime, date]], now: datetime
) -> dict[int, int]:
    """Claim due check-ins: move each schedule on and leave a "claimed" check-in row.

    `claims` holds (due, its next due instant, the person's local day). Each schedule moves on
    only while next_due_at still holds the due instant, so of two passes (two processes, or one
    after a restart) exactly one wins a row. Returns schedule id → new check-in id for the rows
    won. Two statements for the whole chunk, so the write lock is held only briefly.
    """
    if not claims:
        return {}
    following = {due.schedule_id: _utc(next_at) for due, next_at, _ in claims}
    expected = {due.schedule_id: _utc(due.due_at) for due, _, _ in claims}
    # Not "(id, next_due_at) IN (VALUES ...)": SQLite 3.40 answers that row-value IN wrongly
    # through the (next_due_at, id) index.
    won = await session.execute(
        update(CheckInSchedule)
        .where(
            CheckInSchedule.id.in_(expected),
            CheckInSchedule.next_due_at == case(expected, value=CheckInSchedule.id),
        )
        .values(
            next_due_at=case(following, value=CheckInSchedule.id),
            last_due_at=CheckInSchedule.next_due_at,
        )
        .returning(CheckInSchedule.id)
        .execution_options(synchronize_session=False)
    )
    ids = set(won.scalars())
    rows = [
        {"person_id": due.person_id, "due_at": _utc(due.due_at), "day": day, "state": CLAIMED,
         "claimed_at": _utc(now)}
        for due, _, day in claims
        if due.schedule_id in ids
    ]  # fmt: skip
    if not rows:
        return {}
    inserted = await session.execute(
        insert(CheckIn).returning(CheckIn.id, sort_by_parameter_order=True), rows
    )
    won_in_order = [due.schedule_id for due, _, _ in claims if due.schedule_id in ids]
    return dict(zip(won_in_order, inserted.scalars(), strict=True))


async def skip(session: AsyncSession, due: Due, next_due_at: datetime) -> bool:
    """Move a check-in that is past its grace period on without sending it."""
    moved = await _execute(
        session,
        update(CheckInSchedule)
        .where(
            CheckInSchedule.id == due.schedule_id,
            CheckInSchedule.next_due_at == _utc(due.due_at),
        )
        .values(next_due_at=_utc(next_due_at)),
    )
    return moved == 1


async def find_stale_claims(session: AsyncSession, before: datetime, limit: int) -> list[Claimed]:
    """Return claimed rows older than `before` (a pass died, or gave them back), oldest first."""
    rows = await session.execute(
        select(
            CheckIn.id,
            CheckIn.claimed_at,
            CheckIn.due_at,
            CheckIn.person_id,
            Person.telegram_id,
            Person.language,
            CheckInSchedule.silent,
            CheckInSchedule.enabled,
            CheckInSchedule.paused_until,
            CheckInSchedule.muted_until,
        )
        .join(Person, Person.id == CheckIn.person_id)
        .join(CheckInSchedule, CheckInSchedule.person_id == CheckIn.person_id)
        .where(CheckIn.state == CLAIMED, CheckIn.claimed_at < _utc(before))
        .order_by(CheckIn.due_at, CheckIn.id)
        .limit(limit)
    )
    return [
        Claimed(
            cid,
            aware(claimed_at) or before,
            aware(due) or before,
            pid,
            tid,
            language,
            silent,
            enabled,
            aware(paused),
            aware(muted),
        )
        for cid, claimed_at, due, pid, tid, language, silent, enabled, paused, muted in rows
    ]


async def reclaim(session: AsyncSession, stale: Claimed, now: datetime) -> bool:
    """Take over a stale claim; only one pass can, since claimed_at must still match."""
    moved = await _execute(
        session,
        update(CheckIn)
        .where(
            CheckIn.id == stale.check_in_id,
            CheckIn.state == CLAIMED,
            CheckIn.claimed_at == _utc(stale.claimed_at),
        )
        .values(claimed_at=_utc(now)),
    )
    return moved == 1


async def mark_sent(
    session: AsyncSession, sent: Sequence[tuple[int, int | None]], sent_at: datetime
) -> None:
    """Record check-ins as sent: (check-in id, Telegram message id) pairs, in one statement."""
    if sent:
        await session.execute(
            update(CheckIn),
            [{"id": check_in_id, "state": SENT, "sent_at": _utc(sent_at),
              "message_id": message_id} for check_in_id, message_id in sent],
        )  # fmt: skip


async def release(session: AsyncSession, check_in_id: int, claimed_at: datetime) -> None:
    """Give a claim back unsent: a pass takes it once `claimed_at` is older than the lease
    (RELEASED: at once) and sends it if it is still within grace."""
    await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in_id, CheckIn.state == CLAIMED)
        .values(claimed_at=_utc(claimed_at))
    )


async def drop_claim(session: AsyncSession, check_in_id: int) -> None:
    """Forget a claim that will never be sent (blocked, refused, or past its grace)."""
    await session.execute(
        delete(CheckIn).where(CheckIn.id == check_in_id, CheckIn.state == CLAIMED)
    )


# -- follow-ups and crisis offers ------------------------------------------------------


async def find_follow_ups(session: AsyncSession, now: datetime, limit: int) -> list[FollowUp]:
    rows = await session.execute(
        select(
            CheckInSchedule.id,
            CheckInSchedule.person_id,
            CheckInSchedule.follow_up_at,
            Person.telegram_id,
            Person.language,
            CheckInSchedule.silent,
        )
        .join(Person, Person.id == CheckInSchedule.person_id)
        .where(CheckInSchedule.follow_up_at <= _utc(now))
        .order_by(CheckInSchedule.follow_up_at, CheckInSchedule.id)
        .limit(limit)
    )
    return [
        FollowUp(sid, pid, aware(at) or now, tid, language, silent)
        for sid, pid, at, tid, language, silent in rows
    ]


async def claim_follow_up(session: AsyncSession, follow_up: FollowUp) -> bool:
    """Take a follow-up off the schedule before sending it: it goes out at most once."""
    moved = await _execute(
        session,
        update(CheckInSchedule)
        .where(
            CheckInSchedule.id == follow_up.schedule_id,
            CheckInSchedule.follow_up_at == _utc(follow_up.at),
        )
        .values(follow_up_at=None),
    )
    return moved == 1


async def restore_follow_up(session: AsyncSession, follow_up: FollowUp) -> None:
    """Put back a follow-up that could not be sent for a passing reason."""
    await session.execute(
        update(CheckInSchedule)
        .where(CheckInSchedule.id == follow_up.schedule_id, CheckInSchedule.follow_up_at.is_(None))
        .values(follow_up_at=_utc(follow_up.at))
    )


async def crisis_events_after(
    session: AsyncSession, after_id: int, limit: int
) -> list[tuple[int, int, datetime]]:
    """Return (event id, person id, created_at) of crisis events after an id, in id order."""
    rows = await session.execute(
        select(SafetyEvent.id, SafetyEvent.person_id, SafetyEvent.created_at)
        .where(SafetyEvent.id > after_id, SafetyEvent.level == "crisis")
        .order_by(SafetyEvent.id)
        .limit(limit)
    )
    return [(eid, pid, aware(created) or datetime.now(UTC)) for eid, pid, created in rows]


async def latest_crisis_id(session: AsyncSession, person_id: int) -> int | None:
    return await session.scalar(
        select(func.max(SafetyEvent.id)).where(
            SafetyEvent.person_id == person_id, SafetyEvent.level == "crisis"
        )
    )


async def claim_crisis(session: AsyncSession, schedule_id: int, event_id: int) -> bool:
    """Mark a crisis event as considered for this person; False if it already was."""
    moved = await _execute(
        session,
        update(CheckInSchedule)
        .where(
            CheckInSchedule.id == schedule_id,
            (CheckInSchedule.crisis_seen_id.is_(None))
            | (CheckInSchedule.crisis_seen_id < event_id),
        )
        .values(crisis_seen_id=event_id),
    )
    return moved == 1


async def find_person_by_id(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


# -- moods and notes -------------------------------------------------------------------


async def get_check_in(session: AsyncSession, person_id: int, check_in_id: int) -> CheckIn | None:
    """Return the person's own check-in with this id, or None (never someone else's)."""
    return await session.scalar(
        select(CheckIn).where(CheckIn.id == check_in_id, CheckIn.person_id == person_id)
    )


async def check_ins_of(session: AsyncSession, person_id: int) -> list[CheckIn]:
    """Return every check-in of the person that went out, oldest first."""
    rows = await session.scalars(
        select(CheckIn)
        .where(CheckIn.person_id == person_id, CheckIn.state == SENT)
        .order_by(CheckIn.day, CheckIn.id)
    )
    return list(rows)


async def mood_points(
    session: AsyncSession, person_id: int, first_day: date
) -> list[tuple[date, int, bool]]:
    """Return (day, mood, has a note) of answered check-ins from first_day on, in order."""
    rows = await session.execute(
        select(CheckIn.day, CheckIn.mood, CheckIn.note.is_not(None))
        .where(
            CheckIn.person_id == person_id,
            CheckIn.day >= first_day,
            CheckIn.mood.is_not(None),
        )
        .order_by(CheckIn.day, CheckIn.answered_at, CheckIn.id)
    )
    return [(day, mood, bool(has_note)) for day, mood, has_note in rows if mood is not None]


async def add_check_in(
    session: AsyncSession, person_id: int, due_at: datetime, day: date, state: str = SENT
) -> CheckIn:
    """Add a check-in row directly (tests and benchmarks seed history with it)."""
    row = CheckIn(
        person_id=person_id,
        due_at=_utc(due_at),
        day=day,
        state=state,
        claimed_at=_utc(due_at),
        sent_at=_utc(due_at),
    )
    session.add(row)
    await session.flush()
    return row


async def _execute(session: AsyncSession, statement: object) -> int:
    result = await session.execute(statement)  # type: ignore[call-overload]
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
