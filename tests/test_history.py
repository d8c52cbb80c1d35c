"""The history ``tick`` and ``validate`` read: only what the schedule can meet, from month
summaries where they are usable, and always the same answer as a read of the whole ledger.

What a user relies on:

- the focused world gives the same records, problems, decisions, newest event and latest
  sends whether closed months are read from their summaries or parsed (generated repositories
  and hypothesis-drawn ledgers);
- history in a summarized month still counts: stale claims, released publications, a video
  already published (under another id, or a channel's former id), overlaps, the clock check;
- a summary edited by hand, or one whose month changed since, is never trusted, and a ledger
  line changed by hand is still caught;
- a real tick on a real git repository writes summaries for closed months only, vouches for
  them, and the next tick reads those months without loading their ledger files, while the
  views still show every publication of the ledger.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import decide, ledger, summary
from scheduler.adapters.files import read_schedules
from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.cli import main
from scheduler.errors import StateError
from scheduler.history import read_history
from scheduler.loading import load_schedules
from scheduler.memory import MemoryStateStore, RecordingDispatcher, parse_trailers
from scheduler.planning import expand_waves
from scheduler.ports import StateSnapshot
from scheduler.tick import TickReport, TickSettings, run_tick, save_state
from scheduler.world import World, build_world, intent_focus
from tests.gitrepos import git, isolate_git_env
from tests.test_summaries import PATTERNS, ledger_file, lines_of
from tests.tick_helpers import (
    CHANNELS,
    STATE_REF,
    VIDEOS,
    Project,
    Schedule,
    events_by_id,
    ledger_lines,
    make_project,
    stamp,
    utc,
    wave,
)

OCT = "ledger/2030-10.jsonl"
NOV = "ledger/2030-11.jsonl"
DEC = "ledger/2030-12.jsonl"
SHA = "f" * 40
GENERATOR = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"


# --------------------------------------------------------------------------- what is compared


def events_of(world: World) -> dict[str, list[tuple[str, str, int, str]]]:
    """id -> (id, event, line, file) of each event of its record."""
    return {
        pub_id: [(e.id, e.event, e.line, e.file) for e in record.events]
        for pub_id, record in world.records.items()
    }


def decisions_of(world: World) -> dict[str, Any]:
    """What a tick would do at the world's ``now``: claims (with not_before), missed, held,
    stale claims."""
    decided = decide.due_publications(world)
    return {
        "claims": sorted((c.pub.id, c.attempt, c.not_before) for c in decided.claims),
        "missed": sorted((pub.id, reason) for pub, reason in decided.missed),
        "held": sorted((pub.id, cause) for pub, cause in decided.held),
        "waiting": sorted((pub.id, cause) for pub, cause in decided.waiting),
        "stale": sorted(record.id for record in decided.stale),
    }


def answer(world: World, *, with_records: bool = True) -> dict[str, Any]:
    """Everything a user sees of a world: records, problems, decisions, the clock facts."""
    result = {
        "problems": [(p.file, p.line, p.code, p.message) for p in world.problems()],
        **decisions_of(world),
        "newest_at": world.history.newest_at,
        "latest_sent": dict(world.history.latest_sent),
    }
    if with_records:
        result["records"] = events_of(world)
    return result


def assert_records_as_in_full_history(chosen: World, full: World) -> None:
    """Every record the focused world ``chosen`` read is the full history's record of that id."""
    mine, theirs = events_of(chosen), events_of(full)
    assert set(mine) <= set(theirs)
    assert {pub_id: theirs[pub_id] for pub_id in mine} == mine


# --------------------------------------------------------------------------- states


def state_of(
    files: Mapping[str, bytes],
    *,
    summarize: Iterable[str] = (),
    outdated: Iterable[str] = (),
    commit: str = "1" * 40,
) -> StateSnapshot:
    """A state as the scheduler leaves it: ``files``, summaries of the ``summarize`` months,
    and one trailer per ledger file and summary. The summaries of ``outdated`` months were
    built before their last line was appended."""
    result = dict(files)
    old = set(outdated)
    for path in summarize:
        content = result[path]
        if path in old:
            content = b"".join(content.splitlines(keepends=True)[:-1])
        built = summary.build(path, content)
        assert built is not None
        result[summary.summary_path(path)] = built
    trailers = parse_trailers("\n".join(ledger.trailers(result)))
    return StateSnapshot(commit=commit, files=result, trailers=trailers, source="memory")


def without_summaries(state: StateSnapshot) -> StateSnapshot:
    """``state`` as a scheduler that never summarized would have left it."""
    files = {path: state.files[path] for path in state.files if not path.startswith("summaries/")}
    trailers = parse_trailers("\n".join(ledger.trailers(files)))
    return StateSnapshot(commit=state.commit, files=files, trailers=trailers, source="memory")


def focused(files: Mapping[str, bytes], state: StateSnapshot, now: datetime) -> World:
    """The world ``tick`` and ``validate`` build."""
    return build_world(files, state, now=now, focused=True)


def summarized_months(files: Mapping[str, bytes], state: StateSnapshot, now: datetime) -> set[str]:
    """The ledger files a focused read takes from their summaries."""
    schedules, _ = load_schedules(files)
    focus = intent_focus(schedules, expand_waves(schedules)[0], now)
    return set(read_history(state, focus).summarized)


def tick(
    schedule: Schedule, store: MemoryStateStore, now: str, dispatcher: RecordingDispatcher
) -> TickReport:
    """One tick at ``now`` (``17:01`` on 2030-12-02, or a full time)."""
    settings = TickSettings(run_id=f"run-{now}", sha=SHA)
    return run_tick(
        schedule.files(), store=store, dispatcher=dispatcher, now=utc(now), settings=settings
    )


def sent(dispatcher: RecordingDispatcher) -> list[str]:
    """Ids of every publication sent, in order."""
    return [pub_id for request in dispatcher.sent for pub_id in request.ids]


def one(pub_id: str, pattern: str, due: str, channel: str, video: str) -> list[dict[str, Any]]:
    """The ledger lines of one publication (see ``PATTERNS``)."""
    return lines_of(pub_id, pattern, utc(due), channel=channel, video=video)


# --------------------------------------------------------------------------- 1. equivalence:
# generated repositories


def bench_generator() -> ModuleType:
    """``benchmarks/generate.py`` as a module."""
    name = "scheduler_bench_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GENERATOR)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


GENERATED = [
    pytest.param({"waves": 40, "channels": 10, "queues": 3, "events": 6000, "seed": 3}, id="one-block"),
    pytest.param({"waves": 60, "channels": 20, "queues": 4, "events": 9000, "seed": 11}, id="two-blocks"),
]  # fmt: skip


@pytest.fixture(scope="module", params=GENERATED)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path, Path]:
    """(metadata, repository with month summaries, the same without) for one set of sizes."""
    generate = bench_generator()
    base = tmp_path_factory.mktemp("generated")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_git_env(monkeypatch, base)
        with_root, without_root = base / "with", base / "without"
        meta = generate.generate(with_root, generate.Params(**request.param, summaries=True))
        other = generate.generate(without_root, generate.Params(**request.param, summaries=False))
    same = ("now", "before_first_wave", "ledger_events", "ledger_files", "publications_in_files")
    assert [meta[key] for key in same] == [other[key] for key in same]
    return meta, with_root, without_root


def git_world(root: Path, now: datetime, *, is_focused: bool = True) -> World:
    """The world a command builds in ``root`` at ``now``, state read from the local branch."""
    repo = GitRepo.find(root)
    assert repo is not None
    state = GitStateStore(repo, STATE_REF, push=False).load()
    files, problems = read_schedules(root)
    return build_world(files, state, now=now, extra_problems=tuple(problems), focused=is_focused)


def moment(meta: Mapping[str, Any], which: str) -> datetime:
    """An instant of the generated calendar: ``before_first_wave``, ``now``, weeks after it,
    or in the middle of the summarized history."""
    bench_now = utc(meta["now"])
    return {
        "before_first_wave": utc(meta["before_first_wave"]),
        "now": bench_now,
        "ten-minutes-later": bench_now + timedelta(minutes=10),
        "three-weeks-later": bench_now + timedelta(weeks=3),
        "inside-the-history": datetime(2030, 11, 20, 12, tzinfo=UTC),
    }[which]


@pytest.mark.parametrize(
    "which",
    ["before_first_wave", "now", "ten-minutes-later", "three-weeks-later", "inside-the-history"],
)
def test_generated_repository_gives_the_same_answer_with_and_without_summaries(
    generated: tuple[dict[str, Any], Path, Path], which: str
) -> None:
    meta, with_root, without_root = generated
    now = moment(meta, which)
    with_world = git_world(with_root, now)
    without_world = git_world(without_root, now)
    assert with_world.history.summarized, "the generated repository has no usable summary"
    assert without_world.history.summarized == ()
    assert answer(with_world) == answer(without_world)
    assert_records_as_in_full_history(with_world, git_world(without_root, now, is_focused=False))


def test_generated_repository_at_its_now_has_work_to_do(
    generated: tuple[dict[str, Any], Path, Path],
) -> None:
    """The comparison above is not vacuous: at ``now`` a tick claims, and history is read."""
    meta, with_root, _ = generated
    world = git_world(with_root, utc(meta["now"]))
    assert decisions_of(world)["claims"]
    assert world.records
    assert world.history.newest_at is not None and world.history.latest_sent


# --------------------------------------------------------------------------- 1. equivalence:
# hypothesis-drawn schedules and ledgers

HYPO_CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
  dispatch: {event_type: publish, max_batch: 50}
channels:
  yt-main:
    platform: youtube
    min_gap: 2h
    formerly: [youtube-old]
    dispatch: {repo: acme/yt}
    slots:
      - days: [mon, tue, wed, thu, fri, sat, sun]
        times: [18:00]
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
  ig-fr:
    platform: instagram
    dispatch: {repo: acme/social}
"""
HYPO_VIDEOS = ["v0", "v1", "v2", "v3", "v4"]
OLD_VIDEOS = ["old-a", "old-b", "old-c", "old-d", "old-e"]  # only in the ledger
CURRENT = ["yt-main", "tiktok-fr", "ig-fr"]
EPOCH = datetime(2030, 9, 1, tzinfo=UTC)
TIMES_OF_DAY = [timedelta(hours=16), timedelta(hours=17), timedelta(hours=17, minutes=40)]


def videos_text(ready: Mapping[str, bool]) -> str:
    """The video registry of the drawn schedules."""
    rows = ["videos:"]
    for video, is_ready in ready.items():
        rows += [
            f"  {video}:",
            f"    title: Video {video}",
            f"    url: https://cdn.example.com/{video}.mp4",
            f"    ready: {'true' if is_ready else 'false'}",
        ]
    return "\n".join(rows) + "\n"


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An instant of September 2030 to January 2031 on a coarse grid (so that they meet)."""
    day = draw(st.integers(0, 140))
    return EPOCH + timedelta(days=day) + draw(st.sampled_from(TIMES_OF_DAY))


Drawn = tuple[dict[str, bytes], dict[str, bytes], set[str], set[str]]


@st.composite
def schedules_and_ledgers(draw: st.DrawFn) -> Drawn:
    """(schedule files, ledger files, ledger files to summarize, those whose summary is out of
    date)."""
    files = {
        "schedules/channels.yaml": HYPO_CHANNELS.encode(),
        "schedules/videos.yaml": videos_text(
            {video: video != "v4" or draw(st.booleans()) for video in HYPO_VIDEOS}
        ).encode(),
    }
    planned: list[tuple[str, str, str]] = []  # (id, channel, video)
    for number in range(draw(st.integers(0, 4))):
        video = draw(st.sampled_from(HYPO_VIDEOS))
        channels = draw(st.lists(st.sampled_from(CURRENT), min_size=1, max_size=3, unique=True))
        files[f"schedules/waves/w{number}.yaml"] = wave(
            video, stamp(draw(instants())), channels
        ).encode()
        planned += [(f"w{number}/{channel}", channel, video) for channel in channels]
    queued = draw(st.lists(st.sampled_from(HYPO_VIDEOS), max_size=3, unique=True))
    if queued:
        items = "".join(f"  - {video}\n" for video in queued)
        files["schedules/queues/yt-main.yaml"] = f"start: 2030-09-01\nvideos:\n{items}".encode()
        planned += [(f"queue/yt-main/{video}", "yt-main", video) for video in queued]
    publications: dict[str, list[dict[str, Any]]] = {}
    for number in range(draw(st.integers(0, 10))):
        reuse_a_planned_id = draw(st.booleans())
        if planned and reuse_a_planned_id:
            pub_id, channel, video = draw(st.sampled_from(planned))
        else:
            channel = draw(st.sampled_from([*CURRENT, "youtube-old", "gone-channel"]))
            video = draw(st.sampled_from([*HYPO_VIDEOS, *OLD_VIDEOS]))
            pub_id = f"old{number}/{channel}"
        if pub_id in publications:
            continue
        pattern = draw(st.sampled_from(sorted(PATTERNS)))
        publications[pub_id] = lines_of(
            pub_id, pattern, draw(instants()), channel=channel, video=video
        )
    by_file: dict[str, list[list[dict[str, Any]]]] = {}
    for rows in publications.values():
        by_file.setdefault(f"ledger/{rows[0]['due'][:7]}.jsonl", []).append(rows)
    ledgers = {path: ledger_file(*pubs) for path, pubs in by_file.items()}
    months = sorted(ledgers)
    summarize = set(draw(st.lists(st.sampled_from(months), unique=True))) if months else set()
    outdated = {path for path in sorted(summarize) if draw(st.integers(0, 4)) == 0}
    return files, ledgers, summarize, outdated


DRAWN = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@DRAWN
@given(schedules_and_ledgers(), instants())
def test_summaries_change_the_cost_never_the_answer(drawn: Drawn, now: datetime) -> None:
    files, ledgers, summarize, outdated = drawn
    with_state = state_of(ledgers, summarize=summarize, outdated=outdated)
    without_state = without_summaries(with_state)
    with_world = focused(files, with_state, now)
    assert set(with_world.history.summarized) == summarize - outdated
    without_world = focused(files, without_state, now)
    assert answer(with_world) == answer(without_world)
    full = build_world(files, without_state, now=now)
    assert_records_as_in_full_history(with_world, full)


@DRAWN
@given(schedules_and_ledgers(), instants())
def test_the_focused_world_decides_and_reports_as_the_whole_history_does(
    drawn: Drawn, now: datetime
) -> None:
    """What ``tick`` and ``validate`` conclude from the history they choose is what they would
    conclude from all of it."""
    files, ledgers, summarize, outdated = drawn
    state = state_of(ledgers, summarize=summarize, outdated=outdated)
    full = build_world(files, without_summaries(state), now=now)
    assert answer(focused(files, state, now), with_records=False) == answer(
        full, with_records=False
    )


# --------------------------------------------------------------------------- 1. equivalence:
# hand-built cases, at several instants

FORMERLY = CHANNELS.replace(
    "    dispatch: {repo: acme/yt, event_type: upload}\n",
    "    dispatch: {repo: acme/yt, event_type: upload}\n    formerly: [youtube-main]\n",
)


GAP_2H = CHANNELS.replace("    params: {playlist: PL123, lang: en}\n", "    min_gap: 2h\n")


def hand_cases() -> dict[str, tuple[Schedule, dict[str, bytes]]]:
    """Name -> (schedule, ledger files), October and November being closed months."""
    cases: dict[str, tuple[Schedule, dict[str, bytes]]] = {}
    moved = Schedule.base(channels=GAP_2H).with_wave(
        "w", wave("recap", "2030-12-10T17:00:00Z", ["yt-main", "ig-fr"])
    )
    october = ledger_file(
        one("w/yt-main", "dispatched", "2030-10-10T17:00:00Z", "yt-main", "recap"),
        one("hist/yt-main", "dispatched", "2030-10-10T18:00:00Z", "yt-main", "trailer"),
        one("far/yt-main", "published", "2030-10-20T18:00:00Z", "yt-main", "bts-01"),
        one("dup/ig-fr", "dispatched", "2030-10-12T18:00:00Z", "ig-fr", "trailer"),
    )
    cases["claimed-wave-moved-by-its-file"] = (moved, {OCT: october})
    by_hand = ledger.encode_lines(
        [{"id": "dup/ig-fr", "event": "published", "at": "2030-12-01T10:00:00Z"}]
    )
    cases["an-id-in-two-files-a-line-appended-by-hand-to-another-month"] = (
        moved,
        {OCT: october, DEC: by_hand},
    )
    cases["stale-claim-released-and-formerly"] = (
        Schedule.base(channels=FORMERLY).with_wave(
            "again", wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr"])
        ),
        {
            OCT: ledger_file(
                one("gone/yt-main", "claimed", "2030-10-05T17:00:00Z", "yt-main", "recap"),
                one("launch/youtube-main", "published", "2030-10-04T17:00:00Z", "youtube-main", "teaser-01"),
                one("retry/ig-fr", "released", "2030-10-06T17:00:00Z", "ig-fr", "trailer"),
            ),
            NOV: ledger_file(
                one("nov/tiktok-fr", "unknown", "2030-11-30T23:30:00Z", "tiktok-fr", "bts-01"),
                one("again/tiktok-fr", "retryable", "2030-11-29T17:00:00Z", "tiktok-fr", "teaser-01"),
            ),
        },
    )  # fmt: skip
    return cases


@pytest.mark.parametrize("case", sorted(hand_cases()))
@pytest.mark.parametrize(
    "now",
    [
        "2030-10-10T16:00:00Z",
        "2030-12-02T17:01:00Z",
        "2030-12-10T17:05:00Z",
        "2031-01-20T00:00:00Z",
    ],
)
def test_hand_built_histories_give_the_same_answer_with_and_without_summaries(
    case: str, now: str
) -> None:
    schedule, files = hand_cases()[case]
    closed = sorted(
        path for path in files if summary.month_closed(path, utc("2030-12-02T17:01:00Z"))
    )
    state = state_of(files, summarize=closed)
    with_world = focused(schedule.files(), state, utc(now))
    assert set(with_world.history.summarized) == set(closed)
    assert answer(with_world) == answer(
        focused(schedule.files(), without_summaries(state), utc(now))
    )
    assert_records_as_in_full_history(
        with_world, build_world(schedule.files(), state, now=utc(now))
    )


# --------------------------------------------------------------------------- 2. history in a
# summarized month still counts

SUMMARIZED = [pytest.param(True, id="summarized"), pytest.param(False, id="parsed")]


def store_with(
    files: Mapping[str, bytes], *, summarize: Iterable[str], schedule: Schedule, now: str
) -> MemoryStateStore:
    """A store holding ``files`` with the ``summarize`` months summarized, checking that a
    focused read at ``now`` really takes those months from their summaries."""
    months = set(summarize)
    state = state_of(files, summarize=months)
    assert summarized_months(schedule.files(), state, utc(now)) == months
    return MemoryStateStore(state)


@pytest.mark.parametrize("summarized", SUMMARIZED)
def test_a_stale_claim_of_a_deleted_file_in_a_closed_month_becomes_unknown(
    summarized: bool,
) -> None:
    """A tick died after claiming 'gone/yt-main' in October; its wave file was deleted since.
    "A claim with no result older than 15 minutes: the next tick appends unknown"."""
    schedule = Schedule.base().with_wave(
        "teaser", wave("teaser-01", "2030-12-02T17:00:00Z", ["tiktok-fr"])
    )
    files = {
        OCT: ledger_file(
            one("gone/yt-main", "claimed", "2030-10-05T17:00:00Z", "yt-main", "recap"),
            one("sent/ig-fr", "published", "2030-10-06T17:00:00Z", "ig-fr", "trailer"),
        )
    }
    store = store_with(files, summarize=[OCT] if summarized else [], schedule=schedule, now="17:01")
    dispatcher = RecordingDispatcher()
    report = tick(schedule, store, "17:01", dispatcher)
    assert report.unknown == ["gone/yt-main"] and report.exit_code == 1
    october = events_by_id(ledger_lines({OCT: store.load().files[OCT]}))
    assert october["gone/yt-main"] == ["claimed", "unknown"]
    assert sent(dispatcher) == ["teaser/tiktok-fr"]


@pytest.mark.parametrize("summarized", SUMMARIZED)
def test_a_released_publication_of_a_deleted_file_in_a_closed_month_is_dispatched(
    summarized: bool,
) -> None:
    """``scheduler retry old/yt-main --at 2030-12-02T17:00Z`` after it was missed in October."""
    schedule = Schedule.base()
    lines = [
        {"id": "old/yt-main", "event": "missed", "at": "2030-10-05T18:10:00Z",
         "due": "2030-10-05T17:00:00Z", "channel": "yt-main", "video": "recap", "reason": "late"},
        {"id": "old/yt-main", "event": "released", "at": "2030-12-02T09:00:00Z",
         "due": "2030-12-02T17:00:00Z", "channel": "yt-main", "video": "recap", "actor": "jane"},
    ]  # fmt: skip
    files = {
        OCT: ledger.encode_lines(lines)
        + ledger_file(one("sent/ig-fr", "published", "2030-10-06T17:00:00Z", "ig-fr", "trailer"))
    }
    store = store_with(files, summarize=[OCT] if summarized else [], schedule=schedule, now="17:01")
    dispatcher = RecordingDispatcher()
    report = tick(schedule, store, "17:01", dispatcher)
    assert report.dispatched == ["old/yt-main"] and report.exit_code == 0
    (request,) = dispatcher.sent
    (entry,) = request.client_payload["publications"]
    assert (entry["video"]["id"], entry["due"]) == ("recap", "2030-12-02T17:00:00Z")
    oct_events = events_by_id(ledger_lines({OCT: store.load().files[OCT]}))
    assert oct_events["old/yt-main"] == ["missed", "released", "claimed", "dispatched"]


@pytest.mark.parametrize(
    ("history_channel", "channels"),
    [
        pytest.param("yt-main", CHANNELS, id="same-channel-another-id"),
        pytest.param("youtube-main", FORMERLY, id="the-channels-former-id"),
    ],
)
@pytest.mark.parametrize("summarized", SUMMARIZED)
def test_a_video_published_months_ago_blocks_a_new_wave_on_that_channel(
    history_channel: str, channels: str, summarized: bool
) -> None:
    schedule = Schedule.base(channels=channels).with_wave(
        "again", wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr"])
    )
    files = {
        OCT: ledger_file(
            one(f"launch/{history_channel}", "published", "2030-10-04T17:00:00Z", history_channel, "teaser-01"),
            one("other/yt-main", "published", "2030-10-09T17:00:00Z", "yt-main", "trailer"),
        ),
        NOV: ledger_file(one("nov/ig-fr", "dispatched", "2030-11-09T17:00:00Z", "ig-fr", "recap")),
    }  # fmt: skip
    months = [OCT, NOV] if summarized else []
    store = store_with(files, summarize=months, schedule=schedule, now="17:01")
    world = focused(schedule.files(), store.load(), utc("17:01"))
    duplicates = [p for p in world.problems() if p.code == "duplicate-video"]
    assert [(p.file, p.severity) for p in duplicates] == [("schedules/waves/again.yaml", "error")]
    assert "teaser-01" in duplicates[0].message and "launch" in duplicates[0].message
    dispatcher = RecordingDispatcher()
    report = tick(schedule, store, "17:01", dispatcher)
    assert report.held == ["again/yt-main"] and report.exit_code == 1
    assert sent(dispatcher) == ["again/tiktok-fr"]
    held = [row for row in ledger_lines(store.load().files) if row["id"] == "again/yt-main"]
    assert [(row["event"], row["reason"]) for row in held] == [("held", "already-published")]


WEEKLY = CHANNELS.replace("    params: {playlist: PL123, lang: en}\n", "    min_gap: 2d\n")


@pytest.mark.parametrize(
    ("channels", "history", "wave_at", "now"),
    [
        pytest.param(
            WEEKLY,
            [one("weekly/yt-main", "dispatched", "2030-11-30T18:00:00Z", "yt-main", "trailer")],
            "2030-12-02T12:00:00Z",
            "2030-12-02T06:00:00Z",
            id="two-day-gap-reaching-a-closed-month",
        ),
        pytest.param(
            CHANNELS.replace("    params: {playlist: PL123, lang: en}\n", "    min_gap: 2h\n"),
            [
                [
                    {"id": "old/yt-main", "event": "missed", "at": "2030-10-05T18:10:00Z",
                     "due": "2030-10-05T17:00:00Z", "channel": "yt-main", "video": "trailer",
                     "reason": "late"},
                    {"id": "old/yt-main", "event": "released", "at": "2030-12-02T09:00:00Z",
                     "due": "2030-12-05T12:00:00Z", "channel": "yt-main", "video": "trailer",
                     "actor": "jane"},
                ]
            ],
            "2030-12-05T13:00:00Z",
            "2030-12-02T10:00:00Z",
            id="released-into-december-from-october",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("summarized", SUMMARIZED)
def test_validate_reports_an_overlap_with_history_of_a_summarized_month(
    channels: str,
    history: list[list[dict[str, Any]]],
    wave_at: str,
    now: str,
    summarized: bool,
) -> None:
    schedule = Schedule.base(channels=channels).with_wave(
        "next", wave("recap", wave_at, ["yt-main"])
    )
    path = f"ledger/{history[0][0]['due'][:7]}.jsonl"
    files = {path: ledger_file(*history)}
    store = store_with(files, summarize=[path] if summarized else [], schedule=schedule, now=now)
    world = focused(schedule.files(), store.load(), utc(now))
    overlaps = [p for p in world.problems() if p.code == "overlap"]
    assert [(p.file, p.severity) for p in overlaps] == [("schedules/waves/next.yaml", "error")]
    assert [p for p in world.problems() if p.severity == "error"] == overlaps
    assert "yt-main" in overlaps[0].message


@pytest.mark.parametrize("summarized", SUMMARIZED)
def test_clock_skew_is_caught_when_the_newest_event_is_in_a_summarized_month(
    summarized: bool,
) -> None:
    """A confirmation of a November publication was recorded on December 1st; a tick whose
    clock says November 30th must refuse to act."""
    schedule = Schedule.base().with_wave("w", wave("recap", "2030-11-30T00:00:00Z", ["ig-fr"]))
    rows = one("nov/yt-main", "dispatched", "2030-11-20T17:00:00Z", "yt-main", "trailer")
    rows.append({"id": "nov/yt-main", "event": "published", "at": "2030-12-01T10:00:00Z"})
    store = store_with(
        {NOV: ledger.encode_lines(rows)},
        summarize=[NOV] if summarized else [],
        schedule=schedule,
        now="2030-11-30T00:00:00Z",
    )
    before = store.load()
    with pytest.raises(StateError, match=r"clock-skew: .*2030-12-01T10:00:00Z"):
        tick(schedule, store, "2030-11-30T00:00:00Z", RecordingDispatcher())
    assert store.load() is before
    assert tick(schedule, store, "2030-12-01T09:59:00Z", RecordingDispatcher()).missed == [
        "w/ig-fr"
    ]


# --------------------------------------------------------------------------- 3. safety


def history_with_a_published_video() -> tuple[Schedule, dict[str, bytes]]:
    """A wave publishing teaser-01 on yt-main, which October's ledger says went out already."""
    schedule = Schedule.base().with_wave(
        "again", wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main"])
    )
    files = {
        OCT: ledger_file(
            one("launch/yt-main", "published", "2030-10-04T17:00:00Z", "yt-main", "teaser-01")
        ),
        NOV: ledger_file(one("nov/ig-fr", "dispatched", "2030-11-09T17:00:00Z", "ig-fr", "recap")),
    }
    return schedule, files


def forged_summary(real: bytes) -> bytes:
    """A summary of ``real``'s month that leaves every publication out but still names the
    ledger file's blob, lines and hash (what a hand edit hiding history would look like)."""
    header = json.loads(real.partition(b"\n")[0])
    empty = summary.build(header["file"], b"")
    assert empty is not None
    forged = json.loads(empty.partition(b"\n")[0])
    forged.update({key: header[key] for key in ("blob", "lines", "sha256")})
    return json.dumps(forged).encode() + b"\n" + empty.partition(b"\n")[2]


def hand_commit(store: MemoryStateStore, files: Mapping[str, bytes]) -> None:
    """A commit made by hand on the state branch: no ``Scheduler-Ledger`` trailer."""
    store.save(store.load(), files, "edit by hand")


def test_a_summary_edited_by_hand_is_ignored() -> None:
    schedule, files = history_with_a_published_video()
    store = store_with(files, summarize=[OCT, NOV], schedule=schedule, now="17:01")
    name = summary.summary_path(OCT)
    hand_commit(store, {name: forged_summary(store.load().files[name])})
    state = store.load()
    assert summarized_months(schedule.files(), state, utc("17:01")) == {NOV}
    now = utc("17:01")
    assert answer(focused(schedule.files(), state, now)) == answer(
        focused(schedule.files(), without_summaries(state), now)
    )
    dispatcher = RecordingDispatcher()
    assert tick(schedule, store, "17:01", dispatcher).held == ["again/yt-main"]
    assert sent(dispatcher) == []


def test_a_summary_edited_by_hand_stays_ignored_after_the_schedulers_next_commit() -> None:
    """The tick that held the wave commits: that commit must not vouch for the summary edited
    by hand, or the next tick trusts it and publishes teaser-01 on yt-main a second time."""
    schedule, files = history_with_a_published_video()
    store = store_with(files, summarize=[OCT, NOV], schedule=schedule, now="17:01")
    name = summary.summary_path(OCT)
    hand_commit(store, {name: forged_summary(store.load().files[name])})
    dispatcher = RecordingDispatcher()
    assert tick(schedule, store, "17:01", dispatcher).held == ["again/yt-main"]
    later = tick(schedule, store, "17:06", dispatcher)
    assert sent(dispatcher) == [], "teaser-01 was published twice on yt-main"
    assert later.dispatched == []
    assert events_by_id(ledger_lines(store.load().files))["again/yt-main"] == ["held"]


def test_a_summary_whose_month_changed_is_ignored_until_the_next_save_refreshes_it() -> None:
    schedule, files = history_with_a_published_video()
    schedule = schedule.with_wave("next", wave("recap", "2030-12-02T18:00:00Z", ["tiktok-fr"]))
    store = store_with(files, summarize=[OCT, NOV], schedule=schedule, now="17:01")
    late = {"id": "nov/ig-fr", "event": "published", "at": "2030-12-02T16:00:00Z"}
    state = save_state(
        store, store.load(), {NOV: files[NOV] + ledger.encode_lines([late])}, "record nov/ig-fr"
    )
    now = utc("17:01")
    assert summarized_months(schedule.files(), state, now) == {OCT}
    assert answer(focused(schedule.files(), state, now)) == answer(
        focused(schedule.files(), without_summaries(state), now)
    )
    dispatcher = RecordingDispatcher()
    assert tick(schedule, store, "18:01", dispatcher).dispatched == ["next/tiktok-fr"]
    state = store.load()
    header = summary.read_header(state.files[summary.summary_path(NOV)])
    assert header is not None and header.blob == summary.blob_id(state.files[NOV])
    assert summarized_months(schedule.files(), state, utc("18:02")) == {OCT, NOV}


def test_a_line_the_claim_commit_added_to_a_closed_month_stays_vouched_for() -> None:
    """The claim commit appends 'missed' to October's ledger; the record commit that follows
    must still vouch for that line, so that removing it by hand is caught as tampering."""
    schedule = (
        Schedule.base()
        .with_wave("late", wave("recap", "2030-10-05T17:00:00Z", ["ig-fr"]))
        .with_wave("teaser", wave("teaser-01", "2030-12-02T17:00:00Z", ["tiktok-fr"]))
    )
    files = {
        OCT: ledger_file(
            one("old/yt-main", "published", "2030-10-04T17:00:00Z", "yt-main", "bts-01")
        )
    }
    store = store_with(files, summarize=[OCT], schedule=schedule, now="17:01")
    report = tick(schedule, store, "17:01", RecordingDispatcher())
    assert (report.missed, report.dispatched) == (["late/ig-fr"], ["teaser/tiktok-fr"])
    hand_commit(store, {OCT: files[OCT]})  # the 'missed' line removed by hand
    with pytest.raises(StateError, match=r"ledger-tampered: .*ledger/2030-10\.jsonl"):
        tick(schedule, store, "17:06", RecordingDispatcher())


def test_the_record_commit_vouches_for_a_closed_month_the_claim_commit_changed() -> None:
    schedule = (
        Schedule.base()
        .with_wave("late", wave("recap", "2030-10-05T17:00:00Z", ["ig-fr"]))
        .with_wave("teaser", wave("teaser-01", "2030-12-02T17:00:00Z", ["tiktok-fr"]))
    )
    files = {
        OCT: ledger_file(
            one("old/yt-main", "published", "2030-10-04T17:00:00Z", "yt-main", "bts-01")
        )
    }
    store = store_with(files, summarize=[OCT], schedule=schedule, now="17:01")
    tick(schedule, store, "17:01", RecordingDispatcher())
    (_, claim), (_, record) = store.commits
    assert claim.startswith("tick claim") and record.startswith("tick record")
    october = store.load().files[OCT]
    lines = files[OCT].count(b"\n") + 1  # the 'missed' of late/ig-fr
    assert october.count(b"\n") == lines
    assert parse_trailers(record)[OCT] == (lines, hashlib.sha256(october).hexdigest())


def tampered(content: bytes, how: str) -> bytes:
    """``content`` with its first line changed or removed by hand."""
    lines = content.splitlines(keepends=True)
    if how == "delete":
        return b"".join(lines[1:])
    return b"".join([lines[0].replace(b'"claimed"', b'"held"'), *lines[1:]])


@pytest.mark.parametrize("how", ["change", "delete"])
@pytest.mark.parametrize(
    "summary_too",
    [
        pytest.param("kept", id="summary-left-as-it-was"),
        pytest.param("follows", id="summary-rebuilt-by-hand-for-the-new-blob"),
        pytest.param("old-facts", id="summary-naming-the-new-blob-with-the-old-lines-and-hash"),
    ],
)
def test_a_ledger_line_changed_by_hand_in_a_summarized_month_is_caught(
    how: str, summary_too: str
) -> None:
    schedule, files = history_with_a_published_video()
    store = store_with(files, summarize=[OCT, NOV], schedule=schedule, now="17:01")
    content = tampered(files[OCT], how)
    edits = {OCT: content}
    name = summary.summary_path(OCT)
    if summary_too != "kept":
        rebuilt = summary.build(OCT, content)
        assert rebuilt is not None
        if summary_too == "old-facts":
            head, _, rest = rebuilt.partition(b"\n")
            header = json.loads(head)
            header["lines"], header["sha256"] = store.load().trailers[OCT]
            rebuilt = json.dumps(header).encode() + b"\n" + rest
        edits[name] = rebuilt
    hand_commit(store, edits)
    state = store.load()
    assert OCT not in read_history(state).verified
    before = store.load()
    dispatcher = RecordingDispatcher()
    with pytest.raises(StateError, match=r"ledger-tampered: .*ledger/2030-10\.jsonl"):
        tick(schedule, store, "17:01", dispatcher)
    assert store.load() is before and dispatcher.sent == []


# --------------------------------------------------------------------------- 4. real git


REAL_MONTHS = ["2030-08", "2030-09", "2030-10", "2030-11"]
REAL_VIDEOS = VIDEOS + "".join(
    f"  old-{n}:\n    title: Old {n}\n    url: https://cdn.example.com/old-{n}.mp4\n"
    for n in range(len(REAL_MONTHS))
)
REAL_SCHEDULE = (
    Schedule.base(videos=REAL_VIDEOS)
    .with_wave("first", wave("recap", "2030-12-02T17:00:00Z", ["tiktok-fr"]))
    .with_wave("second", wave("bts-01", "2030-12-02T18:00:00Z", ["ig-fr"]))
)


def real_history() -> dict[str, bytes]:
    """Four months of ledger-only publications (their wave files were deleted long ago)."""
    files = {}
    for number, month in enumerate(REAL_MONTHS):
        files[f"ledger/{month}.jsonl"] = ledger_file(
            one(f"old{number}/yt-main", "published", f"{month}-04T17:00:00Z", "yt-main", f"old-{number}"),
            one(f"old{number}/ig-fr", "dispatched", f"{month}-05T17:00:00Z", "ig-fr", f"old-{number}"),
            one(f"old{number}/x-us", "missed", f"{month}-06T17:00:00Z", "x-us", f"old-{number}"),
        )  # fmt: skip
    return files


HISTORY_IDS = sorted(
    f"old{number}/{channel}"
    for number in range(len(REAL_MONTHS))
    for channel in ("yt-main", "ig-fr", "x-us")
)


@pytest.fixture
def real_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """A clone whose main holds :data:`REAL_SCHEDULE` and whose local state branch holds
    :func:`real_history` (no summary yet), committed with the scheduler's trailers."""
    project = make_project(monkeypatch, tmp_path, REAL_SCHEDULE)
    repo = GitRepo.find(project.root)
    assert repo is not None
    files = real_history()
    message = "history\n\n" + "\n".join(ledger.trailers(files)) + "\n"
    GitStateStore(repo, STATE_REF, push=False).save(StateSnapshot(commit=None), files, message)
    return project


def real_tick(project: Project, now: str) -> None:
    """``scheduler tick --backend outbox`` at ``now``, which must exit 0."""
    result = project.cli("tick", "--backend", "outbox", now=now)
    assert result.exit_code == 0, result.output


def state_commits(project: Project) -> list[str]:
    """Every commit of the state branch, oldest first."""
    return git(project.root, "rev-list", "--reverse", STATE_REF).splitlines()


def files_at(project: Project, commit: str) -> dict[str, bytes]:
    """Every file of the state branch at ``commit``."""
    repo = GitRepo.find(project.root)
    assert repo is not None
    return repo.read_tree(commit, "")


def trailers_at(project: Project, commit: str) -> dict[str, tuple[int, str]]:
    """The ``Scheduler-Ledger`` trailers of ``commit``'s message."""
    return parse_trailers(git(project.root, "log", "-1", "--format=%B", commit))


def vouched_as_written(files: Mapping[str, bytes]) -> dict[str, tuple[int, str]]:
    """(lines, sha256) of every ledger file and summary, as a trailer must say them."""
    return {
        path: (content.count(b"\n"), hashlib.sha256(content).hexdigest())
        for path, content in files.items()
        if ledger.vouched_path(path)
    }


def test_a_real_tick_writes_summaries_for_closed_months_only(real_project: Project) -> None:
    real_tick(real_project, "17:01")
    files = real_project.state_files()
    assert sorted(p for p in files if p.startswith("summaries/")) == [
        f"summaries/{month}.json" for month in REAL_MONTHS
    ]
    assert DEC in files and "summaries/2030-12.json" not in files
    for month in REAL_MONTHS:
        header = summary.read_header(files[f"summaries/{month}.json"])
        assert header is not None
        assert header.blob == summary.blob_id(files[f"ledger/{month}.jsonl"])
        assert header.count == 3
    subjects = git(real_project.root, "log", "--format=%s", STATE_REF).splitlines()
    assert subjects[0].startswith("tick record") and subjects[1].startswith("tick claim")


def test_every_state_commit_vouches_for_exactly_the_files_it_holds(real_project: Project) -> None:
    """Each trailer of a state commit names the lines and hash of its file in that very
    commit; every ledger file has one, and so does every summary that is up to date (after
    ticks, a pause, and a retry that appends to a summarized month)."""
    real_tick(real_project, "17:01")
    paused = real_project.cli("pause", "--channel", "yt-main", "--reason", "audit", now="17:10")
    assert paused.exit_code == 0, paused.output
    retried = real_project.cli("retry", "old1/x-us", "--at", "2030-12-02T18:00:00Z", now="17:20")
    assert retried.exit_code == 0, retried.output
    real_tick(real_project, "18:01")
    commits = state_commits(real_project)
    assert len(commits) == 7
    for commit in commits:
        subject = git(real_project.root, "log", "-1", "--format=%s", commit)
        files = files_at(real_project, commit)
        trailers, actual = trailers_at(real_project, commit), vouched_as_written(files)
        assert {path: actual.get(path) for path in trailers} == trailers, subject
        must = {path for path in actual if path.startswith("ledger/")} | up_to_date_summaries(files)
        assert must <= set(trailers), subject


def up_to_date_summaries(files: Mapping[str, bytes]) -> set[str]:
    """The summaries of ``files`` that name the current blob of their ledger file (a stale
    one may go unvouched: it is not used)."""
    result = set()
    for path, content in files.items():
        header = summary.read_header(content) if path.startswith("summaries/") else None
        if header is not None and header.blob == summary.blob_id(files.get(header.file, b"")):
            result.add(path)
    return result


def test_a_retried_publication_of_a_summarized_month_goes_out_through_the_cli(
    real_project: Project,
) -> None:
    """``scheduler retry`` on a publication of a deleted wave missed in September; the next
    tick sends it (to the outbox here), and September's summary follows its ledger file."""
    real_tick(real_project, "17:01")
    retried = real_project.cli("retry", "old1/x-us", "--at", "2030-12-02T18:00:00Z", now="17:20")
    assert retried.exit_code == 0, retried.output
    result = real_project.cli("tick", "--backend", "outbox", "--format", "json", now="18:01")
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["dispatched"]) == ["old1/x-us", "second/ig-fr"]
    files = real_project.state_files()
    september = events_by_id(ledger_lines({"ledger/2030-09.jsonl": files["ledger/2030-09.jsonl"]}))
    assert september["old1/x-us"] == ["missed", "released", "claimed", "dispatched"]
    header = summary.read_header(files["summaries/2030-09.json"])
    assert header is not None
    assert header.blob == summary.blob_id(files["ledger/2030-09.jsonl"])
    outbox = [json.loads(line) for line in files["outbox/2030-09.jsonl"].splitlines()]
    assert [pub["id"] for row in outbox for pub in row["client_payload"]["publications"]] == [
        "old1/x-us"
    ]


def record_blob_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The ids of every blob git is asked for from now on (all go through ``_cat_blobs``)."""
    loaded: list[bytes] = []
    original = GitRepo._cat_blobs

    def recording(self: GitRepo, oids: list[bytes]) -> dict[bytes, bytes]:
        loaded.extend(oids)
        return original(self, oids)

    monkeypatch.setattr(GitRepo, "_cat_blobs", recording)
    return loaded


def test_the_next_tick_reads_closed_months_from_their_summaries_without_loading_them(
    real_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_tick(real_project, "17:01")
    repo = GitRepo.find(real_project.root)
    assert repo is not None
    state = GitStateStore(repo, STATE_REF, push=False).load()
    world = focused(REAL_SCHEDULE.files(), state, utc("18:01"))
    assert set(world.history.summarized) == {f"ledger/{m}.jsonl" for m in REAL_MONTHS}
    ledger_blobs = {
        line.split()[2].encode()
        for line in git(real_project.root, "ls-tree", "-r", STATE_REF, "ledger/").splitlines()
        if not line.endswith(DEC)
    }
    loaded = record_blob_reads(monkeypatch)
    real_tick(real_project, "18:01")
    assert loaded, "the tick read no blob at all: the recorder is not in place"
    assert ledger_blobs.isdisjoint(loaded)


def test_views_still_show_every_ledger_only_publication(real_project: Project) -> None:
    real_tick(real_project, "17:01")
    real_tick(real_project, "18:01")
    listed = real_project.cli("list", "--format", "json", now="18:05")
    assert listed.exit_code == 0, listed.output
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert set(HISTORY_IDS) <= set(rows)
    assert set(rows) == {*HISTORY_IDS, "first/tiktok-fr", "second/ig-fr"}
    assert rows["old2/yt-main"]["status"] == "completed"
    assert rows["old2/x-us"]["status"] == "missed"
    status = real_project.cli("status", "--format", "json", now="18:05")
    assert sum(json.loads(status.stdout)["counts"].values()) == len(rows)
    shown = real_project.cli("show", "old0/ig-fr", now="18:05")
    assert shown.exit_code == 0 and "old0/ig-fr" in shown.stdout and "dispatched" in shown.stdout


def test_a_tick_on_a_summarized_generated_repository_loads_no_summarized_month(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The generator writes the summaries and trailers the scheduler keeps: a tick at its
    ``now`` reads those months from their summaries alone, and still sends what is due."""
    isolate_git_env(monkeypatch, tmp_path)
    generate = bench_generator()
    root = tmp_path / "repo"
    meta = generate.generate(root, generate.Params(40, 10, 3, 6000, seed=3))
    listing = git(root, "ls-tree", "-r", STATE_REF, "summaries/").splitlines()
    months = [line.split("\t")[1].replace("summaries/", "ledger/") + "l" for line in listing]
    assert months, "the generated repository has no summary"
    blobs = {
        line.split()[2].encode()
        for line in git(root, "ls-tree", "-r", STATE_REF, *months).splitlines()
    }
    loaded = record_blob_reads(monkeypatch)
    result = CliRunner().invoke(
        main,
        ["--root", str(root), "--now", meta["now"], "tick", "--backend", "outbox", "--format", "json"],
        env={"SCHEDULER_CACHE_DIR": "", "GITHUB_STEP_SUMMARY": None},
    )  # fmt: skip
    assert json.loads(result.stdout)["dispatched"], result.output
    assert loaded and blobs.isdisjoint(loaded)


RERUN = Schedule.base(videos=REAL_VIDEOS).with_wave(
    "rerun", wave("old-1", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr"])
)
RERUN_TICK = {
    "dispatched": ["rerun/tiktok-fr"],
    "failed": [],
    "unknown": [],
    "missed": [],
    "held": ["rerun/yt-main"],
}


def summarized_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """A clone whose main holds :data:`RERUN` (September's video old-1 again on yt-main) and
    whose state branch holds :func:`real_history` with vouched summaries of every month, as
    the scheduler leaves them."""
    project = make_project(monkeypatch, tmp_path, RERUN)
    repo = GitRepo.find(project.root)
    assert repo is not None
    state = state_of(real_history(), summarize=[f"ledger/{m}.jsonl" for m in REAL_MONTHS])
    message = "history\n\n" + "\n".join(ledger.trailers(state.files)) + "\n"
    store = GitStateStore(repo, STATE_REF, push=False)
    store.save(StateSnapshot(commit=None), state.files, message)
    assert summarized_months(RERUN.files(), store.load(), utc("17:01")) == {
        f"ledger/{m}.jsonl" for m in REAL_MONTHS
    }
    return project


def test_validate_and_tick_through_the_cli_see_a_video_published_in_a_summarized_month(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A wave re-publishing September's video on yt-main fails validate with duplicate-video
    and is held by the tick."""
    project = summarized_project(monkeypatch, tmp_path)
    checked = project.cli("validate", "--format", "json", now="16:00")
    assert checked.exit_code == 1, checked.output
    problems = json.loads(checked.stdout)["problems"]
    assert [(p["file"], p["code"]) for p in problems if p["severity"] == "error"] == [
        ("schedules/waves/rerun.yaml", "duplicate-video")
    ]
    ticked = project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01")
    assert ticked.exit_code == 1
    assert json.loads(ticked.stdout) == RERUN_TICK


def test_a_summary_edited_by_hand_is_not_vouched_for_by_a_later_pause(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """September's summary is edited by hand to hide old-1 on yt-main; a ``pause`` commits
    next. The tick after it must still see September's ledger and hold the wave."""
    project = summarized_project(monkeypatch, tmp_path)
    tree = tmp_path / "hand"
    git(project.root, "worktree", "add", "--quiet", str(tree), STATE_REF)
    path = tree / "summaries" / "2030-09.json"
    path.write_bytes(forged_summary(path.read_bytes()))
    git(tree, "commit", "--quiet", "-am", "tidy the summary by hand")
    git(project.root, "worktree", "remove", "--force", str(tree))
    paused = project.cli("pause", "--channel", "ig-fr", "--reason", "audit", now="16:00")
    assert paused.exit_code == 0, paused.output
    ticked = project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01")
    assert json.loads(ticked.stdout) == RERUN_TICK, "old-1 went out twice on yt-main"


def test_the_state_store_knows_the_git_blob_of_every_file(real_project: Project) -> None:
    """A summary is used only while its ledger file's blob is the one it names: the blob ids
    the store reports, after a load and after a save, must be git's own."""
    repo = GitRepo.find(real_project.root)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=False)
    loaded = store.load()
    changes = {DEC: b'{"id":"x/yt-main","event":"held","at":"2030-12-02T00:00:00Z"}\n'}
    saved = store.save(loaded, changes, "a line")
    for state in (loaded, saved, store.load()):
        listing = git(real_project.root, "ls-tree", "-r", state.commit or "", "--")
        tree = {line.split("\t")[1]: line.split()[2] for line in listing.splitlines()}
        assert {path: state.blobs[path] for path in tree} == tree
        assert all(summary.blob_id(state.files[path]) == oid for path, oid in tree.items())


def test_a_local_tick_leaves_the_history_of_summarized_months_intact(real_project: Project) -> None:
    """Summaries are added beside the ledger: no ledger line of a closed month is rewritten."""
    before = real_history()
    real_tick(real_project, "17:01")
    real_tick(real_project, "18:01")
    after = real_project.state_files()
    for path, content in before.items():
        assert after[path] == content
