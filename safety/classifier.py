"""The detector's learned layer: a table of word weights that reads what the rules did not.

The rules (safety/data/patterns) are precise but only know the phrasings someone wrote down. A
logistic regression over words and word pairs, trained on the labelled corpora by
scripts/train_classifier.py, catches more of the ways people say the same things. The detector
takes the higher of the two readings: when in doubt, offer resources.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from safety.assessment import Category, Level

DATA_FILE = Path(__file__).parent / "data" / "classifier.json"
CLASSES = ("none", "concern", "crisis")


class ClassifierError(ValueError):
    """A classifier file that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class Reading:
    """What the learned layer makes of a message."""

    level: Level
    crisis: float
    at_risk: float
    categories: tuple[Category, ...]


def features(words: Sequence[str]) -> list[str]:
    """Return a message's features: each word, and each pair of neighbouring words."""
    pairs = [f"b:{first}_{second}" for first, second in pairwise(words)]
    return [f"w:{word}" for word in words] + pairs


class Classifier:
    """Reads a message from its normalised words with the trained weights."""

    def __init__(
        self,
        intercepts: Sequence[float],
        weights: dict[str, tuple[float, ...]],
        categories: Sequence[Category],
        crisis_threshold: float,
        at_risk_threshold: float,
        category_threshold: float,
    ) -> None:
        self._intercepts = tuple(intercepts)
        # Feature names in the file are "w:word" and "b:first_second"; here a word is its own key
        # and a pair is "first second", as the detector's words never hold a space.
        self._rows = {_key(name): row for name, row in weights.items()}
        self._levels = {key: row[: len(CLASSES)] for key, row in self._rows.items()}
        self._categories = tuple(categories)
        self._crisis = crisis_threshold
        self._at_risk = at_risk_threshold
        self._category = category_threshold

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> Classifier:
        """Read and check a classifier file; raise ClassifierError saying what is wrong."""
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ClassifierError(f"{path}: {error}") from None
        try:
            if list(data["classes"]) != list(CLASSES):
                raise ClassifierError(f"{path}: classes must be {list(CLASSES)}")
            categories = [Category(name) for name in data["categories"]]
            width = len(CLASSES) + len(categories)
            intercepts = [float(value) for value in data["intercepts"]]
            weights = {
                str(name): tuple(float(value) for value in values)
                for name, values in data["weights"].items()
            }
            thresholds = data["thresholds"]
            crisis, at_risk = float(thresholds["crisis"]), float(thresholds["at_risk"])
            category = float(thresholds["category"])
        except (KeyError, TypeError, ValueError) as error:
            raise ClassifierError(f"{path}: malformed classifier ({error})") from None
        if len(intercepts) != width or any(len(values) != width for values in weights.values()):
            raise ClassifierError(f"{path}: every weight row must have {width} numbers")
        if not all(0 < value < 1 for value in (crisis, at_risk, category)):
            raise ClassifierError(f"{path}: thresholds must lie between 0 and 1")
        return cls(intercepts, weights, categories, crisis, at_risk, category)

    def read(self, words: Sequence[str]) -> Reading:
        """Return the level (and, above none, the likely categories) for these words."""
        levels = self._levels
        keys = {*words, *(f"{first} {second}" for first, second in pairwise(words))}
        present = [key for key in keys if key in levels]
        scores = list(self._intercepts[: len(CLASSES)])
        for key in present:
            none, concern, crisis = levels[key]
            scores[0] += none
            scores[1] += concern
            scores[2] += crisis
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        concern_p, crisis_p = exps[1] / total, exps[2] / total
        at_risk = concern_p + crisis_p
        if crisis_p > self._crisis:
            level = Level.CRISIS
        elif at_risk > self._at_risk:
            level = Level.CONCERN
        else:
            return Reading(Level.NONE, crisis_p, at_risk, ())
        offset = len(CLASSES)
        sums = list(self._intercepts[offset:])
        for key in present:
            for j, weight in enumerate(self._rows[key][offset:]):
                sums[j] += weight
        categories = tuple(
            category
            for category, score in zip(self._categories, sums, strict=True)
            if _sigmoid(score) > self._category
        )
        return Reading(level, crisis_p, at_risk, categories)


def _key(name: str) -> str:
    kind, _, rest = name.partition(":")
    if kind == "b":
        first, _, second = rest.partition("_")
        return f"{first} {second}"
    return rest


def _sigmoid(value: float) -> float:
    if value < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-value))


@lru_cache(maxsize=1)
def classifier() -> Classifier | None:
    """Load the shipped classifier once; None when no model has been trained yet."""
    if not DATA_FILE.is_file():
        return None
    return Classifier.load(DATA_FILE)
