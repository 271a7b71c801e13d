"""The crisis detector: levels, categories, obfuscation, exceptions, and robustness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import safety.detector as detector
from safety import Category, Level, screen
from safety.patterns import PatternError, load_rules


def _level(text: str) -> Level:
    return screen(text).level


@pytest.mark.parametrize(
    "text",
    [
        "i want to kill myself",
        "I’m going to kill myself tonight",
        "im going to end it all this weekend",
        "kms",
        "thinking about unaliving myself",
        "planning to ctb on friday",
        "the sewerslide thoughts are loud, im gonna do it",
        "everyone would be better off without me and ive made up my mind",
        "i have the pills ready and i want to die",
        "by the time anyone reads this i'll be gone",
        "I don't want to be alive anymore",
    ],
)
def test_suicidal_intent_is_crisis(text: str) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert Category.SUICIDE in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "k i l l myself",
        "i want to k.i.l.l m.y.s.e.l.f",
        "su1c1de tonight",
        "i w\u200bant to k\u200bill mys\u200belf",
        "i want to kіll myѕelf",  # Cyrillic і and ѕ
        "i want to killllll myselfffff",
        "I WANT TO KILL MYSELF",
        "i wnat to kil myslef",
        "i want to 😭 kill 😭 myself",
        "ｉ ｗａｎｔ ｔｏ ｋｉｌｌ ｍｙｓｅｌｆ",
    ],
)
def test_obfuscated_crisis_is_still_crisis(text: str) -> None:
    assert _level(text) is Level.CRISIS


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i'm cutting right now and can't stop", Category.SELF_HARM),
        ("i took the whole bottle of pills an hour ago", Category.MEDICAL),
        ("cant stop the bleeding, i cut too deep", Category.MEDICAL),
        ("he said he'd kill me if i leave", Category.DANGER_FROM_OTHER),
        ("he has a knife and he's screaming at me", Category.DANGER_FROM_OTHER),
        ("he locked me in the bedroom and took my phone", Category.DANGER_FROM_OTHER),
        ("my ex is outside my door right now banging on it", Category.DANGER_FROM_OTHER),
        ("he raped me last night", Category.SEXUAL_VIOLENCE),
        ("my stepdad hits me, im 13", Category.CHILD_ABUSE),
        ("my sister says she'll end it tonight", Category.OTHER_AT_RISK),
        ("i cant do this anymore. how many of my pills would it take", Category.METHOD_SEEKING),
    ],
)
def test_every_kind_of_risk_is_crisis_with_its_category(text: str, category: Category) -> None:
    assessment = screen(text)
    assert assessment.level is Level.CRISIS
    assert category in assessment.categories


@pytest.mark.parametrize(
    "text",
    [
        "i wish i could disappear",
        "whats even the point of anything",
        "i feel so hopeless",
        "i keep having flashbacks and i cant sleep",
        "I wish I'd never been born",
    ],
)
def test_passive_ideation_and_distress_are_concern(text: str) -> None:
    assert _level(text) is Level.CONCERN


@pytest.mark.parametrize(
    "text",
    [
        "this commute is killing me",
        "I'd kill for a coffee",
        "I'm dying to see it",
        "my phone died",
        "i'm dead 😂😂",
        "forgot my keys again kms lol",
        "I killed the final boss in elden ring",
        "the villain kills himself at the end of the movie",
        "a man was stabbed downtown, police said",
        "i used to self harm but i'm 3 years clean and proud",
        "my therapist and i talked about my suicidal thoughts from last year, they're long gone",
        "how many ibuprofen can i take for a headache",
        "I'm not going to hurt myself, I just need to vent",
        "I'm not suicidal, just tired of my job",
        "overdosed on coffee this morning lol",
        "my feet are killing me after that hike",
        "",
        "hello",
    ],
)
def test_idioms_fiction_news_and_resolved_past_are_none(text: str) -> None:
    assert _level(text) is Level.NONE


def test_negation_does_not_cancel_another_signal() -> None:
    assert _level("im not going to hurt myself tonight but i want to die") is Level.CRISIS


def test_idiom_elsewhere_does_not_hide_a_crisis() -> None:
    text = "this commute is killing me. honestly i'm going to kill myself this weekend"
    assert _level(text) is Level.CRISIS


def test_crisis_buried_in_a_long_message_is_found() -> None:
    filler = "work was fine and i made pasta and watched some tv with my flatmate. " * 40
    text = filler + "i have decided to kill myself on sunday. " + filler
    assert _level(text) is Level.CRISIS


def test_resolved_past_with_a_present_crisis_is_crisis() -> None:
    text = "i used to cut years ago and was clean for so long, but i want to kill myself tonight"
    assert _level(text) is Level.CRISIS


def test_unresolved_past_is_concern_not_crisis() -> None:
    assert _level("my dad used to beat me when i was a kid") is Level.CONCERN


def test_matches_name_their_rules_and_never_echo_in_the_reply_fields() -> None:
    assessment = screen("i want to kill myself")
    assert assessment.matches
    assert all(match.rule.startswith("en.") for match in assessment.matches)
    payload = assessment.to_json()
    assert payload["level"] == "crisis"
    assert "suicide" in payload["categories"]  # type: ignore[operator]


def test_language_is_detected_from_the_text() -> None:
    assert screen("i feel really alone today and nobody cares").language == "en"


def test_given_language_is_kept() -> None:
    for code in detector.rules().languages:
        assert screen("hello", lang=code).language == code


def test_internal_error_answers_concern_not_silence(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(detector, "_screen", broken)
    assessment = screen("anything")
    assert assessment.level is Level.CONCERN


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_text_gets_an_assessment(text: str) -> None:
    assessment = screen(text)
    assert assessment.level in (Level.NONE, Level.CONCERN, Level.CRISIS)


@pytest.mark.parametrize(
    "text",
    [
        "\ud800 lone surrogate \udfff kill myself",
        "\x00\x01\x02\x1b[31m control characters",
        "a" * 100_000,
        "k i l l " * 20_000,
        "kill " * 50_000,
        "(((((((((( " * 10_000,
        "😭" * 50_000,
        "x" * 1_000_000,
    ],
)
def test_pathological_input_does_not_crash(text: str) -> None:
    assert screen(text).level in (Level.NONE, Level.CONCERN, Level.CRISIS)


def test_lone_surrogates_do_not_hide_a_crisis() -> None:
    assert _level("\ud800 i want to kill myself") is Level.CRISIS


def test_broken_rule_file_names_file_line_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "xx.yaml"
    path.write_text(
        "language: xx\nrules:\n  bad:\n    level: crisis\n    categories: [suicide]\n"
        "    patterns: ['(kill myself']\n",
        encoding="utf-8",
    )
    with pytest.raises(PatternError) as error:
        load_rules([path])
    assert "xx.yaml:4" in str(error.value)
    assert "never closed" in str(error.value)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("level: urgent\n    categories: [suicide]\n    patterns: [x]", "level must be"),
        ("level: crisis\n    categories: [sadness]\n    patterns: [x]", "unknown category"),
        (
            "level: crisis\n    categories: [suicide]\n    patterns: ['@nogroup x']",
            "unknown group",
        ),
        ("level: crisis\n    categories: [suicide]\n    patterns: ['a ..20 b']", "a gap is"),
        ("level: crisis\n    categories: [suicide]\n    patterns: ['[maybe]']", "nothing at all"),
        (
            "level: crisis\n    categories: [suicide]\n    colour: red\n    patterns: [x]",
            "unknown key",
        ),
    ],
)
def test_rule_files_are_validated_at_load(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "xx.yaml"
    path.write_text(f"language: xx\nrules:\n  r:\n    {body}\n", encoding="utf-8")
    with pytest.raises(PatternError, match=problem):
        load_rules([path])


def test_shipped_rules_load_for_all_four_languages() -> None:
    assert {"en"} <= set(detector.rules().languages)
