"""`safeplace keys rotate`: every encrypted value ends up under the newest key, nothing else moves."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Text, select, type_coerce

from bot.cli import main
from bot.config import Settings
from bot.conversation import Who
from bot.crypto import PLAINTEXT_PREFIX, Cipher, DecryptionFailed, generate_key, use_cipher
from bot.keys import encrypted_columns, rotate
from bot.services import Services
from bot.storage import items, people
from bot.storage.models import CheckIn, SavedItem
from bot.storage.session import create_engine, session_factory

OLD, NEW, STRANGER = generate_key(), generate_key(), generate_key()


def test_every_encrypted_column_is_found() -> None:
    names = {f"{column.table.name}.{column.name}" for column in encrypted_columns()}  # type: ignore[union-attr]
    assert {
        "conversation.answers",
        "saved_item.title",
        "saved_item.content",
        "check_in.note",
    } <= names


async def _fill(database_url: str) -> dict[str, str]:
    """Write one of each encrypted value under OLD, and a saved item from development."""
    services = await Services.start(Settings(database_url=database_url, encryption_key=OLD))
    try:
        conversations = services.conversations
        for telegram_id in (8001, 8002, 8003):
            who = Who(telegram_id, "en")
            await conversations.command(who, "start")
            await conversations.press(who, "f:grounding")
            await conversations.press(who, "grounding:1:intro:0")
            await conversations.text(who, f"the lamp of {telegram_id}")
        async with services.sessions.begin() as session:
            person = await people.find_person(session, 8001)
            assert person is not None
            await items.add_item(session, person.id, "boundary", "boundary", "Work", "I need rest")
            session.add(
                CheckIn(
                    person_id=person.id,
                    due_at=datetime.now(UTC),
                    day=date.today(),
                    state="sent",
                    mood=3,
                    note="a long day",
                )
            )
            session.add(
                CheckIn(
                    person_id=person.id, due_at=datetime.now(UTC), day=date.today(), state="sent"
                )
            )  # no note: NULL stays NULL
        use_cipher(Cipher.plaintext())  # a row written in development, before a key was set
        async with services.sessions.begin() as session:
            await items.add_item(session, person.id, "reflection", "safe_person", "Ana", "kind")
    finally:
        use_cipher(None)
        await services.close()
    return await _stored(database_url, Cipher.from_keys(f"{NEW},{OLD}"))


async def _raw(database_url: str) -> dict[str, str | None]:
    """Return every stored token as it is in the database, keyed by table.column:id."""
    engine = create_engine(database_url)
    found: dict[str, str | None] = {}
    try:
        async with engine.connect() as connection:
            for column in encrypted_columns():
                table = column.table
                key = next(iter(table.primary_key.columns))
                rows = await connection.execute(select(key, type_coerce(column, Text)))
                for row_key, token in rows:
                    found[f"{table.name}.{column.name}:{row_key}"] = token  # type: ignore[union-attr]
    finally:
        await engine.dispose()
    return found


async def _stored(database_url: str, cipher: Cipher) -> dict[str, str]:
    """Return every stored value decrypted with the given cipher."""
    return {
        name: cipher.decrypt(token)
        for name, token in (await _raw(database_url)).items()
        if token is not None
    }


def _rotate_with_the_command(
    monkeypatch: pytest.MonkeyPatch, folder: Path, database_url: str, keys: str, *extra: str
) -> int:
    monkeypatch.chdir(folder)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENCRYPTION_KEY", keys)
    return main(["keys", "rotate", *extra])


def test_rotation_moves_every_value_to_the_newest_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'safeplace.db'}"
    before = asyncio.run(_fill(url))
    raw = asyncio.run(_raw(url))
    assert sum(1 for token in raw.values() if token and token.startswith(PLAINTEXT_PREFIX)) == 2

    status = _rotate_with_the_command(
        monkeypatch, tmp_path, url, f"{NEW},{OLD}", "--batch-size", "2"
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "conversation.answers: 3 read, 3 re-encrypted (0 were unencrypted)" in out
    assert "saved_item.title: 2 read, 2 re-encrypted (1 were unencrypted)" in out
    assert "check_in.note: 1 read, 1 re-encrypted (0 were unencrypted)" in out
    assert "8 value(s) re-encrypted with the newest of 2 key(s)" in out
    assert "the lamp" not in out and "I need rest" not in out  # counts only, never words

    newest_only = Cipher.from_keys(NEW)
    assert asyncio.run(_stored(url, newest_only)) == before, "same words, now under NEW alone"
    after = asyncio.run(_raw(url))
    assert not any(token and token.startswith(PLAINTEXT_PREFIX) for token in after.values())
    assert [name for name, token in after.items() if token is None] == [
        name for name, token in raw.items() if token is None
    ]
    with pytest.raises(DecryptionFailed):
        Cipher.from_keys(OLD).decrypt(after[next(iter(after))] or "")

    again = _rotate_with_the_command(monkeypatch, tmp_path, url, f"{NEW},{OLD}")
    out = capsys.readouterr().out
    assert again == 0
    assert "0 value(s) re-encrypted" in out and "3 already current" in out
    assert asyncio.run(_raw(url)) == after, "a second run writes nothing"


def test_a_value_no_key_can_read_is_reported_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'safeplace.db'}"
    asyncio.run(_fill(url))
    stranger = Cipher.from_keys(STRANGER).encrypt("written with a key that was lost")

    async def plant() -> None:
        engine = create_engine(url)
        use_cipher(Cipher.from_keys(OLD))
        try:
            async with session_factory(engine).begin() as session:
                item = await session.scalar(select(SavedItem).limit(1))
                assert item is not None
                await session.execute(
                    SavedItem.__table__.update()  # type: ignore[attr-defined]
                    .where(SavedItem.id == item.id)
                    .values(content=type_coerce(stranger, Text))
                )
        finally:
            use_cipher(None)
            await engine.dispose()

    asyncio.run(plant())
    status = _rotate_with_the_command(monkeypatch, tmp_path, url, f"{NEW},{OLD}")
    captured = capsys.readouterr()
    assert status == 1
    assert "saved_item.content: 2 read, 1 re-encrypted" in captured.out
    assert "1 UNREADABLE" in captured.out
    assert "could not be decrypted with any key" in captured.err
    assert stranger in asyncio.run(_raw(url)).values(), "left exactly as it was"


def test_rotation_needs_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["keys", "rotate"]) == 2
    assert "ENCRYPTION_KEY is not set" in capsys.readouterr().err
    assert _rotate_with_the_command(monkeypatch, tmp_path, "sqlite://", "not-a-key") == 2
    error = capsys.readouterr().err
    assert "not a valid key" in error and "not-a-key" not in error


async def test_a_value_rewritten_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    """The bot may save a newer answer between the read and the write of a batch: it wins."""
    url = f"sqlite:///{tmp_path / 'safeplace.db'}"
    await _fill(url)
    newer = Cipher.from_keys(NEW).encrypt('{"seen": "a newer answer"}')

    class BotWritesMeanwhile(Cipher):
        def rotate(self, token: str) -> str:
            if not planted:  # the bot saves person 1's next answer, with the newest key
                with sqlite3.connect(tmp_path / "safeplace.db") as other:
                    other.execute(
                        "UPDATE conversation SET answers = ? WHERE person_id = 1", (newer,)
                    )
                planted.append(True)
            return super().rotate(token)

    planted: list[bool] = []
    answers = next(column for column in encrypted_columns() if column.name == "answers")
    engine = create_engine(url)
    try:
        cipher = BotWritesMeanwhile.from_keys(f"{NEW},{OLD}")
        (report,) = await rotate(engine, cipher, batch_size=10, columns=[answers])
    finally:
        await engine.dispose()
    assert (report.read, report.rotated, report.changed) == (3, 2, 1)
    assert (await _raw(url))["conversation.answers:1"] == newer
