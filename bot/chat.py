"""`safeplace chat`: the same conversation service and database, in a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.config import Settings
from bot.conversation import Button, Outcome, Who
from bot.services import Services

LOCAL_PERSON = -1  # Telegram ids are positive; the terminal person never collides with one


async def chat(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
               person: int = LOCAL_PERSON, language: str | None = None) -> int:  # fmt: skip
    """Talk to SafePlace line by line; buttons are numbered choices (type the number or words)."""
    services = await Services.start(settings)
    who = Who(person, language)
    write: Callable[[str], object] = stdout.write
    buttons: list[Button] = []
    try:
        write("SafePlace in the terminal. Type /start to begin, /quit to leave.\n\n")
        for raw in stdin:
            line = raw.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            outcome = await _answer(services, who, line, buttons)
            buttons = _show(outcome, write)
            stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        await services.close()
    return 0


async def _answer(services: Services, who: Who, line: str, buttons: list[Button]) -> Outcome:
    conversations = services.conversations
    if line.startswith("/"):
        name, _, argument = line[1:].partition(" ")
        return await conversations.command(who, name.lower(), argument)
    if line.isdecimal() and 1 <= int(line) <= len(buttons):
        return await conversations.press(who, buttons[int(line) - 1].data)
    for button in buttons:
        if button.label.casefold() == line.casefold():
            return await conversations.press(who, button.data)
    return await conversations.text(who, line)


def _show(outcome: Outcome, write: Callable[[str], object]) -> list[Button]:
    numbered: list[Button] = []
    for message in outcome.messages:
        if message.photo is not None:  # a terminal shows no image: its caption says it all
            write(f"SafePlace: {message.text} (chart image)\n")
        else:
            write(f"SafePlace: {message.text}\n")
        for row in message.buttons:
            for button in row:
                numbered.append(button)
                write(f"  [{len(numbered)}] {button.label}\n")
        write("\n")
    return numbered
