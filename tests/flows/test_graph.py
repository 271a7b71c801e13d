"""Flow diagrams: DOT generated from the YAML, rendered only where Graphviz is installed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from flows.graph import GraphvizMissing, to_dot, write_graph
from flows.schema import DATA_DIRECTORY, Flow, State, Words, read_flow

BROKEN = Path(__file__).parent / "fixtures" / "broken"


def _grounding() -> Flow:
    flow, problems = read_flow(DATA_DIRECTORY / "grounding.yaml")
    assert flow is not None and problems == []
    return flow


def _edges(dot: str) -> set[tuple[str, str, str]]:
    edge = r'^  "([^"]+)" -> "([^"]+)"(?: \[(?:label="([^"]*)")?)?'
    found = re.findall(edge, dot, re.MULTILINE)
    return {(source, target, label) for source, target, label in found}


def test_every_step_is_a_node_and_every_way_an_edge() -> None:
    flow = _grounding()
    dot = to_dot(flow, "en")
    assert dot.startswith('digraph "grounding" {') and dot.endswith("}\n")
    for state in flow.states:
        assert re.search(rf'^  "{state}" \[label="{state}', dot, re.MULTILINE), state
    edges = _edges(dot)
    assert ("_start", "intro", "") in edges
    assert ("intro", "settle", "Start") in edges
    assert ("see", "touch", "answer or skip") in edges
    assert ("recap", "noticed", "if seen answered") in edges
    assert ("recap", "breathe", "otherwise") in edges
    expected = sum(len(state.edges()) for state in flow.states.values())
    skips_merged = sum(1 for state in flow.states.values() if state.ask)
    assert len(edges) == expected - skips_merged + 1


def test_labels_and_texts_follow_the_language() -> None:
    dot = to_dot(_grounding(), "es")
    assert ("check", "same", "Más o menos igual") in _edges(dot)
    assert "Volver al presente (grounding v1, es)" in dot
    assert "Mira a tu alrededor." in dot


def test_end_steps_branches_and_questions_look_different() -> None:
    dot = to_dot(_grounding(), "en")
    assert re.search(r'^  "goodbye" \[.*peripheries=2', dot, re.MULTILINE)
    assert re.search(r'^  "recap" \[.*shape=diamond', dot, re.MULTILINE)
    assert re.search(r'^  "see" \[.*typed answer kept as \{seen\}.*shape=note', dot, re.MULTILINE)


def test_quotes_and_backslashes_are_escaped() -> None:
    say = Words({"en": 'She said "no" \\ and meant it'}, 1)
    flow = Flow(
        id="quoted",
        version=1,
        languages=("en",),
        title=Words({"en": 'A "title"'}, 1),
        description=Words({"en": "d"}, 1),
        context=(),
        start="only",
        states={"only": State(id="only", line=1, say=say, end=True)},
        path=Path("quoted.yaml"),
    )
    dot = to_dot(flow, "en")
    assert 'She said \\"no\\" \\\\ and meant it' in dot
    assert 'A \\"title\\" (quoted v1, en)' in dot


def test_a_missing_step_is_drawn_in_red() -> None:
    flow, _ = read_flow(BROKEN / "unknown_target.yaml")
    assert flow is not None
    dot = to_dot(flow, "en")
    assert '"nowhere" [label="nowhere (missing)", color=red' in dot


def test_hand_over_is_drawn_as_another_flow() -> None:
    flow, _ = read_flow(BROKEN / "unknown_flow.yaml")
    assert flow is not None
    dot = to_dot(flow, "en")
    assert '"intro" -> "flow:breathing_deeply";' in dot
    assert '"flow:breathing_deeply" [label="goes on with the flow breathing_deeply"' in dot


def test_dot_file_is_written(tmp_path: Path) -> None:
    target = tmp_path / "grounding.dot"
    write_graph(_grounding(), "en", target)
    assert target.read_text(encoding="utf-8") == to_dot(_grounding(), "en")


def test_svg_without_graphviz_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="install Graphviz"):
        write_graph(_grounding(), "en", tmp_path / "grounding.svg")
    assert not (tmp_path / "grounding.svg").exists()


def test_svg_is_rendered_by_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dot = tmp_path / "dot"
    fake_dot.write_text(
        "#!/bin/sh\n# a stand-in for Graphviz: record the arguments and input\n"
        'echo "$@" > "$0.args"\ncat > "$0.input"\n'
    )
    fake_dot.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake_dot))
    write_graph(_grounding(), "en", tmp_path / "out.svg")
    assert (tmp_path / "dot.args").read_text().split() == [
        "-Tsvg",
        "-o",
        str(tmp_path / "out.svg"),
    ]
    assert (tmp_path / "dot.input").read_text() == to_dot(_grounding(), "en")


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot draw a .txt file"):
        write_graph(_grounding(), "en", tmp_path / "grounding.txt")
