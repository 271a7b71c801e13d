"""The flow engine: transcripts, stopping, resuming, changed flows, stale buttons, effects."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

import flows.engine
from flows.engine import (
    Keep,
    Library,
    Press,
    Progress,
    Reply,
    StartedFlow,
    Text,
    Turn,
    UnknownFlow,
)
from flows.schema import DATA_DIRECTORY, ENGINE_FILE, KeepKind

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPTS = sorted((FIXTURES / "transcripts").glob("*.yaml"))
CONTEXT = {"crisis_lines": "Test line: 000"}


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load()


@pytest.fixture
def test_library(tmp_path: Path) -> Library:
    """The shipped engine words and grounding, plus the engine-test flow."""
    for name in (ENGINE_FILE, "grounding.yaml"):
        shutil.copy(DATA_DIRECTORY / name, tmp_path / name)
    shutil.copy(FIXTURES / "library" / "kind_note.yaml", tmp_path / "kind_note.yaml")
    return Library.load(tmp_path)


def _button(reply: Reply, label: str) -> Press:
    matches = [button for button in reply.buttons if button.label == label]
    assert matches, f"no button {label!r} under {reply.id}: {[b.label for b in reply.buttons]}"
    return reply.press(matches[0])


def _state(turn: Turn) -> str | None:
    return turn.progress.state if turn.progress else None


def _at(library: Library, state: str, language: str = "en", **answers: str) -> Progress:
    flow = library.flow("grounding")
    return Progress("grounding", flow.version, state, answers, language)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[path.stem for path in TRANSCRIPTS])
def test_transcript(library: Library, path: Path) -> None:
    script: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    context: Mapping[str, str] = script.get("context", {})
    turn = library.start(script["flow"], script["language"], context)
    assert [reply.id for reply in turn.replies] == script["start"]
    for number, step in enumerate(script["steps"], start=1):
        assert turn.progress is not None, f"step {number}: the flow already ended"
        if "press" in step:
            given: Press | Text = _button(turn.replies[-1], step["press"])
        elif "old_press" in step:
            old = step["old_press"]
            given = Press(script["flow"], old["version"], old["state"], old["choice"])
        else:
            given = Text(step["text"])
        turn = library.handle(turn.progress, given, context)
        assert [reply.id for reply in turn.replies] == step["replies"], f"step {number}"
        assert _state(turn) == step["state"], f"step {number}"
        for words in step.get("contains", []):
            assert words in "\n".join(reply.text for reply in turn.replies), f"step {number}"


@pytest.mark.parametrize("language", ["en", "es"])
def test_transcripts_visit_every_grounding_step_with_words(
    library: Library, language: str
) -> None:
    visited: set[str] = set()
    for path in TRANSCRIPTS:
        script = yaml.safe_load(path.read_text(encoding="utf-8"))
        if script["language"] == language:
            visited |= set(script["start"])
            visited |= {reply for step in script["steps"] for reply in step["replies"]}
    flow = library.flow("grounding")
    assert visited >= {state.id for state in flow.states.values() if state.say is not None}


def test_stop_works_from_any_step(library: Library) -> None:
    for state in library.flow("grounding").states.values():
        for language, words in (("en", "Okay, we've stopped"), ("es", "De acuerdo")):
            turn = library.stop(_at(library, state.id, language))
            assert turn.progress is None and turn.effects == ()
            assert [reply.id for reply in turn.replies] == ["notice:stopped"]
            assert turn.replies[0].text.startswith(words)


def test_stop_button_is_offered_on_every_waiting_step_but_the_first(library: Library) -> None:
    flow = library.flow("grounding")
    for state in flow.states.values():
        if not state.waits:
            continue
        reply = library.resume(_at(library, state.id), CONTEXT).replies[-1]
        choices = [button.choice for button in reply.buttons]
        assert ("stop" in choices) is (state.id != flow.start), state.id
        assert ("skip" in choices) is (state.ask is not None), state.id


def test_typed_stop_on_an_ask_step_is_kept_as_the_answer(library: Library) -> None:
    turn = library.handle(_at(library, "see"), Text("Stop"))
    assert _state(turn) == "touch"
    assert turn.progress is not None and turn.progress.answers == {"seen": "Stop"}


def test_resume_shows_the_current_step_again(library: Library) -> None:
    progress = _at(library, "hear", "es", seen="una taza")
    turn = library.resume(progress)
    assert turn.progress == progress
    assert [reply.id for reply in turn.replies] == ["hear"]
    assert [button.label for button in turn.replies[0].buttons] == ["Saltar", "Parar"]
    assert turn.effects == ()


def test_resume_after_a_version_change_keeps_a_step_that_still_exists(
    library: Library,
) -> None:
    old = replace(_at(library, "smell", seen="a cup"), version=0)
    turn = library.resume(old)
    assert turn.progress == replace(old, version=library.flow("grounding").version)
    assert [reply.id for reply in turn.replies] == ["smell"]


@pytest.fixture
def changed_library(tmp_path: Path) -> Library:
    """Grounding at version 2, where the 'touch' step no longer exists."""
    text = (DATA_DIRECTORY / "grounding.yaml").read_text(encoding="utf-8")
    start, end = text.index("  touch:\n"), text.index("  hear:\n")
    text = (text[:start] + text[end:]).replace("version: 1", "version: 2")
    (tmp_path / "grounding.yaml").write_text(text.replace("next: touch", "next: hear"))
    shutil.copy(DATA_DIRECTORY / ENGINE_FILE, tmp_path / ENGINE_FILE)
    return Library.load(tmp_path)


def test_resume_at_a_step_that_no_longer_exists_offers_a_fresh_start(
    changed_library: Library,
) -> None:
    old = Progress("grounding", 1, "touch", {"seen": "a cup"}, "en")
    turn = changed_library.resume(old)
    assert turn.progress == old
    [reply] = turn.replies
    assert reply.id == "notice:flow_changed"
    assert [(b.label, b.choice) for b in reply.buttons] == [
        ("Start again", "restart"),
        ("Not now", "not_now"),
    ]
    restarted = changed_library.handle(old, reply.press(reply.buttons[0]))
    assert [r.id for r in restarted.replies] == ["intro"]
    assert restarted.progress == Progress("grounding", 2, "intro", {}, "en")
    declined = changed_library.handle(old, reply.press(reply.buttons[1]))
    assert declined.progress is None
    assert [r.id for r in declined.replies] == ["notice:stopped"]


def test_anything_else_at_a_vanished_step_repeats_the_offer(changed_library: Library) -> None:
    old = Progress("grounding", 1, "touch", {}, "es")
    for given in (Text("my sleeve"), Press("grounding", 1, "touch", "0")):
        turn = changed_library.handle(old, given)
        assert turn.progress == old
        assert [reply.id for reply in turn.replies] == ["notice:flow_changed"]
        assert turn.replies[0].text.startswith("Este ejercicio ha cambiado")
    assert changed_library.handle(old, Text("Empezar de nuevo")).replies[0].id == "intro"


def test_a_flow_that_is_gone_ends_gently(library: Library) -> None:
    for turn in (
        library.resume(Progress("vanished", 3, "somewhere", {}, "en")),
        library.handle(Progress("vanished", 3, "somewhere", {}, "en"), Text("hello")),
    ):
        assert turn.progress is None
        assert [reply.id for reply in turn.replies] == ["notice:flow_gone"]


def test_button_from_an_earlier_step_changes_nothing(library: Library) -> None:
    progress = _at(library, "check", seen="a cup")
    for old in (
        Press("grounding", 0, "check", "0"),
        Press("grounding", 1, "intro", "0"),
        Press("grounding", 1, "same", "0"),
        Press("another_flow", 1, "check", "0"),
        Press("grounding", 1, "check", "7"),
        Press("grounding", 1, "check", "skip"),
    ):
        turn = library.handle(progress, old)
        assert turn.progress is progress
        assert [reply.id for reply in turn.replies] == ["notice:stale_button", "check"]
        assert turn.effects == ()


def test_free_text_where_buttons_are_expected_reoffers_them(library: Library) -> None:
    progress = _at(library, "check")
    turn = library.handle(progress, Text("I don't know"))
    assert turn.progress == progress
    [reply] = turn.replies
    assert reply.id == "notice:use_buttons"
    assert [b.label for b in reply.buttons] == [
        "A bit calmer",
        "About the same",
        "Still too much",
        "Stop",
    ]
    assert reply.press(reply.buttons[1]) == Press("grounding", 1, "check", "1")


def test_typing_a_label_counts_as_pressing_it(library: Library) -> None:
    turn = library.handle(_at(library, "check", "es"), Text("  más o menos IGUAL "))
    assert _state(turn) == "same"


def test_empty_answer_is_met_gently(library: Library) -> None:
    progress = _at(library, "see")
    turn = library.handle(progress, Text("   "))
    assert turn.progress == progress
    assert [reply.id for reply in turn.replies] == ["notice:empty_answer"]
    assert [b.choice for b in turn.replies[0].buttons] == ["skip", "stop"]


def test_answers_and_context_are_substituted(library: Library) -> None:
    turn = library.handle(_at(library, "taste", "es", seen="una {taza}"), Text("menta"))
    assert turn.replies[0].text.startswith("Te fijaste en «una {taza}»")
    context = {"crisis_lines": "Line A: 123"}
    shown = library.handle(_at(library, "still_much"), Text("Yes, show me"), context)
    assert shown.replies[0].text.endswith("\nLine A: 123")


def test_missing_context_shows_a_dash_rather_than_failing(library: Library) -> None:
    turn = library.handle(_at(library, "still_much"), Press("grounding", 1, "still_much", "0"))
    assert turn.replies[0].text.endswith(":\n—")


def test_answers_in_progress_cannot_be_changed(library: Library) -> None:
    turn = library.handle(_at(library, "see"), Text("a cup"))
    assert turn.progress is not None
    with pytest.raises(TypeError):
        turn.progress.answers["seen"] = "changed"  # type: ignore[index]


def test_keep_and_hand_over_are_effects(test_library: Library) -> None:
    turn = test_library.start("kind_note", "en")
    assert turn.progress is not None
    turn = test_library.handle(turn.progress, _button(turn.replies[-1], "Family"))
    assert turn.progress is not None and turn.progress.answers == {"who": "family"}
    turn = test_library.handle(turn.progress, Text("tired"))
    assert [reply.id for reply in turn.replies] == ["family_note", "intro"]
    assert [reply.flow_id for reply in turn.replies] == ["kind_note", "grounding"]
    assert turn.effects == (
        Keep(KeepKind.NOTE, "About family", "I feel tired.", "kind_note"),
        StartedFlow("grounding", "kind_note"),
    )
    assert turn.progress == Progress("grounding", 1, "intro", {}, "en")


def test_branch_follows_button_values_and_skipped_answers(test_library: Library) -> None:
    start = test_library.start("kind_note", "es")
    assert start.progress is not None
    work = test_library.handle(start.progress, Press("kind_note", 1, "intro", "1"))
    assert work.progress is not None
    ended = test_library.handle(work.progress, Text("cansancio"))
    assert ended.progress is None
    assert ended.effects == (
        Keep(KeepKind.REFLECTION, "Trabajo", "En el trabajo me siento cansancio.", "kind_note"),
    )
    family = test_library.handle(start.progress, Press("kind_note", 1, "intro", "0"))
    assert family.progress is not None
    skipped = test_library.handle(family.progress, Press("kind_note", 1, "feeling", "skip"))
    assert [reply.id for reply in skipped.replies] == ["no_feeling"]
    assert skipped.progress is None and skipped.effects == ()


def test_start_falls_back_to_the_first_language_of_the_flow(library: Library) -> None:
    turn = library.start("grounding", "de")
    assert turn.progress is not None and turn.progress.language == "en"
    assert turn.replies[0].text.startswith("When things feel like too much")


def test_unknown_flow_cannot_start(library: Library) -> None:
    with pytest.raises(UnknownFlow):
        library.start("no_such_flow", "en")


def test_flows_are_listed_per_language(library: Library) -> None:
    english = {info.id: info for info in library.flows("en")}
    spanish = {info.id: info for info in library.flows("es")}
    assert english["grounding"].title == "Grounding"
    assert spanish["grounding"].title == "Volver al presente"
    assert "3 minutes" in english["grounding"].description
    assert library.flows("xx") == []


def test_press_fits_in_telegram_callback_data() -> None:
    press = Press("a" * 20, 9999, "b" * 24, "restart")
    assert len(press.encode().encode()) <= 58
    assert Press.decode(press.encode()) == press
    assert Press.decode("not a press") is None
    assert Press.decode("a:1::b") is None
    assert Press.decode("a:one:b:0") is None


def test_no_machine_is_built_per_message(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Machine was built while handling a message")

    monkeypatch.setattr(flows.engine, "Machine", refuse)
    turn = library.start("grounding", "en")
    while turn.progress is not None:
        reply = turn.replies[-1]
        turn = library.handle(turn.progress, reply.press(reply.buttons[0]), CONTEXT)
    assert turn.replies[-1].id in {"goodbye", "later"}


def test_loading_all_flows_takes_well_under_half_a_second() -> None:
    began = time.perf_counter()
    Library.load()
    assert time.perf_counter() - began < 0.25
