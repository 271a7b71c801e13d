"""Chaos: people walk through an exercise while the bot is killed, its database cut off and the
Bot API failing; afterwards, count what survived of what the bot acknowledged.

The bot runs as in production, `python -m bot run` in a subprocess, against the local Bot API
emulator served from this script's event loop. Each simulated person opted in to a daily
check-in (due at a random moment of the run) and walks the safety-plan exercise again and
again, typing an answer whenever one is asked for. An answer counts as acknowledged when the
bot replied to it with something other than an apology; a person who gets no reply (or an
apology) sends the same words again, as people do.

Faults, one every few seconds until the end: SIGKILL and restart of the bot; the database made
unavailable for a few seconds (SQLite: another process holds its write lock; PostgreSQL: new
connections refused and open ones terminated); the Bot API answering 503 to everything for a
few seconds; single 502s and dropped connections on sends.

Run: .venv/bin/python benchmarks/chaos.py [--people 20] [--duration 60] [--seed 1]
     [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--explain] [--trace] [--keep]
Prints measured figures only; it stops by itself and asserts nothing. --explain names each
acknowledged answer not found afterwards, --trace prints faults and unanswered messages as they
happen, --keep leaves the bot's log and database in the temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the emulator lives in the repo

from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.conversation import Who
from bot.crypto import Cipher, generate_key, use_cipher
from bot.services import Services
from bot.storage import conversations as stored_conversations
from bot.storage import items, people
from bot.storage.models import CheckIn, CheckInSchedule
from bot.storage.session import async_url, create_engine, session_factory, upgrade
from emulator import BotApiEmulator
from emulator.models import ChatMessage
from emulator.people import EmulatedUser

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:CHAOS-BENCHMARK-TOKEN"
FLOW_LABEL = "My safety plan"
REPLY_WITHIN = 30.0  # seconds a person waits for an answer before sending again
QUIET = 0.5  # seconds of silence that end one answer of several messages
ATTEMPTS = 6  # sends of the same thing before a person gives up on a step
APOLOGY = "Sorry, something went wrong"
FLOOD = "I'm reading everything you send"  # flood control: the message was not handled
THINK = (0.8, 2.5)  # seconds a person reads and types before answering
CHECK_IN_THANKS = "Thank you for telling me"
NOTE_SAVED = "Saved with today's check-in"
FIRST_PERSON = 7000
TRACE = "--trace" in sys.argv  # faults and unanswered messages, with times, on stderr
WORDS = ("quiet", "walk", "tea", "river", "music", "garden", "letter", "window", "bread", "moss")


# -- the bot process ----------------------------------------------------------------------------


class BotProcess:
    """`python -m bot run` against the emulator; started, killed and restarted by the chaos."""

    def __init__(self, api: BotApiEmulator, folder: Path, env: dict[str, str]) -> None:
        self.api = api
        self.folder = folder
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 60.0) -> None:
        """Start the bot and wait until it is about to poll (right after deleteWebhook)."""
        bootstraps = self.api.count("deleteWebhook")
        self.starts += 1
        with (self.folder / "bot.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                cwd=self.folder, env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while self.api.count("deleteWebhook") <= bootstraps:
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start; see {self.folder / 'bot.log'}")
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM: the bot finishes what it has in hand; return its exit status."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()
            return None

    def log(self) -> str:
        path = self.folder / "bot.log"
        return path.read_text(errors="replace") if path.exists() else ""


# -- the database -------------------------------------------------------------------------------


class Database:
    """The bot's database, and a way to make it unavailable for a while."""

    def __init__(self, url: str, admin_url: str | None = None, name: str | None = None) -> None:
        self.url = url
        self.admin_url = admin_url
        self.name = name

    @property
    def kind(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    @contextlib.asynccontextmanager
    async def unavailable(self) -> AsyncIterator[None]:
        if self.admin_url is None:
            async with self._sqlite_locked():
                yield
        else:
            async with self._postgres_cut_off():
                yield

    @contextlib.asynccontextmanager
    async def _sqlite_locked(self) -> AsyncIterator[None]:
        """Another process takes the write lock: every write waits (up to the busy timeout)."""
        path = make_url(self.url).database or ""

        def lock() -> sqlite3.Connection:
            other = sqlite3.connect(
                path, isolation_level=None, timeout=30, check_same_thread=False
            )
            other.execute("BEGIN EXCLUSIVE")
            return other

        other = await asyncio.to_thread(lock)
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    @contextlib.asynccontextmanager
    async def _postgres_cut_off(self) -> AsyncIterator[None]:
        """No new connections, and every open one terminated, until the block ends."""
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        await self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )
        try:
            yield
        finally:
            await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    async def _admin(self, statement: str) -> None:
        assert self.admin_url is not None
        engine = create_async_engine(async_url(self.admin_url), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def create(self) -> None:
        if self.admin_url is not None:
            await self._admin(f'CREATE DATABASE "{self.name}"')
        await asyncio.to_thread(upgrade, self.url)

    async def drop(self) -> None:
        if self.admin_url is not None:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# -- the people ---------------------------------------------------------------------------------


@dataclass
class Run:
    """One walk through the exercise: the answers the bot acknowledged, and how it ended."""

    started: bool = False
    answers: list[str] = field(default_factory=list)
    finished: bool = False  # the bot said the plan was saved
    abandoned: bool = False  # the person gave up on a step and began again (their own doing)


@dataclass
class Figures:
    """What the people saw, counted as it happened."""

    resends: int = 0
    apologies: int = 0
    flood_notices: int = 0
    gave_up: int = 0
    check_ins_unanswerable: int = 0  # the mood press failed and took the buttons with it
    check_ins_seen: Counter[int] = field(default_factory=Counter)
    moods: dict[int, int] = field(default_factory=dict)  # check-in id -> acknowledged mood
    notes: dict[int, str] = field(default_factory=dict)  # check-in id -> acknowledged note


class Person:
    """A simulated person: walks the safety plan again and again, answers their check-in."""

    def __init__(
        self, user: EmulatedUser, number: int, rng: random.Random, figures: Figures
    ) -> None:
        self.user = user
        self.number = number
        self.rng = rng
        self.figures = figures
        self.runs: list[Run] = []
        self.current: ChatMessage | None = None  # the newest exercise message with buttons
        self.check_ins: list[ChatMessage] = []
        self.answers = 0
        self.replies: dict[str, list[str]] = {}  # answer -> the replies that acknowledged it

    async def live(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            run = Run()
            self.runs.append(run)
            await self._walk(run, deadline)
            run.abandoned = run.started and not run.finished and time.monotonic() < deadline
            await self._answer_check_ins()

    async def _walk(self, run: Run, deadline: float) -> None:
        menu = await self._act(lambda: self.user.send_command("/flows"))
        if menu is None or not await self._press(FLOW_LABEL):
            return
        if not await self._press("Start"):
            return
        run.started = True
        for _ in range(40):  # the exercise has a dozen steps; stale answers add a few
            await self._answer_check_ins()
            if time.monotonic() > deadline:
                return
            if self.current is None:
                run.finished = True
                return
            labels = [label for row in self.current.buttons for label in row]
            if "Skip" in labels:  # a question: type an answer
                words = self._words()
                answer = await self._act(lambda words=words: self.user.send(words))
                if answer is None:
                    return
                run.answers.append(words)
                self.replies[words] = [(m.text or "")[:70] for m in answer]
            else:
                choice = next(
                    (label for label in labels if label not in ("Stop", "Not now")), None
                )
                if choice is None or not await self._press(choice):
                    return

    def _words(self) -> str:
        self.answers += 1
        picked = " ".join(self.rng.sample(WORDS, 2))
        return f"p{self.number}-a{self.answers} {picked}"

    async def _press(self, label: str) -> bool:
        target = self.current

        async def press() -> None:
            if target is not None:
                try:
                    await self.user.press(target, label)
                    return
                except LookupError:
                    pass
            # The buttons are gone (the bot takes them off before handling a press, so a press
            # that failed leaves none): say something, and the bot shows where things are.
            await self.user.send("ready")

        return await self._act(press) is not None

    async def _act(
        self, action: Callable[[], Awaitable[object]], until_false: list[bool] | None = None
    ) -> list[ChatMessage] | None:
        """Do something and wait for the bot's answer; do it again if none (or an apology) came.

        With `until_false`, stop as soon as the action records that it could not be done.
        """
        for attempt in range(ATTEMPTS):
            if attempt:
                self.figures.resends += 1
            await asyncio.sleep(self.rng.uniform(*THINK))
            await action()
            if until_false and not until_false[-1]:
                return None
            answer = self._sort(await self._collect())
            if not answer and TRACE:
                print(f"{time.monotonic():.1f} p{self.number} no answer", file=sys.stderr)
            if any(APOLOGY in (message.text or "") for message in answer):
                self.figures.apologies += 1
                continue
            if any(FLOOD in (message.text or "") for message in answer):
                self.figures.flood_notices += 1
                await asyncio.sleep(10)  # the flood window
                continue
            if answer:
                return answer
        self.figures.gave_up += 1
        return None

    async def _collect(self) -> list[ChatMessage]:
        try:
            got = [await self.user.next_bot_message(timeout=REPLY_WITHIN)]
        except TimeoutError:
            return []
        while True:
            try:
                got.append(await self.user.next_bot_message(timeout=QUIET))
            except TimeoutError:
                return got

    def _sort(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        """Set check-ins aside; keep the exercise's newest keyboard; return the rest."""
        answer = []
        for message in messages:
            data = [message.callback_data(label) or "" for row in message.buttons for label in row]
            if any(item.startswith("ci:m:") for item in data):
                self.check_ins.append(message)
                self.figures.check_ins_seen[_check_in_id(data)] += 1
                continue
            answer.append(message)
            if APOLOGY not in (message.text or "") and FLOOD not in (message.text or ""):
                self.current = message if message.has_inline_keyboard else None
        return answer

    async def _answer_check_ins(self) -> None:
        while self.check_ins:
            check_in = self.check_ins.pop(0)
            data = [
                check_in.callback_data(label) or "" for row in check_in.buttons for label in row
            ]
            number = _check_in_id(data)
            mood = self.rng.randint(1, 5)
            keep = self.current
            pressed: list[bool] = []

            async def press(
                data: str = f"ci:m:{number}:{mood}",
                on: ChatMessage = check_in,
                done: list[bool] = pressed,
            ) -> None:
                try:
                    await self.user.press(on, data)
                    done.append(True)
                except LookupError:  # a press that failed took the buttons with it
                    done.append(False)

            answer = await self._act(press, until_false=pressed)
            if answer and any(CHECK_IN_THANKS in (m.text or "") for m in answer):
                self.figures.moods[number] = mood
                note = f"note {self.number}-{number} {self.rng.choice(WORDS)}"
                saved = await self._act(lambda note=note: self.user.send(note))
                if saved and any(NOTE_SAVED in (m.text or "") for m in saved):
                    self.figures.notes[number] = note
            elif pressed and not pressed[-1]:
                self.figures.check_ins_unanswerable += 1
            self.current = keep  # the check-in's messages do not move the exercise


def _check_in_id(data: list[str]) -> int:
    first = next(item for item in data if item.startswith("ci:m:"))
    return int(first.split(":")[2])


async def _press_data(user: EmulatedUser, message: ChatMessage, data: str) -> None:
    with contextlib.suppress(LookupError):
        await user.press(message, data)


# -- the faults ---------------------------------------------------------------------------------


@dataclass
class Injected:
    kills: int = 0
    database: int = 0
    database_seconds: float = 0.0
    outages: int = 0
    outage_seconds: float = 0.0
    send_errors: int = 0


async def chaos(
    bot: BotProcess, api: BotApiEmulator, database: Database, rng: random.Random, until: float
) -> Injected:
    injected = Injected()
    kinds = ("kill", "database", "outage", "send_errors")
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(3.0, 6.0))
        if time.monotonic() >= until:
            break
        kind = rng.choice(kinds)
        if TRACE:
            print(f"{time.monotonic():.1f} fault {kind}", file=sys.stderr)
        if kind == "kill":
            await bot.kill()
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await bot.start()
            injected.kills += 1
        elif kind == "database":
            seconds = rng.uniform(2.0, 5.0)
            async with database.unavailable():
                await asyncio.sleep(seconds)
            injected.database += 1
            injected.database_seconds += seconds
        elif kind == "outage":
            seconds = rng.uniform(2.0, 5.0)
            api.fail_next("*", status=503, times=None)
            await asyncio.sleep(seconds)
            api.clear_faults()
            injected.outages += 1
            injected.outage_seconds += seconds
        else:
            api.fail_next("sendMessage", status=502, times=2)
            api.fail_next("sendMessage", disconnect=True)
            api.fail_next("answerCallbackQuery", status=500)
            injected.send_errors += 4
    return injected


# -- setting up and counting --------------------------------------------------------------------


async def opt_in(settings: Settings, ids: list[int], rng: random.Random, within: float) -> None:
    """Set people up (English, United Kingdom, a daily check-in) and make each check-in due
    at a random moment of the run."""
    services = await Services.start(settings)
    try:
        conversations = services.conversations
        for telegram_id in ids:
            who = Who(telegram_id, "en")
            await conversations.command(who, "start")
            await conversations.press(who, "l:en")
            await conversations.press(who, "k:GB")
            await conversations.command(who, "checkin")
            await conversations.press(who, "ci:on")
            await conversations.press(who, "ci:st:0900")
            await conversations.press(who, "ci:sz:UTC")
        now = datetime.now(UTC)
        async with services.sessions.begin() as session:
            for telegram_id in ids:
                person = await people.find_person(session, telegram_id)
                assert person is not None
                due = now + timedelta(seconds=rng.uniform(5.0, max(6.0, within)))
                await session.execute(
                    update(CheckInSchedule)
                    .where(CheckInSchedule.person_id == person.id)
                    .values(next_due_at=due)
                )
    finally:
        await services.close()


@dataclass
class Stored:
    texts: list[str] = field(default_factory=list)  # answers, plans and notes, decrypted
    plans: int = 0
    moods: dict[int, int] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    check_ins: int = 0


async def stored(database_url: str, key: str, telegram_id: int) -> Stored:
    use_cipher(Cipher.from_keys(key))
    engine = create_engine(database_url)
    found = Stored()
    try:
        async with session_factory(engine)() as session:
            person = await people.find_person(session, telegram_id)
            if person is None:
                return found
            current = await stored_conversations.load_progress(session, person.id)
            if current is not None:
                found.texts.extend(current[0].answers.values())
            for item in await items.list_items(session, person.id):
                found.texts.append(item.content)
                found.plans += item.kind == "safety_plan"
            rows = await session.scalars(select(CheckIn).where(CheckIn.person_id == person.id))
            for check_in in rows:
                found.check_ins += 1
                if check_in.mood is not None:
                    found.moods[check_in.id] = check_in.mood
                if check_in.note is not None:
                    found.notes[check_in.id] = check_in.note
                    found.texts.append(check_in.note)
    finally:
        await engine.dispose()
    return found


def duplicates(chat: list[ChatMessage]) -> int:
    """Count bot messages identical to the bot's message just before, with nothing the person
    sent in between: one input answered twice."""
    return sum(
        1
        for before, after in itertools.pairwise(chat)
        if before.from_bot and after.from_bot and before.content == after.content
    )


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"


async def main(arguments: argparse.Namespace) -> None:
    rng = random.Random(arguments.seed)
    key = generate_key()
    folder = Path(tempfile.mkdtemp(prefix="safeplace-chaos-"))
    if arguments.postgres_url:
        name = f"safeplace_chaos_{os.getpid()}"
        base = make_url(arguments.postgres_url)
        database = Database(
            base.set(database=name).render_as_string(hide_password=False),
            base.set(database="postgres").render_as_string(hide_password=False),
            name,
        )
    else:
        database = Database(f"sqlite:///{folder / 'safeplace.db'}")
    await database.create()
    ids = [FIRST_PERSON + number for number in range(arguments.people)]
    await opt_in(
        Settings(database_url=database.url, encryption_key=key), ids, rng, arguments.duration - 15
    )
    figures = Figures()
    async with BotApiEmulator(token=TOKEN) as api:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            "PTB_TIMEDELTA": "true",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": api.base_url,
            "DATABASE_URL": database.url,
            "ENCRYPTION_KEY": key,
            "LOG_LEVEL": "WARNING",
            "CHECKIN_PASS_SECONDS": "2",
        }
        bot = BotProcess(api, folder, env)
        await bot.start()
        started = time.monotonic()
        deadline = started + arguments.duration
        crowd = [
            Person(api.user(id=telegram_id, first_name=f"P{n}", language_code="en"), n,
                   random.Random(rng.random()), figures)
            for n, telegram_id in enumerate(ids)
        ]  # fmt: skip
        faults = asyncio.create_task(chaos(bot, api, database, rng, deadline - 5))
        living = asyncio.gather(*(person.live(deadline) for person in crowd))
        injected = await faults
        api.clear_faults()
        try:  # each person finishes the step in hand; bounded by their attempts
            await asyncio.wait_for(living, REPLY_WITHIN * ATTEMPTS + 10)
        except TimeoutError:
            figures.gave_up += 1
        elapsed = time.monotonic() - started
        if bot.process is None or bot.process.returncode is not None:
            await bot.start()
        await asyncio.sleep(2)  # delivery records and the last check-in pass
        status = await bot.stop()
        log = bot.log()
        sent_twice = sum(duplicates(person.user.visible_messages()) for person in crowd)

    acknowledged = survived = runs = runs_survived = plans_said = plans_kept = abandoned = 0
    check_in_rows = 0
    moods: dict[int, int] = {}
    notes: dict[int, str] = {}
    for person in crowd:
        found = await stored(database.url, key, person.user.id)
        check_in_rows += found.check_ins
        plans_kept += found.plans
        moods.update(found.moods)
        notes.update(found.notes)
        for run in person.runs:
            if not run.started or run.abandoned:
                abandoned += run.abandoned
                continue
            runs += 1
            plans_said += run.finished
            kept = [any(answer in text for text in found.texts) for answer in run.answers]
            if arguments.explain:
                for answer, ok in zip(run.answers, kept, strict=True):
                    if not ok:
                        print(f"lost {answer!r}, acknowledged by {person.replies[answer]}")
            acknowledged += len(kept)
            survived += sum(kept)
            runs_survived += all(kept)
    moods_kept = sum(1 for number, mood in figures.moods.items() if moods.get(number) == mood)
    notes_kept = sum(1 for number, note in figures.notes.items() if notes.get(number) == note)
    await database.drop()
    if not arguments.keep:
        shutil.rmtree(folder, ignore_errors=True)

    check_ins_twice = sum(1 for count in figures.check_ins_seen.values() if count > 1)
    print(f"chaos: {arguments.people} people, {elapsed:.0f} s, seed {arguments.seed}, "
          f"{database.kind}")  # fmt: skip
    print(
        f"faults: {injected.kills} SIGKILL+restart, {injected.database} database outages "
        f"[{'write lock held' if database.kind == 'sqlite' else 'connections cut'}] "
        f"({injected.database_seconds:.1f} s), {injected.outages} Bot API outages "
        f"({injected.outage_seconds:.1f} s), {injected.send_errors} single send errors"
    )
    print(f"conversations (exercise runs begun): {percent(runs_survived, runs)} kept every "
          f"acknowledged answer ({abandoned} more abandoned by their person after 6 tries); "
          f"plans: {plans_kept} in the database, {plans_said} confirmed to their person (the "
          "rest of the confirmations were lost to Bot API faults)")  # fmt: skip
    print(f"answers: {percent(survived, acknowledged)} acknowledged answers survived")
    print(
        f"check-ins: {len(figures.check_ins_seen)} delivered of {check_in_rows} in the database; "
        f"moods {percent(moods_kept, len(figures.moods))} survived "
        f"({figures.check_ins_unanswerable} could not be answered: a failed press took the "
        "buttons); "
        f"notes {percent(notes_kept, len(figures.notes))} survived"
    )
    print(f"duplicates: {sent_twice} messages sent twice in a row; "
          f"{check_ins_twice} check-ins delivered more than once")  # fmt: skip
    print(
        f"people: {figures.resends} re-sends after no answer or an apology, "
        f"{figures.apologies} apologies, {figures.flood_notices} flood notices, "
        f"{figures.gave_up} steps given up"
    )
    print(
        f"bot: {bot.starts} starts, exit status {status} after SIGTERM, "
        f"{log.count('handler error')} errors reported to the error handler {_kinds(log)}, "
        f"{log.count('Traceback')} tracebacks "
        f"in its log ({log.count('Can not load invalid JSON data')} of them python-telegram-bot "
        "reporting an injected 5xx page)"
    )


def _kinds(log: str) -> str:
    """Return the error types the error handler logged, e.g. "(NetworkError 2)".

    They include failed polls (update None), not only failed handlers.
    """
    kinds = Counter(re.findall(r"handler error (\w+)", log))
    return "(" + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()) + ")"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20, help="simulated people (default 20)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of chaos")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", help="run on a fresh database on this server")
    parser.add_argument("--explain", action="store_true", help="show each answer not found")
    parser.add_argument("--trace", action="store_true", help="faults and unanswered, on stderr")
    parser.add_argument("--keep", action="store_true", help="keep the bot's log and database")
    return parser.parse_args()


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    asyncio.run(main(_arguments()))
