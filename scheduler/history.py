"""The ledger as a command needs it: every record, or only those the schedule can meet (pure).

Views (``list``, ``status``, ``timeline``, ``show``) read the whole history. The tick and
``validate`` need far less of it: a publication of the files, or one a tick may still act on,
can only meet history through its id, its (channel, video) and the instants within its
channel's ``min_gap``. A :class:`Focus` names those; :func:`read_history` then returns

- the record of every id the files plan (waves and queue items);
- every record that is not final (a tick may still act on it);
- every record that went out or may go out (it keeps its channel's slots) and shares a
  (channel, video) with one of those, or lies within its channel's ``min_gap`` of one of them,
  or is due later than ``now - max_lateness - min_gap`` (where queues place their items);

and, from all of history, the newest event's time and each channel's latest ``not_before``.
Closed months are read from their summaries (:mod:`scheduler.summary`) without parsing their
events; only the records chosen are read from the ledger lines the summary points at. Whether
a month has a summary or not, the same records are chosen: summaries change the cost, never
the answer.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from scheduler import ledger, summary
from scheduler.ledger import LedgerEvent, Record
from scheduler.ports import StateSnapshot
from scheduler.problems import Problem

MICROS = 1_000_000


@dataclass
class Focus:
    """What of the history a schedule can meet (see the module's documentation).

    Instants are microseconds since the epoch. A live record of a (canonical) channel matters
    when it is due within the channel's ``min_gap`` (``widths``) of one of ``dues``, or later
    than the channel's ``windows`` instant.
    """

    ids: set[str]
    pairs: set[tuple[str, str]]
    dues: dict[str, list[int]]  # canonical channel -> sorted anchor dues
    canonical: Mapping[str, str]
    widths: Mapping[str, int]  # canonical channel -> min_gap
    windows: Mapping[str, int]  # canonical channel -> now - max_lateness - min_gap
    keys: set[str] = field(default_factory=set)  # summary slot keys of ``pairs``, any channel name

    def __post_init__(self) -> None:
        self._aliases: dict[str, list[str]] = {}
        for name, key in self.canonical.items():
            self._aliases.setdefault(key, []).append(name)
        for channel, video in self.pairs:
            self._add_keys(channel, video)

    def _add_keys(self, channel: str, video: str) -> None:
        for name in self._aliases.get(channel, [channel]):
            self.keys.add(f"{name}{summary.SEPARATOR}{video}")

    def add(self, channel: str | None, video: str | None, due: int | None) -> bool:
        """Take a record's (channel, video) and due as anchors too; True when that is new."""
        if channel is None:
            return False
        key = self.canonical.get(channel, channel)
        added = False
        if video is not None and (key, video) not in self.pairs:
            self.pairs.add((key, video))
            self._add_keys(key, video)
            added = True
        if due is not None and key in self.widths and not self.covers(key, due):
            bisect.insort(self.dues.setdefault(key, []), due)
            added = True
        return added

    def covers(self, channel: str, due: int) -> bool:
        """True when ``due`` matters on ``channel`` (see the class documentation)."""
        width = self.widths.get(channel)
        if width is None:
            return False
        if due > self.windows[channel]:
            return True
        anchors = self.dues.get(channel, ())
        index = bisect.bisect_right(anchors, due - width)
        return index < len(anchors) and anchors[index] < due + width

    def spans(self, low: int, high: int) -> list[tuple[int, int]]:
        """Every channel's open intervals that meet [low, high], merged."""
        found = []
        for channel, width in self.widths.items():
            window = self.windows[channel]
            if window < high:
                found.append((window, 1 << 62))
            anchors = self.dues.get(channel, ())
            first = bisect.bisect_right(anchors, low - width)
            last = bisect.bisect_left(anchors, high + width)
            found += [(due - width, due + width) for due in anchors[first:last]]
        return merge(found)

    def wants(self, pub_id: str, channel: Any, video: Any, due: Any, flags: int) -> bool:
        """True when a record with these facts must be read."""
        if pub_id in self.ids or not flags & summary.FINAL:
            return True
        if not flags & summary.LIVE or not isinstance(channel, str):
            return False
        key = self.canonical.get(channel, channel)
        if (key, video) in self.pairs:
            return True
        return isinstance(due, int) and self.covers(key, due)


def focus_for(
    intent: Iterable[tuple[str, str, str, datetime | None]],
    channels: Mapping[str, tuple[timedelta, timedelta]],
    canonical: Mapping[str, str],
    now: datetime,
) -> Focus:
    """The focus of a schedule: ``intent`` is (id, channel, video, due or None if not yet
    placed) per publication of the files; ``channels`` maps each channel to its (min_gap,
    max_lateness)."""
    ids: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    dues: dict[str, list[int]] = {}
    epoch, micro = summary.EPOCH, timedelta(microseconds=1)
    for pub_id, channel, video, due in intent:
        ids.add(pub_id)
        key = canonical.get(channel, channel)
        pairs.add((key, video))
        if due is not None and key in channels:
            dues.setdefault(key, []).append((due - epoch) // micro)
    for found in dues.values():
        found.sort()
    horizon = summary.micros(now)
    widths = {name: _micros(gap) for name, (gap, _) in channels.items()}
    windows = {
        name: horizon - _micros(gap + lateness) for name, (gap, lateness) in channels.items()
    }
    return Focus(ids, pairs, dues, canonical, widths, windows)


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint open intervals covering ``spans``."""
    result: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if result and lo < result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], hi))
        else:
            result.append((lo, hi))
    return result


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


class Summarized(NamedTuple):
    """What a usable summary says of its ledger file, and the summary's own blob."""

    blob: str  # of the ledger file
    lines: int
    sha256: str
    summary_blob: str

    def still(self, state: StateSnapshot, path: str) -> bool:
        """True when ``path`` and its summary in ``state`` are the very files summarized."""
        if path not in state.files or summary.summary_path(path) not in state.files:
            return False
        return (
            blob_of(state, path) == self.blob
            and blob_of(state, summary.summary_path(path)) == self.summary_blob
        )


@dataclass(frozen=True)
class History:
    """The records a command reads, and what it must know of the rest."""

    records: Mapping[str, Record]
    problems: tuple[Problem, ...] = ()
    newest_at: datetime | None = None
    latest_sent: Mapping[str, datetime] = field(default_factory=dict)
    known: Mapping[str, Summarized] = field(default_factory=dict)  # ledger file -> its summary
    verified: frozenset[str] = frozenset()  # ledger files their summaries vouch for, unread
    summarized: tuple[str, ...] = ()  # ledger files read from their summaries


def read_history(state: StateSnapshot, focus: Focus | None = None) -> History:
    """The history ``focus`` asks for (all of it when None), and the facts of the rest."""
    paths = ledger.ledger_files(state.files)
    summaries = _usable_summaries(state, paths)
    known = _summarized(state, summaries)
    verified = frozenset(path for path, facts in known.items() if _vouched(state, path, facts))
    if focus is None:
        summaries = {}
    parsed_paths = [path for path in paths if path not in summaries]
    events, problems = ledger.parse_ledger({path: state.files[path] for path in parsed_paths})
    parsed = ledger.fold_events(events)
    newest = max((event.at for event in events), default=None)
    sent = summary.latest_sent(parsed.values())
    if focus is None:
        return History(parsed, tuple(problems), newest, sent, known, verified)
    for header, _ in summaries.values():
        if header.newest_at is not None and (newest is None or header.newest_at > newest):
            newest = header.newest_at
        for channel, value in header.latest_sent.items():
            sent[channel] = max(sent.get(channel, value), value)
        for row in header.open:
            focus.add(row.channel, row.video, row.due)
    _anchor(parsed.values(), focus)
    chosen = _choose(state, summaries, parsed, focus)
    if chosen is None:  # an id in two ledger files (written by hand): read everything
        everything = ledger.parse_ledger({path: state.files[path] for path in paths})[0]
        all_records = ledger.fold_events(everything)
        _anchor(all_records.values(), focus)
        chosen = _choose(state, {}, all_records, focus)
        assert chosen is not None  # no summaries: nothing can be in two of them
    return History(chosen, tuple(problems), newest, sent, known, verified, tuple(summaries))


def _anchor(records: Iterable[Record], focus: Focus) -> None:
    """Take the records of planned ids, and those not final, as anchors of ``focus``."""
    for record in records:
        if record.id in focus.ids or not summary.flags_of(record) & summary.FINAL:
            focus.add(record.channel, record.video, _due(record))


def _due(record: Record) -> int | None:
    return summary.micros(record.due) if record.due is not None else None


def _wanted(record: Record, focus: Focus) -> bool:
    return focus.wants(
        record.id, record.channel, record.video, _due(record), summary.flags_of(record)
    )


def _choose(
    state: StateSnapshot,
    summaries: Mapping[str, tuple[summary.Header, bytes]],
    parsed: Mapping[str, Record],
    focus: Focus,
) -> dict[str, Record] | None:
    """The records ``focus`` wants, anchors grown until none is new; None on an id in two files."""
    while True:
        picked: dict[str, tuple[str, list[int]]] = {}
        seen = set(map(hash, parsed))
        for path, (header, content) in summaries.items():
            columns = summary.read_columns(content, header.count)
            if columns is None:
                return None
            hashes = set(map(hash, columns.ids))
            if len(hashes) < len(columns.ids) or not seen.isdisjoint(hashes):
                return None
            seen |= hashes
            try:
                for row in _wanted_rows(columns, header, focus):
                    picked[row.id] = (path, row.lines)
            except ValueError:  # a summary the scheduler did not write: read every file
                return None
        chosen = {pub_id: r for pub_id, r in parsed.items() if _wanted(r, focus)}
        chosen.update(_materialize(state, picked))
        grown = False
        for record in chosen.values():
            if record.id in focus.ids and focus.add(record.channel, record.video, _due(record)):
                grown = True
        if not grown:
            return chosen


def _wanted_rows(
    columns: summary.Columns, header: summary.Header, focus: Focus
) -> Iterator[summary.Row]:
    """The rows of one summary that ``focus`` wants, decoding only the likely ones."""
    ids, keys, dues = columns.ids, columns.keys, columns.dues
    maybe: set[int] = set()
    wanted_ids = focus.ids.intersection(ids)
    wanted_ids.update(row.id for row in header.open)
    if wanted_ids:
        maybe.update(index for index, pub_id in enumerate(ids) if pub_id in wanted_ids)
    shared = focus.keys.intersection(keys)
    shared.discard("")
    if shared:
        maybe.update(index for index, key in enumerate(keys) if key in shared)
    first = bisect.bisect_right(dues, summary.NO_DUE)
    if first < len(dues):
        for lo, hi in focus.spans(dues[first], dues[-1]):
            maybe.update(range(bisect.bisect_right(dues, lo), bisect.bisect_left(dues, hi)))
    for index in sorted(maybe):
        row = columns.row(index)
        if focus.wants(row.id, row.channel, row.video, row.due, row.flags):
            yield row


def _materialize(
    state: StateSnapshot, picked: Mapping[str, tuple[str, list[int]]]
) -> dict[str, Record]:
    """The records of ``picked`` (id -> (ledger file, line numbers)), read from those lines."""
    by_file: dict[str, list[tuple[str, list[int]]]] = {}
    for pub_id, (path, numbers) in picked.items():
        by_file.setdefault(path, []).append((pub_id, numbers))
    result: dict[str, Record] = {}
    for path, wanted in by_file.items():
        lines = state.files[path].splitlines()
        for pub_id, numbers in wanted:
            events = [_event(lines, path, number) for number in numbers]
            result[pub_id] = ledger.fold_one(pub_id, events)
    return result


def _event(lines: list[bytes], path: str, number: int) -> LedgerEvent:
    event, problem = ledger.parse_line(lines[number - 1], path, number)
    if event is None:  # the summary vouched for this line: it cannot happen unless forged
        raise ValueError(problem.message if problem else f"{path}:{number}")
    return event


def _usable_summaries(
    state: StateSnapshot, paths: list[str]
) -> dict[str, tuple[summary.Header, bytes]]:
    """Ledger file -> (header, summary bytes) for summaries that match their file and trailer."""
    result = {}
    for path in paths:
        name = summary.summary_path(path)
        content = state.files.get(name)
        if content is None:
            continue
        vouched = state.trailers.get(name)
        if vouched is None or vouched != (content.count(b"\n"), _sha256(content)):
            continue
        header = summary.read_header(content)
        if header is None or header.file != path or header.blob != blob_of(state, path):
            continue
        result[path] = (header, content)
    return result


def summarized(state: StateSnapshot) -> dict[str, Summarized]:
    """Ledger file -> what its usable summary says, for every summarized month of ``state``."""
    return _summarized(state, _usable_summaries(state, ledger.ledger_files(state.files)))


def _summarized(
    state: StateSnapshot, summaries: Mapping[str, tuple[summary.Header, bytes]]
) -> dict[str, Summarized]:
    return {
        path: Summarized(
            header.blob, header.lines, header.sha256, blob_of(state, summary.summary_path(path))
        )
        for path, (header, _) in summaries.items()
    }


def _vouched(state: StateSnapshot, path: str, facts: Summarized) -> bool:
    """True when the newest trailer vouches for the very lines the summary was made from."""
    return state.trailers.get(path) == (facts.lines, facts.sha256)


def blob_of(state: StateSnapshot, path: str) -> str:
    """The git blob id of a state file (from the tree when known, else from its bytes)."""
    known = state.blobs.get(path)
    return known if known is not None else summary.blob_id(bytes(state.files[path]))


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
