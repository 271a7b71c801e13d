"""The conversation service: safety first, flows, commands, persistence, storage failure."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.conversation import Conversations, Message, Outcome, Who
from bot.crypto import generate_key
from bot.services import Services
from bot.storage.models import Conversation, SafetyEvent, SavedItem
from bot.words import words
from flows.engine import Library
from safety import Level
from safety.resources import lookup

ALEX = Who(1001, "en-GB")


def _texts(outcome: Outcome) -> list[str]:
    return [message.text for message in outcome.messages]


def _button(outcome: Outcome, label: str) -> str:
    for message in outcome.messages:
        for row in message.buttons:
            for button in row:
                if button.label == label:
                    return button.data
    raise AssertionError(f"no button {label!r} in {[m.buttons for m in outcome.messages]}")


def _last_buttons(outcome: Outcome) -> list[str]:
    message: Message = outcome.messages[-1]
    return [button.label for row in message.buttons for button in row]


async def _set_up(
    conversations: Conversations, who: Who = ALEX, country: str = "GB", language: str = "en"
) -> None:
    await conversations.command(who, "start")
    await conversations.press(who, f"l:{language}")
    await conversations.press(who, f"k:{country}")


async def test_new_person_is_welcomed_and_asked_their_language(services: Services) -> None:
    outcome = await services.conversations.text(ALEX, "hello")
    text = " ".join(_texts(outcome))
    assert "program, not a person" in text
    assert "English" in _last_buttons(outcome)


async def test_choosing_a_country_changes_the_resources(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations, country="DE")
    outcome = await conversations.command(ALEX, "resources")
    germany = lookup("DE")
    assert germany.emergency.phone is not None
    assert germany.emergency.phone in outcome.messages[0].text


async def test_crisis_mid_exercise_answers_first_and_offers_resume(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    started = await conversations.press(ALEX, "f:boundary")
    begin = _button(started, "Start")
    step = await conversations.press(ALEX, begin)
    asked_state = step.messages[-1].buttons

    crisis = await conversations.text(
        ALEX, "i can't do this anymore, i want to kill myself tonight"
    )
    assert crisis.assessment is not None and crisis.assessment.level is Level.CRISIS
    line = lookup("GB").of_kind(lookup("GB").resources[1].kind)[0]
    assert any(line.phone and line.phone in text for text in _texts(crisis))
    assert "Keep going here" in _last_buttons(crisis)

    resumed = await conversations.press(ALEX, _button(crisis, "Keep going here"))
    assert resumed.messages[-1].buttons == asked_state


async def test_after_a_crisis_text_does_not_slip_back_into_the_exercise(
    services: Services,
) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    started = await conversations.press(ALEX, "f:grounding")
    await conversations.press(ALEX, _button(started, "Start"))
    await conversations.text(ALEX, "i want to die")
    after = await conversations.text(ALEX, "ok")
    assert "paused" in after.messages[0].text


async def test_safety_events_keep_the_level_but_never_the_words(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    await conversations.text(ALEX, "he has a knife and he's screaming at me")
    async with services.sessions() as session:
        events = list(await session.scalars(select(SafetyEvent)))
    assert [event.level for event in events] == ["crisis"]
    assert "knife" not in repr(events) and "knife" not in events[0].categories


async def test_a_finished_exercise_keeps_its_item_and_plan_shows_it(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    outcome = await conversations.press(ALEX, "f:safety_plan")
    answers = iter(["feeling numb", "a walk", "the library", "my cousin", "", "ask a friend"])
    for _ in range(60):
        buttons = _last_buttons(outcome)
        if not buttons or outcome.messages[-1].buttons == ():
            break
        if "Skip" in buttons:
            answer = next(answers, "")
            if answer:
                outcome = await conversations.text(ALEX, answer)
            else:
                outcome = await conversations.press(ALEX, _button(outcome, "Skip"))
        else:
            outcome = await conversations.press(ALEX, outcome.messages[-1].buttons[0][0].data)
    async with services.sessions() as session:
        kinds = list(await session.scalars(select(SavedItem.kind)))
    assert "safety_plan" in kinds
    plan = await conversations.command(ALEX, "plan")
    assert plan.messages[0].protect
    assert "a walk" in plan.messages[0].text


async def test_stop_works_and_clears_progress(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    await conversations.press(ALEX, "f:grounding")
    await conversations.command(ALEX, "stop")
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
    nothing = await conversations.command(ALEX, "stop")
    assert "nothing to stop" in nothing.messages[0].text


async def test_an_old_button_changes_nothing(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    started = await conversations.press(ALEX, "f:grounding")
    start = _button(started, "Start")
    await conversations.press(ALEX, start)
    again = await conversations.press(ALEX, start)
    assert again.messages[0].text.startswith("That button belongs to an earlier step")


async def test_forged_button_data_gets_a_gentle_answer(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    for data in ("zz:1:x:y", "f:nonexistent", "k:NARNIA", "???", "", "x" * 64):
        outcome = await conversations.press(ALEX, data)
        assert outcome.messages


async def test_people_do_not_cross_over(services: Services) -> None:
    conversations = services.conversations
    sam = Who(2002, "es")
    await _set_up(conversations)
    await _set_up(conversations, sam, "ES", "es")
    await conversations.press(ALEX, "f:grounding")
    outcome = await conversations.command(sam, "stop")
    assert outcome.messages[0].text == words().say("es", "nothing_to_stop")
    stopped = await conversations.command(ALEX, "stop")
    assert stopped.messages[0].text != words().say("en", "nothing_to_stop")


async def test_progress_survives_a_restart(sqlite_settings_at: Settings) -> None:
    first = await Services.start(sqlite_settings_at)
    await _set_up(first.conversations)
    started = await first.conversations.press(ALEX, "f:grounding")
    step = await first.conversations.press(ALEX, _button(started, "Start"))
    await first.close()

    second = await Services.start(sqlite_settings_at)
    resumed = await second.conversations.press(ALEX, step.messages[-1].buttons[0][0].data)
    await second.close()
    assert resumed.messages and not resumed.messages[0].text.startswith("That button")


class _DownDatabase:
    """A session factory whose database cannot be reached, as when PostgreSQL is down."""

    def begin(self) -> object:
        raise OperationalError("connect", {}, ConnectionRefusedError("database is down"))

    def __call__(self) -> object:
        return self.begin()


async def test_crisis_still_gets_resources_when_storage_is_down() -> None:
    conversations = Conversations(_DownDatabase(), Library.load(), words(), "US")  # type: ignore[arg-type]
    outcome = await conversations.text(ALEX, "i took all my pills an hour ago")
    assert outcome.assessment is not None and outcome.assessment.level is Level.CRISIS
    assert any("911" in text for text in _texts(outcome))


async def test_the_same_service_works_on_postgresql(postgres_url: str) -> None:
    services = await Services.start(
        Settings(database_url=postgres_url, encryption_key=generate_key())
    )
    try:
        await _set_up(services.conversations)
        started = await services.conversations.press(ALEX, "f:grounding")
        step = await services.conversations.press(ALEX, _button(started, "Start"))
        crisis = await services.conversations.text(ALEX, "i want to end my life")
        assert crisis.assessment is not None and crisis.assessment.level is Level.CRISIS
        resumed = await services.conversations.press(ALEX, _button(crisis, "Keep going here"))
        assert resumed.messages[-1].buttons == step.messages[-1].buttons
    finally:
        await services.close()


async def test_a_concern_typed_as_an_answer_is_kept_for_when_the_person_resumes(
    services: Services,
) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    started = await conversations.press(ALEX, "f:self_compassion")
    intro = await conversations.press(ALEX, _button(started, "Start"))
    asked = intro.messages[-1].text
    concern = await conversations.text(ALEX, "i feel so worthless, i hate myself")
    assert concern.assessment is not None and concern.assessment.level is Level.CONCERN
    resumed = await conversations.press(ALEX, _button(concern, "Keep going here"))
    assert resumed.messages[-1].text != asked
    async with services.sessions() as session:
        row = await session.scalar(select(Conversation))
    assert row is not None and "worthless" in row.answers and "_pending" not in row.answers


async def test_a_crisis_typed_as_an_answer_is_not_echoed_back_later(services: Services) -> None:
    conversations = services.conversations
    await _set_up(conversations)
    started = await conversations.press(ALEX, "f:self_compassion")
    intro = await conversations.press(ALEX, _button(started, "Start"))
    asked = intro.messages[-1].text
    crisis = await conversations.text(ALEX, "i want to kill myself")
    resumed = await conversations.press(ALEX, _button(crisis, "Keep going here"))
    assert resumed.messages[-1].text == asked
