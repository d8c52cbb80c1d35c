"""Planning: wave expansion, time zones, queues filled into free slots, and the ledger's say."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.adapters.files import read_schedules
from scheduler.planning import Publication
from tests.schedule_builder import (
    CHANNELS,
    instant,
    ledger_line,
    rendered,
    state_with,
    tree,
    wave,
    world_of,
)

REPO = Path(__file__).resolve().parent.parent
AT = "2030-12-01T18:00:00Z"

# docs/example.md, "Expected publications": due (UTC), id, channel, video.
EXAMPLE = """
2030-12-02T17:00:00Z  teaser/ig-fr              ig-fr      teaser-01
2030-12-02T17:00:00Z  teaser/tiktok-fr          tiktok-fr  teaser-01
2030-12-02T17:00:00Z  teaser/tiktok-us          tiktok-us  teaser-01
2030-12-02T17:00:00Z  teaser/x-us               x-us       teaser-01
2030-12-02T17:00:00Z  teaser/yt-main            yt-main    teaser-01
2030-12-04T10:00:00Z  bts/yt-jp                 yt-jp      bts-01
2030-12-04T12:00:00Z  bts/li-corp               li-corp    bts-01
2030-12-04T14:00:00Z  bts/ig-fr                 ig-fr      bts-01
2030-12-04T16:00:00Z  bts/x-us                  x-us       bts-01
2030-12-04T23:00:00Z  queue/yt-main/teaser-02   yt-main    teaser-02
2030-12-06T22:00:00Z  trailer/tiktok-fr         tiktok-fr  trailer
2030-12-06T22:00:00Z  trailer/tiktok-us         tiktok-us  trailer
2030-12-06T22:00:00Z  trailer/yt-jp             yt-jp      trailer
2030-12-06T22:00:00Z  trailer/yt-main           yt-main    trailer
2030-12-07T16:30:00Z  queue/yt-main/bts-01      yt-main    bts-01
2030-12-09T19:00:00Z  launch/ig-fr              ig-fr      launch-film
2030-12-09T20:00:00Z  launch/tiktok-fr          tiktok-fr  launch-film
2030-12-09T22:00:00Z  launch/tiktok-us          tiktok-us  launch-film
2030-12-09T22:00:00Z  launch/yt-main            yt-main    launch-film
2030-12-09T23:00:00Z  launch/x-us               x-us       launch-film
2030-12-11T23:00:00Z  queue/yt-main/bts-02      yt-main    bts-02
2030-12-13T14:00:00Z  interview/li-corp         li-corp    interview-01
2030-12-13T14:00:00Z  interview/x-us            x-us       interview-01
2030-12-13T23:00:00Z  queue/yt-main/recap       yt-main    recap
"""


def table(pubs: tuple[Publication, ...] | list[Publication]) -> list[tuple[str, str]]:
    """(due as ...Z, id) of each publication, in plan order."""
    return [(pub.due.strftime("%Y-%m-%dT%H:%M:%SZ"), pub.id) for pub in pubs]


def dues(pubs: tuple[Publication, ...]) -> dict[str, str]:
    """id -> due as ``...Z``."""
    return dict((pub_id, due) for due, pub_id in table(pubs))


def test_the_bundled_example_plans_as_its_documentation_says() -> None:
    files, _ = read_schedules(REPO)
    world = world_of(files, now="2030-11-20T00:00:00Z")
    assert world.problems() == []
    expected = [line.split() for line in EXAMPLE.strip().splitlines()]
    assert [
        (pub.due.strftime("%Y-%m-%dT%H:%M:%SZ"), pub.id, pub.channel, pub.video)
        for pub in world.publications
    ] == [tuple(row) for row in expected]
    by_id = world.plan.by_id()
    assert by_id["bts/ig-fr"].cancelled
    assert sum(pub.cancelled for pub in world.publications) == 1
    assert dict(by_id["queue/yt-main/recap"].params) == {
        "playlist": "PL-AURORA",
        "caption": "Launch week in 60 seconds",
    }
    assert by_id["launch/yt-main"].max_lateness == timedelta(minutes=30)


# --------------------------------------------------------------------------- waves


def test_a_simultaneous_wave_puts_every_channel_at_at() -> None:
    world = world_of(
        tree(waves={"w": wave("teaser-01", "2030-12-01T19:00:00+01:00", ["yt-main", "group:fr"])})
    )
    assert table(world.publications) == [
        ("2030-12-01T18:00:00Z", "w/ig-fr"),
        ("2030-12-01T18:00:00Z", "w/tiktok-fr"),
        ("2030-12-01T18:00:00Z", "w/yt-main"),
    ]
    assert {pub.type for pub in world.publications} == {"simultaneous"}


def test_a_staggered_wave_counts_items_in_list_order_with_groups_expanded() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["x-fr"] = {"platform": "x"}
    channels["channels"]["li-fr"] = {"platform": "linkedin"}
    channels["groups"]["fr"] = ["ig-fr", "tiktok-fr"]
    entries: list[Any] = [
        "yt-main",  # 0h
        "group:fr",  # ig-fr 1h, tiktok-fr 2h
        {"channel": "x-fr", "cancelled": "true"},  # 3h, cancelled, keeps its place
        {"channel": "li-fr", "delay": "30m"},  # explicit delay, still counts as item 4
    ]
    world = world_of(
        tree(
            channels=channels,
            waves={"w": wave("teaser-01", AT, entries, type="staggered", every="1h")},
        )
    )
    assert world.problems() == []
    assert dues(world.publications) == {
        "w/yt-main": "2030-12-01T18:00:00Z",
        "w/li-fr": "2030-12-01T18:30:00Z",
        "w/ig-fr": "2030-12-01T19:00:00Z",
        "w/tiktok-fr": "2030-12-01T20:00:00Z",
        "w/x-fr": "2030-12-01T21:00:00Z",
    }
    assert [pub.id for pub in world.publications if pub.cancelled] == ["w/x-fr"]


def test_an_item_after_a_delayed_one_keeps_its_count() -> None:
    entries: list[Any] = ["ig-fr", {"channel": "yt-main", "delay": "3h"}, "tiktok-fr"]
    world = world_of(
        tree(waves={"w": wave("teaser-01", AT, entries, type="staggered", every="1h")})
    )
    assert dues(world.publications) == {
        "w/ig-fr": "2030-12-01T18:00:00Z",
        "w/tiktok-fr": "2030-12-01T20:00:00Z",
        "w/yt-main": "2030-12-01T21:00:00Z",
    }


def test_a_staggered_wave_of_delays_only_needs_no_every() -> None:
    entries = [{"channel": "ig-fr", "delay": "0s"}, {"channel": "yt-main", "delay": "90m"}]
    world = world_of(tree(waves={"w": wave("teaser-01", AT, entries, type="staggered")}))
    assert world.problems() == []
    assert dues(world.publications) == {
        "w/ig-fr": "2030-12-01T18:00:00Z",
        "w/yt-main": "2030-12-01T19:30:00Z",
    }


def test_a_platform_expands_in_channel_file_order() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-jp"] = {"platform": "youtube"}
    world = world_of(
        tree(
            channels=channels,
            waves={"w": wave("teaser-01", AT, ["platform:youtube"], type="staggered", every="1h")},
        )
    )
    assert dues(world.publications) == {
        "w/yt-main": "2030-12-01T18:00:00Z",
        "w/yt-jp": "2030-12-01T19:00:00Z",
    }


@pytest.mark.parametrize(
    ("at", "zone", "due"),
    [
        ("2030-12-01T18:00:00", "America/New_York", "2030-12-01T23:00:00Z"),
        ("2030-07-01T18:00:00", "America/New_York", "2030-07-01T22:00:00Z"),
        ("2030-12-01T18:00:00", "Asia/Tokyo", "2030-12-01T09:00:00Z"),
        ("2030-03-31T03:30:00", "Europe/Paris", "2030-03-31T01:30:00Z"),
    ],
)
def test_a_naive_at_is_read_in_the_wave_timezone(at: str, zone: str, due: str) -> None:
    world = world_of(
        tree(waves={"w": wave("teaser-01", at, ["yt-main"], timezone=zone)}),
        now="2030-01-01T00:00:00Z",
    )
    assert world.problems() == []
    assert table(world.publications) == [(due, "w/yt-main")]


def test_a_wave_with_an_unknown_video_plans_nothing() -> None:
    world = world_of(tree(waves={"w": wave("nope", AT, ["yt-main"])}))
    assert world.publications == ()
    assert [p.code for p in world.problems()] == ["unknown-video"]


# --------------------------------------------------------------------------- queues


def queue_world(
    videos: list[Any],
    *,
    now: str = "2030-11-20T00:00:00Z",
    start: str = "2030-12-01",
    waves: dict[str, Any] | None = None,
    lines: list[dict[str, Any]] | None = None,
    control: str | None = None,
    channels: dict[str, Any] | None = None,
) -> Any:
    """A world with a queue on yt-main (Mon/Wed/Fri 18:00 UTC, min_gap 2h)."""
    files = tree(
        channels=channels, waves=waves, queues={"yt-main": {"start": start, "videos": videos}}
    )
    return world_of(files, now=now, state=state_with(lines or [], control=control))


def queue_rows(world: Any) -> list[tuple[str, str]]:
    """(due, id) of the queue's publications."""
    return [row for row in table(world.publications) if row[1].startswith("queue/")]


def test_a_queue_fills_its_channel_slots_in_order_from_its_start() -> None:
    world = queue_world(
        ["teaser-01", {"video": "teaser-02", "params": {"caption": "hi"}}, "clip-03"],
        start="2030-12-04",
    )
    assert world.problems() == []
    assert queue_rows(world) == [
        ("2030-12-04T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-06T18:00:00Z", "queue/yt-main/teaser-02"),
        ("2030-12-09T18:00:00Z", "queue/yt-main/clip-03"),
    ]
    assert all(
        pub.estimated and pub.type == "independent" and pub.wave is None
        for pub in world.publications
    )
    assert dict(world.plan.by_id()["queue/yt-main/teaser-02"].params) == {"caption": "hi"}


@pytest.mark.parametrize(
    ("wave_at", "expected"),
    [
        pytest.param("2030-12-02T19:00:00Z", "2030-12-04T18:00:00Z", id="one-hour-after-the-slot"),
        pytest.param("2030-12-02T16:00:00Z", "2030-12-02T18:00:00Z", id="exactly-min-gap-before"),
        pytest.param("2030-12-02T16:00:01Z", "2030-12-04T18:00:00Z", id="a-second-too-close"),
        pytest.param("2030-12-02T20:00:00Z", "2030-12-02T18:00:00Z", id="exactly-min-gap-after"),
    ],
)
def test_a_queue_routes_around_wave_publications_by_min_gap(wave_at: str, expected: str) -> None:
    world = queue_world(["teaser-02"], waves={"w": wave("teaser-01", wave_at, ["yt-main"])})
    assert world.problems() == []
    assert queue_rows(world) == [(expected, "queue/yt-main/teaser-02")]


def test_a_cancelled_wave_publication_frees_its_slot() -> None:
    world = queue_world(
        ["teaser-02"],
        waves={"w": wave("teaser-01", "2030-12-02T18:00:00Z", ["yt-main"], cancelled="true")},
    )
    assert queue_rows(world) == [("2030-12-02T18:00:00Z", "queue/yt-main/teaser-02")]


def test_the_queue_start_is_a_date_in_the_channel_zone() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["timezone"] = "Asia/Tokyo"
    channels["channels"]["yt-main"]["slots"] = [
        {"days": ["mon", "tue"], "times": ["00:30", "09:00"]}
    ]
    world = queue_world(["teaser-01", "teaser-02"], start="2030-12-03", channels=channels)
    # Tuesday 3 December 00:30 in Tokyo is Monday 2 December 15:30 UTC
    assert queue_rows(world) == [
        ("2030-12-02T15:30:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-03T00:00:00Z", "queue/yt-main/teaser-02"),
    ]


def test_slot_times_in_a_dst_gap_move_forward_by_the_gap() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["timezone"] = "Europe/Paris"
    channels["channels"]["yt-main"]["min_gap"] = "1h"
    channels["channels"]["yt-main"]["slots"] = [{"days": ["sun"], "times": ["02:30", "12:00"]}]
    world = queue_world(
        ["teaser-01", "teaser-02", "clip-03"],
        start="2030-03-30",
        now="2030-03-01T00:00:00Z",
        channels=channels,
    )
    assert queue_rows(world) == [
        ("2030-03-31T01:30:00Z", "queue/yt-main/teaser-01"),  # 02:30 does not exist: 03:30 +02:00
        ("2030-03-31T10:00:00Z", "queue/yt-main/teaser-02"),
        ("2030-04-07T00:30:00Z", "queue/yt-main/clip-03"),
    ]


def test_slot_times_in_a_dst_overlap_fire_once_at_the_first() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["timezone"] = "Europe/Paris"
    channels["channels"]["yt-main"]["min_gap"] = "1m"
    channels["channels"]["yt-main"]["slots"] = [{"days": ["sun"], "times": ["02:30"]}]
    world = queue_world(
        ["teaser-01", "teaser-02"],
        start="2030-10-27",
        now="2030-10-01T00:00:00Z",
        channels=channels,
    )
    assert queue_rows(world) == [
        ("2030-10-27T00:30:00Z", "queue/yt-main/teaser-01"),  # 02:30 +02:00, not 02:30 +01:00
        ("2030-11-03T01:30:00Z", "queue/yt-main/teaser-02"),
    ]


def claimed(pub_id: str, due: str, video: str) -> dict[str, Any]:
    """A claim of ``pub_id`` on yt-main at ``due``."""
    return ledger_line(pub_id, "claimed", due, due=due, channel="yt-main", video=video)


def test_a_claimed_queue_item_keeps_its_due_and_its_slot() -> None:
    lines = [claimed("queue/yt-main/teaser-01", "2030-12-02T18:00:00Z", "teaser-01")]
    world = queue_world(
        ["teaser-01", "teaser-02", "clip-03"], now="2030-12-02T18:05:00Z", lines=lines
    )
    assert world.problems() == []
    assert queue_rows(world) == [
        ("2030-12-02T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-04T18:00:00Z", "queue/yt-main/teaser-02"),
        ("2030-12-06T18:00:00Z", "queue/yt-main/clip-03"),
    ]
    first = world.plan.by_id()["queue/yt-main/teaser-01"]
    assert (first.claimed, first.estimated, world.status(first)) == (True, False, "executing")


def test_unclaimed_items_start_after_the_last_claimed_one() -> None:
    lines = [claimed("queue/yt-main/teaser-02", "2030-12-06T18:00:00Z", "teaser-02")]
    world = queue_world(["teaser-01", "teaser-02", "clip-03"], lines=lines)
    assert queue_rows(world) == [
        ("2030-12-06T18:00:00Z", "queue/yt-main/teaser-02"),
        ("2030-12-09T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-11T18:00:00Z", "queue/yt-main/clip-03"),
    ]


def test_unclaimed_items_roll_forward_past_now_minus_max_lateness() -> None:
    world = queue_world(["teaser-01", "teaser-02"], now="2030-12-04T18:59:59Z")
    assert queue_rows(world) == [
        ("2030-12-04T18:00:00Z", "queue/yt-main/teaser-01"),  # still within max_lateness (1h)
        ("2030-12-06T18:00:00Z", "queue/yt-main/teaser-02"),
    ]
    later = queue_world(["teaser-01", "teaser-02"], now="2030-12-04T19:00:01Z")
    assert queue_rows(later) == [
        ("2030-12-06T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-09T18:00:00Z", "queue/yt-main/teaser-02"),
    ]
    assert later.status(later.publications[0]) == "pending"


def test_a_cancelled_queue_item_takes_no_slot() -> None:
    control = "publications:\n  queue/yt-main/teaser-01: {cancelled: true, reason: wrong cut}\n"
    world = queue_world(["teaser-01", "teaser-02"], control=control)
    by_id = world.plan.by_id()
    assert by_id["queue/yt-main/teaser-01"].cancelled
    assert world.status(by_id["queue/yt-main/teaser-01"]) == "cancelled"
    assert table([by_id["queue/yt-main/teaser-02"]]) == [
        ("2030-12-02T18:00:00Z", "queue/yt-main/teaser-02")
    ]


def test_a_failed_queue_item_does_not_block_later_ones() -> None:
    lines = [
        claimed("queue/yt-main/teaser-01", "2030-12-02T18:00:00Z", "teaser-01"),
        ledger_line("queue/yt-main/teaser-01", "failed", "2030-12-02T18:00:01Z", reason="rejected"),
    ]
    world = queue_world(["teaser-01", "teaser-02"], now="2030-12-02T18:05:00Z", lines=lines)
    by_id = world.plan.by_id()
    assert world.status(by_id["queue/yt-main/teaser-01"]) == "failed"
    assert table([by_id["queue/yt-main/teaser-02"]]) == [
        ("2030-12-02T18:00:00Z", "queue/yt-main/teaser-02")
    ]


def test_an_unknown_queue_item_blocks_its_slot() -> None:
    lines = [
        claimed("queue/yt-main/teaser-01", "2030-12-02T18:00:00Z", "teaser-01"),
        ledger_line("queue/yt-main/teaser-01", "unknown", "2030-12-02T18:20:00Z", reason="timeout"),
    ]
    world = queue_world(["teaser-01", "teaser-02"], now="2030-12-02T18:30:00Z", lines=lines)
    assert queue_rows(world) == [
        ("2030-12-02T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-04T18:00:00Z", "queue/yt-main/teaser-02"),
    ]


def test_a_released_queue_item_keeps_the_due_of_its_release_and_that_slot() -> None:
    lines = [
        claimed("queue/yt-main/teaser-01", "2030-12-02T18:00:00Z", "teaser-01"),
        ledger_line("queue/yt-main/teaser-01", "unknown", "2030-12-02T18:20:00Z"),
        ledger_line(
            "queue/yt-main/teaser-01",
            "released",
            "2030-12-03T09:00:00Z",
            due="2030-12-04T18:00:00Z",
            actor="jane",
        ),
    ]
    world = queue_world(["teaser-01", "teaser-02"], now="2030-12-03T09:00:00Z", lines=lines)
    assert queue_rows(world) == [
        ("2030-12-04T18:00:00Z", "queue/yt-main/teaser-01"),
        ("2030-12-06T18:00:00Z", "queue/yt-main/teaser-02"),
    ]


def test_no_slot_left_in_the_calendar_is_a_problem_not_a_crash() -> None:
    world = queue_world(["teaser-01"], now="9999-12-31T00:00:00Z")
    assert queue_rows(world) == []
    assert rendered(world.problems()) == [
        "schedules/queues/yt-main.yaml:3:3: error: no posting slot of 'yt-main' is left for 'queue/yt-main/teaser-01' "
        "before the end of the calendar [no-slots]"
    ]


def test_a_now_at_the_start_of_the_calendar_plans_from_the_queue_start() -> None:
    world = queue_world(["teaser-01"], now="0001-01-01T00:00:00Z")
    assert queue_rows(world) == [("2030-12-02T18:00:00Z", "queue/yt-main/teaser-01")]


# --------------------------------------------------------------------------- the ledger's say


def test_a_claim_fixes_due_video_and_payload_of_a_wave_publication() -> None:
    payload = {"id": "w/yt-main", "params": {"from": "claim"}}
    lines = [
        ledger_line(
            "w/yt-main",
            "claimed",
            AT,
            due=AT,
            channel="yt-main",
            video="teaser-01",
            payload=payload,
        )
    ]
    files = tree(
        waves={"w": wave("teaser-01", "2030-12-05T18:00:00Z", ["yt-main"], params={"from": "file"})}
    )
    world = world_of(files, now="2030-12-01T18:01:00Z", state=state_with(lines))
    [pub] = world.publications
    assert (pub.due, pub.intent_due, dict(pub.params), pub.claimed) == (
        instant(AT),
        instant("2030-12-05T18:00:00Z"),
        {"from": "claim"},
        True,
    )


def test_a_publication_that_delivered_nothing_is_armed_again_when_moved_later() -> None:
    lines = [
        ledger_line(
            "w/yt-main",
            "missed",
            "2030-12-01T19:30:00Z",
            due=AT,
            channel="yt-main",
            video="teaser-01",
        )
    ]
    files = tree(waves={"w": wave("teaser-01", "2030-12-05T18:00:00Z", ["yt-main"])})
    world = world_of(files, now="2030-12-02T00:00:00Z", state=state_with(lines))
    [pub] = world.publications
    assert (pub.rearmed, pub.claimed, pub.due) == (True, False, instant("2030-12-05T18:00:00Z"))
    assert world.status(pub) == "pending"


def test_a_publication_only_the_ledger_knows_stays_visible() -> None:
    lines = [
        ledger_line("gone/ig-fr", "claimed", AT, due=AT, channel="ig-fr", video="clip-03"),
        ledger_line("gone/ig-fr", "dispatched", AT),
        ledger_line(
            "queue/yt-main/old",
            "claimed",
            AT,
            due="2030-12-02T18:00:00Z",
            channel="yt-main",
            video="old",
        ),
    ]
    world = world_of(tree(), now="2030-12-03T00:00:00Z", state=state_with(lines))
    by_id = world.plan.by_id()
    assert (
        by_id["gone/ig-fr"].wave,
        by_id["gone/ig-fr"].file,
        world.status(by_id["gone/ig-fr"]),
    ) == (
        "gone",
        None,
        "completed",
    )
    assert (by_id["queue/yt-main/old"].wave, by_id["queue/yt-main/old"].type) == (
        None,
        "independent",
    )


def test_planning_does_not_change_its_inputs() -> None:
    files = tree(
        waves={"w": wave("teaser-01", AT, ["yt-main"])},
        queues={"yt-main": {"start": "2030-12-01", "videos": ["clip-03"]}},
    )
    copied = copy.deepcopy(files)
    first = world_of(files)
    second = world_of(files)
    assert files == copied
    assert first.publications == second.publications


def test_a_wave_publication_cancelled_in_control_frees_its_slot() -> None:
    control = "waves:\n  w: {cancelled: true, reason: postponed}\n"
    waves = {"w": wave("teaser-01", "2030-12-02T18:00:00Z", ["yt-main"])}
    assert queue_rows(queue_world(["teaser-02"], waves=waves))[0][0] == "2030-12-04T18:00:00Z"
    world = queue_world(["teaser-02"], waves=waves, control=control)
    assert queue_rows(world) == [("2030-12-02T18:00:00Z", "queue/yt-main/teaser-02")]
    assert world.plan.by_id()["w/yt-main"].cancelled_by_control
