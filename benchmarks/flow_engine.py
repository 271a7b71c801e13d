"""Benchmark: N simulated people each advance one step, next to a bare `transitions` trigger.

Two measurements: the engine alone, and the engine with each person's progress loaded from and
saved to SQLite (one unit of work per person, answers encrypted, as the bot does it).
Run: .venv/bin/python benchmarks/flow_engine.py [-n 10000]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

import asyncio
import resource
import tempfile
from pathlib import Path

from transitions import Machine

from bot.crypto import Cipher, generate_key, use_cipher
from bot.storage.conversations import load_progress, save_progress
from bot.storage.models import Person
from bot.storage.session import create_engine, session_factory, upgrade
from flows.engine import Library, Press, Progress, Text


def _people(library: Library, count: int, seed: int) -> list[tuple[Progress, Press | Text]]:
    """Place each person at a random waiting step of a random flow, with a valid next input."""
    chooser = random.Random(seed)
    places = [
        (library.flow(info.id), state)
        for info in library.flows("en")
        for state in library.flow(info.id).states.values()
        if state.waits
    ]
    people: list[tuple[Progress, Press | Text]] = []
    for _ in range(count):
        flow, state = chooser.choice(places)
        progress = Progress(flow.id, flow.version, state.id, {}, chooser.choice(flow.languages))
        if state.ask is not None:
            people.append((progress, Text("a few words")))
        else:
            choice = str(chooser.randrange(len(state.buttons)))
            people.append((progress, Press(flow.id, flow.version, state.id, choice)))
    return people


class _Model:
    """A bare model; transitions adds `state` and the `go` trigger to it."""


def _bare_trigger_seconds(count: int) -> float:
    """Time `count` triggers of a two-state machine with one registered model."""
    model = _Model()
    Machine(
        model=model,
        states=["a", "b"],
        initial="a",
        transitions=[["go", "a", "b"], ["go", "b", "a"]],
        auto_transitions=False,
    )
    trigger = model.go  # type: ignore[attr-defined]
    began = time.perf_counter()
    for _ in range(count):
        trigger()
    return time.perf_counter() - began


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    began = time.perf_counter()
    library = Library.load()
    load_seconds = time.perf_counter() - began
    context = {name: "…" for name in library.context_names}
    people = _people(library, args.people, args.seed)

    began = time.perf_counter()
    for progress, given in people:
        library.handle(progress, given, context)
    engine_seconds = time.perf_counter() - began
    # Memory is measured in a second pass: tracemalloc slows every allocation down.
    tracemalloc.start()
    for progress, given in people:
        library.handle(progress, given, context)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    bare_seconds = _bare_trigger_seconds(args.people)

    print(f"load all flows:        {load_seconds * 1000:8.1f} ms")
    print(
        f"engine, one step each: {args.people / engine_seconds:10.0f} steps/s "
        f"({engine_seconds / args.people * 1e6:.1f} µs/step, peak {peak / 1024:.0f} KiB)"
    )
    print(
        f"bare transitions:      {args.people / bare_seconds:10.0f} triggers/s "
        f"({bare_seconds / args.people * 1e6:.1f} µs/trigger)"
    )
    stored_seconds, database_bytes = asyncio.run(_with_sqlite(library, people, context))
    print(
        f"with SQLite, one step: {args.people / stored_seconds:10.0f} steps/s "
        f"({stored_seconds / args.people * 1e6:.1f} µs/step: load, handle, save, commit; "
        f"database {database_bytes / 1e6:.1f} MB)"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole run: {rss:.0f} MB")


async def _with_sqlite(
    library: Library, people: list[tuple[Progress, Press | Text]], context: dict[str, str]
) -> tuple[float, int]:
    """Store everyone's progress in SQLite, then time one load-handle-save step per person."""
    use_cipher(Cipher.from_keys(generate_key()))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite:///{path}"
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            persons = [Person(telegram_id=index + 1, language="en") for index in range(len(people))]
            session.add_all(persons)
            await session.flush()
            for person, (progress, _) in zip(persons, people, strict=True):
                await save_progress(session, person.id, progress)
        ids = [person.id for person in persons]
        began = time.perf_counter()
        for person_id, (_, given) in zip(ids, people, strict=True):
            async with sessions.begin() as session:
                loaded = await load_progress(session, person_id, for_update=True)
                assert loaded is not None
                turn = library.handle(loaded[0], given, context)
                await save_progress(session, person_id, turn.progress)
        seconds = time.perf_counter() - began
        await engine.dispose()
        return seconds, path.stat().st_size


if __name__ == "__main__":
    main()
