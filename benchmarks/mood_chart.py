"""Measure the /mood chart: render time for a month of check-ins, and next_due over a year.

Run: .venv/bin/python benchmarks/mood_chart.py [--charts N] [--font PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from bot.checkin_time import next_due
from bot.mood_chart import ChartLabels, MoodPoint, render_mood_chart, summarise

_LABELS = ChartLabels(
    ("1", "2", "3", "4", "5"),
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    note="note",
)


def _month(seed: int, today: date) -> list[MoodPoint]:
    """Return 30 days of check-ins with a few skipped days and some notes."""
    chooser = random.Random(seed)
    return [
        MoodPoint(today - timedelta(days=n), chooser.randint(1, 5), chooser.random() < 0.3)
        for n in range(30)
        if chooser.random() < 0.85
    ]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--charts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--font", default=None, help="a TrueType file instead of the default")
    args = parser.parse_args()

    today = date(2026, 3, 29)
    points = _month(args.seed, today)
    began = time.perf_counter()
    png = render_mood_chart(points, today, labels=_LABELS, font_path=args.font)
    first = time.perf_counter() - began

    timings = []
    for _ in range(args.charts):
        began = time.perf_counter()
        render_mood_chart(points, today, labels=_LABELS, font_path=args.font)
        timings.append(time.perf_counter() - began)
    timings.sort()

    began = time.perf_counter()
    for _ in range(args.charts):
        summarise(points, today)
    summary_seconds = (time.perf_counter() - began) / args.charts

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for _ in range(365):
        moment = next_due(clock(2, 30), "Europe/Berlin", moment)
    due_seconds = (time.perf_counter() - began) / 365

    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"first chart (loads the font): {first * 1000:7.1f} ms")
    print(
        f"chart, {len(points)} check-ins:       {statistics.median(timings) * 1000:7.1f} ms median"
        f", {p95 * 1000:.1f} ms p95, {len(png) / 1024:.0f} KiB PNG"
    )
    print(f"summary:                      {summary_seconds * 1e6:7.1f} µs")
    print(f"next_due across a DST year:   {due_seconds * 1e6:7.1f} µs per check-in")


if __name__ == "__main__":
    main()
