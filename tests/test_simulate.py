"""``scheduler simulate``: the real tick protocol under a late, lossy, racing cron and faults.

The simulation must be deterministic for a seed, keep both invariants (nothing sent twice,
nothing silently lost) whatever it injects, and catch a scheduler that breaks them: planted
bugs prove the checks can fail. Skipping repeated no-op runs must change no figure.

Also a writer of large generated schedules, for the figures in RELIABILITY.md:

    python -m tests.test_simulate OUT_DIR [--channels 1000] [--waves 10] [--every 4h]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler import times
from scheduler.adapters.files import read_schedules
from scheduler.cli import main
from scheduler.control import Control
from scheduler.errors import StateConflict
from scheduler.loading import load_schedules
from scheduler.planning import plan
from scheduler.ports import Dispatcher, DispatchOutcome, DispatchRequest, StateSnapshot, StateStore
from scheduler.simulate import (
    CronModel,
    Delivery,
    Faults,
    Receiver,
    Scenario,
    Simulation,
    cron_runs,
    simulate,
    with_lead,
)
from scheduler.views.simulate import as_data, as_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_START = "2030-12-01T00:00:00Z"
START = "2031-01-06T00:00:00Z"  # a Monday
CONTRACT_KEYS = {
    "publications": int,
    "dispatched": int,
    "on_time_rate": float,
    "lateness_p50_s": int,
    "lateness_p95_s": int,
    "lateness_max_s": int,
    "double_dispatches": int,
    "silent_losses": int,
    "faults_injected": int,
}
# Counters that depend on how many no-op runs were skipped, not on what happened.
RUN_COUNTERS = ("ticks", "ticks_skipped", "races")

CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
  dispatch: {max_batch: 2}
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt}
    slots:
      - days: [mon, tue, wed, thu, fri, sat, sun]
        times: ["09:00", "21:00"]
  tiktok-fr: {platform: tiktok, dispatch: {repo: acme/social}}
  ig-fr: {platform: instagram, dispatch: {repo: acme/social}}
  x-us: {platform: x, dispatch: {repo: acme/social}}
  li-corp: {platform: linkedin}
"""
VIDEOS = """\
videos:
  teaser: {title: Teaser, url: "https://cdn.example.com/teaser.mp4", aspect: "9:16"}
  trailer: {title: Trailer, url: "https://cdn.example.com/trailer.mp4"}
  clip-1: {url: "https://cdn.example.com/clip-1.mp4"}
  clip-2: {url: "https://cdn.example.com/clip-2.mp4"}
"""
WAVES = {
    "teaser": "video: teaser\ntype: simultaneous\nat: 2031-01-06T12:00:00Z\n"
    "channels: [yt-main, tiktok-fr, ig-fr, x-us, li-corp]\n",
    "trailer": "video: trailer\ntype: staggered\nat: 2031-01-06T15:00:00Z\nevery: 1h\n"
    "lead: 1m\nchannels: [tiktok-fr, ig-fr, x-us]\n",
}
QUEUE = "start: 2031-01-06\nvideos: [clip-1, clip-2]\n"


def small_schedule() -> dict[str, str]:
    """Return ten publications on 6 January 2031: two waves, a queue, an outbox channel."""
    texts = {"schedules/channels.yaml": CHANNELS, "schedules/videos.yaml": VIDEOS}
    texts |= {f"schedules/waves/{name}.yaml": text for name, text in WAVES.items()}
    return texts | {"schedules/queues/yt-main.yaml": QUEUE}


def big_schedule(
    channels: int, waves: int, every: timedelta, *, start: str = START
) -> dict[str, str]:
    """Return ``channels`` channels on 10 publisher repositories and ``waves`` simultaneous
    waves over all of them, one every ``every`` from ``start`` plus one hour."""
    lines = [
        "defaults:\n  timezone: UTC\n  min_gap: 30m\n  max_lateness: 1h\n  lead: 10m\n",
        "channels:\n",
    ]
    lines += [
        f"  c{i:04d}: {{platform: p{i % 5}, dispatch: {{repo: acme/pub-{i % 10}}}}}\n"
        for i in range(channels)
    ]
    videos = ["videos:\n"]
    videos += [
        f"  v{w:04d}: {{title: Video {w}, url: 'https://cdn.example.com/v{w}.mp4'}}\n"
        for w in range(waves)
    ]
    texts = {"schedules/channels.yaml": "".join(lines), "schedules/videos.yaml": "".join(videos)}
    first = utc(start) + timedelta(hours=1)
    for w in range(waves):
        at = times.format_utc(first + w * every)
        texts[f"schedules/waves/w{w:04d}.yaml"] = (
            f"video: v{w:04d}\ntype: simultaneous\nat: {at}\n"
            "channels: [platform:p0, platform:p1, platform:p2, platform:p3, platform:p4]\n"
        )
    return texts


def write_schedule(root: Path, texts: Mapping[str, str]) -> Path:
    """Write ``texts`` under ``root`` and return ``root``."""
    for rel, text in texts.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def encoded(texts: Mapping[str, str]) -> dict[str, bytes]:
    """Return the files as the tick reads them."""
    return {path: text.encode() for path, text in texts.items()}


def utc(text: str) -> datetime:
    """Return the instant written ``2031-01-06T00:00:00Z``."""
    return times.to_utc(times.parse_datetime(text))


def run_cli(root: Path, *args: str) -> Result:
    """Run ``scheduler --root ROOT simulate ARGS``."""
    return CliRunner().invoke(
        main, ["--root", str(root), "simulate", *args], catch_exceptions=False
    )


def cli_json(root: Path, *args: str) -> dict[str, Any]:
    """Return the JSON report of ``simulate ARGS --format json`` (which must exit 0)."""
    result = run_cli(root, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def run_sim(
    texts: Mapping[str, str],
    *,
    seed: int = 0,
    days: int = 1,
    faults: float = 0.0,
    start: str = START,
    **options: Any,
) -> Simulation:
    """Return the simulation of ``texts`` (``options``: Scenario fields and port wrappers)."""
    wrappers = {
        key: options.pop(key) for key in ("wrap_store", "wrap_dispatcher") if key in options
    }
    scenario = Scenario(start=utc(start), days=days, faults=faults, **options)
    return simulate(encoded(texts), scenario, rng=random.Random(seed), **wrappers)


def metrics(sim: Simulation) -> dict[str, Any]:
    """Return the JSON report without the counters of runs executed."""
    data = as_data(sim, seed=0, lead=None)
    return {key: value for key, value in data.items() if key not in RUN_COUNTERS}


@pytest.fixture(scope="module")
def example_texts() -> dict[str, str]:
    """Return the bundled example's schedule files."""
    files, problems = read_schedules(REPO)
    assert not problems
    return {path: data.decode() for path, data in files.items()}


# --------------------------------------------------------------------------- the command


def test_json_report_has_the_contract_keys() -> None:
    data = cli_json(REPO, "--from", EXAMPLE_START, "--days", "7", "--seed", "3", "--faults", "0.2")
    for key, kind in CONTRACT_KEYS.items():
        assert isinstance(data[key], kind), key
    assert 0.0 <= data["on_time_rate"] <= 1.0
    assert data["lateness_p50_s"] <= data["lateness_p95_s"] <= data["lateness_max_s"]
    assert data["publications"] >= data["dispatched"] > 0
    assert set(data["per_channel"]) == {
        "ig-fr",
        "li-corp",
        "tiktok-fr",
        "tiktok-us",
        "x-us",
        "yt-jp",
        "yt-main",
    }
    assert sum(row["publications"] for row in data["per_channel"].values()) == data["publications"]


def test_same_seed_gives_the_same_report_and_another_seed_another() -> None:
    args = ("--from", EXAMPLE_START, "--days", "7", "--faults", "0.2")
    first = run_cli(REPO, *args, "--seed", "11", "--format", "json").output
    again = run_cli(REPO, *args, "--seed", "11", "--format", "json").output
    other = run_cli(REPO, *args, "--seed", "12", "--format", "json").output
    assert first == again
    assert json.loads(first)["dropped_runs"] != json.loads(other)["dropped_runs"]


def test_text_report_states_the_figures_and_invariants(tmp_path: Path) -> None:
    result = run_cli(
        write_schedule(tmp_path, small_schedule()), "--from", START, "--days", "1", "--seed", "5"
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        "simulated 2031-01-06T00:00:00Z to 2031-01-07T00:00:00Z (1 day(s)), then until 2031-01-07T02:00:00Z "
        "for late runs; seed 5, faults 0, lead as in the files"
    )
    assert "publications due in the window: 10 (dispatched 10)" in lines
    assert "faults injected: 0; crashes: 0" in lines
    assert lines[-1] == "invariants: sent twice 0, silently lost 0, ledger rewritten 0: OK"
    assert "per channel:" in lines


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ["--lead", "10"],
            2,
            "Error: --lead 10: '10' is not a duration (a bare number has no unit)",
            id="lead-without-unit",
        ),
        pytest.param(
            ["--lead", "-5m"],
            2,
            "Error: --lead -5m: '-5m' is not a duration (durations are never negative)",
            id="negative-lead",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run_cli(write_schedule(tmp_path, small_schedule()), "--from", START, *args)
    assert result.exit_code == code
    assert result.output.startswith(message)


def test_schedule_without_channels_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    texts = {k: v for k, v in small_schedule().items() if k != "schedules/channels.yaml"}
    result = run_cli(write_schedule(tmp_path, texts), "--from", START)
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: the channels or videos cannot be loaded, so nothing can be simulated: "
    )
    assert "schedules/channels.yaml" in result.output


# --------------------------------------------------------------------------- the invariants


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda seed: f"seed-{seed}")
def test_example_keeps_the_invariants_under_faults(
    example_texts: dict[str, str], seed: int
) -> None:
    sim = run_sim(example_texts, seed=seed, days=14, faults=0.2, start=EXAMPLE_START)
    data = as_data(sim, seed=seed, lead=None)
    assert (data["double_dispatches"], data["silent_losses"], data["ledger_rewrites"]) == (0, 0, 0)
    assert sim.exit_code == 0
    assert data["publications"] >= 20
    unaccounted = set(data["outcomes"]) - {"dispatched", "unknown", "failed", "missed", "claimed"}
    assert not unaccounted


def test_injected_troubles_really_happen(example_texts: dict[str, str]) -> None:
    cron = CronModel(race_rate=0.5)
    sim = run_sim(example_texts, seed=4, days=14, faults=0.5, start=EXAMPLE_START, cron=cron)
    data = as_data(sim, seed=4, lead=None)
    for key in ("faults_injected", "crashes", "races", "claim_conflicts", "dropped_runs"):
        assert data[key] > 0, key
    assert (data["double_dispatches"], data["silent_losses"]) == (0, 0)


def test_dispatch_faults_come_in_every_kind_at_the_rate() -> None:
    faults = Faults(0.2, random.Random(0))
    request = DispatchRequest("acme/yt", "publish", {"publications": []}, ())
    outcomes = [faults.send(request) for _ in range(5000)]
    injected = [(outcome, delivered) for outcome, delivered in outcomes if outcome is not None]
    assert 0.18 < len(injected) / len(outcomes) < 0.22
    assert all(delivered for outcome, delivered in outcomes if outcome is None)
    kinds = {(o.kind, o.reason, o.retryable, delivered) for o, delivered in injected}
    assert kinds == {
        ("unknown", None, False, True),
        ("unknown", None, False, False),
        ("failed", "refused", True, False),
        ("failed", "rate_limited", True, False),
        ("failed", "auth", False, False),
    }
    assert sum(faults.injected.values()) == len(injected)
    points = Counter(faults.crash_point() for _ in range(5000))
    assert 0.18 < (points["after-claim"] + points["after-send"]) / 5000 < 0.22


def test_when_every_request_fails_nothing_is_sent_twice_or_lost() -> None:
    sim = run_sim(small_schedule(), seed=2, faults=1.0)
    data = as_data(sim, seed=2, lead=None)
    assert (data["double_dispatches"], data["silent_losses"], sim.exit_code) == (0, 0, 0)
    by_channel = data["per_channel"]
    assert all(row["dispatched"] == 0 for name, row in by_channel.items() if name != "li-corp")
    assert data["crashes"] > 0


def test_racing_runs_claim_each_publication_once() -> None:
    sim = run_sim(small_schedule(), seed=1, cron=CronModel(race_rate=1.0))
    data = as_data(sim, seed=1, lead=None)
    assert data["claim_conflicts"] > 0
    assert data["ticks"] == 2 * data["races"]
    assert (data["double_dispatches"], data["silent_losses"]) == (0, 0)
    assert data["dispatched"] == data["publications"] == 10


class DeliversTwice:
    """A broken dispatcher: every request reaches the receiver twice."""

    def __init__(self, inner: Dispatcher) -> None:
        self.inner = inner

    def check_repo(self, repo: str) -> DispatchOutcome:
        return self.inner.check_repo(repo)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        self.inner.send(request)
        return self.inner.send(request)


class NeverCommits:
    """A broken state branch: every push is rejected, so nothing is ever claimed or marked."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner

    def load(self) -> StateSnapshot:
        return self.inner.load()

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        raise StateConflict("rejected")


class RewritesLedger(NeverCommits):
    """A broken state branch: every commit drops the oldest line of the ledger it appends to."""

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        changed = {
            path: data.split(b"\n", 1)[1]
            if path.startswith("ledger/") and base.files.get(path)
            else data
            for path, data in files.items()
        }
        return self.inner.save(base, changed, message)


@pytest.mark.parametrize(
    ("wrappers", "key", "violation"),
    [
        pytest.param(
            {"wrap_dispatcher": DeliversTwice},
            "double_dispatches",
            "sent twice: yt-main/teaser as ",
            id="delivers-twice",
        ),
        pytest.param(
            {"wrap_store": NeverCommits},
            "silent_losses",
            "silently lost: queue/yt-main/clip-1 due ",
            id="never-commits",
        ),
        pytest.param(
            {"wrap_store": RewritesLedger},
            "ledger_rewrites",
            "ledger/2031-01.jsonl rewritten at ",
            id="rewrites-ledger",
        ),
    ],
)
def test_a_planted_bug_is_caught(
    wrappers: dict[str, Callable[[Any], Any]], key: str, violation: str
) -> None:
    sim = run_sim(small_schedule(), seed=0, **wrappers)
    data = as_data(sim, seed=0, lead=None)
    assert data[key] > 0
    assert sim.exit_code == 1
    assert any(line.startswith(violation) for line in data["violations"]), data["violations"]
    text = as_text(sim, seed=0, lead=None)
    assert ": VIOLATED\n" in text


def test_a_silent_loss_is_counted_once_the_publication_is_past_max_lateness() -> None:
    sim = run_sim(small_schedule(), seed=0, wrap_store=NeverCommits)
    lost = sorted(outcome.pub.id for outcome in sim.silent)
    assert lost == [
        "queue/yt-main/clip-1",
        "queue/yt-main/clip-2",
        "teaser/ig-fr",
        "teaser/li-corp",
        "teaser/tiktok-fr",
        "teaser/x-us",
        "teaser/yt-main",
        "trailer/ig-fr",
        "trailer/tiktok-fr",
        "trailer/x-us",
    ]
    assert sim.runs.error_count > 0


def test_held_publications_are_reported_and_not_counted_as_late() -> None:
    texts = small_schedule()
    texts["schedules/videos.yaml"] += (
        "  interview: {url: 'https://cdn.example.com/i.mp4', ready: false}\n"
    )
    texts["schedules/waves/interview.yaml"] = (
        "video: interview\ntype: simultaneous\nat: 2031-01-06T18:00:00Z\nchannels: [x-us, li-corp]\n"
    )
    with_held = as_data(run_sim(texts, seed=8), seed=8, lead=None)
    without = as_data(run_sim(small_schedule(), seed=8), seed=8, lead=None)
    assert (with_held["publications"], with_held["held"]) == (12, 2)
    assert with_held["outcomes"]["missed"] == 2
    assert with_held["on_time_rate"] == without["on_time_rate"]
    assert with_held["silent_losses"] == 0


def test_a_window_without_publications_says_there_is_nothing_to_measure(tmp_path: Path) -> None:
    root = write_schedule(tmp_path, small_schedule())
    result = run_cli(root, "--from", "2031-01-01T00:00:00Z", "--days", "1")
    assert result.exit_code == 0
    assert "publications due in the window: 0" in result.output.splitlines()
    assert (
        "nothing to measure: set --from and --days around the dates of the schedule"
        in result.output
    )
    data = cli_json(root, "--from", "2031-01-01T00:00:00Z", "--days", "1")
    assert (data["publications"], data["dispatched"], data["on_time_rate"]) == (0, 0, 1.0)


# --------------------------------------------------------------------------- lead and timing


def test_lead_makes_late_runs_on_time(tmp_path: Path) -> None:
    root = write_schedule(tmp_path, small_schedule())
    args = ("--from", START, "--days", "1", "--seed", "9")
    without = cli_json(root, *args, "--lead", "0m")
    with_lead_ = cli_json(root, *args, "--lead", "15m")
    assert without["on_time_rate"] < 0.5 < with_lead_["on_time_rate"]
    assert with_lead_["lateness_p50_s"] < without["lateness_p50_s"]
    assert (with_lead_["lead"], without["lead"]) == ("15m", "0m")


def test_lead_override_reaches_the_example(example_texts: dict[str, str]) -> None:
    files = with_lead(encoded(example_texts), "0s")
    sim = simulate(files, Scenario(start=utc(EXAMPLE_START), days=14), rng=random.Random(0))
    original = run_sim(example_texts, days=14, start=EXAMPLE_START)
    assert summary_rate(sim) < summary_rate(original)


def summary_rate(sim: Simulation) -> float:
    """Return the overall on-time rate."""
    rate: float = as_data(sim, seed=0, lead=None)["on_time_rate"]
    return rate


@pytest.mark.parametrize(
    ("arrival", "not_before", "expires", "posts"),
    [
        pytest.param("17:55", "18:00", "19:00", "18:00", id="early-waits-for-not-before"),
        pytest.param("18:20", "18:00", "19:00", "18:20", id="late-posts-on-arrival"),
        pytest.param("19:00", "18:00", "19:00", "19:00", id="at-expiry-still-posts"),
        pytest.param("19:01", "18:00", "19:00", None, id="after-expiry-never-posts"),
        pytest.param("18:10", "18:30", None, "18:30", id="no-expiry"),
    ],
)
def test_receiver_posts_at_not_before_and_never_after_expiry(
    arrival: str, not_before: str, expires: str | None, posts: str | None
) -> None:
    def at(clock: str) -> datetime:
        return utc(f"2031-01-06T{clock}:00Z")

    delivery = Delivery(
        "w/c",
        "c/v",
        "c",
        at(arrival),
        at("18:00"),
        at(not_before),
        at(expires) if expires else None,
    )
    assert delivery.publishes_at == (at(posts) if posts else None)


def test_receiver_counts_a_second_delivery_of_a_key_under_any_id() -> None:
    receiver = Receiver(utc(START))
    entry = {
        "id": "a/yt",
        "dedupe_key": "yt/v1",
        "channel": "yt",
        "due": START,
        "not_before": START,
    }
    receiver.deliver({"publications": [entry]}, utc(START))
    receiver.deliver({"publications": [{**entry, "id": "queue/yt/v1"}]}, utc(START))
    receiver.deliver({"publications": [{**entry, "id": "b/yt", "dedupe_key": "yt/v2"}]}, utc(START))
    assert [(first.id, second.id) for first, second in receiver.doubles] == [
        ("a/yt", "queue/yt/v1")
    ]


# --------------------------------------------------------------------------- the cron


@pytest.mark.parametrize(
    ("start", "first"),
    [
        pytest.param("2031-01-06T00:00:00Z", "2031-01-06T00:03:00Z", id="top-of-hour"),
        pytest.param("2031-01-06T00:03:00Z", "2031-01-06T00:03:00Z", id="on-a-slot"),
        pytest.param("2031-01-06T00:03:01Z", "2031-01-06T00:08:00Z", id="just-after-a-slot"),
        pytest.param("2031-01-06T00:59:30Z", "2031-01-06T01:03:00Z", id="end-of-hour"),
    ],
)
def test_cron_runs_three_minutes_past_every_fifth_minute(start: str, first: str) -> None:
    runs = cron_runs(utc(start), utc(start) + timedelta(hours=1), CronModel(), random.Random(0))
    assert min(run.scheduled for run in runs) == utc(first)
    assert len(runs) == 12


def test_cron_runs_are_late_like_github() -> None:
    start = utc(START)
    runs = cron_runs(start, start + timedelta(days=28), CronModel(), random.Random(1))
    delays = [(run.at - run.scheduled).total_seconds() for run in runs]
    shares = [
        sum(1 for d in delays if low <= d < high) / len(runs)
        for low, high in ((0, 300), (300, 1800), (1800, 3600))
    ]
    assert shares[0] > 0.6 and 0.15 < shares[1] < 0.35 and 0.02 < shares[2] < 0.1
    assert max(delays) < 3600
    assert 0.05 <= sum(run.dropped for run in runs) / len(runs) <= 0.10
    assert [run.at for run in runs] == sorted(run.at for run in runs)


# --------------------------------------------------------------------------- skipping no-ops


@pytest.mark.parametrize("seed", [0, 1], ids=lambda seed: f"seed-{seed}")
def test_skipping_repeated_no_op_runs_changes_no_figure(seed: int) -> None:
    fast = run_sim(small_schedule(), seed=seed, faults=0.3)
    every = run_sim(small_schedule(), seed=seed, faults=0.3, exhaustive=True)
    assert metrics(fast) == metrics(every)
    assert fast.runs.skipped > 0 == every.runs.skipped
    assert fast.runs.ticks < every.runs.ticks / 3


def test_example_figures_do_not_depend_on_skipping(example_texts: dict[str, str]) -> None:
    fast = run_sim(example_texts, seed=6, days=2, faults=0.3, start="2030-12-02T00:00:00Z")
    every = run_sim(
        example_texts, seed=6, days=2, faults=0.3, start="2030-12-02T00:00:00Z", exhaustive=True
    )
    assert metrics(fast) == metrics(every)


# --------------------------------------------------------------------------- --lead


@pytest.mark.parametrize(
    ("channels", "wave"),
    [
        pytest.param(
            {"schedules/channels.yaml": CHANNELS}, WAVES["trailer"], id="defaults-without-lead"
        ),
        pytest.param(
            {
                "schedules/channels.yaml": CHANNELS.replace(
                    "  max_lateness: 1h\n", "  max_lateness: 1h\n  lead: 5m\n"
                ).replace(
                    "  tiktok-fr: {platform: tiktok,", "  tiktok-fr: {lead: 2m, platform: tiktok,"
                )
            },
            WAVES["trailer"],
            id="defaults-and-channel-leads",
        ),
        pytest.param(
            {"schedules/channels.yaml": "channels:\n" + CHANNELS.split("channels:\n", 1)[1]},
            WAVES["teaser"],
            id="no-defaults",
        ),
        pytest.param(
            {
                "schedules/channels/a.yaml": "channels:\n  yt-main: {platform: youtube, lead: 1h, slots: "
                "[{days: [mon], times: ['09:00']}]}\n",
                "schedules/channels/b.yaml": "defaults: {timezone: UTC, lead: 3m}\nchannels:\n"
                "  tiktok-fr: {platform: tiktok, lead: 4m}\n  ig-fr: {platform: instagram}\n"
                "  x-us: {platform: x}\n  li-corp: {platform: linkedin}\n",
            },
            WAVES["trailer"],
            id="split-channel-files",
        ),
    ],
)
def test_with_lead_sets_every_lead(channels: dict[str, str], wave: str) -> None:
    texts = {**channels, "schedules/videos.yaml": VIDEOS, "schedules/waves/w.yaml": wave}
    files = with_lead(encoded(texts), "45m")
    schedules, problems = load_schedules(files)
    assert not [p for p in problems if p.severity == "error"], problems
    assert {channel.lead for channel in schedules.channels.values()} == {timedelta(minutes=45)}
    pubs = plan(schedules, {}, Control(), now=utc(START)).publications
    assert pubs and {pub.lead for pub in pubs} == {timedelta(minutes=45)}
    assert files["schedules/videos.yaml"] == texts["schedules/videos.yaml"].encode()
    assert (
        schedules.channels["yt-main"].slots
        == load_schedules(encoded(texts))[0].channels["yt-main"].slots
    )


def test_with_lead_leaves_unreadable_files_for_the_tick_to_report() -> None:
    texts = {
        "schedules/channels.yaml": "channels: [\n",
        "schedules/videos.yaml": VIDEOS,
        "schedules/waves/w.yaml": "lead: 1m\nvideo: [\n",
    }
    assert with_lead(encoded(texts), "5m") == encoded(texts)


# --------------------------------------------------------------------------- scale


def test_a_thousand_publications_in_simultaneous_waves() -> None:
    sim = run_sim(big_schedule(250, 4, timedelta(hours=3)), seed=3, faults=0.1)
    data = as_data(sim, seed=3, lead=None)
    assert data["publications"] == 1000
    assert (data["double_dispatches"], data["silent_losses"], data["ledger_rewrites"]) == (0, 0, 0)
    assert data["faults_injected"] > 0


# --------------------------------------------------------------------------- the writer


def write_big(argv: Sequence[str]) -> str:
    """Write a generated schedule as ``argv`` asks; return what was written."""
    parser = argparse.ArgumentParser(prog="python -m tests.test_simulate", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--every", default="4h", help="time between two waves (a duration)")
    parser.add_argument("--start", default=START, help="the first wave is one hour after this")
    args = parser.parse_args(argv)
    texts = big_schedule(
        args.channels, args.waves, times.parse_duration(args.every), start=args.start
    )
    write_schedule(args.out, texts)
    return f"wrote {len(texts)} files, {args.channels * args.waves:,} publications, under {args.out}/schedules"


if __name__ == "__main__":
    print(write_big(sys.argv[1:]))
