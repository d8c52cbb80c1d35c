"""Every fault class ends in the right ledger event and exit code, and nothing goes out twice.

Requests go through the real PyGithub client to the fake GitHub server; the state is kept in
memory. Crashes are injected as a :class:`Crash` (a ``BaseException``) that nothing may catch.
"""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass

import pytest

from scheduler.adapters.github import GitHubDispatcher
from scheduler.ledger import MAX_ATTEMPTS
from scheduler.memory import MemoryStateStore
from scheduler.ports import Dispatcher, DispatchOutcome, DispatchRequest, StateStore
from tests import fakegithub
from tests.fakegithub import FakeGitHub, Step, rate_limited, secondary_rate_limited
from tests.tick_helpers import (
    Crash,
    CrashingDispatcher,
    CrashingStore,
    Rig,
    Schedule,
    dispatched_ids,
    empty_summary,
    fake_dispatcher,
    posts,
    register_repos,
    summary,
    wave,
)

fake_github = fakegithub.fake_github

CHANNELS = ["yt-main", "tiktok-fr", "ig-fr", "x-us"]
SOCIAL = ["teaser/ig-fr", "teaser/tiktok-fr", "teaser/x-us"]  # two requests: x-us has max_batch 1
FIRST_SOCIAL_REQUEST = ["teaser/ig-fr", "teaser/tiktok-fr"]
SOCIAL_POSTS = "/repos/acme/social/dispatches"


def schedule() -> Schedule:
    """Return one wave at 17:00 UTC to three channels of acme/social and one of acme/yt."""
    return Schedule.base().with_wave("teaser", wave("teaser-01", "2030-12-02T17:00:00Z", CHANNELS))


def tiktok_only(at: str = "17:00") -> Schedule:
    """Return one wave ``teaser`` to tiktok-fr alone, at ``at`` UTC on 2 December 2030."""
    return Schedule.base().with_wave(
        "teaser", wave("teaser-01", f"2030-12-02T{at}:00Z", ["tiktok-fr"])
    )


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    """Return the fake with the two publisher repositories registered."""
    register_repos(fake_github)
    return fake_github


def social_posts(fake: FakeGitHub) -> int:
    """Return how many POSTs reached acme/social's dispatches endpoint."""
    return fake.count("POST", SOCIAL_POSTS)


def last_events(rig: Rig) -> dict[str, dict[str, object]]:
    """Return id -> its newest ledger line."""
    return {row["id"]: row for row in rig.rows()}


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Fault:
    """What the first POST to acme/social meets, and what must follow."""

    steps: list[Step]
    event: str  # the ledger event of the first request's publications
    reason: str | None
    retryable: bool | None
    posts_in_tick: int  # POSTs to acme/social during the faulty tick
    resent_later: bool  # whether a later tick sends the first request's publications again


FAULTS = [
    pytest.param(Fault([401], "failed", "auth", None, 1, True), id="401-auth"),
    pytest.param(Fault([403], "failed", "auth", None, 1, True), id="403-auth"),
    pytest.param(Fault([404], "failed", "auth", None, 1, True), id="404-auth"),
    pytest.param(Fault([422], "failed", "rejected", None, 2, False), id="422-final"),
    pytest.param(Fault([500], "unknown", "ambiguous", None, 2, False), id="500-unknown"),
    pytest.param(Fault([502], "unknown", "ambiguous", None, 2, False), id="502-unknown"),
    pytest.param(Fault([503], "unknown", "ambiguous", None, 2, False), id="503-unknown"),
    pytest.param(
        Fault(["drop"], "unknown", "ambiguous", None, 2, False), id="dropped-after-reading"
    ),
    pytest.param(
        Fault(["drop-before"], "unknown", "ambiguous", None, 2, False), id="dropped-before-reading"
    ),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_each_answer_ends_in_its_ledger_event(fake: FakeGitHub, fault: Fault) -> None:
    fake.script("acme/social", fault.steps)
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake))
    report = rig.tick("17:01")
    assert report.exit_code == 1
    assert social_posts(fake) == fault.posts_in_tick
    assert fake.count("POST", "/repos/acme/yt/dispatches") == 1  # other repositories go on
    lines = last_events(rig)
    for pub_id in FIRST_SOCIAL_REQUEST:
        line = lines[pub_id]
        assert (line["event"], line.get("reason"), line.get("retryable")) == (
            fault.event,
            fault.reason,
            fault.retryable,
        )
        assert line["attempt"] == 1
    auth = fault.reason == "auth"
    assert lines["teaser/x-us"]["event"] == ("failed" if auth else "dispatched")
    assert sorted(getattr(report, "failed" if fault.event == "failed" else "unknown")) == sorted(
        SOCIAL if auth else FIRST_SOCIAL_REQUEST
    )

    for moment in ("17:06", "17:20", "17:40"):
        rig.tick(moment)
    sends = Counter(pub["id"] for d in fake.dispatches for pub in d.client_payload["publications"])
    if fault.resent_later:  # auth: tried again, without using up an attempt
        assert sends == Counter(f"teaser/{c}" for c in CHANNELS)
        claims = [r for r in rig.rows() if r["event"] == "claimed" and r["id"] in SOCIAL]
        assert {r["attempt"] for r in claims} == {1}
        assert social_posts(fake) == fault.posts_in_tick + 2
    else:  # never sent again, whatever happened at the receiver
        assert social_posts(fake) == fault.posts_in_tick
        assert all(last_events(rig)[i]["event"] == fault.event for i in FIRST_SOCIAL_REQUEST)


def test_a_timeout_is_unknown_and_never_sent_again(fake: FakeGitHub) -> None:
    fake.script("acme/social", ["slow:0.6"])
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake, timeout=0.2))
    report = rig.tick("17:01")
    assert sorted(report.unknown) == FIRST_SOCIAL_REQUEST and report.exit_code == 1
    assert "no answer within 0.2 s" in str(last_events(rig)["teaser/ig-fr"]["detail"])
    rig.tick("17:20")
    assert social_posts(fake) == 2
    assert dispatched_ids(fake)["teaser/ig-fr"] == 1  # it did arrive once; nothing more


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(rate_limited(reset_in=30), id="primary-403-reset"),
        pytest.param(secondary_rate_limited(retry_after=40), id="secondary-403-retry-after"),
        pytest.param(secondary_rate_limited(retry_after=20, status=429), id="secondary-429"),
    ],
)
def test_a_rate_limit_is_waited_out_within_the_tick(
    fake: FakeGitHub, answer: fakegithub.Reply
) -> None:
    waits: list[float] = []
    fake.script("acme/social", [answer])
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake, sleep=waits.append))
    report = rig.tick("17:01")
    assert summary(report) == empty_summary(dispatched=[f"teaser/{c}" for c in CHANNELS])
    assert len(waits) == 1 and 15 <= waits[0] <= 45
    assert social_posts(fake) == 3 and report.exit_code == 0


def test_what_is_left_after_the_wait_budget_fails_retryable(fake: FakeGitHub) -> None:
    fake.script("acme/social", [rate_limited(reset_in=600)])
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake))
    report = rig.tick("17:01")
    assert summary(report) == empty_summary(failed=[f"teaser/{c}" for c in CHANNELS])
    assert {(r["reason"], r["retryable"]) for r in rig.rows() if r["event"] == "failed"} == {
        ("rate_limited", True)
    }
    assert posts(fake) == 1  # nothing more is sent once the budget is gone
    retry = rig.tick("17:06")
    assert sorted(retry.dispatched) == sorted(f"teaser/{c}" for c in CHANNELS)
    assert {r["attempt"] for r in rig.rows() if r["event"] == "dispatched"} == {2}


# --------------------------------------------------------------------------- refused connections


def closed_port_url() -> str:
    """Return the URL of a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class RefusingFirst:
    """Checks repositories at the fake; sends the first ``refusals`` requests to a closed port."""

    fake: GitHubDispatcher
    closed: GitHubDispatcher
    refusals: int

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Ask the fake."""
        return self.fake.check_repo(repo)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """Refused while ``refusals`` lasts, then the fake."""
        if self.refusals > 0:
            self.refusals -= 1
            return self.closed.send(request)
        return self.fake.send(request)


def refusing_rig(fake: FakeGitHub, refusals: int) -> Rig:
    """Return a rig for one tiktok-fr publication whose first ``refusals`` sends are refused."""
    dispatcher = RefusingFirst(
        fake_dispatcher(fake), fake_dispatcher(fake, api_url=closed_port_url()), refusals
    )
    only = tiktok_only()
    return Rig(only, dispatcher=dispatcher)


def test_refused_connections_are_retried_up_to_three_attempts_in_all(fake: FakeGitHub) -> None:
    rig = refusing_rig(fake, refusals=10)
    codes = [rig.tick(moment).exit_code for moment in ("17:01", "17:06", "17:11", "17:16", "17:21")]
    assert codes == [1, 1, 1, 0, 0]
    rows = rig.rows()
    assert [(r["event"], r["attempt"]) for r in rows] == [
        ("claimed", 1), ("failed", 1), ("claimed", 2), ("failed", 2), ("claimed", 3), ("failed", 3),
    ]  # fmt: skip
    assert all(
        (r["reason"], r["retryable"]) == ("refused", True) for r in rows if r["event"] == "failed"
    )
    assert MAX_ATTEMPTS == 3 and fake.dispatches == []


def test_a_refused_publication_goes_out_with_a_higher_attempt(fake: FakeGitHub) -> None:
    rig = refusing_rig(fake, refusals=2)
    reports = [rig.tick(moment) for moment in ("17:01", "17:06", "17:11", "17:16")]
    assert [r.dispatched for r in reports] == [[], [], ["teaser/tiktok-fr"], []]
    [dispatch] = fake.dispatches
    assert dispatch.client_payload["publications"][0]["attempt"] == 3


# --------------------------------------------------------------------------- preflight


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_repository_that_fails_its_preflight_for_auth_is_not_claimed(
    fake: FakeGitHub, status: int
) -> None:
    fake.script("acme/social", [status], endpoint="repo")
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake))
    report = rig.tick("17:01")
    assert summary(report) == empty_summary(failed=SOCIAL, dispatched=["teaser/yt-main"])
    assert report.exit_code == 1 and social_posts(fake) == 0
    for pub_id in SOCIAL:
        assert rig.events()[pub_id] == ["failed"]
        line = last_events(rig)[pub_id]
        assert line["reason"] == "auth" and "attempt" not in line
    retry = rig.tick("17:06")
    assert sorted(retry.dispatched) == SOCIAL and retry.exit_code == 0
    assert {r["attempt"] for r in rig.rows() if r["event"] == "claimed"} == {1}


def test_a_preflight_that_keeps_failing_is_recorded_once_and_still_fails_the_run(
    fake: FakeGitHub,
) -> None:
    fake.script("acme/social", [401, 401], endpoint="repo")
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake))
    rig.tick("17:01")
    rig.dispatcher = fake_dispatcher(fake)  # the next run checks again
    again = rig.tick("17:06")
    assert sorted(again.failed) == SOCIAL and again.exit_code == 1
    assert all(rig.events()[i] == ["failed"] for i in SOCIAL)


def test_a_missing_scheduler_token_fails_for_auth_and_names_the_variable(fake: FakeGitHub) -> None:
    rig = Rig(schedule(), dispatcher=fake_dispatcher(fake, scheduler_token=None))
    report = rig.tick("17:01")
    assert summary(report) == empty_summary(failed=[f"teaser/{c}" for c in CHANNELS])
    assert fake.requests == []
    for line in last_events(rig).values():
        assert line["event"] == "failed" and line["reason"] == "auth"
        assert "SCHEDULER_TOKEN is not set" in str(line["detail"])
    assert any("SCHEDULER_TOKEN is not set" in text for text in report.lines)


# --------------------------------------------------------------------------- stale claims and crashes


def crash_rig(fake: FakeGitHub, point: str) -> tuple[Rig, MemoryStateStore]:
    """Return a rig whose first tick dies at ``point``, and the store that survives it."""
    store = MemoryStateStore()
    healthy = fake_dispatcher(fake)
    crashing: dict[str, tuple[StateStore, Dispatcher]] = {
        "after-claim-save": (CrashingStore(store, after_save=1), healthy),
        "after-first-send": (store, CrashingDispatcher(healthy, after_send=1)),
        "before-record-save": (CrashingStore(store, before_save=2), healthy),
        "after-record-save": (CrashingStore(store, after_save=2), healthy),
    }
    dying_store, dispatcher = crashing[point]
    return Rig(schedule(), store=dying_store, dispatcher=dispatcher), store


@pytest.mark.parametrize(
    ("point", "sent_before_crash", "recorded"),
    [
        pytest.param("after-claim-save", 0, False, id="after-claim-save"),
        pytest.param("after-first-send", 1, False, id="after-first-send"),
        pytest.param("before-record-save", 3, False, id="before-record-save"),
        pytest.param("after-record-save", 3, True, id="after-record-save"),
    ],
)
def test_a_crash_at_any_step_never_resends_nor_forgets(
    fake: FakeGitHub, point: str, sent_before_crash: int, recorded: bool
) -> None:
    rig, store = crash_rig(fake, point)
    with pytest.raises(Crash):
        rig.tick("17:01")
    assert posts(fake) == sent_before_crash
    rig.store, rig.dispatcher = store, fake_dispatcher(fake)  # the next run, healthy

    soon = rig.tick("17:10")  # claims younger than 15 minutes: someone may still be at work
    assert summary(soon) == empty_summary() and soon.exit_code == 0
    stale = rig.tick("17:17")
    expected_unknown = [] if recorded else [f"teaser/{c}" for c in CHANNELS]
    assert summary(stale) == empty_summary(unknown=expected_unknown)
    assert stale.exit_code == (0 if recorded else 1)
    for line in rig.rows():
        if line["event"] == "unknown":
            assert "no result within 15 minutes" in line["reason"]
    quiet = rig.tick("17:40")
    assert summary(quiet) == empty_summary() and quiet.exit_code == 0
    assert posts(fake) == sent_before_crash  # never a second send
    assert max(dispatched_ids(fake).values(), default=1) == 1
    final = {row["id"]: row["event"] for row in rig.rows()}
    assert final == {f"teaser/{c}": "dispatched" if recorded else "unknown" for c in CHANNELS}


def test_a_claim_left_by_a_dead_run_turns_unknown_once(fake: FakeGitHub) -> None:
    rig, store = crash_rig(fake, "after-claim-save")
    with pytest.raises(Crash):
        rig.tick("17:01")
    rig.store = store
    assert rig.tick("17:15").unknown == []  # 14 minutes
    assert len(rig.tick("17:16").unknown) == 4  # 15 minutes
    assert rig.tick("17:31").unknown == []
    assert all(events == ["claimed", "unknown"] for events in rig.events().values())


def test_a_released_publication_goes_out_again_with_the_next_attempt(fake: FakeGitHub) -> None:
    fake.script("acme/social", [502])
    only = tiktok_only()
    rig = Rig(only, dispatcher=fake_dispatcher(fake))
    assert rig.tick("17:01").unknown == ["teaser/tiktok-fr"]
    assert rig.tick("17:06").dispatched == []
    state = rig.state()
    released = (
        b'{"id":"teaser/tiktok-fr","event":"released","at":"2030-12-02T17:08:00Z",'
        b'"due":"2030-12-02T17:08:00Z","channel":"tiktok-fr","video":"teaser-01","actor":"jane"}\n'
    )
    path = "ledger/2030-12.jsonl"
    rig.store.save(state, {path: bytes(state.files[path]) + released}, "retry teaser/tiktok-fr")
    report = rig.tick("17:10")
    assert report.dispatched == ["teaser/tiktok-fr"]
    [dispatch] = fake.dispatches
    entry = dispatch.client_payload["publications"][0]
    assert (entry["attempt"], entry["due"], entry["not_before"]) == (
        2,
        "2030-12-02T17:08:00Z",
        "2030-12-02T17:08:00Z",
    )
    assert rig.tick("17:20").dispatched == []


@pytest.mark.parametrize(
    ("steps", "first_tick", "rearmed", "attempt"),
    [
        pytest.param([], "18:05", True, 1, id="missed"),
        pytest.param([422], "17:01", True, 2, id="rejected-422"),
        pytest.param([502], "17:01", False, None, id="unknown-502"),
        pytest.param(["drop"], "17:01", False, None, id="unknown-dropped"),
    ],
)
def test_moving_a_publication_later_rearms_it_only_when_nothing_went_out(
    fake: FakeGitHub, steps: list[Step], first_tick: str, rearmed: bool, attempt: int | None
) -> None:
    fake.script("acme/social", steps)
    only = tiktok_only()
    rig = Rig(only, dispatcher=fake_dispatcher(fake))
    assert rig.tick(first_tick).exit_code == 1
    rig.schedule = tiktok_only("19:00")
    report = rig.tick("19:01")
    accepted = [d.client_payload["publications"][0] for d in fake.dispatches]
    if rearmed:
        assert report.dispatched == ["teaser/tiktok-fr"]
        assert [(p["due"], p["attempt"]) for p in accepted] == [("2030-12-02T19:00:00Z", attempt)]
    else:
        assert summary(report) == empty_summary()
        assert social_posts(fake) == 1  # the ambiguous one, never again
