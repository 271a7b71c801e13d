"""The crisis-resource directory: lookup(country) → the resources for that country."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

INTERNATIONAL = "INT"


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


@dataclass(frozen=True)
class CountryResources:
    """Every resource for one country (or the international list)."""

    code: str
    name: str
    resources: tuple[Resource, ...]

    def of_kind(self, kind: ResourceKind) -> tuple[Resource, ...]:
        return tuple(resource for resource in self.resources if resource.kind is kind)

    def to_json(self) -> dict[str, object]:
        raise NotImplementedError


class UnknownCountry(LookupError):
    """A country name or code the directory does not know."""


def lookup(country: str | None) -> CountryResources:
    """Return the resources for a country code or name; None means the international list."""
    raise UnknownCountry(f"no resource directory yet for {country!r}")


def format_text(country: CountryResources) -> str:
    """Render a country's resources as plain text for the terminal."""
    raise NotImplementedError
