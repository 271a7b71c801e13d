"""Daily check-ins: settings, the sending pass over a local Bot API, moods, notes and /mood."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.checkins import CheckIns, RateLimiter, next_check_in
from bot.config import Settings
from bot.conversation import Message, Outcome, Who
from bot.services import Services
from bot.storage import checkins as storage
from bot.storage import people
from bot.storage.models import ChatMessage, CheckIn, CheckInSchedule
from bot.words import words
from emulator import BotApiEmulator
from tests.bot.conftest import TEST_KEY, sqlite_settings

TOKEN = "123456:TEST-TOKEN-FOR-SAFEPLACE"
WINTER = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand: no sleeps, explicit instants."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiEmulator]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter without a deprecation warning
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(api: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN, base_url=api.base_url, request=HTTPXRequest(connection_pool_size=32)
    ) as client:
        yield client


@pytest.fixture
def clock(services: Services) -> Clock:
    moved = Clock(WINTER)
    services.checkins.clock = moved
    return moved


async def opt_in(
    services: Services, telegram_id: int, at: str = "2130", zone: str = "Europe/Berlin"
) -> Outcome:
    who = Who(telegram_id, "en")
    conversations = services.conversations
    await conversations.command(who, "start")
    await conversations.command(who, "checkin")
    await conversations.press(who, "ci:on")
    await conversations.press(who, f"ci:st:{at}")
    return await conversations.press(who, f"ci:sz:{zone}")


async def schedule_of(services: Services, telegram_id: int) -> CheckInSchedule:
    async with services.sessions() as session:
        person = await people.find_person(session, telegram_id)
        assert person is not None
        schedule = await storage.get_schedule(session, person.id)
        assert schedule is not None
        return schedule


async def next_due_of(services: Services, telegram_id: int) -> datetime | None:
    return storage.aware((await schedule_of(services, telegram_id)).next_due_at)


def sent_to(api: BotApiEmulator) -> Counter[int]:
    return Counter(int(call.chat_id or 0) for call in api.calls_to("sendMessage") if call.ok)


def texts(outcome: Outcome | list[Message]) -> str:
    messages = outcome.messages if isinstance(outcome, Outcome) else outcome
    return "\n".join(message.text for message in messages)


def data_of(outcome: Outcome) -> list[str]:
    return [button.data for m in outcome.messages for row in m.buttons for button in row]


# -- opting in and settings --------------------------------------------------------------


async def test_nothing_is_sent_to_someone_who_has_not_opted_in(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=701, first_name="A", language_code="en")
    who = Who(701, "en")
    await services.conversations.command(who, "start")
    intro = await services.conversations.command(who, "checkin")
    assert "ci:on" in data_of(intro)
    await services.conversations.press(who, "ci:close")
    # An old "change the time" button must not switch check-ins on.
    stale = await services.conversations.press(who, "ci:t:0900")
    assert "earlier day" in texts(stale) or "left it" in texts(stale)
    report = await services.checkins.send_due(bot, at=WINTER + timedelta(days=3))
    assert report.sent == 0 and sent_to(api) == Counter()
    assert await next_due_of(services, 701) is None


async def test_opting_in_by_buttons_schedules_the_local_time(
    services: Services, clock: Clock
) -> None:
    outcome = await opt_in(services, 702, "2130", "Europe/Berlin")
    assert "Check-ins are on" in texts(outcome)
    assert "21:30 (Europe/Berlin)" in texts(outcome)
    assert await next_due_of(services, 702) == datetime(2026, 1, 12, 20, 30, tzinfo=UTC)


async def test_typed_time_and_offset_zone(services: Services, clock: Clock) -> None:
    who = Who(703, "en")
    conversations = services.conversations
    await conversations.command(who, "start")
    await conversations.press(who, "ci:on")
    asked = await conversations.text(who, "7am")
    assert "time zone" in texts(asked)
    done = await conversations.text(who, "UTC+5:45")
    assert "Check-ins are on" in texts(done)
    # 07:00 at UTC+05:45 is 01:15 UTC.
    assert await next_due_of(services, 703) == datetime(2026, 1, 13, 1, 15, tzinfo=UTC)


async def test_unreadable_answers_get_a_hint_then_the_bot_stops_asking(
    services: Services, clock: Clock
) -> None:
    who = Who(704, "en")
    await services.conversations.command(who, "start")
    await services.conversations.press(who, "ci:on")
    hint = await services.conversations.text(who, "whenever")
    assert "couldn't read that as a time" in texts(hint)
    await services.conversations.text(who, "later")
    third = await services.conversations.text(who, "hello?")
    assert "couldn't read" not in texts(third)  # given up: the ordinary answer instead
    assert (await schedule_of(services, 704)).awaiting is None


async def test_the_question_state_lives_in_the_database_for_every_process(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    who = Who(705, "en")
    await services.conversations.command(who, "start")
    await services.conversations.press(who, "ci:on")
    other = await Services.start(sqlite_settings(tmp_path))  # a second process, same database
    try:
        other.checkins.clock = clock
        asked = await other.conversations.text(who, "21:30")
        assert "time zone" in texts(asked)
    finally:
        await other.close()
    done = await services.conversations.text(who, "Europe/Berlin")
    assert "Check-ins are on" in texts(done)


async def test_starting_an_exercise_drops_the_open_question(
    services: Services, clock: Clock
) -> None:
    who = Who(706, "en")
    await services.conversations.command(who, "start")
    await services.conversations.press(who, "ci:on")
    clock.now += timedelta(seconds=5)
    await services.conversations.press(who, "f:grounding")
    await services.conversations.press(who, "grounding:1:intro:start")
    await services.conversations.text(who, "9pm")
    schedule = await schedule_of(services, 706)
    assert schedule.local_time is None and schedule.awaiting is None


async def test_quiet_hours_move_a_check_in_to_their_end(services: Services, clock: Clock) -> None:
    await opt_in(services, 707, "2300", "UTC")
    out = await services.conversations.press(Who(707, "en"), "ci:q:2200-0700")
    assert "between 22:00 and 07:00" in texts(out)
    assert await next_due_of(services, 707) == datetime(2026, 1, 13, 7, 0, tzinfo=UTC)
    typed = await services.conversations.press(Who(707, "en"), "ci:q")
    assert "never write" in texts(typed)
    await services.conversations.text(Who(707, "en"), "23:30 - 06:00")
    assert (await schedule_of(services, 707)).quiet_start == "23:30"


async def test_pause_for_days_and_resume(services: Services, clock: Clock) -> None:
    await opt_in(services, 708, "0900", "UTC")
    out = await services.conversations.press(Who(708, "en"), "ci:p:3")
    assert "start again on 15 Jan" in texts(out)
    assert await next_due_of(services, 708) == datetime(2026, 1, 16, 9, 0, tzinfo=UTC)
    await services.conversations.press(Who(708, "en"), "ci:resume")
    assert await next_due_of(services, 708) == datetime(2026, 1, 13, 9, 0, tzinfo=UTC)


async def test_not_a_good_time_mutes_and_skips_the_day(services: Services, clock: Clock) -> None:
    await opt_in(services, 709, "2100", "UTC")
    clock.now = datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    asked = await services.conversations.press(Who(709, "en"), "ci:x")
    assert "ci:x:4" in data_of(asked)
    muted = await services.conversations.press(Who(709, "en"), "ci:x:4")
    assert "until 22:00" in texts(muted)
    assert await next_due_of(services, 709) == datetime(2026, 1, 13, 21, 0, tzinfo=UTC)
    await services.conversations.press(Who(709, "en"), "ci:x:2")  # until 20:00: today stays
    assert await next_due_of(services, 709) == datetime(2026, 1, 12, 21, 0, tzinfo=UTC)


async def test_turning_off_stops_everything(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=710, first_name="A", language_code="en")
    await opt_in(services, 710, "0900", "UTC")
    off = await services.conversations.command(Who(710, "en"), "checkin", "off")
    assert "Check-ins are off" in texts(off)
    assert await next_due_of(services, 710) is None
    report = await services.checkins.send_due(bot, at=WINTER + timedelta(days=2))
    assert report.sent == 0 and not sent_to(api)


# -- time zones and daylight saving, through the whole pass ------------------------------


async def test_spring_forward_sends_once_after_the_gap(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=720, first_name="A", language_code="en")
    clock.now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    await opt_in(services, 720, "0230", "Europe/Berlin")  # 02:30 does not exist on 29 March
    due = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, the end of the gap
    assert await next_due_of(services, 720) == due
    assert (await services.checkins.send_due(bot, at=due - timedelta(seconds=1))).sent == 0
    assert (await services.checkins.send_due(bot, at=due)).sent == 1
    assert (await services.checkins.send_due(bot, at=due + timedelta(hours=1))).sent == 0
    assert await next_due_of(services, 720) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
    assert sent_to(api) == Counter({720: 1})


async def test_fall_back_sends_an_ambiguous_time_once(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=721, first_name="A", language_code="en")
    clock.now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    await opt_in(services, 721, "0230", "Europe/Berlin")  # 02:30 happens twice on 25 October
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert await next_due_of(services, 721) == first
    assert (await services.checkins.send_due(bot, at=first)).sent == 1
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 02:30
    assert (await services.checkins.send_due(bot, at=second)).sent == 0
    assert await next_due_of(services, 721) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    assert sent_to(api) == Counter({721: 1})


async def test_new_york_spring_forward_and_back_to_a_normal_day(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=722, first_name="A", language_code="en")
    clock.now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    await opt_in(services, 722, "2100", "America/New_York")
    before = datetime(2026, 3, 8, 2, 0, tzinfo=UTC)  # 21:00 EST on 7 March
    after = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 21:00 EDT on 8 March: an hour earlier
    assert (await services.checkins.send_due(bot, at=before)).sent == 1
    assert await next_due_of(services, 722) == after
    assert (await services.checkins.send_due(bot, at=after)).sent == 1


@pytest.mark.parametrize(
    ("zone", "at", "due", "local_day"),
    [
        ("UTC+5:45", "0700", datetime(2026, 1, 13, 1, 15, tzinfo=UTC), date(2026, 1, 13)),
        ("Asia/Kathmandu", "0700", datetime(2026, 1, 13, 1, 15, tzinfo=UTC), date(2026, 1, 13)),
        ("UTC-10", "2100", datetime(2026, 1, 13, 7, 0, tzinfo=UTC), date(2026, 1, 12)),
        ("Pacific/Honolulu", "2100", datetime(2026, 1, 13, 7, 0, tzinfo=UTC), date(2026, 1, 12)),
    ],
)
async def test_offsets_far_from_utc(
    services: Services,
    clock: Clock,
    api: BotApiEmulator,
    bot: Bot,
    zone: str,
    at: str,
    due: datetime,
    local_day: date,
) -> None:
    api.user(id=723, first_name="A", language_code="en")
    who = Who(723, "en")
    await services.conversations.command(who, "start")
    await services.conversations.press(who, "ci:on")
    await services.conversations.text(who, at)
    await services.conversations.text(who, zone)
    assert await next_due_of(services, 723) == due
    assert (await services.checkins.send_due(bot, at=due - timedelta(minutes=1))).sent == 0
    assert (await services.checkins.send_due(bot, at=due)).sent == 1
    async with services.sessions() as session:
        row = await session.scalar(select(CheckIn))
        assert row is not None and row.day == local_day  # the person's day, not UTC's


def test_next_check_in_is_never_twice_on_one_local_day() -> None:
    last = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    # Changing the time to later the same day, after today's went out, waits for tomorrow.
    later = next_check_in(time(20, 0), "UTC", last + timedelta(hours=1), last_due=last)
    assert later == datetime(2026, 1, 13, 20, 0, tzinfo=UTC)


# -- downtime, restarts, several processes -----------------------------------------------


async def test_a_check_in_missed_past_the_grace_period_is_skipped(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=730, first_name="A", language_code="en")
    await opt_in(services, 730, "0900", "UTC")
    due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    report = await services.checkins.send_due(bot, at=due + timedelta(hours=3))
    assert (report.sent, report.skipped) == (0, 1)
    assert await next_due_of(services, 730) == due + timedelta(days=1)


async def test_after_days_of_downtime_at_most_one_late_check_in(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=731, first_name="A", language_code="en")
    await opt_in(services, 731, "0900", "UTC")
    back = datetime(2026, 1, 16, 9, 40, tzinfo=UTC)  # down since before the 13th's
    report = await services.checkins.send_due(bot, at=back)
    assert (report.sent, report.skipped) == (1, 1)  # the 16th's, 40 minutes late; no pile
    assert sent_to(api) == Counter({731: 1})
    assert await next_due_of(services, 731) == datetime(2026, 1, 17, 9, 0, tzinfo=UTC)


async def people_due(services: Services, api: BotApiEmulator, first_id: int, count: int) -> None:
    for telegram_id in range(first_id, first_id + count):
        api.user(id=telegram_id, first_name="P", language_code="en")
        await opt_in(services, telegram_id, "0900", "UTC")


async def test_a_stop_in_the_middle_of_a_pass_loses_and_repeats_nothing(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot, tmp_path: Path
) -> None:
    await people_due(services, api, 800, 20)
    due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    slow = CheckIns(services.sessions, words(), rate_limit=10, clock=clock)
    running = asyncio.create_task(slow.send_due(bot, at=due))
    while api.count("sendMessage") < 6:
        await asyncio.sleep(0.01)
    running.cancel()  # what Application.stop() does to a running job
    with pytest.raises(asyncio.CancelledError):
        await running
    first = sum(sent_to(api).values())
    assert 6 <= first < 20

    restarted = await Services.start(sqlite_settings(tmp_path))  # a new process
    try:
        report = await restarted.checkins.send_due(bot, at=due + timedelta(minutes=1))
    finally:
        await restarted.close()
    assert report.sent == 20 - first
    assert sent_to(api) == Counter({telegram_id: 1 for telegram_id in range(800, 820)})
    async with services.sessions() as session:
        states = Counter((await session.scalars(select(CheckIn.state))).all())
    assert states == Counter({"sent": 20})


async def test_a_killed_process_leaves_claims_the_next_pass_sends_once(
    services: Services, clock: Clock, api: BotApiEmulator, tmp_path: Path
) -> None:
    await people_due(services, api, 850, 15)
    due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": api.base_url,
        "DATABASE_URL": sqlite_settings(tmp_path).database_url,
        "ENCRYPTION_KEY": TEST_KEY,
        "CHECKIN_RATE_LIMIT": "5",
        "PTB_TIMEDELTA": "true",
    }

    async def send_due(at: datetime) -> str:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "checkins", "send-due", "--at", at.isoformat(),
            env=environment, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
        assert process.returncode == 0
        return out.decode()

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "checkins", "send-due", "--at", due.isoformat(),
        env=environment, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    while api.count("sendMessage") < 4:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)  # between two sends (5 per second): the last one is recorded
    process.send_signal(signal.SIGKILL)
    await process.wait()
    killed_after = sum(sent_to(api).values())
    assert 4 <= killed_after < 15

    soon = await send_due(due + timedelta(minutes=1))  # claims of the dead pass are still fresh
    after_lease = await send_due(due + timedelta(minutes=6))  # now they are taken over
    assert "sent" in soon and "sent" in after_lease
    assert sent_to(api) == Counter({telegram_id: 1 for telegram_id in range(850, 865)})


async def test_two_processes_passing_at_once_send_each_check_in_once(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot, tmp_path: Path
) -> None:
    await people_due(services, api, 900, 30)
    due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    other = await Services.start(sqlite_settings(tmp_path))
    try:
        reports = await asyncio.gather(
            services.checkins.send_due(bot, at=due), other.checkins.send_due(bot, at=due)
        )
    finally:
        await other.close()
    assert sum(report.sent for report in reports) == 30
    assert sent_to(api) == Counter({telegram_id: 1 for telegram_id in range(900, 930)})


async def test_postgresql_claims_are_exclusive_across_processes(
    postgres_url: str, api: BotApiEmulator, bot: Bot
) -> None:
    settings = Settings(database_url=postgres_url, encryption_key=TEST_KEY)
    first, second = await Services.start(settings), await Services.start(settings)
    try:
        clock = Clock(WINTER)
        first.checkins.clock = second.checkins.clock = clock
        await people_due(first, api, 950, 30)
        due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
        reports = await asyncio.gather(
            first.checkins.send_due(bot, at=due), second.checkins.send_due(bot, at=due)
        )
        assert sum(report.sent for report in reports) == 30
        assert sent_to(api) == Counter({telegram_id: 1 for telegram_id in range(950, 980)})
        # A claim left by a pass that died is taken over by exactly one of two passes.
        async with first.sessions.begin() as session:
            await session.execute(
                text("UPDATE check_in SET state = 'claimed', claimed_at = :old"),
                {"old": due},
            )
        later = due + timedelta(minutes=10)
        again = await asyncio.gather(
            first.checkins.send_due(bot, at=later), second.checkins.send_due(bot, at=later)
        )
        assert sum(report.sent for report in again) == 30
        assert set(sent_to(api).values()) == {2}
    finally:
        await first.close()
        await second.close()


# -- Telegram's answers ------------------------------------------------------------------


async def test_a_person_who_blocked_the_bot_gets_no_more_check_ins(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    sam = api.user(id=740, first_name="Sam", language_code="en")
    await opt_in(services, 740, "0900", "UTC")
    sam.block_bot()
    due = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    report = await services.checkins.send_due(bot, at=due)
    assert (report.sent, report.blocked) == (0, 1)
    schedule = await schedule_of(services, 740)
    assert not schedule.enabled and schedule.next_due_at is None
    sam.unblock_bot()
    assert (await services.checkins.send_due(bot, at=due + timedelta(days=1))).sent == 0


async def test_a_flood_limit_is_waited_out_and_everyone_still_gets_one(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    await people_due(services, api, 1000, 3)
    api.fail_next("sendMessage", 429, retry_after=1)
    report = await services.checkins.send_due(bot, at=datetime(2026, 1, 13, 9, tzinfo=UTC))
    assert (report.sent, report.flood_waits) == (3, 1)
    assert any(call.status == 429 for call in api.calls_to("sendMessage"))
    assert sent_to(api) == Counter({1000: 1, 1001: 1, 1002: 1})


async def test_the_global_rate_limit_is_never_exceeded(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    await people_due(services, api, 1100, 25)
    api.set_global_rate_limit(10)
    limited = CheckIns(services.sessions, words(), rate_limit=10, clock=clock)
    report = await limited.send_due(bot, at=datetime(2026, 1, 13, 9, tzinfo=UTC))
    assert report.sent == 25 and report.flood_waits == 0
    assert not api.failed_calls()


async def test_rate_limiter_spacing() -> None:
    limiter = RateLimiter(200)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(201):
        (await limiter.wait()).finish()
    assert loop.time() - started >= 1.0  # 201 starts need more than one second at 200/s


async def test_a_slow_answer_keeps_counting_against_the_limit() -> None:
    limiter = RateLimiter(2)
    loop = asyncio.get_running_loop()
    first = await limiter.wait()
    await limiter.wait()
    started = loop.time()
    await asyncio.sleep(0.3)
    first.finish()  # answered late: it may have reached Telegram just now
    third = asyncio.create_task(limiter.wait())
    await asyncio.sleep(0.5)
    assert not third.done()  # still both in the last second (the other is on the wire)
    assert loop.time() - started < 1.0
    third.cancel()


# -- the check-in, moods, notes -----------------------------------------------------------


async def checked_in(
    services: Services, api: BotApiEmulator, bot: Bot, telegram_id: int
) -> tuple[list[str], datetime]:
    user = api.user(id=telegram_id, first_name="Sam", language_code="en")
    await opt_in(services, telegram_id, "0900", "UTC")
    due = await next_due_of(services, telegram_id)
    assert due is not None
    services.checkins.clock = Clock(due)
    await services.checkins.send_due(bot, at=due)
    message = await user.next_bot_message()
    assert message.disable_notification  # silent by default
    assert (message.text or "").startswith("Hi, just checking in.\n\nHow are you feeling today?")
    assert "SafePlace" not in (message.text or "")
    buttons = [data for row in message.raw["reply_markup"]["inline_keyboard"]
               for data in (button["callback_data"] for button in row)]  # fmt: skip
    return buttons, due


async def test_answering_with_a_mood_and_a_note(
    services: Services, api: BotApiEmulator, bot: Bot
) -> None:
    buttons, _ = await checked_in(services, api, bot, 760)
    assert len(buttons) == 6 and buttons[-1] == "ci:x"
    who = Who(760, "en")
    low = next(data for data in buttons if data.endswith(":2"))
    answer = await services.conversations.press(who, low)
    assert "hard day" in texts(answer) and "short note" in texts(answer)
    saved = await services.conversations.text(who, "slept badly, walked the dog")
    assert "Saved" in texts(saved)
    async with services.sessions() as session:
        row = await session.scalar(select(CheckIn))
        assert row is not None and (row.mood, row.note) == (2, "slept badly, walked the dog")
        raw = await session.scalar(text("SELECT note FROM check_in"))
        assert "walked" not in str(raw)  # stored encrypted


async def test_a_crisis_in_a_note_gets_the_crisis_reply_and_is_not_kept(
    services: Services, api: BotApiEmulator, bot: Bot
) -> None:
    buttons, _ = await checked_in(services, api, bot, 761)
    services.checkins.clock = lambda: datetime.now(UTC)  # safety events carry the real time
    who = Who(761, "en")
    await services.conversations.press(who, buttons[-2])  # the lowest mood
    crisis = await services.conversations.text(who, "i want to kill myself tonight")
    assert crisis.assessment is not None and crisis.assessment.level.value == "crisis"
    after = await services.conversations.text(who, "ok")
    assert "Saved" not in texts(after)  # the question was dropped by the crisis reply
    async with services.sessions() as session:
        row = await session.scalar(select(CheckIn))
        assert row is not None and row.note is None


async def test_skipping_the_note(services: Services, api: BotApiEmulator, bot: Bot) -> None:
    buttons, _ = await checked_in(services, api, bot, 762)
    who = Who(762, "en")
    await services.conversations.press(who, buttons[0])
    skipped = await services.conversations.press(who, "ci:n")
    assert "Take care" in texts(skipped)
    assert (await schedule_of(services, 762)).awaiting is None


async def test_several_low_days_gently_offer_grounding_plan_and_resources(
    services: Services, api: BotApiEmulator, bot: Bot
) -> None:
    buttons, due = await checked_in(services, api, bot, 763)
    async with services.sessions.begin() as session:
        person = await people.find_person(session, 763)
        assert person is not None
        for days_ago in (1, 2):
            earlier = due - timedelta(days=days_ago)
            row = await storage.add_check_in(session, person.id, earlier, earlier.date())
            row.mood = 1
    answer = await services.conversations.press(Who(763, "en"), buttons[-2])  # lowest again
    assert {"f:grounding", "c:plan", "r:"} <= set(data_of(answer))
    assert "!" not in texts(answer)  # no alarm


async def test_an_old_check_in_button_changes_nothing(services: Services, clock: Clock) -> None:
    await opt_in(services, 764, "0900", "UTC")
    stale = await services.conversations.press(Who(764, "en"), "ci:m:999:3")
    assert "earlier day" in texts(stale)


# -- /mood ---------------------------------------------------------------------------------


async def seed_moods(services: Services, telegram_id: int, days: int) -> None:
    await services.conversations.command(Who(telegram_id, "en"), "start")
    async with services.sessions.begin() as session:
        person = await people.find_person(session, telegram_id)
        assert person is not None
        for back in range(days):
            day = WINTER.date() - timedelta(days=back)
            row = await storage.add_check_in(session, person.id, WINTER, day)
            row.mood = 1 + back % 5
            row.note = "a note" if back % 7 == 0 else None


@pytest.mark.parametrize("days", [0, 1, 30])
async def test_mood_chart_for_0_1_and_30_days(services: Services, clock: Clock, days: int) -> None:
    await seed_moods(services, 770 + days, days)
    outcome = await services.conversations.command(Who(770 + days, "en"), "mood")
    (message,) = outcome.messages
    if days == 0:
        assert message.photo is None and "/checkin" in message.text
        return
    assert message.photo is not None and message.photo.startswith(b"\x89PNG")
    assert message.protect
    if days == 1:
        assert message.text == "Your last 30 days: 1 check-in, 1 out of 5."
    else:
        assert message.text.startswith("Your last 30 days: 30 check-ins, on average 3.0 out of 5")


async def test_mood_summary_in_spanish(services: Services, clock: Clock) -> None:
    await seed_moods(services, 780, 4)
    async with services.sessions.begin() as session:
        person = await people.find_person(session, 780)
        assert person is not None
        person.language = "es"
    outcome = await services.conversations.command(Who(780, "es"), "mood")
    assert "2,5 sobre 5" in outcome.messages[0].text


# -- the caring follow-up after a crisis ---------------------------------------------------


async def test_after_a_crisis_one_follow_up_only_with_a_yes(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    sam = api.user(id=790, first_name="Sam", language_code="en")
    who = Who(790, "en")
    await opt_in(services, 790, "0900", "UTC")
    await services.conversations.text(who, "i want to end my life")
    crisis_at = datetime.now(UTC)  # the safety event's own time
    early = await services.checkins.send_due(bot, at=crisis_at + timedelta(minutes=5))
    assert early.offers == 0  # never on top of the crisis reply
    clock.now = crisis_at + timedelta(minutes=25)
    offered = await services.checkins.send_due(bot, at=clock.now)
    assert offered.offers == 1
    offer = await sam.next_bot_message()
    assert "once tomorrow" in (offer.text or "") and offer.disable_notification
    assert (await services.checkins.send_due(bot, at=clock.now + timedelta(hours=1))).offers == 0

    yes = await services.conversations.press(who, "ci:fu:y")
    assert "I'll write once" in texts(yes)
    follow_up_at = storage.aware((await schedule_of(services, 790)).follow_up_at)
    assert follow_up_at is not None and follow_up_at.date() > clock.now.date()
    assert (await services.checkins.send_due(bot, at=follow_up_at - timedelta(1))).follow_ups == 0
    assert (await services.checkins.send_due(bot, at=follow_up_at)).follow_ups == 1
    follow_up = await sam.next_bot_message()
    assert "Thinking of you" in (follow_up.text or "")
    assert {"c:plan", "r:"} <= {
        b["callback_data"] for row in follow_up.raw["reply_markup"]["inline_keyboard"] for b in row
    }
    assert (await services.checkins.send_due(bot, at=follow_up_at + timedelta(1))).follow_ups == 0

    # A second crisis in the same week: not asked again.
    await services.conversations.text(who, "i want to end my life")
    later = datetime.now(UTC) + timedelta(minutes=30)
    assert (await services.checkins.send_due(bot, at=later)).offers == 0


async def test_no_follow_up_without_a_yes(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=791, first_name="Sam", language_code="en")
    who = Who(791, "en")
    await opt_in(services, 791, "0900", "UTC")
    await services.conversations.text(who, "i want to end my life")
    now = datetime.now(UTC) + timedelta(minutes=25)
    assert (await services.checkins.send_due(bot, at=now)).offers == 1
    await services.conversations.press(who, "ci:fu:n")
    for hours in (12, 24, 36, 48):
        report = await services.checkins.send_due(bot, at=now + timedelta(hours=hours))
        assert report.follow_ups == 0


async def test_the_offer_waits_for_the_end_of_quiet_hours(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=792, first_name="Sam", language_code="en")
    who = Who(792, "en")
    await opt_in(services, 792, "0900", "UTC")
    now = datetime.now(UTC)
    local = now.time().replace(second=0, microsecond=0)
    start = (datetime.combine(now.date(), local) - timedelta(minutes=5)).time()
    end = (datetime.combine(now.date(), local) + timedelta(hours=2)).time()
    await services.conversations.press(who, f"ci:q:{start:%H%M}-{end:%H%M}")
    await services.conversations.text(who, "i want to end my life")
    quiet = await services.checkins.send_due(bot, at=now + timedelta(minutes=25))
    assert quiet.offers == 0
    after = await services.checkins.send_due(bot, at=now + timedelta(hours=2, minutes=1))
    assert after.offers == 1


async def test_no_offer_out_of_the_blue_to_someone_without_check_ins(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    api.user(id=794, first_name="Sam", language_code="en")
    who = Who(794, "en")
    await services.conversations.command(who, "start")
    await services.conversations.text(who, "i want to end my life")
    later = datetime.now(UTC) + timedelta(minutes=30)
    assert (await services.checkins.send_due(bot, at=later)).offers == 0
    assert not sent_to(api)


async def test_mute_after_hide_holds_back_check_ins_and_follow_ups(
    services: Services, clock: Clock
) -> None:
    await opt_in(services, 795, "1300", "UTC")
    async with services.sessions.begin() as session:
        person = await people.find_person(session, 795)
        assert person is not None
        await services.checkins.mute(session, person, 12)
    assert await next_due_of(services, 795) == datetime(2026, 1, 13, 13, 0, tzinfo=UTC)


async def test_the_service_can_offer_right_after_the_crisis_choice(
    services: Services, clock: Clock
) -> None:
    who = Who(793, "en")
    await services.conversations.command(who, "start")
    await services.conversations.text(who, "i want to end my life")
    clock.now = datetime.now(UTC)
    async with services.sessions.begin() as session:
        person = await people.find_person(session, 793)
        assert person is not None
        first = await services.checkins.offer_follow_up(session, person)
        again = await services.checkins.offer_follow_up(session, person)
    assert len(first) == 1 and "ci:fu:y" in [b.data for row in first[0].buttons for b in row]
    assert again == []


# -- configuration -------------------------------------------------------------------------


def test_settings_read_the_check_in_variables() -> None:
    settings = Settings.load(
        {
            "CHECKIN_RATE_LIMIT": "12.5",
            "CHECKIN_GRACE_MINUTES": "45",
            "CHECKIN_FIRST_LINE": "Hey",
            "CHECKIN_PASS_SECONDS": "0",
        },
        env_file=None,
    )
    assert (settings.checkin_rate_limit, settings.checkin_grace_minutes) == (12.5, 45)
    assert (settings.checkin_first_line, settings.checkin_pass_seconds) == ("Hey", 0)
    defaults = Settings.load({}, env_file=None)
    assert (defaults.checkin_rate_limit, defaults.checkin_pass_seconds) == (25.0, 60.0)


async def test_the_configured_first_line_replaces_the_default(
    services: Services, tmp_path: Path
) -> None:
    custom = await Services.start(replace(sqlite_settings(tmp_path), checkin_first_line="Hey."))
    try:
        message = custom.checkins.check_in_message("en", 1, silent=True)
    finally:
        await custom.close()
    assert message.text.startswith("Hey.\n\n") and message.silent


async def test_check_ins_are_remembered_for_hide_and_in_the_export(
    services: Services, clock: Clock, api: BotApiEmulator, bot: Bot
) -> None:
    await people_due(services, api, 1200, 5)
    await services.checkins.send_due(bot, at=datetime(2026, 1, 13, 9, tzinfo=UTC))
    async with services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(CheckIn))
        remembered = await session.scalar(select(func.count()).select_from(ChatMessage))
    assert count == 5 and remembered == 5
    who = Who(1200, "en")
    (check_in,) = [
        call for call in api.calls_to("sendMessage") if call.chat_id == 1200 and call.ok
    ]
    await services.conversations.press(who, _mood_data(check_in.params, "Good"))
    await services.conversations.text(who, "tea with a friend")
    async with services.sessions() as session:
        person = await people.find_person(session, 1200)
        assert person is not None
        name, section = await services.checkins.export_section(session, person)
    assert name == "check_ins"
    assert isinstance(section, dict) and section["settings"]["time"] == "09:00"
    (entry,) = section["check_ins"]
    assert (entry["mood"], entry["note"]) == (4, "tea with a friend")


def _mood_data(params: object, label: str) -> str:
    assert isinstance(params, dict)
    markup = params["reply_markup"]
    rows = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == label)


def test_the_terminal_shows_a_chart_as_its_caption() -> None:
    from bot.chat import _show

    shown: list[str] = []
    _show(Outcome((Message("Your last 30 days: 1 check-in.", photo=b"\x89PNG"),)), shown.append)
    assert shown[0] == "SafePlace: Your last 30 days: 1 check-in. (chart image)\n"
