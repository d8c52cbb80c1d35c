"""Properties of planning over random schedules near DST transitions (hypothesis).

Random ids, zones (Europe/Paris, America/New_York, Australia/Lord_Howe, America/Santiago),
staggered waves with ``every``/``delay``/``cancelled`` items and queues filled into posting
slots: every due is an aware UTC instant; staggered item i is at ``at + i * every`` unless it
has a delay; queue items keep ``min_gap`` from every live publication of their channel and go
in increasing due order; slot instants follow the RFC 5545 gap/overlap rule; and validating
never raises.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.planning import blocks_slots
from scheduler.slots import SlotRule, occurrences
from tests.schedule_builder import tree, world_of

ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC")
# days just before a 2030 DST transition of one of the zones
EDGE_DAYS = (
    date(2030, 3, 30),
    date(2030, 10, 26),
    date(2030, 3, 9),
    date(2030, 11, 2),
    date(2030, 4, 6),
    date(2030, 10, 5),
    date(2030, 9, 7),
)
CLOCKS = ("00:00", "00:30", "01:00", "01:30", "02:00", "02:15", "02:30", "03:00", "12:00", "23:30")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NOW = "2030-01-01T00:00:00Z"
SETTINGS = settings(max_examples=50, deadline=None)
ident = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """A UTC instant within a few days of a DST transition, on a 15-minute grid."""
    day = draw(st.sampled_from(EDGE_DAYS))
    quarters = draw(st.integers(-4 * 24, 4 * 72))
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=15 * quarters)


@st.composite
def slot_rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One or two slot rules with times around the usual transition hours."""
    return [
        {
            "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True)),
            "times": draw(st.lists(st.sampled_from(CLOCKS), min_size=1, max_size=3, unique=True)),
        }
        for _ in range(draw(st.integers(1, 2)))
    ]


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    """Channels (one with slots and a queue), a staggered wave and a simultaneous wave."""
    names = draw(st.lists(ident, min_size=3, max_size=3, unique=True))
    main, second, third = (f"c-{name}" for name in names)
    videos = [f"v{i}" for i in range(10)]
    gap_minutes = draw(st.sampled_from([1, 15, 30, 60, 120, 180]))
    channels = {
        "channels": {
            main: {
                "platform": "youtube",
                "timezone": draw(st.sampled_from(ZONES)),
                "min_gap": f"{gap_minutes}m",
                "max_lateness": "1h",
                "slots": draw(slot_rules()),
            },
            second: {"platform": "tiktok", "timezone": draw(st.sampled_from(ZONES))},
            third: {"platform": "x", "timezone": draw(st.sampled_from(ZONES))},
        }
    }
    items: list[Any] = []
    for channel in draw(st.permutations([main, second, third])):
        form = draw(st.sampled_from(["ref", "delay", "cancelled"]))
        if form == "ref":
            items.append(channel)
        elif form == "delay":
            items.append({"channel": channel, "delay": f"{draw(st.integers(0, 600))}m"})
        else:
            items.append({"channel": channel, "cancelled": "true"})
    at = draw(instants())
    stagger = {
        "id": f"s-{names[0]}",
        "video": "v0",
        "type": "staggered",
        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "every": f"{draw(st.integers(1, 240))}m",
        "channels": items,
    }
    simultaneous = {
        "id": f"m-{names[1]}",
        "video": "v1",
        "type": "simultaneous",
        "at": draw(instants()).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "channels": [main],
    }
    queue = {
        "start": (at.date() - timedelta(days=draw(st.integers(0, 2)))).isoformat(),
        "videos": videos[2 : 2 + draw(st.integers(1, 6))],
    }
    return {
        "channels": channels,
        "main": main,
        "gap": timedelta(minutes=gap_minutes),
        "stagger": stagger,
        "at": at,
        "files": tree(
            channels=channels,
            videos={
                "videos": {
                    video: {"url": f"https://cdn.example.com/{video}.mp4"} for video in videos
                }
            },
            waves={"stagger": stagger, "simultaneous": simultaneous},
            queues={main: queue},
        ),
    }


@SETTINGS
@given(schedules())
def test_every_due_is_an_aware_utc_instant_and_validate_never_raises(case: dict[str, Any]) -> None:
    world = world_of(case["files"], now=NOW)
    assert world.publications
    for pub in world.publications:
        assert pub.due.tzinfo is not None
        assert pub.due.utcoffset() == timedelta(0)
    assert isinstance(world.problems(), list)


@SETTINGS
@given(schedules())
def test_staggered_item_i_is_at_plus_i_every_unless_delayed(case: dict[str, Any]) -> None:
    world = world_of(case["files"], now=NOW)
    wave = case["stagger"]
    every = timedelta(minutes=int(wave["every"][:-1]))
    by_id = {pub.id: pub for pub in world.publications}
    for index, item in enumerate(wave["channels"]):
        channel = item if isinstance(item, str) else item["channel"]
        pub = by_id[f"{wave['id']}/{channel}"]
        delay = item.get("delay") if isinstance(item, dict) else None
        offset = timedelta(minutes=int(delay[:-1])) if delay else index * every
        assert pub.due == case["at"] + offset
        assert pub.cancelled == (isinstance(item, dict) and item.get("cancelled") == "true")


@SETTINGS
@given(schedules())
def test_queue_items_keep_min_gap_and_go_in_order(case: dict[str, Any]) -> None:
    world = world_of(case["files"], now=NOW)
    main, gap = case["main"], case["gap"]
    queued = [pub for pub in world.publications if pub.type == "independent"]
    assert queued, world.problems()
    order = [int(pub.video[1:]) for pub in sorted(queued, key=lambda pub: pub.due)]
    assert order == sorted(order)
    live = [pub for pub in world.publications if pub.channel == main and blocks_slots(pub)]
    for item in queued:
        for other in live:
            if other.id != item.id:
                assert abs(other.due - item.due) >= gap, (item.id, item.due, other.id, other.due)


def expected_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The RFC 5545 instant of a wall time, computed apart from the code under test: the
    earliest UTC instant that shows that wall time; in a gap, the wall time read with the
    offset in force before the transition (so it moves forward by the gap)."""
    wall = datetime.combine(day, clock)
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {
        zone.utcoffset((as_utc + shift).replace(tzinfo=None))
        for shift in (timedelta(days=-2), timedelta(days=2))
    }
    shown = [
        as_utc - offset
        for offset in offsets
        if offset is not None and (as_utc - offset).astimezone(zone).replace(tzinfo=None) == wall
    ]
    if shown:
        return min(shown)
    before = (as_utc - timedelta(days=2)).astimezone(zone).utcoffset()
    assert before is not None
    return as_utc - before


@SETTINGS
@given(slot_rules(), st.sampled_from(ZONES), st.sampled_from(EDGE_DAYS))
def test_slot_instants_follow_the_gap_and_overlap_rule(
    rules: list[dict[str, Any]], zone_name: str, day: date
) -> None:
    zone = ZoneInfo(zone_name)
    parsed = [SlotRule.parse(rule["days"], rule["times"]) for rule in rules]
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    found = list(occurrences(parsed, zone, after=start, until=start + timedelta(days=4)))
    assert found == sorted(set(found)), "each instant once, ascending"
    expected: set[datetime] = set()
    local = day - timedelta(days=3)
    while local <= day + timedelta(days=6):
        for rule in parsed:
            if local.weekday() in rule.days:
                expected.update(expected_instant(local, clock, zone) for clock in rule.times)
        local += timedelta(days=1)
    window = {instant for instant in expected if start <= instant < start + timedelta(days=4)}
    assert set(found) == window
    for instant in found:
        wall = instant.astimezone(zone)
        assert wall.astimezone(UTC) == instant  # a real local time, never a skipped one
