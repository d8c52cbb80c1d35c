"""The ledger: events -> per-publication records, and new events (pure).

The ledger is append-only JSON lines on the state branch (``ledger/YYYY-MM.jsonl``). Reading
folds every event of a publication id, in file order, into one :class:`Record`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

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
FIRST_YEAR, LAST_YEAR = 1970, 8999  # what planning can produce; anything else is not ours
TRAILER = "Scheduler-Ledger"


class LedgerEvent(NamedTuple):
    """One line of the ledger (a named tuple: immutable, and cheap to build by the million)."""

    id: str
    event: str
    at: datetime
    data: Mapping[str, Any]
    file: str
    line: int
    due: datetime | None = None  # the due instant this event carries, if any

    def get(self, key: str) -> Any:
        """A further key of the event (``due``, ``attempt``, ``reason``, ...), or None."""
        return self.data.get(key)


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
        for index in range(len(self.events) - 1, -1, -1):
            if self.events[index].event != "held":
                return self.events[index]
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


def is_ledger_file(name: str) -> bool:
    """True for ``ledger/YYYY-MM.jsonl`` (any ``ledger/*.jsonl``)."""
    return name.startswith("ledger/") and name.endswith(".jsonl")


def ledger_files(files: Iterable[str]) -> list[str]:
    """The ledger files among ``files`` (paths of a state), sorted."""
    return sorted(name for name in files if is_ledger_file(name))


def parse_ledger(files: Mapping[str, bytes]) -> tuple[list[LedgerEvent], list[Problem]]:
    """Every event of ``ledger/*.jsonl`` in (file, line) order, and lines that are unusable."""
    events: list[LedgerEvent] = []
    problems: list[Problem] = []
    for path in ledger_files(files):
        numbered = [
            (number, raw)
            for number, raw in enumerate(files[path].splitlines(), start=1)
            if raw.strip()
        ]
        for number, data in _decoded(numbered):
            event, problem = _parse_data(data, path, number)
            if event is not None:
                events.append(event)
            if problem is not None:
                problems.append(problem)
    return events, problems


def _decoded(numbered: list[tuple[int, bytes]]) -> list[tuple[int, Any]]:
    """(line number, decoded JSON or the exception) per line; one parse of the whole file when
    every line is valid JSON, the fast and usual case."""
    try:
        values = json.loads(b"[" + b",".join(raw for _, raw in numbered) + b"]")
        if isinstance(values, list) and len(values) == len(numbered):
            return [(number, value) for (number, _), value in zip(numbered, values, strict=True)]
    except ValueError:
        pass
    result: list[tuple[int, Any]] = []
    for number, raw in numbered:
        try:
            result.append((number, json.loads(raw)))
        except ValueError as exc:
            result.append((number, exc))
    return result


def parse_line(raw: bytes, path: str, number: int) -> tuple[LedgerEvent | None, Problem | None]:
    """One ledger line: its event, or the problem that makes it unusable."""
    try:
        data: Any = json.loads(raw)
    except ValueError as exc:
        data = exc
    return _parse_data(data, path, number)


def _parse_data(data: Any, path: str, number: int) -> tuple[LedgerEvent | None, Problem | None]:
    try:
        if isinstance(data, Exception):
            raise data
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        name = data.get("event")
        if name not in EVENTS or not isinstance(data.get("id"), str):
            raise ValueError(f"unknown event {name!r}")
        at = instant(data["at"])
        _check_fields(data)
        due = instant(data["due"]) if data.get("due") is not None else None
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        message = f"unusable ledger line ({exc}); it is kept and ignored: restore it from the branch history"
        return None, error(path, (number, 1), "ledger-line", message)
    return LedgerEvent(data["id"], name, at, data, path, number, due), None


@functools.lru_cache(maxsize=1 << 16)
def instant(text: str) -> datetime:
    """The UTC instant of an ISO 8601 time with an offset (cached: ledgers repeat them)."""
    if not isinstance(text, str):
        raise TypeError("a time must be a string")
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":  # the form the scheduler writes
        value = datetime.fromisoformat(text)
    else:
        value = times.to_utc(times.parse_datetime(text))
    if not FIRST_YEAR <= value.year <= LAST_YEAR or value.tzinfo is None:
        raise ValueError(f"{text!r} is out of range (years {FIRST_YEAR}-{LAST_YEAR})")
    return value


def _check_fields(data: Mapping[str, Any]) -> None:
    """Raise ValueError for a field of the wrong type, so no later step trips on it."""
    for key in ("channel", "video", "reason", "due", "not_before", "url", "actor"):
        value = data.get(key)
        if value is not None and type(value) is not str:
            raise ValueError(f"'{key}' must be a string")
    if "not_before" in data:
        instant(data["not_before"])
    attempt = data.get("attempt")
    if attempt is not None and (type(attempt) is not int or attempt < 0):
        raise ValueError("'attempt' must be a whole number")
    payload = data.get("payload")
    if payload is not None:
        if type(payload) is not dict:
            raise ValueError("'payload' must be an object")
        for key in ("params", "video"):
            if payload.get(key) is not None and type(payload[key]) is not dict:
                raise ValueError(f"'payload.{key}' must be an object")


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
        data = event.data
        channel = data.get("channel") or channel
        video = data.get("video") or video
        name = event.event
        if event.due is not None and (due is None or name == "claimed" or name == "released"):
            due = event.due
        if name == "held":
            held.add(str(data.get("reason") or "held"))
            continue
        if held:
            held.clear()
        state = name
        if name == "claimed":
            claim = event
            attempt = int(data.get("attempt") or attempt + 1)
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


def trailers(
    files: Mapping[str, bytes],
    known: Mapping[str, tuple[int, str]] | None = None,
    leave_out: Collection[str] = (),
) -> list[str]:
    """``Scheduler-Ledger: <file> <lines> <sha256>`` for every ledger file and summary (sorted)
    but those in ``leave_out``.

    ``known`` gives (lines, sha256) of files whose bytes are known to be unchanged, so they
    need not be read again.
    """
    known = known or {}
    result = []
    for path in sorted(name for name in files if vouched_path(name) and name not in leave_out):
        if path in known:
            lines, digest = known[path]
        else:
            content = files[path]
            lines, digest = content.count(b"\n"), hashlib.sha256(content).hexdigest()
        result.append(f"{TRAILER}: {path} {lines} {digest}")
    return result


def vouched_path(name: str) -> bool:
    """True for the files the trailers vouch for: ledger files and their summaries."""
    return is_ledger_file(name) or (name.startswith("summaries/") and name.endswith(".json"))


def tampered_files(
    files: Mapping[str, bytes],
    vouched: Mapping[str, tuple[int, str]],
    trusted: frozenset[str] = frozenset(),
) -> list[str]:
    """Ledger files whose first vouched lines no longer hash as the newest trailer says.

    ``trusted`` files are known to hold exactly the vouched lines (their summaries say so) and
    are not read. Summaries are not checked here: one that does not match is ignored.
    """
    bad = []
    for path, (count, digest) in sorted(vouched.items()):
        if path in trusted or not path.startswith("ledger/"):
            continue
        content = files.get(path, b"")
        prefix = b"".join(content.splitlines(keepends=True)[:count])
        if prefix.count(b"\n") != count or hashlib.sha256(prefix).hexdigest() != digest:
            bad.append(path)
    return bad
