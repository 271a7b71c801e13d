"""Fuzzing the real application: random and malformed updates, forged buttons, huge texts.

Every test runs the real Application against the local Bot API emulator (the `bot` fixture of
test_handlers). The properties: nothing escapes a handler (the error handler would log
"handler error"), the bot keeps answering, and no one's progress moves except by their own
valid input, least of all by another person's forged button.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation import Who
from bot.storage import conversations as stored_conversations
from bot.storage import people
from emulator.people import EmulatedUser
from flows.engine import Library, Progress
from tests.bot.test_handlers import Running, bot, replies  # noqa: F401

ANA = 4101  # mid-exercise; receives only forged flow presses, so her step must never move
BEA = 4102  # mid-exercise one step further; never writes during the fuzz, and hears nothing
FUZZERS = (4111, 4112, 4113)  # send anything at all
CANARY_IDS = itertools.count(50_000)  # a fresh person per example, so flood control never bites
KB = 1024

_message_ids = itertools.count(10_000)
_query_ids = itertools.count(1)


@dataclass(frozen=True)
class Snapshot:
    """What must not change: a person's flow, step and answers (paused may, after a crisis)."""

    flow_id: str
    state: str
    answers: dict[str, str]


async def snapshot(running: Running, telegram_id: int) -> Snapshot | None:
    async with running.services.sessions() as session:
        person = await people.find_person(session, telegram_id)
        assert person is not None
        loaded = await stored_conversations.load_progress(session, person.id)
    if loaded is None:
        return None
    progress: Progress = loaded[0]
    return Snapshot(progress.flow_id, progress.state, dict(progress.answers))


def handler_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return every captured record at ERROR or above (the error handler logs there)."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]


# -- raw updates ------------------------------------------------------------------------------

ODD_CHARACTERS = st.characters(categories=["Cs", "Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Mn"])
TEXTS = st.one_of(
    st.text(max_size=80),
    st.text(ODD_CHARACTERS, min_size=1, max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "i want to kill myself",
            "he has a knife and he is outside my door",
            "this commute is killing me",
            "stop",
            "Start",
            "/start",
            "\x00\x01\x1b[31m",
            "\ud800",
            "\udfff lone",
            "\u202e\u200f reversed",
        ]
    ),
    # Beyond Telegram's 4096 characters, up to and past 100 KB, as a forged update could carry.
    st.builds(
        lambda unit, size: (unit * (size // len(unit) + 1))[:size],
        st.sampled_from(["a", "é", "😀", "zebra ", "\ud83d", "\n", "i want to die "]),
        st.sampled_from([4095, 4096, 4097, 9000, 60 * KB, 100 * KB, 110 * KB]),
    ),
)
LANGUAGE_CODES = st.one_of(
    st.none(), st.sampled_from(["en", "es", "de", "fr", "pt-BR", "zz", "", "x" * 40])
)
COMMANDS = st.sampled_from(
    ["/start", "/flows", "/stop", "/plan", "/resources", "/help", "/settings", "/privacy",
     "/export", "/forget", "/nonsense", "/START", "/resources@safeplace_bot", "/"]
)  # fmt: skip


def _user(user_id: int, language: str | None, name: str = "Fuzz") -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
    if language is not None:
        user["language_code"] = language
    return user


def _private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Fuzz"}


GROUP_CHATS = st.sampled_from(
    [
        {"id": -4001, "type": "group", "title": "Family"},
        {"id": -1004002, "type": "supergroup", "title": "Neighbours"},
    ]
)
CHANNEL = {"id": -1009003, "type": "channel", "title": "News"}


def _sticker(emoji: str | None) -> dict[str, Any]:
    sticker: dict[str, Any] = {
        "file_id": "CAACAgIAAxkBAAIB",
        "file_unique_id": "AgADAgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    if emoji is not None:
        sticker["emoji"] = emoji
    return sticker


@st.composite
def contents(draw: st.DrawFn) -> dict[str, Any]:
    """The body of a message: text, a command, a sticker (with or without a caption), etc."""
    kind = draw(
        st.sampled_from(["text", "command", "sticker", "photo", "empty", "location", "entities"])
    )
    if kind == "text":
        return {"text": draw(TEXTS)}
    if kind == "command":
        command = draw(COMMANDS)
        argument = draw(st.one_of(st.just(""), TEXTS))
        text = f"{command} {argument}" if argument else command
        return {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }
    if kind == "sticker":
        content: dict[str, Any] = {"sticker": _sticker(draw(st.one_of(st.none(), TEXTS)))}
        if draw(st.booleans()):
            content["caption"] = draw(TEXTS)  # Telegram never sends one; a forgery might
        return content
    if kind == "photo":
        photo = {"file_id": "AgACAgIAAxk", "file_unique_id": "AQAD", "width": 1, "height": 1}
        content = {"photo": [photo]}
        if draw(st.booleans()):
            content["caption"] = draw(TEXTS)
        return content
    if kind == "location":
        return {"location": {"latitude": 52.5, "longitude": 13.4}}
    if kind == "entities":  # entities pointing past the end of the text, or overlapping
        text = draw(TEXTS)
        return {
            "text": text,
            "entities": [
                {"type": draw(st.sampled_from(["bold", "bot_command", "url", "mention"])),
                 "offset": draw(st.integers(0, 10_000)), "length": draw(st.integers(0, 10_000))}
            ],
        }  # fmt: skip
    return {}  # a message with no content at all


def message(chat: dict[str, Any], sender: dict[str, Any] | None, body: dict[str, Any]) -> dict:
    payload: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        **body,
    }
    if sender is not None:
        payload["from"] = sender
    return payload


def callback_query(
    sender: dict[str, Any], data: str | None, attached: dict[str, Any] | None
) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": f"fuzz-{next(_query_ids)}",
        "from": sender,
        "chat_instance": "fuzz-instance",
    }
    if data is not None:
        query["data"] = data
    if attached is not None:
        query["message"] = attached
    return {"callback_query": query}


LIBRARY = Library.load()
FLOW_STATES = [
    (flow_id, LIBRARY.flow(flow_id).version, state)
    for flow_id in sorted(info.id for info in LIBRARY.flows("en"))
    for state in LIBRARY.flow(flow_id).states
]
CHOICES = st.sampled_from(["0", "1", "2", "7", "99", "skip", "stop", "restart", "not_now", "x"])


@st.composite
def flow_presses(draw: st.DrawFn) -> str:
    """Forged `flow:version:state:choice` data: real flow and step ids, any version and choice."""
    flow_id, version, state = draw(st.sampled_from(FLOW_STATES))
    version = draw(st.sampled_from([version, version + 1, 0]))
    return f"{flow_id}:{version}:{state}:{draw(CHOICES)}"


CALLBACK_DATA = st.one_of(
    st.none(),
    flow_presses(),
    st.text(max_size=70),
    st.sampled_from(
        ["f:grounding", "f:nope", "c:resume", "c:plan", "c:zzz", "m:resume", "m:leave", "l:zz",
         "l:es", "k:XX", "k:-", "r:", "r:DE", "s:flows", "s:lang", "s:country", "x:keep", ":",
         "::::", "grounding:1:see:0:extra", "grounding:one:see:0", "a" * 64, "é" * 40]
    ),
)  # fmt: skip


def attached_messages(chat: dict[str, Any]) -> st.SearchStrategy[dict[str, Any] | None]:
    """The message a button was on: none at all, inaccessible (date 0), or without a keyboard.

    A keyboard on a message the chat does not hold is left out: Telegram only sends presses on
    real messages, and editing a missing one costs 3.5 s of retries (test_faults covers that).
    """
    return st.one_of(
        st.none(),
        st.builds(lambda: {"message_id": next(_message_ids), "date": 0, "chat": chat}),
        st.builds(lambda: message(chat, None, {"text": "a step"})),
    )


@st.composite
def fuzz_updates(draw: st.DrawFn) -> dict[str, Any]:
    """One raw update from one of the fuzzing people, of any kind Telegram has (or has not)."""
    sender = _user(draw(st.sampled_from(FUZZERS)), draw(LANGUAGE_CODES), draw(st.text(max_size=8)))
    own = _private_chat(sender["id"])
    kind = draw(
        st.sampled_from(
            ["message", "edited_message", "callback_query", "group", "channel_post",
             "edited_channel_post", "unknown", "empty", "inline_callback"]
        )
    )  # fmt: skip
    if kind == "message":
        return {"message": message(own, sender, draw(contents()))}
    if kind == "edited_message":
        edited = message(own, sender, draw(contents()))
        edited["edit_date"] = int(time.time())
        return {"edited_message": edited}
    if kind == "callback_query":
        return callback_query(sender, draw(CALLBACK_DATA), draw(attached_messages(own)))
    if kind == "inline_callback":  # a button under an inline-mode message: no message at all
        update = callback_query(sender, draw(CALLBACK_DATA), None)
        update["callback_query"]["inline_message_id"] = "AAAA-inline"
        return update
    if kind == "group":
        return {"message": message(draw(GROUP_CHATS), sender, draw(contents()))}
    if kind in ("channel_post", "edited_channel_post"):
        post = message(CHANNEL, None, draw(contents()))
        post["sender_chat"] = CHANNEL
        return {kind: post}
    if kind == "unknown":  # a kind of update Telegram may add tomorrow
        return {draw(st.sampled_from(["zz_new_update", "story_reply_x", "unheard_of"])): {
            "id": 1, "text": draw(TEXTS)}}  # fmt: skip
    return {}  # only an update_id


@st.composite
def forged_presses_for_ana(draw: st.DrawFn) -> dict[str, Any]:
    """A button press from Ana with data she was never shown, including Bea's real buttons."""
    data = draw(st.one_of(flow_presses(), st.sampled_from(BEA_BUTTONS)))
    sender = _user(ANA, "en", "Ana")
    return callback_query(sender, data, draw(attached_messages(_private_chat(ANA))))


# Bea waits on grounding's "touch" step; these are the buttons on her screen.
BEA_BUTTONS = ["grounding:1:touch:skip", "grounding:1:touch:stop"]
ANA_BUTTONS = {"grounding:1:see:skip", "grounding:1:see:stop"}


async def place(running: Running, telegram_id: int, answers: list[str]) -> None:
    """Put a person into grounding, past its intro, answering the first typed steps."""
    conversations = running.services.conversations
    who = Who(telegram_id, "en")
    await conversations.command(who, "start")
    await conversations.press(who, "l:en")
    await conversations.press(who, "k:GB")
    await conversations.press(who, "f:grounding")
    await conversations.press(who, "grounding:1:intro:0")
    for answer in answers:
        await conversations.text(who, answer)


async def settle(running: Running, timeout: float = 20.0) -> None:
    """Wait until every queued update was fetched and handled (people are served concurrently)."""
    processor = running.application.update_processor
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:  # idle three looks in a row, so a task just created is seen too
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish handling the queued updates")
        idle = (
            running.api.pending_updates == 0
            and running.application.update_queue.empty()
            and processor.current_concurrent_updates == 0
        )
        quiet = quiet + 1 if idle else 0
        await asyncio.sleep(0.02)


async def canary_answers(running: Running) -> EmulatedUser:
    """Wait for everything queued to be handled; then a new person writes and is answered."""
    await settle(running)
    canary = running.api.user(id=next(CANARY_IDS), first_name="Cora", language_code="en")
    await canary.send("hello")
    await canary.next_bot_message(timeout=20)
    return canary


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # 100 KB texts, on failure
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(fuzz_updates(), min_size=1, max_size=6),
    forged=st.lists(forged_presses_for_ana(), max_size=3),
)
async def test_random_updates_never_escape_a_handler_or_move_anyone(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    batch: list[dict[str, Any]],
    forged: list[dict[str, Any]],
) -> None:
    if bot.application.bot_data.get("fuzz_placed") is None:
        for telegram_id in (ANA, BEA, *FUZZERS):  # their chats exist, as real ones would
            bot.api.user(id=telegram_id, first_name="Fuzz", language_code="en")
        await place(bot, ANA, [])
        await place(bot, BEA, ["the window"])
        bot.application.bot_data["fuzz_placed"] = {
            ANA: await snapshot(bot, ANA),
            BEA: await snapshot(bot, BEA),
        }
    before = bot.application.bot_data["fuzz_placed"]
    assert before[ANA].state == "see" and before[BEA].state == "touch"
    heard_by_bea = bot.api.sent_count(BEA)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for update in [*batch, *forged]:
            bot.api.push_update(update)
        await canary_answers(bot)  # everything pushed was handled, and the bot still answers
    assert handler_errors(caplog) == []
    assert await snapshot(bot, ANA) == before[ANA], "a forged press moved Ana"
    assert await snapshot(bot, BEA) == before[BEA], "someone else's press moved Bea"
    assert bot.api.sent_count(BEA) == heard_by_bea, "Bea was sent something she did not ask for"


async def test_every_command_answers_whatever_the_language_code(bot: Running) -> None:  # noqa: F811
    conversations = bot.services.conversations
    names = ["start", "flows", "stop", "plan", "resources", "help", "settings", "privacy",
             "export", "forget", "hide", "nonsense", "checkin", "mood"]  # fmt: skip
    for number, language in enumerate(["en", "es", "pt-BR", "zz", "", "x" * 40, None]):
        for name in names:
            outcome = await conversations.command(Who(4150 + number, language), name, "")
            assert outcome.messages, f"/{name} in {language!r} said nothing"


async def test_another_persons_real_buttons_do_nothing_for_the_presser(bot: Running) -> None:  # noqa: F811
    await place(bot, ANA, [])
    await place(bot, BEA, ["the window"])
    ana_before, bea_before = await snapshot(bot, ANA), await snapshot(bot, BEA)
    ana = bot.api.user(id=ANA, first_name="Ana", language_code="en")
    bea = bot.api.user(id=BEA, first_name="Bea", language_code="en")
    note = await ana.send_sticker()  # a message in Ana's own chat that does not move her
    await replies(ana)
    for data in BEA_BUTTONS:
        query = await ana.send_callback(note, data)
        await bot.api.wait_for_callback_answer(query)
        answer = await replies(ana)
        assert "earlier" in (answer[0].text or ""), "a stale button is answered gently"
    assert await snapshot(bot, ANA) == ana_before
    assert await snapshot(bot, BEA) == bea_before
    assert bea.bot_messages() == []


async def test_huge_texts_are_screened_and_answered(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=4120, first_name="Sam", language_code="en")
    await place(bot, 4120, [])
    for size in (4097, 100 * KB):
        update_text = ("the garden wall " * (size // 16 + 1))[:size]
        bot.api.push_update(
            {"message": message(_private_chat(4120), sam.info, {"text": update_text})}
        )
        answer = await replies(sam, first_within=10)
        assert answer, "a huge answer is taken, and the next step is asked"
    crisis = ("i want to kill myself " * 5000)[: 100 * KB]
    bot.api.push_update({"message": message(_private_chat(4120), sam.info, {"text": crisis})})
    answer = await replies(sam, first_within=10)
    assert any("116 123" in (m.text or "") or "999" in (m.text or "") for m in answer)
    stored = await snapshot(bot, 4120)
    assert stored is not None and len(stored.answers["seen"]) == 4097


async def test_stickers_with_and_without_a_caption_and_channel_posts(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    sam = bot.api.user(id=4121, first_name="Sam", language_code="en")
    with caplog.at_level(logging.INFO):
        await sam.send_sticker()
        assert "only read text" in ((await replies(sam))[0].text or "")
        bot.api.push_update({"message": message(
            _private_chat(4121), sam.info, {"sticker": _sticker("🙂"), "caption": "i want to die"})})  # fmt: skip
        crisis = await replies(sam)
        assert any("findahelpline.com" in (m.text or "") for m in crisis), "resources, by caption"
        post = message(CHANNEL, None, {"text": "i want to die"})
        post["sender_chat"] = CHANNEL
        bot.api.push_update({"channel_post": post})
        bot.api.push_update({"edited_channel_post": post})
        await canary_answers(bot)
    assert bot.api.sent_count(CHANNEL["id"]) == 0
    assert handler_errors(caplog) == []


async def test_a_callback_without_a_message_is_answered_and_ignored(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot.api.user(id=ANA, first_name="Ana", language_code="en")
    await place(bot, ANA, [])
    before = await snapshot(bot, ANA)
    with caplog.at_level(logging.INFO):
        update = callback_query(_user(ANA, "en"), "grounding:1:see:stop", None)
        update["callback_query"]["inline_message_id"] = "AAAA-inline"
        bot.api.push_update(update)
        await canary_answers(bot)
    answered = [call.params for call in bot.api.calls_to("answerCallbackQuery")]
    assert any(params.get("callback_query_id") == update["callback_query"]["id"]
               for params in answered)  # fmt: skip
    assert await snapshot(bot, ANA) == before
    assert handler_errors(caplog) == []


# -- known bugs, proposed fixes in the report; strict, so a fix turns them into failures ----


async def test_an_unparseable_update_does_not_stop_the_bot(bot: Running) -> None:  # noqa: F811
    sam = bot.api.user(id=4130, first_name="Sam", language_code="en")
    bot.api.push_update(
        {"message": {"message_id": 1, "chat": _private_chat(4130), "from": sam.info, "text": "hi"}}
    )
    await sam.send("i want to kill myself")
    answer = await replies(sam, first_within=8)
    # Someone new, with no country yet: the international list.
    assert any("findahelpline.com" in (m.text or "") for m in answer)


async def test_a_private_message_without_a_sender_is_ignored_quietly(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        bot.api.push_update({"message": message(_private_chat(4131), None, {"text": "hello"})})
        await canary_answers(bot)
    assert handler_errors(caplog) == []


async def test_a_lone_surrogate_in_an_answer_that_is_read_back(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    sam = bot.api.user(id=4140, first_name="Sam", language_code="en")
    conversations = bot.services.conversations
    who = Who(4140, "en")
    await conversations.command(who, "start")
    await conversations.press(who, "f:boundary")
    await conversations.press(who, "boundary:1:intro:0")
    await conversations.press(who, "boundary:1:situation:2")
    with caplog.at_level(logging.INFO):
        bot.api.push_update(
            {"message": message(_private_chat(4140), sam.info, {"text": "hurt \ud83d and tired"})}
        )
        answer = await replies(sam)
    assert handler_errors(caplog) == []
    assert any("Thank you for naming it" in (m.text or "") for m in answer)


async def test_a_message_claiming_another_persons_chat_sends_nothing_there(
    bot: Running,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot.api.user(id=ANA, first_name="Ana", language_code="en")
    bot.api.user(id=BEA, first_name="Bea", language_code="en")
    await place(bot, ANA, [])
    await place(bot, BEA, ["the window"])
    ana = _user(ANA, "en", "Ana")
    with caplog.at_level(logging.INFO):
        bot.api.push_update({"message": message(_private_chat(BEA), ana, {"text": "hello"})})
        bot.api.push_update(callback_query(ana, "grounding:1:see:stop",
                                           message(_private_chat(BEA), None, {"text": "step"})))  # fmt: skip
        await canary_answers(bot)
    assert bot.api.sent_count(BEA) == 0
