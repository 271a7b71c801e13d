"""Tests for the mood chart image and its summary."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from bot.mood_chart import (
    SIZE,
    ChartLabels,
    MoodPoint,
    MoodSummary,
    Trend,
    render_mood_chart,
    summarise,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TODAY = date(2026, 3, 29)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LABELS = ChartLabels(("Very low", "Low", "Okay", "Good", "Very good"), MONTHS)
MISSING_FONT = "/nonexistent/font.ttf"


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def image_of(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def render(points: Sequence[MoodPoint], days: int = 30, font: str | None = None) -> Image.Image:
    return image_of(render_mood_chart(points, TODAY, days, labels=LABELS, font_path=font))


def changed(image: Image.Image, empty: Image.Image) -> set[tuple[int, int]]:
    """Return the pixels where an image differs from the chart without data."""
    difference = ImageChops.difference(image.convert("RGB"), empty.convert("RGB")).convert("L")
    width = difference.width
    return {(i % width, i // width) for i, value in enumerate(difference.tobytes()) if value}


# --- the image -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 30])
def test_zero_one_and_thirty_days_of_data_make_a_png(count: int) -> None:
    points = [MoodPoint(ago(n), 1 + n % 5, n % 3 == 0) for n in range(count)]
    png = render_mood_chart(points, TODAY, labels=LABELS)
    assert png.startswith(PNG_SIGNATURE)
    image = image_of(png)
    assert image.format == "PNG"
    assert image.size == SIZE


def test_a_chart_with_no_data_differs_from_one_with_a_check_in() -> None:
    assert changed(render([MoodPoint(TODAY, 3, False)]), render([]))


def test_a_note_day_is_marked_differently_from_a_day_without_a_note() -> None:
    empty = render([])
    plain = render([MoodPoint(ago(10), 3, False)])
    noted = render([MoodPoint(ago(10), 3, True)])
    assert changed(noted, plain)
    # The difference is the marker itself, not something elsewhere on the chart.
    xs = [x for x, _ in changed(noted, empty)]
    assert max(xs) - min(xs) < 40


def test_consecutive_days_are_joined_by_a_line() -> None:
    empty = render([])
    first, second = MoodPoint(ago(6), 2, False), MoodPoint(ago(5), 4, False)
    alone = changed(render([first]), empty) | changed(render([second]), empty)
    together = changed(render([first, second]), empty)
    assert together - alone


def test_a_day_without_a_check_in_is_left_as_a_gap() -> None:
    empty = render([])
    first, third = MoodPoint(ago(6), 2, False), MoodPoint(ago(4), 4, False)
    alone = changed(render([first]), empty) | changed(render([third]), empty)
    assert changed(render([first, third]), empty) <= alone


def test_check_ins_outside_the_window_are_not_drawn() -> None:
    outside = [MoodPoint(ago(30), 5, True), MoodPoint(TODAY + timedelta(days=1), 1, False)]
    assert render_mood_chart(outside, TODAY, labels=LABELS) == render_mood_chart(
        [], TODAY, labels=LABELS
    )


def test_the_last_check_in_of_a_day_is_the_one_drawn() -> None:
    twice = [MoodPoint(TODAY, 1, False), MoodPoint(TODAY, 4, True)]
    once = [MoodPoint(TODAY, 4, True)]
    assert render_mood_chart(twice, TODAY, labels=LABELS) == render_mood_chart(
        once, TODAY, labels=LABELS
    )


def test_the_chart_has_no_alarming_red() -> None:
    points = [MoodPoint(ago(n), 1 + n % 5, n % 2 == 0) for n in range(30)]
    image = render(points).convert("RGB")
    colours = image.getcolors(maxcolors=SIZE[0] * SIZE[1])
    assert colours is not None
    reds = [
        rgb
        for _, rgb in colours
        if isinstance(rgb, tuple) and rgb[0] > rgb[1] + 50 and rgb[0] > rgb[2] + 50
    ]
    assert len(colours) > 10
    assert not reds


@pytest.mark.parametrize("days", [1, 7, 14, 90, 366])
def test_other_periods_render(days: int) -> None:
    points = [MoodPoint(ago(n), 1 + n % 5, n % 4 == 0) for n in range(0, days, 2)]
    assert render(points, days).size == SIZE


def test_labels_outside_ascii_are_spelled_out_with_the_built_in_font() -> None:
    french = ChartLabels(("Très bas", "Bas", "Ça va", "Bien", "Très bien"), MONTHS, note="Noté")
    plain = ChartLabels(("Tres bas", "Bas", "Ca va", "Bien", "Tres bien"), MONTHS, note="Note")
    points = [MoodPoint(ago(2), 2, True)]
    assert render_mood_chart(
        points, TODAY, labels=french, font_path=MISSING_FONT
    ) == render_mood_chart(points, TODAY, labels=plain, font_path=MISSING_FONT)


def test_very_long_labels_still_fit() -> None:
    wordy = ChartLabels(("A very long way of saying low " * 5, "b", "c", "d", "e"), MONTHS)
    png = render_mood_chart([MoodPoint(TODAY, 1, False)], TODAY, labels=wordy)
    assert image_of(png).size == SIZE


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.builds(
            MoodPoint,
            day=st.dates(min_value=ago(40), max_value=TODAY + timedelta(days=3)),
            mood=st.integers(min_value=1, max_value=5),
            has_note=st.booleans(),
        ),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=60),
)
def test_any_valid_history_renders(points: list[MoodPoint], days: int) -> None:
    assert render(points, days).size == SIZE


def test_rendering_takes_well_under_100_ms() -> None:
    points = [MoodPoint(ago(n), 1 + n % 5, n % 3 == 0) for n in range(30)]
    render_mood_chart(points, TODAY, labels=LABELS)  # loads the font once
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        render_mood_chart(points, TODAY, labels=LABELS)
        timings.append(time.perf_counter() - began)
    assert min(timings) < 0.1


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("mood", [0, 6, -1, 100, True])
def test_moods_outside_one_to_five_are_refused(mood: int) -> None:
    with pytest.raises(ValueError):
        render_mood_chart([MoodPoint(TODAY, mood, False)], TODAY, labels=LABELS)


def test_a_mood_changed_after_checking_is_refused_too() -> None:
    point = MoodPoint(TODAY, 3, False)
    object.__setattr__(point, "mood", 7)
    with pytest.raises(ValueError):
        render_mood_chart([point], TODAY, labels=LABELS)
    with pytest.raises(ValueError):
        summarise([point], TODAY)


@pytest.mark.parametrize("days", [0, -3, 367])
def test_impossible_periods_are_refused(days: int) -> None:
    with pytest.raises(ValueError):
        render_mood_chart([], TODAY, days, labels=LABELS)
    with pytest.raises(ValueError):
        summarise([], TODAY, days)


def test_labels_need_five_moods_and_twelve_months() -> None:
    with pytest.raises(ValueError):
        ChartLabels(("a", "b", "c", "d"), MONTHS)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ChartLabels(("a", "b", "c", "d", "e"), MONTHS[:11])


def test_date_labels_follow_the_pattern() -> None:
    assert LABELS.day(date(2026, 3, 9)) == "9 Mar"
    assert ChartLabels(LABELS.moods, MONTHS, "{month} {day}").day(date(2026, 12, 25)) == "Dec 25"


# --- the summary -----------------------------------------------------------------------------


def test_summary_of_nothing() -> None:
    assert summarise([], TODAY) == MoodSummary(0, None, None, None, Trend.STEADY, 0)


def test_summary_of_one_check_in() -> None:
    assert summarise([MoodPoint(TODAY, 2, True)], TODAY) == MoodSummary(
        1, 2.0, 2, 2, Trend.STEADY, 1
    )


def test_summary_is_exact() -> None:
    points = [
        MoodPoint(ago(40), 1, False),  # outside the window
        MoodPoint(ago(20), 4, False),
        MoodPoint(ago(19), 5, True),
        MoodPoint(ago(10), 3, False),
        MoodPoint(ago(3), 2, False),
        MoodPoint(ago(1), 2, True),
        MoodPoint(TODAY, 2, False),
    ]
    summary = summarise(points, TODAY)
    assert summary == MoodSummary(
        check_ins=6, average=3.0, lowest=2, highest=5, trend=Trend.DOWN, low_days_in_a_row=3
    )
    assert summary.trend == "down"


@pytest.mark.parametrize(
    ("moods", "trend"),
    [
        ([1, 2, 3, 4], Trend.UP),
        ([4, 3, 2, 1], Trend.DOWN),
        ([3, 3, 3, 3], Trend.STEADY),
        ([3, 4, 3, 4], Trend.STEADY),  # halves 3.5 and 3.5
        ([2, 3, 3], Trend.UP),  # halves 2 and 3; the middle check-in belongs to neither
        ([3, 3, 2, 3, 3, 2], Trend.STEADY),  # halves 2.67 and 2.67
        ([1, 5], Trend.STEADY),  # two check-ins are too few to call a trend
    ],
)
def test_trend_compares_the_later_half_with_the_earlier(moods: list[int], trend: Trend) -> None:
    points = [MoodPoint(ago(len(moods) - n), mood, False) for n, mood in enumerate(moods)]
    assert summarise(points, TODAY).trend is trend


def test_low_days_in_a_row_skip_days_without_a_check_in() -> None:
    points = [
        MoodPoint(ago(9), 1, False),
        MoodPoint(ago(8), 3, False),
        MoodPoint(ago(6), 2, False),
        MoodPoint(ago(2), 1, False),
        MoodPoint(ago(1), 2, False),
    ]
    assert summarise(points, TODAY).low_days_in_a_row == 3


def test_a_better_day_ends_the_low_run() -> None:
    points = [MoodPoint(ago(2), 1, False), MoodPoint(ago(1), 1, False), MoodPoint(TODAY, 3, False)]
    assert summarise(points, TODAY).low_days_in_a_row == 0


def test_summary_counts_one_check_in_per_day_the_last() -> None:
    points = [MoodPoint(TODAY, 5, False), MoodPoint(TODAY, 1, False)]
    assert summarise(points, TODAY) == MoodSummary(1, 1.0, 1, 1, Trend.STEADY, 1)


def test_summary_window_follows_days() -> None:
    points = [MoodPoint(ago(n), 3, False) for n in range(10)]
    assert summarise(points, TODAY, days=7).check_ins == 7
    assert summarise(points, TODAY, days=1).check_ins == 1
