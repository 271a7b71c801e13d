"""Time-zone, time-of-day and scheduling rules for daily check-ins, as pure functions."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

MIN_OFFSET = timedelta(hours=-12)
MAX_OFFSET = timedelta(hours=14)
MAX_PAUSE_DAYS = 365

# Longer text is never a time zone or a time; checking first keeps the regexes cheap.
_MAX_INPUT = 64

# A fixed offset as people type it: "UTC+2", "gmt-10", "GMT+5:45", "+05:30", "UTC+5.5", "+0545".
_OFFSET = re.compile(
    r"(?:utc|gmt|ut)?\s*(?P<sign>[+\-\u2212])\s*"
    r"(?P<hours>[0-9]{1,2})(?:(?P<sep>[:.h])(?P<rest>[0-9]{1,2})|(?P<packed>[0-9]{2}))?",
    re.IGNORECASE,
)
_CANONICAL_OFFSET = re.compile(r"UTC(?P<sign>[+-])(?P<hours>[0-9]{2}):(?P<minutes>[0-9]{2})")

_UTC_NAMES = re.compile(r"(?:etc/)?(?:utc|uct|ut|z|zulu|universal|greenwich|gmt(?:[+-]?0)?)")
# Not offered to people: "EST", "MST" and "HST" are fixed offsets without the summer time that
# someone typing them expects, and "Etc/GMT+5" means UTC-5 (POSIX signs), a trap for anyone.
_HIDDEN_NAMES = re.compile(r"factory|localtime|posixrules|est|mst|hst|etc/gmt[+-][0-9]+")

# Countries that span several offsets: the common zones, most people first. Every other country
# gets the first zone tzdata's zone.tab lists for it, which is its main one.
_COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    "US": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "Pacific/Honolulu",
    ),
    "CA": (
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Regina",
        "America/Halifax",
        "America/St_Johns",
    ),
    "AU": (
        "Australia/Sydney",
        "Australia/Brisbane",
        "Australia/Adelaide",
        "Australia/Perth",
        "Australia/Darwin",
        "Australia/Hobart",
    ),
    "BR": ("America/Sao_Paulo", "America/Manaus", "America/Rio_Branco", "America/Noronha"),
    "MX": (
        "America/Mexico_City",
        "America/Cancun",
        "America/Mazatlan",
        "America/Hermosillo",
        "America/Tijuana",
    ),
    "RU": (
        "Europe/Moscow",
        "Europe/Kaliningrad",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Yakutsk",
        "Asia/Vladivostok",
        "Asia/Magadan",
        "Asia/Kamchatka",
    ),
    "ID": ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
    "ES": ("Europe/Madrid", "Atlantic/Canary"),
    "PT": ("Europe/Lisbon", "Atlantic/Azores"),
    "CL": ("America/Santiago", "Pacific/Easter"),
}

# "9", "09:30", "9pm", "9:30 p.m.", "21h", "21h30", "21.30", "0930".
_TIME_OF_DAY = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:\s*(?:[:.h])\s*(?P<minute>[0-9]{2})?|(?P<packed>[0-9]{2}))?"
    r"\s*(?:(?P<meridiem>[ap])\.?\s*m?\.?)?",
    re.IGNORECASE,
)


def parse_time_zone(text: str) -> str | None:
    """Return the stored form of a typed time zone ("Europe/Berlin", "UTC", "UTC+05:45").

    Accepts IANA names in any case (spaces for underscores too), UTC and GMT, and fixed offsets
    from -12:00 to +14:00 typed as "UTC+2", "gmt-10", "GMT+5:45", "+05:30" or "UTC+5.5".
    Returns None for anything else; never raises.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    cleaned = text.strip()
    if not cleaned:
        return None
    if _UTC_NAMES.fullmatch(cleaned.lower()):
        return "UTC"
    match = _OFFSET.fullmatch(cleaned)
    if match is not None:
        offset = _offset_of(match)
        return None if offset is None else _offset_name(offset)
    name = _zone_names().get(re.sub(r"\s+", "_", cleaned).lower())
    if name is None:
        return None
    return "UTC" if _UTC_NAMES.fullmatch(name.lower()) else name


def zone_of(stored: str) -> tzinfo:
    """Return the tzinfo for a stored time zone: a fixed `timezone` for offsets, else ZoneInfo.

    Raises ValueError when `stored` is not a time zone that parse_time_zone accepts.
    """
    canonical = parse_time_zone(stored)
    if canonical is None:
        raise ValueError("not a time zone")
    return _zone(canonical)


def zones_for_country(code: str) -> list[str]:
    """Return the common IANA zones of a country (ISO 3166 alpha-2), to offer as buttons."""
    if not isinstance(code, str):
        return []
    key = code.strip().upper()
    if key in _COUNTRY_ZONES:
        return list(_COUNTRY_ZONES[key])
    main = _main_zones().get(key)
    return [] if main is None else [main]


def parse_time_of_day(text: str) -> time | None:
    """Return the time a person typed ("9", "09:30", "9pm", "21h", "21.30"), or None."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or match["packed"] or 0)
    meridiem = (match["meridiem"] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def next_due(local_time: time, zone: str, after: datetime) -> datetime:
    """Return the next UTC instant strictly after `after` when the local clock shows local_time.

    On the day clocks spring forward, a local time inside the gap is due at the first instant
    after the gap (02:30 in Berlin becomes 03:00). On the day they fall back, an ambiguous
    local time is due once, at its first occurrence, never twice.
    """
    _require_aware(after)
    tz = zone_of(zone)
    wall = time(local_time.hour, local_time.minute, local_time.second, local_time.microsecond)
    start = after.astimezone(tz).date()
    # From the day before: a zone that skips a whole day can push that day's instant forward.
    for shift in range(-1, 4):
        candidate = _instant(start + timedelta(days=shift), wall, tz)
        if candidate > after:
            return candidate
    raise AssertionError("no local day in five has the time")  # pragma: no cover


def in_quiet_hours(now_utc: datetime, zone: str, start: time, end: time) -> bool:
    """Say whether the local time is in the quiet window [start, end), which may cross midnight.

    A window whose start equals its end is empty.
    """
    _require_aware(now_utc)
    local = now_utc.astimezone(zone_of(zone)).time().replace(tzinfo=None)
    start, end = _naive(start), _naive(end)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def deliverable_at(
    due_utc: datetime,
    zone: str,
    quiet_start: time | None,
    quiet_end: time | None,
    muted_until: datetime | None,
) -> datetime:
    """Return the first instant at or after due_utc outside quiet hours and not muted.

    Quiet hours apply when both ends are given; a mute lasts until muted_until (exclusive).
    """
    _require_aware(due_utc)
    moment = due_utc.astimezone(UTC)
    if muted_until is not None:
        _require_aware(muted_until)
        moment = max(moment, muted_until.astimezone(UTC))
    if quiet_start is None or quiet_end is None:
        return moment
    # The second and third rounds only matter on a fall-back day, when the end of the window
    # comes round twice on the wall clock.
    for _ in range(3):
        if not in_quiet_hours(moment, zone, quiet_start, quiet_end):
            return moment
        moment = next_due(quiet_end, zone, moment)
    return moment


def due_action(
    due_utc: datetime, now_utc: datetime, grace: timedelta
) -> Literal["send", "skip", "wait"]:
    """Decide what to do with a check-in: wait before it is due, send within grace, then skip.

    Skipping after the grace period means a person who was due while the bot was down gets at
    most one late check-in, or none: never a pile of them.
    """
    _require_aware(due_utc)
    _require_aware(now_utc)
    if now_utc < due_utc:
        return "wait"
    if now_utc - due_utc <= grace:
        return "send"
    return "skip"


def pause_until(now_utc: datetime, days: int) -> datetime:
    """Return when a pause of `days` days (1 to MAX_PAUSE_DAYS) that starts now ends."""
    _require_aware(now_utc)
    if isinstance(days, bool) or not 1 <= days <= MAX_PAUSE_DAYS:
        raise ValueError(f"a pause lasts 1 to {MAX_PAUSE_DAYS} days")
    return now_utc.astimezone(UTC) + timedelta(days=days)


def _offset_of(match: re.Match[str]) -> timedelta | None:
    """Return the offset a matched "UTC+5:45" means, or None outside -12:00..+14:00."""
    hours = int(match["hours"])
    minutes: int | None
    if match["packed"] is not None:
        minutes = int(match["packed"])
    elif match["rest"] is None:
        if match["sep"] is not None:
            return None
        minutes = 0
    elif match["sep"] == ".":
        minutes = _decimal_or_clock_minutes(match["rest"])
    else:
        minutes = int(match["rest"]) if len(match["rest"]) == 2 else None
    # Every offset in use today is a whole quarter hour; anything else is a typo.
    if minutes is None or minutes % 15 or minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    if match["sign"] != "+":
        offset = -offset
    return offset if MIN_OFFSET <= offset <= MAX_OFFSET else None


def _decimal_or_clock_minutes(rest: str) -> int | None:
    """Read the digits after a dot: "5.5" and "5.75" are decimal hours, "5.30" and "5.45" clock.

    The two readings never disagree on a quarter hour, so both are accepted.
    """
    decimal = int(rest) * 60 / 10 ** len(rest)
    if decimal.is_integer() and int(decimal) % 15 == 0:
        return int(decimal)
    if len(rest) == 2:
        return int(rest)
    return None


def _offset_name(offset: timedelta) -> str:
    """Return the stored form of a fixed offset: "UTC" or "UTC+05:45"."""
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@functools.cache
def _zone(canonical: str) -> tzinfo:
    """Return the tzinfo for a canonical stored name."""
    match = _CANONICAL_OFFSET.fullmatch(canonical)
    if match is None:
        return ZoneInfo(canonical)
    offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
    return timezone(offset if match["sign"] == "+" else -offset, canonical)


@functools.cache
def _zone_names() -> dict[str, str]:
    """Map each offered IANA name, lower-cased, to its spelling."""
    return {
        name.lower(): name
        for name in available_timezones()
        if not _HIDDEN_NAMES.fullmatch(name.lower())
    }


@functools.cache
def _main_zones() -> dict[str, str]:
    """Map each country code to the first zone zone.tab lists for it."""
    main: dict[str, str] = {}
    for line in _zone_table().splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        main.setdefault(fields[0].strip().upper(), fields[2].strip())
    known = _zone_names()
    return {code: zone for code, zone in main.items() if zone.lower() in known}


def _zone_table() -> str:
    """Read zone.tab from the tzdata package, or from the system's zoneinfo."""
    try:
        return (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        pass
    for folder in ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo"):
        path = Path(folder) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


def _instant(day: date, wall: time, tz: tzinfo) -> datetime:
    """Return the UTC instant of a local wall time on a day: a gap moves to its end, fold=0."""
    local = datetime.combine(day, wall, tzinfo=tz)
    early = local.astimezone(UTC)
    if early.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return early
    # In a gap fold=0 reads the time with the offset from before the jump, which lands after
    # it, and fold=1 with the offset from after, which lands before it: the jump is in between.
    later, before = early, local.replace(fold=1).astimezone(UTC)
    if before > later:
        later, before = before, later
    offset_after = later.astimezone(tz).utcoffset()
    low, high = 0, int((later - before).total_seconds())
    while low < high:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle + 1
    return before + timedelta(seconds=low)


def _naive(value: time) -> time:
    """Drop a time's tzinfo: quiet hours are read on the local wall clock."""
    return value.replace(tzinfo=None)


def _require_aware(moment: datetime) -> None:
    """Refuse a naive datetime: every instant here is a real point in time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected an aware datetime")
