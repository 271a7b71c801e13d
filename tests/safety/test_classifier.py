"""The learned layer: its file is checked at load, its arithmetic, and how the detector uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safety import Category, Level, detector, screen
from safety.classifier import CLASSES, Classifier, ClassifierError, classifier, features

CATEGORIES = [category.value for category in Category]
WIDTH = len(CLASSES) + len(CATEGORIES)


def _row(none: float, concern: float, crisis: float, **categories: float) -> list[float]:
    return [none, concern, crisis] + [categories.get(name, 0.0) for name in CATEGORIES]


def _write(tmp_path: Path, weights: dict[str, list[float]], **overrides: object) -> Path:
    payload: dict[str, object] = {
        "classes": list(CLASSES),
        "categories": CATEGORIES,
        "thresholds": {"crisis": 0.5, "at_risk": 0.7, "category": 0.3},
        "intercepts": _row(2.0, 0.0, 0.0, **dict.fromkeys(CATEGORIES, -5.0)),
        "weights": weights,
    }
    payload.update(overrides)
    path = tmp_path / "classifier.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_features_are_words_and_word_pairs() -> None:
    assert features(["i", "feel", "low"]) == ["w:i", "w:feel", "w:low", "b:i_feel", "b:feel_low"]


def test_weights_decide_the_level_and_categories(tmp_path: Path) -> None:
    model = Classifier.load(
        _write(tmp_path, {"w:zebra": _row(0, 0, 6, danger_from_other=9), "w:moth": _row(0, 4, 0)})
    )
    crisis = model.read(["a", "zebra"])
    assert crisis.level is Level.CRISIS and crisis.categories == (Category.DANGER_FROM_OTHER,)
    assert model.read(["moth"]).level is Level.CONCERN
    assert model.read(["nothing", "here"]).level is Level.NONE


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"classes": ["a", "b", "c"]}, "classes"),
        ({"categories": ["sadness"]}, "malformed"),
        ({"thresholds": {"crisis": 2, "at_risk": 0.7, "category": 0.3}}, "thresholds"),
        ({"intercepts": [0.0]}, "numbers"),
    ],
)
def test_a_broken_classifier_file_is_refused(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(ClassifierError, match=problem):
        Classifier.load(_write(tmp_path, {}, **overrides))


def test_the_shipped_classifier_loads() -> None:
    model = classifier()
    assert model is not None
    assert model.read([]).level is Level.NONE


def test_the_learned_layer_raises_what_the_rules_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Classifier.load(_write(tmp_path, {"w:zebra": _row(0, 0, 9, suicide=9)}))
    monkeypatch.setattr(detector, "classifier", lambda: model)
    assessment = screen("the zebra again")
    assert assessment.level is Level.CRISIS
    assert assessment.matches[0].rule == detector.LEARNED


def test_an_idiom_keeps_the_last_word_over_the_learned_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Classifier.load(_write(tmp_path, {"w:comute": _row(0, 0, 9, suicide=9)}))
    monkeypatch.setattr(detector, "classifier", lambda: model)
    assert screen("this commute is killing me").level is Level.NONE


def test_a_reading_without_categories_gets_the_general_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = Classifier.load(_write(tmp_path, {"w:zebra": _row(0, 9, 0)}))
    monkeypatch.setattr(detector, "classifier", lambda: model)
    assessment = screen("zebra")
    assert assessment.level is Level.CONCERN
    assert assessment.categories == (Category.DISTRESS,)
