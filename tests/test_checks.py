"""Checks: the same video twice, overlaps, timing, DST, offsets, GitHub's limits, claimed edits.

Each kind of bad schedule fails with the exact file:line:column and names its subject; the good
variant next to it passes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scheduler.checks import next_free_time, reported_pair
from scheduler.ports import StateSnapshot
from tests.schedule_builder import (
    CHANNELS,
    VIDEOS,
    instant,
    ledger_line,
    problems_of,
    rendered,
    state_with,
    tree,
    wave,
    world_of,
)

AT = "2030-12-01T18:00:00Z"


def dispatched(pub_id: str, channel: str, video: str, due: str) -> list[dict[str, Any]]:
    """Ledger lines of a publication that went out."""
    return [
        ledger_line(pub_id, "claimed", due, due=due, channel=channel, video=video),
        ledger_line(pub_id, "dispatched", due),
    ]


def channels_with(**changes: dict[str, Any]) -> dict[str, Any]:
    """The base channels with some channels' settings changed or added."""
    result = copy.deepcopy(CHANNELS)
    for name, settings in changes.items():
        result["channels"].setdefault(name.replace("_", "-"), {}).update(settings)
    return result


# --------------------------------------------------------------------------- a good file


def test_a_good_schedule_has_no_problem() -> None:
    files = tree(
        waves={
            "launch": wave("teaser-01", AT, ["yt-main", "group:fr"], type="staggered", every="1h"),
            "later": wave("teaser-02", "2030-12-01T20:00:00Z", ["platform:youtube"]),
        },
        queues={"yt-main": {"start": "2030-12-01", "videos": ["clip-03"]}},
    )
    assert problems_of(files) == []


# --------------------------------------------------------------------------- the same video twice

DUPLICATES = [
    pytest.param(
        {
            "waves": {
                "a": wave("teaser-01", AT, ["yt-main"]),
                "b": wave("teaser-01", "2030-12-03T18:00:00Z", ["yt-main"]),
            }
        },
        StateSnapshot(commit=None),
        "schedules/waves/b.yaml:5:3: error: video 'teaser-01' is already published on 'yt-main' by wave 'a' "
        "(schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): remove one of the two [duplicate-video]",
        id="two-waves",
    ),
    pytest.param(
        {
            "waves": {"a": wave("teaser-01", AT, ["yt-main"])},
            "queues": {"yt-main": {"start": "2030-12-01", "videos": ["clip-03", "teaser-01"]}},
        },
        StateSnapshot(commit=None),
        "schedules/queues/yt-main.yaml:4:3: error: video 'teaser-01' is already published on 'yt-main' by wave 'a' "
        "(schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): remove one of the two [duplicate-video]",
        id="wave-and-queue",
    ),
    pytest.param(
        {
            "waves": {
                "a": wave("teaser-01", AT, ["tiktok-fr"]),
                "b": wave("teaser-01", "2030-12-03T18:00:00Z", ["group:fr"]),
            }
        },
        StateSnapshot(commit=None),
        "schedules/waves/b.yaml:5:3: error: video 'teaser-01' is already published on 'tiktok-fr' by wave 'a' "
        "(schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): remove one of the two [duplicate-video]",
        id="group-expansion",
    ),
    pytest.param(
        {
            "waves": {
                "a": wave("teaser-01", AT, ["platform:youtube"]),
                "b": wave("teaser-01", "2030-12-03T18:00:00Z", [{"channel": "yt-main"}]),
            }
        },
        StateSnapshot(commit=None),
        "schedules/waves/b.yaml:5:12: error: video 'teaser-01' is already published on 'yt-main' by wave 'a' "
        "(schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): remove one of the two [duplicate-video]",
        id="platform-expansion",
    ),
    pytest.param(
        {"waves": {"a": wave("teaser-01", AT, ["yt-main"])}},
        state_with(dispatched("old/yt-main", "yt-main", "teaser-01", "2030-11-01T10:00:00Z")),
        "schedules/waves/a.yaml:5:3: error: video 'teaser-01' is already published on 'yt-main' by 'old/yt-main' "
        "(ledger history) (ledger/2030-12.jsonl:1, 2030-11-01T10:00:00Z): remove one of the two [duplicate-video]",
        id="ledger-history",
    ),
    pytest.param(
        {
            "channels": channels_with(yt_main={"formerly": ["youtube-main"]}),
            "waves": {"a": wave("teaser-01", AT, ["yt-main"])},
        },
        state_with(
            dispatched("old/youtube-main", "youtube-main", "teaser-01", "2030-11-01T10:00:00Z")
        ),
        "schedules/waves/a.yaml:5:3: error: video 'teaser-01' is already published on 'yt-main' by 'old/youtube-main' "
        "(ledger history) (ledger/2030-12.jsonl:1, 2030-11-01T10:00:00Z): remove one of the two [duplicate-video]",
        id="formerly-in-ledger",
    ),
    pytest.param(
        {"waves": {"a": wave("teaser-01", AT, ["yt-main"])}},
        state_with(
            [
                ledger_line(
                    "old/yt-main",
                    "claimed",
                    "2030-11-30T10:00:00Z",
                    due="2030-12-05T10:00:00Z",
                    channel="yt-main",
                    video="teaser-01",
                )
            ]
        ),
        "schedules/waves/a.yaml:5:3: error: video 'teaser-01' is also published on 'yt-main' by 'old/yt-main' "
        "(ledger history) (ledger/2030-12.jsonl:1, 2030-12-05T10:00:00Z): remove one of the two [duplicate-video]",
        id="later-ledger-claim-reported-in-the-file",
    ),
]


@pytest.mark.parametrize(("kwargs", "state", "expected"), DUPLICATES)
def test_the_same_video_twice_on_one_channel_is_an_error(
    kwargs: dict[str, Any], state: StateSnapshot, expected: str
) -> None:
    assert rendered(problems_of(tree(**kwargs), state=state)) == [expected]


@pytest.mark.parametrize(
    ("lines", "now"),
    [
        pytest.param(
            [
                ledger_line(
                    "old/yt-main",
                    "claimed",
                    "2030-11-01T10:00:00Z",
                    due="2030-11-01T10:00:00Z",
                    channel="yt-main",
                    video="teaser-01",
                ),
                ledger_line("old/yt-main", "failed", "2030-11-01T10:00:01Z", reason="rejected"),
            ],
            "2030-11-20T00:00:00Z",
            id="failed-final",
        ),
        pytest.param(
            [
                ledger_line(
                    "old/yt-main",
                    "claimed",
                    "2030-11-01T10:00:00Z",
                    due="2030-11-01T10:00:00Z",
                    channel="yt-main",
                    video="teaser-01",
                ),
                ledger_line("old/yt-main", "dispatched", "2030-11-01T10:00:01Z"),
                ledger_line(
                    "old/yt-main", "publish_failed", "2030-11-01T10:05:00Z", reason="expired"
                ),
            ],
            "2030-11-20T00:00:00Z",
            id="publish-failed",
        ),
        pytest.param(
            [
                ledger_line(
                    "old/yt-main",
                    "missed",
                    "2030-11-01T12:00:00Z",
                    due="2030-11-01T10:00:00Z",
                    channel="yt-main",
                    video="teaser-01",
                )
            ],
            "2030-11-20T00:00:00Z",
            id="missed",
        ),
    ],
)
def test_history_that_delivered_nothing_does_not_block_the_video(
    lines: list[dict[str, Any]], now: str
) -> None:
    files = tree(waves={"a": wave("teaser-01", AT, ["yt-main"])})
    assert problems_of(files, now=now, state=state_with(lines)) == []


def test_three_times_the_same_video_names_the_first_each_time() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, ["ig-fr"]),
            "b": wave("teaser-01", "2030-12-02T18:00:00Z", ["ig-fr"]),
            "c": wave("teaser-01", "2030-12-03T18:00:00Z", ["ig-fr"]),
        }
    )
    problems = problems_of(files)
    assert [(p.file, p.code) for p in problems] == [
        ("schedules/waves/b.yaml", "duplicate-video"),
        ("schedules/waves/c.yaml", "duplicate-video"),
    ]
    assert all("by wave 'a' (schedules/waves/a.yaml:5," in p.message for p in problems)


def test_cancelled_publications_conflict_with_nothing() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, ["yt-main"], cancelled="true"),
            "b": wave("teaser-01", AT, ["yt-main", {"channel": "ig-fr", "cancelled": "true"}]),
            "c": wave("teaser-01", "2030-12-01T18:10:00Z", ["ig-fr"]),
        }
    )
    assert problems_of(files) == []


def test_a_channel_twice_in_one_wave_is_reported_at_the_second_listing() -> None:
    text = "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [tiktok-fr, group:fr]\n"
    assert rendered(problems_of(tree(waves={"w": text}))) == [
        "schedules/waves/w.yaml:4:23: error: channel 'tiktok-fr' is listed twice in this wave "
        "(first at line 4): keep one [duplicate-channel]"
    ]


# --------------------------------------------------------------------------- overlaps


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        pytest.param(
            "2030-12-01T19:00:00Z",
            "schedules/waves/b.yaml:5:3: error: 'b/yt-main' at 2030-12-01T19:00:00Z is within 2h (min_gap of 'yt-main') "
            "of wave 'a' (schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): move it to 2030-12-01T20:00:00Z or later [overlap]",
            id="one-hour-after",
        ),
        pytest.param(
            "2030-12-01T18:00:00Z",
            "schedules/waves/b.yaml:5:3: error: 'b/yt-main' at 2030-12-01T18:00:00Z is within 2h (min_gap of 'yt-main') "
            "of wave 'a' (schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): move it to 2030-12-01T20:00:00Z or later [overlap]",
            id="same-instant",
        ),
        pytest.param(
            "2030-12-01T19:59:59Z",
            "schedules/waves/b.yaml:5:3: error: 'b/yt-main' at 2030-12-01T19:59:59Z is within 2h (min_gap of 'yt-main') "
            "of wave 'a' (schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): move it to 2030-12-01T20:00:00Z or later [overlap]",
            id="a-second-short",
        ),
        pytest.param("2030-12-01T20:00:00Z", None, id="exactly-min-gap"),
    ],
)
def test_publications_closer_than_min_gap_overlap(second: str, expected: str | None) -> None:
    files = tree(
        waves={"a": wave("teaser-01", AT, ["yt-main"]), "b": wave("teaser-02", second, ["yt-main"])}
    )
    assert rendered(problems_of(files)) == ([expected] if expected else [])


def test_the_next_free_time_skips_every_publication_in_the_way() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, ["yt-main"]),
            "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
            "c": wave("clip-03", "2030-12-01T21:00:00Z", ["yt-main"]),
        }
    )
    [problem] = problems_of(files)  # b and c are exactly min_gap apart
    assert problem.file == "schedules/waves/b.yaml"
    # 20:00 is 1h before c (21:00), so the first free time is 2h after c
    assert problem.message.endswith("move it to 2030-12-01T23:00:00Z or later")


def test_next_free_time_is_the_first_instant_far_enough_from_every_other() -> None:
    dues = [
        instant(t) for t in ("2030-12-01T10:00:00Z", "2030-12-01T10:30:00Z", "2030-12-01T11:30:00Z")
    ]
    gap = instant("2030-12-01T01:00:00Z") - instant("2030-12-01T00:00:00Z")
    assert next_free_time(dues[1], dues, gap) == instant("2030-12-01T12:30:00Z")
    assert next_free_time(dues[0], dues[:1], gap) == dues[0]


def test_an_overlap_with_a_former_channel_id_in_the_ledger() -> None:
    files = tree(
        channels=channels_with(yt_main={"formerly": ["youtube-main"]}),
        waves={"a": wave("teaser-01", AT, ["yt-main"])},
    )
    state = state_with(
        dispatched("old/youtube-main", "youtube-main", "clip-03", "2030-12-01T17:00:00Z")
    )
    assert rendered(problems_of(files, state=state)) == [
        "schedules/waves/a.yaml:5:3: error: 'a/yt-main' at 2030-12-01T18:00:00Z is within 2h (min_gap of 'yt-main') "
        "of 'old/youtube-main' (ledger history) (ledger/2030-12.jsonl:1, 2030-12-01T17:00:00Z): "
        "move it to 2030-12-01T19:00:00Z or later [overlap]"
    ]


def test_reported_pair_prefers_the_file_then_the_change_then_the_later() -> None:
    world = world_of(
        tree(
            waves={
                "a": wave("teaser-01", AT, ["yt-main"]),
                "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
            }
        )
    )
    a, b = world.publications
    assert reported_pair(a, b) == (b, a)
    assert reported_pair(a, b, {"a/yt-main"}) == (a, b)
    assert reported_pair(a, b, {"a/yt-main", "b/yt-main"}) == (b, a)


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2030-12-01T18:59:59Z", [], id="within-max-lateness"),
        pytest.param("2030-12-01T19:00:00Z", [], id="exactly-max-lateness"),
        pytest.param(
            "2030-12-01T19:00:01Z",
            [
                "schedules/waves/a.yaml:5:3: error: 'a/yt-main' is due 2030-12-01T18:00:00Z, more than its max_lateness (1h) "
                "in the past, and never went out: move it to the future or cancel it [past]"
            ],
            id="past",
        ),
    ],
)
def test_a_publication_too_late_to_go_out_is_an_error(now: str, expected: list[str]) -> None:
    files = tree(waves={"a": wave("teaser-01", AT, ["yt-main"])})
    assert rendered(problems_of(files, now=now)) == expected


def test_the_wave_max_lateness_decides_what_is_past() -> None:
    files = tree(waves={"a": wave("teaser-01", AT, ["yt-main"], max_lateness="10m")})
    [problem] = problems_of(files, now="2030-12-01T18:10:01Z")
    assert (problem.code, problem.line) == ("past", 6)
    assert "more than its max_lateness (10m)" in problem.message


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(dispatched("a/yt-main", "yt-main", "teaser-01", AT), id="dispatched"),
        pytest.param(
            [ledger_line("a/yt-main", "claimed", AT, due=AT, channel="yt-main", video="teaser-01")],
            id="claimed",
        ),
        pytest.param(
            [
                ledger_line(
                    "a/yt-main",
                    "missed",
                    "2030-12-01T19:05:00Z",
                    due=AT,
                    channel="yt-main",
                    video="teaser-01",
                )
            ],
            id="missed",
        ),
    ],
)
def test_a_past_publication_with_history_is_no_timing_error(lines: list[dict[str, Any]]) -> None:
    files = tree(waves={"a": wave("teaser-01", AT, ["yt-main"])})
    assert problems_of(files, now="2030-12-20T00:00:00Z", state=state_with(lines)) == []


def test_past_cancelled_and_queue_publications_are_no_timing_error() -> None:
    files = tree(
        waves={"a": wave("teaser-01", "2030-11-01T18:00:00Z", ["yt-main"], cancelled="true")},
        queues={"yt-main": {"start": "2030-11-01", "videos": ["clip-03"]}},
    )
    assert problems_of(files) == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(
            "2030-03-31T02:30:00",
            "schedules/waves/a.yaml:3:5: error: 2030-03-31 02:30 does not exist in Europe/Paris (clocks jump from 02:00 "
            "to 03:00): write 2030-03-31T01:30:00+01:00 or 2030-03-31T03:30:00+02:00 [dst]",
            id="gap",
        ),
        pytest.param(
            "2030-10-27T02:30:00",
            "schedules/waves/a.yaml:3:5: error: 2030-10-27 02:30 happens twice in Europe/Paris (clocks go back from 03:00 "
            "to 02:00): write 2030-10-27T02:30:00+02:00 or 2030-10-27T02:30:00+01:00 [dst]",
            id="overlap",
        ),
    ],
)
def test_a_naive_time_in_a_dst_gap_or_overlap_names_both_choices(at: str, expected: str) -> None:
    files = tree(waves={"a": wave("teaser-01", at, ["yt-main"], timezone="Europe/Paris")})
    world = world_of(files, now="2030-01-01T00:00:00Z")
    assert rendered(world.problems()) == [expected]
    assert world.publications == ()


def test_a_naive_time_without_timezone_is_an_error() -> None:
    files = tree(waves={"a": wave("teaser-01", "2030-12-01T18:00:00", ["yt-main"])})
    assert rendered(problems_of(files)) == [
        "schedules/waves/a.yaml:3:5: error: 'at' has no offset: add one (e.g. +01:00 or Z) or set timezone: [naive-time]"
    ]


@pytest.mark.parametrize(
    ("at", "channels", "extra", "expected"),
    [
        pytest.param(
            "2030-07-01T18:00:00+01:00",
            ["tiktok-fr"],
            {},
            "schedules/waves/a.yaml:3:5: warning: 'at' is written 2030-07-01T18:00:00+01:00, but Europe/Paris is at "
            "UTC+02:00 then: if the wall-clock time is meant, write 2030-07-01T18:00:00+02:00; the instant as written "
            "is 2030-07-01T19:00:00+02:00 there [offset]",
            id="winter-offset-in-summer",
        ),
        pytest.param(
            "2030-12-01T18:00:00+02:00",
            ["yt-main"],
            {"timezone": "Europe/Paris"},
            "schedules/waves/a.yaml:3:5: warning: 'at' is written 2030-12-01T18:00:00+02:00, but Europe/Paris is at "
            "UTC+01:00 then: if the wall-clock time is meant, write 2030-12-01T18:00:00+01:00; the instant as written "
            "is 2030-12-01T17:00:00+01:00 there [offset]",
            id="wave-timezone",
        ),
        pytest.param("2030-12-01T18:00:00+01:00", ["tiktok-fr"], {}, None, id="matching"),
        pytest.param(
            "2030-12-01T18:00:00+01:00", ["group:fr"], {}, None, id="matching-through-a-group"
        ),
        pytest.param(
            "2030-12-01T18:00:00+01:00",
            ["yt-main", "ig-fr"],
            {},
            None,
            id="matching-a-later-channel",
        ),
        pytest.param("2030-07-01T18:00:00Z", ["tiktok-fr"], {}, None, id="utc-is-deliberate"),
    ],
)
def test_an_offset_that_no_zone_of_the_wave_has_is_a_warning(
    at: str, channels: list[str], extra: dict[str, str], expected: str | None
) -> None:
    files = tree(waves={"a": wave("teaser-01", at, channels, **extra)})
    assert rendered(problems_of(files, now="2030-01-01T00:00:00Z")) == (
        [expected] if expected else []
    )


def test_offsets_are_not_judged_while_the_channels_cannot_be_loaded() -> None:
    channels = channels_with(tiktok_fr={"min_gap": "2 hours"})
    files = tree(
        channels=channels,
        waves={"a": wave("teaser-01", "2030-12-01T18:00:00+01:00", ["tiktok-fr"])},
    )
    assert [problem.code for problem in problems_of(files)] == ["schema"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"every": "1h"},
            "schedules/waves/a.yaml:4:8: error: 'every' applies to staggered waves only: remove it or write type: staggered [timing]",
            id="every-on-simultaneous",
        ),
        pytest.param(
            {"every": "0s", "type": "staggered"},
            "schedules/waves/a.yaml:4:8: error: 'every' must be positive, e.g. every: 1h [timing]",
            id="zero-every",
        ),
        pytest.param(
            {"type": "staggered"},
            "schedules/waves/a.yaml:2:7: error: a staggered wave needs every: (e.g. every: 1h) or a delay on every item [schema]",
            id="staggered-without-every",
        ),
    ],
)
def test_every_must_be_positive_and_only_on_staggered_waves(
    kwargs: dict[str, str], expected: str
) -> None:
    files = tree(waves={"a": wave("teaser-01", AT, ["yt-main", "ig-fr"], **kwargs)})
    assert rendered(problems_of(files)) == [expected]


def test_a_zero_delay_is_allowed() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, [{"channel": "yt-main", "delay": "0s"}], type="staggered")
        }
    )
    assert problems_of(files) == []


def test_a_queue_whose_channel_has_no_slots_is_an_error() -> None:
    files = tree(queues={"ig-fr": {"start": "2030-12-01", "videos": ["teaser-01"]}})
    assert rendered(problems_of(files)) == [
        "schedules/queues/ig-fr.yaml:1:8: error: channel 'ig-fr' has no slots, so its queue cannot be placed: "
        "add slots: to the channel in schedules/channels.yaml [no-slots]"
    ]


def test_a_video_not_ready_within_24_hours_is_a_warning() -> None:
    videos = copy.deepcopy(VIDEOS)
    videos["videos"]["teaser-01"]["ready"] = "false"
    files = tree(videos=videos, waves={"a": wave("teaser-01", AT, ["yt-main"])})
    assert problems_of(files, now="2030-11-30T17:59:59Z") == []
    assert problems_of(files, now="2030-12-01T18:00:01Z") == []
    assert rendered(problems_of(files, now="2030-11-30T18:00:01Z")) == [
        "schedules/waves/a.yaml:5:3: warning: video 'teaser-01' is not ready (ready: false) and 'a/yt-main' is due "
        "2030-12-01T18:00:00Z: it will be held [not-ready]"
    ]


def test_a_due_beyond_the_calendar_is_an_error_not_a_crash() -> None:
    channels = [f"c{i}" for i in range(80)]
    text = {"channels": {name: {"platform": "x"} for name in channels}}
    files = tree(
        channels=text,
        waves={"a": wave("teaser-01", AT, channels, type="staggered", every="36500d")},
    )
    problems = problems_of(files)
    assert {p.code for p in problems} == {"timing"}
    assert problems[0].message == "'a/c70' would be due after 9000: shorten every or delay"


# --------------------------------------------------------------------------- GitHub's limits


@pytest.mark.parametrize(("size", "fails"), [(59_000, False), (62_000, True)])
def test_a_payload_over_60_kb_is_an_error(size: int, fails: bool) -> None:
    videos = copy.deepcopy(VIDEOS)
    videos["videos"]["teaser-01"]["notes"] = "x" * size
    files = tree(videos=videos, waves={"a": wave("teaser-01", AT, ["yt-main"])})
    problems = rendered(problems_of(files))
    if not fails:
        assert problems == []
        return
    [problem] = problems
    assert problem.startswith(
        "schedules/waves/a.yaml:5:3: error: the payload of 'a/yt-main' is 62,"
    )
    assert problem.endswith(
        "bytes; GitHub refuses 64 KB: shorten its params or video metadata [payload-size]"
    )


@pytest.mark.parametrize(
    ("dispatch", "expected"),
    [
        pytest.param({"event_type": "e" * 100}, None, id="100-characters"),
        pytest.param(
            {"event_type": "e" * 101},
            "schedules/channels.yaml:14:19: error: channels.yt-main.dispatch.event_type: event_type must be 1-100 "
            "characters (GitHub's limit), not 101 [schema]",
            id="101-characters",
        ),
        pytest.param(
            {"event_type": ""},
            "schedules/channels.yaml:14:19: error: channels.yt-main.dispatch.event_type: event_type must be 1-100 "
            "characters (GitHub's limit), not 0 [schema]",
            id="empty",
        ),
        pytest.param({"repo": "acme-media/yt.publisher_2"}, None, id="owner-name"),
        pytest.param(
            {"repo": "acme"},
            "schedules/channels.yaml:13:13: error: channels.yt-main.dispatch.repo: 'acme' is not a repository: "
            "write owner/name, e.g. acme/publisher [schema]",
            id="no-slash",
        ),
        pytest.param(
            {"repo": "https://github.com/acme/x"},
            "schedules/channels.yaml:13:13: error: channels.yt-main.dispatch.repo: 'https://github.com/acme/x' is not "
            "a repository: write owner/name, e.g. acme/publisher [schema]",
            id="url",
        ),
        pytest.param(
            {"repo": "acme/x/y"},
            "schedules/channels.yaml:13:13: error: channels.yt-main.dispatch.repo: 'acme/x/y' is not a repository: "
            "write owner/name, e.g. acme/publisher [schema]",
            id="three-parts",
        ),
    ],
)
def test_what_github_refuses_in_dispatch_settings(
    dispatch: dict[str, str], expected: str | None
) -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["dispatch"] = {"repo": "acme/yt-publisher", **dispatch}
    assert rendered(problems_of(tree(channels=channels))) == ([expected] if expected else [])


def many_channels(count: int, *, repo: str | None) -> dict[str, Any]:
    """``count`` channels on one repository (or the outbox), one publication per request."""
    dispatch = {"repo": repo, "max_batch": "1"} if repo else {"max_batch": "1"}
    return {
        "defaults": {"dispatch": dispatch},
        "channels": {f"c{i:03d}": {"platform": "x"} for i in range(count)},
    }


@pytest.mark.parametrize(
    ("count", "repo", "warns"),
    [(500, "acme/p", False), (501, "acme/p", True), (501, None, False)],
    ids=["500", "501", "outbox-sends-no-request"],
)
def test_more_than_500_requests_in_an_hour_is_a_warning(
    count: int, repo: str | None, warns: bool
) -> None:
    channels = many_channels(count, repo=repo)
    files = tree(channels=channels, waves={"a": wave("teaser-01", AT, list(channels["channels"]))})
    expected = [
        "schedules/: warning: 501 dispatch requests in the hour from 2030-12-01T18:00:00Z: GitHub allows about 500 "
        "content-creating requests per hour per token; spread the waves or raise max_batch [rate]"
    ]
    assert rendered(problems_of(files)) == (expected if warns else [])


def test_batches_count_as_one_request_each() -> None:
    channels = many_channels(1000, repo="acme/p")
    channels["defaults"]["dispatch"]["max_batch"] = "2"
    files = tree(channels=channels, waves={"a": wave("teaser-01", AT, list(channels["channels"]))})
    assert problems_of(files) == []


# --------------------------------------------------------------------------- claimed publications


def test_changing_the_video_of_a_claimed_publication_is_an_error() -> None:
    files = tree(waves={"a": wave("teaser-02", AT, ["yt-main"])})
    state = state_with(
        [ledger_line("a/yt-main", "claimed", AT, due=AT, channel="yt-main", video="teaser-01")]
    )
    assert rendered(problems_of(files, now="2030-12-01T18:01:00Z", state=state)) == [
        "schedules/waves/a.yaml:5:3: error: 'a/yt-main' was already claimed with video 'teaser-01'; it cannot "
        "change to 'teaser-02': put the new video in a new wave (or a new id:) [claimed-video]"
    ]


def test_moving_a_claimed_publication_has_no_effect_and_is_no_error() -> None:
    files = tree(waves={"a": wave("teaser-01", "2030-12-02T18:00:00Z", ["yt-main"])})
    state = state_with(
        [ledger_line("a/yt-main", "claimed", AT, due=AT, channel="yt-main", video="teaser-01")]
    )
    world = world_of(files, now="2030-12-01T18:01:00Z", state=state)
    assert world.problems() == []
    [pub] = world.publications
    assert (pub.due, pub.intent_due) == (instant(AT), instant("2030-12-02T18:00:00Z"))


# --------------------------------------------------------------------------- control.yaml

CANCEL_A = "publications:\n  a/yt-main: {cancelled: true, reason: clash, actor: jane}\n"


def test_a_publication_cancelled_in_control_conflicts_with_nothing() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, ["yt-main"]),
            "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
            "c": wave("teaser-01", "2030-12-03T18:00:00Z", ["yt-main"]),
        }
    )
    assert {p.code for p in problems_of(files)} == {"overlap", "duplicate-video"}
    world = world_of(files, now="2030-12-01T19:30:00Z", state=state_with(control=CANCEL_A))
    assert world.problems() == []  # neither a conflict nor "past" for the cancelled one
    assert world.status(world.plan.by_id()["a/yt-main"]) == "cancelled"


def test_a_cancel_after_the_claim_does_not_free_the_channel() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", AT, ["yt-main"]),
            "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
        }
    )
    lines = [ledger_line("a/yt-main", "claimed", AT, due=AT, channel="yt-main", video="teaser-01")]
    state = state_with(lines, control=CANCEL_A)
    assert [p.code for p in problems_of(files, now="2030-12-01T18:01:00Z", state=state)] == [
        "overlap"
    ]
