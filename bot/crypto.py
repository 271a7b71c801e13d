"""Encryption at rest for the free text people write, and the column type that applies it.

Why Fernet (through ``MultiFernet``) and not AES-256-GCM with a key id prefix: Fernet is a
complete, versioned token format kept by the ``cryptography`` maintainers (AES-128-CBC with a
random IV, then HMAC-SHA256 over everything, verified before anything is decrypted). We write no
nonce handling, framing or padding of our own, and ``MultiFernet`` already does "encrypt with the
newest key, decrypt with any, re-encrypt on rotation". What it costs, and why that is acceptable:
AES-128 rather than 256 (still far beyond any realistic attack on this data); tokens carry the time
they were written (the rows around them already carry dates); and tokens name no key, so
``needs_rotation`` tries the newest key (one HMAC check per row, only in the rotation command).

Token formats, told apart by their first characters:
- a Fernet token (url-safe base64, always starts with ``gAAAAA``) for encrypted text;
- ``plain:`` followed by the text, written only by ``Cipher.plaintext()`` (development). Any
  cipher reads these, so a development database stays readable after a real key is configured,
  and ``rotate`` encrypts such rows with that key.

Lone surrogates (half of a UTF-16 pair, which a forged JSON update can carry) are not characters
and no UTF-8 database column can hold them. Rather than reject the whole answer, ``encrypt``
replaces each with U+FFFD, the replacement character; a well-formed surrogate pair that arrives as
two code points is joined into its character. Everything else round-trips exactly.

Errors never include the text, the token or a key, so they are safe to log and to report.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

PLAINTEXT_PREFIX = "plain:"
GENERATE_KEY_COMMAND = 'python -c "from bot.crypto import generate_key; print(generate_key())"'

# A Fernet key is 32 bytes in url-safe base64: 43 characters and one "=" of padding. Checked here
# because base64 decoding on its own skips stray characters instead of rejecting them.
_FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")


class CryptoError(Exception):
    """Base class for errors from this module; messages never hold text, tokens or keys."""


class InvalidKey(CryptoError, ValueError):
    """ENCRYPTION_KEY is missing, empty or not a Fernet key."""


class DecryptionFailed(CryptoError):
    """A token was tampered with, truncated, or written with a key this cipher does not hold."""


class CipherNotConfigured(CryptoError, RuntimeError):
    """An encrypted column was used before `use_cipher` was called at startup."""


def generate_key() -> str:
    """Return a new random key for ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


class Cipher:
    """Encrypts text with the newest key and decrypts it with any configured key."""

    __slots__ = ("_fernets", "_multi")

    def __init__(self, fernets: list[Fernet]) -> None:
        """Use `from_keys` or `plaintext` rather than calling this directly."""
        self._fernets = fernets
        self._multi = MultiFernet(fernets) if fernets else None

    @classmethod
    def from_keys(cls, keys: str) -> Cipher:
        """Build a cipher from ENCRYPTION_KEY: one key, or several comma-separated, newest first."""
        parts = [part.strip() for part in keys.split(",")]
        if not any(parts):
            raise InvalidKey(
                f"ENCRYPTION_KEY is empty; generate a key with: {GENERATE_KEY_COMMAND}"
            )
        return cls([_fernet(part, number, len(parts)) for number, part in enumerate(parts, 1)])

    @classmethod
    def plaintext(cls) -> Cipher:
        """Build a development cipher that stores text unencrypted, marked with ``plain:``."""
        return cls([])

    @property
    def is_plaintext(self) -> bool:
        """Whether this cipher stores text unencrypted (development only)."""
        return self._multi is None

    @property
    def key_count(self) -> int:
        """How many keys this cipher holds (0 in plaintext mode)."""
        return len(self._fernets)

    def encrypt(self, text: str) -> str:
        """Return a token for text: encrypted with the newest key, or marked plain in development."""
        data = _utf8(text)
        if self._multi is None:
            return PLAINTEXT_PREFIX + data.decode("utf-8")
        return self._multi.encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the text inside a token; raise DecryptionFailed if no key here can read it."""
        if token.startswith(PLAINTEXT_PREFIX):
            return token.removeprefix(PLAINTEXT_PREFIX)
        if self._multi is None:
            raise DecryptionFailed(_NO_KEY)
        return _text(self._multi, token)

    def needs_rotation(self, token: str) -> bool:
        """Return whether the token is not (yet) written with this cipher's newest key."""
        if token.startswith(PLAINTEXT_PREFIX):
            return self._multi is not None
        if not self._fernets:
            return True
        try:
            _text(self._fernets[0], token)
        except DecryptionFailed:
            return True
        return False

    def rotate(self, token: str) -> str:
        """Return the token written with the newest key; unchanged if it already is.

        Raises DecryptionFailed when no configured key can read the token.
        """
        if not self.needs_rotation(token):
            return token
        if token.startswith(PLAINTEXT_PREFIX):
            return self.encrypt(token.removeprefix(PLAINTEXT_PREFIX))
        if self._multi is None:
            raise DecryptionFailed(_NO_KEY)
        try:
            # MultiFernet.rotate keeps the token's original timestamp.
            return self._multi.rotate(_ascii(token)).decode("ascii")
        except InvalidToken:
            raise DecryptionFailed(_UNREADABLE) from None

    def __repr__(self) -> str:
        if self._multi is None:
            return "Cipher(plaintext)"
        return f"Cipher(keys={len(self._fernets)})"


_NO_KEY = "this value is encrypted but no ENCRYPTION_KEY is configured (plaintext mode)"
_UNREADABLE = (
    "a stored value could not be decrypted: wrong ENCRYPTION_KEY, or the data was altered"
)


def _fernet(key: str, number: int, count: int) -> Fernet:
    """Build one Fernet from one key, naming it by position only: the key must never be echoed."""
    which = "ENCRYPTION_KEY" if count == 1 else f"key {number} of {count} in ENCRYPTION_KEY"
    if not key:
        raise InvalidKey(f"{which} is empty (keys are separated by commas, newest first)")
    if not _FERNET_KEY.fullmatch(key):
        raise InvalidKey(
            f"{which} is not a valid key: expected 44 characters of url-safe base64 "
            f"(got {len(key)} characters); generate one with: {GENERATE_KEY_COMMAND}"
        )
    try:
        return Fernet(key)
    except ValueError:
        raise InvalidKey(
            f"{which} is not a valid key; generate one with: {GENERATE_KEY_COMMAND}"
        ) from None


def _utf8(text: str) -> bytes:
    """Encode text as UTF-8, replacing lone surrogates with U+FFFD (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"only str can be encrypted, not {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # The exception carries the whole text in its `object` attribute, so it never leaves here.
        pass
    mended = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return mended.encode("utf-8")


def _ascii(token: str) -> bytes:
    """Encode a token for Fernet; a token is always ASCII, so anything else is not one."""
    try:
        return token.encode("ascii")
    except UnicodeEncodeError:
        raise DecryptionFailed(_UNREADABLE) from None


def _text(fernet: Fernet | MultiFernet, token: str) -> str:
    """Decrypt and decode one token, turning every failure into DecryptionFailed."""
    try:
        return fernet.decrypt(_ascii(token)).decode("utf-8")
    except (InvalidToken, UnicodeDecodeError):
        raise DecryptionFailed(_UNREADABLE) from None


_active: Cipher | None = None


def use_cipher(cipher: Cipher | None) -> None:
    """Set the cipher every EncryptedText column uses; call once at startup (None unsets it)."""
    global _active
    _active = cipher
    if cipher is None:
        return
    if cipher.is_plaintext:
        logger.warning("encryption at rest is off: free text is stored unencrypted (development)")
    else:
        logger.info("encryption at rest is on with %d key(s)", cipher.key_count)


def active_cipher() -> Cipher:
    """Return the cipher set by use_cipher; raise CipherNotConfigured if there is none."""
    if _active is None:
        # Storage must never fall back to writing plaintext silently.
        raise CipherNotConfigured(
            "an encrypted column was used before bot.crypto.use_cipher() was called at startup"
        )
    return _active


class EncryptedText(TypeDecorator[str]):
    """A Text column whose values are encrypted with the active cipher on the way in and out.

    Encrypted values cannot be searched: comparing the column with a value (==, in_, like)
    raises TypeError, because each encryption of the same text gives a different token. Testing
    for NULL (``is_(None)``, ``== None``) works.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt a value before it is written."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"EncryptedText stores str, not {type(value).__name__}")
        return active_cipher().encrypt(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> str | None:
        """Decrypt a value after it is read."""
        if value is None:
            return None
        return active_cipher().decrypt(value)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        """Refuse comparisons with values: the database sees only tokens, so none would match."""
        raise TypeError(
            "an encrypted column cannot be compared with a value in SQL; "
            "select by id and compare after decrypting"
        )

    @property
    def python_type(self) -> type[str]:
        return str
