"""Crisis and concern responses: respond(assessment, country, language) → Response."""

from __future__ import annotations

import enum
import functools
import logging
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from safety.assessment import Assessment, Category, Level
from safety.resources import INTERNATIONAL, CountryResources, Resource, ResourceKind

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data" / "responses"
DEFAULT_LANGUAGE = "en"
MAX_MESSAGE_LENGTH = 4096  # Telegram rejects longer text messages


class ResponsePath(enum.Enum):
    """Which kind of response a message gets; each path has its own words and order."""

    SUICIDE_RISK = "suicide_risk"
    SELF_HARM = "self_harm"
    DANGER_FROM_OTHER = "danger_from_other"
    CHILD_AT_RISK = "child_at_risk"
    SOMEONE_ELSE = "someone_else"
    MEDICAL = "medical"
    CONCERN = "concern"


class ChoiceId(enum.Enum):
    """A follow-up the person can choose after a response; the value is stable callback data."""

    GROUNDING = "grounding"
    PLAN = "plan"
    RESUME = "resume"
    PAUSE = "pause"


@dataclass(frozen=True)
class Choice:
    """One follow-up option: a stable id and its label in the person's language."""

    id: ChoiceId
    label: str


@dataclass(frozen=True)
class Response:
    """The messages to send, in order, and the choices to offer under the last one."""

    messages: tuple[str, ...]
    choices: tuple[Choice, ...]
    path: ResponsePath
    level: Level


class ResponseDataError(ValueError):
    """The response files are missing, incomplete or malformed; the message lists every problem."""


# Every key the language files must have, with exactly the placeholders its template uses.
# A sentence that points to the emergency number must keep {emergency}: losing it is a safety bug.
_EMERGENCY = frozenset({"emergency"})
_NONE: frozenset[str] = frozenset()
SCHEMA: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "emergency.number": frozenset({"phone"}),
        "emergency.local": _NONE,
        "emergency.several": _NONE,
        "resource.line": frozenset({"name", "contacts"}),
        "resource.line_with_hours": frozenset({"name", "contacts", "hours"}),
        "resource.call": frozenset({"phone"}),
        "resource.text": frozenset({"text"}),
        "resource.chat": frozenset({"url"}),
        "resource.website": frozenset({"url"}),
        "resource.separator": _NONE,
        "resource.directory": _NONE,
        **{f"choices.{choice.value}": _NONE for choice in ChoiceId},
        "offers.plan": _NONE,
        "offers.grounding": _NONE,
        "offers.closing": _NONE,
        "suicide_risk.opening": _NONE,
        "suicide_risk.resources": _NONE,
        "suicide_risk.emergency": _EMERGENCY,
        "suicide_risk.hope": _NONE,
        "suicide_risk.question": _NONE,
        "self_harm.opening": _NONE,
        "self_harm.resources": _NONE,
        "self_harm.emergency": _EMERGENCY,
        "self_harm.coping": _NONE,
        "self_harm.question": _NONE,
        "medical.call_now": _EMERGENCY,
        "medical.care": _NONE,
        "medical.resources": _NONE,
        "danger_from_other.opening": _NONE,
        "danger_from_other.question": _NONE,
        "danger_from_other.emergency": _EMERGENCY,
        "danger_from_other.resources": _NONE,
        "danger_from_other.hide": _NONE,
        "child_at_risk.opening": _NONE,
        "child_at_risk.resources": _NONE,
        "child_at_risk.emergency": _EMERGENCY,
        "child_at_risk.trusted_adult": _NONE,
        "child_at_risk.hide": _NONE,
        "child_at_risk.closing": _NONE,
        "someone_else.opening": _NONE,
        "someone_else.emergency": _EMERGENCY,
        "someone_else.emergency_now": _EMERGENCY,
        "someone_else.resources": _NONE,
        "someone_else.support": _NONE,
        "someone_else.helper": _NONE,
        "concern.opening": _NONE,
        "concern.resources": _NONE,
        "concern.emergency": _EMERGENCY,
        "concern.plan": _NONE,
        "concern.grounding": _NONE,
        "concern.closing": _NONE,
        "fallback.opening": _NONE,
        "fallback.emergency": _EMERGENCY,
    }
)


@dataclass(frozen=True)
class Phrasebook:
    """Every sentence of the responses in one language, checked against SCHEMA at load."""

    language: str
    phrases: Mapping[str, str]

    def say(self, key: str, **fields: str) -> str:
        """Return the sentence for a key with its placeholders filled."""
        return self.phrases[key].format(**fields)


@functools.cache
def load_responses(directory: Path = DATA_DIR) -> Mapping[str, Phrasebook]:
    """Load, validate and cache every language file; raise ResponseDataError naming each problem."""
    problems: list[str] = []
    books: dict[str, Phrasebook] = {}
    for path in sorted(directory.glob("*.yaml")):
        books[path.stem] = Phrasebook(path.stem, MappingProxyType(_read(path, problems)))
    if DEFAULT_LANGUAGE not in books:
        problems.append(f"{directory / DEFAULT_LANGUAGE}.yaml: missing (the fallback language)")
    if problems:
        raise ResponseDataError("\n".join(problems))
    return MappingProxyType(books)


def _read(path: Path, problems: list[str]) -> dict[str, str]:
    """Return the flattened phrases of one file, adding what is wrong with it to problems."""
    try:
        # compose() builds nodes only (no objects), so we keep line numbers and stay safe.
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problems.append(f"{path}: cannot read: {error}")
        return {}
    if not isinstance(root, yaml.MappingNode):
        problems.append(f"{path}: expected a mapping of keys to sentences")
        return {}
    found: dict[str, tuple[str, int]] = {}
    _flatten(root, "", path, found, problems)
    problems.extend(f"{path}: missing key {key!r}" for key in sorted(SCHEMA.keys() - found.keys()))
    phrases: dict[str, str] = {}
    for key, (value, line) in found.items():
        if key not in SCHEMA:
            problems.append(f"{path}:{line}: unknown key {key!r}")
            continue
        problems.extend(f"{path}:{line}: {key}: {p}" for p in _placeholder_problems(value, key))
        phrases[key] = value
    return phrases


def _flatten(
    node: yaml.MappingNode,
    prefix: str,
    path: Path,
    found: dict[str, tuple[str, int]],
    problems: list[str],
) -> None:
    """Collect every scalar under node as a dotted key with its line."""
    for key_node, value_node in node.value:
        key = f"{prefix}{key_node.value}"
        line = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.MappingNode):
            _flatten(value_node, f"{key}.", path, found, problems)
        elif (
            isinstance(value_node, yaml.ScalarNode)
            and value_node.tag == "tag:yaml.org,2002:str"
            and value_node.value.strip()
        ):
            if key in found:
                problems.append(f"{path}:{line}: duplicate key {key!r}")
            found[key] = (value_node.value, line)
        else:
            problems.append(f"{path}:{line}: {key!r} must be a non-empty quoted sentence")


def _placeholder_problems(template: str, key: str) -> list[str]:
    """Return what is wrong with a template's placeholders for its key."""
    expected = SCHEMA[key]
    used: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return [f"bad braces: {error}"]
    problems = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        # Only bare names: a YAML file must not reach attributes or items through format().
        if field not in expected or spec or conversion:
            problems.append(f"placeholder {{{field}}} is not allowed here")
        used.add(field)
    problems.extend(f"placeholder {{{name}}} is missing" for name in sorted(expected - used))
    return problems


def phrasebook(language: str) -> Phrasebook:
    """Return the phrases for a language such as "de" or "es-MX", falling back to English."""
    books = load_responses()
    if not isinstance(language, str):  # a caller's bug must not cost the person the resources
        return books[DEFAULT_LANGUAGE]
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return books.get(code) or books[DEFAULT_LANGUAGE]


# Categories that describe risk to the person writing when a match has them without other_at_risk.
_OWN_RISK = frozenset(
    {
        Category.SUICIDE,
        Category.SELF_HARM,
        Category.METHOD_SEEKING,
        Category.PASSIVE_IDEATION,
        Category.DANGER_FROM_OTHER,
        Category.SEXUAL_VIOLENCE,
        Category.CHILD_ABUSE,
        Category.MEDICAL,
    }
)
_SUICIDAL = frozenset({Category.SUICIDE, Category.METHOD_SEEKING, Category.PASSIVE_IDEATION})
_VIOLENCE = frozenset({Category.DANGER_FROM_OTHER, Category.SEXUAL_VIOLENCE})


def choose_path(assessment: Assessment) -> ResponsePath | None:
    """Return the response path for an assessment, or None when it needs no response."""
    if assessment.level is Level.NONE:
        return None
    categories = frozenset(assessment.categories)
    if Category.OTHER_AT_RISK in categories and not _person_at_risk(assessment):
        return ResponsePath.SOMEONE_ELSE
    if Category.MEDICAL in categories:
        return ResponsePath.MEDICAL
    if Category.CHILD_ABUSE in categories:
        return ResponsePath.CHILD_AT_RISK
    if categories & _VIOLENCE:
        return ResponsePath.DANGER_FROM_OTHER
    if assessment.level is Level.CONCERN:
        return ResponsePath.CONCERN
    if Category.SELF_HARM in categories and not categories & _SUICIDAL:
        return ResponsePath.SELF_HARM
    # Any other crisis gets the suicide-risk response: crisis line and emergency number.
    return ResponsePath.SUICIDE_RISK


def _person_at_risk(assessment: Assessment) -> bool:
    """Whether some match shows risk to the person writing, not only to someone they know."""
    return any(
        Category.OTHER_AT_RISK not in match.categories
        and not _OWN_RISK.isdisjoint(match.categories)
        for match in assessment.matches
    )


def respond(
    assessment: Assessment,
    country: CountryResources,
    language: str,
    *,
    has_safety_plan: bool = False,
) -> Response | None:
    """Return the response to an assessment, or None for level none; never fail silently."""
    try:
        path = choose_path(assessment)
        if path is None:
            return None
        book = phrasebook(language)
        writer = _Writer(book, country, quiet=path in _OVERHEARD)
        messages = _BUILDERS[path](writer, assessment, has_safety_plan)
        return Response(_fit(messages), _choices(book, has_safety_plan), path, assessment.level)
    except Exception:
        # No person's words reach this code (paths use categories only), so the trace is safe.
        logger.exception("crisis response failed; sending the fallback")
        return _fallback(assessment, country, language, has_safety_plan)


_LISTENING = (ResourceKind.CRISIS_LINE, ResourceKind.TEXT_LINE)
# Paths where the person hurting them may be close by, so a phone call could be overheard.
_OVERHEARD = frozenset({ResponsePath.DANGER_FROM_OTHER, ResponsePath.CHILD_AT_RISK})


@dataclass(frozen=True)
class _Writer:
    """Fills one language's templates with one country's resources."""

    book: Phrasebook
    country: CountryResources
    quiet: bool = False  # a call may be overheard: list text and chat before phone

    def say(self, key: str, **fields: str) -> str:
        return self.book.say(key, **fields)

    def listing(
        self, intro_key: str, kinds: Sequence[ResourceKind], fallback: Sequence[ResourceKind] = ()
    ) -> str:
        """Return an intro sentence and the resource lines under it, never an empty list."""
        resources = self._resources(kinds) or self._resources(fallback)
        lines = [self.line(resource) for resource in resources]
        return "\n".join((self.say(intro_key), *(lines or [self.say("resource.directory")])))

    def emergency(self, key: str) -> str:
        """Return a sentence pointing to the emergency number, with the numbers listed if several."""
        services = self._emergency_services()
        if not services:
            return self.say(key, emergency=self.say("emergency.local"))
        if len(services) == 1 and services[0].phone:
            return self.say(key, emergency=self.say("emergency.number", phone=services[0].phone))
        lines = [self.line(service) for service in services]
        return "\n".join((self.say(key, emergency=self.say("emergency.several")), *lines))

    def line(self, resource: Resource) -> str:
        """Render one resource: name, ways to reach it and hours."""
        contacts = self.say("resource.separator").join(self._contacts(resource))
        if resource.hours:
            return self.say(
                "resource.line_with_hours",
                name=resource.name,
                contacts=contacts,
                hours=resource.hours,
            )
        return self.say("resource.line", name=resource.name, contacts=contacts)

    def _contacts(self, resource: Resource) -> list[str]:
        call = self.say("resource.call", phone=resource.phone) if resource.phone else ""
        text = self.say("resource.text", text=resource.text) if resource.text else ""
        chat = self.say("resource.chat", url=resource.chat_url) if resource.chat_url else ""
        contacts = [
            part for part in ((chat, text, call) if self.quiet else (call, text, chat)) if part
        ]
        if not contacts and resource.website:
            contacts = [self.say("resource.website", url=resource.website)]
        return contacts

    def _resources(self, kinds: Sequence[ResourceKind]) -> list[Resource]:
        chosen: list[Resource] = []
        for kind in kinds:
            group = [r for r in self.country.of_kind(kind) if _reachable(r) and r not in chosen]
            if self.quiet:
                group.sort(key=lambda resource: not (resource.text or resource.chat_url))
            chosen.extend(group)
        return chosen

    def _emergency_services(self) -> list[Resource]:
        # The international list has no emergency number that is right everywhere.
        if self.country.code.upper() == INTERNATIONAL:
            return []
        services: list[Resource] = []
        for service in self.country.of_kind(ResourceKind.EMERGENCY):
            if service.phone and all(service.phone != known.phone for known in services):
                services.append(service)
        return services


def _reachable(resource: Resource) -> bool:
    return bool(resource.phone or resource.text or resource.chat_url or resource.website)


def _sentences(*parts: str) -> str:
    return " ".join(parts)


def _blocks(*parts: str) -> str:
    return "\n\n".join(parts)


def _offers(writer: _Writer, has_safety_plan: bool) -> str:
    plan = (writer.say("offers.plan"),) if has_safety_plan else ()
    return _sentences(*plan, writer.say("offers.grounding"), writer.say("offers.closing"))


def _suicide_risk(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    return [
        writer.say("suicide_risk.opening"),
        _blocks(
            writer.listing("suicide_risk.resources", _LISTENING),
            writer.emergency("suicide_risk.emergency"),
        ),
        _sentences(writer.say("suicide_risk.hope"), writer.say("suicide_risk.question")),
        _offers(writer, has_safety_plan),
    ]


def _self_harm(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    return [
        writer.say("self_harm.opening"),
        _blocks(
            writer.listing("self_harm.resources", _LISTENING),
            writer.emergency("self_harm.emergency"),
        ),
        _sentences(writer.say("self_harm.coping"), writer.say("self_harm.question")),
        _offers(writer, has_safety_plan),
    ]


def _medical(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    return [
        writer.emergency("medical.call_now"),
        writer.say("medical.care"),
        writer.listing("medical.resources", _LISTENING),
        _offers(writer, has_safety_plan),
    ]


def _danger_from_other(
    writer: _Writer, assessment: Assessment, has_safety_plan: bool
) -> list[str]:
    kinds = [ResourceKind.DOMESTIC_VIOLENCE]
    if Category.SEXUAL_VIOLENCE in assessment.categories:
        kinds.append(ResourceKind.SEXUAL_VIOLENCE)
    return [
        _sentences(
            writer.say("danger_from_other.opening"), writer.say("danger_from_other.question")
        ),
        _blocks(
            writer.emergency("danger_from_other.emergency"),
            writer.listing("danger_from_other.resources", [*kinds, *_LISTENING]),
        ),
        writer.say("danger_from_other.hide"),
        _offers(writer, has_safety_plan),
    ]


def _child_at_risk(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    plan = (writer.say("offers.plan"),) if has_safety_plan else ()
    return [
        writer.say("child_at_risk.opening"),
        _blocks(
            writer.listing(
                "child_at_risk.resources", [ResourceKind.CHILD_HELPLINE], fallback=_LISTENING
            ),
            writer.emergency("child_at_risk.emergency"),
        ),
        _sentences(writer.say("child_at_risk.trusted_adult"), writer.say("child_at_risk.hide")),
        _sentences(*plan, writer.say("child_at_risk.closing")),
    ]


# What the person they worry about faces decides which specialist line comes first.
_SPECIALIST_LINES = (
    (Category.CHILD_ABUSE, ResourceKind.CHILD_HELPLINE),
    (Category.DANGER_FROM_OTHER, ResourceKind.DOMESTIC_VIOLENCE),
    (Category.SEXUAL_VIOLENCE, ResourceKind.SEXUAL_VIOLENCE),
)


def _someone_else(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    specialist = [
        kind for category, kind in _SPECIALIST_LINES if category in assessment.categories
    ]
    urgent = Category.MEDICAL in assessment.categories
    return [
        writer.say("someone_else.opening"),
        _blocks(
            writer.emergency("someone_else.emergency_now" if urgent else "someone_else.emergency"),
            writer.listing("someone_else.resources", [*specialist, *_LISTENING]),
        ),
        _sentences(writer.say("someone_else.support"), writer.say("someone_else.helper")),
        _offers(writer, has_safety_plan),
    ]


def _concern(writer: _Writer, assessment: Assessment, has_safety_plan: bool) -> list[str]:
    plan = (writer.say("concern.plan"),) if has_safety_plan else ()
    return [
        writer.say("concern.opening"),
        _blocks(
            writer.listing("concern.resources", _LISTENING),
            writer.emergency("concern.emergency"),
        ),
        _sentences(*plan, writer.say("concern.grounding"), writer.say("concern.closing")),
    ]


_BUILDERS = {
    ResponsePath.SUICIDE_RISK: _suicide_risk,
    ResponsePath.SELF_HARM: _self_harm,
    ResponsePath.MEDICAL: _medical,
    ResponsePath.DANGER_FROM_OTHER: _danger_from_other,
    ResponsePath.CHILD_AT_RISK: _child_at_risk,
    ResponsePath.SOMEONE_ELSE: _someone_else,
    ResponsePath.CONCERN: _concern,
}


def _choices(book: Phrasebook, has_safety_plan: bool) -> tuple[Choice, ...]:
    ids = [ChoiceId.GROUNDING, *([ChoiceId.PLAN] if has_safety_plan else []), ChoiceId.RESUME]
    return tuple(
        Choice(choice, book.say(f"choices.{choice.value}")) for choice in (*ids, ChoiceId.PAUSE)
    )


def _fit(messages: Iterable[str]) -> tuple[str, ...]:
    """Split any message over Telegram's limit, at line breaks where it can (a long resource list)."""
    fitted: list[str] = []
    for message in messages:
        lines = [
            line[start : start + MAX_MESSAGE_LENGTH]
            for line in message.split("\n")
            for start in range(0, max(len(line), 1), MAX_MESSAGE_LENGTH)
        ]
        chunk = lines[0]
        for line in lines[1:]:
            if len(chunk) + 1 + len(line) > MAX_MESSAGE_LENGTH:
                fitted.append(chunk)
                chunk = line
            else:
                chunk = f"{chunk}\n{line}"
        fitted.append(chunk)
    return tuple(part.strip("\n") for part in fitted if part.strip())


def _fallback(
    assessment: Assessment, country: CountryResources, language: str, has_safety_plan: bool
) -> Response:
    """Return the fixed response with the country's crisis lines, or with none if they fail too."""
    book = phrasebook(language)
    try:
        writer = _Writer(book, country)
        body = _blocks(
            writer.listing("fallback.opening", _LISTENING), writer.emergency("fallback.emergency")
        )
    except Exception:
        logger.exception("fallback could not list resources; sending the fixed message")
        body = _blocks(
            "\n".join((book.say("fallback.opening"), book.say("resource.directory"))),
            book.say("fallback.emergency", emergency=book.say("emergency.local")),
        )
    level = getattr(assessment, "level", None)
    return Response(
        messages=_fit([body]),
        choices=_choices(book, has_safety_plan),
        path=_safe_path(assessment),
        level=level if isinstance(level, Level) and level is not Level.NONE else Level.CRISIS,
    )


def _safe_path(assessment: Assessment) -> ResponsePath:
    try:
        return choose_path(assessment) or ResponsePath.SUICIDE_RISK
    except Exception:  # noqa: BLE001 - respond() has logged the failure already
        return ResponsePath.SUICIDE_RISK


# Load at import so a broken language file stops startup instead of a crisis reply.
load_responses()
