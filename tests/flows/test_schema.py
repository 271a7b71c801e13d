"""The flow format: every kind of mistake is reported as file:line with a plain explanation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from flows.engine import Library
from flows.schema import (
    DATA_DIRECTORY,
    ENGINE_FILE,
    ConditionKind,
    InvalidFlows,
    KeepKind,
    Problem,
    fill,
    placeholders,
    read_flow,
    validate,
)

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken"
FORMAT = Path(__file__).parents[2] / "flows" / "FORMAT.md"

# Each broken fixture holds exactly one kind of mistake: (file, line, words the message says).
CASES = [
    ("yaml_syntax", 10, "not valid YAML"),
    ("unknown_key", 9, "unknown key 'sai' in step 'intro' (did you mean 'say'?)"),
    ("unknown_target", 10, "step 'intro' goes to unknown step 'nowhere'"),
    ("unreachable", 11, "step 'lonely' can never be reached"),
    ("dead_end", 8, "step 'intro' is a dead end"),
    ("missing_translation", 9, "missing its 'es' translation"),
    ("undeclared_language", 9, "'fr', which is not among the declared languages"),
    ("undefined_variable", 9, "uses {feeling}, but no step remembers it"),
    ("used_too_early", 9, "uses {feeling}, but no step that can come before it remembers"),
    ("duplicate_label", 13, "buttons 1 and 2 of step 'intro' have the same 'en' label"),
    ("duplicate_target", 13, "buttons 1 and 2 of step 'intro' both go to 'done'"),
    ("unknown_condition", 14, "unknown condition 'contains'"),
    ("unknown_flow", 10, "hands over to unknown flow 'breathing_deeply'"),
    ("missing_start", 6, "the start step 'begin' does not exist"),
    ("unquoted_no", 13, "put it in double quotes"),
    ("repeated_step", 11, "'intro' appears twice in states (first on line 8)"),
    ("silent_loop", 12, "round → again → round go round in a circle"),
    ("no_way_to_end", 15, "no way from step 'stuck' ever leads to an end"),
    ("lone_brace", 9, "has a lone { or }"),
    ("unknown_keep_kind", 11, "has kind 'diary'"),
    ("wrong_id", 1, "should match the file name 'wrong_id.yaml'"),
    ("no_otherwise", 12, "has a 'branch' but no 'otherwise'"),
    ("equals_never_set", 19, "equals 'partner', but buttons only set it to: family, work"),
    ("ask_without_next", 8, "asks for an answer but has no 'next'"),
    ("one_language_text", 9, 'needs one text per language, like {en: "...", es: "..."}'),
]


@pytest.mark.parametrize(("name", "line", "words"), CASES, ids=[case[0] for case in CASES])
def test_each_mistake_is_reported_at_its_line(name: str, line: int, words: str) -> None:
    path = BROKEN / f"{name}.yaml"
    problems = validate([path])
    assert problems, f"{name}: no problem found"
    for problem in problems:
        assert (problem.path, problem.line) == (path, line), str(problem)
        assert words in problem.message, str(problem)


def test_every_broken_fixture_has_a_case() -> None:
    assert {path.stem for path in BROKEN.glob("*.yaml")} == {case[0] for case in CASES}


def test_problem_reads_as_file_line_message() -> None:
    problem = Problem(Path("flows/data/x.yaml"), 7, "step 'a' goes to unknown step 'b'")
    assert str(problem) == "flows/data/x.yaml:7: step 'a' goes to unknown step 'b'"


def test_validating_a_directory_reports_every_file() -> None:
    problems = validate([BROKEN])
    assert {problem.path.stem for problem in problems} == {case[0] for case in CASES}


def test_shipped_flows_are_valid() -> None:
    assert validate() == []


def test_format_example_is_a_valid_flow(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(id: breathing.*?)```", FORMAT.read_text(), re.DOTALL)
    assert example is not None
    (tmp_path / "breathing.yaml").write_text(example.group(1), encoding="utf-8")
    shutil.copy(DATA_DIRECTORY / ENGINE_FILE, tmp_path / ENGINE_FILE)
    assert validate([tmp_path]) == []
    library = Library.load(tmp_path)
    assert library.start("breathing", "es").replies[0].id == "intro"


def test_engine_refuses_to_load_an_invalid_flow(tmp_path: Path) -> None:
    shutil.copy(DATA_DIRECTORY / ENGINE_FILE, tmp_path / ENGINE_FILE)
    shutil.copy(BROKEN / "unknown_target.yaml", tmp_path / "unknown_target.yaml")
    with pytest.raises(InvalidFlows) as raised:
        Library.load(tmp_path)
    assert [problem.line for problem in raised.value.problems] == [10]
    assert f"{tmp_path / 'unknown_target.yaml'}:10: step 'intro' goes to unknown step" in str(
        raised.value
    )


def test_engine_refuses_to_load_without_its_own_words(tmp_path: Path) -> None:
    shutil.copy(DATA_DIRECTORY / "grounding.yaml", tmp_path / "grounding.yaml")
    with pytest.raises(InvalidFlows, match="the engine's own words are missing"):
        Library.load(tmp_path)


def test_broken_engine_words_are_reported(tmp_path: Path) -> None:
    text = (DATA_DIRECTORY / ENGINE_FILE).read_text(encoding="utf-8")
    (tmp_path / ENGINE_FILE).write_text(text.replace("  stopped:", "  stoped:"), encoding="utf-8")
    messages = [problem.message for problem in validate([tmp_path / ENGINE_FILE])]
    assert any("unknown key 'stoped'" in message for message in messages)
    assert any("notices has no 'stopped'" in message for message in messages)


def test_flow_language_missing_from_engine_words_is_reported(tmp_path: Path) -> None:
    words = yaml.safe_load((DATA_DIRECTORY / ENGINE_FILE).read_text(encoding="utf-8"))
    words["languages"] = ["en"]
    for section in ("notices", "buttons", "stop_words"):
        for texts in words[section].values() if section != "stop_words" else [words[section]]:
            del texts["es"]
    (tmp_path / ENGINE_FILE).write_text(yaml.safe_dump(words), encoding="utf-8")
    shutil.copy(DATA_DIRECTORY / "grounding.yaml", tmp_path / "grounding.yaml")
    problems = validate([tmp_path])
    assert [problem.path.name for problem in problems] == ["grounding.yaml"]
    assert "the language 'es' is missing from _engine.yaml" in problems[0].message


def test_hand_over_to_a_flow_without_the_language_is_reported(tmp_path: Path) -> None:
    source = (BROKEN / "unknown_flow.yaml").read_text(encoding="utf-8")
    (tmp_path / "unknown_flow.yaml").write_text(
        source.replace("breathing_deeply", "english_only"), encoding="utf-8"
    )
    english = (BROKEN / "dead_end.yaml").read_text(encoding="utf-8")
    english = english.replace("id: dead_end", "id: english_only")
    english = english.replace("languages: [en, es]", "languages: [en]")
    english = re.sub(r', es: "[^"]*"', "", english) + "    end: true\n"
    (tmp_path / "english_only.yaml").write_text(english, encoding="utf-8")
    problems = validate([tmp_path])
    assert [str(problem).split(": ", 1)[1] for problem in problems] == [
        "step 'intro' hands over to 'english_only', which has no es version"
    ]


def test_flow_keeps_typed_values_with_their_lines() -> None:
    flow, problems = read_flow(DATA_DIRECTORY / "grounding.yaml")
    assert problems == [] and flow is not None
    assert flow.languages == ("en", "es")
    see = flow.states["see"]
    assert (see.ask, see.next) == ("seen", "touch")
    source_lines = (DATA_DIRECTORY / "grounding.yaml").read_text().splitlines()
    assert source_lines[see.line - 1].strip() == "see:"
    assert source_lines[see.line_of("ask") - 1].strip() == "ask: seen"
    rule = flow.states["recap"].branch[0]
    assert (rule.condition.test, rule.condition.name, rule.next) == (
        ConditionKind.ANSWERED,
        "seen",
        "noticed",
    )


def test_keep_template_is_typed(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(id: breathing.*?)```", FORMAT.read_text(), re.DOTALL)
    assert example is not None
    (tmp_path / "breathing.yaml").write_text(example.group(1), encoding="utf-8")
    flow, problems = read_flow(tmp_path / "breathing.yaml")
    assert problems == [] and flow is not None
    keep = flow.states["thanks"].keep
    assert keep is not None and keep.kind is KeepKind.REFLECTION


def test_placeholders_find_names_and_lone_braces() -> None:
    assert placeholders("I feel {feeling} when {when}") == (["feeling", "when"], True)
    assert placeholders("a {{literal}} brace") == ([], True)
    assert placeholders("a { feeling }")[1] is False
    assert placeholders("{Feeling}")[1] is False


def test_fill_never_reads_a_value_as_a_placeholder() -> None:
    text = fill("You said {feeling} {{ok}}", {"feeling": "{crisis_lines}"}, "—")
    assert text == "You said {crisis_lines} {ok}"


def test_fill_shows_the_missing_word_for_a_skipped_answer() -> None:
    assert fill("I feel {feeling}.", {}, "—") == "I feel —."
    assert fill("I feel {feeling}.", {"feeling": "  "}, "—") == "I feel —."


def test_conditions_come_from_the_allow_list_only() -> None:
    assert {test.value for test in ConditionKind} == {"answered", "not_answered", "equals"}
