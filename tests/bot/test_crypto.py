"""Tests for bot.crypto: tokens, keys, rotation, plaintext mode and the EncryptedText column."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Integer, MetaData, String, create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bot import crypto
from bot.crypto import (
    PLAINTEXT_PREFIX,
    Cipher,
    CipherNotConfigured,
    CryptoError,
    DecryptionFailed,
    EncryptedText,
    InvalidKey,
    active_cipher,
    generate_key,
    use_cipher,
)

# Distinctive, so a leak into a message, a log or the raw table is unmistakable.
SECRET = "He said he would find me at Marigold Street 41"

TEXTS = [
    "",
    " ",
    SECRET,
    "no, I don't want to talk about it",
    "😀 🫶🏽 👩‍👩‍👧‍👦 🏳️‍⚧️",
    "لا أريد أن أعود إلى البيت",
    "línea 1\nlínea 2\r\n\ttab",
    "nul \x00 inside",
    "\U0010ffff private use at the very end",
    "plain:this looks like a marker but is what the person wrote",
    "gAAAAAlooks like a token",
]


@pytest.fixture
def cipher() -> Cipher:
    return Cipher.from_keys(generate_key())


@pytest.fixture(autouse=True)
def no_active_cipher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without an active cipher and leaves none behind."""
    monkeypatch.setattr(crypto, "_active", None)


# Round trips


@pytest.mark.parametrize("plain", TEXTS)
def test_encrypted_text_round_trips(cipher: Cipher, plain: str) -> None:
    token = cipher.encrypt(plain)
    assert token.isascii()
    assert token.startswith("gAAAAA")
    assert cipher.decrypt(token) == plain


@pytest.mark.parametrize("plain", TEXTS)
def test_plaintext_mode_round_trips(plain: str) -> None:
    cipher = Cipher.plaintext()
    assert cipher.decrypt(cipher.encrypt(plain)) == plain


def test_100_kb_of_text_round_trips(cipher: Cipher) -> None:
    plain = ("Ich habe Angst. 😔 " * 6000)[: 100 * 1024]
    token = cipher.encrypt(plain)
    assert cipher.decrypt(token) == plain
    assert "Angst" not in token


def test_token_does_not_contain_the_text(cipher: Cipher) -> None:
    token = cipher.encrypt(SECRET)
    assert SECRET not in token
    assert "Marigold" not in token


def test_same_text_gives_a_different_token_each_time(cipher: Cipher) -> None:
    assert cipher.encrypt(SECRET) != cipher.encrypt(SECRET)


# Lone surrogates are replaced with U+FFFD, in both modes, rather than rejecting the whole answer.


@pytest.mark.parametrize("make", [Cipher.plaintext, lambda: Cipher.from_keys(generate_key())])
@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("\ud800", "\ufffd"),
        ("half an emoji \ud83d at the end", "half an emoji \ufffd at the end"),
        ("low first \ude00 then high \ud83d", "low first \ufffd then high \ufffd"),
        ("a pair as two code points \ud83d\ude00", "a pair as two code points 😀"),
    ],
)
def test_lone_surrogates_are_replaced(
    make: Callable[[], Cipher], written: str, stored: str
) -> None:
    cipher = make()
    result = cipher.decrypt(cipher.encrypt(written))
    assert result == stored
    result.encode("utf-8")  # and it is now storable anywhere


def test_encrypt_refuses_what_is_not_text(cipher: Cipher) -> None:
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes")  # type: ignore[arg-type]


# Tampering and unknown keys


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("where", [0, 1, 9, 20, 30, 40, 60, -20, -10, -5, -3])
def test_a_changed_character_is_detected(cipher: Cipher, where: int) -> None:
    token = cipher.encrypt(SECRET)
    index = where % len(token)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(_flip(token, index))


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],
        lambda t: t[: len(t) // 2],
        lambda t: t + "AAAA",
        lambda t: "",
        lambda t: "not a token",
        lambda t: t.replace("g", "ğ", 1),
        lambda t: "plain" + t,
    ],
    ids=["last char", "half", "appended", "empty", "garbage", "non-ascii", "almost plain"],
)
def test_a_damaged_token_is_rejected(cipher: Cipher, damage: Callable[[str], str]) -> None:
    token = cipher.encrypt(SECRET)
    damaged = damage(token)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(damaged)


def test_a_token_from_another_key_is_rejected(cipher: Cipher) -> None:
    other = Cipher.from_keys(generate_key())
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(other.encrypt(SECRET))


def test_decryption_failed_is_a_crypto_error() -> None:
    assert issubclass(DecryptionFailed, CryptoError)
    assert issubclass(InvalidKey, ValueError)
    assert issubclass(CipherNotConfigured, RuntimeError)


# Rotation


def test_rotation_with_two_keys() -> None:
    old_key, new_key = generate_key(), generate_key()
    old = Cipher.from_keys(old_key)
    old_token = old.encrypt(SECRET)

    both = Cipher.from_keys(f"{new_key},{old_key}")
    assert both.decrypt(old_token) == SECRET
    assert both.needs_rotation(old_token) is True

    rotated = both.rotate(old_token)
    assert rotated != old_token
    assert Cipher.from_keys(new_key).decrypt(rotated) == SECRET
    with pytest.raises(DecryptionFailed):
        old.decrypt(rotated)
    assert both.needs_rotation(rotated) is False
    assert both.rotate(rotated) == rotated


def test_new_text_is_encrypted_with_the_first_key() -> None:
    old_key, new_key = generate_key(), generate_key()
    both = Cipher.from_keys(f" {new_key} , {old_key} ")
    token = both.encrypt(SECRET)
    assert Cipher.from_keys(new_key).decrypt(token) == SECRET
    with pytest.raises(DecryptionFailed):
        Cipher.from_keys(old_key).decrypt(token)
    assert both.needs_rotation(token) is False


def test_a_retired_key_no_longer_decrypts() -> None:
    old_key, new_key = generate_key(), generate_key()
    old_token = Cipher.from_keys(old_key).encrypt(SECRET)
    with pytest.raises(DecryptionFailed):
        Cipher.from_keys(new_key).decrypt(old_token)
    with pytest.raises(DecryptionFailed):
        Cipher.from_keys(new_key).rotate(old_token)


def test_rotate_keeps_the_original_timestamp() -> None:
    old_key, new_key = generate_key(), generate_key()
    old_token = Fernet(old_key).encrypt_at_time(SECRET.encode(), current_time=1_000_000)
    rotated = Cipher.from_keys(f"{new_key},{old_key}").rotate(old_token.decode())
    assert Fernet(new_key).extract_timestamp(rotated.encode()) == 1_000_000


def test_rotate_of_a_tampered_token_fails(cipher: Cipher) -> None:
    token = _flip(cipher.encrypt(SECRET), 30)
    assert cipher.needs_rotation(token) is True
    with pytest.raises(DecryptionFailed):
        cipher.rotate(token)


# Keys


def test_generated_keys_are_valid_and_distinct() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 44
        Cipher.from_keys(key)


def _malformed() -> list[str]:
    key = generate_key()
    raw = Fernet.generate_key().decode()
    return [
        "",
        "   ",
        ",",
        "not-a-key-at-all",
        key[:-1],
        key + "A",
        key[:-1] + "A",  # no padding
        key[:20] + "!" + key[21:],
        key[:20] + "é" + key[21:],
        key[:20] + " " + key[21:],
        raw.replace("-", "+").replace("_", "/")[:43] + "+",  # standard, not url-safe, base64
        "0123456789abcdef" * 4,  # hex, as from `openssl rand -hex 32`
        f"{key},",
        f"{key},,{generate_key()}",
        f"{key},oops-{key}",
    ]


MALFORMED = _malformed()


@pytest.mark.parametrize("keys", MALFORMED, ids=[f"malformed-{i}" for i in range(len(MALFORMED))])
def test_malformed_keys_are_rejected_without_echoing_them(keys: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        Cipher.from_keys(keys)
    error = caught.value
    shown = f"{error} {error!r} {error.args}"
    assert "ENCRYPTION_KEY" in shown
    for part in [keys, *keys.split(",")]:
        part = part.strip()
        if len(part) >= 8:
            assert part not in shown
            assert part[:12] not in shown
    # No chained exception carries the key into a traceback either.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_an_error_names_which_key_is_wrong() -> None:
    with pytest.raises(InvalidKey, match="key 2 of 2"):
        Cipher.from_keys(f"{generate_key()},not-a-key")


def test_repr_never_shows_keys() -> None:
    key = generate_key()
    cipher = Cipher.from_keys(key)
    assert repr(cipher) == "Cipher(keys=1)"
    assert key not in repr(cipher) and key not in str(cipher)
    assert repr(Cipher.plaintext()) == "Cipher(plaintext)"


# Plaintext (development) mode


def test_plaintext_mode_marks_what_it_stores() -> None:
    cipher = Cipher.plaintext()
    assert cipher.is_plaintext
    assert cipher.encrypt(SECRET) == PLAINTEXT_PREFIX + SECRET
    assert PLAINTEXT_PREFIX == "plain:"


def test_a_real_cipher_reads_plaintext_rows_and_encrypts_them_on_rotation(cipher: Cipher) -> None:
    token = Cipher.plaintext().encrypt(SECRET)
    assert not cipher.is_plaintext
    assert cipher.decrypt(token) == SECRET
    assert cipher.needs_rotation(token) is True
    rotated = cipher.rotate(token)
    assert not rotated.startswith(PLAINTEXT_PREFIX)
    assert SECRET not in rotated
    assert cipher.decrypt(rotated) == SECRET
    assert cipher.needs_rotation(rotated) is False


def test_a_real_cipher_never_writes_plaintext(cipher: Cipher) -> None:
    assert not cipher.encrypt(SECRET).startswith(PLAINTEXT_PREFIX)


def test_plaintext_mode_cannot_read_encrypted_rows(cipher: Cipher) -> None:
    plain = Cipher.plaintext()
    token = cipher.encrypt(SECRET)
    with pytest.raises(DecryptionFailed, match="no ENCRYPTION_KEY"):
        plain.decrypt(token)
    assert plain.needs_rotation(token) is True
    with pytest.raises(DecryptionFailed):
        plain.rotate(token)


def test_plaintext_rows_need_no_rotation_in_plaintext_mode() -> None:
    plain = Cipher.plaintext()
    token = plain.encrypt(SECRET)
    assert plain.needs_rotation(token) is False
    assert plain.rotate(token) == token


# Nothing sensitive in errors or logs


def _errors_from_every_failure(cipher: Cipher) -> list[BaseException]:
    token = cipher.encrypt(SECRET)
    attempts: list[Callable[[], object]] = [
        lambda: cipher.decrypt(_flip(token, 40)),
        lambda: cipher.decrypt(token[:-3]),
        lambda: Cipher.from_keys(generate_key()).decrypt(token),
        lambda: Cipher.from_keys(generate_key()).rotate(token),
        lambda: Cipher.plaintext().decrypt(token),
        lambda: Cipher.from_keys(SECRET),
        lambda: Cipher.from_keys(f"{generate_key()},{SECRET}"),
        lambda: cipher.encrypt(SECRET.encode()),  # type: ignore[arg-type]
        lambda: active_cipher().encrypt(SECRET),
    ]
    errors: list[BaseException] = []
    for attempt in attempts:
        with pytest.raises(Exception) as caught:
            attempt()
        errors.append(caught.value)
    return errors


def test_no_error_message_contains_the_text_or_the_token(cipher: Cipher) -> None:
    token = cipher.encrypt(SECRET)
    for error in _errors_from_every_failure(cipher):
        shown = f"{error} {error!r} {error.args} {error.__cause__!r} {error.__context__!r}"
        assert "Marigold" not in shown, type(error)
        assert token[:20] not in shown, type(error)


def test_nothing_sensitive_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    key = generate_key()
    caplog.set_level(logging.DEBUG)
    cipher = Cipher.from_keys(key)
    use_cipher(cipher)
    use_cipher(Cipher.plaintext())
    use_cipher(None)
    token = cipher.rotate(cipher.encrypt(SECRET))
    cipher.decrypt(token)
    _errors_from_every_failure(cipher)
    assert "Marigold" not in caplog.text
    assert key not in caplog.text
    assert token[:20] not in caplog.text
    assert "1 key(s)" in caplog.text
    assert "unencrypted" in caplog.text


# The EncryptedText column


class Base(DeclarativeBase):
    metadata = MetaData()


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="note")
    body: Mapped[str] = mapped_column(EncryptedText)
    extra: Mapped[str | None] = mapped_column(EncryptedText)


@pytest.fixture
def engine() -> Iterator[Engine]:
    # hide_parameters keeps bound values (the plaintext, before encryption) out of SQLAlchemy's
    # error messages; storage must create its engines the same way.
    engine = create_engine("sqlite://", hide_parameters=True)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _raw(engine: Engine) -> list[tuple[str | None, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT body, extra FROM note ORDER BY id"))
        return [(row[0], row[1]) for row in rows]


def test_a_stored_row_is_encrypted_in_the_table_and_decrypted_on_read(
    engine: Engine, cipher: Cipher
) -> None:
    use_cipher(cipher)
    with Session(engine) as session, session.begin():
        session.add(Note(body=SECRET, extra="😀"))

    [(body, extra)] = _raw(engine)
    assert body is not None and extra is not None
    assert "Marigold" not in body and "😀" not in extra
    assert body.startswith("gAAAAA")
    assert cipher.decrypt(body) == SECRET

    with Session(engine) as session:
        note = session.scalars(select(Note)).one()
        assert note.body == SECRET
        assert note.extra == "😀"


def test_null_stays_null_and_can_be_queried(engine: Engine, cipher: Cipher) -> None:
    use_cipher(cipher)
    with Session(engine) as session, session.begin():
        session.add_all([Note(body="a", extra=None), Note(body="b", extra="c")])

    assert _raw(engine)[0][1] is None
    with Session(engine) as session:
        assert session.scalars(select(Note.body).where(Note.extra.is_(None))).all() == ["a"]
        assert session.scalars(select(Note.body).where(Note.extra.is_not(None))).all() == ["b"]


def test_an_update_is_encrypted_too(engine: Engine, cipher: Cipher) -> None:
    use_cipher(cipher)
    with Session(engine) as session, session.begin():
        note = Note(body="first")
        session.add(note)
        session.flush()
        note_id = note.id
    with Session(engine) as session, session.begin():
        session.get_one(Note, note_id).body = SECRET

    [(body, _)] = _raw(engine)
    assert body is not None and "Marigold" not in body
    with Session(engine) as session:
        assert session.get_one(Note, note_id).body == SECRET


def test_comparing_an_encrypted_column_with_a_value_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot be compared"):
        select(Note).where(Note.body == SECRET)
    with pytest.raises(TypeError, match="cannot be compared"):
        select(Note).where(Note.body.in_([SECRET]))


def test_writing_before_a_cipher_is_set_fails_and_writes_nothing(engine: Engine) -> None:
    with pytest.raises(StatementError) as caught, Session(engine) as session, session.begin():
        session.add(Note(body=SECRET))
    assert isinstance(caught.value.orig, CipherNotConfigured)
    assert "use_cipher" in str(caught.value)
    assert "Marigold" not in str(caught.value)
    assert _raw(engine) == []


def test_reading_before_a_cipher_is_set_fails(engine: Engine, cipher: Cipher) -> None:
    use_cipher(cipher)
    with Session(engine) as session, session.begin():
        session.add(Note(body=SECRET))
    use_cipher(None)
    with pytest.raises(CipherNotConfigured), Session(engine) as session:
        session.scalars(select(Note)).one()


def test_reading_with_the_wrong_key_fails_without_the_text(engine: Engine, cipher: Cipher) -> None:
    use_cipher(cipher)
    with Session(engine) as session, session.begin():
        session.add(Note(body=SECRET))
    use_cipher(Cipher.from_keys(generate_key()))
    with pytest.raises(DecryptionFailed) as caught, Session(engine) as session:
        session.scalars(select(Note)).one()
    assert "Marigold" not in str(caught.value)


def test_a_development_database_is_readable_and_rotatable_with_a_real_key(
    engine: Engine, cipher: Cipher
) -> None:
    use_cipher(Cipher.plaintext())
    with Session(engine) as session, session.begin():
        session.add(Note(body=SECRET))
    assert _raw(engine) == [(PLAINTEXT_PREFIX + SECRET, None)]

    use_cipher(cipher)
    with Session(engine) as session:
        assert session.scalars(select(Note.body)).one() == SECRET

    # What `safeplace keys rotate` will do: rewrite the raw tokens that need it.
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, body FROM note")).all()
        for row_id, token in rows:
            if cipher.needs_rotation(token):
                connection.execute(
                    text("UPDATE note SET body = :body WHERE id = :id"),
                    {"body": cipher.rotate(token), "id": row_id},
                )
    [(body, _)] = _raw(engine)
    assert body is not None and "Marigold" not in body
    with Session(engine) as session:
        assert session.scalars(select(Note.body)).one() == SECRET


def test_the_type_is_cacheable() -> None:
    assert EncryptedText.cache_ok is True
    assert EncryptedText().python_type is str


async def test_the_column_works_through_an_async_session(tmp_path: Path, cipher: Cipher) -> None:
    use_cipher(cipher)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'crypto.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            session.add(Note(body=SECRET))
        async with engine.connect() as connection:
            raw = (await connection.execute(text("SELECT body FROM note"))).scalar_one()
        assert "Marigold" not in raw
        async with sessions() as session:
            assert (await session.scalars(select(Note.body))).one() == SECRET
    finally:
        await engine.dispose()
