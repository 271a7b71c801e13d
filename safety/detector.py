"""Crisis-language detection: screen(text) → Assessment, from the YAML rules in data/patterns."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache

from safety.assessment import Assessment, Category, Level, Match
from safety.classifier import classifier
from safety.normalize import fold, split_words
from safety.patterns import RuleSet, load_rules, segmenter

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
WINDOW = 120  # words read at once
WINDOW_OVERLAP = 40  # longer than any pattern can reach, so no match falls between windows
LEARNED = "learned"  # the rule name of a reading by the learned layer
SURE_CRISIS = 0.8
# When the learned layer hears risk but cannot say which kind, the reply is the general one.
_FALLBACK_CATEGORIES = {
    Level.CRISIS: (Category.SUICIDE,),
    Level.CONCERN: (Category.DISTRESS,),
}
SUPPORTED_LANGUAGES = frozenset({"en", "es", "de", "fr"})


@lru_cache(maxsize=1)
def rules() -> RuleSet:
    """Load the shipped rule files once; a broken file fails here, loudly."""
    return load_rules()


@lru_cache(maxsize=1)
def _segment() -> Callable[[str], list[str]]:
    segment: Callable[[str], list[str]] = segmenter(rules().vocabulary)
    return segment


def screen(text: str, lang: str | None = None) -> Assessment:
    """Assess one message; on any internal error, err towards offering resources."""
    try:
        return _screen(rules(), text, lang)
    except Exception as error:  # noqa: BLE001 - safety fails towards help, never silence
        logger.error("screen failed (%s); answering as concern", type(error).__name__)
        return Assessment(Level.CONCERN, (Category.DISTRESS,), _language_or_default(lang))


def _language_or_default(lang: str | None) -> str:
    # Never touches the rules: this runs when loading them is what failed.
    code = (lang or "").strip().lower()[:2]
    return code if code in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def words_of(ruleset: RuleSet, text: str) -> list[str]:
    """Return the normalised words of a text, as the patterns see them."""
    canon = ruleset.canon
    segment = _segment() if ruleset is rules() else segmenter(ruleset.vocabulary)
    return [canon(word) for word in split_words(fold(text), segment)]


def _screen(ruleset: RuleSet, text: str, lang: str | None) -> Assessment:
    words = words_of(ruleset, text)
    language = _detect_language(ruleset, words, lang)
    if not words:
        return Assessment(Level.NONE, (), language)
    found: dict[str, Match] = {}
    excepted = False
    # A long message is read in overlapping windows, each with only the patterns its own words
    # can match: the cost then grows with the length, not with length times patterns.
    for start in range(0, max(1, len(words) - WINDOW_OVERLAP), WINDOW - WINDOW_OVERLAP):
        window = words[start : start + WINDOW]
        excepted |= _read_window(ruleset, window, found)
    matches = list(found.values())
    matches.extend(_combinations(ruleset, found))
    matches = _apply_contexts(ruleset, matches)
    # Where an exception explains the words (an idiom, fiction, news, a stated denial), the
    # rules have the last word; elsewhere the learned layer may read more than they do.
    if not excepted:
        learned = _learned(words, matches, language)
        if learned is not None:
            matches.append(learned)
    if not matches:
        return Assessment(Level.NONE, (), language)
    return _assessment(matches, language)


def _read_window(ruleset: RuleSet, words: list[str], found: dict[str, Match]) -> bool:
    """Run the rules over one window of words into `found`; return whether an exception hit."""
    probes: set[str] = set()
    for word in words:
        probes.add(word[:3])
        probes.add(word[:4])
    subject = " " + " ".join(words) + " "
    exceptions = [
        (*match.span(), ruleset.caps[id(pattern)])
        for pattern in ruleset.exception_index.candidates(probes)
        for match in pattern.regex.finditer(subject)
    ]
    for pattern in ruleset.rule_index.candidates(probes):
        rule = ruleset.rules[pattern.owner]
        current = found.get(rule.id)
        if current is not None and current.level is rule.level:
            continue
        for hit in pattern.regex.finditer(subject):
            # Signals are context, not claims: exceptions never hide them.
            level = rule.level if rule.signal else _capped(rule.level, hit, exceptions)
            if level is None:
                continue
            if current is None or level.rank > current.level.rank:
                current = Match(
                    rule.id, level, rule.categories, rule.language, hit.group(0).strip()
                )
                found[rule.id] = current
            if level is rule.level:
                break
    return bool(exceptions)


def _learned(words: list[str], matches: list[Match], language: str) -> Match | None:
    """Return the learned layer's reading when it is higher than the rules'; else None."""
    model = classifier()
    if model is None:
        return None
    reading = model.read(words)
    ruled = max((match.level.rank for match in matches), default=0)
    if reading.level.rank <= ruled:
        return None
    if ruled == Level.CONCERN.rank and reading.crisis < SURE_CRISIS:
        return None  # the rules read this closely; overrule them only when the model is sure
    categories = reading.categories or _FALLBACK_CATEGORIES[reading.level]
    return Match(LEARNED, reading.level, categories, language, "")


def _capped(
    level: Level, hit: re.Match[str], exceptions: list[tuple[int, int, Level]]
) -> Level | None:
    """Return the level left after exceptions, or None when one drops the match.

    An exception applies only when it covers the matched words' last word, which is where a
    pattern's meaning sits ("killing me", "kill myself"): an exception that merely touches the
    start of a match ("...the report. honestly i've decided to kill myself") changes nothing.
    """
    end = hit.end()
    last_word = hit.string.rfind(" ", hit.start(), end - 1) + 1
    for e_start, e_end, cap in exceptions:
        if e_start <= last_word and end <= e_end:
            if cap is Level.NONE:
                return None
            if cap.rank < level.rank:
                level = cap
    return level


def _combinations(ruleset: RuleSet, found: dict[str, Match]) -> list[Match]:
    # Categories count only from real readings; a signal names itself by rule in any_of.
    present_categories = {
        category.value
        for match in found.values()
        if match.level is not Level.NONE
        for category in match.categories
    }
    extra: list[Match] = []
    for combination, all_of, any_of in ruleset.combination_ids:
        # Rule names belong to the combination's own language; categories count from any.
        if not all(rule_id in found for rule_id in all_of):
            continue
        if any_of and not any(
            rule_id in found or name in present_categories for rule_id, name in any_of
        ):
            continue
        extra.append(
            Match(
                combination.id, combination.level, combination.categories, combination.language, ""
            )
        )
    return extra


def _apply_contexts(ruleset: RuleSet, matches: list[Match]) -> list[Match]:
    """Lower the matches a message-level context covers, e.g. a past stated as resolved.

    A context reads the signals of its own language and lowers only that language's matches,
    so one language's "resolved past" can never quiet another language's crisis.
    """
    present = {match.rule for match in matches}
    for context in ruleset.contexts:
        own = context.language + "."
        if not all(own + name in present for name in context.all_of):
            continue
        if any(own + name in present for name in context.none_of):
            continue
        lowered: list[Match] = []
        for match in matches:
            if (
                match.language == context.language
                and match.level.rank > context.cap.rank
                and match.categories
                and set(match.categories) <= context.applies_to
            ):
                match = Match(
                    match.rule, context.cap, match.categories, match.language, match.phrase
                )
            lowered.append(match)
        matches = lowered
    return matches


def _assessment(matches: list[Match], language: str) -> Assessment:
    level = max((match.level for match in matches), key=lambda level: level.rank)
    ordered = sorted(matches, key=lambda match: -match.level.rank)
    categories: dict[Category, None] = {}
    for match in ordered:
        if match.level is not Level.NONE:
            categories.update(dict.fromkeys(match.categories))
    return Assessment(level, tuple(categories), language, tuple(ordered))


def _detect_language(ruleset: RuleSet, words: list[str], lang: str | None) -> str:
    given = (lang or "").strip().lower()[:2]
    if given in ruleset.languages:
        return given
    present = set(words)
    best, best_score = DEFAULT_LANGUAGE, 0
    for code, language in ruleset.languages.items():
        score = len(present & language.detect)
        if score > best_score:
            best, best_score = code, score
    return best
