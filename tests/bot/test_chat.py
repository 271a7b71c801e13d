"""`safeplace chat`: every exercise runs end to end in English and Spanish in the terminal."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.chat import chat
from bot.config import Settings
from flows.engine import Library

FLOWS = sorted(info.id for info in Library.load().flows("en"))
LANGUAGES = ("en", "es")
CHOICE = re.compile(r"^  \[(\d+)\] (.*)$")


class Script(io.StringIO):
    """Fixed lines for the terminal, as a person would type them."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines) + "\n")


class Walker:
    """The person at the terminal: types what the last message shows, until the flow ends.

    It presses the least-pressed choice that is not Stop, so loops such as "try another
    push-back" are left in the end, and types a few words where an answer is asked.
    """

    def __init__(self, out: io.StringIO, opening: list[str], language: str) -> None:
        self._out = out
        self._pending = list(opening)
        self._stop = {"en": "Stop", "es": "Parar"}[language]
        self._skip = {"en": "Skip", "es": "Saltar"}[language]
        self._pressed: dict[str, int] = {}
        self.steps = 0
        self.ended = False

    def __iter__(self) -> Walker:
        return self

    def __next__(self) -> str:
        if self._pending:
            return self._pending.pop(0) + "\n"
        self.steps += 1
        choices = [c for c in _choices(self._out.getvalue()) if c != self._stop]
        if not choices or self.steps > MAX_STEPS:
            self.ended = not choices
            raise StopIteration
        if choices == [self._skip]:  # a question that waits for typed words
            return "a few quiet words\n"
        choice = min(choices, key=lambda label: self._pressed.get(label, 0))
        self._pressed[choice] = self._pressed.get(choice, 0) + 1
        return choice + "\n"


MAX_STEPS = 80


async def _talk(settings: Settings, lines: list[str], person: int, language: str) -> str:
    out = io.StringIO()
    await chat(settings, Script(lines), out, person=person, language=language)
    return out.getvalue()


def _choices(transcript: str) -> list[str]:
    """Return the numbered choices under the last message the terminal showed."""
    lines = transcript.splitlines()
    spoken = [index for index, line in enumerate(lines) if line.startswith("SafePlace:")]
    if not spoken:
        return []
    found = (CHOICE.match(line) for line in lines[spoken[-1] :])
    return [match.group(2) for match in found if match]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("flow_id", FLOWS)
async def test_every_exercise_runs_to_its_end_in_the_terminal(
    sqlite_settings_at: Settings, flow_id: str, language: str
) -> None:
    language_button = {"en": "English", "es": "Español"}[language]
    title = Library.load().flow(flow_id).title.in_language(language)
    out = io.StringIO()
    walker = Walker(out, ["/start", language_button, "/flows", title], language)
    await chat(sqlite_settings_at, walker, out, person=4000, language=language)  # type: ignore[arg-type]
    transcript = out.getvalue()
    assert walker.ended, f"{flow_id} ({language}) did not end within {MAX_STEPS} steps"
    assert walker.steps > 2
    assert "Traceback" not in transcript


async def test_commands_work_in_the_terminal(sqlite_settings_at: Settings) -> None:
    transcript = await _talk(
        sqlite_settings_at,
        ["/start", "English", "/resources germany", "/plan", "/stop", "/privacy"],
        person=4999,
        language="en",
    )
    assert "Crisis lines for Germany" in transcript
    assert "safety plan" in transcript
    assert "nothing to stop" in transcript
    assert "What SafePlace keeps" in transcript


async def test_a_crisis_in_the_terminal_gets_resources(
    sqlite_settings_at: Settings, tmp_path: Path
) -> None:
    transcript = await _talk(
        sqlite_settings_at, ["/start", "English", "i want to kill myself"], 4998, "en"
    )
    assert "glad you told me" in transcript
