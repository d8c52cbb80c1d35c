"""Per-month ledger summaries: what ``summary.build`` writes and refuses, how a summary is read
back, when a month counts as closed, and which summaries ``save_state`` writes and vouches for.

The summary of a month must describe its ledger file exactly (every publication, its events'
lines, its due, whether a tick may still act on it), or a command that trusts it would act on
a history that is not the ledger's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import ledger, summary
from scheduler.history import read_history
from scheduler.memory import MemoryStateStore, parse_trailers
from scheduler.ports import StateSnapshot
from scheduler.tick import save_state
from tests.gitrepos import git_bytes

OCT = "ledger/2030-10.jsonl"
NOV = "ledger/2030-11.jsonl"
DEC = "ledger/2030-12.jsonl"


def at(text: str) -> datetime:
    """The UTC instant ``2030-10-04T17:00:00Z``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def stamp(moment: datetime) -> str:
    """``moment`` as the ledger writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- ledger lines

# Event sequences of one publication, as the scheduler writes them: (event, minutes after due,
# further keys). ``released`` moves the due one day later.
PATTERNS: dict[str, list[tuple[str, int, dict[str, Any]]]] = {
    "claimed": [("claimed", -1, {"attempt": 1})],
    "dispatched": [("claimed", -1, {"attempt": 1}), ("dispatched", 0, {"attempt": 1})],
    "published": [
        ("claimed", -1, {"attempt": 1}),
        ("dispatched", 0, {"attempt": 1}),
        ("published", 5, {"url": "https://videos.example.com/p"}),
    ],
    "unknown": [("claimed", -1, {"attempt": 1}), ("unknown", 1, {"reason": "timeout"})],
    "rejected": [("claimed", -1, {"attempt": 1}), ("failed", 0, {"reason": "rejected"})],
    "retryable": [
        ("claimed", -1, {"attempt": 1}),
        ("failed", 0, {"reason": "refused", "retryable": True, "attempt": 1}),
    ],
    "retries-used-up": [
        ("claimed", -1, {"attempt": 3}),
        ("failed", 0, {"reason": "refused", "retryable": True, "attempt": 3}),
    ],
    "auth": [("failed", 0, {"reason": "auth"})],
    "missed": [("missed", 70, {"reason": "late"})],
    "held": [("held", -10, {"reason": "paused"})],
    "publish_failed": [
        ("claimed", -1, {"attempt": 1}),
        ("dispatched", 0, {"attempt": 1}),
        ("publish_failed", 9, {"reason": "expired"}),
    ],
    "released": [("missed", 70, {"reason": "late"}), ("released", 180, {"actor": "jane"})],
    "released-then-sent": [
        ("missed", 70, {"reason": "late"}),
        ("released", 180, {"actor": "jane"}),
        ("claimed", 1439, {"attempt": 1}),
        ("dispatched", 1440, {"attempt": 1}),
    ],
}


def lines_of(
    pub_id: str, pattern: str, due: datetime, *, channel: str = "yt-main", video: str = "clip"
) -> list[dict[str, Any]]:
    """The ledger lines of one publication following ``pattern``."""
    rows = []
    current = due
    for name, minutes, extra in PATTERNS[pattern]:
        if name == "released":
            current = due + timedelta(days=1)
        row: dict[str, Any] = {
            "id": pub_id,
            "event": name,
            "at": stamp(due + timedelta(minutes=minutes)),
            "due": stamp(current),
            "channel": channel,
            "video": video,
            **extra,
        }
        if name == "claimed":
            row["not_before"] = stamp(current)
        rows.append(row)
    return rows


def ledger_file(*publications: list[dict[str, Any]]) -> bytes:
    """The bytes of a ledger file holding these publications' lines, oldest first."""
    rows = sorted((row for pub in publications for row in pub), key=lambda row: row["at"])
    return ledger.encode_lines(rows)


def built(path: str, content: bytes) -> bytes:
    """``summary.build``, which must not refuse here."""
    result = summary.build(path, content)
    assert result is not None, "summary.build refused a well-formed ledger file"
    return result


def decoded_rows(content: bytes) -> list[summary.Row]:
    """Every row of a summary, read back through its header and columns."""
    header = summary.read_header(content)
    assert header is not None
    columns = summary.read_columns(content, header.count)
    assert columns is not None
    return [columns.row(index) for index in range(header.count)]


# --------------------------------------------------------------------------- small functions


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"one line\n", id="one-line"),
        pytest.param(b'{"id":"a/b","event":"held"}\n' * 3, id="ledger-lines"),
        pytest.param(bytes(range(256)), id="binary"),
        pytest.param("caf\u00e9 \U0001f3ac\n".encode(), id="utf-8"),
    ],
)
def test_blob_id_is_what_git_hash_object_prints(tmp_path: Path, content: bytes) -> None:
    expected = git_bytes(tmp_path, "hash-object", "--no-filters", "--stdin", input=content)
    assert summary.blob_id(content) == expected.decode().strip()


def test_the_summary_of_a_ledger_month_is_named_after_it() -> None:
    assert summary.summary_path("ledger/2030-11.jsonl") == "summaries/2030-11.json"


@pytest.mark.parametrize(
    ("path", "now", "closed"),
    [
        pytest.param(NOV, "2030-11-30T12:00:00Z", False, id="month-not-over"),
        pytest.param(NOV, "2030-12-01T00:00:00Z", False, id="month-just-over"),
        pytest.param(NOV, "2030-12-01T23:59:59.999999Z", False, id="a-microsecond-short-of-a-day"),
        pytest.param(NOV, "2030-12-02T00:00:00Z", True, id="one-day-after-its-end"),
        pytest.param(NOV, "2031-06-01T00:00:00Z", True, id="months-later"),
        pytest.param(DEC, "2031-01-01T23:59:59Z", False, id="december-one-second-short"),
        pytest.param(DEC, "2031-01-02T00:00:00Z", True, id="december-closes-in-january"),
        pytest.param("ledger/2031-02.jsonl", "2031-03-02T00:00:00Z", True, id="february"),
        pytest.param("ledger/2031-02.jsonl", "2031-03-01T12:00:00Z", False, id="february-short"),
        pytest.param(NOV, "2030-10-15T00:00:00Z", False, id="a-clock-before-the-month"),
        pytest.param("ledger/notes.jsonl", "2040-01-01T00:00:00Z", False, id="not-a-month"),
        pytest.param("ledger/2030-1x.jsonl", "2040-01-01T00:00:00Z", False, id="garbled-month"),
        pytest.param("ledger/2030-13.jsonl", "2040-01-01T00:00:00Z", False, id="month-13"),
        pytest.param("ledger/2030-00.jsonl", "2040-01-01T00:00:00Z", False, id="month-00"),
    ],
)
def test_a_month_is_closed_one_day_after_its_end(path: str, now: str, closed: bool) -> None:
    assert summary.month_closed(path, at(now)) is closed


# --------------------------------------------------------------------------- build


def test_the_header_names_the_file_its_blob_its_lines_and_their_hash() -> None:
    content = ledger_file(
        lines_of("a/yt-main", "published", at("2030-10-04T17:00:00Z")),
        lines_of("b/ig-fr", "dispatched", at("2030-10-09T08:00:00Z"), channel="ig-fr"),
        lines_of("c/ig-fr", "missed", at("2030-10-20T08:00:00Z"), channel="ig-fr"),
    )
    header = summary.read_header(built(OCT, content))
    assert header is not None
    assert header.file == OCT
    assert header.blob == summary.blob_id(content)
    assert header.lines == 6 == content.count(b"\n")
    assert header.sha256 == hashlib.sha256(content).hexdigest()
    assert header.newest_at == at("2030-10-20T09:10:00Z")
    assert header.latest_sent == {
        "yt-main": at("2030-10-04T17:00:00Z"),
        "ig-fr": at("2030-10-09T08:00:00Z"),
    }
    assert header.count == 3
    assert header.open == ()


def essentials(row: summary.Row) -> tuple[Any, ...]:
    """What a summary row must say: id, final, live, its lines, and for a live row (one that
    keeps its channel's slots) its channel, video and due."""
    where = (row.channel, row.video, row.due) if row.live else None
    return row.id, row.final, row.live, list(row.lines), where


def test_rows_keep_each_publication_and_the_lines_of_its_events() -> None:
    due = at("2030-10-04T17:00:00Z")
    content = ledger_file(
        lines_of("a/yt-main", "published", due),
        lines_of("b/yt-main", "missed", due + timedelta(hours=5), video="other"),
    )
    rows = {row.id: essentials(row) for row in decoded_rows(built(OCT, content))}
    assert rows == {
        "a/yt-main": ("a/yt-main", True, True, [1, 2, 3], ("yt-main", "clip", summary.micros(due))),
        "b/yt-main": ("b/yt-main", True, False, [4], None),
    }


@pytest.mark.parametrize(
    ("line", "why"),
    [
        pytest.param(b"this is no JSON\n", "unreadable", id="not-json"),
        pytest.param(b'{"id":"x/yt-main","event":"exploded","at":"2030-10-05T00:00:00Z"}\n',
                     "unreadable", id="unknown-event"),
        pytest.param(b'{"id":"x/yt-main","event":"held","at":"yesterday"}\n', "unreadable",
                     id="bad-time"),
        pytest.param(b'{"id":"x/yt-main","event":"held","at":"2030-10-05T00:00:00Z","channel":7}\n',
                     "unreadable", id="channel-not-a-string"),
        pytest.param(b'{"id":"x\\t/yt-main","event":"held","at":"2030-10-05T00:00:00Z"}\n',
                     "tab", id="tab-in-id"),
        pytest.param(b'{"id":"x/yt-main","event":"held","at":"2030-10-05T00:00:00Z","video":"a\\tb"}\n',
                     "tab", id="tab-in-video"),
        pytest.param(b'{"id":"x/yt-main","event":"held","at":"2030-10-05T00:00:00Z","channel":"a\\u001fb"}\n',
                     "separator", id="unit-separator-in-channel"),
        pytest.param(b'{"id":"x/yt\\nmain","event":"held","at":"2030-10-05T00:00:00Z"}\n',
                     "newline", id="newline-in-id"),
    ],
)  # fmt: skip
def test_a_month_with_a_line_that_cannot_be_summarized_gets_no_summary(
    line: bytes, why: str
) -> None:
    good = ledger_file(lines_of("a/yt-main", "published", at("2030-10-04T17:00:00Z")))
    assert summary.build(OCT, good) is not None
    assert summary.build(OCT, good + line) is None, why
    assert summary.build(OCT, line + good) is None, why


def test_an_empty_month_has_a_summary_of_no_rows() -> None:
    content = built(OCT, b"")
    header = summary.read_header(content)
    assert header is not None and header.count == 0 and header.newest_at is None
    assert decoded_rows(content) == []


# Whether a tick may still act on a publication (``open``) and whether it holds its channel's
# slots (``live``), by the events the ledger has of it.
@pytest.mark.parametrize(
    ("pattern", "open_", "live"),
    [
        pytest.param("claimed", True, True, id="claimed-a-tick-marks-it-unknown-when-stale"),
        pytest.param("dispatched", False, True, id="dispatched"),
        pytest.param("published", False, True, id="published"),
        pytest.param("unknown", False, True, id="unknown"),
        pytest.param("rejected", False, False, id="failed-rejected"),
        pytest.param("retryable", True, True, id="failed-retryable-attempts-left"),
        pytest.param("retries-used-up", False, False, id="failed-retryable-no-attempt-left"),
        pytest.param("auth", True, True, id="failed-auth"),
        pytest.param("missed", False, False, id="missed"),
        pytest.param("held", True, True, id="held-only"),
        pytest.param("publish_failed", False, False, id="publish-failed"),
        pytest.param("released", True, True, id="released"),
        pytest.param("released-then-sent", False, True, id="released-then-sent"),
    ],
)
def test_open_rows_are_those_a_tick_may_still_act_on(pattern: str, open_: bool, live: bool) -> None:
    due = at("2030-10-04T17:00:00Z")
    content = built(OCT, ledger_file(lines_of("a/yt-main", pattern, due)))
    header = summary.read_header(content)
    assert header is not None
    assert [row.id for row in header.open] == (["a/yt-main"] if open_ else [])
    (row,) = decoded_rows(content)
    assert row.live is live
    assert row.final is not open_
    columns = summary.read_columns(content, 1)
    assert columns is not None
    expected_key = "yt-main\x1fclip" if live else ""
    assert columns.keys == [expected_key]
    assert columns.dues == [row.due if live else summary.NO_DUE]


@st.composite
def ledger_contents(draw: st.DrawFn) -> bytes:
    """A ledger month of a few publications, each following one of :data:`PATTERNS`."""
    count = draw(st.integers(0, 8))
    publications = []
    for number in range(count):
        pattern = draw(st.sampled_from(sorted(PATTERNS)))
        channel = draw(st.sampled_from(["yt-main", "ig-fr", "youtube-old"]))
        video = draw(st.sampled_from(["clip", "teaser", "recap"]))
        due = at("2030-10-01T00:00:00Z") + timedelta(minutes=draw(st.integers(0, 30 * 24 * 4)) * 15)
        publications.append(
            lines_of(f"w{number}/{channel}", pattern, due, channel=channel, video=video)
        )
    return ledger_file(*publications)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(ledger_contents())
def test_a_summary_reads_back_as_the_ledger_it_was_built_from(content: bytes) -> None:
    events, problems = ledger.parse_ledger({OCT: content})
    assert problems == []
    records = ledger.fold_events(events)
    text = built(OCT, content)
    header = summary.read_header(text)
    assert header is not None
    assert header.count == len(records)
    assert header.newest_at == max((event.at for event in events), default=None)
    assert dict(header.latest_sent) == summary.latest_sent(records.values())
    rows = decoded_rows(text)
    assert {row.id: essentials(row) for row in rows} == {
        pub_id: essentials(summary.row_of(record)) for pub_id, record in records.items()
    }
    columns = summary.read_columns(text, header.count)
    assert columns is not None
    assert columns.ids == [row.id for row in rows]
    assert columns.dues == sorted(columns.dues)
    assert columns.keys == [summary.slot_key(row) for row in rows]
    assert header.open == tuple(summary.row_of(records[row.id]) for row in rows if not row.final)


# --------------------------------------------------------------------------- reading back


def valid_summary() -> bytes:
    """The summary of a small, well-formed month."""
    return built(OCT, ledger_file(lines_of("a/yt-main", "published", at("2030-10-04T17:00:00Z"))))


def with_header(change: Mapping[str, Any]) -> bytes:
    """:func:`valid_summary` with its header's keys changed (``None`` removes a key)."""
    first, _, rest = valid_summary().partition(b"\n")
    header = {**json.loads(first), **change}
    header = {key: value for key, value in header.items() if value is not None}
    return json.dumps(header).encode() + b"\n" + rest


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(with_header({"version": 2}), id="a-later-version"),
        pytest.param(with_header({"version": "1"}), id="version-as-text"),
        pytest.param(with_header({"version": None}), id="no-version"),
        pytest.param(with_header({"blob": None}), id="no-blob"),
        pytest.param(with_header({"lines": "many"}), id="lines-not-a-number"),
        pytest.param(with_header({"newest_at": "last tuesday"}), id="newest-not-a-time"),
        pytest.param(with_header({"latest_sent": ["yt-main"]}), id="latest-sent-not-a-map"),
        pytest.param(with_header({"open": [["only", "three", "fields"]]}), id="bad-open-row"),
        pytest.param(with_header({"count": None}), id="no-count"),
        pytest.param(b"", id="empty"),
        pytest.param(b"garbage\n\x00\xff", id="garbage"),
        pytest.param(b"[1, 2, 3]\n", id="a-json-array"),
        pytest.param(b"\xff\xfe{}\n", id="not-utf-8"),
    ],
)
def test_a_header_this_version_cannot_use_reads_as_none(content: bytes) -> None:
    assert summary.read_header(content) is None


def test_the_valid_header_reads() -> None:
    assert summary.read_header(valid_summary()) is not None


@pytest.mark.parametrize(
    ("cut", "count"),
    [
        pytest.param(lambda text: text.rsplit(b"\n", 2)[0] + b"\n", 1, id="row-missing"),
        pytest.param(lambda text: text, 2, id="count-larger-than-columns"),
        pytest.param(lambda text: text.replace(b"a/yt-main\n", b"a/yt-main\tb\n", 1), 1,
                     id="one-id-too-many"),
        pytest.param(lambda text: text.replace(b"\n", b"\nx", 3), 1, id="columns-garbled"),
    ],
)  # fmt: skip
def test_columns_that_do_not_add_up_read_as_none(cut: Any, count: int) -> None:
    assert summary.read_columns(cut(valid_summary()), count) is None


# --------------------------------------------------------------------------- save_state


@dataclass
class WatchedStore:
    """A :class:`MemoryStateStore` that keeps what each commit wrote."""

    inner: MemoryStateStore = field(default_factory=MemoryStateStore)
    written: list[dict[str, bytes]] = field(default_factory=list)

    def load(self) -> StateSnapshot:
        """The current state."""
        return self.inner.load()

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Commit, keeping what was written."""
        self.written.append(dict(files))
        return self.inner.save(base, files, message)


def history_files() -> dict[str, bytes]:
    """Ledger months from September to December 2030, one sent publication each."""
    return {
        f"ledger/2030-{month:02d}.jsonl": ledger_file(
            lines_of(f"m{month}/yt-main", "published", at(f"2030-{month:02d}-04T17:00:00Z"))
        )
        for month in (9, 10, 11, 12)
    }


def vouched_as_written(state: StateSnapshot) -> dict[str, tuple[int, str]]:
    """(lines, sha256) of every ledger file and summary of ``state``, as a trailer says them."""
    return {
        path: (state.files[path].count(b"\n"), hashlib.sha256(state.files[path]).hexdigest())
        for path in state.files
        if ledger.vouched_path(path)
    }


@pytest.mark.parametrize(
    ("now", "summarized"),
    [
        pytest.param(None, [], id="no-now-no-summary"),
        pytest.param("2030-10-01T23:00:00Z", [], id="september-not-closed-yet"),
        pytest.param("2030-10-02T00:00:00Z", ["09"], id="september-closed"),
        pytest.param("2030-12-02T00:00:00Z", ["09", "10", "11"], id="three-closed"),
        pytest.param("2031-03-01T00:00:00Z", ["09", "10", "11", "12"], id="all-closed"),
    ],
)
def test_save_state_writes_summaries_for_closed_months_only(
    now: str | None, summarized: list[str]
) -> None:
    store = MemoryStateStore()
    state = save_state(store, store.load(), history_files(), "seed", now=at(now) if now else None)
    names = sorted(path for path in state.files if path.startswith("summaries/"))
    assert names == [f"summaries/2030-{month}.json" for month in summarized]
    for name in names:
        ledger_path = name.replace("summaries/", "ledger/").replace(".json", ".jsonl")
        header = summary.read_header(state.files[name])
        assert header is not None and header.blob == summary.blob_id(state.files[ledger_path])


def test_the_commit_that_writes_a_summary_vouches_for_it() -> None:
    """A summary is trusted only through its trailer: the commit that writes it must carry the
    trailer of the very bytes it writes, or the summary goes unused (and a refreshed one is
    vouched by the stale bytes it replaced)."""
    store = MemoryStateStore()
    state = save_state(store, store.load(), history_files(), "seed", now=at("2030-12-02T00:00:00Z"))
    assert "summaries/2030-10.json" in state.files
    _, message = store.commits[-1]
    assert parse_trailers(message) == vouched_as_written(state)


def test_a_refreshed_summary_is_vouched_for_by_the_commit_that_refreshes_it() -> None:
    store = MemoryStateStore()
    files = history_files()
    state = save_state(store, store.load(), files, "seed", now=at("2030-12-02T00:00:00Z"))
    late = ledger.encode_lines(
        [{"id": "m10/yt-main", "event": "published", "at": "2030-12-03T09:00:00Z"}]
    )
    changes = {OCT: files[OCT] + late}
    state = save_state(
        store, state, changes, "record", read_history(state), now=at("2030-12-03T09:00:00Z")
    )
    header = summary.read_header(state.files["summaries/2030-10.json"])
    assert header is not None and header.blob == summary.blob_id(changes[OCT])
    _, message = store.commits[-1]
    assert parse_trailers(message) == vouched_as_written(state)


def test_a_summary_is_rewritten_only_when_its_month_changed() -> None:
    store = WatchedStore()
    files = history_files()
    first = save_state(store, store.load(), files, "seed", now=at("2030-12-02T00:00:00Z"))
    second = save_state(
        store, first, {"control.yaml": b"paused: false\n"}, "control", read_history(first)
    )
    third = save_state(
        store,
        second,
        {DEC: files[DEC] + files[DEC]},
        "a december line",
        read_history(second),
        now=at("2030-12-05T00:00:00Z"),
    )
    assert sorted(store.written[-1]) == [DEC]
    fourth = save_state(
        store,
        third,
        {NOV: files[NOV] + b'{"id":"m11/yt-main","event":"held","at":"2030-12-05T00:00:00Z"}\n'},
        "a november line",
        read_history(third),
        now=at("2030-12-05T00:00:00Z"),
    )
    assert sorted(store.written[-1]) == [NOV, "summaries/2030-11.json"]
    assert read_history(fourth).known.keys() >= {OCT, "ledger/2030-09.jsonl"}


def test_a_month_with_an_unreadable_line_is_saved_without_a_summary() -> None:
    store = MemoryStateStore()
    files = {**history_files(), OCT: history_files()[OCT] + b"{broken\n"}
    state = save_state(store, store.load(), files, "seed", now=at("2030-12-02T00:00:00Z"))
    assert "summaries/2030-10.json" not in state.files
    assert {"summaries/2030-09.json", "summaries/2030-11.json"} <= set(state.files)
    assert state.files[OCT] == files[OCT]
