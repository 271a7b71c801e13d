"""Daily check-ins: /checkin and /mood, and the periodic pass that sends what is due.

The settings side is an extension of the conversation service (commands, buttons, typed
answers). The sending side is driven from the database: a pass finds who is due (earliest
first), claims each row atomically, sends under a global rate limit and records the send, so
that two processes or a restart never send the same check-in twice and lose none.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time as clock_time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.checkin_time import (
    MAX_PAUSE_DAYS,
    deliverable_at,
    due_action,
    in_quiet_hours,
    next_due,
    parse_time_of_day,
    parse_time_zone,
    pause_until,
    zone_of,
    zones_for_country,
)
from bot.conversation import Button, Message
from bot.mood_chart import ChartLabels, MoodPoint, Trend, render_mood_chart, summarise
from bot.render import NO_PREVIEW, keyboard
from bot.storage import checkins as storage
from bot.storage import messages
from bot.storage.checkins import RELEASED, Claimed, Due, FollowUp, aware
from bot.storage.models import CheckInSchedule, Person
from bot.words import Words

if TYPE_CHECKING:
    from telegram.ext import ContextTypes

    from bot.config import Settings

logger = logging.getLogger(__name__)

PREFIX = "ci"
COMMON_TIMES = ("08:00", "12:00", "18:00", "21:00")
QUIET_CHOICES = (("22:00", "07:00"), ("21:00", "08:00"), ("23:00", "09:00"))
PAUSE_CHOICES = (1, 3, 7, 14)
MUTE_CHOICES = (2, 4, 8, 24)
MAX_ZONE_BUTTONS = 8
MAX_NOTE = 500
MAX_TRIES = 3  # typed answers the bot could not read before it stops asking
AWAIT_FOR = timedelta(minutes=30)  # a question left unanswered longer than this is dropped
ANSWER_DAYS = 3  # a check-in can still be answered this many days later
MOOD_DAYS = 30
LOW_RUN = 3  # low days in a row before grounding, the plan and resources are offered
OFFER_DELAY = timedelta(minutes=20)  # after a crisis, never on top of the crisis reply itself
OFFER_WINDOW = timedelta(hours=12)  # a crisis older than this gets no offer any more
OFFER_COOLDOWN = timedelta(days=7)  # "asked once": not again within a week
FOLLOW_UP_EARLIEST, FOLLOW_UP_LATEST = time(10, 0), time(20, 0)
DEFAULT_RATE_LIMIT = 25.0  # messages per second; Telegram allows ~30 per bot, replies need room
DEFAULT_GRACE = timedelta(hours=2)
LEASE = timedelta(minutes=5)  # a claim older than this was left by a pass that died
RETRY_AFTER = timedelta(minutes=1)  # a check-in that failed for a passing reason is retried
ATTEMPTS = 5
IN_FLIGHT = 64  # the most requests on the wire at once
# Requests in flight follow rate x latency: real Telegram answers in ~100 ms, so 25/s needs a
# few at once; a local Bot API answers in ~2 ms, and extra connections there only cost time.
FIRST_LATENCY = 0.1  # seconds, assumed until measured
WINDOW_MARGIN = 0.005  # seconds: clock granularity at the window's edge
SLACK = 0.05  # seconds a late timer may catch up, so sub-millisecond spacing still holds pace
DRAIN_SECONDS = 10.0  # on shutdown, how long a request already on the wire may take to finish


@dataclass(frozen=True)
class PassReport:
    """What one pass did."""

    sent: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0
    released: int = 0
    follow_ups: int = 0
    offers: int = 0
    flood_waits: int = 0

    def describe(self) -> str:
        return (
            f"sent {self.sent}, skipped {self.skipped}, blocked {self.blocked}, "
            f"failed {self.failed}, given back {self.released}, follow-ups {self.follow_ups}, "
            f"offers {self.offers}, flood waits {self.flood_waits}"
        )


class RateLimiter:
    """A global send limit: starts evenly spaced, never more than `per_second` in any second.

    Telegram counts a message when it arrives, somewhere between the request's start and its
    answer, so a request counts from its start until one second after its answer: then no
    second can hold more than the limit, however the network delays them. A flood answer
    from Telegram (RetryAfter) holds every sender back, not just the one told.
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = clock_time.monotonic):
        if per_second <= 0:
            raise ValueError("the rate limit must be positive")
        self.per_second = per_second
        self._interval = 1.0 / per_second
        self._capacity = max(1, int(per_second))
        self._window = 1.0 + WINDOW_MARGIN
        self.clock = clock
        self._in_flight = 0
        self._answered: list[float] = []  # a heap of answer times within the last window
        self._next = 0.0
        self._held_until = 0.0

    async def wait(self) -> Slot:
        """Wait for the next free slot and take it; call finish() on it once answered."""
        while True:
            now = self.clock()
            if now < self._held_until:
                await asyncio.sleep(self._held_until - now)
                continue
            answered = self._answered
            while answered and answered[0] <= now - self._window:
                heapq.heappop(answered)
            if self._in_flight + len(answered) >= self._capacity:
                wake = answered[0] + self._window - now if answered else self._interval
                await asyncio.sleep(max(wake, 0.001))
                continue
            start = max(self._next, now - SLACK)
            if start > now:
                await asyncio.sleep(start - now)
                continue
            self._next = start + self._interval
            self._in_flight += 1
            return Slot(self)

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` (Telegram said so)."""
        self._held_until = max(self._held_until, self.clock() + seconds)

    def _finish(self) -> None:
        self._in_flight -= 1
        heapq.heappush(self._answered, self.clock())


class Slot:
    """One request's place under the rate limit."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter: RateLimiter | None = limiter

    def finish(self) -> None:
        """The request was answered (or never sent): count it for one more second."""
        if self._limiter is not None:
            self._limiter._finish()
            self._limiter = None


class _Kind(Enum):
    CHECK_IN = "check_in"
    FOLLOW_UP = "follow_up"
    OFFER = "offer"


class _Result(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot, or the chat is gone
    REFUSED = "refused"  # Telegram refused this message for good
    RETRY = "retry"  # a passing failure: give it back, to be tried again a little later
    GIVE_BACK = "give_back"  # never sent (the pass stopped first): free for the next pass now


@dataclass
class _Outgoing:
    kind: _Kind
    person_id: int
    telegram_id: int
    message: Message
    check_in_id: int | None = None
    follow_up: FollowUp | None = None
    claimed: float = field(default_factory=clock_time.monotonic)


@dataclass
class _Counts:
    sent: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0
    released: int = 0
    follow_ups: int = 0
    offers: int = 0
    flood_waits: int = 0

    def report(self) -> PassReport:
        return PassReport(**self.__dict__)


@dataclass
class _Run:
    """One pass's sending machinery."""

    bot: Bot
    recorder: _Recorder
    counts: _Counts
    group: asyncio.TaskGroup
    freed: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0


class _Recorder:
    """Records send results as they come, many to a transaction when they come fast."""

    def __init__(
        self,
        apply: Callable[[AsyncSession, list[tuple[_Outgoing, _Result, int | None]]], Any],
        sessions: async_sessionmaker[AsyncSession],
        writing: asyncio.Lock,
    ) -> None:
        self._apply = apply
        self._sessions = sessions
        self._writing = writing
        self._queue: list[tuple[_Outgoing, _Result, int | None]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, item: _Outgoing, result: _Result, message_id: int | None = None) -> None:
        self._queue.append((item, result, message_id))
        self._wake.set()

    async def close(self) -> None:
        """Record everything still queued, then stop."""
        self._closing = True
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    async with self._writing, self._sessions.begin() as session:
                        await self._apply(session, batch)
                except (SQLAlchemyError, OSError) as error:
                    # Claims stay "claimed": the next pass after the lease sends them again.
                    logger.error(
                        "could not record %d check-in sends (%s)", len(batch), type(error).__name__
                    )
            if self._closing:
                return


class CheckIns:
    """The /checkin and /mood commands, their buttons and typed answers, and the sending pass."""

    commands = frozenset({"checkin", "mood"})
    prefix = PREFIX

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        words: Words,
        *,
        rate_limit: float = DEFAULT_RATE_LIMIT,
        grace: timedelta = DEFAULT_GRACE,
        first_line: str | None = None,
        default_country: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        self._words = words
        self._grace = grace
        self._first_line = first_line
        self._default_country = default_country
        self.clock = clock or (lambda: datetime.now(UTC))  # tests set their own
        self.limiter = RateLimiter(rate_limit)
        self._chunk = max(10, min(500, int(rate_limit)))
        self._pass_lock = asyncio.Lock()
        self._latency = FIRST_LATENCY  # a moving average of request round trips, in seconds
        # SQLite has one writer at a time: queue this process's writes here rather than in
        # SQLite's busy handler, which sleeps in steps of milliseconds.
        self._writing = asyncio.Lock()
        self._crisis_floor = 0  # every crisis event at or below this id needs nothing more

    @classmethod
    def from_settings(
        cls, sessions: async_sessionmaker[AsyncSession], words: Words, settings: Settings
    ) -> CheckIns:
        return cls(
            sessions,
            words,
            rate_limit=settings.checkin_rate_limit,
            grace=timedelta(minutes=settings.checkin_grace_minutes),
            first_line=settings.checkin_first_line,
            default_country=settings.default_country,
        )

    # -- the extension: commands ----------------------------------------------------------

    async def command(
        self, session: AsyncSession, person: Person, name: str, argument: str
    ) -> list[Message]:
        if name == "mood":
            return await self._mood(session, person)
        schedule = await storage.get_or_create_schedule(session, person.id)
        _clear_await(schedule)
        if argument.strip().lower() in ("off", "stop"):
            return self._turn_off(person, schedule)
        return self._menu(person, schedule)

    # -- the extension: buttons -----------------------------------------------------------

    async def press(self, session: AsyncSession, person: Person, value: str) -> list[Message]:
        action, _, rest = value.partition(":")
        now = self.clock()
        if action == "m":
            return await self._answer_mood(session, person, rest, now)
        schedule = await storage.get_or_create_schedule(session, person.id)
        _clear_await(schedule)
        language = person.language
        if action == "menu":
            return self._menu(person, schedule)
        if action in ("close", "cancel"):
            key = "checkin_not_now_ack" if action == "close" else "checkin_cancelled"
            return [Message(self._say(language, key))]
        if action == "on":
            return self._ask_time(person, schedule, setup=True, now=now)
        if action in ("st", "t"):
            return self._set_time(person, schedule, rest, setup=action == "st", now=now)
        if action in ("sz", "z"):
            return self._set_zone(person, schedule, rest, setup=action == "sz", now=now)
        if action == "ct" and schedule.enabled:
            return self._ask_time(person, schedule, setup=False, now=now)
        if action == "cz" and schedule.enabled:
            return self._ask_zone(person, schedule, setup=False, now=now)
        if action == "q":
            return self._quiet(person, schedule, rest, now)
        if action == "p":
            return self._pause(person, schedule, rest, now)
        if action == "resume" and schedule.enabled:
            schedule.paused_until = None
            self._reschedule(schedule, person, now)
            return [
                Message(
                    self._say(language, "checkin_resumed", when=self._when_of(person, schedule))
                )
            ]
        if action == "off":
            return self._turn_off(person, schedule)
        if action == "s" and schedule.enabled:
            schedule.silent = rest != "1"
            key = "checkin_sound_off" if schedule.silent else "checkin_sound_on"
            return [Message(self._say(language, key))]
        if action == "x":
            return self._mute(person, schedule, rest, now)
        if action == "n":
            return [Message(self._say(language, "checkin_note_skipped"))]
        if action == "fu":
            return self._answer_offer(person, schedule, rest == "y", now)
        return [Message(self._say(language, "checkin_stale"))]

    # -- the extension: typed answers -----------------------------------------------------

    async def text(self, session: AsyncSession, person: Person, text: str) -> list[Message] | None:
        """Take a typed answer the bot asked for; None when it asked for nothing (or gave up).

        The service has already screened the text: crisis and concern language never gets here.
        """
        schedule = await storage.get_schedule(session, person.id)
        if schedule is None or schedule.awaiting is None:
            return None
        now = self.clock()
        since = aware(schedule.awaiting_since)
        if (
            since is None
            or now - since > AWAIT_FOR
            or await storage.moved_on(session, person.id, since)
        ):
            _clear_await(schedule)  # the person has moved on: this text is not the answer
            return None
        kind = schedule.awaiting
        if kind == "note":
            return await self._note(session, person, schedule, text)
        if kind in ("setup_time", "time"):
            answer = parse_time_of_day(text)
            if answer is not None:
                _clear_await(schedule)
                return self._set_time(
                    person, schedule, f"{answer:%H%M}", kind == "setup_time", now
                )
            return self._retry(person, schedule, "checkin_bad_time")
        if kind in ("setup_zone", "zone"):
            zone = parse_time_zone(text)
            if zone is not None:
                _clear_await(schedule)
                return self._set_zone(person, schedule, zone, kind == "setup_zone", now)
            return self._retry(person, schedule, "checkin_bad_zone")
        if kind == "quiet":
            window = _parse_window(text)
            if window is not None:
                _clear_await(schedule)
                return self._quiet(person, schedule, f"{window[0]:%H%M}-{window[1]:%H%M}", now)
            return self._retry(person, schedule, "checkin_bad_quiet")
        if kind == "pause":
            days = text.strip()
            if days.isdecimal() and 1 <= int(days) <= MAX_PAUSE_DAYS:
                _clear_await(schedule)
                return self._pause(person, schedule, days, now)
            return self._retry(person, schedule, "checkin_bad_pause")
        _clear_await(schedule)
        return None

    # -- settings ---------------------------------------------------------------------------

    def _menu(self, person: Person, schedule: CheckInSchedule) -> list[Message]:
        language = person.language
        if not schedule.enabled or not schedule.local_time or not schedule.time_zone:
            buttons = [
                [
                    self._button(language, "checkin_turn_on", "on"),
                    self._button(language, "checkin_not_now", "close"),
                ]
            ]
            return [Message(self._say(language, "checkin_intro"), _rows(buttons))]
        lines = [
            self._say(
                language,
                "checkin_status",
                time=schedule.local_time,
                zone=schedule.time_zone,
                when=self._when_of(person, schedule),
            )
        ]
        if schedule.quiet_start and schedule.quiet_end:
            lines.append(
                self._say(
                    language,
                    "checkin_status_quiet",
                    start=schedule.quiet_start,
                    end=schedule.quiet_end,
                )
            )
        paused = aware(schedule.paused_until)
        if paused is not None and paused > self.clock():
            lines.append(
                self._say(
                    language,
                    "checkin_status_paused",
                    date=self._date(language, paused, schedule.time_zone),
                )
            )
        lines.append(
            self._say(
                language, "checkin_status_silent" if schedule.silent else "checkin_status_sound"
            )
        )
        lines.append(self._say(language, "checkin_status_question"))
        sound = (
            self._button(language, "checkin_sound_on_button", "s:1")
            if schedule.silent
            else self._button(language, "checkin_sound_off_button", "s:0")
        )
        pause = (
            self._button(language, "checkin_resume", "resume")
            if paused is not None and paused > self.clock()
            else self._button(language, "checkin_pause", "p")
        )
        buttons = [
            [
                self._button(language, "checkin_change_time", "ct"),
                self._button(language, "checkin_change_zone", "cz"),
            ],
            [self._button(language, "checkin_quiet", "q"), sound],
            [pause, self._button(language, "checkin_turn_off", "off")],
        ]
        return [Message("\n".join(lines), _rows(buttons))]

    def _ask_time(
        self, person: Person, schedule: CheckInSchedule, *, setup: bool, now: datetime
    ) -> list[Message]:
        action = "st" if setup else "t"
        times = [
            Button(label, f"{PREFIX}:{action}:{label.replace(':', '')}") for label in COMMON_TIMES
        ]
        rows = [
            tuple(times[:2]),
            tuple(times[2:]),
            (self._button(person.language, "checkin_cancel", "cancel"),),
        ]
        _await(schedule, "setup_time" if setup else "time", now)
        return [Message(self._say(person.language, "checkin_ask_time"), tuple(rows))]

    def _ask_zone(
        self, person: Person, schedule: CheckInSchedule, *, setup: bool, now: datetime
    ) -> list[Message]:
        action = "sz" if setup else "z"
        zones = zones_for_country(person.country or self._default_country or "")
        choices = [*zones[: MAX_ZONE_BUTTONS - 1], "UTC"]
        buttons = [Button(zone.replace("_", " "), f"{PREFIX}:{action}:{zone}") for zone in choices]
        rows = [tuple(buttons[index : index + 2]) for index in range(0, len(buttons), 2)]
        rows.append((self._button(person.language, "checkin_cancel", "cancel"),))
        _await(schedule, "setup_zone" if setup else "zone", now)
        return [Message(self._say(person.language, "checkin_ask_zone"), tuple(rows))]

    def _set_time(
        self, person: Person, schedule: CheckInSchedule, value: str, setup: bool, now: datetime
    ) -> list[Message]:
        chosen = parse_time_of_day(value) if len(value) == 4 and value.isdecimal() else None
        if chosen is None or (not setup and not schedule.enabled):
            return [Message(self._say(person.language, "checkin_stale"))]
        schedule.local_time = f"{chosen:%H:%M}"
        if setup and schedule.time_zone is None:
            return self._ask_zone(person, schedule, setup=True, now=now)
        return self._confirm(person, schedule, setup, now)

    def _set_zone(
        self, person: Person, schedule: CheckInSchedule, value: str, setup: bool, now: datetime
    ) -> list[Message]:
        zone = parse_time_zone(value)
        if zone is None or (not setup and not schedule.enabled):
            return [Message(self._say(person.language, "checkin_stale"))]
        schedule.time_zone = zone
        if setup and schedule.local_time is None:
            return self._ask_time(person, schedule, setup=True, now=now)
        return self._confirm(person, schedule, setup, now)

    def _confirm(
        self, person: Person, schedule: CheckInSchedule, setup: bool, now: datetime
    ) -> list[Message]:
        if setup:
            schedule.enabled = True
            schedule.silent = True  # every fresh start is silent, as the confirmation says
            schedule.paused_until = None
            logger.info("check-ins on for person %s", person.id)
        self._reschedule(schedule, person, now)
        key = "checkin_on" if setup else "checkin_time_set"
        return [Message(self._say(person.language, key, when=self._when_of(person, schedule)))]

    def _quiet(
        self, person: Person, schedule: CheckInSchedule, value: str, now: datetime
    ) -> list[Message]:
        language = person.language
        if value == "-":
            schedule.quiet_start = schedule.quiet_end = None
            self._reschedule(schedule, person, now)
            return [Message(self._say(language, "checkin_quiet_cleared"))]
        window = _parse_window(value.replace("-", " - ")) if value else None
        if window is None:
            buttons = [
                (
                    Button(
                        f"{start}–{end}",
                        f"{PREFIX}:q:{start.replace(':', '')}-{end.replace(':', '')}",
                    ),
                )
                for start, end in QUIET_CHOICES
            ]
            buttons.append((self._button(language, "checkin_quiet_none", "q:-"),))
            buttons.append((self._button(language, "checkin_cancel", "cancel"),))
            _await(schedule, "quiet", now)
            return [Message(self._say(language, "checkin_ask_quiet"), tuple(buttons))]
        schedule.quiet_start, schedule.quiet_end = f"{window[0]:%H:%M}", f"{window[1]:%H:%M}"
        self._reschedule(schedule, person, now)
        return [
            Message(
                self._say(
                    language,
                    "checkin_quiet_set",
                    start=schedule.quiet_start,
                    end=schedule.quiet_end,
                )
            )
        ]

    def _pause(
        self, person: Person, schedule: CheckInSchedule, value: str, now: datetime
    ) -> list[Message]:
        language = person.language
        if not schedule.enabled:
            return [Message(self._say(language, "checkin_stale"))]
        if not (value.isdecimal() and 1 <= int(value) <= MAX_PAUSE_DAYS):
            buttons = [
                Button(
                    self._say(language, "checkin_pause_one_day")
                    if days == 1
                    else self._say(language, "checkin_pause_days", days=str(days)),
                    f"{PREFIX}:p:{days}",
                )
                for days in PAUSE_CHOICES
            ]
            rows = (
                tuple(buttons[:2]),
                tuple(buttons[2:]),
                (self._button(language, "checkin_cancel", "cancel"),),
            )
            _await(schedule, "pause", now)
            return [Message(self._say(language, "checkin_ask_pause"), rows)]
        until = pause_until(now, int(value))
        schedule.paused_until = until
        self._reschedule(schedule, person, now)
        logger.info("check-ins paused for person %s (%s days)", person.id, value)
        return [
            Message(
                self._say(
                    language,
                    "checkin_paused",
                    date=self._date(language, until, schedule.time_zone),
                )
            )
        ]

    def _turn_off(self, person: Person, schedule: CheckInSchedule) -> list[Message]:
        schedule.enabled = False
        schedule.next_due_at = None
        logger.info("check-ins off for person %s", person.id)
        return [Message(self._say(person.language, "checkin_off"))]

    def _mute(
        self, person: Person, schedule: CheckInSchedule, value: str, now: datetime
    ) -> list[Message]:
        """ "Not a good time": nothing from SafePlace on its own for the hours the person picks."""
        language = person.language
        if not (value.isdecimal() and int(value) in MUTE_CHOICES):
            buttons = [
                Button(
                    self._say(language, "checkin_mute_hours", hours=str(hours)),
                    f"{PREFIX}:x:{hours}",
                )
                for hours in MUTE_CHOICES
            ]
            return [
                Message(
                    self._say(language, "checkin_mute_ask"),
                    (tuple(buttons[:2]), tuple(buttons[2:])),
                )
            ]
        until = now + timedelta(hours=int(value))
        schedule.muted_until = until
        self._reschedule(schedule, person, now)
        if schedule.follow_up_at is not None:
            follow_up = aware(schedule.follow_up_at)
            if follow_up is not None and follow_up < until:
                schedule.follow_up_at = until
        zone = self._zone(person, schedule)
        local = until.astimezone(zone_of(zone))
        logger.info("person %s muted SafePlace for %s hours", person.id, value)
        return [
            Message(
                self._say(
                    language,
                    "checkin_muted",
                    time=f"{local:%H:%M}",
                    date=self._labels(language).day(local.date()),
                )
            )
        ]

    # -- answering a check-in ---------------------------------------------------------------

    def check_in_message(self, language: str, check_in_id: int, silent: bool) -> Message:
        """The check-in itself: a neutral first line, the question, five moods, "not now"."""
        text = f"{self._opening(language)}\n\n{self._say(language, 'checkin_question')}"
        rows = [
            (Button(self._say(language, f"mood_{mood}"), f"{PREFIX}:m:{check_in_id}:{mood}"),)
            for mood in range(5, 0, -1)
        ]
        rows.append((self._button(language, "checkin_not_good_time", "x"),))
        return Message(text, tuple(rows), silent=silent)

    async def _answer_mood(
        self, session: AsyncSession, person: Person, value: str, now: datetime
    ) -> list[Message]:
        language = person.language
        raw_id, _, raw_mood = value.partition(":")
        if not (raw_id.isdecimal() and raw_mood in ("1", "2", "3", "4", "5")):
            return [Message(self._say(language, "checkin_stale"))]
        check_in = await storage.get_check_in(session, person.id, int(raw_id))
        schedule = await storage.get_or_create_schedule(session, person.id)
        today = now.astimezone(zone_of(self._zone(person, schedule))).date()
        if check_in is None or (today - check_in.day).days >= ANSWER_DAYS:
            return [Message(self._say(language, "checkin_stale"))]
        mood = int(raw_mood)
        check_in.mood = mood
        check_in.answered_at = now
        logger.info("check-in %s answered", check_in.id)
        key = "checkin_thanks_low" if mood <= 2 else "checkin_thanks"
        messages = [Message(self._say(language, key))]
        await session.flush()
        points = await self._points(session, person.id, today)
        run = summarise(points, today, MOOD_DAYS).low_days_in_a_row
        if run >= LOW_RUN and run % LOW_RUN == 0:
            messages.append(self._low_run_offer(language))
        _await(schedule, "note", now, check_in.id)
        skip = self._button(language, "checkin_note_skip", "n")
        messages.append(Message(self._say(language, "checkin_note_ask"), ((skip,),)))
        return messages

    async def _note(
        self, session: AsyncSession, person: Person, schedule: CheckInSchedule, text: str
    ) -> list[Message]:
        language = person.language
        note = text.strip()
        if len(note) > MAX_NOTE:
            skip = self._button(language, "checkin_note_skip", "n")
            return [
                Message(
                    self._say(language, "checkin_note_too_long", limit=str(MAX_NOTE)), ((skip,),)
                )
            ]
        check_in_id = schedule.awaiting_check_in_id
        _clear_await(schedule)
        check_in = (
            await storage.get_check_in(session, person.id, check_in_id)
            if check_in_id is not None
            else None
        )
        if check_in is None:
            return [Message(self._say(language, "checkin_stale"))]
        check_in.note = note
        return [Message(self._say(language, "checkin_note_saved"))]

    def _low_run_offer(self, language: str) -> Message:
        rows = (
            (Button(self._say(language, "checkin_low_grounding"), "f:grounding"),),
            (Button(self._say(language, "checkin_low_plan"), "c:plan"),),
            (Button(self._say(language, "checkin_low_resources"), "r:"),),
        )
        return Message(self._say(language, "checkin_low_run"), rows)

    # -- the crisis follow-up ------------------------------------------------------------

    async def offer_follow_up(self, session: AsyncSession, person: Person) -> list[Message]:
        """Offer one caring follow-up tomorrow, once, after a crisis; [] when not now.

        For the conversation service to call after a crisis reply (or after the person's
        choice that follows it). The periodic pass makes the same offer on its own a little
        after a crisis when this was not called; either way it is asked once.
        """
        now = self.clock()
        schedule = await storage.get_or_create_schedule(session, person.id)
        event_id = await storage.latest_crisis_id(session, person.id)
        if event_id is None or not self._may_offer(schedule, now):
            return []
        if not await storage.claim_crisis(session, schedule.id, event_id):
            return []
        schedule.follow_up_offered_at = now
        return [self._offer_message(person.language, silent=False)]

    def _may_offer(self, schedule: CheckInSchedule, now: datetime) -> bool:
        offered = aware(schedule.follow_up_offered_at)
        return schedule.follow_up_at is None and (
            offered is None or now - offered >= OFFER_COOLDOWN
        )

    def _offer_message(self, language: str, silent: bool) -> Message:
        rows = (
            (
                self._button(language, "checkin_offer_yes", "fu:y"),
                self._button(language, "checkin_offer_no", "fu:n"),
            ),
        )
        return Message(self._say(language, "checkin_offer"), rows, silent=silent)

    def _answer_offer(
        self, person: Person, schedule: CheckInSchedule, yes: bool, now: datetime
    ) -> list[Message]:
        language = person.language
        if not yes:
            return [Message(self._say(language, "checkin_offer_declined"))]
        at = self._follow_up_time(person, schedule, now)
        schedule.follow_up_at = at
        logger.info("person %s said yes to a follow-up", person.id)
        zone = self._zone(person, schedule)
        return [
            Message(
                self._say(language, "checkin_offer_accepted", when=self._when(language, at, zone))
            )
        ]

    def _follow_up_time(
        self, person: Person, schedule: CheckInSchedule, now: datetime
    ) -> datetime:
        """Tomorrow (the person's local day): at their check-in time, or a daytime hour."""
        zone = self._zone(person, schedule)
        wall = _time(schedule.local_time)
        if wall is None:
            local = now.astimezone(zone_of(zone)).time().replace(second=0, microsecond=0)
            wall = min(max(local, FOLLOW_UP_EARLIEST), FOLLOW_UP_LATEST)
        midnight = next_due(time(0, 0), zone, now)
        at = next_due(wall, zone, midnight - timedelta(microseconds=1))
        quiet_start, quiet_end = _time(schedule.quiet_start), _time(schedule.quiet_end)
        return deliverable_at(at, zone, quiet_start, quiet_end, aware(schedule.muted_until))

    def follow_up_message(self, language: str, silent: bool) -> Message:
        text = f"{self._opening(language)}\n\n{self._say(language, 'checkin_follow_up')}"
        rows = (
            (Button(self._say(language, "checkin_low_plan"), "c:plan"),),
            (Button(self._say(language, "checkin_low_resources"), "r:"),),
            (Button(self._say(language, "checkin_low_grounding"), "f:grounding"),),
        )
        return Message(text, rows, silent=silent)

    # -- for other features --------------------------------------------------------------

    async def mute(self, session: AsyncSession, person: Person, hours: float) -> None:
        """Send nothing on SafePlace's own for `hours` (e.g. right after /hide)."""
        schedule = await storage.get_schedule(session, person.id, for_update=True)
        if schedule is None:
            return
        now = self.clock()
        until = now + timedelta(hours=hours)
        muted = aware(schedule.muted_until)
        schedule.muted_until = until if muted is None else max(muted, until)
        self._reschedule(schedule, person, now)
        follow_up = aware(schedule.follow_up_at)
        if follow_up is not None and follow_up < until:
            schedule.follow_up_at = until

    async def stop_for(self, session: AsyncSession, person: Person) -> None:
        """Turn check-ins and a pending follow-up off (the person blocked the bot)."""
        await storage.turn_off(session, person.id)

    async def export_section(self, session: AsyncSession, person: Person) -> tuple[str, object]:
        """What check-ins store about the person, for /export (Privacy.add_section)."""
        schedule = await storage.get_schedule(session, person.id)
        rows = await storage.check_ins_of(session, person.id)
        settings = None
        if schedule is not None:
            settings = {
                "on": schedule.enabled,
                "time": schedule.local_time,
                "time_zone": schedule.time_zone,
                "quiet_hours": [schedule.quiet_start, schedule.quiet_end]
                if schedule.quiet_start
                else None,
                "silent": schedule.silent,
                "paused_until": _iso(schedule.paused_until),
                "muted_until": _iso(schedule.muted_until),
                "next_due_at": _iso(schedule.next_due_at),
                "follow_up_at": _iso(schedule.follow_up_at),
            }
        entries = [
            {"day": row.day.isoformat(), "sent_at": _iso(row.sent_at), "mood": row.mood,
             "note": row.note, "answered_at": _iso(row.answered_at)}
            for row in rows
        ]  # fmt: skip
        return "check_ins", {"settings": settings, "check_ins": entries}

    # -- /mood ----------------------------------------------------------------------------

    async def _mood(self, session: AsyncSession, person: Person) -> list[Message]:
        language = person.language
        schedule = await storage.get_schedule(session, person.id)
        zone = self._zone(person, schedule)
        today = self.clock().astimezone(zone_of(zone)).date()
        points = await self._points(session, person.id, today)
        if not points:
            return [Message(self._say(language, "mood_none"))]
        labels = self._labels(language)
        chart = await asyncio.to_thread(render_mood_chart, points, today, MOOD_DAYS, labels=labels)
        return [Message(self.mood_summary(language, points, today), photo=chart, protect=True)]

    def mood_summary(self, language: str, points: Sequence[MoodPoint], today: date) -> str:
        """The chart in one line of text, for screen readers."""
        summary = summarise(points, today, MOOD_DAYS)
        if summary.check_ins == 0 or summary.average is None:
            return self._say(language, "mood_none")
        if summary.check_ins == 1:
            return self._say(language, "mood_summary_one", mood=str(summary.lowest))
        average = f"{summary.average:.1f}".replace(".", self._say(language, "mood_decimal_mark"))
        trend = {Trend.UP: "mood_trend_up", Trend.DOWN: "mood_trend_down"}.get(
            summary.trend, "mood_trend_steady"
        )
        return self._say(
            language,
            "mood_summary",
            count=str(summary.check_ins),
            average=average,
            lowest=str(summary.lowest),
            highest=str(summary.highest),
            trend=self._say(language, trend),
        )

    async def _points(self, session: AsyncSession, person_id: int, today: date) -> list[MoodPoint]:
        first = today - timedelta(days=MOOD_DAYS - 1)
        rows = await storage.mood_points(session, person_id, first)
        return [MoodPoint(day, mood, has_note) for day, mood, has_note in rows if day <= today]

    # -- the sending pass ---------------------------------------------------------------

    async def send_due(
        self, bot: Bot, at: datetime | None = None, *, budget: float | None = None
    ) -> PassReport:
        """Send every check-in, follow-up and offer due now (or at `at`); return the counts.

        Earliest due first. `budget` (seconds) ends the pass early, with the rest left for the
        next one. One pass runs at a time in a process; several processes may run passes.
        """
        now_of: Callable[[], datetime] = (lambda: at) if at is not None else self.clock
        counts = _Counts()
        started = clock_time.monotonic()
        async with self._pass_lock:
            recorder = _Recorder(self._record(counts), self._sessions, self._writing)
            try:
                # One task group for the pass: the next chunk is claimed while the last
                # requests of the previous one are still on the wire.
                async with asyncio.TaskGroup() as group:
                    run = _Run(bot, recorder, counts, group)
                    await self._send(run, await self._offers(now_of()))
                    await self._send(run, await self._follow_ups(now_of()))
                    while budget is None or clock_time.monotonic() - started < budget:
                        batch = await self._recover(now_of(), counts)
                        if not batch:
                            skipped = counts.skipped
                            batch = await self._claim_due(now_of(), counts)
                            if not batch and counts.skipped == skipped:
                                break  # nothing due any more
                        await self._send(run, batch)
            finally:
                await asyncio.shield(recorder.close())
        report = counts.report()
        logger.info("check-in pass: %s", report.describe())
        return report

    async def _claim_due(self, now: datetime, counts: _Counts) -> list[_Outgoing]:
        """Claim the next chunk of due check-ins (one transaction); skip those past grace."""
        async with self._sessions() as session:
            found = await storage.find_due(session, now, self._chunk)
        claims: list[tuple[Due, datetime, date]] = []
        async with self._writing, self._sessions.begin() as session:
            for due in found:
                if due_action(due.due_at, now, self._grace) != "send":
                    # Past its grace: skipped. The next one may already be due within grace
                    # (after a long downtime): the next round of this pass sends that one.
                    later = self._next_after(due, now - self._grace, sent=False)
                    if await storage.skip(session, due, later):
                        counts.skipped += 1
                    continue
                day = due.due_at.astimezone(zone_of(due.time_zone)).date()
                claims.append((due, self._next_after(due, now), day))
            won = await storage.claim(session, claims, now)  # rows another pass took are left out
        return [
            _Outgoing(_Kind.CHECK_IN, due.person_id, due.telegram_id,
                      self.check_in_message(due.language, won[due.schedule_id], due.silent),
                      won[due.schedule_id])
            for due, _, _ in claims
            if due.schedule_id in won
        ]  # fmt: skip

    async def _recover(self, now: datetime, counts: _Counts) -> list[_Outgoing]:
        """Take over claims a dead pass left (or a stopping one gave back), oldest due first."""
        batch: list[_Outgoing] = []
        async with self._sessions.begin() as session:
            for stale in await storage.find_stale_claims(session, now - LEASE, self._chunk):
                if not await storage.reclaim(session, stale, now):
                    continue
                if not self._still_wanted(stale, now):
                    await storage.drop_claim(session, stale.check_in_id)
                    counts.skipped += 1
                    continue
                message = self.check_in_message(stale.language, stale.check_in_id, stale.silent)
                batch.append(
                    _Outgoing(
                        _Kind.CHECK_IN,
                        stale.person_id,
                        stale.telegram_id,
                        message,
                        stale.check_in_id,
                    )
                )
        return batch

    def _still_wanted(self, stale: Claimed, now: datetime) -> bool:
        paused = stale.paused_until is not None and stale.paused_until > now
        muted = stale.muted_until is not None and stale.muted_until > now
        late = due_action(stale.due_at, now, self._grace) != "send"
        return stale.enabled and not (paused or muted or late)

    async def _follow_ups(self, now: datetime) -> list[_Outgoing]:
        batch: list[_Outgoing] = []
        async with self._sessions.begin() as session:
            for follow_up in await storage.find_follow_ups(session, now, self._chunk):
                if not await storage.claim_follow_up(session, follow_up):
                    continue
                if due_action(follow_up.at, now, self._grace) != "send":
                    continue  # the bot was down too long: a day-late "thinking of you" is odd
                message = self.follow_up_message(follow_up.language, follow_up.silent)
                batch.append(
                    _Outgoing(
                        _Kind.FOLLOW_UP,
                        follow_up.person_id,
                        follow_up.telegram_id,
                        message,
                        follow_up=follow_up,
                    )
                )
        return batch

    async def _offers(self, now: datetime) -> list[_Outgoing]:
        """Offer a follow-up a little after a crisis reply, once, inside the allowed hours."""
        batch: list[_Outgoing] = []
        async with self._sessions.begin() as session:
            events = await storage.crisis_events_after(session, self._crisis_floor, 1000)
            floor_done = True
            for event_id, person_id, created_at in events:
                if created_at > now - OFFER_DELAY:
                    break  # too fresh: look again in a later pass
                settled = await self._offer_for(
                    session, event_id, person_id, created_at, now, batch
                )
                if settled and floor_done:
                    self._crisis_floor = event_id
                floor_done = floor_done and settled
        return batch

    async def _offer_for(
        self,
        session: AsyncSession,
        event_id: int,
        person_id: int,
        created_at: datetime,
        now: datetime,
        batch: list[_Outgoing],
    ) -> bool:
        """Queue an offer for this crisis if it is wanted; True when nothing more is needed.

        Only people who turned check-ins on get it from here: they asked SafePlace to write
        on its own. Everyone else is asked in the conversation (offer_follow_up), never
        out of the blue.
        """
        if created_at < now - OFFER_WINDOW:
            return True
        person = await storage.find_person_by_id(session, person_id)
        schedule = await storage.get_schedule(session, person_id, for_update=True)
        if person is None or schedule is None or not schedule.enabled:
            return True
        seen = schedule.crisis_seen_id
        if seen is not None and seen >= event_id:
            return True
        if not self._may_offer(schedule, now):
            await storage.claim_crisis(session, schedule.id, event_id)
            return True
        if self._quiet_now(person, schedule, now):
            return False  # try again later, while the crisis is recent
        if not await storage.claim_crisis(session, schedule.id, event_id):
            return True
        schedule.follow_up_offered_at = now
        message = self._offer_message(person.language, silent=schedule.silent)
        batch.append(_Outgoing(_Kind.OFFER, person_id, person.telegram_id, message))
        return True

    def _quiet_now(self, person: Person, schedule: CheckInSchedule, now: datetime) -> bool:
        muted = aware(schedule.muted_until)
        if muted is not None and muted > now:
            return True
        start, end = _time(schedule.quiet_start), _time(schedule.quiet_end)
        if start is None or end is None:
            return False
        return in_quiet_hours(now, self._zone(person, schedule), start, end)

    async def _send(self, run: _Run, batch: list[_Outgoing]) -> None:
        """Start sending a batch in order under the rate limit; return once all have started."""
        waiting = list(reversed(batch))
        try:
            while waiting:
                while run.in_flight >= self._concurrency():
                    run.freed.clear()
                    await run.freed.wait()
                slot = await self.limiter.wait()
                item = waiting.pop()
                run.in_flight += 1
                run.group.create_task(self._deliver(run, item, slot))
        finally:
            for item in waiting:  # stopped before these were sent: give them back
                run.recorder.add(item, _Result.GIVE_BACK)

    async def _deliver(self, run: _Run, item: _Outgoing, slot: Slot) -> None:
        try:
            result, message_id = await self._attempts(run, item, slot)
            run.recorder.add(item, result, message_id)
        finally:
            run.in_flight -= 1
            run.freed.set()

    def _concurrency(self) -> int:
        """How many requests to keep on the wire: enough for the rate at the latency seen."""
        wanted = self.limiter.per_second * self._latency * 1.5 + 1
        return max(2, min(IN_FLIGHT, math.ceil(wanted)))

    async def _attempts(
        self, run: _Run, item: _Outgoing, slot: Slot
    ) -> tuple[_Result, int | None]:
        recorder, counts = run.recorder, run.counts
        delay = 0.5
        for attempt in range(1, ATTEMPTS + 1):
            if attempt > 1:
                slot = await self.limiter.wait()
            try:
                if clock_time.monotonic() - item.claimed > LEASE.total_seconds() / 2:
                    return _Result.GIVE_BACK, None  # the claim grows old: never race its lease
                request = asyncio.ensure_future(self._request(run.bot, item))
                began = clock_time.monotonic()
                message_id = await asyncio.shield(request)
                self._latency += (clock_time.monotonic() - began - self._latency) / 20
                return _Result.SENT, message_id
            except asyncio.CancelledError:
                # Stopping: a request already on the wire may finish, so what went out is
                # recorded as sent and what did not is given back.
                await asyncio.wait([request], timeout=DRAIN_SECONDS)
                if request.done() and not request.cancelled() and request.exception() is None:
                    recorder.add(item, _Result.SENT, request.result())
                else:
                    request.cancel()
                    recorder.add(item, _Result.RETRY)
                raise
            except RetryAfter as error:
                wait = error.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                counts.flood_waits += 1
                logger.warning("flood limit while sending check-ins: waiting %.1f s", seconds)
                self.limiter.hold(seconds)
            except Forbidden:
                return _Result.BLOCKED, None
            except BadRequest as error:
                if "chat not found" in str(error).lower():
                    return _Result.BLOCKED, None
                logger.warning("a check-in was refused (%s)", type(error).__name__)
                return _Result.REFUSED, None
            except NetworkError as error:
                logger.warning(
                    "sending a check-in failed (%s), retry %d", type(error).__name__, attempt
                )
                await asyncio.sleep(delay)
                delay *= 2
            except TelegramError as error:
                logger.warning("a check-in was refused (%s)", type(error).__name__)
                return _Result.REFUSED, None
            finally:
                slot.finish()  # answered, refused or never sent: it counts one second more
        return _Result.RETRY, None

    async def _request(self, bot: Bot, item: _Outgoing) -> int:
        message = item.message
        sent = await bot.send_message(
            item.telegram_id,
            message.text,
            reply_markup=keyboard(message),
            disable_notification=message.silent,
            protect_content=message.protect,
            link_preview_options=NO_PREVIEW,
        )
        return int(sent.message_id)

    def _record(
        self, counts: _Counts
    ) -> Callable[[AsyncSession, list[tuple[_Outgoing, _Result, int | None]]], Any]:
        async def apply(
            session: AsyncSession, batch: list[tuple[_Outgoing, _Result, int | None]]
        ) -> None:
            now = self.clock()
            sent = [(item.check_in_id, message_id) for item, result, message_id in batch
                    if result is _Result.SENT and item.check_in_id is not None]  # fmt: skip
            await storage.mark_sent(session, sent, now)
            for item, result, message_id in batch:
                if result is _Result.SENT and message_id is not None:
                    # /hide deletes what SafePlace sent on its own too.
                    await messages.remember_messages(session, item.person_id, item.telegram_id,
                                                     [message_id])  # fmt: skip
            counts.sent += len(sent)
            for item, result, message_id in batch:
                if not (result is _Result.SENT and item.check_in_id is not None):
                    await self._record_one(session, item, result, message_id, now, counts)

        return apply

    async def _record_one(
        self,
        session: AsyncSession,
        item: _Outgoing,
        result: _Result,
        message_id: int | None,
        now: datetime,
        counts: _Counts,
    ) -> None:
        check_in_id = item.check_in_id
        if result is _Result.SENT:
            if item.kind is _Kind.FOLLOW_UP:
                counts.follow_ups += 1
            else:
                counts.offers += 1
            return
        if result is _Result.BLOCKED:
            # Telegram says this person blocked the bot: stop writing to them at all.
            await storage.turn_off(session, item.person_id)
            logger.info("person %s blocked the bot: check-ins off", item.person_id)
            counts.blocked += 1
        elif result is _Result.REFUSED:
            counts.failed += 1
        elif item.kind is _Kind.CHECK_IN and check_in_id is not None:
            again = RELEASED if result is _Result.GIVE_BACK else now - LEASE + RETRY_AFTER
            await storage.release(session, check_in_id, again)
            counts.released += 1
            return
        elif item.follow_up is not None:
            await storage.restore_follow_up(session, item.follow_up)
            counts.released += 1
            return
        if check_in_id is not None:
            await storage.drop_claim(session, check_in_id)

    # -- scheduling -----------------------------------------------------------------------

    def _next_after(self, due: Due, now: datetime, *, sent: bool = True) -> datetime:
        """The next check-in after this one, outside quiet hours; after a sent one, on a later
        local day."""
        local_time = _time(due.local_time) or time(0, 0)
        return next_check_in(
            local_time,
            due.time_zone,
            max(now, due.due_at),
            quiet=(_time(due.quiet_start), _time(due.quiet_end)),
            paused_until=due.paused_until,
            muted_until=due.muted_until,
            last_due=due.due_at if sent else None,
        )

    def _reschedule(self, schedule: CheckInSchedule, person: Person, now: datetime) -> None:
        """Recompute next_due_at after any change to the settings."""
        local_time = _time(schedule.local_time)
        if not schedule.enabled or local_time is None or schedule.time_zone is None:
            schedule.next_due_at = None
            return
        schedule.next_due_at = next_check_in(
            local_time,
            schedule.time_zone,
            now,
            quiet=(_time(schedule.quiet_start), _time(schedule.quiet_end)),
            paused_until=aware(schedule.paused_until),
            muted_until=aware(schedule.muted_until),
            last_due=aware(schedule.last_due_at),
        )

    # -- words ------------------------------------------------------------------------------

    def _say(self, language: str, key: str, **fields: str) -> str:
        return self._words.say(language, key, **fields)

    def _button(self, language: str, key: str, action: str) -> Button:
        return Button(self._say(language, key), f"{PREFIX}:{action}")

    def _opening(self, language: str) -> str:
        return self._first_line or self._say(language, "checkin_first_line")

    def _labels(self, language: str) -> ChartLabels:
        moods = tuple(self._say(language, f"mood_{mood}") for mood in range(1, 6))
        return ChartLabels(
            moods=cast(tuple[str, str, str, str, str], moods),
            months=tuple(self._say(language, "mood_months").split(",")),
            date_pattern=self._say(language, "mood_date_pattern"),
            note=self._say(language, "mood_chart_note"),
        )

    def _zone(self, person: Person, schedule: CheckInSchedule | None) -> str:
        if schedule is not None and schedule.time_zone:
            return schedule.time_zone
        zones = zones_for_country(person.country or self._default_country or "")
        return zones[0] if zones else "UTC"

    def _when_of(self, person: Person, schedule: CheckInSchedule) -> str:
        due = aware(schedule.next_due_at)
        zone = self._zone(person, schedule)
        return self._when(person.language, due or self.clock(), zone)

    def _when(self, language: str, moment: datetime, zone: str) -> str:
        local = moment.astimezone(zone_of(zone))
        return self._say(
            language,
            "checkin_when",
            date=self._labels(language).day(local.date()),
            time=f"{local:%H:%M}",
            zone=zone,
        )

    def _date(self, language: str, moment: datetime, zone: str | None) -> str:
        local = moment.astimezone(zone_of(zone or "UTC"))
        return self._labels(language).day(local.date())

    def _retry(self, person: Person, schedule: CheckInSchedule, key: str) -> list[Message] | None:
        schedule.awaiting_tries = (schedule.awaiting_tries or 0) + 1
        if schedule.awaiting_tries >= MAX_TRIES:
            _clear_await(schedule)
            return None
        cancel = self._button(person.language, "checkin_cancel", "cancel")
        return [Message(self._say(person.language, key), ((cancel,),))]


def next_check_in(
    local_time: time,
    zone: str,
    after: datetime,
    *,
    quiet: tuple[time | None, time | None] = (None, None),
    paused_until: datetime | None = None,
    muted_until: datetime | None = None,
    last_due: datetime | None = None,
) -> datetime:
    """Return when the next check-in goes out: the first local `local_time` after `after`,
    after any pause or mute (a muted day is skipped, not postponed), moved out of quiet hours,
    and never on the same local day as the last one."""
    start = max(moment for moment in (after, paused_until, muted_until) if moment is not None)
    moment = deliverable_at(next_due(local_time, zone, start), zone, quiet[0], quiet[1], None)
    if last_due is not None:
        tz = zone_of(zone)
        if moment.astimezone(tz).date() == last_due.astimezone(tz).date():
            later = next_due(local_time, zone, moment)
            moment = deliverable_at(later, zone, quiet[0], quiet[1], None)
    return moment


async def run_pass(settings: Settings, at: datetime | None = None) -> PassReport:
    """Run one pass by hand (`safeplace checkins send-due`) against the configured Bot API."""
    from bot.services import Services  # services builds CheckIns: import it only here

    services = await Services.start(settings)
    try:
        request = HTTPXRequest(connection_pool_size=IN_FLIGHT + 4)
        bot = Bot(
            settings.telegram_bot_token or "",
            base_url=settings.telegram_base_url,
            request=request,
        )
        async with bot:
            return await services.checkins.send_due(bot, at)
    finally:
        await services.close()


async def on_check_in_pass(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The periodic job: one pass, bounded so that the next run starts on time."""
    services = context.application.bot_data["services"]
    checkins: CheckIns = services.checkins
    interval = float(services.settings.checkin_pass_seconds)
    await checkins.send_due(context.bot, budget=max(1.0, interval * 0.9))


def _await(
    schedule: CheckInSchedule, kind: str, now: datetime, check_in_id: int | None = None
) -> None:
    schedule.awaiting = kind
    schedule.awaiting_since = now
    schedule.awaiting_check_in_id = check_in_id
    schedule.awaiting_tries = 0


def _clear_await(schedule: CheckInSchedule) -> None:
    schedule.awaiting = None
    schedule.awaiting_since = None
    schedule.awaiting_check_in_id = None
    schedule.awaiting_tries = 0


def _iso(moment: datetime | None) -> str | None:
    stored = aware(moment)
    return None if stored is None else stored.isoformat()


def _time(value: str | None) -> time | None:
    return parse_time_of_day(value) if value else None


def _parse_window(text: str) -> tuple[time, time] | None:
    """Read "22:00-07:00", "22 - 7", "10pm to 7am" (or "a"/"hasta" in Spanish)."""
    for separator in ("–", "—", " to ", " hasta ", " a ", "-"):
        if separator in text:
            start, _, end = text.partition(separator)
            first, last = parse_time_of_day(start.strip()), parse_time_of_day(end.strip())
            if first is not None and last is not None and first != last:
                return first, last
    return None


def _rows(rows: Sequence[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in rows)
