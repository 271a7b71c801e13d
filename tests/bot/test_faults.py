"""Faults: the database gone or locked, Bot API errors and outages, SIGTERM and SIGKILL.

The safety layer must answer a crisis whatever else is broken, the bot must outlive every
fault and answer afterwards, and a killed process must lose no answer it saved.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application
from bot.config import Settings
from bot.crypto import Cipher, use_cipher
from bot.storage import conversations as stored_conversations
from bot.storage import people
from bot.storage.session import async_url, create_engine, session_factory, upgrade
from emulator import BotApiEmulator
from emulator.people import EmulatedUser
from safety.resources import ResourceKind, lookup
from tests.bot.conftest import POSTGRES_URL
from tests.bot.test_fuzz import settle
from tests.bot.test_handlers import TOKEN, Running, bot, last_with_buttons, replies, set_up  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
UK_CRISIS_LINE = lookup("GB").of_kind(ResourceKind.CRISIS_LINE)[0].phone or "116 123"
CRISIS = "i can't go on, i'm going to kill myself tonight"
_databases = itertools.count(1)


def has_uk_resources(messages: list) -> bool:  # type: ignore[type-arg]
    return any(UK_CRISIS_LINE in (message.text or "") for message in messages)


@asynccontextmanager
async def serve(settings: Settings, api: BotApiEmulator) -> AsyncIterator[Running]:
    """Run the real application in this event loop, polling the emulator (as the bot fixture)."""
    application = build_application(settings)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield Running(api, application)
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()


@asynccontextmanager
async def sqlite_down(running: Running) -> AsyncIterator[None]:
    """Make the running app's SQLite database unreachable, then give it back unchanged.

    Pooled connections are closed first (an open file would stay usable), then the file is
    moved aside and a directory takes its place: every new connection fails with
    "unable to open database file". (Permissions would not do: these tests may run as root.)
    """
    services = running.services
    path = Path(make_url(services.settings.database_url).database or "")
    await services.deliveries.flush()
    await services.engine.dispose()
    moved: list[Path] = []
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            file.rename(Path(f"{path}{suffix}.aside"))
            moved.append(file)
    path.mkdir()
    try:
        yield
    finally:
        await services.engine.dispose()
        path.rmdir()
        for file in moved:
            Path(f"{file}.aside").rename(file)


async def progress_of(running: Running, telegram_id: int) -> tuple[str, dict[str, str]] | None:
    async with running.services.sessions() as session:
        person = await people.find_person(session, telegram_id)
        loaded = (
            None
            if person is None
            else await stored_conversations.load_progress(session, person.id)
        )
    return None if loaded is None else (loaded[0].state, dict(loaded[0].answers))


async def into_grounding(user: EmulatedUser) -> list:  # type: ignore[type-arg]
    """Set up (United Kingdom), start grounding and return the first question's messages."""
    await set_up(user, "United Kingdom")
    await user.send_command("/flows")
    await user.press(last_with_buttons(await replies(user)), "Grounding")
    await user.press(last_with_buttons(await replies(user)), "Start")
    return await replies(user)


# -- the database is down ---------------------------------------------------------------------


async def test_a_crisis_gets_resources_at_once_while_sqlite_is_gone(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5001, first_name="Sam", language_code="en")
    await into_grounding(sam)
    await sam.send("the lamp")
    await replies(sam)
    saved = await progress_of(bot, 5001)
    async with sqlite_down(bot):
        started = time.monotonic()
        await sam.send(CRISIS)
        crisis = await replies(sam, first_within=3)
        # Storage is down, so the person's country is unknown: the international list.
        assert "findahelpline.com" in " ".join(message.text or "" for message in crisis)
        assert time.monotonic() - started < 3 + 1, "resources came at once"
        await sam.send("the window")  # an ordinary answer cannot be saved: an apology
        sorry = await replies(sam)
        assert "Sorry, something went wrong" in (sorry[0].text or "")
        kim = bot.api.user(id=5002, first_name="Kim", language_code="en")
        await kim.send("i want to end my life")  # someone new, never stored: still answered
        assert "findahelpline.com" in " ".join(m.text or "" for m in await replies(kim))
    assert await progress_of(bot, 5001) == saved, "nothing was lost or half-written"
    await sam.send_command("/privacy")
    assert "What SafePlace keeps" in ((await replies(sam))[0].text or "")


async def test_a_crisis_gets_resources_at_once_while_sqlite_is_locked(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5003, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    path = make_url(bot.services.settings.database_url).database or ""
    other = sqlite3.connect(path, isolation_level=None, timeout=1)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        await sam.send(CRISIS)
        crisis = await replies(sam, first_within=3)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert has_uk_resources(crisis)


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[str, str]]:
    """A PostgreSQL database of this test's own, so cutting it off disturbs nobody else."""
    if not POSTGRES_URL:
        pytest.skip("SAFEPLACE_TEST_DATABASE_URL is not set: no PostgreSQL to test against")
    name = f"safeplace_faults_{os.getpid()}_{next(_databases)}"
    admin = create_async_engine(
        async_url(make_url(POSTGRES_URL).set(database="postgres").render_as_string(False)),
        isolation_level="AUTOCOMMIT",
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    try:
        yield url, name
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_a_crisis_gets_resources_while_postgresql_is_cut_off(
    own_postgres: tuple[str, str], monkeypatch: pytest.MonkeyPatch, sqlite_settings_at: Settings
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    url, name = own_postgres
    admin = create_async_engine(
        async_url(make_url(url).set(database="postgres").render_as_string(False)),
        isolation_level="AUTOCOMMIT",
    )
    async with BotApiEmulator(token=TOKEN) as api:
        settings = Settings(
            telegram_bot_token=TOKEN,
            telegram_base_url=api.base_url,
            database_url=url,
            encryption_key=sqlite_settings_at.encryption_key,
        )
        async with serve(settings, api) as running:
            sam = api.user(id=5010, first_name="Sam", language_code="en")
            await into_grounding(sam)
            await sam.send("the lamp")
            await replies(sam)
            saved = await progress_of(running, 5010)
            async with admin.connect() as connection:
                await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            started = time.monotonic()
            await sam.send(CRISIS)
            crisis = await replies(sam, first_within=5)
            assert time.monotonic() - started < 5 + 1
            texts = " ".join(m.text or "" for m in crisis)
            assert UK_CRISIS_LINE in texts or "findahelpline.com" in texts
            async with admin.connect() as connection:
                await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            assert await progress_of(running, 5010) == saved
            await sam.send_command("/privacy")
            assert "What SafePlace keeps" in ((await replies(sam, first_within=10))[0].text or "")
    await admin.dispose()


# -- the Bot API fails --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", [{"status": 502}, {"status": 500}, {"disconnect": True}], ids=["502", "500", "drop"]
)
async def test_a_failed_send_is_retried_with_backoff(bot: Running, fault: dict) -> None:  # type: ignore[type-arg]  # noqa: F811
    sam = bot.api.user(id=5020, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    bot.api.fail_next("sendMessage", **fault)
    await sam.send_command("/privacy")
    answer = await replies(sam, first_within=10)
    assert "What SafePlace keeps" in (answer[0].text or "")
    calls = [call for call in bot.api.calls_to("sendMessage") if call.chat_id == 5020]
    failed = [index for index, call in enumerate(calls) if not call.ok]  # a drop leaves no call
    for index in failed:
        assert calls[index + 1].ok and calls[index + 1].at - calls[index].at >= 0.4  # backoff
    assert sum(1 for m in sam.bot_messages() if "What SafePlace keeps" in (m.text or "")) == 1


async def test_a_long_bot_api_outage_does_not_crash_the_bot(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5021, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    bot.api.fail_next("*", status=503, times=None)
    await asyncio.sleep(1.5)  # the long poll in progress ends; every call now fails
    await sam.send_command("/privacy")  # waits at Telegram while getUpdates fails
    await asyncio.sleep(5)
    assert bot.application.running and bot.application.updater is not None
    assert bot.application.updater.running
    bot.api.clear_faults()
    answer = await replies(sam, first_within=20)  # PTB backs off up to 30 s; 6 s costs < 10 s
    assert "What SafePlace keeps" in (answer[0].text or "")
    await sam.send(CRISIS)
    assert has_uk_resources(await replies(sam))


async def test_a_crisis_in_hand_when_an_outage_starts_still_gets_resources(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5024, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    bot.api.fail_next("sendMessage", status=503, times=None)
    await sam.send(CRISIS)
    await asyncio.sleep(6)
    bot.api.clear_faults()
    await sam.wait_until(lambda: has_uk_resources(sam.bot_messages()), timeout=5)


async def test_a_double_tapped_button_is_answered_without_delay(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5022, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/flows")
    menu = last_with_buttons(await replies(sam))
    await sam.press(menu, "Grounding")
    await replies(sam)
    started = time.monotonic()
    # The same button again (a double tap that raced the keyboard's removal).
    await sam.send_callback(menu, menu.callback_data("Grounding") or "f:grounding")
    await replies(sam, first_within=5)
    assert time.monotonic() - started < 1.5


@pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMIT: a sendMessage that times out (read timeout 5 s) may have been "
    "delivered; render.retrying sends it again, so the person sees it twice. Telegram has no "
    "idempotency key; a fix is a trade-off (retry only when the request never left)",
)
async def test_a_send_that_times_out_is_not_sent_twice(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5023, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    bot.api.fail_next("sendMessage", delay=5.5)  # past PTB's 5 s read timeout, then delivered
    await sam.send_command("/privacy")
    await asyncio.sleep(7)
    assert sum(1 for m in sam.bot_messages() if "What SafePlace keeps" in (m.text or "")) == 1


# -- signals: the real `python -m bot run` process ----------------------------------------------


class BotProcess:
    """`python -m bot run` against the emulator, in its own folder (no stray .env there)."""

    def __init__(self, api: BotApiEmulator, folder: Path, key: str) -> None:
        self.api = api
        self.folder = folder
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            "PTB_TIMEDELTA": "true",
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_BASE_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{folder / 'safeplace.db'}",
            "ENCRYPTION_KEY": key,
            "LOG_LEVEL": "INFO",
            "CHECKIN_PASS_SECONDS": "0",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 30.0) -> None:
        """Start the bot and wait until it is about to poll (its first long poll takes 10 s).

        Polling begins right after the bootstrap's deleteWebhook; updates sent before the
        first getUpdates simply wait at Telegram.
        """
        polls = self.api.count("deleteWebhook")
        self.starts += 1
        log = (self.folder / f"bot-{self.starts}.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=self.folder, env=self.env, stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while self.api.count("deleteWebhook") <= polls:
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start polling:\n{self.log()}")
            await asyncio.sleep(0.05)

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    async def wait(self, timeout: float = 20.0) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    def log(self) -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("bot-*.log"))
        )


async def in_hand(api: BotApiEmulator) -> None:
    """Wait until the bot fetched (and so confirmed) every update, then a moment more."""
    deadline = time.monotonic() + 10
    while api.pending_updates:
        assert time.monotonic() < deadline, "the bot never fetched the update"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)  # its handler is now past the database, sending the reply


@pytest.fixture
async def process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_settings_at: Settings
) -> AsyncIterator[BotProcess]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with BotApiEmulator(token=TOKEN) as api:
        running = BotProcess(api, tmp_path, sqlite_settings_at.encryption_key or "")
        try:
            yield running
        finally:
            if running.process is not None and running.process.returncode is None:
                running.process.kill()
                await running.process.wait()


async def test_sigterm_finishes_the_update_in_hand_and_exits_cleanly(process: BotProcess) -> None:
    await process.start()
    sam = process.api.user(id=5030, first_name="Sam", language_code="en")
    process.api.fail_next("sendMessage", delay=2.0)  # the reply is on its way when SIGTERM comes
    await sam.send("hello")
    await in_hand(process.api)
    process.signal(signal.SIGTERM)
    status = await process.wait()
    assert status == 0, process.log()
    texts = " ".join(message.text or "" for message in sam.bot_messages())
    assert "a program, not a person" in texts, "the update in hand was answered before exit"
    assert "Traceback" not in process.log()


async def _killed_mid_flow(process: BotProcess) -> tuple[EmulatedUser, int]:
    """Answer two steps, kill the bot while the third answer's reply is on its way, restart."""
    await process.start()
    sam = process.api.user(id=5031, first_name="Sam", language_code="en")
    await into_grounding(sam)
    for answer in ("the lamp", "the chair"):
        await sam.send(answer)
        await replies(sam)  # acknowledged: the bot answered with the next step
    # The reply leaves after 3 s and never arrives: the bot is killed before Telegram has it.
    process.api.fail_next("sendMessage", delay=3.0, disconnect=True)
    await sam.send("the rain")
    await in_hand(process.api)
    process.signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL
    heard_before = len(sam.bot_messages())
    process.api.clear_faults()
    await process.start()
    return sam, heard_before


async def stored_answers(process: BotProcess, telegram_id: int) -> tuple[str, dict[str, str]]:
    use_cipher(Cipher.from_keys(process.env["ENCRYPTION_KEY"]))
    engine = create_engine(process.env["DATABASE_URL"])
    try:
        async with session_factory(engine)() as session:
            person = await people.find_person(session, telegram_id)
            assert person is not None
            loaded = await stored_conversations.load_progress(session, person.id)
    finally:
        await engine.dispose()
    assert loaded is not None
    return loaded[0].state, dict(loaded[0].answers)


async def test_sigkill_mid_flow_loses_no_saved_answer_and_sends_no_duplicate(
    process: BotProcess,
) -> None:
    sam, heard_before = await _killed_mid_flow(process)
    await asyncio.sleep(2)  # a restarted bot must not repeat anything on its own
    assert len(sam.bot_messages()) == heard_before
    state, answers = await stored_answers(process, 5031)
    assert answers == {"seen": "the lamp", "felt": "the chair", "heard": "the rain"}
    assert state == "smell"
    await sam.send("the sea")  # the person carries on where the database says they are
    await replies(sam)
    assert (await stored_answers(process, 5031))[1]["smelled"] == "the sea"
    texts = [m.text for m in sam.bot_messages()]
    assert all(a != b for a, b in itertools.pairwise(texts)), "no message was sent twice"


@pytest.mark.xfail(
    strict=True,
    reason="BUG: python-telegram-bot confirms updates when it fetches them, so an update whose "
    "reply was in flight at SIGKILL is never redelivered: its answer is saved, but the next "
    "question is never shown, and the person's next message answers a step they did not see. "
    "processed_update.replied=false marks exactly these; proposed: on start, re-show the "
    "current step to the people behind recent unreplied updates (needs their chat id stored)",
)
async def test_after_sigkill_the_person_is_shown_the_step_they_missed(
    process: BotProcess,
) -> None:
    sam, heard_before = await _killed_mid_flow(process)
    smell = "Two things you can smell"
    await sam.wait_until(
        lambda: any(smell in (m.text or "") for m in sam.bot_messages()[heard_before:]),
        timeout=5,
    )


@pytest.mark.xfail(
    strict=True,
    reason="BUG: handlers.on_press takes the keyboard off before the press is handled; when "
    "handling then fails (here: the database is gone) the person gets an apology and no button "
    "to press again (measured in benchmarks/chaos.py: a check-in that can no longer be "
    "answered). Proposed: retire the keyboard after the outcome is computed",
)
async def test_a_press_that_fails_leaves_its_buttons(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5040, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/flows")
    menu = last_with_buttons(await replies(sam))
    async with sqlite_down(bot):
        await sam.press(menu, "Grounding")
        assert "Sorry, something went wrong" in ((await replies(sam))[0].text or "")
    current = sam.current(menu)
    assert current is not None and current.has_inline_keyboard


@pytest.mark.xfail(
    strict=True,
    reason="BUG: flood control drops a non-crisis message unhandled (the calm reply says "
    "\"I'm reading everything you send ... I'll answer as you go\"), so an answer typed in a "
    "burst is never saved. Proposed: queue the burst and handle it in order, or at least say "
    "that the last messages were not taken",
)
async def test_an_answer_typed_in_a_burst_is_not_lost(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=5041, first_name="Sam", language_code="en")
    await into_grounding(sam)  # waiting for the first answer
    for _ in range(bot.services.settings.flood_messages):
        await sam.send_command("/privacy")  # a burst fills the person's window
    await sam.send("the lamp")
    await replies(sam, first_within=10)
    await settle(bot)
    assert await progress_of(bot, 5041) == ("touch", {"seen": "the lamp"})
