"""Per-month ledger summaries: one compact row per publication of a closed month (pure).

A ledger file ``ledger/YYYY-MM.jsonl`` whose month ended more than a day ago gets a summary
``summaries/YYYY-MM.json`` on the state branch, written by the scheduler in the same commit as
the ledger lines it covers. A summary names the git blob of the ledger file it was computed
from, so it is used only while the file is byte for byte the same; a file that changed since
(a late confirmation, a retry) is read whole until the next commit refreshes its summary. Each
summary is vouched for by a ``Scheduler-Ledger:`` trailer like the ledger files; a summary that
does not match its trailer, or that cannot be read, is ignored, never trusted.

Lines of text, built so that a command can find the few rows it needs without decoding the
others:

1. the header, one JSON object::

       {"version": 1, "file": "ledger/2030-11.jsonl", "blob": "<git blob id>",
        "lines": 1234, "sha256": "<sha256 of the file>", "newest_at": "2030-12-01T09:00:00Z",
        "latest_sent": {"<channel>": "<latest not_before sent>"}, "open": [<rows>],
        "count": <rows>}

   ``open`` holds the rows of publications a later tick may still act on (not final);
2. every row's id, separated by tabs;
3. every row's ``<channel>\x1f<video>`` where the record still keeps its channel's slots (else
   empty), separated by tabs;
4. every row's due in microseconds since the epoch where it keeps its channel's slots (else
   ``-2**62``), separated by tabs; rows are sorted by this column;
5. then one line per row: its flags, a tab, and the numbers of its ledger lines separated by
   commas. ``flags`` has bit 1 set when the record is final, bit 2 when it still keeps its
   channel's slots (see :func:`scheduler.planning.blocks_slots`).

Rows in ``open`` are JSON arrays ``[id, channel, video, due, state, flags, [line numbers]]``
with ``due`` in microseconds (or null).

Ids, channels and videos with a tab, a newline or ``\x1f`` in them (only a hand-written line
can have one) leave the month without a summary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from scheduler import ledger, times
from scheduler.ledger import Record

VERSION = 1
DIRECTORY = "summaries/"
CLOSED_AFTER = timedelta(days=1)  # a month is summarized once it ended this long ago
FINAL, LIVE = 1, 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Row(NamedTuple):
    """What a summary keeps of one publication id."""

    id: str
    channel: str | None
    video: str | None
    due: int | None  # microseconds since the epoch
    state: str | None
    flags: int
    lines: list[int]

    @property
    def final(self) -> bool:
        """True when no tick may act on this publication without a human."""
        return bool(self.flags & FINAL)

    @property
    def live(self) -> bool:
        """True when it went out or may go out (it keeps its channel's slots)."""
        return bool(self.flags & LIVE)


@dataclass(frozen=True)
class Header:
    """The first line of a summary."""

    file: str
    blob: str
    lines: int
    sha256: str
    newest_at: datetime | None
    latest_sent: Mapping[str, datetime]
    open: tuple[Row, ...]
    count: int


def micros(value: datetime) -> int:
    """``value`` as whole microseconds since the epoch."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def summary_path(ledger_file: str) -> str:
    """``ledger/2030-11.jsonl`` -> ``summaries/2030-11.json``."""
    stem = ledger_file.removeprefix("ledger/").removesuffix(".jsonl")
    return f"{DIRECTORY}{stem}.json"


def blob_id(content: bytes) -> str:
    """The git blob id of ``content`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def month_closed(ledger_file: str, now: datetime) -> bool:
    """True when the month of ``ledger/YYYY-MM.jsonl`` ended at least a day before ``now``."""
    stem = ledger_file.removeprefix("ledger/").removesuffix(".jsonl")
    try:
        year, month = (int(part) for part in stem.split("-"))
        if not 1 <= month <= 12:
            return False
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    except ValueError:
        return False
    return end + CLOSED_AFTER <= now


def latest_sent(records: Iterable[Record]) -> dict[str, datetime]:
    """Channel -> the latest ``not_before`` among publications that went out (or may have)."""
    result: dict[str, datetime] = {}
    for record in records:
        sent = sent_not_before(record)
        if sent is not None and record.channel is not None:
            previous = result.get(record.channel)
            result[record.channel] = sent if previous is None else max(previous, sent)
    return result


def sent_not_before(record: Record) -> datetime | None:
    """The ``not_before`` of a publication that went out (or may have), for spacing; its due
    when the claim carries no readable one (a line written by hand)."""
    if (
        record.state not in ("claimed", "dispatched", "published", "unknown")
        or record.claim is None
    ):
        return None
    value = record.claim.get("not_before")
    try:
        return ledger.instant(value) if isinstance(value, str) else record.due
    except (ValueError, TypeError):
        return record.due


def flags_of(record: Record) -> int:
    """FINAL and LIVE bits of a record as the files cannot change them (ledger-only).

    FINAL means no tick acts on it again: a claim with no result is not final, since a tick
    marks it ``unknown`` once it is stale.
    """
    final = record.is_final() and record.state != "claimed"
    live = not (final and record.delivered_nothing())
    return (FINAL if final else 0) | (LIVE if live else 0)


def row_of(record: Record) -> Row:
    """The summary row of one record."""
    return Row(
        record.id,
        record.channel,
        record.video,
        micros(record.due) if record.due is not None else None,
        record.state,
        flags_of(record),
        [event.line for event in record.events],
    )


def build(ledger_file: str, content: bytes) -> bytes | None:
    """The summary of one ledger file, or None when a line of it cannot be read."""
    events, problems = ledger.parse_ledger({ledger_file: content})
    if problems:
        return None
    records = ledger.fold_events(events)
    rows = sorted((row_of(record) for record in records.values()), key=slot_due)
    if any(_unsafe(text) for row in rows for text in (row.id, row.channel, row.video) if text):
        return None
    newest = max((event.at for event in events), default=None)
    header = {
        "version": VERSION,
        "file": ledger_file,
        "blob": blob_id(content),
        "lines": content.count(b"\n"),
        "sha256": hashlib.sha256(content).hexdigest(),
        "newest_at": times.format_utc(newest) if newest is not None else None,
        "latest_sent": {
            channel: times.format_utc(value)
            for channel, value in sorted(latest_sent(records.values()).items())
        },
        "open": [list(row) for row in rows if not row.final],
        "count": len(rows),
    }
    lines = [
        _json(header),
        "\t".join(row.id for row in rows),
        "\t".join(slot_key(row) for row in rows),
        "\t".join(str(slot_due(row)) for row in rows),
        *(f"{row.flags}\t{','.join(map(str, row.lines))}" for row in rows),
    ]
    return ("\n".join(lines) + "\n").encode()


NO_DUE = -(1 << 62)
SEPARATOR = "\x1f"


def slot_key(row: Row) -> str:
    """``<channel>\x1f<video>`` of a row that keeps its channel's slots, else ``""``."""
    if not row.live or not row.channel or not row.video:
        return ""
    return f"{row.channel}{SEPARATOR}{row.video}"


def slot_due(row: Row) -> int:
    """The due of a row that keeps its channel's slots, else :data:`NO_DUE`."""
    return row.due if row.live and row.due is not None and row.channel else NO_DUE


def _unsafe(text: str) -> bool:
    return "\t" in text or "\n" in text or SEPARATOR in text


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_header(content: bytes) -> Header | None:
    """The header of a summary, or None when it is not one this version can use."""
    first, _, _ = content.partition(b"\n")
    try:
        data = json.loads(first)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        newest = data.get("newest_at")
        return Header(
            file=str(data["file"]),
            blob=str(data["blob"]),
            lines=int(data["lines"]),
            sha256=str(data["sha256"]),
            newest_at=ledger.instant(newest) if newest is not None else None,
            latest_sent={str(k): ledger.instant(v) for k, v in data["latest_sent"].items()},
            open=tuple(parse_row(value) for value in data["open"]),
            count=int(data["count"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class Columns:
    """The ids, slot keys and slot dues of a summary's rows, and the rows' lines (undecoded)."""

    ids: list[str]
    keys: list[str]
    dues: list[int]
    rows: list[bytes]

    def row(self, index: int) -> Row:
        """Row ``index``: its id, flags and lines, and the channel, video and due of a row that
        keeps its channel's slots (None for the others: only their id can matter)."""
        flags, _, numbers = self.rows[index].partition(b"\t")
        channel, _, video = self.keys[index].partition(SEPARATOR)
        due = self.dues[index]
        return Row(
            self.ids[index],
            channel or None,
            video or None,
            None if due == NO_DUE else due,
            None,
            int(flags),
            [int(number) for number in numbers.split(b",")],
        )


def read_columns(content: bytes, count: int) -> Columns | None:
    """The columns of a summary of ``count`` rows, or None when they do not add up."""
    parts = content.split(b"\n")
    if len(parts) < 5 + count:
        return None
    if count == 0:
        return Columns([], [], [], [])
    try:
        ids = parts[1].decode().split("\t")
        keys = parts[2].decode().split("\t")
        dues = list(map(int, parts[3].split(b"\t")))
    except ValueError:
        return None
    if not len(ids) == len(keys) == len(dues) == count:
        return None
    return Columns(ids, keys, dues, parts[4 : 4 + count])


def parse_row(value: Any) -> Row:
    """A row from its JSON array; TypeError or ValueError when it is not one."""
    pub_id, channel, video, due, state, flags, lines = value
    if not isinstance(pub_id, str) or not isinstance(lines, list):
        raise TypeError("not a summary row")
    if due is not None and not isinstance(due, int):
        raise TypeError("not a summary row")
    return Row(pub_id, channel, video, due, state, int(flags), lines)
