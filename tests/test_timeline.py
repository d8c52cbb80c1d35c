"""``scheduler timeline``: text, markdown, mermaid, ics and json, through the command line.

A small schedule is written under ``tmp_path`` (not a git repository, so the state is empty);
ledger histories are either given to the world in memory or put on a real state branch.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from icalendar import Calendar

from scheduler.cli import main
from scheduler.ledger import encode_lines
from scheduler.ports import StateSnapshot
from scheduler.views import ics, mermaid
from scheduler.views.timeline import md_cell, render
from scheduler.world import World, build_world
from tests.gitrepos import git

BUNDLED = Path(__file__).resolve().parents[1] / "schedules"
NOW = "2030-11-20T00:00:00Z"
PARIS = ZoneInfo("Europe/Paris")

CHANNELS = """\
defaults:
  timezone: Europe/Paris
  min_gap: 30m
  max_lateness: 1h
  dispatch: {repo: acme/publisher}
channels:
  yt-main:
    platform: youtube
    timezone: America/New_York
    params: {playlist: "PL\\"&'1"}
    slots:
      - days: [mon, wed, fri]
        times: ["18:00"]
  tiktok-fr:
    platform: tiktok
  ig-fr:
    platform: instagram
"""
VIDEOS = """\
videos:
  teaser-01:
    title: <script>alert(1)</script>
    url: https://cdn.example.com/teaser-01.mp4?a=1&b="2"
  trailer:
    title: Trailer "&' one
    url: https://cdn.example.com/trailer.mp4
  clip-03:
    title: Clip three
    url: https://cdn.example.com/clip-03.mp4
"""
TEASER = """\
video: teaser-01
type: simultaneous
at: 2030-12-02T18:00:00+01:00
params: {caption: "a|b \\"&' <i>x</i>"}
channels: [yt-main, tiktok-fr, ig-fr]
"""
TRAILER = """\
video: trailer
type: staggered
at: 2030-12-06T23:30:00+01:00
every: 1h
channels:
  - tiktok-fr
  - {channel: ig-fr, cancelled: true}
  - yt-main
"""
QUEUE = "start: 2031-01-05\nvideos: [clip-03]\n"

SMALL = {
    "schedules/channels.yaml": CHANNELS,
    "schedules/videos.yaml": VIDEOS,
    "schedules/waves/teaser.yaml": TEASER,
    "schedules/waves/trailer.yaml": TRAILER,
    "schedules/queues/yt-main.yaml": QUEUE,
}
# The small schedule's publications, by due (UTC).
SMALL_DUES = {
    "teaser/ig-fr": "2030-12-02T17:00:00Z",
    "teaser/tiktok-fr": "2030-12-02T17:00:00Z",
    "teaser/yt-main": "2030-12-02T17:00:00Z",
    "trailer/tiktok-fr": "2030-12-06T22:30:00Z",
    "trailer/ig-fr": "2030-12-06T23:30:00Z",
    "trailer/yt-main": "2030-12-07T00:30:00Z",
    "queue/yt-main/clip-03": "2031-01-06T23:00:00Z",
}
PRIVATE_MARKERS = ("cdn.example.com", "PL", "caption")


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """``files`` (repository paths -> text) written under ``root``; returns ``root``."""
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A repository root (no git) holding the small schedule."""
    return write_files(tmp_path / "repo", SMALL)


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A copy of the bundled example outside any git repository (so: empty state)."""
    root = tmp_path / "example"
    shutil.copytree(BUNDLED, root / "schedules")
    return root


def run(root: Path, *args: str, now: str = NOW, env: Mapping[str, str] | None = None) -> Result:
    """``scheduler --root ROOT --now NOW timeline ARGS...``."""
    runner = CliRunner()
    base = {"GITHUB_REPOSITORY": ""}
    return runner.invoke(
        main, ["--root", str(root), "--now", now, "timeline", *args], env={**base, **(env or {})}
    )


def ok(result: Result) -> str:
    """stdout of a run that must have succeeded."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result.stdout


def json_ids(root: Path, *args: str) -> list[str]:
    """The ids that ``timeline --format json ARGS`` prints, in order."""
    return [row["id"] for row in json.loads(ok(run(root, "--format", "json", *args)))]


def parse_ics(text: str) -> list[Any]:
    """The VEVENTs of an ics text, parsed back by the icalendar library."""
    return list(Calendar.from_ical(text).walk("VEVENT"))


def world_of(files: Mapping[str, str], lines: list[dict[str, Any]], now: str) -> World:
    """The world of ``files`` with ``lines`` in the ledger, at ``now``."""
    state = StateSnapshot(
        commit="0" * 40, files={"ledger/2030-12.jsonl": encode_lines(lines)}, source="memory"
    )
    encoded = {path: text.encode() for path, text in files.items()}
    return build_world(encoded, state, now=datetime.fromisoformat(now))


# --------------------------------------------------------------------------- text


EXPECTED_TEXT = """\
Timeline: 7 publication(s), times in Europe/Paris
Legend: ✓ completed  ▸ executing  ◷ scheduled  … pending  ‖ paused  ⚠ unconfirmed/missed  ✗ failed  ? unknown  ⊘ cancelled

  CHANNEL    TIME (EUROPE/PARIS)  CHANNEL LOCAL       UTC           ID                     VIDEO      STATUS

Mon 2030-12-02
  ig-fr      18:00 +01:00         18:00 +01:00        17:00Z        teaser/ig-fr           teaser-01  … pending
  tiktok-fr  18:00 +01:00         18:00 +01:00        17:00Z        teaser/tiktok-fr       teaser-01  … pending
  yt-main    18:00 +01:00         12:00 -05:00        17:00Z        teaser/yt-main         teaser-01  … pending

Fri 2030-12-06
  tiktok-fr  23:30 +01:00         23:30 +01:00        22:30Z        trailer/tiktok-fr      trailer    … pending

Sat 2030-12-07
  ig-fr      00:30 +01:00         00:30 +01:00        23:30Z (-1d)  trailer/ig-fr          trailer    ⊘ cancelled
  yt-main    01:30 +01:00         19:30 -05:00 (-1d)  00:30Z        trailer/yt-main        trailer    … pending

Tue 2031-01-07
  yt-main    00:00 +01:00         18:00 -05:00 (-1d)  23:00Z (-1d)  queue/yt-main/clip-03  clip-03    … pending (estimated)
"""


def test_text_is_grouped_by_day_with_zone_local_and_utc_times(small: Path) -> None:
    assert ok(run(small)) == EXPECTED_TEXT


def test_text_in_another_display_zone_regroups_the_days(small: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["--root", str(small), "--now", NOW, "--tz", "America/New_York", "timeline"]
    )
    out = ok(result)
    assert "times in America/New_York" in out
    assert "\nFri 2030-12-06\n" in out and "\nSat 2030-12-07\n" not in out
    assert "  yt-main    19:30 -05:00" in out
    assert "\nMon 2031-01-06\n" in out


def test_text_without_publications_says_so(small: Path) -> None:
    out = ok(run(small, "--from", "2032-01-01"))
    assert out.splitlines()[0] == "Timeline: 0 publication(s), times in Europe/Paris"
    assert out.rstrip("\n").endswith("No publications in this range.")


# --------------------------------------------------------------------------- markdown


def test_markdown_has_a_table_per_day(small: Path) -> None:
    out = ok(run(small, "--format", "markdown"))
    assert out.startswith("## Publication timeline\n")
    headings = re.findall(r"^### (.+)$", out, re.MULTILINE)
    assert headings == ["Mon 2030-12-02", "Fri 2030-12-06", "Sat 2030-12-07", "Tue 2031-01-07"]
    rows = [
        line
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| Channel")
    ]
    assert len(rows) == len(SMALL_DUES)
    assert all(row.count(" | ") == 6 for row in rows)
    assert (
        "| yt-main | 01:30 +01:00 | 19:30 -05:00 (-1d) | 00:30Z | trailer/yt-main | trailer | … pending |"
        in rows
    )


def test_markdown_private_cells_keep_the_table_intact(small: Path) -> None:
    out = ok(run(small, "--format", "markdown", "--include-private"))
    row = next(line for line in out.splitlines() if "teaser/yt-main" in line)
    assert re.sub(r"\\.", "", row).count("|") == 10  # 9 cells: every | in the data is escaped
    assert "a\\|b" in row and "\\<i\\>" in row


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("a|b", "a\\|b"),
        ("<script>", "\\<script\\>"),
        ("two\nlines", "two lines"),
        ("*bold* _x_ `c` [l]", "\\*bold\\* \\_x\\_ \\`c\\` \\[l\\]"),
        ("back\\slash & co", "back\\\\slash \\& co"),
    ],
    ids=["pipe", "html", "newline", "emphasis", "backslash-ampersand"],
)
def test_markdown_cells_are_escaped(text: str, cell: str) -> None:
    assert md_cell(text) == cell


# --------------------------------------------------------------------------- mermaid

TASK_LINE = re.compile(
    r"^    (?P<name>[\w .()/+-]+) :(?:(?P<tag>done|active|crit), )?t(?P<n>[0-9]+), "
    r"(?P<start>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}), 5m$"
)
SECTION_LINE = re.compile(r"^    section [\w .()/+-]+$")
HEADER = [
    "gantt",
    "    title Publications (times in Europe/Paris)",
    "    dateFormat YYYY-MM-DD HH:mm",
    "    axisFormat %d %b %H:%M",
]


def check_chart(text: str) -> list[re.Match[str]]:
    """Every line of a chart is a header, a comment, a section or a strict task line; returns
    the task matches."""
    lines = text.splitlines()
    assert lines[0] == "gantt"
    assert "```" not in text
    tasks = []
    for line in lines[1:]:
        if line.startswith(("    title ", "    dateFormat ", "    axisFormat ", "    %% ")):
            continue
        if SECTION_LINE.match(line):
            continue
        match = TASK_LINE.match(line)
        assert match is not None, line
        tasks.append(match)
    return tasks


def test_mermaid_chart_of_the_small_schedule(small: Path) -> None:
    out = ok(run(small, "--format", "mermaid"))
    assert out.splitlines()[:4] == HEADER
    tasks = check_chart(out)
    assert len(tasks) == len(SMALL_DUES)
    assert [line for line in out.splitlines() if "section" in line] == [
        "    section ig-fr",
        "    section tiktok-fr",
        "    section yt-main",
    ]
    assert "    trailer (pending) :t6, 2030-12-07 01:30, 5m" in out.splitlines()
    assert "    trailer (cancelled) :t2, 2030-12-07 00:30, 5m" in out.splitlines()
    assert sorted(int(task["n"]) for task in tasks) == list(range(1, 8))


@pytest.mark.parametrize(
    ("status", "tag"),
    [
        ("completed", "done"),
        ("executing", "active"),
        ("scheduled", "active"),
        ("failed", "crit"),
        ("missed", "crit"),
        ("unknown", "crit"),
        ("unconfirmed", "crit"),
        ("pending", None),
        ("paused", None),
        ("cancelled", None),
        ("crit", "crit"),
    ],
    ids=lambda value: str(value),
)
def test_mermaid_status_tags(status: str, tag: str | None) -> None:
    chart = mermaid.mermaid_chart(
        [("yt-main", "clip", datetime(2030, 12, 1, 17, tzinfo=UTC), status)], "t"
    )
    (task,) = check_chart(chart)
    assert task["tag"] == tag
    assert task["start"] == "2030-12-01 17:00"


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ('click me: "now" #1; 50%', "- click me now 1 50"),
        ("title of the show", "- title of the show"),
        ("Section one", "- Section one"),
        ("2030-12-01 recap", "- 2030-12-01 recap"),
        ("gantt-chart", "- gantt-chart"),
        ("accTitle", "- accTitle"),
        ("call back()", "- call back()"),
        ("%%{init: {}}%%", "init"),
        ("<b>bold</b> & 'quoted'", "b bold /b quoted"),
        ("", "untitled"),
        ("x" * 200, "x" * 80),
        ("Ünïcødé テスト", "Ünïcødé テスト"),
        ("teaser-01 (pending)", "teaser-01 (pending)"),
    ],
    ids=[
        "colon-quote-hash-semicolon-percent",
        "title-keyword",
        "section-keyword-any-case",
        "date-at-start",
        "gantt-prefix",
        "acc-title",
        "call",
        "directive",
        "html",
        "empty",
        "long",
        "unicode",
        "plain",
    ],
)
def test_mermaid_task_names_are_sanitized(label: str, name: str) -> None:
    chart = mermaid.mermaid_chart(
        [("ch", label, datetime(2030, 12, 1, tzinfo=UTC), "pending")], "t"
    )
    (task,) = check_chart(chart)
    assert task["name"] == name


def test_mermaid_chart_is_limited_and_says_how_many_were_left_out() -> None:
    start = datetime(2030, 12, 1, tzinfo=UTC)
    rows = [
        (f"ch-{i % 3}", f"video {i}", start + timedelta(minutes=10 * i), "pending")
        for i in range(250)
    ]
    chart = mermaid.mermaid_chart(rows, "many")
    tasks = check_chart(chart)
    assert len(tasks) == mermaid.MAX_TASKS == 200
    assert (
        "    %% 50 more publication(s) left out: the chart shows the first 200"
        in chart.splitlines()
    )
    assert max(task["start"] for task in tasks) == "2030-12-02 09:10"  # the earliest 200 are kept
    assert "%% " not in mermaid.mermaid_chart(rows[:10], "few").split("each bar is 5 minutes")[1]


def test_mermaid_sections_keep_their_tasks_together_in_first_seen_order() -> None:
    start = datetime(2030, 12, 1, tzinfo=UTC)
    rows = [
        ("b", "one", start, "pending"),
        ("a", "two", start + timedelta(hours=1), "pending"),
        ("b", "three", start + timedelta(hours=2), "pending"),
    ]
    lines = mermaid.mermaid_chart(rows, "t", zone=PARIS).splitlines()[5:]
    assert lines == [
        "    section b",
        "    one :t1, 2030-12-01 01:00, 5m",
        "    three :t2, 2030-12-01 03:00, 5m",
        "    section a",
        "    two :t3, 2030-12-01 02:00, 5m",
    ]


# --------------------------------------------------------------------------- ics


def test_ics_has_one_event_per_publication(small: Path) -> None:
    events = parse_ics(ok(run(small, "--format", "ics")))
    assert len(events) == len(SMALL_DUES)
    by_uid = {str(event["UID"]): event for event in events}
    assert set(by_uid) == {f"{pub_id}@scheduler" for pub_id in SMALL_DUES}
    for pub_id, due in SMALL_DUES.items():
        event = by_uid[f"{pub_id}@scheduler"]
        start = event.decoded("DTSTART")
        assert start.utcoffset() == timedelta(0)
        assert start == datetime.fromisoformat(due)
        assert event.decoded("DURATION") == timedelta(minutes=5)
        assert event.decoded("DTSTAMP") == datetime(2030, 11, 20, tzinfo=UTC)
        assert int(event["SEQUENCE"]) == 0


def test_ics_event_fields(small: Path) -> None:
    result = run(small, "--format", "ics")
    calendar = Calendar.from_ical(ok(result))
    assert str(calendar["PRODID"]) == ics.PRODID
    assert str(calendar["X-WR-CALNAME"]) == "Publications"
    assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    # every line ends in CRLF, the last one included (RFC 5545): no bare "\n" added
    assert result.stdout_bytes.count(b"\r\n") == result.stdout_bytes.count(b"\n")
    assert result.stdout_bytes.endswith(b"END:VCALENDAR\r\n")
    by_uid = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    yt = by_uid["trailer/yt-main@scheduler"]
    assert str(yt["SUMMARY"]) == "trailer on yt-main"
    assert [str(c) for c in yt["CATEGORIES"].cats] == ["yt-main", "pending"]
    assert str(yt["STATUS"]) == "CONFIRMED"
    description = str(yt["DESCRIPTION"])
    for part in (
        "Status: pending",
        "Channel: yt-main",
        "Platform: youtube",
        "2030-12-06 19:30 -05:00",
        "wave trailer (staggered)",
    ):
        assert part in description
    assert str(by_uid["trailer/ig-fr@scheduler"]["STATUS"]) == "CANCELLED"
    assert str(by_uid["queue/yt-main/clip-03@scheduler"]["STATUS"]) == "TENTATIVE"


def test_ics_uid_names_the_repository(small: Path) -> None:
    text = ok(run(small, "--format", "ics", env={"GITHUB_REPOSITORY": "acme/launch"}))
    uids = {str(event["UID"]) for event in parse_ics(text)}
    assert "teaser/ig-fr@acme/launch" in uids and len(uids) == len(SMALL_DUES)
    assert str(Calendar.from_ical(text)["X-WR-CALNAME"]) == "Publications (acme/launch)"


def line(pub_id: str, event: str, at: str, due: str, **more: Any) -> dict[str, Any]:
    """A ledger line of the small schedule's channel/video for ``pub_id``."""
    channel = pub_id.split("/")[-1] if not pub_id.startswith("queue/") else pub_id.split("/")[1]
    video = "trailer" if pub_id.startswith("trailer/") else "teaser-01"
    return {
        "id": pub_id,
        "event": event,
        "at": at,
        "due": due,
        "channel": channel,
        "video": video,
        **more,
    }


MOVED_TEASER = TEASER.replace("2030-12-02T18:00:00+01:00", "2030-12-02T20:00:00+01:00")


@pytest.mark.parametrize(
    ("files", "lines", "now", "pub_id", "expected"),
    [
        (SMALL, [], NOW, "teaser/yt-main", 0),
        (
            SMALL,
            [line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z")],
            "2030-12-02T17:01:00Z",
            "teaser/yt-main",
            0,
        ),
        (
            {**SMALL, "schedules/waves/teaser.yaml": MOVED_TEASER},
            [line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z")],
            "2030-12-02T17:01:00Z",
            "teaser/yt-main",
            0,
        ),
        (
            SMALL,
            [
                line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z"),
                line("teaser/yt-main", "unknown", "2030-12-02T17:20:00Z", "2030-12-02T17:00:00Z"),
                line("teaser/yt-main", "released", "2030-12-02T18:00:00Z", "2030-12-02T19:00:00Z"),
            ],
            "2030-12-02T18:01:00Z",
            "teaser/yt-main",
            1,
        ),
        (
            SMALL,
            [
                line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z"),
                line("teaser/yt-main", "unknown", "2030-12-02T17:20:00Z", "2030-12-02T17:00:00Z"),
                line("teaser/yt-main", "released", "2030-12-02T18:00:00Z", "2030-12-02T19:00:00Z"),
                line("teaser/yt-main", "claimed", "2030-12-02T19:00:01Z", "2030-12-02T19:00:00Z"),
                line("teaser/yt-main", "unknown", "2030-12-02T19:20:00Z", "2030-12-02T19:00:00Z"),
                line("teaser/yt-main", "released", "2030-12-02T20:00:00Z", "2030-12-02T21:00:00Z"),
            ],
            "2030-12-02T20:01:00Z",
            "teaser/yt-main",
            2,
        ),
        (
            {**SMALL, "schedules/waves/teaser.yaml": MOVED_TEASER},
            [line("teaser/yt-main", "missed", "2030-12-02T18:01:00Z", "2030-12-02T17:00:00Z")],
            "2030-12-02T18:30:00Z",
            "teaser/yt-main",
            1,
        ),
        (
            {**SMALL, "schedules/waves/teaser.yaml": MOVED_TEASER},
            [
                line("teaser/yt-main", "missed", "2030-12-02T18:01:00Z", "2030-12-02T17:00:00Z"),
                line("teaser/yt-main", "claimed", "2030-12-02T19:00:01Z", "2030-12-02T19:00:00Z"),
            ],
            "2030-12-02T19:01:00Z",
            "teaser/yt-main",
            1,
        ),
    ],
    ids=[
        "never-in-the-ledger",
        "claimed-at-its-due",
        "claimed-then-file-edited-no-effect",
        "released-to-a-new-due",
        "released-twice",
        "missed-then-file-moved-it-later",
        "re-armed-then-claimed-keeps-its-sequence",
    ],
)
def test_ics_sequence_counts_the_moves_the_ledger_witnesses(
    files: Mapping[str, str], lines: list[dict[str, Any]], now: str, pub_id: str, expected: int
) -> None:
    world = world_of(files, lines, now)
    text = render(
        world,
        world.publications,
        fmt="ics",
        zone=PARIS,
        include_private=False,
        repo_slug="acme/launch",
    )
    by_uid = {str(event["UID"]): event for event in parse_ics(text)}
    event = by_uid[f"{pub_id}@acme/launch"]
    assert int(event["SEQUENCE"]) == expected
    pub = world.plan.by_id()[pub_id]
    assert event.decoded("DTSTART") == pub.due


# --------------------------------------------------------------------------- json


def test_json_rows_match_list_and_add_the_title(small: Path) -> None:
    rows = json.loads(ok(run(small, "--format", "json")))
    listed = json.loads(
        ok(
            CliRunner().invoke(
                main, ["--root", str(small), "--now", NOW, "list", "--format", "json"]
            )
        )
    )
    assert [row["id"] for row in rows] == list(SMALL_DUES)
    assert [{k: v for k, v in row.items() if k != "title"} for row in rows] == listed
    assert {row["id"]: row["due"] for row in rows} == SMALL_DUES
    assert rows[0]["title"] == "<script>alert(1)</script>"
    assert all("url" not in row and "params" not in row for row in rows)


def test_json_private_fields_with_the_flag(small: Path) -> None:
    rows = {
        row["id"]: row
        for row in json.loads(ok(run(small, "--format", "json", "--include-private")))
    }
    assert rows["teaser/yt-main"]["url"] == 'https://cdn.example.com/teaser-01.mp4?a=1&b="2"'
    assert rows["teaser/yt-main"]["params"] == {
        "playlist": "PL\"&'1",
        "caption": "a|b \"&' <i>x</i>",
    }
    assert rows["trailer/tiktok-fr"]["params"] == {}


# --------------------------------------------------------------------------- private fields, filters, -o


@pytest.mark.parametrize("fmt", ["text", "markdown", "ics", "html", "json"])
def test_private_fields_only_with_the_flag(small: Path, fmt: str) -> None:
    without = ok(run(small, "--format", fmt))
    with_flag = ok(run(small, "--format", fmt, "--include-private"))
    for marker in PRIVATE_MARKERS:
        assert marker not in without, marker
        assert marker in with_flag, marker


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), list(SMALL_DUES)),
        (("--from", "2030-12-06"), list(SMALL_DUES)[3:]),
        (("--to", "2030-12-07"), list(SMALL_DUES)[:4]),
        (("--from", "2030-12-07T00:30:00Z", "--to", "2030-12-07T00:30:01Z"), ["trailer/yt-main"]),
        (("--channel", "yt-main"), ["teaser/yt-main", "trailer/yt-main", "queue/yt-main/clip-03"]),
        (("--wave", "trailer", "--channel", "ig-fr"), ["trailer/ig-fr"]),
        (
            ("--platform", "tiktok", "--platform", "instagram"),
            ["teaser/ig-fr", "teaser/tiktok-fr", "trailer/tiktok-fr", "trailer/ig-fr"],
        ),
        (("--id", "teaser/ig-fr"), ["teaser/ig-fr"]),
    ],
    ids=[
        "all",
        "from-date",
        "to-date-in-display-zone",
        "from-to-instant",
        "channel",
        "wave-and-channel",
        "platforms",
        "id",
    ],
)
def test_filters_reduce_the_set(small: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert json_ids(small, *args) == expected


@pytest.mark.parametrize("fmt", ["text", "markdown", "mermaid", "ics", "html", "json"])
def test_filters_apply_to_every_format(small: Path, fmt: str) -> None:
    out = ok(run(small, "--format", fmt, "--channel", "tiktok-fr"))
    if fmt == "mermaid":
        assert len(check_chart(out)) == 2
        return
    assert "tiktok-fr" in out
    assert "yt-main" not in out and "ig-fr" not in out


def test_unknown_selector_is_a_usage_error(small: Path) -> None:
    result = run(small, "--channel", "yt-mian")
    assert result.exit_code == 2
    assert "did you mean 'yt-main'" in result.stderr


def test_output_file_is_written(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "calendar.ics"
    result = run(small, "--format", "ics", "-o", str(target))
    assert ok(result) == ""
    assert f"wrote {target} (7 publication(s), ics)" in result.stderr
    assert len(parse_ics(target.read_text(encoding="utf-8"))) == len(SMALL_DUES)


# --------------------------------------------------------------------------- the bundled example


@pytest.mark.parametrize("fmt", ["text", "markdown", "mermaid", "ics", "html", "json"])
def test_bundled_example_renders_every_publication(bundled: Path, fmt: str) -> None:
    ids = json_ids(bundled)
    assert len(ids) == 24
    out = ok(run(bundled, "--format", fmt))
    if fmt == "mermaid":
        assert len(check_chart(out)) == len(ids)
    elif fmt == "ics":
        assert sorted(str(event["UID"]) for event in parse_ics(out)) == sorted(
            f"{i}@scheduler" for i in ids
        )
    else:
        assert all(pub_id in out for pub_id in ids)


def test_bundled_example_range_in_ics(bundled: Path) -> None:
    events = parse_ics(
        ok(run(bundled, "--format", "ics", "--from", "2030-12-09", "--to", "2030-12-10"))
    )
    assert sorted(str(event["UID"]) for event in events) == [
        "launch/ig-fr@scheduler",
        "launch/tiktok-fr@scheduler",
        "launch/tiktok-us@scheduler",
        "launch/yt-main@scheduler",
    ]
    assert min(event.decoded("DTSTART") for event in events) == datetime(
        2030, 12, 9, 19, tzinfo=UTC
    )


# --------------------------------------------------------------------------- state from a real branch

STATE_NOW = "2030-12-07T00:00:00Z"
STATE_LINES = [
    line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z", attempt=1),
    line("teaser/yt-main", "dispatched", "2030-12-02T17:00:03Z", "2030-12-02T17:00:00Z", attempt=1),
    line("teaser/tiktok-fr", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z", attempt=1),
    line(
        "teaser/tiktok-fr", "dispatched", "2030-12-02T17:00:03Z", "2030-12-02T17:00:00Z", attempt=1
    ),
    line(
        "teaser/tiktok-fr",
        "publish_failed",
        "2030-12-02T17:03:00Z",
        "2030-12-02T17:00:00Z",
        attempt=1,
        reason="expired",
    ),
    line("teaser/ig-fr", "missed", "2030-12-02T18:05:00Z", "2030-12-02T17:00:00Z", reason="late"),
    line("trailer/tiktok-fr", "claimed", "2030-12-06T22:30:01Z", "2030-12-06T22:30:00Z", attempt=1),
    line("trailer/tiktok-fr", "unknown", "2030-12-06T22:50:00Z", "2030-12-06T22:30:00Z", attempt=1),
    {
        "id": "old\"&'<b>|x/ig-fr",
        "event": "claimed",
        "at": "2030-12-05T10:00:01Z",
        "due": "2030-12-05T10:00:00Z",
        "channel": "ig-fr",
        "video": "clip-03",
    },
    {
        "id": "old\"&'<b>|x/ig-fr",
        "event": "dispatched",
        "at": "2030-12-05T10:00:02Z",
        "due": "2030-12-05T10:00:00Z",
        "channel": "ig-fr",
        "video": "clip-03",
    },
]
STATE_CONTROL = "publications:\n  trailer/yt-main: {paused: true, reason: legal}\n"
STATE_MARKS = {
    "teaser/yt-main": "✓ completed",
    "teaser/tiktok-fr": "✗ failed",
    "teaser/ig-fr": "⚠ missed",
    "trailer/tiktok-fr": "? unknown",
    "trailer/ig-fr": "⊘ cancelled",
    "trailer/yt-main": "‖ paused",
    "queue/yt-main/clip-03": "… pending (estimated)",
}


@pytest.fixture
def with_state(small: Path, tmp_path: Path) -> Path:
    """The small schedule in a git repository whose local ``scheduler-state`` holds a ledger
    and a control file."""
    git(small, "init", "--quiet", "--initial-branch=main")
    source = tmp_path / "state-source"
    source.mkdir()
    git(source, "init", "--quiet", "--initial-branch=state")
    (source / "ledger").mkdir()
    (source / "ledger" / "2030-12.jsonl").write_bytes(encode_lines(STATE_LINES))
    (source / "control.yaml").write_text(STATE_CONTROL, encoding="utf-8")
    git(source, "add", "-A")
    git(source, "commit", "--quiet", "-m", "state")
    git(small, "fetch", "--quiet", str(source), "state:scheduler-state")
    return small


def test_statuses_from_the_state_branch_show_their_marks(with_state: Path) -> None:
    out = ok(run(with_state, now=STATE_NOW))
    for pub_id, mark in STATE_MARKS.items():
        (row,) = [text for text in out.splitlines() if f" {pub_id} " in text]
        assert row.endswith(mark), row
    assert "old\"&'<b>|x/ig-fr" in out  # only the ledger knows it, and it stays visible


def test_ics_from_the_state_branch(with_state: Path) -> None:
    events = {
        str(e["UID"]): e for e in parse_ics(ok(run(with_state, "--format", "ics", now=STATE_NOW)))
    }
    assert len(events) == len(SMALL_DUES) + 1
    assert str(events["teaser/yt-main@scheduler"]["STATUS"]) == "CONFIRMED"
    assert [str(c) for c in events["teaser/tiktok-fr@scheduler"]["CATEGORIES"].cats] == [
        "tiktok-fr",
        "failed",
    ]
    assert str(events["trailer/yt-main@scheduler"]["STATUS"]) == "TENTATIVE"
    assert "old\"&'<b>|x/ig-fr@scheduler" in events


def test_markdown_escapes_a_ledger_id(with_state: Path) -> None:
    out = ok(run(with_state, "--format", "markdown", now=STATE_NOW))
    row = next(line for line in out.splitlines() if "old" in line)
    assert "old\"\\&'\\<b\\>\\|x/ig-fr" in row
    assert re.sub(r"\\.", "", row).count("|") == 8
