"""Text normalisation: turn what people really type into plain comparable words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Look-alike letters from other scripts that people (or filters they dodge) put in place of
# Latin ones. Mapped only to the Latin letter they imitate.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w",
}  # fmt: skip

# Apostrophes of every kind vanish, so "I’m", "I'm" and "im" read the same.
_APOSTROPHES = "'’‘`´ʼʻ′"

# Characters kept inside a word for leetspeak decoding; every other symbol separates words.
_LEET_SYMBOLS = "@$!|"
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l"})  # fmt: skip

_SPLIT = re.compile(r"[^\w@$!|]+")
_INTERIOR_LEET = re.compile(r"(?<=[a-z])[0134578@$!|]+(?=[a-z])")
_LEADING_LEET = re.compile(r"^[$5](?=[a-z]{3})")
_TRAILING_LEET = re.compile(r"(?<=[a-z]{3})[0134578]{1,2}$")
_EDGE_SYMBOLS = re.compile(r"^[@$!|_]+|[@$!|_]+$")
_REPEATS = re.compile(r"(.)\1+")
_CACHE_LIMIT = 200_000


# Emoji that mean "I'm joking" read as the word people would type instead, so the idiom
# exceptions can see them ("i wanna die 😂" is a joke; "i wanna die" alone is not).
_LAUGHTER = "😂🤣😆😹💀☠😝😜🙃"


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _CONFUSABLES.items()}
    table.update({ord(emoji): " lol " for emoji in _LAUGHTER})
    table.update({ord(c.upper()): v for c, v in _CONFUSABLES.items() if c.upper() != c})
    for apostrophe in _APOSTROPHES:
        table[ord(apostrophe)] = None
    table[ord("_")] = " "
    return table


_TABLE = _build_table()


def fold(text: str) -> str:
    """Fold case, accents, look-alike letters, invisible characters and apostrophes."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
        text = text.translate(_TABLE).casefold()
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        return text
    return text.translate(_TABLE).lower()


# Format characters (zero-width spaces and joiners, direction marks), private use and
# unassigned code points, lone surrogates, and emoji modifiers vanish entirely.
_DROPPED_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cs", "Mn", "Sk"})


def split_words(folded: str, segment: Callable[[str], list[str]] | None = None) -> list[str]:
    """Split folded text into raw words, joining letters typed one at a time ("k i l l").

    `segment` splits a spelled-out run back into words ("killmyself" → "kill", "myself").
    """
    raw = _SPLIT.split(folded)
    words = [word for word in raw if word]
    if not any(len(word) == 1 for word in words):
        return words
    joined: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        _flush_letters(run, joined, segment)
        joined.append(word)
    _flush_letters(run, joined, segment)
    return joined


def _flush_letters(
    run: list[str], out: list[str], segment: Callable[[str], list[str]] | None
) -> None:
    # Three or more single letters in a row are one spelled-out word; one or two are words
    # of their own ("i", "a", "y", "o").
    if len(run) >= 3:
        spelled = "".join(run)
        out.extend(segment(spelled) if segment is not None else [spelled])
    else:
        out.extend(run)
    run.clear()


class WordCanon:
    """Canonical form of one raw word: leetspeak decoded, repeats collapsed, typos mended."""

    def __init__(self, mend: Callable[[str], str] | None = None) -> None:
        self._mend = mend
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        canon = self._cache.get(word)
        if canon is None:
            canon = self._canonical(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = canon
        return canon

    def _canonical(self, word: str) -> str:
        if not word.isalpha():
            word = _decode_leet(word)
        word = _REPEATS.sub(r"\1", word)
        if self._mend is not None and len(word) >= 4:
            word = self._mend(word)
        return word


def _decode_leet(word: str) -> str:
    if word.isdigit():
        return word
    word = _EDGE_SYMBOLS.sub("", _LEADING_LEET.sub("s", word))
    if not any(ch.isalpha() for ch in word):
        return word
    word = _INTERIOR_LEET.sub(lambda m: m.group(0).translate(_LEET), word)
    word = _TRAILING_LEET.sub(lambda m: m.group(0).translate(_LEET), word)
    # Anything still not a letter or digit is a separator the splitter let through.
    return re.sub(r"[@$!|]", "", word)


def collapse(word: str) -> str:
    """Collapse repeated letters, as every word is before matching ("killl" → "kil")."""
    return _REPEATS.sub(r"\1", word)
