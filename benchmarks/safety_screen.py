"""Measure safety.screen: messages per second and latency, next to a naive substring baseline.

Run: .venv/bin/python benchmarks/safety_screen.py [--rounds N]
Prints measured figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from safety import scoring
from safety.detector import rules, screen

# A naive screen: 30 lower-cased phrases searched as substrings. It is what a first attempt
# looks like, and the floor any real detector's cost should be compared with.
NAIVE_PHRASES = (
    "kill myself", "suicide", "suicidal", "end my life", "want to die", "end it all",
    "hurt myself", "self harm", "cut myself", "overdose", "took pills", "better off without me",
    "no reason to live", "kms", "unalive", "he hit me", "going to kill me", "has a knife",
    "has a gun", "raped", "me quiero morir", "suicidarme", "matarme", "umbringen", "suizid",
    "nicht mehr leben", "me tuer", "me suicider", "envie de mourir", "en finir",
)  # fmt: skip


def naive_screen(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in NAIVE_PHRASES)


def _measure(
    screen_one: Callable[[str], object], texts: Sequence[str]
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    clock = time.perf_counter
    started = clock()
    for text in texts:
        before = clock()
        screen_one(text)
        latencies.append(clock() - before)
    return clock() - started, latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(name: str, elapsed: float, latencies: list[float]) -> None:
    rate = len(latencies) / elapsed
    print(
        f"{name:<28} {rate:>10,.0f} msg/s   p50 {statistics.median(latencies) * 1e6:7.1f} µs"
        f"   p99 {_percentile(latencies, 0.99) * 1e6:7.1f} µs"
        f"   max {max(latencies) * 1e6:8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus")
    args = parser.parse_args()

    started = time.perf_counter()
    rules()
    load_ms = (time.perf_counter() - started) * 1000
    examples = scoring.load_corpus(scoring.default_corpus_paths())
    typical = [example.text for example in examples if len(example.text) <= 300]
    texts = typical * args.rounds
    random.Random(7).shuffle(texts)
    print(f"rules loaded in {load_ms:.0f} ms; {len(typical)} corpus messages of ≤ 300 characters,")
    print(f"{args.rounds} rounds = {len(texts):,} screens, one core, one thread\n")

    for text in typical[:200]:  # warm the word cache as a running bot would have it
        screen(text)
    _report("safety.screen", *_measure(screen, texts))
    _report("naive 30-phrase substring", *_measure(naive_screen, texts))

    cold = [text + f" {index}" for index, text in enumerate(typical)]
    _report("safety.screen (cold words)", *_measure(screen, cold))

    print()
    long_text = " ".join(random.Random(3).choices(typical, k=200))[:10_000]
    _, latencies = _measure(screen, [long_text] * 50)
    print(f"10,000-character message: median {statistics.median(latencies) * 1000:.2f} ms, "
          f"max {max(latencies) * 1000:.2f} ms")  # fmt: skip
    for name, text in (
        ("1 MB of one letter", "x" * 1_000_000),
        ("1 MB of spaced letters", "k i l l " * 125_000),
        ("1 MB of one repeated phrase", "kill myself " * 87_000),
    ):
        _, latencies = _measure(screen, [text])
        print(f"{name}: {latencies[0] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
