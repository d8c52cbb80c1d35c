"""The ledger: events -> per-publication records, and new events (pure).

The ledger is append-only JSON lines on the state branch (``ledger/YYYY-MM.jsonl``). Reading
folds every event of a publication id, in file order, into one :class:`Record`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scheduler import times
from scheduler.problems import Problem, error

EVENTS = frozenset(
    {
        "claimed",
        "dispatched",
        "failed",
        "unknown",
        "missed",
        "held",
        "released",
        "published",
        "publish_failed",
    }
)
# Latest outcomes after which nothing can have gone out: the publication may be armed again.
DELIVERED_NOTHING = frozenset({"missed", "failed", "publish_failed"})
# Outcomes that block the same (channel, video) under any other id.
BLOCKING = frozenset({"claimed", "dispatched", "unknown", "published"})
MAX_ATTEMPTS = 3
TRAILER = "Scheduler-Ledger"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One line of the ledger."""

    id: str
    event: str
    at: datetime
    data: Mapping[str, Any]
    file: str
    line: int

    def get(self, key: str) -> Any:
        """A further key of the event (``due``, ``attempt``, ``reason``, ...), or None."""
        return self.data.get(key)

    @property
    def due(self) -> datetime | None:
        """The due instant this event carries, if any."""
        value = self.data.get("due")
        return times.to_utc(times.parse_datetime(value)) if isinstance(value, str) else None


@dataclass(frozen=True)
class Record:
    """What the ledger says of one publication id, folded from its events in order."""

    id: str
    events: tuple[LedgerEvent, ...]
    file: str
    channel: str | None
    video: str | None
    due: datetime | None
    state: str | None
    claim: LedgerEvent | None
    attempt: int
    held: frozenset[str] = field(default_factory=frozenset)

    @property
    def last_outcome(self) -> LedgerEvent | None:
        """The newest event that is not ``held``."""
        for event in reversed(self.events):
            if event.event != "held":
                return event
        return None

    def is_final(self) -> bool:
        """True when no tick may act on this publication without a human (query)."""
        last = self.last_outcome
        if last is None or last.event == "released":
            return False
        if last.event == "failed":
            return not retryable_failure(last, self.attempt)
        return True

    def delivered_nothing(self) -> bool:
        """True when every outcome so far proves nothing went out (may be armed again)."""
        last = self.last_outcome
        return last is not None and last.event in DELIVERED_NOTHING and not self._ever("published")

    def blocks_others(self) -> bool:
        """True when this id holds its (channel, video) against any other id."""
        return self.state in BLOCKING

    def _ever(self, name: str) -> bool:
        return any(event.event == name for event in self.events)


def retryable_failure(event: LedgerEvent, attempt: int) -> bool:
    """A ``failed`` that a later tick retries: auth (no attempt used) or retryable attempts left."""
    if event.get("reason") == "auth":
        return True
    return bool(event.get("retryable")) and attempt < MAX_ATTEMPTS


# --------------------------------------------------------------------------- reading


def parse_ledger(files: Mapping[str, bytes]) -> tuple[list[LedgerEvent], list[Problem]]:
    """Every event of ``ledger/*.jsonl`` in (file, line) order, and lines that are unusable."""
    events: list[LedgerEvent] = []
    problems: list[Problem] = []
    for path in sorted(
        name for name in files if name.startswith("ledger/") and name.endswith(".jsonl")
    ):
        for number, raw in enumerate(files[path].splitlines(), start=1):
            if not raw.strip():
                continue
            event, problem = _parse_line(raw, path, number)
            if event is not None:
                events.append(event)
            if problem is not None:
                problems.append(problem)
    return events, problems


def _parse_line(raw: bytes, path: str, number: int) -> tuple[LedgerEvent | None, Problem | None]:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        name = data.get("event")
        if name not in EVENTS or not isinstance(data.get("id"), str):
            raise ValueError(f"unknown event {name!r}")
        at = times.to_utc(times.parse_datetime(data["at"]))
        _check_fields(data)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        message = f"unusable ledger line ({exc}); it is kept and ignored: restore it from the branch history"
        return None, error(path, (number, 1), "ledger-line", message)
    return LedgerEvent(data["id"], name, at, data, path, number), None


def _check_fields(data: Mapping[str, Any]) -> None:
    """Raise ValueError for a field of the wrong type, so no later step trips on it."""
    for key in ("channel", "video", "reason", "url", "actor", "run", "not_before", "due"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"'{key}' must be a string")
    for key in ("due", "not_before"):
        if data.get(key) is not None:
            times.to_utc(times.parse_datetime(data[key]))
    attempt = data.get("attempt")
    if attempt is not None and (
        not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0
    ):
        raise ValueError("'attempt' must be a whole number")


def fold_events(events: Iterable[LedgerEvent]) -> dict[str, Record]:
    """Per publication id, the :class:`Record` its events add up to (query)."""
    grouped: dict[str, list[LedgerEvent]] = {}
    for event in events:
        grouped.setdefault(event.id, []).append(event)
    return {pub_id: fold_one(pub_id, group) for pub_id, group in grouped.items()}


def fold_one(pub_id: str, events: Sequence[LedgerEvent]) -> Record:
    """Fold the events of one id, oldest first."""
    channel = video = None
    due = None
    state = claim = None
    attempt = 0
    held: set[str] = set()
    for event in events:
        channel = event.get("channel") or channel
        video = event.get("video") or video
        event_due = event.due
        if event_due is not None and (due is None or event.event in ("claimed", "released")):
            due = event_due
        if event.event == "held":
            held.add(str(event.get("reason") or "held"))
            continue
        held.clear()
        state = event.event
        if event.event == "claimed":
            claim = event
            attempt = int(event.get("attempt") or attempt + 1)
    return Record(
        id=pub_id,
        events=tuple(events),
        file=events[0].file,
        channel=channel,
        video=video,
        due=due,
        state=state,
        claim=claim,
        attempt=attempt,
        held=frozenset(held),
    )


# --------------------------------------------------------------------------- writing


def new_event(pub_id: str, name: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A ledger line as a dict, keys in the documented order; None values left out."""
    line: dict[str, Any] = {"id": pub_id, "event": name, "at": times.format_utc(at)}
    for key, value in fields.items():
        if value is None:
            continue
        line[key] = times.format_utc(value) if isinstance(value, datetime) else value
    return line


def encode_lines(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """JSON lines, compact and key-ordered as built, each ending in a newline."""
    return b"".join(
        json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        for line in lines
    )


def ledger_file_for(record: Record | None, due: datetime) -> str:
    """The ledger file an id's events go to: the one of its first event, for good."""
    return record.file if record is not None else f"ledger/{times.floor_month(due)}.jsonl"


def trailers(files: Mapping[str, bytes]) -> list[str]:
    """``Scheduler-Ledger: <file> <lines> <sha256>`` for every ledger file (sorted)."""
    result = []
    for path in sorted(
        name for name in files if name.startswith("ledger/") and name.endswith(".jsonl")
    ):
        content = files[path]
        lines = content.count(b"\n")
        result.append(f"{TRAILER}: {path} {lines} {hashlib.sha256(content).hexdigest()}")
    return result


def tampered_files(files: Mapping[str, bytes], vouched: Mapping[str, tuple[int, str]]) -> list[str]:
    """Ledger files whose first vouched lines no longer hash as the newest trailer says."""
    bad = []
    for path, (count, digest) in sorted(vouched.items()):
        content = files.get(path, b"")
        prefix = b"".join(content.splitlines(keepends=True)[:count])
        if prefix.count(b"\n") != count or hashlib.sha256(prefix).hexdigest() != digest:
            bad.append(path)
    return bad
