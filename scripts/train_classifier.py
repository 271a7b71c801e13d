"""Train the detector's learned layer from the labelled corpora; write safety/data/classifier.json.

Needs scikit-learn (a development tool, not a dependency of SafePlace):
    .venv/bin/pip install scikit-learn
    .venv/bin/python scripts/train_classifier.py [--extra PATH ...] [--holdout-too]

The model is a multinomial logistic regression over the words and word pairs of a message, as
the detector normalises them. At run time it is a table of weights read by safety/classifier.py
in pure Python. By default it trains on safety/corpus/*.jsonl and safety/corpus/blind/*.jsonl and
reports its figures on safety/corpus/holdout/ (never trained on); --extra adds further labelled
corpora (for instance safety/corpus/extra/en.jsonl) to the training data; --holdout-too adds the
held-out set to the training data for the shipped model, after its figures have been recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safety import scoring
from safety.assessment import Category
from safety.classifier import CLASSES, features
from safety.detector import rules, words_of

OUTPUT = ROOT / "safety" / "data" / "classifier.json"
CRISIS_THRESHOLD = 0.5
AT_RISK_THRESHOLD = 0.7
CATEGORY_THRESHOLD = 0.3
PRUNE = 0.02  # weights smaller than this change no decision; leaving them out keeps the file small


def _figures(levels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    crisis = ((levels == 2) & (truth == 2)).sum() / max(1, (truth == 2).sum())
    at_risk = ((levels >= 1) & (truth >= 1)).sum() / max(1, (truth >= 1).sum())
    false_positives = ((levels >= 1) & (truth == 0)).sum() / max(1, (truth == 0).sum())
    return {
        "crisis_recall": round(float(crisis), 3),
        "at_risk_recall": round(float(at_risk), 3),
        "false_positive_rate": round(float(false_positives), 3),
    }


def _shown(path: Path) -> str:
    """Return a corpus path relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _levels(probabilities: np.ndarray) -> np.ndarray:
    at_risk = probabilities[:, 1] + probabilities[:, 2]
    return np.where(
        probabilities[:, 2] > CRISIS_THRESHOLD, 2, np.where(at_risk > AT_RISK_THRESHOLD, 1, 0)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--holdout-too", action="store_true", help="also train on the held-out set"
    )
    parser.add_argument(
        "--extra",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="further labelled corpora to train on (never the held-out set)",
    )
    args = parser.parse_args()
    ruleset = rules()
    corpus = ROOT / "safety" / "corpus"
    train_paths = scoring.default_corpus_paths() + sorted((corpus / "blind").glob("*.jsonl"))
    holdout_paths = sorted((corpus / "holdout").glob("*.jsonl"))
    extra_paths = [path.resolve() for path in args.extra]
    if any(path.parent == (corpus / "holdout").resolve() for path in extra_paths):
        parser.error("--extra never takes the held-out set; use --holdout-too on purpose")
    train_paths += [path for path in extra_paths if path not in train_paths]
    train = scoring.load_corpus(train_paths)
    holdout = scoring.load_corpus(holdout_paths)
    index = {name: number for number, name in enumerate(CLASSES)}

    def table(examples: list[scoring.Example]) -> tuple[list[dict[str, int]], np.ndarray]:
        rows = [dict.fromkeys(features(words_of(ruleset, e.text)), 1) for e in examples]
        return rows, np.array([index[e.level.value] for e in examples])

    rows, truth = table(train)
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cross = cross_val_predict(model, matrix, truth, cv=folds, method="predict_proba")
    model.fit(matrix, truth)
    holdout_rows, holdout_truth = table(holdout)
    holdout_levels = _levels(model.predict_proba(vectorizer.transform(holdout_rows)))
    report = {
        "cross_validation_on_training": _figures(_levels(cross), truth),
        "holdout_model_alone": _figures(holdout_levels, holdout_truth),
    }
    trained_on = [_shown(path) for path in train_paths]
    if args.holdout_too:
        rows, truth = rows + holdout_rows, np.concatenate([truth, holdout_truth])
        train = train + holdout
        trained_on += [_shown(path) for path in holdout_paths]
        matrix = vectorizer.fit_transform(rows)
        model.fit(matrix, truth)

    names = vectorizer.get_feature_names_out()
    categories = [category.value for category in Category]
    labels = np.array([[c in {x.value for x in e.categories} for c in categories] for e in train])
    category_models = [
        LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced").fit(matrix, labels[:, j])
        if labels[:, j].any()
        else None
        for j in range(len(categories))
    ]
    weights: dict[str, list[float]] = {}
    for column, name in enumerate(names):
        level_weights = [float(model.coef_[k][column]) for k in range(len(CLASSES))]
        category_weights = [
            float(m.coef_[0][column]) if m is not None else 0.0 for m in category_models
        ]
        if max(abs(w) for w in level_weights + category_weights) < PRUNE:
            continue
        weights[str(name)] = [round(w, 4) for w in level_weights + category_weights]
    payload = {
        "about": "Learned layer of the crisis detector; made by scripts/train_classifier.py",
        "made": datetime.now(UTC).date().isoformat(),
        "trained_on": trained_on,
        "examples": len(truth),
        "features": "words and word pairs of the normalised message",
        "classes": list(CLASSES),
        "categories": categories,
        "thresholds": {
            "crisis": CRISIS_THRESHOLD,
            "at_risk": AT_RISK_THRESHOLD,
            "category": CATEGORY_THRESHOLD,
        },
        "figures": report,
        "intercepts": [round(float(b), 4) for b in model.intercept_]
        + [round(float(m.intercept_[0]), 4) if m is not None else -10.0 for m in category_models],
        "weights": weights,
    }
    OUTPUT.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(json.dumps(report, indent=2))
    print(f"{len(weights)} features written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
