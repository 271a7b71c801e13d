"""Privacy and reliability end to end: /hide, /export, /forget, duplicates, flood control."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, inspect, select, text

from bot.conversation import Who
from bot.retention import clean_up
from bot.storage.models import Base, ChatMessage, Person, SafetyEvent
from tests.bot.test_handlers import Running, bot, last_with_buttons, replies, set_up  # noqa: F401


async def test_hide_deletes_the_chat_and_leaves_one_neutral_message(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=701, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/flows")
    menu = await replies(sam)
    await sam.press(last_with_buttons(menu), "Grounding")
    await replies(sam)
    await sam.send("he hit me again, i'm scared he will hurt me")
    await replies(sam)
    assert len(sam.visible_messages()) > 5

    await sam.send_command("/hide")
    await replies(sam)
    visible = sam.visible_messages()
    assert [message.text for message in visible] == [bot.services.settings.hide_message]


async def test_hide_works_mid_exercise_and_the_exercise_can_resume(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=702, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/flows")
    await sam.press(last_with_buttons(await replies(sam)), "Grounding")
    step = await replies(sam)
    await sam.send_command("/hide")
    await replies(sam)
    assert len(sam.visible_messages()) == 1
    await sam.send("hello")
    answer = await replies(sam)
    assert answer[-1].text == step[-1].text or answer[-1].has_inline_keyboard


async def test_export_sends_everything_as_a_json_file(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=703, first_name="Sam", language_code="en")
    await set_up(sam, "Germany")
    await sam.send_command("/flows")
    await sam.press(last_with_buttons(await replies(sam)), "Being kinder to myself")
    intro = await replies(sam)
    await sam.press(last_with_buttons(intro), "Start")
    await replies(sam)
    await sam.send("i forgot my friend's birthday again")
    await replies(sam)
    await sam.send_command("/export")
    messages = await replies(sam)
    document = next(message for message in messages if message.file is not None)
    assert document.protect_content
    payload = json.loads(document.file.data)  # type: ignore[union-attr]
    assert payload["person"]["country"] == "DE"
    assert "birthday" in json.dumps(payload["current_exercise"])


async def test_forget_after_confirmation_leaves_no_row_about_the_person(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=704, first_name="Sam", language_code="en")
    other = bot.api.user(id=705, first_name="Kim", language_code="en")
    await set_up(sam, "United Kingdom")
    await set_up(other, "United Kingdom")
    await sam.send("i want to die")
    await replies(sam)
    await sam.send_command("/flows")
    await sam.press(last_with_buttons(await replies(sam)), "Grounding")
    await replies(sam)

    await sam.send_command("/forget")
    confirm = await replies(sam)
    await sam.press(last_with_buttons(confirm), "Yes, erase everything")
    done = await replies(sam)
    assert "erased" in (done[-1].text or "")

    services = bot.services
    async with services.sessions() as session:
        person = await session.scalar(select(Person).where(Person.telegram_id == 704))
        assert person is None
        kept = await session.scalar(select(Person).where(Person.telegram_id == 705))
        assert kept is not None

        def tables_with_person(connection: object) -> list[str]:
            inspector = inspect(connection)
            return [
                table
                for table in inspector.get_table_names()
                if any(column["name"] == "person_id" for column in inspector.get_columns(table))
            ]

        connection = await session.connection()
        tables = await connection.run_sync(tables_with_person)
        assert set(tables) >= {"conversation", "saved_item", "safety_event", "chat_message"}
        for table in tables:
            ids = (await session.execute(text(f"SELECT person_id FROM {table}"))).scalars().all()
            assert all(person_id == kept.id for person_id in ids), table
        assert Base.metadata.tables.keys() >= set(tables)


async def test_forget_can_be_cancelled(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=706, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/forget")
    await sam.press(last_with_buttons(await replies(sam)), "No, keep it")
    kept = await replies(sam)
    assert "nothing was erased" in (kept[-1].text or "")


async def test_a_redelivered_update_has_no_second_effect(bot: Running) -> None:  # noqa: F811
    sam = Who(707, "en", update_id=999_001)
    conversations = bot.services.conversations
    await conversations.command(Who(707, "en", 999_000), "start")
    await conversations.press(Who(707, "en", 999_002), "f:grounding")
    first = await conversations.press(Who(707, "en", 999_003), "f:grounding")
    await conversations.delivered(Who(707, "en", 999_003), 707, [])
    again = await conversations.press(Who(707, "en", 999_003), "f:grounding")
    assert first.messages and not again.messages
    crisis = await conversations.text(sam, "i want to kill myself")
    await conversations.delivered(sam, 707, [])
    repeat = await conversations.text(sam, "i want to kill myself")
    assert crisis.messages and not repeat.messages
    async with bot.services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(SafetyEvent))
    assert count == 1


async def test_a_burst_is_answered_calmly_and_a_crisis_still_gets_through(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=708, first_name="Sam", language_code="en")
    kim = bot.api.user(id=709, first_name="Kim", language_code="en")
    await set_up(sam, "United Kingdom")
    await set_up(kim, "United Kingdom")
    for number in range(30):
        await sam.send(f"message {number}")
    await sam.send("i want to kill myself")
    await kim.send_command("/privacy")
    kim_answer = await replies(kim, first_within=10)
    assert "What SafePlace keeps" in (kim_answer[0].text or "")
    burst = await replies(sam, first_within=10)
    texts = [message.text or "" for message in burst]
    assert sum("I'm reading everything" in t for t in texts) == 1
    assert any("Samaritans" in t or "116 123" in t for t in texts)
    assert len(texts) < 30


async def test_privacy_states_the_configured_retention(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=710, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send_command("/privacy")
    text_ = (await replies(sam))[0].text or ""
    settings = bot.services.settings
    assert f"{settings.safety_event_retention_days} days" in text_
    assert "48 hours" in text_


async def test_clean_up_enforces_retention(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=711, first_name="Sam", language_code="en")
    await set_up(sam, "United Kingdom")
    await sam.send("i feel so hopeless")
    await replies(sam)
    services = bot.services
    later = datetime.now(UTC) + timedelta(days=services.settings.safety_event_retention_days + 1)
    removed = await clean_up(services.sessions, services.settings, later)
    assert removed["safety_events"] >= 1 and removed["message_ids"] >= 1
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatMessage)) == 0
        assert await session.scalar(select(func.count()).select_from(SafetyEvent)) == 0
    await asyncio.sleep(0)
