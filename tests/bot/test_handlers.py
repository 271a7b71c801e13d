"""End to end: the real Telegram application against a local Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, configure_logging
from bot.config import Settings
from bot.services import Services
from emulator import BotApiEmulator
from emulator.models import ChatMessage
from emulator.people import EmulatedUser
from safety.resources import ResourceKind, lookup

TOKEN = "123456:TEST-TOKEN-FOR-SAFEPLACE"
QUIET = 0.6  # seconds of silence that mean the bot has finished answering


@dataclass
class Running:
    api: BotApiEmulator
    application: Application  # type: ignore[type-arg]

    @property
    def services(self) -> Services:
        services = self.application.bot_data["services"]
        assert isinstance(services, Services)
        return services


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


async def replies(user: EmulatedUser, first_within: float = 5.0) -> list[ChatMessage]:
    """Collect the bot's messages until it has been quiet for a moment."""
    got = [await user.next_bot_message(timeout=first_within)]
    while True:
        try:
            got.append(await user.next_bot_message(timeout=QUIET))
        except TimeoutError:
            return got


def last_with_buttons(messages: list[ChatMessage]) -> ChatMessage:
    return next(message for message in reversed(messages) if message.has_inline_keyboard)


async def set_up(user: EmulatedUser, country_label: str) -> None:
    await user.send_command("/start")
    welcome = await replies(user)
    await user.press(last_with_buttons(welcome), "English")
    country = await replies(user)
    await user.press(last_with_buttons(country), country_label)
    await replies(user)


async def test_start_says_what_safeplace_is_and_asks_language(bot: Running) -> None:
    sam = bot.api.user(id=501, first_name="Sam", language_code="en")
    await sam.send_command("/start")
    messages = await replies(sam)
    text = "\n".join(message.text or "" for message in messages)
    assert "a program, not a person" in text
    assert "not a therapist" in text and "not an emergency service" in text
    assert "could read this chat" in text
    assert ("English", "Español") in last_with_buttons(messages).buttons[0:1] or any(
        "English" in row for row in last_with_buttons(messages).buttons
    )


async def test_a_whole_exercise_by_buttons_with_a_crisis_in_the_middle(bot: Running) -> None:
    sam = bot.api.user(id=502, first_name="Sam", language_code="en")
    await set_up(sam, "Germany")
    await sam.send_command("/flows")
    menu = await replies(sam)
    await sam.press(last_with_buttons(menu), "Grounding")
    intro = await replies(sam)
    await sam.press(last_with_buttons(intro), "Start")
    step = await replies(sam)
    step_text = step[-1].text

    await sam.send("honestly i can't do this anymore, i want to kill myself tonight")
    crisis = await replies(sam)
    germany = lookup("DE")
    line = germany.of_kind(ResourceKind.CRISIS_LINE)[0]
    assert line.phone is not None
    first_with_line = next(i for i, m in enumerate(crisis) if line.phone in (m.text or ""))
    assert first_with_line <= 1, "the resources come before anything else"
    assert not any(step_text == message.text for message in crisis)

    await sam.press(last_with_buttons(crisis), "Keep going here")
    resumed = await replies(sam)
    assert resumed[-1].text == step_text

    # Walk on to the end by pressing the first button each time.
    for _ in range(30):
        current = resumed[-1]
        if not current.has_inline_keyboard:
            break
        await sam.press(current, current.buttons[0][0])
        resumed = await replies(sam)
    assert not resumed[-1].has_inline_keyboard


async def test_pressed_keyboards_are_retired_and_old_buttons_answer_gently(bot: Running) -> None:
    sam = bot.api.user(id=503, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/flows")
    menu = await replies(sam)
    await sam.press(last_with_buttons(menu), "Grounding")
    intro = await replies(sam)
    query = await sam.press(last_with_buttons(intro), "Start")
    await bot.api.wait_for_callback_answer(query)
    await replies(sam)
    assert not sam.current(last_with_buttons(intro)).has_inline_keyboard
    await sam.send_callback(
        last_with_buttons(intro), last_with_buttons(intro).callback_data("Start") or "x"
    )
    gentle = await replies(sam)
    assert "earlier" in (gentle[0].text or "")


async def test_several_people_at_once_do_not_cross_over(bot: Running) -> None:
    people = [bot.api.user(id=600 + n, first_name=f"P{n}", language_code="en") for n in range(4)]
    countries = ["Germany", "Spain", "United States", "Japan"]
    await asyncio.gather(*(set_up(p, c) for p, c in zip(people, countries, strict=True)))
    await asyncio.gather(*(p.send("i want to end my life") for p in people))
    answers = await asyncio.gather(*(replies(p) for p in people))
    for country, messages in zip(["DE", "ES", "US", "JP"], answers, strict=True):
        line = lookup(country).of_kind(ResourceKind.CRISIS_LINE)[0]
        assert any(line.phone and line.phone in (m.text or "") for m in messages), country


async def test_danger_from_another_person_mentions_hide_and_asks_once(bot: Running) -> None:
    sam = bot.api.user(id=504, first_name="Sam", language_code="en")
    await set_up(sam, "United States")
    await sam.send("he has a knife and he's screaming at me, i'm hiding in the bathroom")
    messages = await replies(sam)
    text = "\n".join(message.text or "" for message in messages)
    assert "/hide" in text
    assert text.count("Are you safe to talk right now?") == 1
    assert text.index("911") < text.index(
        lookup("US").of_kind(ResourceKind.DOMESTIC_VIOLENCE)[0].phone or ""
    )


async def test_edited_messages_are_screened_too(bot: Running) -> None:
    sam = bot.api.user(id=505, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    sent = await sam.send("just a normal day")
    await replies(sam)
    await sam.edit(sent, "actually i took all my pills an hour ago")
    messages = await replies(sam)
    assert any("999" in (message.text or "") for message in messages)


async def test_stickers_and_photos_get_a_kind_reply(bot: Running) -> None:
    sam = bot.api.user(id=506, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_sticker()
    messages = await replies(sam)
    assert "only read text" in (messages[0].text or "")


async def test_added_to_a_group_it_says_so_once_and_leaves(bot: Running) -> None:
    sam = bot.api.user(id=507, first_name="Sam", language_code="en")
    group = bot.api.group_chat(title="Family")
    await bot.api.add_bot_to_group(group, by=sam)
    for _ in range(50):
        if bot.api.count("leaveChat") >= 1:
            break
        await asyncio.sleep(0.1)
    assert bot.api.count("leaveChat") >= 1
    said = [call for call in bot.api.calls_to("sendMessage") if call.chat_id == group.chat.id]
    assert len(said) == 1
    assert group.bot_status in ("left", "kicked")


async def test_command_menu_is_registered_in_each_language(bot: Running) -> None:
    registered = bot.api.commands
    assert "" in registered and "es" in registered
    names = {command.command for command in registered[""]}
    assert {"flows", "resources", "plan", "stop", "settings", "privacy"} <= names


async def test_resources_for_a_named_country_and_a_picker_for_unknown(bot: Running) -> None:
    sam = bot.api.user(id=508, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/resources", "germany")
    germany = await replies(sam)
    assert lookup("DE").emergency.phone in (germany[0].text or "")
    await sam.send_command("/resources", "atlantis")
    picker = await replies(sam)
    assert picker[-1].has_inline_keyboard


async def test_a_flood_limit_is_waited_out(bot: Running) -> None:
    sam = bot.api.user(id=509, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    bot.api.fail_next("sendMessage", 429, retry_after=1)
    await sam.send_command("/privacy")
    messages = await replies(sam, first_within=10)
    assert "What SafePlace keeps" in (messages[0].text or "")


async def test_a_handler_error_gets_an_apology_and_no_text_in_logs(
    bot: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sam = bot.api.user(id=510, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")

    async def broken(*_: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.services.conversations, "text", broken)
    configure_logging("DEBUG")  # as `safeplace run` does: libraries never log bodies
    with caplog.at_level(logging.DEBUG):
        await sam.send("my secret words about the flowers")
        messages = await replies(sam)
    assert "Sorry, something went wrong" in (messages[0].text or "")
    assert "/resources" in (messages[0].text or "")
    assert "secret words" not in caplog.text


def test_run_without_a_token_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        check=False,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": ""},
        cwd="/",
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_run_with_a_malformed_token_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        check=False,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": "not a token"},
        cwd="/",
    )
    assert result.returncode == 2
    assert "malformed" in result.stderr
