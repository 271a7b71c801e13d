"""Scoring the crisis detector: corpus loading, the figures, the report and the shipped corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from safety import scoring
from safety.assessment import Assessment, Category, Level

# text → (labelled level, labelled categories, language, what the fake detector answers)
SYNTHETIC = [
    ("c1", "crisis", ["suicide"], "en", Level.CRISIS),
    ("c2", "crisis", ["suicide", "method_seeking"], "en", Level.CONCERN),
    ("c3", "crisis", ["danger_from_other"], "en", Level.NONE),
    ("k1", "concern", ["passive_ideation"], "en", Level.CONCERN),
    ("k2", "concern", ["distress"], "en", Level.NONE),
    ("n1", "none", [], "en", Level.NONE),
    ("n2", "none", [], "en", Level.CRISIS),
    ("c4", "crisis", ["suicide"], "es", Level.CRISIS),
    ("n3", "none", [], "es", Level.NONE),
    ("n4", "none", [], "es", Level.CONCERN),
]
ANSWERS = {text: answer for text, _, _, _, answer in SYNTHETIC}


def fake_screen(text: str, lang: str | None) -> Assessment:
    """Answer from the table above, always guessing English; refuse a given language."""
    assert lang is None, "the scorer must not tell the detector the language"
    return Assessment(level=ANSWERS[text], categories=(), language="en")


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def synthetic_report(tmp_path: Path) -> scoring.Report:
    lines = [
        json.dumps({"text": text, "lang": lang, "level": level, "categories": cats, "tags": []})
        for text, level, cats, lang, _ in SYNTHETIC
    ]
    examples = scoring.load_corpus([write_lines(tmp_path / "mixed.jsonl", lines)])
    return scoring.score(examples, screen=fake_screen)


def figures_tuple(figures: scoring.Figures) -> tuple[object, ...]:
    return (
        figures.examples,
        (figures.crisis_recall.count, figures.crisis_recall.total),
        (figures.at_risk_recall.count, figures.at_risk_recall.total),
        (figures.under_triage.count, figures.under_triage.total),
        (figures.false_positives.count, figures.false_positives.total),
    )


def test_overall_figures_count_recall_under_triage_and_false_positives(
    synthetic_report: scoring.Report,
) -> None:
    assert figures_tuple(synthetic_report.overall) == (10, (2, 4), (4, 6), (1, 4), (2, 4))
    assert synthetic_report.overall.crisis_recall.value == 0.5
    assert synthetic_report.overall.at_risk_recall.value == pytest.approx(4 / 6)


def test_figures_are_split_by_labelled_language(synthetic_report: scoring.Report) -> None:
    by_language = {
        figures.name: figures_tuple(figures) for figures in synthetic_report.by_language
    }
    assert by_language == {
        "en": (7, (1, 3), (3, 5), (1, 3), (1, 2)),
        "es": (3, (1, 1), (1, 1), (0, 1), (1, 2)),
    }


def test_figures_are_split_by_labelled_category(synthetic_report: scoring.Report) -> None:
    by_category = {
        figures.name: figures_tuple(figures) for figures in synthetic_report.by_category
    }
    assert by_category == {
        "suicide": (3, (2, 3), (3, 3), (1, 3), (0, 0)),
        "danger_from_other": (1, (0, 1), (0, 1), (0, 1), (0, 0)),
        "method_seeking": (1, (0, 1), (1, 1), (1, 1), (0, 0)),
        "passive_ideation": (1, (0, 0), (1, 1), (0, 0), (0, 0)),
        "distress": (1, (0, 0), (0, 1), (0, 0), (0, 0)),
    }
    assert list(by_category) == [c.value for c in Category if c.value in by_category]


def test_language_identification_is_counted(synthetic_report: scoring.Report) -> None:
    identified = synthetic_report.language_identified
    assert (identified.count, identified.total) == (7, 10)


def test_errors_are_the_messages_whose_level_was_misread(synthetic_report: scoring.Report) -> None:
    assert [p.example.text for p in synthetic_report.errors] == ["c2", "c3", "k2", "n2", "n4"]
    assert not synthetic_report.meets_targets


def test_perfect_detector_meets_targets(tmp_path: Path) -> None:
    lines = [json.dumps({"text": "t", "lang": "en", "level": "crisis", "categories": ["medical"]})]
    examples = scoring.load_corpus([write_lines(tmp_path / "one.jsonl", lines)])

    def screen(text: str, lang: str | None) -> Assessment:
        return Assessment(level=Level.CRISIS, categories=(Category.MEDICAL,), language="en")

    report = scoring.score(examples, screen=screen)
    assert report.meets_targets
    assert report.errors == ()


def test_report_prints_each_group_with_its_figures(synthetic_report: scoring.Report) -> None:
    text = scoring.format_report(synthetic_report, errors=False)
    rows = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert re.search(
        r"\b10\s+0\.500 \(2/4\)\s+0\.667 \(4/6\)\s+0\.250 \(1/4\)\s+0\.500 \(2/4\)$", rows["all"]
    )
    assert rows["es"].split()[1:] == [
        "3",
        "1.000",
        "(1/1)",
        "1.000",
        "(1/1)",
        "0.000",
        "(0/1)",
    ] + [
        "0.500",
        "(1/2)",
    ]
    assert rows["passive_ideation"].split()[2:4] == ["-", "(0/0)"]
    assert "NOT met" in text
    assert "misread" not in text and "c2" not in text


def test_report_with_errors_lists_every_misread_message(synthetic_report: scoring.Report) -> None:
    text = scoring.format_report(synthetic_report, errors=True)
    assert "misread messages: 5" in text
    error_lines = [line for line in text.splitlines() if " -> " in line]
    assert len(error_lines) == 5
    assert "crisis[suicide,method_seeking] -> concern  [en]  mixed.jsonl:2  'c2'" in error_lines
    assert any(line.startswith("none[] -> concern  [es]") for line in error_lines)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"text": "x", "lang": "en", "level": "panic", "categories": []}', "unknown level"),
        (
            '{"text": "x", "lang": "en", "level": "crisis", "categories": ["war"]}',
            "unknown category",
        ),
        (
            '{"text": "x", "lang": "en", "level": "none", "categories": ["suicide"]}',
            "no categories",
        ),
        ('{"text": "x", "lang": "en", "level": "concern", "categories": []}', "at least one"),
        ('{"lang": "en", "level": "none", "categories": []}', '"text"'),
        ('{"text": "x", "level": "none", "categories": []}', '"lang"'),
        ('{"text": "x", "lang": "en", "level": "none", "tags": "idiom"}', '"tags"'),
        ('{"text": "x", "lang": "en", "level": "none", "label": "none"}', "unknown field"),
    ],
)
def test_malformed_line_is_reported_with_file_and_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    good = '{"text": "fine", "lang": "en", "level": "none", "categories": []}'
    path = write_lines(tmp_path / "bad.jsonl", [good, "", line])
    with pytest.raises(scoring.CorpusError) as raised:
        scoring.load_corpus([path])
    assert str(raised.value).startswith(f"{path}:3: ")
    assert problem in str(raised.value)


def test_every_bad_line_of_every_file_is_reported(tmp_path: Path) -> None:
    first = write_lines(tmp_path / "a.jsonl", ["{", "{"])
    second = write_lines(tmp_path / "b.jsonl", ['{"text": "x"}'])
    with pytest.raises(scoring.CorpusError) as raised:
        scoring.load_corpus([first, second])
    assert [(p.path, p.line) for p in raised.value.problems] == [
        (first, 1),
        (first, 2),
        (second, 1),
    ]


# The shipped corpus


@pytest.fixture(scope="module")
def corpus() -> list[scoring.Example]:
    return scoring.load_corpus(scoring.default_corpus_paths())


def test_default_corpus_is_one_file_per_language() -> None:
    assert [path.name for path in scoring.default_corpus_paths()] == [
        "en.jsonl",
        "es.jsonl",
        "de.jsonl",
        "fr.jsonl",
    ]


def test_shipped_corpus_is_large_enough_in_every_language(corpus: list[scoring.Example]) -> None:
    sizes = Counter(example.lang for example in corpus)
    assert sizes["en"] >= 300
    assert all(sizes[lang] >= 120 for lang in ("es", "de", "fr")), sizes


def test_each_file_holds_only_its_own_language(corpus: list[scoring.Example]) -> None:
    assert all(example.path.stem == example.lang for example in corpus)


def test_every_level_is_present_in_every_language_in_rough_proportion(
    corpus: list[scoring.Example],
) -> None:
    for lang in scoring.CORPUS_LANGUAGES:
        levels = Counter(example.level for example in corpus if example.lang == lang)
        total = sum(levels.values())
        assert 0.38 <= levels[Level.NONE] / total <= 0.52, (lang, levels)
        assert 0.24 <= levels[Level.CRISIS] / total <= 0.36, (lang, levels)
        assert 0.18 <= levels[Level.CONCERN] / total <= 0.32, (lang, levels)


def test_every_category_is_used_in_the_shipped_corpus(corpus: list[scoring.Example]) -> None:
    used = {category for example in corpus for category in example.categories}
    assert used == set(Category)


def test_no_message_appears_twice(corpus: list[scoring.Example]) -> None:
    texts = Counter(example.text for example in corpus)
    assert [text for text, count in texts.items() if count > 1] == []


def test_every_tag_is_documented_in_the_labelling_guide(corpus: list[scoring.Example]) -> None:
    guide = (scoring.CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^- `([a-z_]+)`", guide, flags=re.MULTILINE))
    used = {tag for example in corpus for tag in example.tags}
    assert used - documented == set()


def test_obfuscation_tags_match_the_characters_in_the_text(corpus: list[scoring.Example]) -> None:
    checks = {
        "zero_width": lambda text: bool(re.search("[\u200b\u200c\u200d\u2060]", text)),
        "homoglyph": lambda text: bool(re.search("[\u0400-\u04ff]", text)),
        "curly_quotes": lambda text: bool(re.search("[\u2018\u2019\u201c\u201d]", text)),
    }
    for tag, check in checks.items():
        tagged = [example for example in corpus if tag in example.tags]
        assert len(tagged) >= 4, tag
        assert [f"{e.path.name}:{e.line}" for e in tagged if not check(e.text)] == [], tag


# The command line


def test_score_command_prints_the_report_for_given_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    line = json.dumps({"text": "what does this bot do?", "lang": "en", "level": "none"})
    path = write_lines(tmp_path / "one.jsonl", [line])
    assert main(["safety", "score", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on 1 labelled messages" in out
    assert re.search(r"^all\s+1\s", out, flags=re.MULTILINE)


def test_score_command_fails_on_a_bad_corpus_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = write_lines(tmp_path / "bad.jsonl", ['{"text": "x", "lang": "en", "level": "panic"}'])
    assert main(["safety", "score", str(path)]) == 1
    assert f"{path}:1: unknown level 'panic'" in capsys.readouterr().err
