"""The mood chart sent by /mood: a calm PNG of recent check-ins, and its summary in numbers."""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

MOODS = range(1, 6)
LOW_MOOD = 2  # a mood at or below this counts towards a run of low days
MAX_DAYS = 366
TREND_MIN_CHECK_INS = 3
TREND_THRESHOLD = 0.5  # the difference between halves, in mood steps, that counts as a trend
SIZE = (800, 500)  # readable on a phone without zooming

# Calm, low-contrast colours; no red anywhere, so a low day never looks like an alarm.
_BACKGROUND = (250, 248, 245)
_GRID = (226, 222, 216)
_TEXT = (98, 94, 90)
_LINE = (140, 178, 188)
_POINT = (58, 118, 134)
_NOTE = (126, 104, 168)
_HALO = (255, 255, 255)

# Drawn at twice the size and scaled down: Pillow draws without anti-aliasing.
_SCALE = 2
_FONT_SIZE = 15
_MAX_LABEL_WIDTH = 190
# Fonts tried before Pillow's built-in one, which only has ASCII glyphs.
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)
# What NFKD leaves alone but ASCII can still spell, for the built-in font.
_ASCII_SPELLINGS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l"}
)


@dataclass(frozen=True)
class MoodPoint:
    """One day's check-in: the mood from 1 (lowest) to 5, and whether it came with a note."""

    day: date
    mood: int
    has_note: bool

    def __post_init__(self) -> None:
        _check_mood(self.mood)


@dataclass(frozen=True)
class ChartLabels:
    """The words on the chart, in the person's language (they come from YAML, not code).

    `moods` names moods 1 to 5 in order, `months` the twelve months (short forms), and
    `date_pattern` places "{day}" and "{month}" ("{day} {month}", "{month} {day}").
    `note`, when given, labels the marker of days with a note in a small legend.
    """

    moods: tuple[str, str, str, str, str]
    months: tuple[str, ...]
    date_pattern: str = "{day} {month}"
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.moods) != len(MOODS):
            raise ValueError("a chart needs a label for each of the five moods")
        if len(self.months) != 12:
            raise ValueError("a chart needs the names of the twelve months")

    def day(self, day: date) -> str:
        """Return the label of a day on the date axis."""
        return self.date_pattern.replace("{day}", str(day.day)).replace(
            "{month}", self.months[day.month - 1]
        )


class Trend(StrEnum):
    """How moods moved over the period: the later check-ins against the earlier ones."""

    UP = "up"
    DOWN = "down"
    STEADY = "steady"


@dataclass(frozen=True)
class MoodSummary:
    """The chart in numbers, for a one-line text that screen readers can read.

    `low_days_in_a_row` counts the latest check-ins at or below LOW_MOOD back to the last
    better one; a day without a check-in neither counts nor breaks the run.
    """

    check_ins: int
    average: float | None
    lowest: int | None
    highest: int | None
    trend: Trend
    low_days_in_a_row: int


def summarise(points: Sequence[MoodPoint], today: date, days: int = 30) -> MoodSummary:
    """Summarise the check-ins of the last `days` days up to and including today.

    When a day has several check-ins, the last one in `points` counts.
    """
    moods = [point.mood for point in _by_day(points, today, days).values()]
    if not moods:
        return MoodSummary(0, None, None, None, Trend.STEADY, 0)
    low_run = 0
    for mood in reversed(moods):
        if mood > LOW_MOOD:
            break
        low_run += 1
    return MoodSummary(
        check_ins=len(moods),
        average=sum(moods) / len(moods),
        lowest=min(moods),
        highest=max(moods),
        trend=_trend(moods),
        low_days_in_a_row=low_run,
    )


def render_mood_chart(
    points: Sequence[MoodPoint],
    today: date,
    days: int = 30,
    *,
    labels: ChartLabels,
    font_path: str | Path | None = None,
) -> bytes:
    """Draw the last `days` days of moods as a PNG.

    One point per day with a check-in (the last one when there are several), lines between
    consecutive days, gaps left as gaps, days with a note marked with a ring. `font_path`
    names a TrueType font; without one a system DejaVu Sans is used when present, else
    Pillow's built-in font, with the labels spelled in ASCII.
    """
    by_day = _by_day(points, today, days)
    face = _typeface(_FONT_SIZE * _SCALE, None if font_path is None else str(font_path))
    width, height = SIZE[0] * _SCALE, SIZE[1] * _SCALE
    image = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = _SCALE

    mood_labels = [face.fit(label, _MAX_LABEL_WIDTH * unit) for label in labels.moods]
    left = max(face.width(label) for label in mood_labels) + 30 * unit
    right, top, bottom = width - 32 * unit, 56 * unit, height - 60 * unit
    inner = 18 * unit  # keeps the first and last day's points off the plot's edges

    def x_of(index: int) -> float:
        if days == 1:
            return (left + right) / 2
        return left + inner + index * (right - left - 2 * inner) / (days - 1)

    def y_of(mood: int) -> float:
        return bottom - inner - (mood - 1) * (bottom - top - 2 * inner) / 4

    for mood, label in zip(MOODS, mood_labels, strict=True):
        y = y_of(mood)
        draw.line([(left, y), (right, y)], fill=_GRID, width=unit)
        face.draw(draw, label, (left - 14 * unit, y), anchor="right")

    first = today - timedelta(days=days - 1)
    step = _label_step(days)
    for index in range(days):
        x = x_of(index)
        draw.line([(x, bottom), (x, bottom + 5 * unit)], fill=_GRID, width=unit)
        if (days - 1 - index) % step == 0:
            day_label = face.fit(labels.day(first + timedelta(days=index)), 90 * unit)
            face.draw(draw, day_label, (x, bottom + 22 * unit), anchor="center")

    placed = {
        (day - first).days: (x_of((day - first).days), y_of(point.mood), point.has_note)
        for day, point in by_day.items()
    }
    for index, (x, y, _) in placed.items():
        if index + 1 in placed:
            later_x, later_y, _ = placed[index + 1]
            draw.line([(x, y), (later_x, later_y)], fill=_LINE, width=4 * unit, joint="curve")
    for x, y, has_note in placed.values():
        _marker(draw, x, y, has_note, unit)

    if labels.note:
        note = face.fit(labels.note, 300 * unit)
        marker_x = right - face.width(note) - 16 * unit
        _marker(draw, marker_x, 26 * unit, True, unit)
        face.draw(draw, note, (marker_x + 14 * unit, 26 * unit), anchor="left")

    chart = image.reduce(_SCALE)
    out = io.BytesIO()
    chart.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, has_note: bool, unit: int) -> None:
    """Draw one day's point: a dot, or for a day with a note a larger ring in another colour."""
    if has_note:
        outer, ring = 10 * unit, 4 * unit
        draw.ellipse(
            [x - outer, y - outer, x + outer, y + outer], fill=_NOTE, outline=_HALO, width=2 * unit
        )
        draw.ellipse([x - ring, y - ring, x + ring, y + ring], fill=_HALO)
    else:
        radius = 7 * unit
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=_POINT,
            outline=_HALO,
            width=2 * unit,
        )


@dataclass(frozen=True)
class _Typeface:
    """A font and whether it can only draw ASCII (Pillow's built-in one)."""

    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    ascii_only: bool

    def spell(self, text: str) -> str:
        """Return the text as this font can draw it."""
        if not self.ascii_only:
            return text
        folded = unicodedata.normalize("NFKD", text.translate(_ASCII_SPELLINGS))
        return "".join(char for char in folded if not unicodedata.combining(char))

    def width(self, text: str) -> int:
        """Return the drawn width of the text in pixels."""
        left, _, right, _ = self.font.getbbox(self.spell(text))
        return math.ceil(right - left)

    def fit(self, text: str, limit: int) -> str:
        """Shorten the text with an ellipsis until it is at most `limit` pixels wide."""
        text = " ".join(text.split())
        if self.width(text) <= limit:
            return text
        ellipsis = "..." if self.ascii_only else "\u2026"
        while text and self.width(text + ellipsis) > limit:
            text = text[:-1]
        return text.rstrip() + ellipsis

    def draw(
        self, draw: ImageDraw.ImageDraw, text: str, at: tuple[float, float], anchor: str
    ) -> None:
        """Draw the text vertically centred on `at`, to its left, right or centred on it."""
        spelled = self.spell(text)
        left, top, right, bottom = draw.textbbox((0, 0), spelled, font=self.font)
        x = {"left": at[0], "right": at[0] - right, "center": at[0] - (left + right) / 2}[anchor]
        y = at[1] - (top + bottom) / 2
        draw.text((x, y), spelled, font=self.font, fill=_TEXT)


@functools.cache
def _typeface(size: int, path: str | None) -> _Typeface:
    """Load the chart's font once per size: the given file, a system DejaVu Sans, or Pillow's."""
    for candidate in (path,) if path is not None else _FONT_FILES:
        if Path(candidate).is_file():
            try:
                return _Typeface(ImageFont.truetype(candidate, size), ascii_only=False)
            except OSError:
                continue
    return _Typeface(ImageFont.load_default(size=size), ascii_only=True)


def _by_day(points: Sequence[MoodPoint], today: date, days: int) -> dict[date, MoodPoint]:
    """Keep the last check-in of each day in the window, in date order."""
    if isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a chart shows 1 to {MAX_DAYS} days")
    first = today - timedelta(days=days - 1)
    kept: dict[date, MoodPoint] = {}
    for point in points:
        _check_mood(point.mood)
        if first <= point.day <= today:
            kept[point.day] = point
    return dict(sorted(kept.items()))


def _trend(moods: Sequence[int]) -> Trend:
    """Compare the mean of the later half of the check-ins with the earlier half."""
    if len(moods) < TREND_MIN_CHECK_INS:
        return Trend.STEADY
    half = len(moods) // 2
    earlier = sum(moods[:half]) / half
    later = sum(moods[-half:]) / half
    if later - earlier >= TREND_THRESHOLD:
        return Trend.UP
    if earlier - later >= TREND_THRESHOLD:
        return Trend.DOWN
    return Trend.STEADY


def _label_step(days: int) -> int:
    """Return how many days apart date labels go: daily, every other day, or whole weeks."""
    for step in (1, 2, 7, 14, 28, 56):
        if days / step <= 7:
            return step
    return 56


def _check_mood(mood: int) -> None:
    """Refuse a mood outside 1..5 (booleans too, which Python counts as ints)."""
    if isinstance(mood, bool) or not isinstance(mood, int) or mood not in MOODS:
        raise ValueError("a mood is a whole number from 1 to 5")
