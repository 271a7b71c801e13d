"""The conversation service: safety first, then the flow engine; plain input, plain replies.

Both front ends use it: the Telegram adapter (bot/handlers.py) and the terminal chat
(bot/chat.py). It knows storage and the engine, never Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import conversations, events, items, messages, people, updates
from bot.storage.models import Person
from bot.words import Words
from flows.engine import Keep, Library, Press, Progress, Reply, Text, Turn, UnknownFlow
from safety import Assessment, Level, screen
from safety.resources import (
    CountryResources,
    UnknownCountry,
    countries,
    format_text,
    lookup,
    suggest_country,
)
from safety.responses import Response, respond

logger = logging.getLogger(__name__)

GROUNDING = "grounding"
PENDING = "_pending"
SAFETY_STORAGE_WAIT = 1.0  # seconds storage may take before a safety reply goes out anyway  # an answer held while a concern reply interrupted the exercise
SAFETY_PLAN = "safety_plan"
COUNTRIES_PER_ROW = 3


@dataclass(frozen=True)
class Button:
    """A button under a message: its label and the data it sends back (≤ 64 bytes)."""

    label: str
    data: str


@dataclass(frozen=True)
class Message:
    """One outgoing message; `protect` asks Telegram to block forwarding and saving.

    With `photo` (PNG bytes) the text is the photo's caption; `silent` sends it without a
    notification sound.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    protect: bool = False
    photo: bytes | None = None
    document: tuple[str, bytes] | None = None  # (file name, contents)
    silent: bool = False


class Extension(Protocol):
    """A feature that adds commands, buttons and typed answers (e.g. daily check-ins).

    Every method gets the unit of work's session and the person, and returns the messages to
    send, or None when the input is not its own.
    """

    commands: frozenset[str]
    prefix: str  # its buttons' callback data start with "<prefix>:"

    async def command(
        self, session: AsyncSession, person: Person, name: str, argument: str
    ) -> list[Message]: ...

    async def press(self, session: AsyncSession, person: Person, value: str) -> list[Message]: ...

    async def text(
        self, session: AsyncSession, person: Person, text: str
    ) -> list[Message] | None: ...


@dataclass(frozen=True)
class Outcome:
    """Everything one input produced, in order, and the safety reading if there was one."""

    messages: tuple[Message, ...]
    assessment: Assessment | None = None
    language: str = "en"


@dataclass(frozen=True)
class Who:
    """Who is writing: their Telegram id and the language their Telegram app reports."""

    telegram_id: int
    language_code: str | None = None
    update_id: int | None = None  # Telegram's, to act once on a redelivered update


@dataclass
class _Reply:
    messages: list[Message] = field(default_factory=list)

    def add(
        self, text: str, buttons: Sequence[Sequence[Button]] = (), protect: bool = False
    ) -> None:
        self.messages.append(Message(text, tuple(tuple(row) for row in buttons), protect))


class Conversations:
    """Turns what a person sends into what SafePlace answers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: Library,
        words: Words,
        default_country: str | None = None,
        extensions: Sequence[Extension] = (),
        retention: Mapping[str, str] | None = None,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._words = words
        self._default_country = default_country
        self._extensions = list(extensions)
        self._background: set[asyncio.Future[Any]] = set()
        self._retention = dict(
            retention or {"conversation_days": "90", "safety_days": "90", "mood_days": "365"}
        )

    def extend(self, extension: Extension) -> None:
        """Add a feature's commands, buttons and typed answers."""
        self._extensions.append(extension)

    # -- entry points ------------------------------------------------------------------

    async def text(self, who: Who, text: str) -> Outcome:
        """Screen a typed message first; then let the running exercise, if any, answer it."""
        assessment = screen(text, None)
        if assessment.needs_response:
            return await self._safety_reply(who, assessment, text)
        async with self._sessions.begin() as session:
            person, new = await self._person(session, who)
            repeat = await self._repeat(session, person, who)
            if repeat is not None:
                return repeat
            if new:
                return self._outcome(person, self._welcome(person))
            for extension in self._extensions:
                handled = await extension.text(session, person, text)
                if handled is not None:
                    return self._outcome(person, _Reply(handled))
            current = await conversations.load_progress(session, person.id, for_update=True)
            if current is None:
                return self._outcome(person, self._idle(person.language))
            progress, paused = current
            if paused:
                return self._outcome(person, self._paused_prompt(person.language, progress))
            turn = self._library.handle(progress, Text(text), await self._context(person))
            return self._outcome(person, await self._apply(session, person, turn))

    async def screen_only(self, who: Who, text: str) -> Outcome:
        """Screen text that must not move a flow (an edited message): a safety reply or nothing."""
        assessment = screen(text, None)
        if assessment.needs_response:
            return await self._safety_reply(who, assessment)
        return Outcome((), assessment)

    async def press(self, who: Who, data: str) -> Outcome:
        """Answer a button press; old or unknown buttons change nothing and say so gently."""
        async with self._sessions.begin() as session:
            person, _ = await self._person(session, who)
            repeat = await self._repeat(session, person, who)
            if repeat is not None:
                return repeat
            reply = await self._press(session, person, data)
            return self._outcome(person, reply)

    async def command(self, who: Who, name: str, argument: str = "") -> Outcome:
        """Run a slash command (without the slash), e.g. "flows" or "resources de"."""
        async with self._sessions.begin() as session:
            person, new = await self._person(session, who)
            repeat = await self._repeat(session, person, who)
            if repeat is not None:
                return repeat
            for extension in self._extensions:
                if name in extension.commands:
                    messages = await extension.command(session, person, name, argument)
                    return self._outcome(person, _Reply(messages))
            handler = _COMMANDS.get(name)
            if handler is None:
                return self._outcome(person, self._idle(person.language))
            if new and name != "start":  # greet first, then do what was asked
                reply = self._welcome(person)
                reply.messages.extend((await handler(self, session, person, argument)).messages)
                return self._outcome(person, reply)
            return self._outcome(person, await handler(self, session, person, argument))

    # -- safety ------------------------------------------------------------------------

    async def _safety_reply(
        self, who: Who, assessment: Assessment, answer: str | None = None
    ) -> Outcome:
        """Answer crisis or concern language at once; storage gets a second at most.

        The person's country, language and safety plan come from storage when it answers in
        time; when it is down or slow (a lock, a dead link), the reply goes out from the
        defaults and the record is finished in the background.
        """
        language = self._words.language(who.language_code or assessment.language)
        country_code = self._default_country
        has_plan = has_flow = False
        known = asyncio.ensure_future(self._read_for_safety(who))
        record = asyncio.ensure_future(self._record_safety(who, assessment, answer))
        done, _ = await asyncio.wait({known}, timeout=SAFETY_STORAGE_WAIT)
        if known in done and known.exception() is None:
            found = known.result()
            if found is not None:
                if found[4]:
                    record.cancel()
                    return Outcome((), assessment, language)  # answered already: never twice
                language, country_code, has_plan, has_flow = found[:4]
        else:
            # The safety screen never depends on storage: answer from the defaults.
            logger.error("storage unavailable during a safety reply; answering from defaults")
        await asyncio.wait({record}, timeout=SAFETY_STORAGE_WAIT)
        for task in (known, record):
            if task.done():
                self._finished_in_background(task)
            else:
                self._background.add(task)
                task.add_done_callback(self._finished_in_background)
        country = _country(country_code)
        if assessment.language != language and assessment.language in self._words.languages:
            language = assessment.language  # answer a crisis in the language it was written in
        response = respond(assessment, country, language, has_safety_plan=has_plan)
        logger.info(
            "safety reply level=%s categories=%s",
            assessment.level.value,
            ",".join(category.value for category in assessment.categories),
        )
        messages = _response_messages(response, has_flow) if response else ()
        return Outcome(messages, assessment, language)

    async def _read_for_safety(self, who: Who) -> tuple[str, str | None, bool, bool, bool] | None:
        """Read what a safety reply needs (no writes, so a write lock elsewhere cannot stop it).

        Returns language, country, has a safety plan, is in an exercise, and whether this
        update was already answered; None for someone not stored yet.
        """
        async with self._sessions() as session:
            person = await people.find_person(session, who.telegram_id)
            replied = await updates.was_replied(session, who.update_id)
            if person is None:
                return None
            has_plan = await items.latest_item(session, person.id, SAFETY_PLAN) is not None
            has_flow = await conversations.load_progress(session, person.id) is not None
            return person.language, person.country, has_plan, has_flow, replied

    async def _record_safety(self, who: Who, assessment: Assessment, answer: str | None) -> None:
        """Record the safety event and pause the exercise, once per update."""
        async with self._sessions.begin() as session:
            person, _ = await self._person(session, who)
            delivery = await updates.claim_update(session, who.update_id)
            if delivery is updates.Delivery.REPLIED:
                return
            await events.record_safety_event(session, person.id, assessment)
            await self._pause(session, person, assessment, answer)

    def _finished_in_background(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("safety record failed (%s)", type(task.exception()).__name__)

    # -- presses -----------------------------------------------------------------------

    async def _press(self, session: AsyncSession, person: Person, data: str) -> _Reply:
        language = person.language
        engine_press = Press.decode(data)
        if engine_press is not None:
            return await self._flow_press(session, person, engine_press)
        kind, _, value = data.partition(":")
        for extension in self._extensions:
            if kind == extension.prefix:
                return _Reply(await extension.press(session, person, value))
        if kind == "f":
            return await self._start_flow(session, person, value)
        if kind == "c":
            return await self._crisis_choice(session, person, value)
        if kind == "m" and value == "resume":
            return await self._resume(session, person)
        if kind == "m" and value == "leave":
            await conversations.clear_progress(session, person.id)
            return _one(self._words.say(language, "left_paused"))
        if kind == "l" and value in self._words.languages:
            person.language = value
            reply = _one(self._words.say(value, "language_set"))
            reply.messages.extend(self._country_question(person).messages)
            return reply
        if kind == "k":
            return self._set_country(person, value)
        if kind == "r":
            return self._resources(person, value or person.country or "")
        if kind == "s" and value == "flows":
            return self._flow_menu(language, "flows_intro")
        if kind == "s" and value == "lang":
            return self._language_question(person)
        if kind == "s" and value == "country":
            return self._country_picker(person.language, "k", "choose_country")
        return _one(self._words.say(language, "stale"))

    async def _flow_press(self, session: AsyncSession, person: Person, given: Press) -> _Reply:
        current = await conversations.load_progress(session, person.id, for_update=True)
        if current is None or current[0].flow_id != given.flow_id:
            return _one(self._words.say(person.language, "stale"))
        progress, _ = current
        turn = self._library.handle(progress, given, await self._context(person))
        return await self._apply(session, person, turn)

    async def _crisis_choice(self, session: AsyncSession, person: Person, choice: str) -> _Reply:
        if choice == "resume":
            return await self._resume(session, person)
        if choice == "grounding":
            return await self._start_flow(session, person, GROUNDING)
        if choice == "plan":
            return await self._plan(session, person, "")
        return _one(self._words.say(person.language, "pause_ack"))

    async def _resume(self, session: AsyncSession, person: Person) -> _Reply:
        current = await conversations.load_progress(session, person.id, for_update=True)
        if current is None:
            return self._flow_menu(person.language, "no_saved_resume")
        progress = current[0]
        context = await self._context(person)
        pending = progress.answers.get(PENDING)
        if pending is None:
            turn = self._library.resume(progress, context)
        else:
            # The words that were interrupted become the answer they were meant to be.
            answers = {k: v for k, v in progress.answers.items() if k != PENDING}
            turn = self._library.handle(replace(progress, answers=answers), Text(pending), context)
        return await self._apply(session, person, turn)

    async def _pause(
        self, session: AsyncSession, person: Person, assessment: Assessment, answer: str | None
    ) -> bool:
        """Pause the running exercise; return whether there was one.

        A concern typed as an answer is kept and used if the person resumes, so nothing they
        wrote is lost. A crisis is not kept: the exercise would echo those words back.
        """
        current = await conversations.load_progress(session, person.id, for_update=True)
        if current is None:
            return False
        progress = current[0]
        if answer is not None and assessment.level is Level.CONCERN and self._asks(progress):
            progress = replace(progress, answers={**progress.answers, PENDING: answer})
        await conversations.save_progress(session, person.id, progress, paused=True)
        return True

    def _asks(self, progress: Progress) -> bool:
        try:
            state = self._library.flow(progress.flow_id).states.get(progress.state)
        except UnknownFlow:
            return False
        return state is not None and state.ask is not None

    async def _start_flow(self, session: AsyncSession, person: Person, flow_id: str) -> _Reply:
        try:
            turn = self._library.start(flow_id, person.language, await self._context(person))
        except UnknownFlow:
            return _one(self._words.say(person.language, "stale"))
        return await self._apply(session, person, turn)

    # -- commands ----------------------------------------------------------------------

    async def _cmd_start(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        return self._welcome(person)

    async def _cmd_flows(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        return self._flow_menu(person.language, "flows_intro")

    async def _cmd_stop(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        current = await conversations.load_progress(session, person.id, for_update=True)
        if current is None:
            return _one(self._words.say(person.language, "nothing_to_stop"))
        turn = self._library.stop(current[0])
        return await self._apply(session, person, turn)

    async def _plan(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        plan = await items.latest_item(session, person.id, SAFETY_PLAN)
        if plan is None:
            button = Button(self._words.say(person.language, "plan_start"), f"f:{SAFETY_PLAN}")
            return _one(self._words.say(person.language, "plan_none"), [[button]])
        header = self._words.say(
            person.language, "plan_header", date=f"{plan.created_at:%Y-%m-%d}"
        )
        reply = _Reply()
        reply.add(f"{header}\n\n{plan.content}", protect=True)
        return reply

    async def _cmd_resources(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        if argument.strip():
            return self._resources(person, argument)
        return self._resources(person, person.country or self._default_country or "")

    async def _cmd_settings(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        country = _country(person.country)
        name = (
            country.name if person.country else self._words.say(person.language, "country_unset")
        )
        buttons = [
            [
                Button(self._words.say(person.language, "settings_language"), "s:lang"),
                Button(self._words.say(person.language, "settings_country"), "s:country"),
            ]
        ]
        # Words.say's first parameter is also called `language`, so this template, whose field
        # has that name, is filled here: passing language= to say() raised TypeError.
        template = self._words.say(person.language, "settings_intro")
        return _one(template.format(language=person.language, country=name), buttons)

    async def _cmd_privacy(self, session: AsyncSession, person: Person, argument: str) -> _Reply:
        return _one(self._words.say(person.language, "privacy", **self._retention))

    # -- pieces ------------------------------------------------------------------------

    async def _repeat(self, session: AsyncSession, person: Person, who: Who) -> Outcome | None:
        """Claim the update; for a redelivered one, act on nothing and at most re-show where we are."""
        delivery = await updates.claim_update(session, who.update_id)
        if delivery is updates.Delivery.NEW:
            return None
        logger.info("update %s delivered again (%s)", who.update_id, delivery.value)
        if delivery is updates.Delivery.REPLIED:
            return self._outcome(person, _Reply())
        # Acted on, but the reply may never have gone out: show where the person is now.
        current = await conversations.load_progress(session, person.id)
        if current is None or current[1]:
            return self._outcome(person, self._idle(person.language))
        turn = self._library.resume(current[0], await self._context(person))
        return self._outcome(person, _Reply([_flow_message(reply) for reply in turn.replies]))

    async def delivered(
        self, who: Who, chat_id: int, message_ids: Sequence[int], *, replied: bool = True
    ) -> None:
        """Record that replies went out, and the chat's new message ids (for /hide)."""
        async with self._sessions.begin() as session:
            if replied and who.update_id is not None:
                await updates.mark_replied(session, [who.update_id])
            person = await people.find_person(session, who.telegram_id)
            if person is not None and message_ids:
                await messages.remember_messages(session, person.id, chat_id, message_ids)

    async def recent_message_ids(self, who: Who, since: datetime) -> list[tuple[int, int]]:
        """Return the chat's (chat_id, message_id) pairs still deletable, for /hide."""
        async with self._sessions.begin() as session:
            person = await people.find_person(session, who.telegram_id)
            if person is None:
                return []
            return await messages.recent_message_ids(session, person.id, since)

    async def forget_message_ids(self, who: Who) -> None:
        async with self._sessions.begin() as session:
            person = await people.find_person(session, who.telegram_id)
            if person is not None:
                await messages.forget_messages(session, person.id)

    async def _person(self, session: AsyncSession, who: Who) -> tuple[Person, bool]:
        language = self._words.language(who.language_code)
        # A best guess from the app's language ("de-AT" → Austria), offered first and changeable.
        country = suggest_country(who.language_code) or self._default_country
        return await people.get_or_create_person(session, who.telegram_id, language, country)

    async def _context(self, person: Person) -> Mapping[str, str]:
        return {"crisis_lines": format_text(_country(person.country or self._default_country))}

    async def _apply(self, session: AsyncSession, person: Person, turn: Turn) -> _Reply:
        """Save the turn's progress and kept items; render its replies."""
        await conversations.save_progress(session, person.id, turn.progress)
        reply = _Reply()
        for effect in turn.effects:
            if isinstance(effect, Keep):
                await items.add_item(session, person.id, effect.kind.value, effect.flow_id,
                                     effect.title, effect.content)  # fmt: skip
                logger.info("saved item kind=%s flow=%s", effect.kind.value, effect.flow_id)
        for engine_reply in turn.replies:
            reply.messages.append(_flow_message(engine_reply))
        return reply

    def _welcome(self, person: Person) -> _Reply:
        reply = _Reply()
        reply.add(self._words.say(person.language, "welcome"))
        reply.add(self._words.say(person.language, "welcome_privacy"))
        reply.messages.extend(self._language_question(person).messages)
        return reply

    def _language_question(self, person: Person) -> _Reply:
        names = {"en": "English", "es": "Español", "de": "Deutsch", "fr": "Français"}
        buttons = [Button(names.get(code, code), f"l:{code}") for code in self._words.languages]
        return _one(self._words.say(person.language, "choose_language"), [buttons])

    def _country_question(self, person: Person) -> _Reply:
        reply = self._country_picker(person.language, "k", "choose_country")
        if person.country:
            guess = _country(person.country)
            first = (Button(guess.name, f"k:{guess.code}"),)
            message = reply.messages[0]
            reply.messages[0] = Message(message.text, (first, *message.buttons))
        return reply

    def _country_picker(self, language: str, prefix: str, key: str) -> _Reply:
        choices = [Button(country.name, f"{prefix}:{country.code}") for country in countries()]
        rows = [
            choices[index : index + COUNTRIES_PER_ROW]
            for index in range(0, len(choices), COUNTRIES_PER_ROW)
        ]
        last = (
            Button(self._words.say(language, "international"), f"{prefix}:-")
            if prefix == "r"
            else Button(self._words.say(language, "country_none"), f"{prefix}:-")
        )
        rows.append([last])
        return _one(self._words.say(language, key), rows)

    def _set_country(self, person: Person, value: str) -> _Reply:
        language = person.language
        if value == "-":
            person.country = None
            reply = _one(self._words.say(language, "country_cleared"))
        else:
            try:
                country = lookup(value)
            except UnknownCountry:
                return self._country_picker(language, "k", "choose_country")
            person.country = country.code
            reply = _one(self._words.say(language, "country_set", country=country.name))
        reply.add(self._words.say(language, "setup_done"))
        return reply

    def _resources(self, person: Person, name: str) -> _Reply:
        language = person.language
        try:
            country = lookup(None if name in ("", "-") else name)
        except UnknownCountry:
            return self._country_picker(language, "r", "resources_unknown")
        header = self._words.say(language, "resources_header", country=country.name)
        return _one(f"{header}\n\n{format_text(country)}")

    def _flow_menu(self, language: str, key: str) -> _Reply:
        rows = [
            [Button(f"{info.title}", f"f:{info.id}")]
            for info in self._library.flows(self._flow_language(language))
        ]
        return _one(self._words.say(language, key), rows)

    def _flow_language(self, language: str) -> str:
        return language if self._library.flows(language) else "en"

    def _idle(self, language: str) -> _Reply:
        buttons = [
            [
                Button(self._words.say(language, "idle_flows"), "s:flows"),
                Button(self._words.say(language, "idle_resources"), "r:"),
            ]
        ]
        return _one(self._words.say(language, "idle"), buttons)

    def _paused_prompt(self, language: str, progress: Progress) -> _Reply:
        try:
            title = self._library.flow(progress.flow_id).title.in_language(progress.language)
        except UnknownFlow:
            title = progress.flow_id
        buttons = [
            [
                Button(self._words.say(language, "resume"), "m:resume"),
                Button(self._words.say(language, "leave_it"), "m:leave"),
            ]
        ]
        return _one(self._words.say(language, "paused_reminder", title=title), buttons)

    def _outcome(self, person: Person, reply: _Reply) -> Outcome:
        return Outcome(tuple(reply.messages), None, person.language)


_COMMANDS = {
    "start": Conversations._cmd_start,
    "flows": Conversations._cmd_flows,
    "stop": Conversations._cmd_stop,
    "plan": Conversations._plan,
    "resources": Conversations._cmd_resources,
    "help": Conversations._cmd_resources,
    "settings": Conversations._cmd_settings,
    "privacy": Conversations._cmd_privacy,
}


def _one(text: str, buttons: Sequence[Sequence[Button]] = ()) -> _Reply:
    reply = _Reply()
    reply.add(text, buttons)
    return reply


def _country(code: str | None) -> CountryResources:
    try:
        return lookup(code)
    except UnknownCountry:
        return lookup(None)


def _flow_message(reply: Reply) -> Message:
    buttons = tuple(
        (Button(button.label, reply.press(button).encode()),) for button in reply.buttons
    )
    return Message(reply.text, buttons)


def _response_messages(response: Response, has_flow: bool) -> tuple[Message, ...]:
    choices = tuple(
        (Button(choice.label, f"c:{choice.id.value}"),)
        for choice in response.choices
        if has_flow or choice.id.value != "resume"
    )
    texts = response.messages
    last = len(texts) - 1
    return tuple(
        Message(text, choices if index == last else ()) for index, text in enumerate(texts)
    )
