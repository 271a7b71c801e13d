"""The crisis-resource directory: lookup(country) → the resources for that country."""

from __future__ import annotations

import difflib
import enum
import functools
import re
import unicodedata
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

INTERNATIONAL = "INT"
DEFAULT_PATH = Path(__file__).parent / "data" / "resources.yaml"

_LINE = "__line__"
_REQUIRED_KINDS = ("emergency", "crisis_line", "domestic_violence")
_RESOURCE_KEYS = frozenset(
    {
        "kind",
        "name",
        "phone",
        "text",
        "chat_url",
        "website",
        "hours",
        "free",
        "confidential",
        "notes",
        "source",
        "checked",
    }
)
_COUNTRY_KEYS = frozenset({"code", "name", "names", "languages", "resources"})
_CONTACT_FIELDS = ("phone", "text", "chat_url", "website")
_TEXT_FIELDS = (*_CONTACT_FIELDS, "hours", "notes", "source")
# Digits, spaces, + and - only; a leading * is allowed because some lines are mobile short
# codes (Chile's *4141) and dropping the star would dial the wrong number.
_PHONE = re.compile(r"\*?[0-9+][0-9 +\-]*")
_CODE = re.compile(r"[A-Z]{2}|INT")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_LABEL_FIELDS = {
    "title": ("name", "code"),
    "emergency": ("phone",),
    "emergency_international": ("phone",),
    "footer": ("checked",),
}
_LABEL_WORDS = ("phone", "text", "chat_url", "website", "hours", "free", "confidential")


class ResourceKind(enum.Enum):
    """What a resource is for; the crisis responses choose by kind."""

    EMERGENCY = "emergency"
    CRISIS_LINE = "crisis_line"
    TEXT_LINE = "text_line"
    DOMESTIC_VIOLENCE = "domestic_violence"
    SEXUAL_VIOLENCE = "sexual_violence"
    CHILD_HELPLINE = "child_helpline"


@dataclass(frozen=True)
class Resource:
    """One service a person can reach, with where its details come from."""

    kind: ResourceKind
    name: str
    phone: str | None
    text: str | None
    chat_url: str | None
    website: str | None
    hours: str | None
    source: str
    checked: date
    free: bool | None = None
    confidential: bool | None = None
    notes: str | None = None

    def to_json(self) -> dict[str, object]:
        """Return the resource as plain JSON values."""
        return {
            "kind": self.kind.value,
            "name": self.name,
            "phone": self.phone,
            "text": self.text,
            "chat_url": self.chat_url,
            "website": self.website,
            "hours": self.hours,
            "free": self.free,
            "confidential": self.confidential,
            "notes": self.notes,
            "source": self.source,
            "checked": self.checked.isoformat(),
        }


@dataclass(frozen=True)
class CountryResources:
    """Every resource for one country (or the international list)."""

    code: str
    name: str
    resources: tuple[Resource, ...]
    names: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def of_kind(self, kind: ResourceKind) -> tuple[Resource, ...]:
        """Return the resources of one kind, in directory order."""
        return tuple(resource for resource in self.resources if resource.kind is kind)

    @property
    def emergency(self) -> Resource:
        """The first emergency entry; validation guarantees there is one."""
        return self.of_kind(ResourceKind.EMERGENCY)[0]

    @property
    def is_international(self) -> bool:
        """Whether this is the international fallback rather than one country."""
        return self.code == INTERNATIONAL

    def to_json(self) -> dict[str, object]:
        """Return the country and all its resources as plain JSON values."""
        return {
            "code": self.code,
            "name": self.name,
            "names": list(self.names),
            "languages": list(self.languages),
            "emergency": self.emergency.phone,
            "resources": [resource.to_json() for resource in self.resources],
        }


@dataclass(frozen=True)
class Labels:
    """The words format_text puts around the data, read from the YAML file."""

    title: str
    emergency: str
    emergency_international: str
    kinds: Mapping[ResourceKind, str]
    words: Mapping[str, str]
    footer: str


@dataclass(frozen=True)
class Directory:
    """The validated directory: every country, the name index and the display labels."""

    countries: Mapping[str, CountryResources]
    aliases: Mapping[str, str]
    labels: Labels

    @property
    def international(self) -> CountryResources:
        """The international fallback list."""
        return self.countries[INTERNATIONAL]


class UnknownCountry(LookupError):
    """A country name or code the directory does not know."""


class ResourceDataError(ValueError):
    """The resource file is broken; every problem is listed as `file:line: what`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid resource directory:\n" + "\n".join(problems))
        self.problems = tuple(problems)


def lookup(country: str | None) -> CountryResources:
    """Return the resources for a country code or name; None means the international list."""
    directory = default_directory()
    if country is None or not country.strip():
        return directory.international
    code = _resolve(directory, country)
    if code is None:
        raise UnknownCountry(_unknown_message(directory, country))
    return directory.countries[code]


def countries() -> tuple[CountryResources, ...]:
    """Return every country (not the international list), sorted by English name."""
    directory = default_directory()
    found = (entry for entry in directory.countries.values() if not entry.is_international)
    return tuple(sorted(found, key=lambda entry: _normalize(entry.name)))


def resolve_country(name: str) -> str | None:
    """Return the code for a country code or name in any known language, or None."""
    return _resolve(default_directory(), name)


def suggest_country(language_code: str | None) -> str | None:
    """Guess a country from a language tag such as "de-AT"; None when it is ambiguous."""
    if not language_code:
        return None
    directory = default_directory()
    parts = [part for part in re.split(r"[-_]", language_code.strip()) if part]
    if not parts:
        return None
    for region in parts[1:]:
        code = region.upper()
        if len(code) == 2 and code.isalpha() and code in directory.countries:
            return code
    language = parts[0].lower()
    speakers = [
        entry.code
        for entry in directory.countries.values()
        if not entry.is_international and language in entry.languages
    ]
    return speakers[0] if len(speakers) == 1 else None


def format_text(country: CountryResources) -> str:
    """Render a country's resources as plain text for the terminal."""
    labels = default_directory().labels
    lines = [labels.title.format(name=country.name, code=country.code), ""]
    emergency = country.emergency
    if emergency.phone:
        template = labels.emergency_international if country.is_international else labels.emergency
        lines += [template.format(phone=emergency.phone), ""]
    for kind in ResourceKind:
        entries = country.of_kind(kind)
        if not entries or (entries == (emergency,) and not emergency.notes):
            continue  # the headline above already says everything about a lone emergency number
        lines.append(labels.kinds[kind])
        for resource in entries:
            lines += _resource_lines(resource, labels)
        lines.append("")
    latest = max(resource.checked for resource in country.resources)
    lines.append(labels.footer.format(checked=latest.isoformat()))
    return "\n".join(lines)


def _resource_lines(resource: Resource, labels: Labels) -> list[str]:
    words = labels.words
    qualities = [words[key] for key in ("free", "confidential") if getattr(resource, key)]
    title = resource.name + (f" · {', '.join(qualities)}" if qualities else "")
    lines = [f"  {title}"]
    for key in ("phone", "text", "chat_url", "website", "hours"):
        value = getattr(resource, key)
        if value:
            lines.append(f"    {words[key]}: {value}")
    if resource.notes:
        lines.append(f"    {resource.notes}")
    return lines


@functools.cache
def default_directory() -> Directory:
    """Load and validate the bundled directory once; later calls reuse it."""
    return load_directory(DEFAULT_PATH)


def load_directory(path: Path) -> Directory:
    """Load and validate a resource file; raise ResourceDataError naming every problem."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise ResourceDataError([f"{path}: not valid YAML: {error}"]) from error
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ResourceDataError([f"{path}: expected `labels` and `countries` at the top"])
    labels = _parse_labels(raw.get("labels"), path, problems)
    found: dict[str, CountryResources] = {}
    aliases: dict[str, str] = {}
    entries = raw.get("countries")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{path}: `countries` must be a list of countries")
        entries = []
    for entry in entries:
        country = _parse_country(entry, path, problems)
        if country is None:
            continue
        where = f"{path}:{_line(entry)}"
        if country.code in found:
            problems.append(f"{where}: country {country.code} appears twice")
            continue
        found[country.code] = country
        for alias in (country.code, country.name, *country.names):
            key = _normalize(alias)
            if key and aliases.setdefault(key, country.code) != country.code:
                problems.append(
                    f"{where}: {country.code} name {alias!r} is already used by {aliases[key]}"
                )
    if INTERNATIONAL not in found:
        problems.append(f"{path}: the international list ({INTERNATIONAL}) is missing")
    if problems or labels is None:
        raise ResourceDataError(problems)
    return Directory(countries=found, aliases=aliases, labels=labels)


def _parse_labels(raw: object, path: Path, problems: list[str]) -> Labels | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: `labels` must list the words used around the resources")
        return None
    where = f"{path}:{_line(raw)}"
    texts: dict[str, str] = {}
    for key in (*_LABEL_FIELDS, *_LABEL_WORDS):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: label {key!r} is missing")
            continue
        texts[key] = value
    for key, fields in _LABEL_FIELDS.items():
        if key in texts:
            try:
                texts[key].format(**{field: "" for field in fields})
            except (KeyError, IndexError, ValueError) as error:
                problems.append(f"{where}: label {key!r} may only use {fields}: {error}")
    kinds: dict[ResourceKind, str] = {}
    raw_kinds = raw.get("kinds")
    for kind in ResourceKind:
        value = raw_kinds.get(kind.value) if isinstance(raw_kinds, dict) else None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: label for kind {kind.value!r} is missing")
            continue
        kinds[kind] = value
    if len(texts) < len(_LABEL_FIELDS) + len(_LABEL_WORDS) or len(kinds) < len(ResourceKind):
        return None
    return Labels(
        title=texts["title"],
        emergency=texts["emergency"],
        emergency_international=texts["emergency_international"],
        kinds=kinds,
        words={key: texts[key] for key in _LABEL_WORDS},
        footer=texts["footer"],
    )


def _parse_country(raw: object, path: Path, problems: list[str]) -> CountryResources | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: every country must be a mapping with a code")
        return None
    where = f"{path}:{_line(raw)}"
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        problems.append(f"{where}: country code {code!r} must be two capital letters in quotes")
        return None
    label = f"{where}: country {code}"
    before = len(problems)
    for key in sorted(map(str, set(raw) - _COUNTRY_KEYS - {_LINE})):
        problems.append(f"{label}: unknown field {key!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{label}: `name` is missing")
    names = _strings(raw.get("names", []), f"{label}: `names`", problems)
    languages = _strings(raw.get("languages", []), f"{label}: `languages`", problems)
    for language in languages:
        if not _LANGUAGE.fullmatch(language):
            problems.append(f"{label}: language {language!r} must be a lowercase code like de")
    items = raw.get("resources")
    if not isinstance(items, list) or not items:
        problems.append(f"{label}: `resources` must be a non-empty list")
        items = []
    resources = [
        resource
        for item in items
        if (resource := _parse_resource(item, path, code, problems)) is not None
    ]
    # Count kinds as written, so one broken line is reported once, not again as a missing kind.
    kinds = {item.get("kind") for item in items if isinstance(item, dict)}
    for required in _REQUIRED_KINDS:
        if required not in kinds:
            problems.append(f"{label}: needs at least one {required} resource")
    for resource in resources:
        if resource.kind is ResourceKind.EMERGENCY and not resource.phone:
            problems.append(f"{label}: emergency resource {resource.name!r} needs a phone")
    if len(problems) > before or not isinstance(name, str):
        return None
    return CountryResources(
        code=code,
        name=name.strip(),
        resources=tuple(resources),
        names=tuple(names),
        languages=tuple(languages),
    )


def _parse_resource(raw: object, path: Path, code: str, problems: list[str]) -> Resource | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: country {code}: every resource must be a mapping")
        return None
    name = raw.get("name")
    label = f"{path}:{_line(raw)}: {code} resource {name!r}"
    before = len(problems)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{label}: `name` is missing")
    for key in sorted(map(str, set(raw) - _RESOURCE_KEYS - {_LINE})):
        problems.append(f"{label}: unknown field {key!r}")
    kind_value = raw.get("kind")
    kind = next((kind for kind in ResourceKind if kind.value == kind_value), None)
    if kind is None:
        known = ", ".join(kind.value for kind in ResourceKind)
        problems.append(f"{label}: unknown kind {kind_value!r} (use one of: {known})")
    text = {key: _optional_text(raw, key, label, problems) for key in _TEXT_FIELDS}
    phone = text["phone"]
    if phone is not None and not _PHONE.fullmatch(phone):
        problems.append(
            f"{label}: phone {phone!r} may contain only digits, spaces, + and - "
            "(and a leading * for mobile short codes)"
        )
    for key in ("chat_url", "website", "source"):
        url = text[key]
        if url is not None and not url.startswith(("https://", "http://")):
            problems.append(f"{label}: {key} {url!r} must be a web address (https://...)")
    if not any(text[key] for key in _CONTACT_FIELDS):
        problems.append(f"{label}: needs a phone, text, chat_url or website")
    if not text["source"]:
        problems.append(f"{label}: `source` is missing (the page the details were checked on)")
    checked = _checked(raw.get("checked"), label, problems)
    flags = {key: _optional_flag(raw, key, label, problems) for key in ("free", "confidential")}
    if len(problems) > before or kind is None or checked is None or not isinstance(name, str):
        return None
    return Resource(
        kind=kind,
        name=name.strip(),
        phone=phone,
        text=text["text"],
        chat_url=text["chat_url"],
        website=text["website"],
        hours=text["hours"],
        source=text["source"] or "",
        checked=checked,
        free=flags["free"],
        confidential=flags["confidential"],
        notes=text["notes"],
    )


def _optional_text(raw: dict[Any, Any], key: str, label: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        hint = " (put phone numbers in quotes)" if key == "phone" else ""
        problems.append(f"{label}: {key} must be text{hint}, not {value!r}")
        return None
    return value.strip() or None


def _optional_flag(raw: dict[Any, Any], key: str, label: str, problems: list[str]) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    problems.append(f"{label}: {key} must be true or false, not {value!r}")
    return None


def _checked(value: object, label: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None:
        problems.append(f"{label}: `checked` is missing (the date the source was read)")
    else:
        problems.append(f"{label}: checked {value!r} must be a date like 2026-11-25")
    return None


def _strings(value: object, label: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{label} must be a list of words in quotes or brackets")
        return []
    return [item.strip() for item in value if item.strip()]


def _resolve(directory: Directory, name: str) -> str | None:
    return directory.aliases.get(_normalize(name))


def _unknown_message(directory: Directory, country: str) -> str:
    guess = _normalize(country)
    close = difflib.get_close_matches(guess, list(directory.aliases), n=6, cutoff=0.7)
    codes = list(dict.fromkeys(directory.aliases[alias] for alias in close))
    known = ", ".join(sorted(code for code in directory.countries if code != INTERNATIONAL))
    message = f"no crisis resources for {country.strip()!r}."
    if codes:
        named = ", ".join(f"{directory.countries[code].name} ({code})" for code in codes[:3])
        message += f" Did you mean {named}?"
    return f"{message} Known countries: {known}. Without a country you get the international list."


def _normalize(name: str) -> str:
    """Fold case, accents and punctuation so "España", "espana" and " ESPAÑA " match."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.replace(".", "").replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _line(raw: object) -> int | str:
    value = raw.get(_LINE) if isinstance(raw, dict) else None
    return value if isinstance(value, int) else "?"


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that remembers the line each mapping starts on, for error messages."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        return mapping
