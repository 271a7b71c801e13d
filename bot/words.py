"""The bot's own sentences, loaded from bot/data/<language>.yaml and checked at load."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent / "data"
FALLBACK = "en"


class WordsError(ValueError):
    """A language file that is missing keys or is not a mapping of texts."""


@dataclass(frozen=True)
class Words:
    """Every bot sentence, per language, with English as the fallback."""

    texts: dict[str, dict[str, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts))

    def language(self, code: str | None) -> str:
        """Return the supported language for a code like "es-MX", or the fallback."""
        short = (code or "").split("-")[0].split("_")[0].lower()
        return short if short in self.texts else FALLBACK

    def say(self, language: str, key: str, **fields: str) -> str:
        texts = self.texts.get(language) or self.texts[FALLBACK]
        template = texts.get(key) or self.texts[FALLBACK][key]
        return template.format(**fields) if fields else template


@lru_cache(maxsize=1)
def words() -> Words:
    return load_words()


def load_words(directory: Path = DATA_DIR) -> Words:
    """Load every language file; raise WordsError naming each missing or extra key."""
    texts: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise WordsError(f"{path}: expected a mapping of keys to texts")
        texts[path.stem] = {str(key): value for key, value in data.items()}
    if FALLBACK not in texts:
        raise WordsError(f"{directory}: no {FALLBACK}.yaml")
    reference = texts[FALLBACK]
    problems: list[str] = []
    for language, entries in texts.items():
        for key in reference.keys() - entries.keys():
            problems.append(f"{directory / language}.yaml: missing {key!r}")
        for key in entries.keys() - reference.keys():
            problems.append(f"{directory / language}.yaml: unknown key {key!r}")
        for key in reference.keys() & entries.keys():
            if _fields(entries[key]) != _fields(reference[key]):
                problems.append(f"{directory / language}.yaml: {key!r} has other {{fields}}")
    if problems:
        raise WordsError("\n".join(problems))
    return Words(texts)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
