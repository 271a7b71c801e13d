"""The typed shape of a flow file, its loader, and validate(): problems as file:line."""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

try:  # libyaml's parser is several times faster; the constructor (and so safety) is the same
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

DATA_DIRECTORY = Path(__file__).parent / "data"
ENGINE_FILE = "_engine.yaml"

# Telegram allows 64 bytes of callback data: "flow:version:state:choice" must fit, with a few
# bytes to spare for the bot's own prefix: 20 + 4 + 24 + 7 ("restart") + 3 colons = 58.
MAX_FLOW_ID = 20
MAX_VERSION = 9999
MAX_STATE_ID = 24

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_LANGUAGE = re.compile(r"[a-z]{2}\Z")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z][a-z0-9_]*)\}|[{}]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a flow file, where it is and what to do about it."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class InvalidFlows(ValueError):
    """Raised when flow files cannot be loaded; `problems` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid flows:\n" + "\n".join(str(p) for p in self.problems))


class KeepKind(enum.Enum):
    """What kind of item a `keep` step saves for the person."""

    BOUNDARY = "boundary"
    REFLECTION = "reflection"
    SAFETY_PLAN = "safety_plan"
    KIND_WORDS = "kind_words"
    NOTE = "note"


class ConditionKind(enum.Enum):
    """The conditions a `branch` may use: this allow-list is all there is."""

    ANSWERED = "answered"
    NOT_ANSWERED = "not_answered"
    EQUALS = "equals"


class Way(enum.Enum):
    """How a step leads to the next one."""

    BUTTON = "button"
    ANSWER = "answer"
    SKIP = "skip"
    NEXT = "next"
    RULE = "rule"
    OTHERWISE = "otherwise"


class Notice(enum.Enum):
    """The engine's own messages, whose words live in `_engine.yaml`."""

    STOPPED = "stopped"
    STALE_BUTTON = "stale_button"
    USE_BUTTONS = "use_buttons"
    EMPTY_ANSWER = "empty_answer"
    FLOW_CHANGED = "flow_changed"
    FLOW_GONE = "flow_gone"
    MISSING_ANSWER = "missing_answer"


class Choice(enum.Enum):
    """The buttons the engine adds by itself; the value is the choice id in callback data."""

    SKIP = "skip"
    STOP = "stop"
    RESTART = "restart"
    NOT_NOW = "not_now"


@dataclass(frozen=True)
class Words:
    """One text in every language of its flow."""

    texts: Mapping[str, str]
    line: int

    def in_language(self, language: str) -> str:
        """Return the text in this language."""
        return self.texts[language]


@dataclass(frozen=True)
class Condition:
    """One allow-listed test on the person's answers."""

    test: ConditionKind
    name: str
    value: str | None
    line: int

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Say whether the answers meet this condition."""
        answer = answers.get(self.name, "")
        if self.test is ConditionKind.ANSWERED:
            return bool(answer.strip())
        if self.test is ConditionKind.NOT_ANSWERED:
            return not answer.strip()
        return answer == self.value


@dataclass(frozen=True)
class Rule:
    """One line of a branch: if the condition holds, go to `next`."""

    condition: Condition
    next: str
    line: int


@dataclass(frozen=True)
class Button:
    """A choice the flow offers, where it leads and what it remembers."""

    label: Words
    next: str
    set: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class KeepTemplate:
    """An item saved for the person when they reach a step."""

    kind: KeepKind
    title: Words
    content: Words
    line: int


@dataclass(frozen=True)
class Edge:
    """One way from a step to another, with the answers it remembers on the way."""

    way: Way
    target: str
    line: int
    index: int
    saves: frozenset[str]


@dataclass(frozen=True)
class State:
    """One step of a flow."""

    id: str
    line: int
    say: Words | None = None
    buttons: tuple[Button, ...] = ()
    ask: str | None = None
    next: str | None = None
    skip: str | None = None
    branch: tuple[Rule, ...] = ()
    otherwise: str | None = None
    keep: KeepTemplate | None = None
    goto_flow: str | None = None
    end: bool = False
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        """Return the line of one of this step's keys, or of the step itself."""
        return self.key_lines.get(key, self.line)

    @property
    def waits(self) -> bool:
        """Say whether the person must answer before the flow goes on."""
        return bool(self.buttons) or self.ask is not None

    def edges(self) -> tuple[Edge, ...]:
        """Return every way on from this step, in the order the YAML gives them."""
        found = [
            Edge(Way.BUTTON, button.next, button.line, index, frozenset(button.set))
            for index, button in enumerate(self.buttons)
        ]
        if self.ask is not None and self.next is not None:
            next_line = self.line_of("next")
            found.append(Edge(Way.ANSWER, self.next, next_line, 0, frozenset({self.ask})))
            skip_line = self.line_of("skip" if self.skip else "next")
            found.append(Edge(Way.SKIP, self.skip or self.next, skip_line, 0, frozenset()))
        elif self.next is not None:
            found.append(Edge(Way.NEXT, self.next, self.line_of("next"), 0, frozenset()))
        found.extend(
            Edge(Way.RULE, rule.next, rule.line, index, frozenset())
            for index, rule in enumerate(self.branch)
        )
        if self.otherwise is not None:
            otherwise_line = self.line_of("otherwise")
            found.append(Edge(Way.OTHERWISE, self.otherwise, otherwise_line, 0, frozenset()))
        return tuple(found)

    def texts(self) -> tuple[Words, ...]:
        """Return every text this step shows or saves."""
        found = [self.say] if self.say else []
        if self.keep:
            found += [self.keep.title, self.keep.content]
        return tuple(found)


@dataclass(frozen=True)
class Flow:
    """One exercise, as its YAML file declares it."""

    id: str
    version: int
    languages: tuple[str, ...]
    title: Words
    description: Words
    context: tuple[str, ...]
    start: str
    states: Mapping[str, State]
    path: Path
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        """Return the line of one of the file's top keys, or 1."""
        return self.key_lines.get(key, 1)


@dataclass(frozen=True)
class EngineWords:
    """The words the engine says by itself, in every language it supports."""

    languages: tuple[str, ...]
    notices: Mapping[Notice, Words]
    buttons: Mapping[Choice, Words]
    stop_words: Mapping[str, tuple[str, ...]]
    path: Path


def placeholders(text: str) -> tuple[list[str], bool]:
    """Return the `{names}` in a text and whether every brace in it is well formed."""
    names: list[str] = []
    well_formed = True
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1):
            names.append(match.group(1))
        elif match.group(0) in ("{", "}"):
            well_formed = False
    return names, well_formed


def fill(text: str, values: Mapping[str, str], missing: str) -> str:
    """Replace each `{name}` with its value (or `missing`) and `{{`, `}}` with one brace."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            value = values.get(match.group(1), "")
            return value if value.strip() else missing
        return match.group(0)[0]

    # Values are inserted as they are and never re-read, so an answer cannot inject a {name}.
    return _PLACEHOLDER.sub(replace, text)


# -- reading YAML with line numbers ---------------------------------------------------------


class _Mapping(dict[object, object]):
    """A YAML mapping that remembers its line, each key's line and any repeated key."""

    line: int = 0
    key_lines: dict[object, int]
    repeated: list[tuple[object, int, int]]


class _LineLoader(_BaseLoader):
    """A safe loader whose mappings remember the lines they came from."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.repeated = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.repeated.append((key, line, mapping.key_lines[key]))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _load_yaml(path: Path) -> tuple[object, Problem | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, Problem(path, 1, f"cannot read this file: {error}")
    try:
        return yaml.load(text, Loader=_LineLoader), None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        return None, Problem(
            path, line, f"this is not valid YAML ({error.problem}); check indentation and quotes"
        )
    except yaml.YAMLError as error:
        return None, Problem(path, 1, f"this is not valid YAML ({error})")


class _Reader:
    """Turns loaded YAML into typed values, collecting every problem on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ()

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def mapping(self, value: object, line: int, what: str) -> _Mapping | None:
        if isinstance(value, _Mapping):
            for key, key_line, first_line in value.repeated:
                self.problem(
                    key_line, f"{key!r} appears twice in {what} (first on line {first_line})"
                )
            return value
        self.problem(line, f"{what} should be a set of `name: value` lines")
        return None

    def keys(self, mapping: _Mapping, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        for key, line in mapping.key_lines.items():
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(allowed)
                self.problem(line, f"unknown key {key!r} in {what}{hint}; known keys: {known}")

    def line_of(self, mapping: _Mapping, key: str) -> int:
        return mapping.key_lines.get(key, mapping.line)

    def identifier(self, mapping: _Mapping, key: str, what: str, limit: int) -> str | None:
        value = mapping.get(key)
        if value is None:
            return None
        line = self.line_of(mapping, key)
        if not isinstance(value, str) or not _ID.match(value):
            self.problem(
                line,
                f"{what} {value!r} should be lower-case letters, digits and _, "
                "starting with a letter",
            )
            return None
        if len(value) > limit:
            self.problem(line, f"{what} {value!r} is longer than {limit} characters")
        return value

    def words(self, mapping: _Mapping, key: str, what: str) -> Words | None:
        value = mapping.get(key)
        line = self.line_of(mapping, key)
        if value is None:
            return None
        if isinstance(value, str):
            example = ", ".join(f'{language}: "..."' for language in self.languages)
            self.problem(line, f"{what} needs one text per language, like {{{example}}}")
            return None
        texts = self.mapping(value, line, what)
        if texts is None:
            return None
        found: dict[str, str] = {}
        for language, text in texts.items():
            text_line = texts.key_lines[language]
            if language not in self.languages:
                declared = ", ".join(self.languages) or "none"
                self.problem(
                    text_line,
                    f"{what} has a text in {language!r}, which is not among the declared "
                    f"languages ({declared})",
                )
            elif not isinstance(text, str):
                self.problem(
                    text_line,
                    f"{what} in {language!r} should be text: put it in double quotes "
                    "(YAML reads an unquoted No, Yes, On or Off as true/false)",
                )
            elif not text.strip():
                self.problem(text_line, f"{what} in {language!r} is empty")
            else:
                found[language] = text
                _, well_formed = placeholders(text)
                if not well_formed:
                    self.problem(
                        text_line,
                        f"{what} in {language!r} has a lone {{ or }}: write {{name}} for an "
                        "answer and {{ or }} for a real curly bracket",
                    )
        for language in self.languages:
            if language not in texts:
                self.problem(line, f"{what} is missing its {language!r} translation")
        return Words(found, line)


# -- flows -----------------------------------------------------------------------------------

_FLOW_KEYS = ("id", "version", "languages", "title", "description", "context", "start", "states")
_STATE_KEYS = (
    "say",
    "buttons",
    "ask",
    "next",
    "skip",
    "branch",
    "otherwise",
    "keep",
    "goto_flow",
    "end",
)
_BUTTON_KEYS = ("label", "next", "set")
_RULE_KEYS = ("if", "next")
_KEEP_KEYS = ("kind", "title", "content")


def read_flow(path: Path) -> tuple[Flow | None, list[Problem]]:
    """Read one flow file; return the flow (None if unusable) and every problem found in it."""
    loaded, error = _load_yaml(path)
    if error:
        return None, [error]
    reader = _Reader(path)
    top = reader.mapping(loaded, 1, "the file")
    if top is None:
        return None, reader.problems
    reader.keys(top, _FLOW_KEYS, "the top of the file")
    for key in ("id", "version", "languages", "title", "description", "start", "states"):
        if key not in top:
            reader.problem(top.line, f"the file has no {key!r}")
    flow_id = reader.identifier(top, "id", "the id", MAX_FLOW_ID)
    if flow_id is not None and flow_id != path.stem:
        reader.problem(
            reader.line_of(top, "id"),
            f"the id {flow_id!r} should match the file name {path.name!r}",
        )
    raw_version = top.get("version")
    valid = type(raw_version) is int and 1 <= raw_version <= MAX_VERSION
    version = raw_version if valid and isinstance(raw_version, int) else None
    if "version" in top and version is None:
        reader.problem(
            reader.line_of(top, "version"),
            f"the version should be a whole number from 1 to {MAX_VERSION}",
        )
    reader.languages = _languages(reader, top)
    title = reader.words(top, "title", "the title")
    description = reader.words(top, "description", "the description")
    for words in (title, description):
        for text in words.texts.values() if words else ():
            if placeholders(text)[0]:
                reader.problem(words.line if words else 1, "titles cannot use {names}")
                break
    context = _context(reader, top)
    start = reader.identifier(top, "start", "the start step", MAX_STATE_ID)
    states: dict[str, State] = {}
    raw_states = top.get("states")
    if raw_states is not None:
        steps = reader.mapping(raw_states, reader.line_of(top, "states"), "states")
        for name, raw in (steps or {}).items():
            line = steps.key_lines[name] if steps else 1
            if not isinstance(name, str) or not _ID.match(name) or len(name) > MAX_STATE_ID:
                reader.problem(
                    line,
                    f"the step name {name!r} should be lower-case letters, digits and _, "
                    f"at most {MAX_STATE_ID} characters",
                )
                continue
            state = _state(reader, name, raw, line)
            if state is not None:
                states[name] = state
        if steps is not None and not steps:
            reader.problem(steps.line, "there are no steps under 'states'")
    if flow_id is None or version is None or title is None or description is None:
        return None, reader.problems
    if start is None or not reader.languages:
        return None, reader.problems
    flow = Flow(
        id=flow_id,
        version=version,
        languages=reader.languages,
        title=title,
        description=description,
        context=context,
        start=start,
        states=states,
        path=path,
        key_lines={str(key): line for key, line in top.key_lines.items()},
    )
    return flow, reader.problems + check(flow)


def _languages(reader: _Reader, top: _Mapping) -> tuple[str, ...]:
    value = top.get("languages")
    line = reader.line_of(top, "languages")
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        reader.problem(line, "languages should be a list such as [en, es]")
        return ()
    found: list[str] = []
    for language in value:
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            reader.problem(line, f"{language!r} is not a two-letter language code such as en")
        elif language in found:
            reader.problem(line, f"the language {language!r} is listed twice")
        else:
            found.append(language)
    return tuple(found)


def _context(reader: _Reader, top: _Mapping) -> tuple[str, ...]:
    value = top.get("context", [])
    line = reader.line_of(top, "context")
    if not isinstance(value, list) or not all(
        isinstance(name, str) and _ID.match(name) for name in value
    ):
        reader.problem(line, "context should be a list of names such as [crisis_lines]")
        return ()
    return tuple(value)


def _state(reader: _Reader, state_id: str, raw: object, line: int) -> State | None:
    where = f"step {state_id!r}"
    step = reader.mapping(raw, line, where)
    if step is None:
        return None
    reader.keys(step, _STATE_KEYS, where)
    say = reader.words(step, "say", f"the text of {where}")
    buttons = _buttons(reader, step, where)
    ask = reader.identifier(step, "ask", f"the answer name in {where}", MAX_STATE_ID)
    targets = {
        key: reader.identifier(step, key, f"{key!r} in {where}", MAX_STATE_ID)
        for key in ("next", "skip", "otherwise")
    }
    branch = _branch(reader, step, where)
    keep = _keep(reader, step, where)
    goto_flow = reader.identifier(step, "goto_flow", f"the flow in {where}", MAX_FLOW_ID)
    end = step.get("end", False)
    if not isinstance(end, bool):
        reader.problem(reader.line_of(step, "end"), f"'end' in {where} should be true or false")
        end = False
    state = State(
        id=state_id,
        line=line,
        say=say,
        buttons=buttons,
        ask=ask,
        next=targets["next"],
        skip=targets["skip"],
        branch=branch,
        otherwise=targets["otherwise"],
        keep=keep,
        goto_flow=goto_flow,
        end=end,
        key_lines={str(key): line for key, line in step.key_lines.items()},
    )
    _check_combination(reader, state, step)
    return state


def _check_combination(reader: _Reader, state: State, step: _Mapping) -> None:
    """Report keys that make no sense together, so each step means one thing."""
    where = f"step {state.id!r}"
    present = {key for key in _STATE_KEYS if step.get(key) not in (None, False, [])}
    finishing = [key for key in ("end", "goto_flow") if key in present]
    if len(finishing) > 1:
        reader.problem(state.line, f"{where} has both 'end' and 'goto_flow': choose one")
    for key in sorted(present & {"buttons", "ask", "next", "skip", "branch", "otherwise"}):
        if finishing:
            reader.problem(
                reader.line_of(step, key),
                f"{where} uses {finishing[0]!r}, so it cannot have {key!r}",
            )
    if "branch" in present or "otherwise" in present:
        if "branch" in present and "otherwise" not in present:
            reader.problem(state.line, f"{where} has a 'branch' but no 'otherwise'")
        if "otherwise" in present and "branch" not in present:
            reader.problem(state.line, f"{where} has 'otherwise' but no 'branch'")
        for key in sorted(present & {"buttons", "ask", "next"}):
            reader.problem(
                reader.line_of(step, key), f"{where} branches, so it cannot have {key!r}"
            )
    if "ask" in present and "next" not in present:
        reader.problem(
            state.line, f"{where} asks for an answer but has no 'next' step for after it"
        )
    if "skip" in present and "ask" not in present:
        reader.problem(reader.line_of(step, "skip"), f"'skip' in {where} is only for 'ask' steps")
    if "buttons" in present and "next" in present and "ask" not in present:
        reader.problem(
            reader.line_of(step, "next"),
            f"{where} has buttons, so its 'next' would never be used: each button has its own",
        )
    if (state.buttons or state.ask) and state.say is None:
        reader.problem(state.line, f"{where} waits for the person, so it must 'say' something")


def _buttons(reader: _Reader, step: _Mapping, where: str) -> tuple[Button, ...]:
    value = step.get("buttons")
    if value is None:
        return ()
    line = reader.line_of(step, "buttons")
    if not isinstance(value, list) or not value:
        reader.problem(
            line, f"the buttons of {where} should be a list of '- label: ... next: ...'"
        )
        return ()
    found: list[Button] = []
    for number, raw in enumerate(value, start=1):
        what = f"button {number} of {where}"
        item = reader.mapping(raw, line, what)
        if item is None:
            continue
        reader.keys(item, _BUTTON_KEYS, what)
        label = reader.words(item, "label", f"the label of {what}")
        target = reader.identifier(item, "next", f"'next' of {what}", MAX_STATE_ID)
        if label is None:
            reader.problem(item.line, f"{what} has no 'label'")
        if "next" not in item:
            reader.problem(item.line, f"{what} has no 'next' step")
        remembered = _set(reader, item, what)
        if label is not None and target is not None:
            found.append(Button(label, target, remembered, item.line))
    return tuple(found)


def _set(reader: _Reader, item: _Mapping, what: str) -> dict[str, str]:
    value = item.get("set")
    if value is None:
        return {}
    line = reader.line_of(item, "set")
    values = reader.mapping(value, line, f"'set' of {what}")
    found: dict[str, str] = {}
    for name, remembered in (values or {}).items():
        if not isinstance(name, str) or not _ID.match(name):
            reader.problem(line, f"'set' of {what} uses the name {name!r}: use lower-case and _")
        elif not isinstance(remembered, str):
            reader.problem(line, f"'set' of {what} should give {name!r} a text in quotes")
        else:
            found[name] = remembered
    return found


def _branch(reader: _Reader, step: _Mapping, where: str) -> tuple[Rule, ...]:
    value = step.get("branch")
    if value is None:
        return ()
    line = reader.line_of(step, "branch")
    if not isinstance(value, list) or not value:
        reader.problem(line, f"the branch of {where} should be a list of '- if: ... next: ...'")
        return ()
    found: list[Rule] = []
    for number, raw in enumerate(value, start=1):
        what = f"line {number} of the branch in {where}"
        item = reader.mapping(raw, line, what)
        if item is None:
            continue
        reader.keys(item, _RULE_KEYS, what)
        target = reader.identifier(item, "next", f"'next' of {what}", MAX_STATE_ID)
        if "next" not in item:
            reader.problem(item.line, f"{what} has no 'next' step")
        if "if" not in item:
            reader.problem(item.line, f"{what} has no 'if' condition")
            continue
        condition = _condition(reader, item.get("if"), reader.line_of(item, "if"), what)
        if condition is not None and target is not None:
            found.append(Rule(condition, target, item.line))
    return tuple(found)


def _condition(reader: _Reader, value: object, line: int, what: str) -> Condition | None:
    known = ", ".join(test.value for test in ConditionKind)
    test_map = reader.mapping(value, line, f"the condition of {what}")
    if test_map is None:
        return None
    if len(test_map) != 1:
        reader.problem(line, f"the condition of {what} should be exactly one of: {known}")
        return None
    [(key, argument)] = test_map.items()
    try:
        test = ConditionKind(key)
    except ValueError:
        reader.problem(line, f"unknown condition {key!r} in {what}; the conditions are: {known}")
        return None
    if test is ConditionKind.EQUALS:
        pair = reader.mapping(argument, line, f"'equals' in {what}")
        if pair is None or len(pair) != 1:
            reader.problem(
                line, f"'equals' in {what} should be one pair such as {{situation: work}}"
            )
            return None
        [(name, expected)] = pair.items()
        if not isinstance(name, str) or not _ID.match(name) or not isinstance(expected, str):
            reader.problem(line, f"'equals' in {what} should name an answer and a text in quotes")
            return None
        return Condition(test, name, expected, line)
    if not isinstance(argument, str) or not _ID.match(argument):
        reader.problem(line, f"{key!r} in {what} should name an answer, such as feeling")
        return None
    return Condition(test, argument, None, line)


def _keep(reader: _Reader, step: _Mapping, where: str) -> KeepTemplate | None:
    value = step.get("keep")
    if value is None:
        return None
    what = f"'keep' in {where}"
    item = reader.mapping(value, reader.line_of(step, "keep"), what)
    if item is None:
        return None
    reader.keys(item, _KEEP_KEYS, what)
    kinds = ", ".join(kind.value for kind in KeepKind)
    try:
        kind = KeepKind(item.get("kind"))
    except ValueError:
        reader.problem(
            reader.line_of(item, "kind"),
            f"{what} has kind {item.get('kind')!r}; the kinds are: {kinds}",
        )
        return None
    title = reader.words(item, "title", f"the title of {what}")
    content = reader.words(item, "content", f"the content of {what}")
    for key, words in (("title", title), ("content", content)):
        if words is None:
            reader.problem(item.line, f"{what} has no {key!r}")
    if title is None or content is None:
        return None
    return KeepTemplate(kind, title, content, item.line)


# -- checks on a whole flow -----------------------------------------------------------------


def check(flow: Flow) -> list[Problem]:
    """Return the problems in how a flow's steps connect; an empty list means it can run."""
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(flow.path, line, message))

    states = flow.states
    if flow.start not in states:
        problem(
            flow.line_of("start"),
            f"the start step {flow.start!r} does not exist{_suggest(flow.start, states)}",
        )
        return problems
    for state in states.values():
        for edge in state.edges():
            if edge.target not in states:
                problem(
                    edge.line,
                    f"step {state.id!r} goes to unknown step {edge.target!r}"
                    + _suggest(edge.target, states),
                )
        if not (state.edges() or state.end or state.goto_flow or state.ask):
            problem(
                state.line,
                f"step {state.id!r} is a dead end: give it buttons, 'next', "
                "'goto_flow' or 'end: true'",
            )
        problems.extend(_duplicate_buttons(flow, state))
    reachable = _reachable(flow.start, states)
    for state in states.values():
        if state.id not in reachable:
            problem(state.line, f"step {state.id!r} can never be reached from {flow.start!r}")
    problems.extend(_endless(flow, reachable))
    problems.extend(_silent_loops(flow))
    problems.extend(_undefined_names(flow, reachable))
    return problems


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _reachable(start: str, states: Mapping[str, State]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for edge in states[todo.pop()].edges():
            if edge.target in states and edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


def _endless(flow: Flow, reachable: set[str]) -> list[Problem]:
    """Find steps from which no way leads to an end (the person could only leave by /stop)."""
    # An unknown step counts as an end here: it is reported once already, as unknown.
    finishing = {state.id for state in flow.states.values() if state.end or state.goto_flow}
    finishing |= {e.target for s in flow.states.values() for e in s.edges()} - set(flow.states)
    changed = True
    while changed:
        changed = False
        for state in flow.states.values():
            if state.id not in finishing and any(e.target in finishing for e in state.edges()):
                finishing.add(state.id)
                changed = True
    return [
        Problem(flow.path, state.line, f"no way from step {state.id!r} ever leads to an end")
        for state in flow.states.values()
        if state.id in reachable and state.id not in finishing and state.edges()
    ]


def _silent_loops(flow: Flow) -> list[Problem]:
    """Find circles of steps that never wait for the person (they would go round for ever)."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for first in flow.states.values():
        if first.waits or first.id in reported:
            continue
        path = [first.id]
        todo = [(first.id, iter(flow.states[first.id].edges()))]
        on_path = {first.id}
        while todo:
            edges = todo[-1][1]
            edge = next(edges, None)
            if edge is None:
                todo.pop()
                on_path.discard(path.pop())
                continue
            target = flow.states.get(edge.target)
            if target is None or target.waits:
                continue
            if target.id == first.id:
                circle = " → ".join(path + [first.id])
                reported.update(path)
                problems.append(
                    Problem(
                        flow.path,
                        first.line,
                        f"steps {circle} go round in a circle without waiting for the person",
                    )
                )
                todo.clear()
            elif target.id not in on_path:
                path.append(target.id)
                on_path.add(target.id)
                todo.append((target.id, iter(target.edges())))
    return problems


def _duplicate_buttons(flow: Flow, state: State) -> list[Problem]:
    problems: list[Problem] = []
    labels: dict[tuple[str, str], int] = {}
    effects: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    for number, button in enumerate(state.buttons, start=1):
        for language, label in button.label.texts.items():
            key = (language, label.strip().casefold())
            if key in labels:
                problems.append(
                    Problem(
                        flow.path,
                        button.line,
                        f"buttons {labels[key]} and {number} of step {state.id!r} have the same "
                        f"{language!r} label {label!r}",
                    )
                )
            labels.setdefault(key, number)
        effect = (button.next, tuple(sorted(button.set.items())))
        if effect in effects:
            problems.append(
                Problem(
                    flow.path,
                    button.line,
                    f"buttons {effects[effect]} and {number} of step {state.id!r} both go to "
                    f"{button.next!r} and remember the same: merge them or give them different "
                    "'set' values",
                )
            )
        effects.setdefault(effect, number)
    return problems


def _undefined_names(flow: Flow, reachable: set[str]) -> list[Problem]:
    """Check that every {name} and condition refers to an answer some earlier step remembers."""
    problems: list[Problem] = []
    states = flow.states
    before: dict[str, frozenset[str]] = {flow.start: frozenset()}
    todo = [flow.start]
    while todo:  # what may have been remembered on some way to each step
        state = states[todo.pop()]
        for edge in state.edges():
            if edge.target not in states:
                continue
            known = before[state.id] | edge.saves
            if not known <= before.get(edge.target, frozenset()) or edge.target not in before:
                before[edge.target] = before.get(edge.target, frozenset()) | known
                todo.append(edge.target)
    remembered_anywhere = {
        name for state in states.values() for e in state.edges() for name in e.saves
    }
    set_values: dict[str, set[str]] = {}
    asked = {state.ask for state in states.values() if state.ask}
    for state in states.values():
        for button in state.buttons:
            for name, value in button.set.items():
                set_values.setdefault(name, set()).add(value)
    for name in sorted(asked & set(flow.context)):
        problems.append(
            Problem(
                flow.path,
                flow.line_of("context"),
                f"{name!r} is both a context name and an answer name: rename one",
            )
        )
    context = set(flow.context)
    for state in states.values():
        if state.id not in reachable:
            continue
        known = before.get(state.id, frozenset()) | context
        for words in state.texts():
            for language, text in words.texts.items():
                for name in placeholders(text)[0]:
                    if name in known:
                        continue
                    where = f"the {language!r} text of step {state.id!r} uses {{{name}}}"
                    if name in remembered_anywhere:
                        reason = "but no step that can come before it remembers that answer"
                    else:
                        reason = "but no step remembers it and it is not declared in 'context'"
                    problems.append(Problem(flow.path, words.line, f"{where}, {reason}"))
        for rule in state.branch:
            name = rule.condition.name
            if name not in remembered_anywhere:
                problems.append(
                    Problem(
                        flow.path,
                        rule.line,
                        f"the branch in step {state.id!r} checks {name!r}, "
                        "but no step remembers that answer",
                    )
                )
            elif (
                rule.condition.test is ConditionKind.EQUALS
                and name not in asked
                and rule.condition.value not in set_values.get(name, set())
            ):
                values = ", ".join(sorted(set_values.get(name, set())))
                problems.append(
                    Problem(
                        flow.path,
                        rule.line,
                        f"the branch in step {state.id!r} checks whether {name!r} equals "
                        f"{rule.condition.value!r}, but buttons only set it to: {values}",
                    )
                )
    return problems


# -- the engine's own words and whole sets of files ------------------------------------------


def read_engine_words(path: Path) -> tuple[EngineWords | None, list[Problem]]:
    """Read `_engine.yaml`; return its words (None if unusable) and every problem in it."""
    loaded, error = _load_yaml(path)
    if error:
        return None, [error]
    reader = _Reader(path)
    top = reader.mapping(loaded, 1, "the file")
    if top is None:
        return None, reader.problems
    reader.keys(top, ("languages", "notices", "buttons", "stop_words"), "the top of the file")
    reader.languages = _languages(reader, top)
    notices = _named_words(reader, top, "notices", Notice)
    buttons = _named_words(reader, top, "buttons", Choice)
    stop_words: dict[str, tuple[str, ...]] = {}
    raw_stop = reader.mapping(
        top.get("stop_words"), reader.line_of(top, "stop_words"), "stop_words"
    )
    for language in reader.languages:
        words = raw_stop.get(language) if raw_stop is not None else None
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            reader.problem(
                reader.line_of(raw_stop, language) if raw_stop else top.line,
                f"stop_words needs a list of words in quotes for {language!r}",
            )
            continue
        stop_words[language] = tuple(word.strip().casefold() for word in words)
    if reader.problems or not reader.languages:
        return None, reader.problems
    engine = EngineWords(reader.languages, notices, buttons, stop_words, path)
    return engine, []


_E = TypeVar("_E", Notice, Choice)


def _named_words(reader: _Reader, top: _Mapping, key: str, names: type[_E]) -> dict[_E, Words]:
    section = reader.mapping(top.get(key), reader.line_of(top, key), key)
    found: dict[_E, Words] = {}
    if section is None:
        return found
    reader.keys(section, [name.value for name in names], key)
    for name in names:
        words = reader.words(section, name.value, f"{key}: {name.value}")
        if words is None:
            reader.problem(section.line, f"{key} has no {name.value!r}")
        else:
            found[name] = words
    return found


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories to the flow files in them (not `_engine.yaml`), sorted by name."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.yaml") if not p.name.startswith("_")))
        else:
            found.append(path)
    return found


def read_flows(paths: Iterable[Path]) -> tuple[dict[str, Flow], EngineWords | None, list[Problem]]:
    """Read flow files and directories as one set, with the `_engine.yaml` beside them."""
    paths = list(paths)
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    files = flow_files(paths)
    engine: EngineWords | None = None
    engine_files = {p for p in paths if p.name == ENGINE_FILE and not p.is_dir()}
    engine_files |= {f.parent / ENGINE_FILE for f in files if (f.parent / ENGINE_FILE).exists()}
    engine_files |= {p / ENGINE_FILE for p in paths if p.is_dir() and (p / ENGINE_FILE).exists()}
    for engine_file in sorted(engine_files):
        words, found = read_engine_words(engine_file)
        problems.extend(found)
        engine = engine or words
    neighbours = {f.stem for f in flow_files({f.parent for f in files})}
    for path in files:
        if path.name == ENGINE_FILE:
            continue
        if not path.exists():
            problems.append(Problem(path, 1, "there is no such file"))
            continue
        flow, found = read_flow(path)
        problems.extend(found)
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(
                Problem(path, 1, f"the id {flow.id!r} is also used by {flows[flow.id].path}")
            )
            continue
        flows[flow.id] = flow
    for flow in flows.values():
        problems.extend(_check_neighbours(flow, flows, neighbours, engine))
    return flows, engine, problems


def _check_neighbours(
    flow: Flow, flows: Mapping[str, Flow], neighbours: set[str], engine: EngineWords | None
) -> list[Problem]:
    problems: list[Problem] = []
    if engine is not None:
        for language in flow.languages:
            if language not in engine.languages:
                problems.append(
                    Problem(
                        flow.path,
                        flow.line_of("languages"),
                        f"the language {language!r} is missing from {ENGINE_FILE}, so the bot "
                        "could not say its own words (Skip, Stop) in it",
                    )
                )
    for state in flow.states.values():
        target = state.goto_flow
        if target is None:
            continue
        if target not in flows and target not in neighbours:
            problems.append(
                Problem(
                    flow.path,
                    state.line_of("goto_flow"),
                    f"step {state.id!r} hands over to unknown flow {target!r}"
                    + _suggest(target, set(flows) | neighbours),
                )
            )
        elif target in flows:
            missing = [lang for lang in flow.languages if lang not in flows[target].languages]
            if missing:
                problems.append(
                    Problem(
                        flow.path,
                        state.line_of("goto_flow"),
                        f"step {state.id!r} hands over to {target!r}, which has no "
                        f"{', '.join(missing)} version",
                    )
                )
    return problems


def validate(paths: Iterable[Path] = (DATA_DIRECTORY,)) -> list[Problem]:
    """Return every problem in the given flow files and directories; empty means all can run."""
    return read_flows(paths)[2]


def load_flows(directory: Path = DATA_DIRECTORY) -> tuple[dict[str, Flow], EngineWords]:
    """Load and validate a directory of flows and its `_engine.yaml`, or raise InvalidFlows."""
    flows, engine, problems = read_flows([directory])
    if engine is None and not problems:
        problems = [Problem(directory / ENGINE_FILE, 1, "the engine's own words are missing")]
    if problems or engine is None:
        raise InvalidFlows(problems)
    return flows, engine
