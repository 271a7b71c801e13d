"""Every shipped flow validates and can be walked through every step in each of its languages."""

from __future__ import annotations

import re
from collections import deque

import pytest

from flows.engine import Library, Press, Progress, Text, Turn
from flows.schema import DATA_DIRECTORY, flow_files, validate

LIBRARY = Library.load()
CASES = [
    (flow_id, language)
    for flow_id in sorted(path.stem for path in flow_files([DATA_DIRECTORY]))
    for language in LIBRARY.flow(flow_id).languages
]
CONTEXT = {name: f"[{name}]" for name in LIBRARY.context_names}
# Far more than today's flows need; a flow that needs more should be split.
MAX_TURNS = 20_000
TELEGRAM_TEXT_LIMIT = 4096
_UNFILLED = re.compile(r"\{[a-z][a-z0-9_]*\}")


def test_every_shipped_file_is_valid() -> None:
    assert validate() == []


def test_every_flow_is_written_in_english_and_spanish() -> None:
    for flow_id, _ in CASES:
        assert {"en", "es"} <= set(LIBRARY.flow(flow_id).languages), flow_id


def _inputs(turn: Turn) -> list[Press | Text]:
    """Everything a person could do next: each button but Stop, and a typed answer."""
    assert turn.progress is not None
    reply = turn.replies[-1]
    found: list[Press | Text] = [reply.press(b) for b in reply.buttons if b.choice != "stop"]
    state = LIBRARY.flow(turn.progress.flow_id).states[turn.progress.state]
    if state.ask is not None:
        found.append(Text(f"answer to {state.id}"))
    return found


def _check_replies(turn: Turn) -> None:
    for reply in turn.replies:
        assert reply.text.strip(), reply.id
        assert not _UNFILLED.search(reply.text), f"{reply.id}: {reply.text}"
        assert len(reply.text) <= TELEGRAM_TEXT_LIMIT, reply.id
        for button in reply.buttons:
            assert button.label.strip(), reply.id
            assert len(reply.press(button).encode().encode()) <= 64, reply.id


@pytest.mark.parametrize(("flow_id", "language"), CASES)
def test_every_step_can_be_reached_by_pressing_and_typing(flow_id: str, language: str) -> None:
    flow = LIBRARY.flow(flow_id)
    first = LIBRARY.start(flow_id, language, CONTEXT)
    _check_replies(first)
    seen_replies = {(reply.flow_id, reply.state) for reply in first.replies}
    waiting: set[str] = set()
    conditions = [rule.condition for state in flow.states.values() for rule in state.branch]
    # Two people at the same step whose answers meet the same conditions go the same way on.
    explored: set[tuple[str, tuple[bool, ...]]] = set()
    todo: deque[Turn] = deque([first])
    turns = 0
    while todo:
        turn = todo.popleft()
        progress = turn.progress
        if progress is None or progress.flow_id != flow_id:
            continue  # ended, or handed over to a flow that has its own walk
        key = (progress.state, tuple(c.holds(progress.answers) for c in conditions))
        if key in explored:
            continue
        explored.add(key)
        waiting.add(progress.state)
        for given in _inputs(turn):
            turns += 1
            assert turns < MAX_TURNS, "too many paths to walk"
            following = LIBRARY.handle(progress, given, CONTEXT)
            _check_replies(following)
            assert following.progress != progress, f"{progress.state}: {given} changed nothing"
            seen_replies |= {(reply.flow_id, reply.state) for reply in following.replies}
            todo.append(following)
    spoken = {state.id for state in flow.states.values() if state.say is not None}
    assert spoken <= {state for flow_of, state in seen_replies if flow_of == flow_id}
    assert {state.id for state in flow.states.values() if state.waits} <= waiting


@pytest.mark.parametrize(("flow_id", "language"), CASES)
def test_stop_and_resume_work_at_every_waiting_step(flow_id: str, language: str) -> None:
    flow = LIBRARY.flow(flow_id)
    for state in flow.states.values():
        if not state.waits:
            continue
        progress = Progress(flow_id, flow.version, state.id, {}, language)
        resumed = LIBRARY.resume(progress, CONTEXT)
        assert resumed.progress == progress
        assert [reply.state for reply in resumed.replies] == [state.id]
        stopped = LIBRARY.handle(progress, Press(flow_id, flow.version, state.id, "stop"), CONTEXT)
        assert stopped.progress is None
        assert [reply.id for reply in stopped.replies] == ["notice:stopped"]
