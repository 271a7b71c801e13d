"""`safeplace flows validate` and `safeplace flows graph` (the flows part of bot/cli.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main

BROKEN = Path(__file__).parent / "fixtures" / "broken"


def test_validate_shipped_flows_exits_zero_with_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["flows", "validate"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    assert "OK" in out and "grounding" in out


def test_validate_reports_file_line_and_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "unknown_target.yaml"
    assert main(["flows", "validate", str(path), str(BROKEN / "dead_end.yaml")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("unknown_target.yaml:10: step 'intro' goes to unknown step 'nowhere'")
    assert lines[1].endswith(
        "dead_end.yaml:8: step 'intro' is a dead end: give it buttons, "
        "'next', 'goto_flow' or 'end: true'"
    )
    assert lines[2] == "2 problem(s) in 2 file(s)"


def test_validate_a_missing_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "validate", "no/such/flow.yaml"]) == 1
    assert "no/such/flow.yaml:1: there is no such file" in capsys.readouterr().out


def test_graph_writes_dot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.dot"
    assert main(["flows", "graph", "grounding", "-o", str(target), "--lang", "es"]) == 0
    assert target.read_text(encoding="utf-8").startswith('digraph "grounding"')
    assert "Empezar" in target.read_text(encoding="utf-8")


def test_graph_of_a_file_with_problems_still_draws_and_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.dot"
    assert main(["flows", "graph", str(BROKEN / "unknown_target.yaml"), "-o", str(target)]) == 0
    assert "unknown step 'nowhere'" in capsys.readouterr().err
    assert "(missing)" in target.read_text(encoding="utf-8")


def test_graph_svg_without_graphviz_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["flows", "graph", "grounding", "-o", str(tmp_path / "g.svg")]) == 1
    assert "needs Graphviz's `dot` program" in capsys.readouterr().err


def test_graph_of_an_unknown_flow_or_language_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flows", "graph", "nothing_here", "-o", str(tmp_path / "g.dot")]) == 2
    assert "there is no flow 'nothing_here'" in capsys.readouterr().err
    assert (
        main(["flows", "graph", "grounding", "-o", str(tmp_path / "g.dot"), "--lang", "fr"]) == 2
    )
    assert "grounding is written in en, es" in capsys.readouterr().err
