"""`safeplace resources` prints a country's crisis resources as text or JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "resources", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )


def test_json_for_germany_lists_the_german_lines_with_sources() -> None:
    result = run("de", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["code"] == "DE"
    assert data["emergency"] == "112"
    phones = {entry["phone"] for entry in data["resources"]}
    assert {"112", "0800 111 0 111", "116 016", "116 111"} <= phones
    assert all(entry["source"] and entry["checked"] for entry in data["resources"])


def test_country_names_work_on_the_command_line() -> None:
    result = run("Royaume-Uni")
    assert result.returncode == 0, result.stderr
    assert "United Kingdom (GB)" in result.stdout
    assert result.stdout.index("999") < result.stdout.index("Samaritans")


def test_without_a_country_the_international_list_is_printed() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "no single emergency number" in result.stdout
    assert "findahelpline.com" in result.stdout


def test_an_unknown_country_exits_2_with_a_message_on_stderr() -> None:
    result = run("narnia")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "narnia" in result.stderr
    assert "Known countries" in result.stderr
