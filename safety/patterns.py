"""The detector's data: per-language YAML rule files, validated and compiled at load."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safety.assessment import Category, Level
from safety.normalize import WordCanon, collapse, fold, split_words

DATA_DIR = Path(__file__).parent / "data" / "patterns"

SIGNAL = "signal"  # a rule level that marks context for combinations but raises nothing alone
_RULE_LEVELS = {"crisis": Level.CRISIS, "concern": Level.CONCERN, SIGNAL: Level.NONE}
_FILE_KEYS = {
    "language",
    "detect",
    "fuzzy",
    "groups",
    "rules",
    "exceptions",
    "combinations",
    "contexts",
}
_CONTEXT_KEYS = {"all_of", "none_of", "cap", "applies_to", "note"}
_RULE_KEYS = {"level", "categories", "patterns", "note"}
_EXCEPTION_KEYS = {"patterns", "cap", "note"}
_COMBINATION_KEYS = {"all_of", "any_of", "level", "categories", "note"}
_MAX_GAP = 8
_FUZZY_MIN_LENGTH = 6
_SWAP_MIN_LENGTH = 4
_FUZZY_MAX_LENGTH = 30  # longer "words" are spelled-out runs or noise; mending them is quadratic
_TOKEN = re.compile(r"\.\.\.|\.\.\d+|[()\[\]|?#]|@[a-z_]+|[^\s()\[\]|?#]+")


class PatternError(ValueError):
    """A rule file that cannot be loaded; the message names file, line and problem."""


@dataclass(frozen=True)
class Pattern:
    """One compiled phrase pattern and the word keys any match must contain."""

    owner: str
    source: str
    regex: re.Pattern[str]
    keys: frozenset[str] | None
    requires: tuple[frozenset[str], ...] = ()  # every set must meet a message's word keys


@dataclass(frozen=True)
class Exception_:
    """Words that change what overlapping matches mean: drop them, or cap their level."""

    pattern: Pattern
    cap: Level


@dataclass(frozen=True)
class Rule:
    """A named signal: its level, what it means, and the patterns that find it."""

    id: str
    language: str
    level: Level
    signal: bool
    categories: tuple[Category, ...]
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Combination:
    """A higher reading when several signals appear in one message."""

    id: str
    language: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    level: Level
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class Context:
    """A message-level reading that lowers some matches (e.g. a past stated as resolved)."""

    id: str
    language: str
    all_of: tuple[str, ...]
    none_of: tuple[str, ...]
    cap: Level
    applies_to: frozenset[Category]


@dataclass(frozen=True)
class Language:
    """Everything the detector knows about one language."""

    code: str
    detect: frozenset[str]
    rules: tuple[Rule, ...]
    exceptions: tuple[Exception_, ...]
    combinations: tuple[Combination, ...]
    contexts: tuple[Context, ...] = ()


class PatternIndex:
    """Finds the patterns worth running on a message from the message's word keys.

    Checking word keys costs set operations in C; running a regular expression costs a scan
    of the text, so most patterns never get that far.
    """

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = sorted(patterns, key=lambda pattern: pattern.owner)
        by_key: dict[str, set[int]] = {}
        unkeyed: set[int] = set()
        for number, pattern in enumerate(self.patterns):
            if pattern.keys is None:
                unkeyed.add(number)
                continue
            for key in pattern.keys:
                by_key.setdefault(key, set()).add(number)
        self._by_key = {key: frozenset(numbers) for key, numbers in by_key.items()}
        self._unkeyed = frozenset(unkeyed)
        self._requires = [pattern.requires for pattern in self.patterns]

    def candidates(self, probes: set[str]) -> list[Pattern]:
        """Return, in rule order, the patterns whose every required word could be present."""
        by_key = self._by_key
        numbers = self._unkeyed.union(*[by_key[key] for key in probes & by_key.keys()])
        patterns = self.patterns
        requires = self._requires
        chosen: list[Pattern] = []
        for number in sorted(numbers):
            for needed in requires[number]:
                if needed.isdisjoint(probes):
                    break
            else:
                chosen.append(patterns[number])
        return chosen


@dataclass
class RuleSet:
    """Every language's rules plus the word index that picks which patterns to run."""

    languages: dict[str, Language]
    canon: WordCanon
    vocabulary: frozenset[str] = frozenset()
    rules: dict[str, Rule] = field(default_factory=dict)
    rule_index: PatternIndex = field(default_factory=lambda: PatternIndex([]))
    caps: dict[int, Level] = field(default_factory=dict)
    exception_index: PatternIndex = field(default_factory=lambda: PatternIndex([]))
    combinations: tuple[Combination, ...] = ()
    contexts: tuple[Context, ...] = ()
    # Each combination with its rule names as full, language-prefixed ids (made at load).
    combination_ids: tuple[
        tuple[Combination, tuple[str, ...], tuple[tuple[str, str], ...]], ...
    ] = ()


# ---------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping as `__line__`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_rules(paths: Iterable[Path] | None = None) -> RuleSet:
    """Load, validate and compile rule files; raise PatternError listing every problem."""
    files = sorted(DATA_DIR.glob("*.yaml")) if paths is None else list(paths)
    raw_files: list[tuple[Path, dict[str, Any]]] = []
    problems: list[str] = []
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except yaml.YAMLError as error:
            problems.append(f"{path}: {error}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}:1: expected a mapping with language, rules, exceptions")
            continue
        raw_files.append((path, data))
    if problems:
        raise PatternError("\n".join(problems))

    fuzzy_words = [
        word
        for _, data in raw_files
        for entry in data.get("fuzzy") or []
        if isinstance(entry, str)
        for word in split_words(fold(entry))
    ]
    # A word some rule spells out as it is (Spanish "morir") is never "mended" into another
    # language's keyword (French "mourir"): typos are mended only for words no rule knows.
    known = {collapse(word) for _, data in raw_files for word in _literal_words(data)}
    canon = WordCanon(_typo_mender(fuzzy_words, known))
    # The languages' most common words (their `detect` lists) make poor index keys: a pattern
    # keyed on "mein" or "the" would be tried on nearly every message.
    _COMMON_KEYS.clear()
    _COMMON_KEYS.update(
        _key_of(canon(word))
        for _, data in raw_files
        for entry in data.get("detect") or []
        if isinstance(entry, str)
        for word in split_words(fold(entry))
    )
    vocabulary: set[str] = set()
    languages: dict[str, Language] = {}
    for path, data in raw_files:
        language = _compile_file(path, data, canon, vocabulary, problems)
        if language is not None:
            if language.code in languages:
                problems.append(f"{path}:1: language {language.code!r} is defined twice")
            languages[language.code] = language
    ruleset = RuleSet(languages=languages, canon=canon, vocabulary=frozenset(vocabulary))
    _index(ruleset, problems)
    if problems:
        raise PatternError("\n".join(problems))
    return ruleset


def _literal_words(data: Mapping[str, Any]) -> Iterator[str]:
    """Yield every plain word written in a rule file's patterns, groups and lists."""
    texts: list[str] = []
    for section in ("rules", "exceptions"):
        for body in (data.get(section) or {}).values():
            if isinstance(body, dict):
                texts.extend(p for p in body.get("patterns") or [] if isinstance(p, str))
    for entries in (data.get("groups") or {}).values():
        if isinstance(entries, list):
            texts.extend(entry for entry in entries if isinstance(entry, str))
    texts.extend(e for e in (data.get("detect") or []) if isinstance(e, str))
    for text in texts:
        for token in _TOKEN.findall(text):
            if token[0] not in "()[]|?#@." and not token.endswith("*"):
                yield from split_words(fold(token))


def _typo_mender(words: Iterable[str], known: set[str]) -> Callable[[str], str]:
    """Map one-letter-missing, one-letter-extra and swapped-letter typos to their word."""
    variants: dict[str, str] = {}
    keywords: set[str] = set()
    for word in words:
        word = collapse(word)
        if len(word) < _SWAP_MIN_LENGTH:
            continue
        for i in range(len(word) - 1):
            variants.setdefault(word[:i] + word[i + 1] + word[i] + word[i + 2 :], word)
        if len(word) < _FUZZY_MIN_LENGTH:
            continue
        keywords.add(word)
        for i in range(len(word)):
            variants.setdefault(word[:i] + word[i + 1 :], word)
    for word in keywords:
        variants[word] = word
    for word in known - keywords:
        variants.pop(word, None)  # a real word of some rule is never someone's typo

    def mend(token: str) -> str:
        found = variants.get(token)
        if found is not None:
            return found
        if token in known:
            return token
        if _FUZZY_MIN_LENGTH < len(token) <= _FUZZY_MAX_LENGTH:
            for i in range(len(token)):
                shorter = token[:i] + token[i + 1 :]
                if shorter in keywords:
                    return shorter
        return token

    return mend


def _compile_file(
    path: Path,
    data: dict[str, Any],
    canon: WordCanon,
    vocabulary: set[str],
    problems: list[str],
) -> Language | None:
    where = f"{path}"
    for key in data.keys() - _FILE_KEYS - {"__line__"}:
        problems.append(f"{where}:{data['__line__']}: unknown key {key!r}")
    code = data.get("language")
    if not isinstance(code, str) or not re.fullmatch(r"[a-z]{2}", code):
        problems.append(f"{where}:1: 'language' must be a two-letter code")
        return None
    groups_raw = data.get("groups") or {}
    groups: dict[str, list[str]] = {}
    for name, entries in groups_raw.items():
        if name == "__line__":
            continue
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            problems.append(f"{where}:{groups_raw['__line__']}: group {name!r} must list phrases")
            continue
        groups[name] = entries
    compiler = _Compiler(canon, groups, vocabulary)
    for name, entries in groups.items():
        for entry in entries:
            try:
                compiler.parse(entry)
            except PatternError as error:
                problems.append(f"{where}: group {name!r}: {error}")

    rules: list[Rule] = []
    for rule_id, body in _entries(data.get("rules"), where, "rules", problems):
        line = body["__line__"]
        for key in body.keys() - _RULE_KEYS - {"__line__"}:
            problems.append(f"{where}:{line}: rule {rule_id!r}: unknown key {key!r}")
        level_name = body.get("level")
        if level_name not in _RULE_LEVELS:
            problems.append(
                f"{where}:{line}: rule {rule_id!r}: level must be crisis, concern or signal"
            )
            continue
        categories = _categories(
            body.get("categories"),
            f"{where}:{line}: rule {rule_id!r}",
            problems,
            required=level_name != SIGNAL,
        )
        owner = f"{code}.{rule_id}"
        patterns = _patterns(body, owner, compiler, f"{where}:{line}", problems)
        rules.append(
            Rule(owner, code, _RULE_LEVELS[level_name], level_name == SIGNAL, categories, patterns)
        )
    exceptions: list[Exception_] = []
    for exception_id, body in _entries(data.get("exceptions"), where, "exceptions", problems):
        line = body["__line__"]
        for key in body.keys() - _EXCEPTION_KEYS - {"__line__"}:
            problems.append(f"{where}:{line}: exception {exception_id!r}: unknown key {key!r}")
        cap_name = body.get("cap", "none")
        if cap_name not in ("none", "concern"):
            problems.append(f"{where}:{line}: exception {exception_id!r}: cap is none or concern")
            continue
        cap = Level.NONE if cap_name == "none" else Level.CONCERN
        owner = f"{code}.{exception_id}"
        exceptions.extend(
            Exception_(pattern, cap)
            for pattern in _patterns(body, owner, compiler, f"{where}:{line}", problems)
        )
    combinations: list[Combination] = []
    for combination_id, body in _entries(
        data.get("combinations"), where, "combinations", problems
    ):
        line = body["__line__"]
        here = f"{where}:{line}: combination {combination_id!r}"
        for key in body.keys() - _COMBINATION_KEYS - {"__line__"}:
            problems.append(f"{here}: unknown key {key!r}")
        level_name = body.get("level")
        if level_name not in ("crisis", "concern"):
            problems.append(f"{here}: level must be crisis or concern")
            continue
        all_of = tuple(str(x) for x in body.get("all_of") or [])
        any_of = tuple(str(x) for x in body.get("any_of") or [])
        if not all_of:
            problems.append(f"{here}: all_of must name at least one rule")
        combinations.append(
            Combination(
                f"{code}.{combination_id}",
                code,
                all_of,
                any_of,
                _RULE_LEVELS[level_name],
                _categories(body.get("categories"), here, problems, required=True),
            )
        )
    contexts: list[Context] = []
    for context_id, body in _entries(data.get("contexts"), where, "contexts", problems):
        here = f"{where}:{body['__line__']}: context {context_id!r}"
        for key in body.keys() - _CONTEXT_KEYS - {"__line__"}:
            problems.append(f"{here}: unknown key {key!r}")
        cap_name = body.get("cap", "none")
        if cap_name not in ("none", "concern"):
            problems.append(f"{here}: cap is none or concern")
            continue
        all_of = tuple(str(x) for x in body.get("all_of") or [])
        if not all_of:
            problems.append(f"{here}: all_of must name at least one rule")
        contexts.append(
            Context(
                f"{code}.{context_id}",
                code,
                all_of,
                tuple(str(x) for x in body.get("none_of") or []),
                Level.NONE if cap_name == "none" else Level.CONCERN,
                frozenset(_categories(body.get("applies_to"), here, problems, required=True)),
            )
        )
    detect = frozenset(
        canon(word) for entry in data.get("detect") or [] for word in split_words(fold(entry))
    )
    return Language(
        code, detect, tuple(rules), tuple(exceptions), tuple(combinations), tuple(contexts)
    )


def _entries(
    section: Any, where: str, name: str, problems: list[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    if section is None:
        return
    if not isinstance(section, dict):
        problems.append(f"{where}: '{name}' must be a mapping of ids to entries")
        return
    for entry_id, body in section.items():
        if entry_id == "__line__":
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}:{section['__line__']}: {name} entry {entry_id!r} is empty")
            continue
        yield str(entry_id), body


def _categories(
    raw: Any, here: str, problems: list[str], *, required: bool
) -> tuple[Category, ...]:
    values = raw or []
    if required and not values:
        problems.append(f"{here}: categories are required")
    result: list[Category] = []
    for value in values:
        try:
            result.append(Category(value))
        except ValueError:
            problems.append(f"{here}: unknown category {value!r}")
    return tuple(result)


def _patterns(
    body: Mapping[str, Any], owner: str, compiler: _Compiler, here: str, problems: list[str]
) -> tuple[Pattern, ...]:
    raw = body.get("patterns")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{here}: {owner}: 'patterns' must be a non-empty list")
        return ()
    compiled: list[Pattern] = []
    for source in raw:
        if not isinstance(source, str):
            problems.append(f"{here}: {owner}: pattern {source!r} is not text")
            continue
        try:
            compiled.append(compiler.compile(owner, source))
        except PatternError as error:
            problems.append(f"{here}: {owner}: pattern {source!r}: {error}")
    return tuple(compiled)


def _index(ruleset: RuleSet, problems: list[str]) -> None:
    rule_patterns: list[Pattern] = []
    exception_patterns: list[Pattern] = []
    combinations: list[Combination] = []
    contexts: list[Context] = []
    for language in ruleset.languages.values():
        contexts.extend(language.contexts)
        for rule in language.rules:
            ruleset.rules[rule.id] = rule
            rule_patterns.extend(rule.patterns)
        for exception in language.exceptions:
            ruleset.caps[id(exception.pattern)] = exception.cap
            exception_patterns.append(exception.pattern)
        combinations.extend(language.combinations)
    for combination in combinations:
        for name in combination.all_of + combination.any_of:
            if name in {category.value for category in Category}:
                continue
            if f"{combination.language}.{name}" not in ruleset.rules:
                problems.append(
                    f"combination {combination.id!r} names unknown rule or category {name!r}"
                )
    ruleset.rule_index = PatternIndex(rule_patterns)
    ruleset.exception_index = PatternIndex(exception_patterns)
    ruleset.combinations = tuple(combinations)
    ruleset.combination_ids = tuple(
        (
            combination,
            tuple(f"{combination.language}.{name}" for name in combination.all_of),
            tuple((f"{combination.language}.{name}", name) for name in combination.any_of),
        )
        for combination in combinations
    )
    ruleset.contexts = tuple(contexts)
    for context in contexts:
        for name in context.all_of + context.none_of:
            if f"{context.language}.{name}" not in ruleset.rules:
                problems.append(f"context {context.id!r} names unknown rule {name!r}")


_SEGMENT_MAX = 60


def segmenter(vocabulary: frozenset[str]) -> Callable[[str], list[str]]:
    """Return a function that splits a spelled-out run into pattern words, if it can."""
    longest = max((len(word) for word in vocabulary), default=0)

    def segment(spelled: str) -> list[str]:
        run = collapse(spelled)
        if len(run) > _SEGMENT_MAX or run in vocabulary:
            return [spelled]
        # best[i]: the fewest words that spell run[:i], with the split that achieves it.
        best: list[tuple[int, int] | None] = [None] * (len(run) + 1)
        best[0] = (0, 0)
        for end in range(1, len(run) + 1):
            for start in range(max(0, end - longest), end):
                previous = best[start]
                if previous is None or run[start:end] not in vocabulary:
                    continue
                if best[end] is None or previous[0] + 1 < best[end][0]:  # type: ignore[index]
                    best[end] = (previous[0] + 1, start)
        if best[-1] is None or best[-1][0] < 2:
            return [spelled]
        words: list[str] = []
        end = len(run)
        while end > 0:
            step = best[end]
            assert step is not None
            words.append(run[step[1] : end])
            end = step[1]
        return words[::-1]

    return segment


def _key_of(word: str) -> str:
    return word[:4] if len(word) >= 4 else word


# ---------------------------------------------------------------- pattern language
#
# A pattern is a phrase of words, matched against the normalised words of a message:
#   kill myself         the words in this order          kill*        any word starting "kill"
#   (kill|end) it       one of the alternatives          [really]     optional words
#   (so|really)?        optional alternatives            [a|the]      the same
#   @self               any phrase of the group "self"   ..2          up to two other words
#   ...                 up to three other words      #            any number ("20", "500mg")
# Words are folded like the message (case, accents, apostrophes, repeated letters), so
# "don't" and "dont" are the same word. Compiled regexes only ever see single-space-separated
# words, and every gap is bounded, so no pattern can backtrack catastrophically.

_Node = tuple[Any, ...]


class _Compiler:
    def __init__(
        self, canon: WordCanon, groups: dict[str, list[str]], vocabulary: set[str]
    ) -> None:
        self._canon = canon
        self._vocabulary = vocabulary
        self._groups = groups
        self._group_nodes: dict[str, _Node] = {}
        self._expanding: set[str] = set()

    def compile(self, owner: str, source: str) -> Pattern:
        node = self.parse(source)
        regex = " " + self._regex(node)
        keys = _keys(node)
        if keys is not None and "" in keys:
            keys = None
        requires = tuple(
            needed for needed in _required_keys(node) if "" not in needed and needed != keys
        )
        return Pattern(owner, source, re.compile(regex), keys, requires)

    def parse(self, source: str) -> _Node:
        tokens = _TOKEN.findall(source.strip())
        if not tokens:
            raise PatternError("is empty")
        node, position = self._sequence(tokens, 0, source)
        if position != len(tokens):
            raise PatternError(f"unexpected {tokens[position]!r}")
        if _can_be_empty(node):
            raise PatternError("can match nothing at all")
        return node

    def _sequence(self, tokens: list[str], i: int, source: str) -> tuple[_Node, int]:
        items: list[_Node] = []
        while i < len(tokens) and tokens[i] not in (")", "]", "|"):
            token = tokens[i]
            if token in ("(", "["):
                closer = ")" if token == "(" else "]"
                alternatives: list[_Node] = []
                i += 1
                while True:
                    alternative, i = self._sequence(tokens, i, source)
                    alternatives.append(alternative)
                    if i >= len(tokens):
                        raise PatternError(f"{token!r} is never closed")
                    if tokens[i] == closer:
                        i += 1
                        break
                    if tokens[i] != "|":
                        raise PatternError(f"unexpected {tokens[i]!r}")
                    i += 1
                node: _Node = ("alt", tuple(alternatives))
                if token == "[" or (i < len(tokens) and tokens[i] == "?"):
                    node = ("opt", node)
                    if token == "(":
                        i += 1
                items.append(node)
            elif token == "?":
                raise PatternError("'?' follows nothing optional; put it after ( )")
            elif token == "#":
                items.append(("number",))
                i += 1
            elif token == "...":
                items.append(("gap", 3))
                i += 1
            elif token.startswith(".."):
                size = int(token[2:])
                if not 1 <= size <= _MAX_GAP:
                    raise PatternError(f"a gap is 1 to {_MAX_GAP} words")
                items.append(("gap", size))
                i += 1
            elif token.startswith("@"):
                items.append(self._group(token[1:]))
                i += 1
            else:
                items.extend(self._words(token))
                i += 1
        return ("seq", tuple(items)), i

    def _words(self, token: str) -> list[_Node]:
        prefix = token.endswith("*")
        words = split_words(fold(token.rstrip("*")))
        if not words:
            raise PatternError(f"{token!r} has no letters")
        nodes: list[_Node] = [("word", self._canon(word)) for word in words]
        self._vocabulary.update(node[1] for node in nodes)
        if prefix:
            nodes[-1] = ("prefix", collapse(words[-1]))
        return nodes

    def _group(self, name: str) -> _Node:
        if name in self._group_nodes:
            return self._group_nodes[name]
        if name not in self._groups:
            raise PatternError(f"unknown group @{name}")
        if name in self._expanding:
            raise PatternError(f"group @{name} refers to itself")
        self._expanding.add(name)
        try:
            alternatives = tuple(self.parse(entry) for entry in self._groups[name])
        finally:
            self._expanding.discard(name)
        node: _Node = ("alt", alternatives)
        self._group_nodes[name] = node
        return node

    def _regex(self, node: _Node) -> str:
        kind = node[0]
        if kind == "seq":
            return "".join(self._regex(item) for item in node[1])
        if kind == "word":
            return re.escape(str(node[1])) + " "
        if kind == "prefix":
            return re.escape(str(node[1])) + "[^ ]* "
        if kind == "gap":
            return f"(?:[^ ]+ ){{0,{node[1]}}}"
        if kind == "number":
            return "[0-9][0-9a-z]* "
        if kind == "opt":
            return f"(?:{self._regex(node[1])})?"
        if kind == "alt":
            return "(?:" + "|".join(self._regex(item) for item in node[1]) + ")"
        raise AssertionError(kind)


def _can_be_empty(node: _Node) -> bool:
    kind = node[0]
    if kind == "seq":
        return all(_can_be_empty(item) for item in node[1])
    if kind in ("gap", "opt"):
        return True
    if kind == "alt":
        return any(_can_be_empty(item) for item in node[1])
    return False


def _keys(node: _Node) -> frozenset[str] | None:
    """Return word keys of which every match contains at least one, or None if there are none."""
    kind = node[0]
    if kind == "word" or (kind == "prefix" and len(node[1]) >= 3):
        return frozenset({_key_of(node[1])})
    if kind == "prefix":
        return None
    if kind in ("gap", "opt", "number"):
        return None
    if kind == "alt":
        union: set[str] = set()
        for item in node[1]:
            keys = _keys(item)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)
    best: frozenset[str] | None = None
    for item in node[1]:
        keys = _keys(item)
        if keys is not None and (best is None or _rarity(keys) > _rarity(best)):
            best = keys
    return best


def _required_keys(node: _Node) -> list[frozenset[str]]:
    """Return the key sets of every required part of a pattern: a match meets them all."""
    if node[0] != "seq":
        keys = _keys(node)
        return [] if keys is None else [keys]
    found: list[frozenset[str]] = []
    for item in node[1]:
        keys = _keys(item)
        if keys is not None:
            found.append(keys)
    return found


_COMMON_KEYS: set[str] = set()


def _rarity(keys: frozenset[str]) -> tuple[int, int, int]:
    # Sets without the languages' commonest words first; then longer keys, which are rarer in
    # chat text; then fewer keys, which mean fewer patterns to try.
    return (-len(keys & _COMMON_KEYS), min(len(key) for key in keys), -len(keys))
