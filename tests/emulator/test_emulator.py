"""The local Bot API emulator speaks the wire format python-telegram-bot 22 expects."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import time
import urllib.request
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.helpers import escape_markdown
from telegram.request import HTTPXRequest

from emulator import TINY_PNG, BotApiEmulator, EmulatedUser
from emulator.formatting import parse_formatted, utf16_length
from emulator.models import ApiError

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when it builds RetryAfter with int periods; warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(api: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@pytest.fixture
def person(api: BotApiEmulator) -> EmulatedUser:
    return api.user(id=4242, first_name="Sam", language_code="de")


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with two buttons."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Start", callback_data="flow:start")]]
        + [[InlineKeyboardButton("Not now", callback_data="flow:later")]]
    )
    await update.effective_message.reply_text("Welcome", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press, then replace the keyboard's message with the choice."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer("Got it")
    await query.edit_message_text(f"You chose {query.data}")


@pytest.fixture
async def app(api: BotApiEmulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_button))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=10)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def test_get_me_describes_a_bot_so_initialize_succeeds(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456 and me.username == "safeplace_test_bot"
    assert me.can_join_groups is True and bot.username == "safeplace_test_bot"


async def test_unknown_token_is_refused_as_invalid(api: BotApiEmulator) -> None:
    stranger = Bot("999:WRONG-TOKEN", base_url=api.base_url)
    try:
        with pytest.raises(InvalidToken, match="rejected"):
            await stranger.initialize()
    finally:
        await stranger.shutdown()
    assert api.calls[-1].status == 401


async def test_start_command_reaches_the_handler_and_its_reply_arrives(
    app: Application,  # type: ignore[type-arg]
    person: EmulatedUser,
) -> None:
    await person.send_command("/start")
    reply = await person.next_bot_message(timeout=5)
    assert reply.text == "Welcome" and reply.from_bot
    assert reply.buttons == (("Start",), ("Not now",))
    assert reply.callback_data("Not now") == "flow:later"


async def test_button_press_reaches_the_callback_handler_and_is_answered(
    api: BotApiEmulator,
    app: Application,  # type: ignore[type-arg]
    person: EmulatedUser,
) -> None:
    await person.send_command("/start")
    welcome = await person.next_bot_message()
    query_id = await person.press(welcome, "Start")
    answer = await api.wait_for_callback_answer(query_id, timeout=5)
    assert answer.text == "Got it"
    edited = await person.wait_for_edit(welcome)
    assert edited.text == "You chose flow:start" and not edited.has_inline_keyboard
    await person.expect_silence(within=0.2)


async def test_several_people_get_their_own_replies_in_order(
    app: Application,  # type: ignore[type-arg]
    api: BotApiEmulator,
) -> None:
    people = [api.user(first_name=f"P{i}") for i in range(5)]
    await asyncio.gather(*(p.send_command("/start") for p in people for _ in range(2)))
    for p in people:
        replies = await p.wait_for_messages(2, timeout=5)
        assert [r.chat_id for r in replies] == [p.id, p.id]
        assert [r.message_id for r in replies] == [3, 4]


async def test_callback_query_carries_chat_instance_sender_and_message(
    bot: Bot, person: EmulatedUser
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    sent = await bot.send_message(person.id, "Ready?", reply_markup=keyboard)
    await person.press(sent.message_id, "yes")
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "yes" and query.chat_instance
    assert query.from_user.id == person.id and query.from_user.language_code == "de"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer() is True
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer()


async def test_edit_message_text_returns_the_edited_message(
    bot: Bot, person: EmulatedUser
) -> None:
    sent = await bot.send_message(person.id, "First")
    edited = await bot.edit_message_text("Second", chat_id=person.id, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "Second" and edited.edit_date is not None
    assert edited.message_id == sent.message_id and edited.date == sent.date
    assert [m.text for m in person.visible_messages()] == ["Second"]
    assert (await person.next_bot_message()).text == "First"


async def test_editing_without_changes_is_refused_as_not_modified(
    bot: Bot, person: EmulatedUser
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(person.id, "Same", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="not modified"):
        await sent.edit_text("Same", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="not modified"):
        await sent.edit_reply_markup(reply_markup=keyboard)
    changed = await sent.edit_reply_markup(reply_markup=InlineKeyboardMarkup([]))
    assert not isinstance(changed, bool) and changed.reply_markup is None
    with pytest.raises(BadRequest, match="not modified"):
        await sent.edit_reply_markup(reply_markup=None)


async def test_long_poll_returns_promptly_and_offsets_confirm_updates(
    bot: Bot, person: EmulatedUser
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    await person.send("hello")
    updates = await poll
    assert time.monotonic() - started < 2
    assert len(updates) == 1 and updates[0].message is not None
    redelivered = await bot.get_updates(timeout=0)
    assert [u.update_id for u in redelivered] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    empty_started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - empty_started < 2


async def test_limit_and_allowed_updates_shape_what_get_updates_returns(
    bot: Bot, person: EmulatedUser
) -> None:
    for word in ("one", "two", "three"):
        await person.send(word)
    first_two = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first_two if u.message] == ["one", "two"]
    rest = await bot.get_updates(offset=first_two[-1].update_id + 1, allowed_updates=["message"])
    assert [u.message.text for u in rest if u.message] == ["three"]
    await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data="b")]])
    sent = await bot.send_message(person.id, "x", reply_markup=keyboard)
    await person.press(sent, "B")
    await person.send("kept")
    kinds = [u.message is not None for u in await bot.get_updates(timeout=0)]
    assert kinds == [True]


async def test_second_get_updates_ends_the_first_with_conflict(
    api: BotApiEmulator, bot: Bot
) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as other:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first


async def test_text_of_4096_characters_passes_and_4097_is_too_long(
    bot: Bot, person: EmulatedUser
) -> None:
    assert len((await bot.send_message(person.id, "x" * 4096)).text or "") == 4096
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(person.id, "x" * 4097)
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(person.id, "   ")
    html = "<b>" + "y" * 4096 + "</b>"
    assert (await bot.send_message(person.id, html, parse_mode=ParseMode.HTML)).text


async def test_callback_data_over_64_bytes_is_bad_request(bot: Bot, person: EmulatedUser) -> None:
    assert await bot.send_message(
        person.id, "ok", reply_markup=InlineKeyboardMarkup.from_button(button("é" * 32))
    )
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(
            person.id, "too big", reply_markup=InlineKeyboardMarkup.from_button(button("é" * 33))
        )


def button(data: str) -> InlineKeyboardButton:
    """Build a callback button carrying data."""
    return InlineKeyboardButton("Press", callback_data=data)


async def test_injected_429_surfaces_as_retry_after(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    api.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(person.id, "first try")
    assert raised.value.retry_after == dtm.timedelta(seconds=3)
    assert (await bot.send_message(person.id, "second try")).text == "second try"


async def test_global_rate_limit_answers_429_beyond_the_limit(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    api.set_global_rate_limit(5)
    results = await asyncio.gather(
        *(bot.send_message(person.id, f"n{i}") for i in range(8)), return_exceptions=True
    )
    assert sum(isinstance(result, RetryAfter) for result in results) == 3
    sends = api.calls_to("sendMessage")
    assert [call.status for call in sends].count(200) == 5
    assert api.sent_count(person.id) == 5


async def test_chat_rate_limit_applies_to_each_chat_separately(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    api.set_chat_rate_limit(1)
    other = api.user()
    assert await bot.send_message(person.id, "one")
    assert await bot.send_message(other.id, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(person.id, "two")
    times = [call.at for call in api.calls]
    assert times == sorted(times)


async def test_bare_502_and_dropped_connections_surface_as_network_errors(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(person.id, "hello")
    api.fail_next("sendMessage", disconnect=True)
    with pytest.raises(NetworkError):
        await bot.send_message(person.id, "hello")
    assert (await bot.send_message(person.id, "hello")).text == "hello"


async def test_delayed_answer_makes_the_client_time_out(
    api: BotApiEmulator, person: EmulatedUser
) -> None:
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=api.base_url, request=request) as impatient:
        api.fail_next("sendMessage", delay=1.0)
        with pytest.raises(TimedOut):
            await impatient.send_message(person.id, "slow")


async def test_outage_lasts_until_faults_are_cleared(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    api.fail_next("*", status=503, times=None)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(person.id, "hello")
    api.clear_faults()
    assert await bot.send_message(person.id, "hello")


async def test_blocked_user_gives_forbidden(bot: Bot, person: EmulatedUser) -> None:
    person.block_bot()
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(person.id, "check-in")
    (update,) = await bot.get_updates(timeout=0)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_send_photo_keeps_the_uploaded_bytes(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    sent = await bot.send_photo(
        person.id, photo=TINY_PNG, caption="<i>Mood</i>", parse_mode="HTML"
    )
    assert sent.photo[-1].width == 1 and sent.caption == "Mood"
    received = await person.next_bot_message()
    assert received.kind == "photo" and received.file is not None
    assert received.file.data == TINY_PNG and api.uploads[-1].data == TINY_PNG
    document = json.dumps({"mood": [3, 4]}).encode()
    await bot.send_document(person.id, document=document, filename="export.json")
    exported = await person.next_bot_message()
    assert exported.file is not None and exported.file.filename == "export.json"
    assert json.loads(exported.file.data or b"") == {"mood": [3, 4]}


async def test_get_file_downloads_what_a_person_sent(bot: Bot, person: EmulatedUser) -> None:
    await person.send_document(b"my notes", filename="notes.txt")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == b"my notes"


async def test_set_my_commands_is_recorded_per_language_and_scope(
    api: BotApiEmulator, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands([BotCommand("start", "Beginnen")], language_code="de")
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("hide", "Hide")], scope=private)
    assert [c.description for c in api.commands["de"]] == ["Beginnen"]
    assert [c.command for c in api.commands[""]] == ["start"]
    assert [c.command for c in api.commands_for(scope={"type": "all_private_chats"})] == ["hide"]
    assert [c.description for c in await bot.get_my_commands(language_code="de")] == ["Beginnen"]
    await bot.delete_my_commands(language_code="de")
    assert "de" not in api.commands
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start Now", "Bad")])


async def test_delete_message_removes_it_from_visible_messages(
    bot: Bot, person: EmulatedUser
) -> None:
    mine = await person.send("something private")
    reply = await bot.send_message(person.id, "noted")
    await bot.delete_message(person.id, mine.message_id)
    assert [m.message_id for m in person.visible_messages()] == [reply.message_id]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(person.id, mine.message_id)
    assert await bot.delete_messages(person.id, [reply.message_id, 999])
    assert person.visible_messages() == []


async def test_messages_older_than_48_hours_cannot_be_deleted(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    old = await person.send("written long ago")
    api.advance_time(49 * 3600)
    recent = await person.send("written now")
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(person.id, old.message_id)
    await bot.delete_messages(person.id, [old.message_id, recent.message_id])
    assert [m.message_id for m in person.visible_messages()] == [old.message_id]


async def test_flags_replies_and_reply_keyboards_are_what_the_person_sees(
    bot: Bot, person: EmulatedUser
) -> None:
    question = await person.send("can you keep this?")
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Yes"), "No"]], one_time_keyboard=True)
    await bot.send_message(
        person.id,
        "Your plan",
        protect_content=True,
        disable_notification=True,
        reply_parameters=ReplyParameters(question.message_id),
        reply_markup=keyboard,
    )
    plan = await person.next_bot_message()
    assert plan.protect_content and plan.disable_notification
    assert plan.reply_to_message_id == question.message_id
    assert person.reply_keyboard() == (("Yes", "No"),)
    await person.choose("Yes")
    assert person.reply_keyboard() is None
    await bot.send_message(person.id, "menu", reply_markup=keyboard)
    await bot.send_message(person.id, "gone", reply_markup=ReplyKeyboardRemove())
    assert person.reply_keyboard() is None
    with pytest.raises(BadRequest, match="(?i)replied not found"):
        await bot.send_message(person.id, "x", reply_parameters=ReplyParameters(999))


async def test_formatted_text_becomes_entities_and_bad_markup_is_refused(
    bot: Bot, person: EmulatedUser
) -> None:
    sent = await bot.send_message(person.id, "<b>Hi</b> &amp; bye", parse_mode=ParseMode.HTML)
    assert sent.text == "Hi & bye" and sent.entities[0].type == "bold"
    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await bot.send_message(person.id, "<blink>x</blink>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="reserved"):
        await bot.send_message(person.id, "Take care.", parse_mode=ParseMode.MARKDOWN_V2)
    ok = await bot.send_message(person.id, "*Take* care\\.", parse_mode=ParseMode.MARKDOWN_V2)
    assert ok.text == "Take care." and ok.entities[0].type == "bold"


def test_entity_offsets_count_utf16_units() -> None:
    text, entities = parse_formatted("🌿 <i>breathe</i>", "HTML", None)
    assert text == "🌿 breathe"
    assert entities == [{"type": "italic", "offset": 3, "length": 7}]
    with pytest.raises(ApiError, match="Can't find end of Bold"):
        parse_formatted("*open", "MarkdownV2", None)


@given(st.text(min_size=1).filter(lambda text: text.strip() == text))
def test_escaped_text_parses_back_to_itself_in_every_parse_mode(text: str) -> None:
    bold, entities = parse_formatted(f"*{escape_markdown(text, version=2)}*", "MarkdownV2", None)
    assert bold == text
    assert entities == [{"type": "bold", "offset": 0, "length": utf16_length(text)}]
    assert parse_formatted(f"<i>{html.escape(text)}</i>", "HTML", None)[0] == text
    assert parse_formatted(escape_markdown(text, version=1), "Markdown", None)[0] == text


async def test_non_text_messages_and_edits_arrive_as_updates(
    bot: Bot, person: EmulatedUser
) -> None:
    await person.send_sticker()
    await person.send_photo(caption="look")
    await person.send_voice(duration=3)
    said = await person.send("I am fine")
    await person.edit(said, "I am not fine")
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates[:4]]
    assert messages[0] is not None and messages[0].sticker is not None
    assert messages[1] is not None and messages[1].photo and messages[1].caption == "look"
    assert messages[2] is not None and messages[2].voice is not None
    edited = updates[4].edited_message
    assert edited is not None and edited.text == "I am not fine" and edited.edit_date


async def test_start_command_has_a_bot_command_entity(bot: Bot, person: EmulatedUser) -> None:
    await person.send_command("/resources", "DE")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.parse_entities(["bot_command"]) == {
        update.message.entities[0]: "/resources"
    }


async def test_bot_added_to_a_group_is_told_and_can_leave(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    group = api.group_chat(title="Friends")
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(group.chat_id, "hello")
    await api.add_bot_to_group(group, by=person)
    member_update, service = await bot.get_updates(timeout=0)
    assert member_update.my_chat_member is not None
    assert member_update.my_chat_member.new_chat_member.status == "member"
    assert service.message is not None and service.message.new_chat_members[0].is_bot
    await person.send("just chatting", chat=group)
    await person.send_command("/start", chat=group)
    (command,) = await bot.get_updates(offset=service.update_id + 1, timeout=0)
    assert command.message is not None and command.message.text == "/start"
    await bot.send_message(group.chat_id, "I only work in private chats.")
    assert await bot.leave_chat(group.chat_id)
    assert group.bot_status == "left"
    assert (await group.next_bot_message()).text == "I only work in private chats."
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(group.chat_id, "hello again")


async def test_get_chat_and_chat_actions_work_for_private_chats(
    bot: Bot, person: EmulatedUser
) -> None:
    chat = await bot.get_chat(person.id)
    assert chat.type == "private" and chat.first_name == "Sam"
    assert await bot.send_chat_action(person.id, "typing")
    assert person.last_chat_action == "typing"
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(77, "nobody")


async def test_webhook_receives_updates_with_the_secret_token(
    api: BotApiEmulator, bot: Bot, person: EmulatedUser
) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, object]]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        await received.put((secret, await request.json()))
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await person.send("via webhook")
        secret, update = await asyncio.wait_for(received.get(), timeout=5)
        assert secret == "s3cret-token" and update["message"]["text"] == "via webhook"  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert await bot.delete_webhook()
        assert api.webhook is None
    finally:
        await runner.cleanup()


async def test_inline_message_edits_answer_true(api: BotApiEmulator, bot: Bot) -> None:
    inline_id = api.create_inline_message("Pick one")
    assert await bot.edit_message_text("Picked", inline_message_id=inline_id) is True
    assert api.inline_message(inline_id)["text"] == "Picked"
    with pytest.raises(BadRequest, match="(?i)message_id_invalid"):
        await bot.edit_message_text("x", inline_message_id="nope")


async def test_failing_webhook_is_reported_and_closing_stops_its_sender() -> None:
    api = BotApiEmulator(token=TOKEN)
    await api.start()
    async with Bot(TOKEN, base_url=api.base_url) as client:
        await client.set_webhook("http://127.0.0.1:9/unreachable")
        await api.user().send("queued")
        await asyncio.sleep(0.2)
        info = await client.get_webhook_info()
        assert info.pending_update_count == 1 and info.last_error_message
    await api.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_closing_answers_a_pending_long_poll_at_once() -> None:
    api = BotApiEmulator(token=TOKEN)
    await api.start()
    async with Bot(TOKEN, base_url=api.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await api.close()
        assert await poll == ()
        assert time.monotonic() - started < 1


async def test_unknown_methods_are_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")


def test_threaded_emulator_serves_synchronous_callers() -> None:
    api = BotApiEmulator(token=TOKEN)
    with api.run_in_thread() as thread:
        person = api.user(id=7, first_name="Kim")
        thread.call(person.send("hi"))
        with urllib.request.urlopen(f"{thread.base_url}{TOKEN}/getUpdates") as response:
            body = json.load(response)
        assert body["ok"] and body["result"][0]["message"]["text"] == "hi"
        request = urllib.request.Request(
            f"{thread.base_url}{TOKEN}/sendMessage",
            data=json.dumps({"chat_id": 7, "text": "hello"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["result"]["date"] < 10**10
        assert thread.call(person.next_bot_message()).text == "hello"


async def test_lean_emulator_counts_messages_without_keeping_them() -> None:
    async with BotApiEmulator(token=TOKEN, retain_bodies=False, auto_create_chats=True) as lean:
        async with Bot(TOKEN, base_url=lean.base_url) as client:
            for chat_id in (501, 502, 502):
                sent = await client.send_message(chat_id, "check-in")
            assert sent.message_id == 2
            assert await client.delete_message(502, 1)
        assert lean.sent_count() == 3 and lean.sent_count(502) == 2
        assert lean.count("sendMessage") == 3
        assert all(call.params is None for call in lean.calls)
        with pytest.raises(RuntimeError):
            lean.user(id=501).bot_messages()
