"""Properties of the ledger fold (hypothesis, modest example counts).

Folding groups events by id in file order, so any interleaving of different ids gives the same
records; a record's state is its last event that is not ``held``; a ``released`` record blocks
no other id and is armed again; appending never changes other ids' records; and the ledger's
JSON lines round-trip through ``parse_ledger``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.decide import due_publications
from scheduler.ledger import EVENTS, LedgerEvent, encode_lines, fold_events, new_event, parse_ledger
from tests.schedule_builder import state_with, tree, wave, world_of

SETTINGS = settings(max_examples=60, deadline=None)
IDS = ("w1/yt-main", "w2/ig-fr", "queue/yt-main/clip-03", "w3/tiktok-fr")
EVENT_NAMES = sorted(EVENTS)
START = datetime(2030, 12, 1, tzinfo=UTC)
FILE = "ledger/2030-12.jsonl"


@st.composite
def a_line(draw: st.DrawFn, pub_id: str | None = None) -> dict[str, Any]:
    """One valid ledger line, as the scheduler writes it."""
    name = draw(st.sampled_from(EVENT_NAMES))
    at = START + timedelta(seconds=draw(st.integers(0, 10**6)))
    return new_event(
        pub_id or draw(st.sampled_from(IDS)),
        name,
        at,
        due=START + timedelta(minutes=draw(st.integers(0, 10**4))),
        channel=draw(st.sampled_from(["yt-main", "ig-fr", "tiktok-fr"])),
        video=draw(st.sampled_from(["teaser-01", "clip-03"])),
        attempt=draw(st.integers(1, 3)) if name in ("claimed", "dispatched") else None,
        reason=draw(st.sampled_from(["auth", "paused", "late", None])),
        retryable=draw(st.sampled_from([True, None])) if name == "failed" else None,
    )


def events_of(lines: list[dict[str, Any]]) -> list[LedgerEvent]:
    """The parsed events of ``lines`` (all valid)."""
    events, problems = parse_ledger({FILE: encode_lines(lines)})
    assert problems == []
    return events


def per_id(events: list[LedgerEvent]) -> dict[str, list[tuple[str, str]]]:
    """id -> its events as (event, at) pairs, in order: what a record is made of."""
    result: dict[str, list[tuple[str, str]]] = {}
    for event in events:
        result.setdefault(event.id, []).append((event.event, event.data["at"]))
    return result


def summary(events: list[LedgerEvent]) -> dict[str, tuple[Any, ...]]:
    """id -> the folded record's fields, leaving out file positions."""
    return {
        pub_id: (
            rec.channel,
            rec.video,
            rec.due,
            rec.state,
            None if rec.claim is None else rec.claim.data,
            rec.attempt,
            rec.held,
            tuple(event.data for event in rec.events),
        )
        for pub_id, rec in fold_events(events).items()
    }


@SETTINGS
@given(st.lists(a_line(), max_size=25), st.randoms(use_true_random=False))
def test_any_interleaving_of_different_ids_folds_to_the_same_records(
    lines: list[dict[str, Any]], rng: Any
) -> None:
    # shuffle across ids while keeping each id's own order: deal the per-id queues at random
    queues: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        queues.setdefault(line["id"], []).append(line)
    interleaved: list[dict[str, Any]] = []
    while any(queues.values()):
        pub_id = rng.choice(sorted(k for k, v in queues.items() if v))
        interleaved.append(queues[pub_id].pop(0))
    assert summary(events_of(interleaved)) == summary(events_of(lines))


@SETTINGS
@given(st.lists(a_line(), min_size=1, max_size=25))
def test_a_records_state_is_its_last_event_that_is_not_held(lines: list[dict[str, Any]]) -> None:
    events = events_of(lines)
    for pub_id, rec in fold_events(events).items():
        own = [event for event in events if event.id == pub_id]
        outcomes = [event for event in own if event.event != "held"]
        assert rec.state == (outcomes[-1].event if outcomes else None)
        assert rec.last_outcome == (outcomes[-1] if outcomes else None)
        trailing = own[
            len(own)
            - next((i for i, e in enumerate(reversed(own)) if e.event != "held"), len(own)) :
        ]
        assert rec.held == frozenset(str(e.get("reason") or "held") for e in trailing)
        claims = [event for event in own if event.event == "claimed"]
        assert rec.claim == (claims[-1] if claims else None)


@SETTINGS
@given(st.lists(a_line("w1/yt-main"), max_size=8), st.sampled_from(EVENT_NAMES))
def test_a_released_record_blocks_no_other_id_and_is_not_final(
    before: list[dict[str, Any]], outcome: str
) -> None:
    released = new_event("w1/yt-main", "released", START + timedelta(days=20), due=START)
    rec = fold_events(events_of([*before, new_event("w1/yt-main", outcome, START), released]))[
        "w1/yt-main"
    ]
    assert rec.state == "released"
    assert not rec.blocks_others()
    assert not rec.is_final()
    assert rec.due == START


@SETTINGS
@given(st.lists(a_line(), max_size=20), st.lists(a_line("w9/new-id"), min_size=1, max_size=6))
def test_appending_events_never_changes_other_ids_records(
    lines: list[dict[str, Any]], appended: list[dict[str, Any]]
) -> None:
    before = summary(events_of(lines))
    after = summary(events_of([*lines, *appended]))
    assert {k: v for k, v in after.items() if k != "w9/new-id"} == before


@SETTINGS
@given(st.lists(a_line(), max_size=25))
def test_parse_ledger_round_trips_encode_lines(lines: list[dict[str, Any]]) -> None:
    events = events_of(lines)
    assert [dict(event.data) for event in events] == lines
    assert [(event.file, event.line) for event in events] == [
        (FILE, number) for number in range(1, len(lines) + 1)
    ]
    assert [event.at.tzinfo for event in events] == [UTC] * len(lines)
    assert encode_lines([dict(event.data) for event in events]) == encode_lines(lines)


# --------------------------------------------------------------------------- decide

DUE = "2030-12-01T18:00:00Z"
NOW = "2030-12-01T18:05:00Z"
FILES = tree(waves={"w1": wave("teaser-01", DUE, ["yt-main"])})
BASE = {"due": DUE, "channel": "yt-main", "video": "teaser-01"}


def claimed_ids(lines: list[dict[str, Any]]) -> list[str]:
    """The ids a tick at NOW would claim over FILES with ``lines`` in the ledger."""
    world = world_of(FILES, now=NOW, state=state_with(lines))
    return [claim.pub.id for claim in due_publications(world).claims]


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["unknown", "failed", "missed", "publish_failed", "dispatched", "published"]),
    st.booleans(),
)
def test_released_arms_again_what_the_ledger_held(outcome: str, with_release: bool) -> None:
    lines = [
        {
            "id": "w1/yt-main",
            "event": "claimed",
            "at": "2030-12-01T17:50:00Z",
            **BASE,
            "attempt": 1,
        },
        {"id": "w1/yt-main", "event": outcome, "at": "2030-12-01T17:51:00Z", **BASE, "attempt": 1},
    ]
    if with_release:
        lines.append(
            {"id": "w1/yt-main", "event": "released", "at": "2030-12-01T18:01:00Z", **BASE}
        )
    assert claimed_ids(lines) == (["w1/yt-main"] if with_release else [])


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["claimed", "dispatched", "unknown", "published"]), st.booleans())
def test_a_blocking_event_under_another_id_holds_until_released(
    outcome: str, with_release: bool
) -> None:
    other = "old/yt-main"
    lines = [
        {
            "id": other,
            "event": outcome,
            "at": "2030-11-30T10:00:00Z",
            **BASE,
            "due": "2030-11-30T10:00:00Z",
        }
    ]
    if with_release:
        lines.append(
            {
                "id": other,
                "event": "released",
                "at": "2030-11-30T11:00:00Z",
                **BASE,
                "due": "2030-12-30T10:00:00Z",
            }
        )
    world = world_of(FILES, now=NOW, state=state_with(lines))
    decisions = due_publications(world)
    held = {pub.id: cause for pub, cause in decisions.held}
    if with_release:
        assert "w1/yt-main" not in held
    else:
        assert held.get("w1/yt-main") == "already-published"
        assert "w1/yt-main" not in [claim.pub.id for claim in decisions.claims]
