"""Benchmark: N simulated people each advance one step, next to a bare `transitions` trigger."""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from transitions import Machine

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
    print("(engine only: loading and saving progress is the storage layer's part)")


if __name__ == "__main__":
    main()
