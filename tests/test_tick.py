"""The tick protocol over its ports: what goes out, in which requests, and what the ledger says.

The state is a :class:`MemoryStateStore`; requests are kept by a :class:`RecordingDispatcher` or
go through the real PyGithub client to the fake GitHub server.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from scheduler.errors import StateError
from tests import fakegithub
from tests.fakegithub import FakeGitHub
from tests.tick_helpers import (
    CHANNELS,
    TOKEN,
    Rig,
    Schedule,
    dispatched_ids,
    empty_summary,
    fake_dispatcher,
    ledger_lines,
    register_repos,
    summary,
    wave,
)

fake_github = fakegithub.fake_github

TEASER_AT = "2030-12-02T17:00:00Z"
ALL = ["yt-main", "tiktok-fr", "ig-fr", "x-us"]


def teaser(channels: list[str] = ALL, **kw: Any) -> Schedule:
    """Return the base schedule with one simultaneous wave ``teaser`` at 17:00 UTC."""
    return Schedule.base(outbox="li-corp" in channels).with_wave(
        "teaser", wave("teaser-01", TEASER_AT, channels, **kw)
    )


def sent(rig: Rig) -> list[tuple[str | None, str, tuple[str, ...]]]:
    """Return (repo, event_type, ids) of every request the recording dispatcher got."""
    return [(r.repo, r.event_type, r.ids) for r in rig.recorder.sent]


# --------------------------------------------------------------------------- requests


def test_requests_are_grouped_by_repo_and_event_type_and_capped_by_the_smallest_max_batch() -> None:
    rig = Rig(teaser())
    report = rig.tick("17:01")
    assert sent(rig) == [
        ("acme/social", "publish", ("teaser/ig-fr", "teaser/tiktok-fr")),
        ("acme/social", "publish", ("teaser/x-us",)),  # x-us has max_batch 1
        ("acme/yt", "upload", ("teaser/yt-main",)),
    ]
    assert report.requests == 3
    assert summary(report) == empty_summary(dispatched=[f"teaser/{c}" for c in ALL])
    assert report.exit_code == 0


def many_channels(
    count: int, *, max_batch: dict[int, int] | None = None, repo: str = "acme/wall"
) -> str:
    """Return a channels.yaml of ``count`` channels ``c000``... on platform ``wall``."""
    rows = [
        "defaults:",
        "  min_gap: 1m",
        f"  dispatch: {{repo: {repo}, max_batch: 50}}",
        "channels:",
    ]
    for index in range(count):
        cap = (max_batch or {}).get(index)
        extra = f", dispatch: {{max_batch: {cap}}}" if cap else ""
        rows.append(f"  c{index:03d}: {{platform: wall{extra}}}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("count", "caps", "sizes"),
    [
        pytest.param(7, {}, [7], id="one-request"),
        pytest.param(120, {}, [50, 50, 20], id="max-batch-50"),
        pytest.param(5, dict.fromkeys(range(5), 2), [2, 2, 1], id="max-batch-2"),
        pytest.param(6, {3: 2}, [3, 2, 1], id="smallest-in-request-applies"),
        pytest.param(4, {0: 1}, [1, 3], id="first-channel-caps-its-request"),
    ],
)
def test_batches_respect_the_smallest_max_batch_of_their_channels(
    count: int, caps: dict[int, int], sizes: list[int]
) -> None:
    channels = [f"c{i:03d}" for i in range(count)]
    schedule = Schedule.base(channels=many_channels(count, max_batch=caps)).with_wave(
        "wall", wave("teaser-01", TEASER_AT, ["platform:wall"])
    )
    rig = Rig(schedule)
    rig.tick("17:01")
    requests = sent(rig)
    assert [len(ids) for _, _, ids in requests] == sizes
    assert sorted(i for _, _, ids in requests for i in ids) == [f"wall/{c}" for c in channels]


def test_the_payload_has_the_documented_shape(fake_github: FakeGitHub) -> None:
    register_repos(fake_github)
    extra = "params: {lang: fr, campaign: aurora}\n"
    items = ["{channel: yt-main, params: {caption: Hello, lang: de}}", "tiktok-fr"]
    rig = Rig(teaser(items, extra=extra), dispatcher=fake_dispatcher(fake_github))
    rig.tick("17:02")
    [dispatch] = fake_github.dispatches_to("acme/yt")
    assert dispatch.event_type == "upload"
    assert dispatch.client_payload == {
        "publications": [
            {
                "id": "teaser/yt-main",
                "dedupe_key": "yt-main/teaser-01",
                "channel": "yt-main",
                "platform": "youtube",
                "video": {
                    "id": "teaser-01",
                    "title": "Launch teaser",
                    "url": "https://cdn.example.com/teaser-01.mp4",
                    "duration": "15s",
                    "aspect": "9:16",
                    "views": "0123",
                    "subtitles": "no",
                },
                "due": "2030-12-02T17:00:00Z",
                "not_before": "2030-12-02T17:00:00Z",
                "expires_at": "2030-12-02T18:00:00Z",
                "wave": "teaser",
                "type": "simultaneous",
                "attempt": 1,
                # channel < wave < item, shallow
                "params": {
                    "playlist": "PL123",
                    "lang": "de",
                    "campaign": "aurora",
                    "caption": "Hello",
                },
            }
        ],
        "run": "run-1",
    }
    [social] = fake_github.dispatches_to("acme/social")
    assert social.client_payload["publications"][0]["params"] == {
        "lang": "fr",
        "campaign": "aurora",
    }
    assert dispatch.token == TOKEN


def test_the_claim_carries_the_main_commit_and_the_payload_it_sends() -> None:
    rig = Rig(teaser(["tiktok-fr"]))
    rig.tick("17:01")
    claim, done = rig.rows()
    assert claim["event"] == "claimed" and done["event"] == "dispatched"
    assert claim["sha"] == "f" * 40
    assert claim["payload"] == rig.recorder.sent[0].client_payload["publications"][0]
    assert {k: claim[k] for k in ("id", "at", "due", "channel", "video", "attempt", "run")} == {
        "id": "teaser/tiktok-fr",
        "at": "2030-12-02T17:01:00Z",
        "due": "2030-12-02T17:00:00Z",
        "channel": "tiktok-fr",
        "video": "teaser-01",
        "attempt": 1,
        "run": "run-1",
    }
    assert done["backend"] == "github"


def test_a_300_channel_wave_is_split_to_keep_every_payload_under_64_kb(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo("acme/wall")
    # Non-ASCII text travels as \\u escapes: 200 characters take 1,200 bytes on the wire.
    caption = "オーロラ、ついに公開。" * 18 + "x" * 2
    params = "params: {caption: " + caption + ", note: " + "n" * 200 + "}\n"
    schedule = Schedule.base(channels=many_channels(300)).with_wave(
        "wall", wave("teaser-01", TEASER_AT, ["platform:wall"], extra=params)
    )
    rig = Rig(schedule, dispatcher=fake_dispatcher(fake_github))
    report = rig.tick("17:01")
    assert [status for _, _, status in fake_github.requests if status is not None] == [200] + [
        204
    ] * report.requests
    assert report.requests > 300 // 50, "the payloads must have been split below max_batch"
    sizes = [len(json.dumps(d.client_payload).encode()) for d in fake_github.dispatches]
    assert max(sizes) < 65536
    assert all(len(d.client_payload["publications"]) <= 50 for d in fake_github.dispatches)
    assert dispatched_ids(fake_github) == Counter({f"wall/c{i:03d}": 1 for i in range(300)})
    assert len(report.dispatched) == 300 and report.exit_code == 0


# --------------------------------------------------------------------------- the outbox


def test_channels_without_a_repository_go_to_the_outbox_in_the_record_commit() -> None:
    rig = Rig(teaser(["tiktok-fr", "li-corp"]))
    report = rig.tick("17:01")
    assert sent(rig) == [("acme/social", "publish", ("teaser/tiktok-fr",))]
    [line] = rig.rows("outbox/")
    assert set(line) == {"repo", "event_type", "client_payload"}
    assert line["repo"] is None and line["event_type"] == "publish"
    assert [p["id"] for p in line["client_payload"]["publications"]] == ["teaser/li-corp"]
    assert line["client_payload"]["run"] == "run-1"
    outbox_rows = [r for r in rig.rows() if r["id"] == "teaser/li-corp"]
    assert [(r["event"], r.get("backend")) for r in outbox_rows] == [
        ("claimed", None),
        ("dispatched", "outbox"),
    ]
    # the outbox file appears in the same commit as the dispatched events
    claim_commit, record_commit = rig.memory.commits
    assert claim_commit[1].startswith("tick claim: claimed 2")
    assert record_commit[1].startswith("tick record: dispatched 2")
    assert "outbox/2030-12.jsonl" in rig.state().files
    assert sorted(report.dispatched) == ["teaser/li-corp", "teaser/tiktok-fr"]


def test_backend_outbox_writes_one_line_per_would_be_request_and_sends_nothing() -> None:
    rig = Rig(teaser([*ALL, "li-corp"]))
    report = rig.tick("17:01", backend="outbox")
    assert sent(rig) == []
    assert rig.recorder.checked == []
    lines = [
        (row["repo"], row["event_type"], [p["id"] for p in row["client_payload"]["publications"]])
        for row in rig.rows("outbox/")
    ]
    assert lines == [
        (None, "publish", ["teaser/li-corp"]),
        ("acme/social", "publish", ["teaser/ig-fr", "teaser/tiktok-fr"]),
        ("acme/social", "publish", ["teaser/x-us"]),
        ("acme/yt", "upload", ["teaser/yt-main"]),
    ]
    backends = {r["id"]: r["backend"] for r in rig.rows() if r["event"] == "dispatched"}
    assert backends == dict.fromkeys([f"teaser/{c}" for c in [*ALL, "li-corp"]], "outbox")
    assert report.exit_code == 0


def test_outbox_lines_are_appended_tick_after_tick() -> None:
    schedule = Schedule.base(outbox=True).with_wave(
        "bts", wave("bts-01", TEASER_AT, ["li-corp", "tiktok-fr"], kind="staggered")
    )
    rig = Rig(schedule)
    rig.tick("17:01", backend="outbox")
    first = rig.state().files["outbox/2030-12.jsonl"]
    rig.tick("18:01", backend="outbox")
    second = rig.state().files["outbox/2030-12.jsonl"]
    assert second.startswith(first) and second.count(b"\n") == 2


# --------------------------------------------------------------------------- idempotency


def test_the_same_tick_twice_sends_and_writes_nothing_new() -> None:
    rig = Rig(teaser())
    rig.tick("17:01")
    requests, commits = len(rig.recorder.sent), len(rig.memory.commits)
    again = rig.tick("17:01")
    later = rig.tick("17:20")
    assert len(rig.recorder.sent) == requests
    assert len(rig.memory.commits) == commits
    assert summary(again) == summary(later) == empty_summary()
    assert again.exit_code == later.exit_code == 0


STAGGERED = wave("trailer", TEASER_AT, ALL, kind="staggered")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("16:59", [], id="before-the-first"),
        pytest.param("17:03", ["launch/yt-main"], id="17h"),
        pytest.param("17:40", [], id="between"),
        pytest.param("18:00", ["launch/tiktok-fr"], id="18h-on-the-minute"),
        pytest.param("19:05", ["launch/ig-fr"], id="19h"),
        pytest.param("20:59", ["launch/x-us"], id="20h-late"),
        pytest.param("21:00", [], id="after-the-last"),
    ],
)
def test_a_staggered_wave_goes_out_hour_by_hour(now: str, expected: list[str]) -> None:
    rig = Rig(Schedule.base().with_wave("launch", STAGGERED))
    moments = ["16:59", "17:03", "17:40", "18:00", "19:05", "20:59", "21:00"]
    for moment in moments[: moments.index(now)]:
        rig.tick(moment)
    before = len(rig.sent_ids())
    report = rig.tick(now)
    assert report.dispatched == expected
    assert rig.sent_ids()[before:] == expected


@pytest.mark.parametrize(
    ("lead", "now", "expected"),
    [
        pytest.param("10m", "16:52", ["teaser/tiktok-fr"], id="8-minutes-early-within-lead"),
        pytest.param("10m", "16:50", ["teaser/tiktok-fr"], id="exactly-lead-early"),
        pytest.param("10m", "16:49", [], id="11-minutes-early"),
        pytest.param("0m", "16:59", [], id="no-lead"),
    ],
)
def test_lead_dispatches_early_with_not_before_at_due(
    lead: str, now: str, expected: list[str]
) -> None:
    rig = Rig(teaser(["tiktok-fr"], extra=f"lead: {lead}\n"))
    report = rig.tick(now)
    assert report.dispatched == expected
    for request in rig.recorder.sent:
        [entry] = request.client_payload["publications"]
        assert (entry["due"], entry["not_before"]) == (
            "2030-12-02T17:00:00Z",
            "2030-12-02T17:00:00Z",
        )


# --------------------------------------------------------------------------- catch-up


def gap_schedule(second_lateness: str = "1h") -> Schedule:
    """tiktok-fr (min_gap 30m): teaser-01 at 17:00, trailer at 17:30, recap at 18:30 (lead 30m)."""
    return (
        Schedule.base()
        .with_wave("a", wave("teaser-01", TEASER_AT, ["tiktok-fr"]))
        .with_wave(
            "b",
            wave(
                "trailer",
                "2030-12-02T17:30:00Z",
                ["tiktok-fr"],
                extra=f"max_lateness: {second_lateness}\n",
            ),
        )
        .with_wave("c", wave("recap", "2030-12-02T18:30:00Z", ["tiktok-fr"], extra="lead: 30m\n"))
    )


def not_befores(rig: Rig) -> dict[str, str]:
    """Return id -> not_before of every dispatched publication."""
    return {r["id"]: r["not_before"] for r in rig.rows() if r["event"] == "dispatched"}


def test_catch_up_after_a_stall_keeps_the_channel_gap() -> None:
    rig = Rig(gap_schedule())
    report = rig.tick("17:40")  # the cron stalled from 16:55 to 17:40
    assert report.dispatched == ["a/tiktok-fr", "b/tiktok-fr"]
    # a posts at once (17:40); b keeps the gap after it
    assert not_befores(rig) == {
        "a/tiktok-fr": "2030-12-02T17:00:00Z",
        "b/tiktok-fr": "2030-12-02T18:10:00Z",
    }
    report = rig.tick("18:05")  # c is eligible from 18:00 (lead 30m); b's not_before is 18:10
    assert report.dispatched == ["c/tiktok-fr"]
    assert not_befores(rig)["c/tiktok-fr"] == "2030-12-02T18:40:00Z"
    assert report.exit_code == 0


def test_catch_up_beyond_max_lateness_is_missed_for_the_gap() -> None:
    rig = Rig(gap_schedule(second_lateness="20m"))
    report = rig.tick("17:40")
    assert summary(report) == empty_summary(dispatched=["a/tiktok-fr"], missed=["b/tiktok-fr"])
    [missed] = [r for r in rig.rows() if r["event"] == "missed"]
    assert (missed["id"], missed["reason"]) == ("b/tiktok-fr", "gap")
    assert report.exit_code == 1
    assert rig.tick("17:45").exit_code == 0  # missed once, never again


def test_on_time_ticks_keep_not_before_at_due() -> None:
    rig = Rig(gap_schedule())
    for moment in ("17:01", "17:31", "18:01"):
        rig.tick(moment)
    assert not_befores(rig) == {
        "a/tiktok-fr": "2030-12-02T17:00:00Z",
        "b/tiktok-fr": "2030-12-02T17:30:00Z",
        "c/tiktok-fr": "2030-12-02T18:30:00Z",
    }


def test_a_wave_later_than_max_lateness_is_missed_once() -> None:
    rig = Rig(teaser(["tiktok-fr", "ig-fr"]))
    report = rig.tick("18:01")
    assert summary(report) == empty_summary(missed=["teaser/ig-fr", "teaser/tiktok-fr"])
    assert {r["reason"] for r in rig.rows()} == {"late"}
    assert report.exit_code == 1
    assert rig.tick("18:30").exit_code == 0
    assert rig.recorder.sent == []


# --------------------------------------------------------------------------- renames


def test_a_wave_file_renamed_with_its_id_is_not_sent_again() -> None:
    text = "id: teaser\n" + wave("teaser-01", TEASER_AT, ALL)
    rig = Rig(Schedule.base().with_wave("teaser", text))
    rig.tick("17:01")
    rig.schedule = rig.schedule.without("schedules/waves/teaser.yaml").with_wave(
        "2030/teaser-final", text
    )
    report = rig.tick("17:06")
    assert summary(report) == empty_summary() and report.exit_code == 0
    assert len(rig.recorder.sent) == 3
    assert all(events == ["claimed", "dispatched"] for events in rig.events().values())


def test_a_wave_renamed_without_id_is_held_as_already_published() -> None:
    rig = Rig(teaser(["tiktok-fr", "ig-fr"]))
    rig.tick("17:01")
    text = rig.schedule.texts.pop("schedules/waves/teaser.yaml")
    rig.schedule = rig.schedule.with_wave("launch", text)
    report = rig.tick("17:06")
    assert summary(report) == empty_summary(held=["launch/ig-fr", "launch/tiktok-fr"])
    assert report.exit_code == 1
    held = [(r["id"], r["reason"]) for r in rig.rows() if r["event"] == "held"]
    assert sorted(held) == [
        ("launch/ig-fr", "already-published"),
        ("launch/tiktok-fr", "already-published"),
    ]
    for moment in ("17:11", "18:30"):  # held once; and past max_lateness it is not "missed"
        again = rig.tick(moment)
        assert summary(again) == empty_summary() and again.exit_code == 0
    assert dispatched_ids_of(rig) == Counter({"teaser/ig-fr": 1, "teaser/tiktok-fr": 1})


def dispatched_ids_of(rig: Rig) -> Counter[str]:
    """Return how often each id was sent through the recording dispatcher."""
    return Counter(rig.sent_ids())


# --------------------------------------------------------------------------- holds


@pytest.mark.parametrize(
    ("control", "held", "cause"),
    [
        pytest.param("paused: true\nreason: freeze\n", ALL, "paused", id="global-pause"),
        pytest.param(
            "channels:\n  tiktok-fr: {paused: true, reason: review}\n",
            ["tiktok-fr"],
            "paused",
            id="channel-pause",
        ),
        pytest.param(
            "waves:\n  teaser: {paused: true, reason: legal}\n", ALL, "paused", id="wave-pause"
        ),
        pytest.param(
            "publications:\n  teaser/ig-fr: {cancelled: true, reason: wrong cut, actor: jane}\n",
            ["ig-fr"],
            "cancelled",
            id="publication-cancel",
        ),
        pytest.param(
            "channels:\n  x-us: {cancelled: true, reason: closed}\n",
            ["x-us"],
            "cancelled",
            id="channel-cancel",
        ),
        pytest.param(
            "channels:\n  x-us: {paused: true, reason: x, until: 2030-12-02T16:00:00Z}\n",
            [],
            "paused",
            id="pause-already-over",
        ),
    ],
)
def test_pause_and_cancel_hold_once_per_cause(control: str, held: list[str], cause: str) -> None:
    rig = Rig(teaser())
    rig.put_control(control)
    first = rig.tick("17:01")
    held_ids = [f"teaser/{c}" for c in held]
    assert summary(first) == empty_summary(
        held=held_ids, dispatched=[f"teaser/{c}" for c in ALL if c not in held]
    )
    assert first.exit_code == (1 if held else 0)
    assert sorted((r["id"], r["reason"]) for r in rig.rows() if r["event"] == "held") == [
        (i, cause) for i in sorted(held_ids)
    ]
    second = rig.tick("17:06")
    assert summary(second) == empty_summary() and second.exit_code == 0
    assert sum(1 for r in rig.rows() if r["event"] == "held") == len(held)


def test_a_new_cause_is_held_again_and_resuming_sends() -> None:
    rig = Rig(teaser(["tiktok-fr"]))
    rig.put_control("channels:\n  tiktok-fr: {paused: true, reason: review}\n")
    assert rig.tick("17:01").held == ["teaser/tiktok-fr"]
    rig.put_control(
        "channels:\n  tiktok-fr: {paused: true, reason: review}\n"
        "publications:\n  teaser/tiktok-fr: {cancelled: true, reason: wrong cut}\n"
    )
    assert rig.tick("17:02").held == ["teaser/tiktok-fr"]  # a second cause: newly held
    assert rig.tick("17:03").held == []
    rig.put_control("paused: false\n")
    resumed = rig.tick("17:04")
    assert summary(resumed) == empty_summary(dispatched=["teaser/tiktok-fr"])
    assert rig.events() == {"teaser/tiktok-fr": ["held", "held", "claimed", "dispatched"]}


def test_a_cancelled_publication_is_never_missed_and_a_paused_one_is() -> None:
    rig = Rig(teaser(["tiktok-fr", "ig-fr"]))
    rig.put_control(
        "channels:\n  tiktok-fr: {paused: true, reason: review}\n"
        "publications:\n  teaser/ig-fr: {cancelled: true, reason: wrong cut}\n"
    )
    rig.tick("17:01")
    report = rig.tick("18:30")
    assert summary(report) == empty_summary(missed=["teaser/tiktok-fr"])
    assert rig.events() == {"teaser/tiktok-fr": ["held", "missed"], "teaser/ig-fr": ["held"]}


@pytest.mark.parametrize(
    ("waves", "held", "cause", "dispatched"),
    [
        pytest.param(
            {"iv": wave("interview", TEASER_AT, ["tiktok-fr"])},
            ["iv/tiktok-fr"],
            "video-not-ready",
            [],
            id="video-not-ready",
        ),
        pytest.param(
            {
                "a": wave("teaser-01", TEASER_AT, ["tiktok-fr"]),
                "b": wave("trailer", "2030-12-02T17:10:00Z", ["tiktok-fr"]),
            },
            ["b/tiktok-fr"],
            "conflict",
            ["a/tiktok-fr"],
            id="overlap-later-held",
        ),
        pytest.param(
            {
                "a": wave("teaser-01", TEASER_AT, ["tiktok-fr"]),
                "b": wave("teaser-01", "2030-12-02T17:05:00Z", ["tiktok-fr"]),
            },
            ["b/tiktok-fr"],
            "already-published",
            ["a/tiktok-fr"],
            id="same-video-twice",
        ),
    ],
)
def test_held_causes_are_recorded_once(
    waves: dict[str, str], held: list[str], cause: str, dispatched: list[str]
) -> None:
    schedule = Schedule.base()
    for name, text in waves.items():
        schedule = schedule.with_wave(name, text)
    rig = Rig(schedule)
    first = rig.tick("17:15")
    assert summary(first) == empty_summary(held=held, dispatched=dispatched)
    assert [(r["id"], r["reason"]) for r in rig.rows() if r["event"] == "held"] == [
        (i, cause) for i in held
    ]
    assert rig.tick("17:20").exit_code == 0


# --------------------------------------------------------------------------- bad input


def test_a_wave_file_that_cannot_be_loaded_is_reported_and_the_rest_goes_out() -> None:
    schedule = teaser(["tiktok-fr"]).with_wave("broken", "video: [teaser-01\n")
    schedule = schedule.with_wave("typo", wave("no-such-video", TEASER_AT, ["ig-fr"]))
    rig = Rig(schedule)
    report = rig.tick("17:01")
    assert report.dispatched == ["teaser/tiktok-fr"]
    assert sorted({p.file for p in report.problems}) == [
        "schedules/waves/broken.yaml",
        "schedules/waves/typo.yaml",
    ]
    assert report.exit_code == 1


def test_channels_that_cannot_be_loaded_stop_everything() -> None:
    schedule = teaser(["tiktok-fr"])
    schedule.texts["schedules/channels.yaml"] = CHANNELS + "  bad channel: {}\n"
    rig = Rig(schedule)
    report = rig.tick("17:01")
    assert not report.usable and report.exit_code == 1
    assert {p.file for p in report.problems} == {"schedules/channels.yaml"}
    assert rig.state().commit is None and rig.recorder.sent == []


# --------------------------------------------------------------------------- queues

QUEUE_CHANNELS = CHANNELS.replace(
    "  tiktok-fr:\n    platform: tiktok\n",
    "  tiktok-fr:\n    platform: tiktok\n    slots:\n      - days: [mon, tue, wed, thu, fri, sat, sun]\n"
    '        times: ["09:00", "12:00", "18:00"]\n',
)


def test_queue_items_go_out_slot_by_slot_and_roll_forward_after_a_stall() -> None:
    schedule = Schedule.base(channels=QUEUE_CHANNELS)
    schedule.texts["schedules/queues/tiktok-fr.yaml"] = (
        "start: 2030-12-02\nvideos: [teaser-01, trailer, recap]\n"
    )
    rig = Rig(schedule)
    moments = {
        "09:01": ["queue/tiktok-fr/teaser-01"],
        "11:58": [],
        "12:01": ["queue/tiktok-fr/trailer"],
        "2030-12-03T18:30:00Z": ["queue/tiktok-fr/recap"],  # stalled for a day: never missed
        "2030-12-03T18:40:00Z": [],
    }
    for moment, expected in moments.items():
        report = rig.tick(moment)
        assert report.dispatched == expected, moment
        assert report.missed == []
    assert not_befores(rig) == {
        "queue/tiktok-fr/teaser-01": "2030-12-02T09:00:00Z",
        "queue/tiktok-fr/trailer": "2030-12-02T12:00:00Z",
        "queue/tiktok-fr/recap": "2030-12-03T18:00:00Z",
    }


def test_an_unreadable_ledger_line_stops_the_tick_before_anything_is_sent() -> None:
    # a claim the tick cannot read might be the one that already sent this video: act on nothing
    line = (
        b'{"id":"old/tiktok-fr","event":"claimed","at":"2030-12-02T16:50:00Z","due":"2030-12-02T16:20:00Z",'
        b'"channel":"tiktok-fr","video":"recap","not_before":"soon"}\n'
    )
    rig = Rig(teaser(["tiktok-fr"]))
    rig.memory.save(rig.state(), {"ledger/2030-12.jsonl": line}, "by hand")
    before = rig.state()
    with pytest.raises(
        StateError,
        match=r"ledger-unreadable: 1 ledger line\(s\) cannot be read, first ledger/2030-12.jsonl:1",
    ):
        rig.tick("17:01")
    assert rig.state() == before


def test_outbox_lines_go_to_the_month_file_of_their_publications() -> None:
    schedule = (
        Schedule.base()
        .with_wave("nov", wave("teaser-01", "2030-11-30T23:55:00Z", ["tiktok-fr"]))
        .with_wave("dec", wave("trailer", "2030-12-01T00:05:00Z", ["ig-fr"]))
    )
    rig = Rig(schedule)
    report = rig.tick("2030-12-01T00:06:00Z", backend="outbox")
    assert sorted(report.dispatched) == ["dec/ig-fr", "nov/tiktok-fr"]
    files = rig.state().files
    assert sorted(files) == [
        "ledger/2030-11.jsonl",
        "ledger/2030-12.jsonl",
        "outbox/2030-11.jsonl",
        "outbox/2030-12.jsonl",
    ]
    for month, pub_id in (("2030-11", "nov/tiktok-fr"), ("2030-12", "dec/ig-fr")):
        [line] = ledger_lines(files, f"outbox/{month}")
        assert [p["id"] for p in line["client_payload"]["publications"]] == [pub_id]
        assert {r["id"] for r in ledger_lines(files, f"ledger/{month}")} == {pub_id}
