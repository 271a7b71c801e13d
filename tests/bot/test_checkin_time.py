"""Tests for the check-in time rules: zones, times of day, daylight saving, quiet hours, grace."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checkin_time import (
    MAX_PAUSE_DAYS,
    deliverable_at,
    due_action,
    in_quiet_hours,
    next_due,
    parse_time_of_day,
    parse_time_zone,
    pause_until,
    zone_of,
    zones_for_country,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    zone: str, year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


def due_days(local_time: time, zone: str, start: datetime, count: int) -> list[datetime]:
    """Follow next_due from `start` for `count` check-ins."""
    moments = []
    moment = start
    for _ in range(count):
        moment = next_due(local_time, zone, moment)
        moments.append(moment)
    return moments


# --- parse_time_zone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN \n", "Europe/Berlin"),
        ("america/new_york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("asia/kathmandu", "Asia/Kathmandu"),
        ("Pacific/Honolulu", "Pacific/Honolulu"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "UTC"),
        ("gmt", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Z", "UTC"),
        ("UTC+0", "UTC"),
        ("GMT-0", "UTC"),
        ("+00:00", "UTC"),
        ("UTC+2", "UTC+02:00"),
        ("utc+2", "UTC+02:00"),
        ("UTC +2", "UTC+02:00"),
        ("UTC + 02", "UTC+02:00"),
        ("utc-10", "UTC-10:00"),
        ("UTC-10", "UTC-10:00"),
        ("UTC\u221210", "UTC-10:00"),
        ("GMT+5:45", "UTC+05:45"),
        ("gmt+05:45", "UTC+05:45"),
        ("UTC+5:45", "UTC+05:45"),
        ("UTC+5.45", "UTC+05:45"),
        ("UTC+5.75", "UTC+05:45"),
        ("+0545", "UTC+05:45"),
        ("+05:30", "UTC+05:30"),
        ("+5:30", "UTC+05:30"),
        ("UTC+5.5", "UTC+05:30"),
        ("UTC+5.30", "UTC+05:30"),
        ("UTC+5h30", "UTC+05:30"),
        ("-03:30", "UTC-03:30"),
        ("UTC-9.5", "UTC-09:30"),
        ("UTC+14", "UTC+14:00"),
        ("UTC+14:00", "UTC+14:00"),
        ("UTC-12", "UTC-12:00"),
        ("UTC-12:00", "UTC-12:00"),
        ("UTC+12:45", "UTC+12:45"),
    ],
)
def test_accepted_time_zones_are_stored_canonically(typed: str, stored: str) -> None:
    assert parse_time_zone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "Berlin",
        "Europe/Berlinn",
        "Mars/Olympus_Mons",
        "UTC+15",
        "UTC+14:15",
        "UTC-13",
        "UTC-12:30",
        "+24:00",
        "UTC+5:17",
        "UTC+5:60",
        "UTC+5:5",
        "UTC+5.45.",
        "UTC+5.3",
        "UTC+5:",
        "UTC+",
        "UTC++2",
        "UTC 2",
        "2",
        "+123",
        "five",
        "EST",
        "hst",
        "Etc/GMT+5",
        "Factory",
        "localtime",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/Berlin",
        "Europe/Berlin\x00",
        "\x00",
        "UTC+\u0662",  # an Arabic-Indic digit
        "x" * 1000,
        "Europe/Berlin; DROP TABLE person",
    ],
)
def test_nonsense_time_zones_are_rejected(typed: str) -> None:
    assert parse_time_zone(typed) is None


@given(st.text(max_size=80))
def test_parse_time_zone_never_raises(text: str) -> None:
    stored = parse_time_zone(text)
    if stored is not None:
        assert parse_time_zone(stored) == stored
        zone_of(stored)


@given(st.from_regex(r"(?i)(utc|gmt)?\s?[+\-][0-9]{1,2}([:.h][0-9]{1,2})?", fullmatch=True))
def test_typed_offsets_never_raise_and_stay_in_range(text: str) -> None:
    stored = parse_time_zone(text)
    if stored is not None:
        offset = zone_of(stored).utcoffset(None)
        assert offset is not None
        assert timedelta(hours=-12) <= offset <= timedelta(hours=14)
        assert offset % timedelta(minutes=15) == timedelta(0)


@given(st.integers(min_value=-12 * 4, max_value=14 * 4))
def test_every_quarter_hour_offset_round_trips(quarters: int) -> None:
    offset = timedelta(minutes=15 * quarters)
    sign = "-" if quarters < 0 else "+"
    minutes = abs(quarters) * 15
    typed = f"GMT{sign}{minutes // 60}:{minutes % 60:02d}"
    stored = parse_time_zone(typed)
    assert stored is not None
    assert zone_of(stored).utcoffset(None) == offset
    assert parse_time_zone(stored) == stored


def test_zone_of_gives_fixed_offsets_and_zone_info() -> None:
    assert zone_of("UTC+05:45") == timezone(timedelta(hours=5, minutes=45))
    assert zone_of("UTC-10:00") == timezone(timedelta(hours=-10))
    assert zone_of("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert zone_of("UTC") == ZoneInfo("UTC")


def test_zone_of_refuses_what_was_never_stored() -> None:
    with pytest.raises(ValueError):
        zone_of("Mars/Olympus_Mons")


# --- zones_for_country -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "first"),
    [
        ("US", "America/New_York"),
        ("ca", "America/Toronto"),
        ("AU", "Australia/Sydney"),
        ("BR", "America/Sao_Paulo"),
        ("MX", "America/Mexico_City"),
        ("RU", "Europe/Moscow"),
    ],
)
def test_countries_with_several_zones_offer_several(code: str, first: str) -> None:
    zones = zones_for_country(code)
    assert zones[0] == first
    assert 2 <= len(zones) <= 12
    assert len(set(zones)) == len(zones)


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("DE", "Europe/Berlin"),
        ("de", "Europe/Berlin"),
        (" gb ", "Europe/London"),
        ("NP", "Asia/Kathmandu"),
        ("IN", "Asia/Kolkata"),
        ("FR", "Europe/Paris"),
        ("JP", "Asia/Tokyo"),
        ("AR", "America/Argentina/Buenos_Aires"),
    ],
)
def test_other_countries_offer_their_main_zone(code: str, zone: str) -> None:
    assert zones_for_country(code) == [zone]


@pytest.mark.parametrize("code", ["", "XX", "DEU", "Germany", "../"])
def test_unknown_countries_offer_nothing(code: str) -> None:
    assert zones_for_country(code) == []


@pytest.mark.parametrize(
    "code", ["US", "CA", "AU", "BR", "MX", "RU", "ID", "ES", "PT", "CL", "DE"]
)
def test_offered_zones_are_accepted_as_typed(code: str) -> None:
    for zone in zones_for_country(code):
        assert parse_time_zone(zone) == zone


# --- parse_time_of_day -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9", time(9)),
        ("09", time(9)),
        ("0", time(0)),
        ("23", time(23)),
        ("09:30", time(9, 30)),
        ("9:30", time(9, 30)),
        (" 9:30 ", time(9, 30)),
        ("21.30", time(21, 30)),
        ("21h", time(21)),
        ("21H", time(21)),
        ("21h30", time(21, 30)),
        ("0930", time(9, 30)),
        ("2130", time(21, 30)),
        ("930", time(9, 30)),
        ("9pm", time(21)),
        ("9 PM", time(21)),
        ("9p.m.", time(21)),
        ("9:30 p.m.", time(21, 30)),
        ("9am", time(9)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("12:15 am", time(0, 15)),
        ("00:00", time(0)),
        ("23:59", time(23, 59)),
    ],
)
def test_accepted_times_of_day(typed: str, expected: time) -> None:
    assert parse_time_of_day(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "24",
        "24:00",
        "25",
        "9:60",
        "9:5",
        "13pm",
        "0am",
        "00pm",
        "nine",
        "9 o'clock tomorrow",
        "-9",
        "9:30:00:00",
        "12345",
        "\u0669",  # an Arabic-Indic nine
        "9" * 1000,
    ],
)
def test_nonsense_times_of_day_are_rejected(typed: str) -> None:
    assert parse_time_of_day(typed) is None


@given(st.text(max_size=80))
def test_parse_time_of_day_never_raises(text: str) -> None:
    parsed = parse_time_of_day(text)
    assert parsed is None or isinstance(parsed, time)


@given(st.from_regex(r"[0-9]{1,2}([:.h]\s?[0-9]{0,2})?\s?([aApP]\.?[mM]?\.?)?", fullmatch=True))
def test_time_like_text_never_raises(text: str) -> None:
    parse_time_of_day(text)


# --- next_due --------------------------------------------------------------------------------


def test_next_due_is_today_when_the_time_is_still_ahead() -> None:
    after = local("Europe/Berlin", 2025, 6, 1, 8, 0)
    assert next_due(time(9), "Europe/Berlin", after) == utc(2025, 6, 1, 7, 0)


def test_next_due_is_strictly_after() -> None:
    due = next_due(time(9), "Europe/Berlin", utc(2025, 6, 1, 0, 0))
    assert next_due(time(9), "Europe/Berlin", due) == due + timedelta(days=1)


def test_next_due_is_aware_utc() -> None:
    due = next_due(time(9), "Asia/Kathmandu", utc(2025, 6, 1))
    assert due.utcoffset() == timedelta(0)


def test_next_due_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError):
        next_due(time(9), "Europe/Berlin", datetime(2025, 6, 1))


def test_berlin_spring_forward_keeps_the_wall_clock() -> None:
    # 2025-03-30: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    days = due_days(time(9), "Europe/Berlin", utc(2025, 3, 28, 12), 3)
    assert days == [utc(2025, 3, 29, 8), utc(2025, 3, 30, 7), utc(2025, 3, 31, 7)]


def test_berlin_spring_forward_sends_a_missing_time_at_the_end_of_the_gap() -> None:
    days = due_days(time(2, 30), "Europe/Berlin", utc(2025, 3, 28, 12), 3)
    assert days == [utc(2025, 3, 29, 1, 30), utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 30)]
    assert days[1].astimezone(ZoneInfo("Europe/Berlin")).time() == time(3, 0)


def test_berlin_fall_back_sends_an_ambiguous_time_once_at_its_first_occurrence() -> None:
    # 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:30 happens twice.
    days = due_days(time(2, 30), "Europe/Berlin", utc(2025, 10, 24, 12), 3)
    assert days == [utc(2025, 10, 25, 0, 30), utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)]
    # Asked again between the two occurrences: still not a second check-in that day.
    assert next_due(time(2, 30), "Europe/Berlin", utc(2025, 10, 26, 1)) == utc(2025, 10, 27, 1, 30)


def test_berlin_fall_back_keeps_the_wall_clock() -> None:
    days = due_days(time(21), "Europe/Berlin", utc(2025, 10, 25, 12), 2)
    assert days == [utc(2025, 10, 25, 19), utc(2025, 10, 26, 20)]


def test_new_york_spring_forward() -> None:
    # 2025-03-09: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    days = due_days(time(2, 30), "America/New_York", utc(2025, 3, 8, 0), 3)
    assert days == [utc(2025, 3, 8, 7, 30), utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 30)]
    morning = due_days(time(8), "America/New_York", utc(2025, 3, 8, 14), 2)
    assert morning == [utc(2025, 3, 9, 12), utc(2025, 3, 10, 12)]


def test_new_york_fall_back() -> None:
    # 2025-11-02: 02:00 EDT becomes 01:00 EST at 06:00 UTC, so 01:30 happens twice.
    days = due_days(time(1, 30), "America/New_York", utc(2025, 11, 1, 12), 3)
    assert days == [utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30), utc(2025, 11, 4, 6, 30)]
    evening = due_days(time(20), "America/New_York", utc(2025, 11, 1, 12), 2)
    assert evening == [utc(2025, 11, 2, 0), utc(2025, 11, 3, 1)]


@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "UTC+5:45"])
def test_kathmandu_quarter_hour_offset(zone: str) -> None:
    stored = parse_time_zone(zone)
    assert stored is not None
    days = due_days(time(9), stored, utc(2025, 3, 29, 12), 3)
    assert days == [utc(2025, 3, 30, 3, 15), utc(2025, 3, 31, 3, 15), utc(2025, 4, 1, 3, 15)]


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "UTC-10"])
def test_honolulu_minus_ten_crosses_the_utc_date(zone: str) -> None:
    stored = parse_time_zone(zone)
    assert stored is not None
    # 21:00 in Honolulu is 07:00 UTC on the next UTC date, all year round.
    days = due_days(time(21), stored, utc(2025, 11, 1, 12), 3)
    assert days == [utc(2025, 11, 2, 7), utc(2025, 11, 3, 7), utc(2025, 11, 4, 7)]


def test_the_same_minute_in_kathmandu_and_as_typed_offset_agree_all_year() -> None:
    named = due_days(time(6, 15), "Asia/Kathmandu", utc(2025, 1, 1), 365)
    typed = due_days(time(6, 15), "UTC+05:45", utc(2025, 1, 1), 365)
    assert named == typed


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("wall", [time(0), time(1, 30), time(2), time(2, 30), time(23, 59)])
def test_a_year_of_check_ins_is_one_per_local_day(zone: str, wall: time) -> None:
    days = due_days(wall, zone, local(zone, 2024, 12, 31, 23, 59, 30), 366)
    local_dates = [day.astimezone(ZoneInfo(zone)).date() for day in days]
    assert local_dates == [date(2025, 1, 1) + timedelta(days=n) for n in range(366)]
    assert days == sorted(set(days))


@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC-10:00"]),
    st.times(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 1, 1)),
)
def test_next_due_shows_the_wall_time_or_ends_a_gap(
    zone: str, wall: time, naive: datetime
) -> None:
    after = naive.replace(tzinfo=UTC)
    due = next_due(wall, zone, after)
    assert after < due <= after + timedelta(days=2)
    shown = due.astimezone(zone_of(zone))
    if shown.time() != wall:
        # Only a time skipped by spring forward moves, and then to the end of the gap.
        just_before = (due - timedelta(microseconds=1)).astimezone(zone_of(zone))
        assert just_before.utcoffset() != shown.utcoffset()
        assert shown.time() > wall


# --- quiet hours and muting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(23, 30), True),
        (time(0, 0), True),
        (time(6, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_across_midnight(wall: time, quiet: bool) -> None:
    now = datetime.combine(date(2025, 6, 1), wall, tzinfo=ZoneInfo("Europe/Berlin"))
    assert in_quiet_hours(now.astimezone(UTC), "Europe/Berlin", time(22), time(7)) is quiet


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [(time(12, 59), False), (time(13), True), (time(13, 59), True), (time(14), False)],
)
def test_quiet_hours_within_a_day(wall: time, quiet: bool) -> None:
    now = datetime.combine(date(2025, 6, 1), wall, tzinfo=timezone(timedelta(hours=-10)))
    assert in_quiet_hours(now, "UTC-10", time(13), time(14)) is quiet


def test_an_empty_quiet_window_is_never_quiet() -> None:
    assert not in_quiet_hours(utc(2025, 6, 1, 12), "UTC", time(8), time(8))


def test_quiet_hours_read_the_local_clock_not_utc() -> None:
    # 23:00 UTC is 04:45 the next morning in Kathmandu.
    assert in_quiet_hours(utc(2025, 6, 1, 23), "Asia/Kathmandu", time(22), time(7))
    assert not in_quiet_hours(utc(2025, 6, 1, 23), "Asia/Kathmandu", time(0), time(4, 30))


def test_deliverable_at_is_due_when_nothing_holds_it_back() -> None:
    due = utc(2025, 6, 1, 12)
    assert deliverable_at(due, "Europe/Berlin", None, None, None) == due
    assert deliverable_at(due, "Europe/Berlin", time(22), time(7), None) == due
    assert deliverable_at(due, "Europe/Berlin", time(22), time(7), utc(2025, 6, 1, 11)) == due


def test_deliverable_at_waits_for_the_end_of_quiet_hours() -> None:
    due = local("Europe/Berlin", 2025, 6, 1, 23, 30)
    expected = local("Europe/Berlin", 2025, 6, 2, 7, 0)
    assert deliverable_at(due, "Europe/Berlin", time(22), time(7), None) == expected


def test_deliverable_at_waits_for_a_mute_to_end() -> None:
    due = utc(2025, 6, 1, 12)
    muted = utc(2025, 6, 1, 15, 20)
    assert deliverable_at(due, "Europe/Berlin", time(22), time(7), muted) == muted
    assert deliverable_at(due, "Europe/Berlin", None, None, muted) == muted


def test_a_mute_that_ends_in_quiet_hours_waits_for_their_end() -> None:
    due = utc(2025, 6, 1, 12)
    muted = local("Europe/Berlin", 2025, 6, 1, 23, 0)
    expected = local("Europe/Berlin", 2025, 6, 2, 7, 0)
    assert deliverable_at(due, "Europe/Berlin", time(22), time(7), muted) == expected


def test_quiet_hours_ending_in_the_spring_gap_end_with_it() -> None:
    due = local("Europe/Berlin", 2025, 3, 29, 23, 0)
    assert deliverable_at(due, "Europe/Berlin", time(22), time(2, 30), None) == utc(2025, 3, 30, 1)


def test_quiet_hours_in_honolulu_as_an_offset() -> None:
    # 21:00 in Honolulu, quiet from 20:00 to 08:00: the check-in waits until 08:00 there.
    due = utc(2025, 11, 2, 7)
    assert deliverable_at(due, "UTC-10:00", time(20), time(8), None) == utc(2025, 11, 2, 18)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    st.times(),
    st.times(),
    st.sampled_from(["Europe/Berlin", "America/New_York", "UTC+05:45", "Pacific/Honolulu"]),
)
def test_deliverable_at_is_never_before_due_nor_quiet(
    naive: datetime, start: time, end: time, zone: str
) -> None:
    due = naive.replace(tzinfo=UTC)
    moment = deliverable_at(due, zone, start, end, None)
    assert due <= moment <= due + timedelta(days=1, hours=2)
    assert not in_quiet_hours(moment, zone, start, end)


# --- grace and pausing -----------------------------------------------------------------------


GRACE = timedelta(hours=2)


@pytest.mark.parametrize(
    ("now", "action"),
    [
        (utc(2025, 6, 1, 8, 59, 59), "wait"),
        (utc(2025, 6, 1, 9), "send"),
        (utc(2025, 6, 1, 10, 30), "send"),
        (utc(2025, 6, 1, 11), "send"),
        (utc(2025, 6, 1, 11, 0, 1), "skip"),
        (utc(2025, 6, 3, 9), "skip"),
    ],
)
def test_due_action_waits_sends_within_grace_then_skips(now: datetime, action: str) -> None:
    assert due_action(utc(2025, 6, 1, 9), now, GRACE) == action


def test_due_action_with_no_grace_sends_only_on_time() -> None:
    due = utc(2025, 6, 1, 9)
    assert due_action(due, due, timedelta(0)) == "send"
    assert due_action(due, due + timedelta(seconds=1), timedelta(0)) == "skip"


def test_pause_until_counts_days_from_now() -> None:
    assert pause_until(utc(2025, 6, 1, 9, 15), 7) == utc(2025, 6, 8, 9, 15)
    assert pause_until(utc(2025, 6, 1, 9), MAX_PAUSE_DAYS) == utc(2026, 6, 1, 9)


@pytest.mark.parametrize("days", [0, -1, MAX_PAUSE_DAYS + 1, 10**9])
def test_pause_until_refuses_impossible_lengths(days: int) -> None:
    with pytest.raises(ValueError):
        pause_until(utc(2025, 6, 1), days)


def test_naive_instants_are_refused_everywhere() -> None:
    naive = datetime(2025, 6, 1, 9)
    with pytest.raises(ValueError):
        pause_until(naive, 1)
    with pytest.raises(ValueError):
        due_action(naive, utc(2025, 6, 1), GRACE)
    with pytest.raises(ValueError):
        in_quiet_hours(naive, "UTC", time(22), time(7))
    with pytest.raises(ValueError):
        deliverable_at(utc(2025, 6, 1), "UTC", None, None, naive)
