"""Ticks racing on one origin, each in its own clone: the push of the state branch is the lock.

Whatever the interleaving, no publication is dispatched twice and none is lost. Threads run
the protocol with the real git store and the real PyGithub client against the fake server;
processes run the real command line with the outbox backend.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.errors import StateError
from scheduler.memory import MemoryStateStore, RecordingDispatcher
from scheduler.tick import TickReport, TickSettings, run_tick
from tests import fakegithub
from tests.fakegithub import FakeGitHub
from tests.gitrepos import clone, git, isolate_git_env, make_origin
from tests.tick_helpers import (
    STATE_REF,
    MovingStore,
    Rig,
    Schedule,
    bare_tree,
    dispatched_ids,
    empty_summary,
    events_by_id,
    fake_dispatcher,
    ledger_lines,
    register_repos,
    summary,
    utc,
    wave,
)

fake_github = fakegithub.fake_github

REPETITIONS = 5
# Due at 17:00, 17:01:10 and 17:01:30: ticks a few seconds apart see different sets.
WAVES = {
    "teaser": wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr"]),
    "trailer": wave("trailer", "2030-12-02T17:01:10Z", ["ig-fr", "li-corp"]),
    "recap": wave("recap", "2030-12-02T17:01:30Z", ["x-us"]),
}
IDS = sorted(
    ["teaser/yt-main", "teaser/tiktok-fr", "trailer/ig-fr", "trailer/li-corp", "recap/x-us"]
)
NOWS = ["17:01:00", "17:01:20", "17:01:40"]


def nows_for(ticks: int) -> list[str]:
    """Return the clocks of ``ticks`` racing ticks: the first and last always among them."""
    return NOWS if ticks == len(NOWS) else [NOWS[0], NOWS[-1]]


def schedule() -> Schedule:
    """Return the racing schedule."""
    result = Schedule.base(outbox=True)
    for name, text in WAVES.items():
        result = result.with_wave(name, text)
    return result


def make_clones(root: Path, count: int) -> tuple[Path, list[Path]]:
    """Return a bare origin whose main holds the schedule, and ``count`` clones of it."""
    root.mkdir()
    origin = make_origin(root)
    first = clone(origin, root / "clone-0")
    schedule().write(first)
    git(first, "add", "-A")
    git(first, "commit", "--quiet", "-m", "schedules")
    git(first, "push", "--quiet", "origin", "main")
    return origin, [first] + [clone(origin, root / f"clone-{i}") for i in range(1, count)]


def jitter(attempt: int) -> None:
    """Back off a few milliseconds before recomputing."""
    time.sleep(random.uniform(0.0, 0.02) * (attempt + 1))


def thread_tick(
    checkout: Path, index: int, now: str, fake: FakeGitHub, start: threading.Barrier
) -> TickReport:
    """Run one tick in ``checkout`` with --push semantics, once every thread is ready.

    The earliest tick starts first so that the others claim while it dispatches: its record
    push then meets a moved branch.
    """
    repo = GitRepo.find(checkout)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=True)
    settings = TickSettings(run_id=f"race-{checkout.name}", sha=repo.head(), backoff=jitter)
    start.wait()
    time.sleep(0.02 * index)
    return run_tick(
        schedule().files(),
        store=store,
        dispatcher=fake_dispatcher(fake),
        now=utc(now),
        settings=settings,
    )


class PushRaceNotRetried(Exception):
    """A tick failed because origin refused a push that lost a race, instead of retrying."""


# When two pushes update (or create) origin's branch at the same moment, git answers
# "[remote rejected] (failed to update ref)" and "cannot lock ref" on stderr: the loser must
# get a StateConflict (and retry), never a GitError.
RACE_MARKER = "failed to update ref"


def assert_never_twice(sends: Counter[str]) -> None:
    """No publication reached a receiver (or the outbox) more than once."""
    assert all(count == 1 for count in sends.values()), sends
    assert set(sends) <= set(IDS)


def assert_each_id_once(origin: Path, sends: Counter[str]) -> None:
    """Every id is dispatched once at the receiver, and ends dispatched in origin's ledger."""
    events = events_by_id(ledger_lines(bare_tree(origin, STATE_REF)))
    assert sorted(events) == IDS
    for pub_id, names in events.items():
        assert names == ["claimed", "dispatched"], (pub_id, names)
    assert sends == Counter(dict.fromkeys(IDS, 1))


def outbox_sends(origin: Path) -> Counter[str]:
    """Return how many outbox lines of origin's state branch carry each id."""
    outbox = ledger_lines(bare_tree(origin, STATE_REF), "outbox/")
    return Counter(p["id"] for line in outbox for p in line["client_payload"]["publications"])


@pytest.mark.parametrize("ticks", [2, 3])
def test_racing_threads_dispatch_each_publication_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_github: FakeGitHub, ticks: int
) -> None:
    isolate_git_env(monkeypatch, tmp_path)
    register_repos(fake_github)
    fake_github.latency = 0.03  # each request takes a while: the others move the branch meanwhile
    for repetition in range(REPETITIONS):
        fake_github.dispatches.clear()
        origin, clones = make_clones(tmp_path / f"rep-{repetition}", ticks)
        start = threading.Barrier(ticks)
        with ThreadPoolExecutor(ticks) as pool:
            futures = [
                pool.submit(thread_tick, checkout, index, now, fake_github, start)
                for index, (checkout, now) in enumerate(zip(clones, nows_for(ticks), strict=True))
            ]
            wait(futures, timeout=60)
        sends = dispatched_ids(fake_github) + outbox_sends(origin)
        assert_never_twice(sends)
        errors = [f.exception() for f in futures if f.exception() is not None]
        if any(RACE_MARKER in str(error) for error in errors):
            raise PushRaceNotRetried(str(errors[0]))
        reports = [future.result() for future in futures]
        dispatched = Counter(i for report in reports for i in report.dispatched)
        assert dispatched == Counter(dict.fromkeys(IDS, 1)), repetition
        assert_each_id_once(origin, sends)


def test_racing_processes_write_each_publication_to_the_outbox_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate_git_env(monkeypatch, tmp_path)
    env = {
        **os.environ,
        "SCHEDULER_CLOCK_OVERRIDE": "1",
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    for name in ("GITHUB_RUN_ID", "GITHUB_STEP_SUMMARY", "SCHEDULER_STATE_REF"):
        env.pop(name, None)
    for repetition in range(2):
        origin, clones = make_clones(tmp_path / f"rep-{repetition}", 3)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "scheduler",
                    "--root",
                    str(checkout),
                    "--now",
                    f"2030-12-02T{now}Z",
                    "tick",
                    "--push",
                    "--backend",
                    "outbox",
                    "--format",
                    "json",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for checkout, now in zip(clones, nows_for(3), strict=True)
        ]
        outputs = [proc.communicate(timeout=60) for proc in procs]
        sends = outbox_sends(origin)
        assert_never_twice(sends)
        errors = [err.decode() for _, err in outputs if RACE_MARKER in err.decode()]
        if errors:
            raise PushRaceNotRetried(errors[0])
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err.decode()
        dispatched = Counter(i for out, _ in outputs for i in json.loads(out)["dispatched"])
        assert dispatched == Counter(dict.fromkeys(IDS, 1))
        assert_each_id_once(origin, sends)


# --------------------------------------------------------------------------- chosen interleavings


def rival_tick(now: str, dispatcher: RecordingDispatcher) -> Callable[[MemoryStateStore], object]:
    """Return a whole other tick at ``now`` on the same state, sending through ``dispatcher``."""

    def run(store: MemoryStateStore) -> object:
        return Rig(schedule(), store=store, dispatcher=dispatcher).tick(now)

    return run


def test_a_tick_that_loses_the_claim_race_recomputes_and_sends_nothing() -> None:
    rival = RecordingDispatcher()
    ours = Rig(
        schedule(), store=MovingStore(MemoryStateStore(), {1: rival_tick("17:01:40", rival)})
    )
    report = ours.tick("17:01:40")
    assert summary(report) == empty_summary() and report.exit_code == 0
    assert ours.recorder.sent == []
    sent_by_rival = Counter(i for request in rival.sent for i in request.ids)
    assert sent_by_rival == Counter(i for i in IDS if i != "trailer/li-corp")  # li-corp: outbox
    events = ours.events()
    assert sorted(events) == IDS
    assert all(names == ["claimed", "dispatched"] for names in events.values())


def test_a_record_push_that_loses_re_appends_the_same_events() -> None:
    rival = RecordingDispatcher()
    inner = MemoryStateStore()
    # our claim (save 1) wins at 17:01:00; the rival, at 17:01:40, claims the rest while we dispatch
    ours = Rig(schedule(), store=MovingStore(inner, {2: rival_tick("17:01:40", rival)}))
    report = ours.tick("17:01:00")
    assert sorted(report.dispatched) == ["teaser/tiktok-fr", "teaser/yt-main"]
    assert sorted(i for request in rival.sent for i in request.ids) == [
        "recap/x-us",
        "trailer/ig-fr",
    ]
    events = ours.events()
    assert sorted(events) == IDS
    assert all(names == ["claimed", "dispatched"] for names in events.values()), events
    subjects = [message.split(" (run")[0] for _, message in inner.commits]
    assert subjects == [
        "tick claim: claimed 2",
        "tick claim: claimed 3",
        "tick record: dispatched 3",
        "tick record: dispatched 2",
    ]


def test_a_record_push_that_keeps_losing_leaves_claims_that_go_unknown() -> None:
    inner = MemoryStateStore()

    def control(store: MemoryStateStore) -> object:
        return store.save(store.load(), {"control.yaml": b"paused: false\n"}, "control")

    moves = dict.fromkeys(range(2, 2 + 6), control)  # every record attempt finds the branch moved
    ours = Rig(schedule(), store=MovingStore(inner, moves))
    with pytest.raises(StateError, match="the results could not be recorded"):
        ours.tick("17:01:00")
    sent = ours.sent_ids()
    assert sorted(sent) == ["teaser/tiktok-fr", "teaser/yt-main"]
    ours.store = inner
    later = ours.tick("17:16:00")
    assert sorted(later.unknown) == ["teaser/tiktok-fr", "teaser/yt-main"]
    resent = Counter(ours.sent_ids())
    assert (
        resent["teaser/tiktok-fr"] == resent["teaser/yt-main"] == 1
    )  # may have gone out: never again
