"""Posting slots: rule parsing, and their occurrences across DST changes in several zones."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.slots import WEEKDAYS, SlotRule, occurrences
from scheduler.times import (
    NonexistentTimeError,
    format_local,
    load_zone,
    localize_strict,
    slot_instant,
)


def rule(days: str, *times: str) -> SlotRule:
    """Return the rule for space-separated day names (or ``all``) and ``HH:MM`` times."""
    names = list(WEEKDAYS) if days == "all" else days.split()
    return SlotRule.parse(names, list(times))


def local_slots(
    rules: Sequence[SlotRule], zone_name: str, after: datetime, until: datetime | None = None
) -> list[str]:
    """Return the occurrences in [after, until) as local strings of the zone."""
    zone = load_zone(zone_name)
    return [format_local(at, zone) for at in occurrences(rules, zone, after=after, until=until)]


# --------------------------------------------------------------------------- rules


def test_weekdays_are_the_seven_short_names() -> None:
    assert WEEKDAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_parse_reads_days_and_times() -> None:
    parsed = SlotRule.parse(["fri", "mon", "wed"], ["21:30", "18:00", "6:05:30"])
    assert parsed.days == frozenset({0, 2, 4})
    assert parsed.times == (time(6, 5, 30), time(18, 0), time(21, 30))


def test_rules_compare_by_content_not_by_order() -> None:
    assert rule("mon fri", "18:00", "09:00") == rule("fri mon", "09:00", "18:00")
    assert hash(rule("mon fri", "18:00", "09:00")) == hash(rule("fri mon", "09:00", "18:00"))


@pytest.mark.parametrize(
    ("days", "times", "message"),
    [
        pytest.param(
            ["daily"],
            ["18:00"],
            "slot day 'daily' is not a day: write some of mon, tue, wed, thu, fri, sat, sun, "
            "e.g. [mon, wed, fri]",
            id="daily-is-not-a-day",
        ),
        pytest.param(
            ["Monday"],
            ["18:00"],
            "slot day 'Monday' is not a day (did you mean 'mon'?)",
            id="long-name",
        ),
        pytest.param(
            ["thurs"], ["18:00"], "slot day 'thurs' is not a day (did you mean 'thu'?)", id="abbrev"
        ),
        pytest.param(
            ["Sat"], ["18:00"], "slot day 'Sat' is not a day (did you mean 'sat'?)", id="case"
        ),
        pytest.param(
            ["wen"], ["18:00"], "slot day 'wen' is not a day (did you mean 'wed'?)", id="typo"
        ),
        pytest.param(["0"], ["18:00"], "slot day '0' is not a day: write some of", id="number"),
        pytest.param(
            ["mon", "tue", "mon"], ["18:00"], "slot day 'mon' is listed twice", id="dup-day"
        ),
        pytest.param([], ["18:00"], "slot days must be a non-empty list", id="no-days"),
        pytest.param("mon", ["18:00"], "slot days must be a non-empty list", id="days-string"),
        pytest.param(["mon"], [], "slot times must be a non-empty list", id="no-times"),
        pytest.param(["mon"], "18:00", "slot times must be a non-empty list", id="times-string"),
        pytest.param(
            ["mon"], ["18h"], "slot time '18h' is not a time of day: write HH:MM", id="18h"
        ),
        pytest.param(
            ["mon"], ["25:00"], "slot time '25:00' is not a time of day (out of range)", id="25h"
        ),
        pytest.param(
            ["mon"],
            ["18:00", "09:00", "18:00:00"],
            "slot time '18:00:00' is listed twice",
            id="dup-time",
        ),
    ],
)
def test_parse_refuses_bad_rules(days: Sequence[str], times: Sequence[str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        SlotRule.parse(days, times)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("days", "times", "message"),
    [
        pytest.param(frozenset(), (time(18),), "slot days must be weekday numbers", id="no-days"),
        pytest.param(frozenset({7}), (time(18),), "slot days must be weekday numbers", id="day-7"),
        pytest.param(frozenset({0}), (), "slot times must be a non-empty list", id="no-times"),
        pytest.param(frozenset({0}), (time(18), time(18)), "without repeats", id="dup-times"),
        pytest.param(
            frozenset({0}), (time(18, tzinfo=UTC),), "wall-clock times in the channel's", id="aware"
        ),
    ],
)
def test_rules_are_validated_at_construction(
    days: frozenset[int], times: tuple[time, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SlotRule(days=days, times=times)


# --------------------------------------------------------------------------- occurrences


def test_occurrences_walk_the_week_in_the_channel_zone() -> None:
    rules = [rule("mon wed fri", "18:00", "21:30")]
    after = datetime(2030, 12, 2, tzinfo=UTC)  # a Monday
    assert local_slots(rules, "America/New_York", after, datetime(2030, 12, 9, tzinfo=UTC)) == [
        "2030-12-02 18:00 -05:00",
        "2030-12-02 21:30 -05:00",
        "2030-12-04 18:00 -05:00",
        "2030-12-04 21:30 -05:00",
        "2030-12-06 18:00 -05:00",
        "2030-12-06 21:30 -05:00",
    ]


def test_after_is_inclusive_and_until_exclusive() -> None:
    zone = load_zone("Europe/Paris")
    rules = [rule("all", "18:00")]
    first = datetime(2030, 12, 2, 18, tzinfo=timezone(timedelta(hours=1)))
    found = list(occurrences(rules, zone, after=first, until=first + timedelta(days=2)))
    assert found == [first, first + timedelta(days=1)]
    assert all(at.tzinfo is UTC for at in found)


def test_an_offset_after_means_the_same_instant_as_utc() -> None:
    zone = load_zone("Asia/Kolkata")
    rules = [rule("all", "00:00", "12:00")]
    written = datetime(2030, 12, 2, 6, tzinfo=timezone(timedelta(hours=-7)))  # 13:00 UTC
    in_utc = written.astimezone(UTC)
    assert list(itertools.islice(occurrences(rules, zone, after=written), 5)) == list(
        itertools.islice(occurrences(rules, zone, after=in_utc), 5)
    )


@pytest.mark.parametrize(
    ("after", "until", "message"),
    [
        pytest.param(datetime(2030, 12, 1), None, "after must be an aware date-time", id="after"),
        pytest.param(
            datetime(2030, 12, 1, tzinfo=UTC),
            datetime(2030, 12, 2),
            "until must be an aware date-time",
            id="until",
        ),
        pytest.param(
            datetime(1, 1, 1, tzinfo=UTC), None, "after must lie between", id="first-days-of-time"
        ),
    ],
)
def test_occurrences_refuse_naive_bounds(
    after: datetime, until: datetime | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        occurrences([rule("mon", "18:00")], load_zone("UTC"), after=after, until=until)


def test_occurrences_are_lazy_and_endless_without_until() -> None:
    found = occurrences(
        [rule("sun", "12:00")], load_zone("UTC"), after=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert isinstance(found, Iterator)
    weeks = list(itertools.islice(found, 520))  # ten years, computed on demand
    assert weeks[0] == datetime(2030, 1, 6, 12, tzinfo=UTC)
    assert weeks[-1] == datetime(2030, 1, 6, 12, tzinfo=UTC) + timedelta(weeks=519)


def test_no_rules_means_no_occurrences() -> None:
    assert list(occurrences([], load_zone("UTC"), after=datetime(2030, 1, 1, tzinfo=UTC))) == []


def test_an_until_before_after_yields_nothing() -> None:
    after = datetime(2030, 1, 10, tzinfo=UTC)
    assert (
        list(occurrences([rule("all", "12:00")], load_zone("UTC"), after=after, until=after)) == []
    )


def days_around(day: date) -> tuple[datetime, datetime]:
    """Return [day - 1, day + 2) as UTC bounds."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start - timedelta(days=1), start + timedelta(days=2)


DST_CASES = [
    pytest.param(
        "Europe/Paris",
        [rule("sun", "01:30", "02:30", "03:30")],
        date(2030, 3, 31),
        # 02:30 moves to 03:30 CEST: the same instant as the 03:30 slot, which fires once.
        ["2030-03-31 01:30 +01:00", "2030-03-31 03:30 +02:00"],
        id="paris-gap-moves-forward-and-merges",
    ),
    pytest.param(
        "Europe/Paris",
        [rule("sun", "02:30", "03:10")],
        date(2030, 3, 31),
        # the moved 02:30 (03:30 CEST) comes after the real 03:10: order is by instant.
        ["2030-03-31 03:10 +02:00", "2030-03-31 03:30 +02:00"],
        id="paris-gap-moved-slot-sorted-by-instant",
    ),
    pytest.param(
        "Europe/Paris",
        [rule("sun", "02:00", "02:30", "03:00")],
        date(2030, 10, 27),
        ["2030-10-27 02:00 +02:00", "2030-10-27 02:30 +02:00", "2030-10-27 03:00 +01:00"],
        id="paris-overlap-fires-once-first",
    ),
    pytest.param(
        "Europe/Paris",
        [rule("sun", "02:30"), rule("sat sun", "02:30")],
        date(2030, 10, 27),
        ["2030-10-26 02:30 +02:00", "2030-10-27 02:30 +02:00"],
        id="paris-two-rules-one-instant",
    ),
    pytest.param(
        "America/New_York",
        [rule("sun", "02:30")],
        date(2030, 3, 10),
        ["2030-03-10 03:30 -04:00"],
        id="new-york-gap",
    ),
    pytest.param(
        "America/New_York",
        [rule("sun", "01:30")],
        date(2030, 11, 3),
        ["2030-11-03 01:30 -04:00"],
        id="new-york-overlap",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        [rule("sun", "01:59", "02:00", "02:15", "02:30")],
        date(2030, 10, 6),
        # a 30-minute gap: 02:00 and 02:15 move by 30 minutes; 02:00 lands on the 02:30 slot.
        ["2030-10-06 01:59 +10:30", "2030-10-06 02:30 +11:00", "2030-10-06 02:45 +11:00"],
        id="lord-howe-half-hour-gap",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        [rule("sun", "01:30", "01:45", "02:00")],
        date(2030, 4, 7),
        ["2030-04-07 01:30 +11:00", "2030-04-07 01:45 +11:00", "2030-04-07 02:00 +10:30"],
        id="lord-howe-half-hour-overlap",
    ),
    pytest.param(
        "America/Santiago",
        [rule("all", "00:00")],
        date(2030, 9, 8),
        # the night of Saturday to Sunday has no midnight: the slot runs at 01:00 instead.
        ["2030-09-07 00:00 -04:00", "2030-09-08 01:00 -03:00", "2030-09-09 00:00 -03:00"],
        id="santiago-missing-midnight",
    ),
    pytest.param(
        "America/Santiago",
        [rule("sat", "23:30")],
        date(2030, 4, 6),
        ["2030-04-06 23:30 -03:00"],
        id="santiago-overlap-before-midnight",
    ),
    pytest.param(
        "America/Havana",
        [rule("all", "00:00", "00:30")],
        date(2030, 3, 10),
        [
            "2030-03-09 00:00 -05:00",
            "2030-03-09 00:30 -05:00",
            "2030-03-10 01:00 -04:00",
            "2030-03-10 01:30 -04:00",
            "2030-03-11 00:00 -04:00",
            "2030-03-11 00:30 -04:00",
        ],
        id="havana-missing-midnight",
    ),
    pytest.param(
        "America/Havana",
        [rule("sun", "00:30")],
        date(2030, 11, 3),
        ["2030-11-03 00:30 -04:00"],
        id="havana-overlap-after-midnight",
    ),
    pytest.param(
        "Asia/Kolkata",
        [rule("sun", "02:30")],
        date(2030, 3, 31),
        ["2030-03-31 02:30 +05:30"],
        id="kolkata-no-dst",
    ),
    pytest.param(
        "UTC", [rule("sun", "02:30")], date(2030, 3, 31), ["2030-03-31 02:30 +00:00"], id="utc"
    ),
    pytest.param(
        "Pacific/Apia",
        [rule("all", "09:00")],
        date(2011, 12, 30),
        # Samoa skipped 30 December 2011: that slot moves by a whole day onto the next one.
        ["2011-12-29 09:00 -10:00", "2011-12-31 09:00 +14:00"],
        id="apia-skipped-day",
    ),
    pytest.param(
        "Pacific/Apia",
        [rule("all", "09:00", "18:00")],
        date(2011, 12, 30),
        # the moved 30 December 18:00 comes after the real 31 December 09:00.
        [
            "2011-12-29 09:00 -10:00",
            "2011-12-29 18:00 -10:00",
            "2011-12-31 09:00 +14:00",
            "2011-12-31 18:00 +14:00",
        ],
        id="apia-skipped-day-order-across-days",
    ),
]


def test_a_slot_moved_onto_the_next_local_date_is_found() -> None:
    zone_name = "Pacific/Apia"
    friday_only = [rule("fri", "09:00")]  # Friday 30 December 2011 never happened in Samoa
    after = datetime(2011, 12, 31, 0, 0, tzinfo=load_zone(zone_name))
    until = after + timedelta(days=6)
    assert local_slots(friday_only, zone_name, after, until) == ["2011-12-31 09:00 +14:00"]


@pytest.mark.parametrize(("zone_name", "rules", "day", "expected"), DST_CASES)
def test_occurrences_across_dst(
    zone_name: str, rules: list[SlotRule], day: date, expected: list[str]
) -> None:
    zone = load_zone(zone_name)
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=zone)
    stop = datetime.combine(day + timedelta(days=2), time(0), tzinfo=zone)
    assert local_slots(rules, zone_name, start, stop) == expected


# --------------------------------------------------------------------------- properties

ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
    "UTC",
    "Pacific/Apia",
]
TRANSITION_DAYS = [
    date(2030, 3, 31),
    date(2030, 10, 27),
    date(2030, 3, 10),
    date(2030, 11, 3),
    date(2030, 10, 6),
    date(2030, 4, 7),
    date(2030, 9, 8),
    date(2030, 4, 6),
    date(2011, 12, 30),
]
NEAR_TRANSITIONS = [time(0, 0), time(0, 30), time(1, 30), time(1, 59), time(2, 0), time(2, 30)]
NEAR_TRANSITIONS += [time(2, 59), time(3, 0), time(3, 30), time(23, 0), time(23, 30)]

clocks = st.one_of(
    st.sampled_from(NEAR_TRANSITIONS),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59])),
)
rules_strategy = st.lists(
    st.builds(
        SlotRule,
        days=st.frozensets(st.integers(0, 6), min_size=1),
        times=st.lists(clocks, min_size=1, max_size=4, unique=True).map(tuple),
    ),
    min_size=1,
    max_size=3,
)
afters = st.builds(
    lambda day, minutes: datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=minutes),
    st.sampled_from(TRANSITION_DAYS),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)


H0 = timedelta(0)


def is_gap_moved(at: datetime, rules: Sequence[SlotRule], zone_name: str) -> bool:
    """Return whether ``at`` is a listed slot time in a DST gap, moved forward by the gap."""
    zone = load_zone(zone_name)
    local = at.astimezone(zone).replace(tzinfo=None)
    for day in (local.date() - timedelta(days=offset) for offset in (0, 1)):
        for slot_rule in rules:
            if day.weekday() not in slot_rule.days:
                continue
            for clock in slot_rule.times:
                wall = datetime.combine(day, clock)
                try:
                    localize_strict(wall, zone)
                except NonexistentTimeError as gap:
                    later, earlier = (choice.utcoffset() or H0 for choice in gap.choices[::-1])
                    size = later - earlier
                    if local - wall == size and slot_instant(day, clock, zone) == at:
                        return True
    return False


@settings(max_examples=150, deadline=None)
@given(rules=rules_strategy, zone_name=st.sampled_from(ZONES), after=afters)
def test_occurrences_properties(rules: list[SlotRule], zone_name: str, after: datetime) -> None:
    zone = load_zone(zone_name)
    found = list(itertools.islice(occurrences(rules, zone, after=after), 40))
    assert len(found) == 40
    assert all(at >= after for at in found)
    assert all(earlier < later for earlier, later in itertools.pairwise(found))
    for at in found:
        local = at.astimezone(zone)
        listed = any(
            local.weekday() in slot_rule.days and local.time() in slot_rule.times
            for slot_rule in rules
        )
        assert listed or is_gap_moved(at, rules, zone_name), format_local(at, zone)


@settings(max_examples=150, deadline=None)
@given(
    rules=rules_strategy,
    zone_name=st.sampled_from(ZONES),
    after=afters,
    hours=st.integers(0, 10 * 24),
)
def test_occurrences_match_every_slot_of_every_day(
    rules: list[SlotRule], zone_name: str, after: datetime, hours: int
) -> None:
    zone = load_zone(zone_name)
    until = after + timedelta(hours=hours)
    first_day = after.astimezone(zone).date() - timedelta(days=3)
    every_slot = {
        slot_instant(first_day + timedelta(days=n), clock, zone)
        for n in range(hours // 24 + 7)
        for slot_rule in rules
        if (first_day + timedelta(days=n)).weekday() in slot_rule.days
        for clock in slot_rule.times
    }
    expected = sorted(at for at in every_slot if after <= at < until)
    assert list(occurrences(rules, zone, after=after, until=until)) == expected
