"""The flow engine: one shared `transitions` machine per flow; progress is plain data."""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TypeAlias

from transitions import Machine

from flows.schema import (
    DATA_DIRECTORY,
    Choice,
    EngineWords,
    Flow,
    InvalidFlows,
    KeepKind,
    Notice,
    State,
    Way,
    fill,
    load_flows,
)

logger = logging.getLogger(__name__)

NO_CONTEXT: Mapping[str, str] = MappingProxyType({})
# A valid flow waits for the person within len(states) steps; this only guards against a bug.
_MAX_STEPS_PER_TURN = 1000

__all__ = [
    "Button",
    "Effect",
    "FlowInfo",
    "Input",
    "InvalidFlows",
    "Keep",
    "Library",
    "Press",
    "Progress",
    "Reply",
    "StartedFlow",
    "Text",
    "Turn",
    "UnknownFlow",
]


@dataclass(frozen=True)
class Progress:
    """Where one person is in one flow: plain data for storage to keep between messages."""

    flow_id: str
    version: int
    state: str
    answers: Mapping[str, str]
    language: str


@dataclass(frozen=True)
class Press:
    """A button press, naming the flow, version and step whose message carried the button."""

    flow_id: str
    version: int
    state: str
    choice: str

    def encode(self) -> str:
        """Return the press as `flow:version:state:choice`, at most 58 bytes (Telegram: 64)."""
        return f"{self.flow_id}:{self.version}:{self.state}:{self.choice}"

    @classmethod
    def decode(cls, data: str) -> Press | None:
        """Read a press written by encode(); None if the data is not one."""
        parts = data.split(":")
        if len(parts) != 4 or not all(parts) or not parts[1].isdecimal():
            return None
        return cls(parts[0], int(parts[1]), parts[2], parts[3])


@dataclass(frozen=True)
class Text:
    """Free text the person typed (already screened by the safety layer)."""

    text: str


Input: TypeAlias = Press | Text


@dataclass(frozen=True)
class Button:
    """A button to show under a reply: its words and the choice id to send back in a Press."""

    label: str
    choice: str


@dataclass(frozen=True)
class Reply:
    """One message to the person; `id` names the step or engine notice it came from."""

    text: str
    buttons: tuple[Button, ...]
    flow_id: str
    version: int
    state: str
    notice: Notice | None = None

    @property
    def id(self) -> str:
        """Return the step id, or `notice:<name>` for the engine's own messages."""
        return f"notice:{self.notice.value}" if self.notice else self.state

    def press(self, button: Button) -> Press:
        """Return the Press that this reply's button sends back."""
        return Press(self.flow_id, self.version, self.state, button.choice)


@dataclass(frozen=True)
class Keep:
    """An effect: save this item for the person (a boundary, a reflection, a safety plan)."""

    kind: KeepKind
    title: str
    content: str
    flow_id: str


@dataclass(frozen=True)
class StartedFlow:
    """An effect, for the record only: the engine has already handed over to `flow_id`."""

    flow_id: str
    from_flow: str


Effect: TypeAlias = Keep | StartedFlow


@dataclass(frozen=True)
class Turn:
    """What one input produced: the new progress (None when the flow is over), replies, effects."""

    progress: Progress | None
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class FlowInfo:
    """A flow as the list of exercises shows it."""

    id: str
    title: str
    description: str


class UnknownFlow(LookupError):
    """Raised by Library.start for a flow id the library does not have."""


class _Position:
    """The lightweight model `transitions` moves: made per call, never registered."""

    state: str

    def __init__(self, state: str, answers: Mapping[str, str]) -> None:
        self.state = state
        self.answers = answers


def _trigger(way: Way, index: int) -> str:
    if way is Way.BUTTON:
        return f"choose_{index}"
    return {
        Way.ANSWER: "answer",
        Way.SKIP: "skip",
        Way.NEXT: "go",
        Way.RULE: "decide",
        Way.OTHERWISE: "decide",
    }[way]


def _build_machine(flow: Flow) -> Machine:
    """Build the one machine a flow shares across everyone, with conditions as Python callables."""
    transitions: list[dict[str, object]] = []
    for state in flow.states.values():
        for edge in state.edges():
            transition: dict[str, object] = {
                "trigger": _trigger(edge.way, edge.index),
                "source": state.id,
                "dest": edge.target,
            }
            if edge.way is Way.RULE:
                condition = state.branch[edge.index].condition
                # A callable, never a string: transitions would resolve a string as a dotted path.
                transition["conditions"] = [
                    lambda event, condition=condition: condition.holds(event.model.answers)
                ]
            transitions.append(transition)
    return Machine(
        model=None,
        states=list(flow.states),
        initial=flow.start,
        transitions=transitions,
        auto_transitions=False,
        send_event=True,
        model_override=True,
        ignore_invalid_triggers=False,
        name=flow.id,
    )


class Library:
    """Every flow, validated, with one machine each; turns progress and input into replies."""

    def __init__(self, flows: Mapping[str, Flow], words: EngineWords) -> None:
        """Build the machines for flows that were already validated (use Library.load)."""
        self._flows = dict(flows)
        self._words = words
        self._machines = {flow_id: _build_machine(flow) for flow_id, flow in flows.items()}
        self.context_names = frozenset(name for flow in flows.values() for name in flow.context)

    @classmethod
    def load(cls, directory: Path = DATA_DIRECTORY) -> Library:
        """Load and validate every flow in a directory; raise InvalidFlows listing each problem."""
        flows, words = load_flows(directory)
        return cls(flows, words)

    def flow(self, flow_id: str) -> Flow:
        """Return one flow's definition, or raise UnknownFlow."""
        try:
            return self._flows[flow_id]
        except KeyError:
            raise UnknownFlow(flow_id) from None

    def flows(self, language: str) -> list[FlowInfo]:
        """List the flows written in this language, sorted by title."""
        found = [
            FlowInfo(
                flow.id, flow.title.in_language(language), flow.description.in_language(language)
            )
            for flow in self._flows.values()
            if language in flow.languages
        ]
        return sorted(found, key=lambda info: info.title.casefold())

    def start(self, flow_id: str, language: str, context: Mapping[str, str] = NO_CONTEXT) -> Turn:
        """Begin a flow from its first step (in its first language if it lacks this one)."""
        flow = self.flow(flow_id)
        return self._arrive(flow, flow.start, {}, _language(flow, language), context, [], [])

    def handle(
        self, progress: Progress, given: Input, context: Mapping[str, str] = NO_CONTEXT
    ) -> Turn:
        """Answer one button press or typed text from a person at `progress`."""
        flow = self._flows.get(progress.flow_id)
        if flow is None:
            return self._gone(progress)
        if progress.state not in flow.states:
            return self._changed(flow, progress, given, context)
        state = flow.states[progress.state]
        if not state.waits:  # the flow was edited so that this step no longer waits
            return self.resume(progress, context)
        current = replace(
            progress, version=flow.version, language=_language(flow, progress.language)
        )
        if isinstance(given, Text):
            return self._typed(flow, state, current, given.text, context)
        if (given.flow_id, given.version, given.state) != (flow.id, flow.version, state.id):
            # An old keyboard: after a new version, button numbers may mean something else.
            return self._stale(flow, state, progress, context)
        return self._pressed(flow, state, current, given.choice, context) or self._stale(
            flow, state, progress, context
        )

    def resume(self, progress: Progress, context: Mapping[str, str] = NO_CONTEXT) -> Turn:
        """Show the person's current step again, or gently offer a fresh start if it is gone."""
        flow = self._flows.get(progress.flow_id)
        if flow is None:
            return self._gone(progress)
        if progress.state not in flow.states:
            return Turn(progress, (self._offer_restart(progress),))
        language = _language(flow, progress.language)
        state = flow.states[progress.state]
        if not state.waits:
            return self._arrive(flow, state.id, progress.answers, language, context, [], [])
        current = replace(progress, version=flow.version, language=language)
        return Turn(current, (self._show(flow, state, current, context),))

    def stop(self, progress: Progress) -> Turn:
        """Leave the flow at once, from any step; nothing is held against the person."""
        return Turn(None, (self._notice(Notice.STOPPED, progress),))

    # -- inside a turn --------------------------------------------------------------------

    def _typed(
        self, flow: Flow, state: State, progress: Progress, text: str, context: Mapping[str, str]
    ) -> Turn:
        words = text.strip()
        if state.ask is not None:
            # On an ask step the typed words are the answer, even "stop": a boundary can be "Stop."
            if not words:
                reply = self._notice(
                    Notice.EMPTY_ANSWER, progress, self._buttons(flow, state, progress)
                )
                return Turn(progress, (reply,))
            answers = {**progress.answers, state.ask: words}
            return self._move(flow, progress, answers, "answer", context)
        folded = words.casefold()
        for button in self._buttons(flow, state, progress):
            if button.label.strip().casefold() == folded:
                turn = self._pressed(flow, state, progress, button.choice, context)
                if turn is not None:
                    return turn
        if folded in self._words.stop_words.get(progress.language, ()):
            return self.stop(progress)
        reply = self._notice(Notice.USE_BUTTONS, progress, self._buttons(flow, state, progress))
        return Turn(progress, (reply,))

    def _pressed(
        self, flow: Flow, state: State, progress: Progress, choice: str, context: Mapping[str, str]
    ) -> Turn | None:
        if choice == Choice.STOP.value:
            return self.stop(progress)
        if choice == Choice.SKIP.value and state.ask is not None:
            return self._move(flow, progress, progress.answers, "skip", context)
        if choice.isdecimal() and int(choice) < len(state.buttons):
            index = int(choice)
            answers = {**progress.answers, **state.buttons[index].set}
            return self._move(flow, progress, answers, _trigger(Way.BUTTON, index), context)
        return None

    def _move(
        self,
        flow: Flow,
        progress: Progress,
        answers: Mapping[str, str],
        trigger: str,
        context: Mapping[str, str],
    ) -> Turn:
        position = _Position(progress.state, answers)
        self._fire(flow, trigger, position)
        return self._arrive(flow, position.state, answers, progress.language, context, [], [])

    def _fire(self, flow: Flow, trigger: str, position: _Position) -> None:
        # The shared machine moves a throwaway model it never registers: Event.trigger only reads
        # and sets `position.state`. Measured: 6 µs a trigger this way, 155 µs with add_model +
        # remove_model per call, 124 µs building a machine per message (benchmarks/flow_engine.py).
        if not self._machines[flow.id].events[trigger].trigger(position):
            raise RuntimeError(f"flow {flow.id}: {trigger} did not leave {position.state}")

    def _arrive(
        self,
        flow: Flow,
        state_id: str,
        answers: Mapping[str, str],
        language: str,
        context: Mapping[str, str],
        replies: list[Reply],
        effects: list[Effect],
    ) -> Turn:
        """Enter a step and carry on through steps that do not wait, collecting what they say."""
        position = _Position(state_id, answers)
        for _ in range(_MAX_STEPS_PER_TURN):
            state = flow.states[position.state]
            progress = Progress(
                flow.id, flow.version, state.id, MappingProxyType(dict(answers)), language
            )
            values = ChainMap(dict(answers), dict(context))
            if state.say is not None:
                replies.append(self._show(flow, state, progress, context))
            if state.keep is not None:
                missing = self._text(Notice.MISSING_ANSWER, language)
                effects.append(
                    Keep(
                        state.keep.kind,
                        fill(state.keep.title.in_language(language), values, missing),
                        fill(state.keep.content.in_language(language), values, missing),
                        flow.id,
                    )
                )
            if state.end:
                logger.debug("flow %s ended at %s", flow.id, state.id)
                return Turn(None, tuple(replies), tuple(effects))
            if state.goto_flow is not None:
                target = self._flows[state.goto_flow]
                effects.append(StartedFlow(target.id, flow.id))
                language = _language(target, language)
                return self._arrive(target, target.start, {}, language, context, replies, effects)
            if state.waits:
                return Turn(progress, tuple(replies), tuple(effects))
            self._fire(flow, "decide" if state.branch else "go", position)
        raise RuntimeError(f"flow {flow.id} did not wait for the person within a turn")

    # -- replies --------------------------------------------------------------------------

    def _show(
        self, flow: Flow, state: State, progress: Progress, context: Mapping[str, str]
    ) -> Reply:
        assert state.say is not None
        missing = self._text(Notice.MISSING_ANSWER, progress.language)
        values = ChainMap(dict(progress.answers), dict(context))
        text = fill(state.say.in_language(progress.language), values, missing)
        buttons = self._buttons(flow, state, progress) if state.waits else ()
        return Reply(text, buttons, flow.id, flow.version, state.id)

    def _buttons(self, flow: Flow, state: State, progress: Progress) -> tuple[Button, ...]:
        language = progress.language
        found = [
            Button(button.label.in_language(language), str(index))
            for index, button in enumerate(state.buttons)
        ]
        if state.ask is not None:
            found.append(self._engine_button(Choice.SKIP, language))
        if state.id != flow.start:
            found.append(self._engine_button(Choice.STOP, language))
        return tuple(found)

    def _engine_button(self, choice: Choice, language: str) -> Button:
        words = self._words.buttons[choice]
        return Button(words.in_language(self._engine_language(language)), choice.value)

    def _text(self, notice: Notice, language: str) -> str:
        return self._words.notices[notice].in_language(self._engine_language(language))

    def _engine_language(self, language: str) -> str:
        return language if language in self._words.languages else self._words.languages[0]

    def _notice(
        self, notice: Notice, progress: Progress, buttons: tuple[Button, ...] = ()
    ) -> Reply:
        text = self._text(notice, progress.language)
        return Reply(text, buttons, progress.flow_id, progress.version, progress.state, notice)

    def _stale(
        self, flow: Flow, state: State, progress: Progress, context: Mapping[str, str]
    ) -> Turn:
        logger.debug("flow %s: a button from an earlier step at %s", flow.id, state.id)
        return Turn(
            progress,
            (
                self._notice(Notice.STALE_BUTTON, progress),
                self._show(flow, state, progress, context),
            ),
        )

    def _gone(self, progress: Progress) -> Turn:
        logger.info("flow %s no longer exists; progress dropped", progress.flow_id)
        return Turn(None, (self._notice(Notice.FLOW_GONE, progress),))

    def _offer_restart(self, progress: Progress) -> Reply:
        language = progress.language
        buttons = (
            self._engine_button(Choice.RESTART, language),
            self._engine_button(Choice.NOT_NOW, language),
        )
        return self._notice(Notice.FLOW_CHANGED, progress, buttons)

    def _changed(
        self, flow: Flow, progress: Progress, given: Input, context: Mapping[str, str]
    ) -> Turn:
        """Answer a person whose step vanished when the flow changed: restart, or leave."""
        offer = self._offer_restart(progress)
        choice: str | None = None
        if isinstance(given, Press) and given.flow_id == progress.flow_id:
            choice = given.choice
        elif isinstance(given, Text):
            folded = given.text.strip().casefold()
            choice = next((b.choice for b in offer.buttons if b.label.casefold() == folded), None)
            if folded in self._words.stop_words.get(progress.language, ()):
                choice = Choice.STOP.value
        if choice == Choice.RESTART.value:
            return self.start(flow.id, progress.language, context)
        if choice in (Choice.NOT_NOW.value, Choice.STOP.value):
            return self.stop(progress)
        return Turn(progress, (offer,))


def _language(flow: Flow, requested: str) -> str:
    return requested if requested in flow.languages else flow.languages[0]
