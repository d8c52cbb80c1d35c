"""Durations, date-times, time zones from the pinned tzdata package, and the DST policy."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.times import (
    AmbiguousTimeError,
    NonexistentTimeError,
    floor_month,
    format_duration,
    format_local,
    format_utc,
    load_zone,
    localize_strict,
    offset_mismatch,
    parse_clock,
    parse_date,
    parse_datetime,
    parse_duration,
    slot_instant,
    to_utc,
    zone_names,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    """Return an aware UTC datetime (seconds and microseconds optional, in ``rest``)."""
    second, micro = (*rest, 0, 0)[:2]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def offset(hours: int, minutes: int = 0) -> timezone:
    """Return a fixed UTC offset."""
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("30s", timedelta(seconds=30), id="seconds"),
        pytest.param("15m", timedelta(minutes=15), id="minutes"),
        pytest.param("2h", timedelta(hours=2), id="hours"),
        pytest.param("1d", timedelta(hours=24), id="day-is-24h"),
        pytest.param("1h30m", timedelta(minutes=90), id="hours-minutes"),
        pytest.param("0s", timedelta(0), id="zero"),
        pytest.param("0m", timedelta(0), id="zero-minutes"),
        pytest.param("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4), id="all-units"),
        pytest.param("90m", timedelta(minutes=90), id="no-carry-needed"),
        pytest.param("01h", timedelta(hours=1), id="leading-zero"),
        pytest.param("2d30s", timedelta(days=2, seconds=30), id="skipping-units"),
    ],
)
def test_parse_duration_valid(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("90", "(a bare number has no unit)", id="bare-number"),
        pytest.param("", "", id="empty"),
        pytest.param("h", "", id="unit-only"),
        pytest.param("-5m", "(durations are never negative)", id="negative"),
        pytest.param("1.5h", "(use whole numbers", id="fraction"),
        pytest.param("1h 30m", "(no spaces)", id="inner-space"),
        pytest.param(" 1h", "(no spaces)", id="leading-space"),
        pytest.param("1m1h", "(each unit at most once, in the order d, h, m, s)", id="order"),
        pytest.param("1h1h", "(each unit at most once", id="repeated-unit"),
        pytest.param("2H", "(units are lower-case", id="upper-case"),
        pytest.param("1w", "", id="weeks-unknown"),
        pytest.param("1ms", "", id="milliseconds-unknown"),
        pytest.param("\u0661h", "", id="non-ascii-digit"),
        pytest.param("PT1H", "", id="iso-8601-period"),
    ],
)
def test_parse_duration_invalid(text: str, hint: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r} is not a duration")
    assert hint in message
    assert message.endswith(": write a number with a unit, e.g. 30s, 15m, 2h, 1d or 1h30m")


def test_parse_duration_too_long_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too long a duration"):
        parse_duration("999999999d999999999h")


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        pytest.param(timedelta(0), "0s", id="zero"),
        pytest.param(timedelta(minutes=90), "1h30m", id="carry"),
        pytest.param(timedelta(days=1), "1d", id="day"),
        pytest.param(timedelta(days=1, seconds=4), "1d4s", id="gaps-in-units"),
        pytest.param(timedelta(seconds=-90), "-1m30s", id="negative"),
        pytest.param(timedelta(seconds=1, milliseconds=500), "1.5s", id="fraction"),
        pytest.param(timedelta(minutes=1, microseconds=5), "1m0.000005s", id="micro"),
    ],
)
def test_format_duration(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@given(st.integers(min_value=0, max_value=10**9))
def test_format_duration_is_read_back_by_parse_duration(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td


# --------------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("name", "at", "expected_offset"),
    [
        pytest.param("Europe/Paris", utc(2030, 12, 1), H, id="paris-winter"),
        pytest.param("Europe/Paris", utc(2030, 7, 1), 2 * H, id="paris-summer"),
        pytest.param("America/New_York", utc(2030, 12, 1), -5 * H, id="new-york"),
        pytest.param("Asia/Kolkata", utc(2030, 7, 1), 5 * H + 30 * M, id="kolkata"),
        pytest.param("Australia/Lord_Howe", utc(2030, 1, 1), 11 * H, id="lord-howe"),
        pytest.param("UTC", utc(2030, 7, 1), timedelta(0), id="utc"),
        pytest.param("Etc/GMT+5", utc(2030, 7, 1), -5 * H, id="etc-sign-inverted"),
    ],
)
def test_load_zone_known(name: str, at: datetime, expected_offset: timedelta) -> None:
    zone = load_zone(name)
    assert zone.key == name
    assert str(zone) == name
    assert at.astimezone(zone).utcoffset() == expected_offset


def test_load_zone_is_cached() -> None:
    assert load_zone("Europe/Paris") is load_zone("Europe/Paris")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "Europe/Pari",
            "unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)",
            id="typo",
        ),
        pytest.param(
            "europe/paris",
            "unknown time zone 'europe/paris' (did you mean 'Europe/Paris'?)",
            id="case",
        ),
        pytest.param(
            "Paris", "unknown time zone 'Paris' (did you mean 'Europe/Paris'?)", id="city"
        ),
        pytest.param(
            "America/NewYork",
            "unknown time zone 'America/NewYork' (did you mean 'America/New_York'?)",
            id="missing-underscore",
        ),
        pytest.param("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons': ", id="unknown"),
    ],
)
def test_load_zone_unknown(name: str, expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        load_zone(name)
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../../../etc/passwd", id="dotdot"),
        pytest.param("Europe/../UTC", id="dotdot-inside"),
        pytest.param("/usr/share/zoneinfo/UTC", id="absolute"),
        pytest.param("Europe//Paris", id="empty-component"),
        pytest.param("Europe/Paris/", id="trailing-slash"),
        pytest.param("Europe\\Paris", id="backslash"),
        pytest.param("UTC\x00", id="nul"),
        pytest.param("", id="empty"),
        pytest.param(" UTC", id="space"),
        pytest.param("tzdata.zi", id="data-file"),
        pytest.param("zone1970.tab", id="table-file"),
        pytest.param("__init__", id="package-module"),
        pytest.param("zones", id="zone-list-file"),
        pytest.param("localtime", id="localtime"),
    ],
)
def test_load_zone_rejects_paths_and_package_files(name: str) -> None:
    with pytest.raises(ValueError, match=f"^unknown time zone {re.escape(repr(name))}"):
        load_zone(name)


def test_zone_names_lists_every_loadable_zone() -> None:
    names = zone_names()
    assert {"Europe/Paris", "UTC", "America/Santiago", "Asia/Kolkata"} <= names
    assert not {"zones", "tzdata.zi", "localtime", "posixrules", "__init__"} & names
    for name in names:
        assert load_zone(name).key == name


@pytest.fixture
def bogus_system_zoneinfo(tmp_path: Path) -> Iterator[Path]:
    """Point zoneinfo's TZPATH at a directory whose Europe/Paris is really UTC."""
    utc_bytes = resources.files("tzdata.zoneinfo").joinpath("UTC").read_bytes()
    (tmp_path / "Europe").mkdir()
    (tmp_path / "Europe" / "Paris").write_bytes(utc_bytes)
    (tmp_path / "Mars").mkdir()
    (tmp_path / "Mars" / "Olympus_Mons").write_bytes(utc_bytes)
    zoneinfo.reset_tzpath(to=[str(tmp_path)])
    try:
        yield tmp_path
    finally:
        zoneinfo.reset_tzpath()


def test_load_zone_ignores_the_system_zoneinfo(bogus_system_zoneinfo: Path) -> None:
    winter = utc(2030, 12, 1, 17)
    # The bogus path is in effect: the standard constructor believes Paris is UTC ...
    assert winter.astimezone(zoneinfo.ZoneInfo.no_cache("Europe/Paris")).utcoffset() == timedelta(0)
    # ... but the scheduler reads the pinned package only (loaded afresh, past the cache).
    zone: zoneinfo.ZoneInfo = load_zone.__wrapped__("Europe/Paris")
    assert zone is not load_zone("Europe/Paris")
    assert zone.key == "Europe/Paris"
    assert format_local(winter, zone) == "2030-12-01 18:00 +01:00"
    assert zoneinfo.ZoneInfo.no_cache("Mars/Olympus_Mons").key == "Mars/Olympus_Mons"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus_Mons'"):
        load_zone("Mars/Olympus_Mons")


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2030-12-01T18:00:00+01:00", datetime(2030, 12, 1, 18, tzinfo=offset(1)), id="offset"
        ),
        pytest.param("2030-12-01T17:00:00Z", utc(2030, 12, 1, 17), id="zulu"),
        pytest.param("2030-12-01 17:00Z", utc(2030, 12, 1, 17), id="space-no-seconds"),
        pytest.param(
            "2030-12-01T18:00-05:30", datetime(2030, 12, 1, 18, tzinfo=offset(-5, 30)), id="neg"
        ),
        pytest.param("2030-12-01T18:00", datetime(2030, 12, 1, 18), id="naive"),
        pytest.param("2030-12-01T18:00:07", datetime(2030, 12, 1, 18, 0, 7), id="naive-seconds"),
        pytest.param(
            "2030-12-01T18:00:00.25Z", utc(2030, 12, 1, 18, 0, 0, 250000), id="fractional-seconds"
        ),
    ],
)
def test_parse_datetime_valid(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("2030-12-01", "is not a date-time", id="date-only"),
        pytest.param("2030-12-01T18", "is not a date-time", id="hour-only"),
        pytest.param("2030-12-01T18:00+0100", "is not a date-time", id="basic-offset"),
        pytest.param("2030-12-01T18:00+01", "is not a date-time", id="hour-offset"),
        pytest.param("2030-12-01T1800Z", "is not a date-time", id="basic-time"),
        pytest.param("18:00", "is not a date-time", id="time-only"),
        pytest.param("tomorrow", "is not a date-time", id="words"),
        pytest.param("2030-12-01T18:00Z ", "is not a date-time", id="trailing-space"),
        pytest.param("2030-13-01T18:00Z", "is not a valid date-time (month", id="month-13"),
        pytest.param("2030-02-30T18:00Z", "is not a valid date-time (day", id="feb-30"),
        pytest.param("2030-12-01T24:00Z", "is not a valid date-time (hour", id="hour-24"),
        pytest.param("2030-12-01T18:00+24:00", "(offset +24:00 is out of range)", id="offset-24"),
    ],
)
def test_parse_datetime_invalid(text: str, detail: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_datetime(text)
    message = str(caught.value)
    assert message.startswith(repr(text))
    assert detail in message
    assert "write e.g. 2030-12-01T18:00:00+01:00 or 2030-12-01T17:00:00Z" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2030-12-01", date(2030, 12, 1), id="date"),
        pytest.param("2032-02-29", date(2032, 2, 29), id="leap-day"),
    ],
)
def test_parse_date_valid(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param("2030-1-5", "'2030-1-5' is not a date: write YYYY-MM-DD", id="short"),
        pytest.param("20301201", "'20301201' is not a date: write YYYY-MM-DD", id="basic"),
        pytest.param("2031-02-29", "'2031-02-29' is not a valid date (day", id="not-leap"),
        pytest.param("2030-12-01T00:00Z", "is not a date: write YYYY-MM-DD", id="date-time"),
    ],
)
def test_parse_date_invalid(text: str, detail: str) -> None:
    with pytest.raises(ValueError, match=re.escape(detail)):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("18:00", time(18, 0), id="hh-mm"),
        pytest.param("6:00", time(6, 0), id="one-digit-hour"),
        pytest.param("00:00", time(0, 0), id="midnight"),
        pytest.param("23:59:59", time(23, 59, 59), id="last-second"),
        pytest.param("09:30:15", time(9, 30, 15), id="seconds"),
    ],
)
def test_parse_clock_valid(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("18h", id="h-suffix"),
        pytest.param("25:00", id="hour-25"),
        pytest.param("24:00", id="hour-24"),
        pytest.param("18:60", id="minute-60"),
        pytest.param("18:00:60", id="second-60"),
        pytest.param("18:0", id="one-digit-minute"),
        pytest.param("018:00", id="three-digit-hour"),
        pytest.param("1080", id="sexagesimal-number"),
        pytest.param("18:00 ", id="trailing-space"),
        pytest.param("6pm", id="am-pm"),
    ],
)
def test_parse_clock_invalid(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_clock(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r} is not a time of day")
    assert "write HH:MM or HH:MM:SS from 00:00 to 23:59:59, e.g. 18:00" in message


# --------------------------------------------------------------------------- DST policy

STRICT_ERRORS = [
    pytest.param(
        "Europe/Paris",
        datetime(2030, 3, 31, 2, 30),
        NonexistentTimeError,
        "2030-03-31 02:30 does not exist in Europe/Paris (clocks jump from 02:00 to 03:00): "
        "write 2030-03-31T01:30:00+01:00 or 2030-03-31T03:30:00+02:00",
        id="paris-gap",
    ),
    pytest.param(
        "Europe/Paris",
        datetime(2030, 3, 31, 2, 0),
        NonexistentTimeError,
        "2030-03-31 02:00 does not exist in Europe/Paris (clocks jump from 02:00 to 03:00): "
        "write 2030-03-31T01:00:00+01:00 or 2030-03-31T03:00:00+02:00",
        id="paris-gap-start",
    ),
    pytest.param(
        "Europe/Paris",
        datetime(2030, 10, 27, 2, 30),
        AmbiguousTimeError,
        "2030-10-27 02:30 happens twice in Europe/Paris (clocks go back from 03:00 to 02:00): "
        "write 2030-10-27T02:30:00+02:00 or 2030-10-27T02:30:00+01:00",
        id="paris-overlap",
    ),
    pytest.param(
        "America/New_York",
        datetime(2030, 3, 10, 2, 30),
        NonexistentTimeError,
        "2030-03-10 02:30 does not exist in America/New_York (clocks jump from 02:00 to 03:00): "
        "write 2030-03-10T01:30:00-05:00 or 2030-03-10T03:30:00-04:00",
        id="new-york-gap",
    ),
    pytest.param(
        "America/New_York",
        datetime(2030, 11, 3, 1, 30),
        AmbiguousTimeError,
        "2030-11-03 01:30 happens twice in America/New_York (clocks go back from 02:00 to 01:00):"
        " write 2030-11-03T01:30:00-04:00 or 2030-11-03T01:30:00-05:00",
        id="new-york-overlap",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        datetime(2030, 10, 6, 2, 15),
        NonexistentTimeError,
        "2030-10-06 02:15 does not exist in Australia/Lord_Howe (clocks jump from 02:00 to "
        "02:30): write 2030-10-06T01:45:00+10:30 or 2030-10-06T02:45:00+11:00",
        id="lord-howe-half-hour-gap",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        datetime(2030, 4, 7, 1, 45),
        AmbiguousTimeError,
        "2030-04-07 01:45 happens twice in Australia/Lord_Howe (clocks go back from 02:00 to "
        "01:30): write 2030-04-07T01:45:00+11:00 or 2030-04-07T01:45:00+10:30",
        id="lord-howe-half-hour-overlap",
    ),
    pytest.param(
        "America/Santiago",
        datetime(2030, 9, 8, 0, 0),
        NonexistentTimeError,
        "2030-09-08 00:00 does not exist in America/Santiago (clocks jump from 00:00 to 01:00): "
        "write 2030-09-07T23:00:00-04:00 or 2030-09-08T01:00:00-03:00",
        id="santiago-midnight-gap",
    ),
    pytest.param(
        "America/Santiago",
        datetime(2030, 4, 6, 23, 30),
        AmbiguousTimeError,
        "2030-04-06 23:30 happens twice in America/Santiago (clocks go back from 2030-04-07 "
        "00:00 to 23:00): write 2030-04-06T23:30:00-03:00 or 2030-04-06T23:30:00-04:00",
        id="santiago-overlap-before-midnight",
    ),
    pytest.param(
        "America/Havana",
        datetime(2030, 3, 10, 0, 0),
        NonexistentTimeError,
        "2030-03-10 00:00 does not exist in America/Havana (clocks jump from 00:00 to 01:00): "
        "write 2030-03-09T23:00:00-05:00 or 2030-03-10T01:00:00-04:00",
        id="havana-midnight-gap",
    ),
    pytest.param(
        "America/Havana",
        datetime(2030, 11, 3, 0, 30),
        AmbiguousTimeError,
        "2030-11-03 00:30 happens twice in America/Havana (clocks go back from 01:00 to 00:00): "
        "write 2030-11-03T00:30:00-04:00 or 2030-11-03T00:30:00-05:00",
        id="havana-overlap-after-midnight",
    ),
]


@pytest.mark.parametrize(("zone_name", "wall", "error", "message"), STRICT_ERRORS)
def test_localize_strict_refuses_gaps_and_overlaps(
    zone_name: str, wall: datetime, error: type[ValueError], message: str
) -> None:
    zone = load_zone(zone_name)
    with pytest.raises(error) as caught:
        localize_strict(wall, zone)
    assert str(caught.value) == message
    choices = caught.value.choices  # type: ignore[attr-defined]
    assert [choice.tzinfo for choice in choices] == [zone, zone]
    assert to_utc(choices[0]) < to_utc(choices[1])
    # Each choice is a real instant, written unambiguously by its offset in the message.
    for choice in choices:
        assert choice.isoformat() in message
        assert to_utc(parse_datetime(choice.isoformat())) == to_utc(choice)


@pytest.mark.parametrize(
    ("zone_name", "wall", "expected"),
    [
        pytest.param("Europe/Paris", datetime(2030, 12, 1, 18), utc(2030, 12, 1, 17), id="winter"),
        pytest.param("Europe/Paris", datetime(2030, 7, 1, 18), utc(2030, 7, 1, 16), id="summer"),
        pytest.param(
            "Europe/Paris", datetime(2030, 3, 31, 1, 59, 59), utc(2030, 3, 31, 0, 59, 59), id="pre"
        ),
        pytest.param("Europe/Paris", datetime(2030, 3, 31, 3), utc(2030, 3, 31, 1), id="gap-end"),
        pytest.param(
            "Europe/Paris", datetime(2030, 10, 27, 3), utc(2030, 10, 27, 2), id="overlap-end"
        ),
        pytest.param(
            "America/Santiago", datetime(2030, 9, 8, 1), utc(2030, 9, 8, 4), id="santiago-1am"
        ),
        pytest.param("Asia/Kolkata", datetime(2030, 3, 31, 2, 30), utc(2030, 3, 30, 21), id="ist"),
        pytest.param("UTC", datetime(2030, 3, 31, 2, 30), utc(2030, 3, 31, 2, 30), id="utc"),
    ],
)
def test_localize_strict_plain_times(zone_name: str, wall: datetime, expected: datetime) -> None:
    result = localize_strict(wall, load_zone(zone_name))
    assert result == expected
    assert result.tzinfo is UTC


def test_localize_strict_wants_a_naive_time() -> None:
    with pytest.raises(ValueError, match="already has an offset"):
        localize_strict(utc(2030, 1, 1), load_zone("Europe/Paris"))


SLOT_CASES = [
    pytest.param(
        "Europe/Paris", date(2030, 3, 31), time(2, 30), "2030-03-31 03:30 +02:00", H, id="paris-gap"
    ),
    pytest.param(
        "Europe/Paris", date(2030, 3, 31), time(2, 0), "2030-03-31 03:00 +02:00", H, id="gap-start"
    ),
    pytest.param(
        "Europe/Paris", date(2030, 10, 27), time(2, 30), "2030-10-27 02:30 +02:00", None, id="ovl"
    ),
    pytest.param(
        "America/New_York",
        date(2030, 3, 10),
        time(2, 30),
        "2030-03-10 03:30 -04:00",
        H,
        id="new-york-gap",
    ),
    pytest.param(
        "America/New_York",
        date(2030, 11, 3),
        time(1, 30),
        "2030-11-03 01:30 -04:00",
        None,
        id="new-york-overlap-first",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        date(2030, 10, 6),
        time(2, 15),
        "2030-10-06 02:45 +11:00",
        30 * M,
        id="lord-howe-gap-30min",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        date(2030, 4, 7),
        time(1, 45),
        "2030-04-07 01:45 +11:00",
        None,
        id="lord-howe-overlap-first",
    ),
    pytest.param(
        "America/Santiago",
        date(2030, 9, 8),
        time(0, 0),
        "2030-09-08 01:00 -03:00",
        H,
        id="santiago-missing-midnight",
    ),
    pytest.param(
        "America/Santiago",
        date(2030, 4, 6),
        time(23, 30),
        "2030-04-06 23:30 -03:00",
        None,
        id="santiago-overlap-first",
    ),
    pytest.param(
        "America/Havana",
        date(2030, 3, 10),
        time(0, 0),
        "2030-03-10 01:00 -04:00",
        H,
        id="havana-missing-midnight",
    ),
    pytest.param(
        "America/Havana",
        date(2030, 11, 3),
        time(0, 30),
        "2030-11-03 00:30 -04:00",
        None,
        id="havana-overlap-first",
    ),
    pytest.param(
        "Asia/Kolkata", date(2030, 3, 31), time(2, 30), "2030-03-31 02:30 +05:30", None, id="ist"
    ),
    pytest.param("UTC", date(2030, 3, 31), time(2, 30), "2030-03-31 02:30 +00:00", None, id="utc"),
]


@pytest.mark.parametrize(("zone_name", "day", "clock", "local", "moved"), SLOT_CASES)
def test_slot_instant_follows_rfc_5545(
    zone_name: str, day: date, clock: time, local: str, moved: timedelta | None
) -> None:
    zone = load_zone(zone_name)
    instant = slot_instant(day, clock, zone)
    assert instant.tzinfo is UTC
    assert format_local(instant, zone) == local
    wall = datetime.combine(day, clock)
    shift = instant.astimezone(zone).replace(tzinfo=None) - wall
    assert shift == (moved or timedelta(0))
    if moved is None:  # an overlap's first reading is also the earlier strict choice
        try:
            assert localize_strict(wall, zone) == instant
        except AmbiguousTimeError as exc:
            assert to_utc(exc.choices[0]) == instant
    else:  # a gap moves forward by the gap: the later strict choice
        with pytest.raises(NonexistentTimeError) as caught:
            localize_strict(wall, zone)
        assert to_utc(caught.value.choices[1]) == instant


@pytest.mark.parametrize(
    ("at", "zone_name", "expected"),
    [
        pytest.param(
            datetime(2030, 7, 1, 18, tzinfo=offset(1)), "Europe/Paris", 2 * H, id="winter-in-summer"
        ),
        pytest.param(
            datetime(2030, 12, 1, 18, tzinfo=offset(2)), "Europe/Paris", H, id="summer-in-winter"
        ),
        pytest.param(datetime(2030, 12, 1, 18, tzinfo=offset(1)), "Europe/Paris", None, id="ok"),
        pytest.param(utc(2030, 12, 1, 17), "Europe/Paris", H, id="zulu-for-paris"),
        pytest.param(utc(2030, 12, 1, 17), "UTC", None, id="zulu-for-utc"),
        pytest.param(
            datetime(2030, 7, 1, 18, tzinfo=offset(5, 30)), "Asia/Kolkata", None, id="ist-ok"
        ),
        pytest.param(
            datetime(2030, 3, 31, 3, 30, tzinfo=offset(1)),
            "Europe/Paris",
            2 * H,
            id="just-after-the-change",
        ),
    ],
)
def test_offset_mismatch(at: datetime, zone_name: str, expected: timedelta | None) -> None:
    assert offset_mismatch(at, load_zone(zone_name)) == expected


def test_offset_mismatch_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match="needs a date-time with an offset"):
        offset_mismatch(datetime(2030, 7, 1, 18), load_zone("Europe/Paris"))


# --------------------------------------------------------------------------- formatting


def test_to_utc_keeps_the_instant() -> None:
    written = datetime(2030, 12, 1, 18, tzinfo=offset(1))
    assert to_utc(written) == utc(2030, 12, 1, 17)
    assert to_utc(written).tzinfo is UTC


@pytest.mark.parametrize(
    "function",
    [
        pytest.param(to_utc, id="to_utc"),
        pytest.param(format_utc, id="format_utc"),
        pytest.param(floor_month, id="floor_month"),
        pytest.param(lambda dt: format_local(dt, load_zone("UTC")), id="format_local"),
    ],
)
def test_naive_datetimes_are_refused(function: Callable[[datetime], object]) -> None:
    with pytest.raises(ValueError, match="needs a date-time with an offset"):
        function(datetime(2030, 12, 1, 18))


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        pytest.param(datetime(2030, 12, 1, 18, tzinfo=offset(1)), "2030-12-01T17:00:00Z", id="+1"),
        pytest.param(utc(2030, 12, 1, 17, 0, 5), "2030-12-01T17:00:05Z", id="seconds"),
        pytest.param(utc(2030, 12, 1, 17, 0, 5, 5), "2030-12-01T17:00:05.000005Z", id="micro"),
    ],
)
def test_format_utc(dt: datetime, expected: str) -> None:
    assert format_utc(dt) == expected


@pytest.mark.parametrize(
    ("dt", "zone_name", "expected"),
    [
        pytest.param(utc(2030, 12, 1, 17), "Europe/Paris", "2030-12-01 18:00 +01:00", id="paris"),
        pytest.param(
            utc(2030, 12, 1, 17, 0, 9), "Europe/Paris", "2030-12-01 18:00:09 +01:00", id="s"
        ),
        pytest.param(utc(2030, 12, 1, 17), "America/New_York", "2030-12-01 12:00 -05:00", id="ny"),
        pytest.param(utc(2030, 12, 1, 17), "Asia/Kolkata", "2030-12-01 22:30 +05:30", id="ist"),
        pytest.param(utc(2030, 12, 1, 17), "UTC", "2030-12-01 17:00 +00:00", id="utc"),
        pytest.param(utc(1900, 1, 1), "Europe/Paris", "1900-01-01 00:09:21 +00:09:21", id="pmt"),
        pytest.param(
            utc(1900, 1, 1), "Africa/Monrovia", "1899-12-31 23:16:52 -00:43:08", id="west-lmt"
        ),
    ],
)
def test_format_local(dt: datetime, zone_name: str, expected: str) -> None:
    assert format_local(dt, load_zone(zone_name)) == expected


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        pytest.param(utc(2030, 12, 31, 23, 59), "2030-12", id="end-of-month"),
        pytest.param(datetime(2030, 12, 1, 0, 30, tzinfo=offset(1)), "2030-11", id="utc-month"),
        pytest.param(datetime(2030, 11, 30, 20, tzinfo=offset(-5)), "2030-12", id="west"),
    ],
)
def test_floor_month(dt: datetime, expected: str) -> None:
    assert floor_month(dt) == expected
