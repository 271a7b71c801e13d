"""The plain values the safety layer returns: levels, categories and assessments."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.Enum):
    """How urgently a message needs a safety response, lowest first."""

    NONE = "none"
    CONCERN = "concern"
    CRISIS = "crisis"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NONE: 0, Level.CONCERN: 1, Level.CRISIS: 2}


class Category(enum.Enum):
    """What kind of risk a message shows; one message can show several."""

    SUICIDE = "suicide"
    SELF_HARM = "self_harm"
    DANGER_FROM_OTHER = "danger_from_other"
    SEXUAL_VIOLENCE = "sexual_violence"
    CHILD_ABUSE = "child_abuse"
    OTHER_AT_RISK = "other_at_risk"
    MEDICAL = "medical"
    METHOD_SEEKING = "method_seeking"
    PASSIVE_IDEATION = "passive_ideation"
    DISTRESS = "distress"


@dataclass(frozen=True)
class Match:
    """One rule that fired: which rule, what it means, and the normalised words it matched."""

    rule: str
    level: Level
    categories: tuple[Category, ...]
    language: str
    phrase: str


@dataclass(frozen=True)
class Assessment:
    """The safety layer's reading of one message."""

    level: Level
    categories: tuple[Category, ...]
    language: str
    matches: tuple[Match, ...] = ()

    @property
    def needs_response(self) -> bool:
        return self.level is not Level.NONE

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape of the CLI contract (the matched phrases included)."""
        return {
            "level": self.level.value,
            "categories": [category.value for category in self.categories],
            "language": self.language,
            "matches": [
                {
                    "rule": match.rule,
                    "level": match.level.value,
                    "categories": [category.value for category in match.categories],
                    "phrase": match.phrase,
                }
                for match in self.matches
            ],
        }

