"""End to end over the local Bot API: opt in, receive a check-in from the job, answer, /mood."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.app import build_application
from bot.config import Settings
from bot.storage.models import CheckInSchedule
from emulator import BotApiEmulator
from emulator.models import ChatMessage
from emulator.people import EmulatedUser
from tests.bot.test_handlers import TOKEN, Running, last_with_buttons, replies, set_up

PASS_SECONDS = 0.5  # the periodic job runs this often here; 60 s in production


@pytest.fixture
async def bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_settings_at: Settings
) -> AsyncIterator[Running]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with BotApiEmulator(token=TOKEN) as api:
        settings = Settings(
            telegram_bot_token=TOKEN,
            telegram_base_url=api.base_url,
            database_url=sqlite_settings_at.database_url,
            encryption_key=sqlite_settings_at.encryption_key,
            checkin_pass_seconds=PASS_SECONDS,
        )
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


async def press_and_read(
    user: EmulatedUser, message: ChatMessage, label: str
) -> list[ChatMessage]:
    await user.press(message, label)
    return await replies(user)


async def test_opt_in_receive_answer_and_see_the_chart(bot: Running) -> None:
    sam = bot.api.user(id=4711, first_name="Sam", language_code="en")
    await set_up(sam, "Germany")

    await sam.send_command("/checkin")
    intro = await replies(sam)
    assert "Once a day" in (intro[-1].text or "")
    times = await press_and_read(sam, last_with_buttons(intro), "Yes, set it up")
    zones = await press_and_read(sam, last_with_buttons(times), "21:00")
    assert ("Europe/Berlin",) in last_with_buttons(zones).buttons or any(
        "Europe/Berlin" in row for row in last_with_buttons(zones).buttons
    )
    on = await press_and_read(sam, last_with_buttons(zones), "Europe/Berlin")
    assert "Check-ins are on" in (on[-1].text or "")
    await sam.expect_silence(within=2 * PASS_SECONDS)  # not due yet: the job sends nothing

    # Make it due now, as if 21:00 in Berlin had come; the periodic job does the rest.
    async with bot.services.sessions.begin() as session:
        await session.execute(
            update(CheckInSchedule).values(next_due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    check_in = await sam.next_bot_message(timeout=10)
    assert (check_in.text or "").startswith("Hi, just checking in.")
    assert "SafePlace" not in (check_in.text or "")
    assert check_in.disable_notification
    assert "Not a good time" in [label for row in check_in.buttons for label in row]
    await sam.expect_silence(within=3 * PASS_SECONDS)  # sent once, not again

    answered = await press_and_read(sam, check_in, "Low")
    assert "hard day" in (answered[0].text or "")
    await sam.send("a long walk helped a little")
    saved = await replies(sam)
    assert "Saved" in (saved[0].text or "")

    await sam.send_command("/mood")
    chart = await sam.next_bot_message(timeout=10)
    assert chart.kind == "photo" and chart.protect_content
    assert chart.caption == "Your last 30 days: 1 check-in, 2 out of 5."
    upload = bot.api.uploads[-1]
    assert upload.kind == "photo" and upload.data is not None
    assert upload.data.startswith(b"\x89PNG")


async def test_check_in_commands_are_in_the_menu(bot: Running) -> None:
    names = {command.command for command in bot.api.commands[""]}
    assert {"checkin", "mood"} <= names
    spanish = {command.command: command.description for command in bot.api.commands["es"]}
    assert spanish["checkin"] == "Check-ins diarios"


async def test_mood_without_check_ins_says_how_to_start(bot: Running) -> None:
    sam = bot.api.user(id=4712, first_name="Sam", language_code="en")
    await set_up(sam, "Germany")
    await sam.send_command("/mood")
    (message,) = await replies(sam)
    assert message.kind == "text" and "/checkin" in (message.text or "")
