"""The labelled corpus of the crisis detector and the figures that score it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from safety.assessment import Assessment, Category, Level

CORPUS_DIR = Path(__file__).parent / "corpus"
CORPUS_LANGUAGES = ("en", "es", "de", "fr")

# The figures the detector must reach on a held-out set (see safety/corpus/README.md).
TARGET_CRISIS_RECALL = 0.97
TARGET_AT_RISK_RECALL = 0.92
TARGET_FALSE_POSITIVE_RATE = 0.05

Screen = Callable[[str, str | None], Assessment]


@dataclass(frozen=True)
class Example:
    """One labelled message of the corpus, with the file and line it came from."""

    text: str
    lang: str
    level: Level
    categories: tuple[Category, ...]
    tags: tuple[str, ...]
    path: Path
    line: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a corpus line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CorpusError(ValueError):
    """A corpus that cannot be scored; carries every problem found, each with file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Prediction:
    """What the detector said about one example."""

    example: Example
    level: Level
    categories: tuple[Category, ...]
    language: str

    @property
    def correct(self) -> bool:
        return self.level is self.example.level


@dataclass(frozen=True)
class Ratio:
    """A count out of a total; the value is None when there is nothing to count."""

    count: int
    total: int

    @property
    def value(self) -> float | None:
        return self.count / self.total if self.total else None

    def __str__(self) -> str:
        value = self.value
        shown = "-" if value is None else f"{value:.3f}"
        return f"{shown} ({self.count}/{self.total})"


@dataclass(frozen=True)
class Figures:
    """The scores of one group of predictions (all, one language, one category)."""

    name: str
    examples: int
    crisis_recall: Ratio
    at_risk_recall: Ratio
    under_triage: Ratio
    false_positives: Ratio

    @classmethod
    def of(cls, name: str, predictions: Sequence[Prediction]) -> Figures:
        """Count the figures of a group of predictions."""
        crisis = [p for p in predictions if p.example.level is Level.CRISIS]
        at_risk = [p for p in predictions if p.example.level is not Level.NONE]
        none = [p for p in predictions if p.example.level is Level.NONE]
        return cls(
            name=name,
            examples=len(predictions),
            crisis_recall=Ratio(sum(p.level is Level.CRISIS for p in crisis), len(crisis)),
            at_risk_recall=Ratio(sum(p.level is not Level.NONE for p in at_risk), len(at_risk)),
            under_triage=Ratio(sum(p.level is Level.CONCERN for p in crisis), len(crisis)),
            false_positives=Ratio(sum(p.level is not Level.NONE for p in none), len(none)),
        )


@dataclass(frozen=True)
class Report:
    """The predictions on a corpus and its figures overall, per language and per category."""

    predictions: tuple[Prediction, ...]
    overall: Figures
    by_language: tuple[Figures, ...]
    by_category: tuple[Figures, ...]
    language_identified: Ratio

    @property
    def errors(self) -> tuple[Prediction, ...]:
        return tuple(p for p in self.predictions if not p.correct)

    @property
    def meets_targets(self) -> bool:
        crisis, at_risk = self.overall.crisis_recall.value, self.overall.at_risk_recall.value
        false_positives = self.overall.false_positives.value
        return (
            (crisis is None or crisis >= TARGET_CRISIS_RECALL)
            and (at_risk is None or at_risk >= TARGET_AT_RISK_RECALL)
            and (false_positives is None or false_positives <= TARGET_FALSE_POSITIVE_RATE)
        )


def default_corpus_paths() -> list[Path]:
    """Return the shipped corpus files, one per language."""
    return [CORPUS_DIR / f"{lang}.jsonl" for lang in CORPUS_LANGUAGES]


def load_corpus(paths: Iterable[Path]) -> list[Example]:
    """Read JSON-lines corpora; raise CorpusError naming file:line of every bad line."""
    examples: list[Example] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(path, 0, f"cannot read: {error}"))
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                examples.append(_example(json.loads(line), path, number))
            except json.JSONDecodeError as error:
                problems.append(Problem(path, number, f"not JSON: {error.msg}"))
            except _BadLine as error:
                problems.append(Problem(path, number, str(error)))
    if problems:
        raise CorpusError(problems)
    return examples


class _BadLine(Exception):
    """A corpus line that parses as JSON but is not a valid example."""


def _example(item: object, path: Path, line: int) -> Example:
    if not isinstance(item, dict):
        raise _BadLine("expected a JSON object")
    text, lang = item.get("text"), item.get("lang")
    if not isinstance(text, str) or not text.strip():
        raise _BadLine('"text" must be a non-empty string')
    if not isinstance(lang, str) or not lang:
        raise _BadLine('"lang" must be a language code such as "en"')
    level_name, category_names = item.get("level"), item.get("categories", [])
    try:
        level = Level(level_name)
    except ValueError:
        raise _BadLine(f"unknown level {level_name!r}") from None
    if not isinstance(category_names, list):
        raise _BadLine('"categories" must be a list')
    categories = tuple(_category(name) for name in category_names)
    if level is Level.NONE and categories:
        raise _BadLine("a message labelled none has no categories")
    if level is not Level.NONE and not categories:
        raise _BadLine(f"a message labelled {level.value} needs at least one category")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise _BadLine('"tags" must be a list of strings')
    unknown = item.keys() - {"text", "lang", "level", "categories", "tags"}
    if unknown:
        raise _BadLine(f"unknown field(s) {', '.join(sorted(unknown))}")
    return Example(text, lang, level, categories, tuple(tags), path, line)


def _category(name: object) -> Category:
    try:
        return Category(name)
    except ValueError:
        raise _BadLine(f"unknown category {name!r}") from None


def score(examples: Sequence[Example], screen: Screen | None = None) -> Report:
    """Screen every example without its language and count what the detector got right."""
    if screen is None:
        from safety.detector import screen as detector_screen

        screen = detector_screen
    predictions = tuple(_predict(screen, example) for example in examples)
    languages = sorted({p.example.lang for p in predictions})
    categories = [c for c in Category if any(c in p.example.categories for p in predictions)]
    return Report(
        predictions=predictions,
        overall=Figures.of("all", predictions),
        by_language=tuple(
            Figures.of(lang, [p for p in predictions if p.example.lang == lang])
            for lang in languages
        ),
        by_category=tuple(
            Figures.of(
                category.value, [p for p in predictions if category in p.example.categories]
            )
            for category in categories
        ),
        language_identified=Ratio(
            sum(p.language == p.example.lang for p in predictions), len(predictions)
        ),
    )


def _predict(screen: Screen, example: Example) -> Prediction:
    # The language is withheld on purpose: in a chat, the detector has to find it itself.
    assessment = screen(example.text, None)
    return Prediction(example, assessment.level, assessment.categories, assessment.language)


_COLUMNS = ("", "n", "crisis recall", "crisis+concern recall", "under-triage", "false pos. (none)")
_WIDTHS = (20, 5, 18, 22, 18, 18)


def format_report(report: Report, errors: bool) -> str:
    """Render the report as a plain-text table; with errors, list every misread message."""
    overall = report.overall
    lines = [
        f"SafePlace crisis detector on {overall.examples} labelled messages",
        f"targets: crisis recall >= {TARGET_CRISIS_RECALL:.2f}, "
        f"crisis+concern recall >= {TARGET_AT_RISK_RECALL:.2f}, "
        f"false positives on none <= {TARGET_FALSE_POSITIVE_RATE:.2f}: "
        + ("met" if report.meets_targets else "NOT met"),
        f"language identified: {report.language_identified}",
        "",
        _row(_COLUMNS),
        _figures_row(overall),
        "by language",
        *(_figures_row(figures, indent=2) for figures in report.by_language),
        "by labelled category",
        *(_figures_row(figures, indent=2) for figures in report.by_category),
    ]
    if errors:
        lines += ["", f"misread messages: {len(report.errors)}"]
        lines += [_error_line(prediction) for prediction in report.errors]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    first, *rest = cells
    return (
        first.ljust(_WIDTHS[0]) + "".join(c.rjust(w) for c, w in zip(rest, _WIDTHS[1:]))
    ).rstrip()


def _figures_row(figures: Figures, indent: int = 0) -> str:
    return _row(
        (
            " " * indent + figures.name,
            str(figures.examples),
            str(figures.crisis_recall),
            str(figures.at_risk_recall),
            str(figures.under_triage),
            str(figures.false_positives),
        )
    )


def _error_line(prediction: Prediction) -> str:
    example = prediction.example
    text = " ".join(example.text.split())
    labelled = ",".join(category.value for category in example.categories)
    return (
        f"{example.level.value}[{labelled}] -> {prediction.level.value}  [{example.lang}]  "
        f"{example.path.name}:{example.line}  {text!r}"
    )
