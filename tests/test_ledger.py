"""The ledger: reading lines, folding events, trailers and the tamper check."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from scheduler import ledger

AT = "2030-12-01T17:02:00Z"


def line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "id": "launch/yt-main",
        "event": "claimed",
        "at": AT,
        "due": "2030-12-01T17:00:00Z",
    }
    base.update(fields)
    return json.dumps(base).encode() + b"\n"


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        pytest.param(b"not json\n", "Expecting value", id="not-json"),
        pytest.param(b"[1, 2]\n", "not a JSON object", id="list"),
        pytest.param(line(event="posted"), "unknown event", id="unknown-event"),
        pytest.param(line(due="9999-12-31T23:59:59-05:00"), "out of range", id="due-overflow"),
        pytest.param(line(due="soon"), "is not a date-time", id="due-unreadable"),
        pytest.param(line(attempt="x"), "'attempt' must be a whole number", id="attempt-text"),
        pytest.param(line(attempt=True), "'attempt' must be a whole number", id="attempt-bool"),
        pytest.param(line(channel=["x"]), "'channel' must be a string", id="channel-list"),
        pytest.param(line(at=None), "", id="at-missing"),
        pytest.param(line(due="9999-12-31T23:59:59Z"), "out of range", id="due-beyond-planning"),
        pytest.param(
            line(payload={"params": "x"}), "'payload.params' must be an object", id="params-text"
        ),
        pytest.param(line(payload=[1]), "'payload' must be an object", id="payload-list"),
    ],
)
def test_unusable_lines_are_reported_never_raised(raw: bytes, needle: str) -> None:
    good = line(id="other/yt-main")
    events, problems = ledger.parse_ledger({"ledger/2030-12.jsonl": good + raw})
    assert [event.id for event in events] == ["other/yt-main"]
    assert len(problems) == 1
    assert problems[0].file == "ledger/2030-12.jsonl" and problems[0].line == 2
    assert problems[0].code == "ledger-line" and needle in problems[0].message


def test_fold_keeps_the_claim_due_and_counts_attempts() -> None:
    lines = (
        line(attempt=1, channel="yt-main", video="v1")
        + line(event="failed", reason="refused", retryable=True, attempt=1)
        + line(attempt=2)
        + line(event="dispatched", attempt=2)
    )
    events, problems = ledger.parse_ledger({"ledger/2030-12.jsonl": lines})
    record = ledger.fold_events(events)["launch/yt-main"]
    assert problems == []
    assert record.state == "dispatched" and record.attempt == 2
    assert record.channel == "yt-main" and record.video == "v1"
    assert record.due == datetime(2030, 12, 1, 17, tzinfo=UTC)
    assert record.is_final() and record.blocks_others()


def test_released_moves_the_due_and_arms_again() -> None:
    lines = line() + line(event="unknown") + line(event="released", due="2030-12-02T09:00:00Z")
    events, _ = ledger.parse_ledger({"ledger/2030-12.jsonl": lines})
    record = ledger.fold_events(events)["launch/yt-main"]
    assert record.due == datetime(2030, 12, 2, 9, tzinfo=UTC)
    assert not record.is_final() and not record.blocks_others()


def test_tamper_check_catches_an_edited_or_dropped_vouched_line() -> None:
    content = line() + line(event="dispatched")
    files = {"ledger/2030-12.jsonl": content}
    trailer = ledger.trailers(files)[0]
    _, path, count, digest = trailer.split()
    vouched = {path: (int(count), digest)}
    assert ledger.tampered_files(files, vouched) == []
    assert ledger.tampered_files({path: content + line(event="published")}, vouched) == []
    assert ledger.tampered_files({path: content.replace(b"dispatched", b"failed")}, vouched) == [
        path
    ]
    assert ledger.tampered_files({path: line()}, vouched) == [path]
    assert ledger.tampered_files({}, vouched) == [path]
