"""``timeline --format ics`` written as text: the same calendar as the ``icalendar`` object
model gives, escaped and folded so that the ``icalendar`` parser reads back every value.

The reference (``reference_calendar``) builds the calendar with ``icalendar``'s ``Calendar`` and
``Event`` components, property by property as the view did before it wrote text directly; both
outputs are parsed back with ``Calendar.from_ical`` and compared event by event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from scheduler.planning import Publication
from scheduler.ports import StateSnapshot
from scheduler.views import ics
from scheduler.views.timeline import Entry, entries, render
from scheduler.world import World, build_world
from tests.test_timeline import MOVED_TEASER, SMALL, STATE_LINES, line, world_of

BUNDLED = Path(__file__).resolve().parents[1] / "schedules"
BUNDLED_NOW = "2030-12-02T17:01:00Z"
PARIS = ZoneInfo("Europe/Paris")
SLUG = "acme/launch"
EVENT_PROPERTIES = (
    "UID",
    "DTSTART",
    "DURATION",
    "DTSTAMP",
    "SUMMARY",
    "DESCRIPTION",
    "CATEGORIES",
    "STATUS",
    "SEQUENCE",
    "URL",
    "TRANSP",
)
CALENDAR_PROPERTIES = ("VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME")
MAX_OCTETS = 75


# --------------------------------------------------------------------------- the reference


def reference_calendar(
    world: World, listed: Sequence[Entry], *, include_private: bool, repo_slug: str | None
) -> str:
    """The calendar as the ``icalendar`` object model writes it (the view's former code)."""
    cal = Calendar()
    cal.add("prodid", ics.PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Publications ({repo_slug})" if repo_slug else "Publications")
    for entry in listed:
        cal.add_component(
            reference_event(world, entry, include_private=include_private, repo_slug=repo_slug)
        )
    return bytes(cal.to_ical()).decode("utf-8")


def reference_event(
    world: World, entry: Entry, *, include_private: bool, repo_slug: str | None
) -> Event:
    """One ``VEVENT`` built with ``icalendar``'s ``Event``."""
    pub = entry.pub
    ev = Event()
    ev.add("uid", ics.uid(pub.id, repo_slug))
    ev.add("dtstamp", world.now)
    ev.add("dtstart", pub.due)
    ev.add("duration", timedelta(minutes=5))
    ev.add("summary", f"{pub.video} on {pub.channel}")
    ev.add("description", ics.description(entry, include_private=include_private))
    ev.add("categories", [pub.channel, entry.status])
    ev.add("status", ics.ical_status(entry))
    ev.add("sequence", ics.sequence(pub))
    ev.add("transp", "TRANSPARENT")
    if include_private and entry.url:
        ev.add("url", entry.url)
    return ev


# --------------------------------------------------------------------------- reading back


def parsed_events(text: str) -> list[dict[str, Any]]:
    """Every VEVENT of ``text`` as ``{property: decoded value}``, in order (absent: None)."""
    return [event_values(event) for event in Calendar.from_ical(text).walk("VEVENT")]


def event_values(event: Any) -> dict[str, Any]:
    """The compared properties of one parsed VEVENT, decoded to Python values."""
    values: dict[str, Any] = {}
    for name in EVENT_PROPERTIES:
        if name not in event:
            values[name] = None
        elif name in ("DTSTART", "DTSTAMP", "DURATION"):
            values[name] = event.decoded(name)
        elif name == "CATEGORIES":
            values[name] = [str(cat) for cat in event[name].cats]
        elif name == "SEQUENCE":
            values[name] = int(event[name])
        else:
            values[name] = str(event[name])
    return values


def calendar_values(text: str) -> dict[str, str]:
    """The calendar-level properties of ``text``."""
    cal = Calendar.from_ical(text)
    return {name: str(cal[name]) for name in CALENDAR_PROPERTIES}


def logical_lines(text: str) -> list[str]:
    """The content lines of ``text`` with every fold undone."""
    return text.replace("\r\n ", "").split("\r\n")


def physical_lines(text: str) -> list[bytes]:
    """The lines of ``text`` as written, in UTF-8, without their CRLF."""
    data = text.encode()
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def assert_well_formed(text: str) -> None:
    """CRLF everywhere, no bare CR or LF, no physical line over 75 octets, continuation
    lines beginning with one space."""
    lines = physical_lines(text)
    for raw in lines:
        assert b"\r" not in raw and b"\n" not in raw, raw
        assert len(raw) <= MAX_OCTETS, (len(raw), raw)
        raw.decode()  # a fold never splits a UTF-8 character
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"


# --------------------------------------------------------------------------- worlds


def bundled_world(now: str = BUNDLED_NOW) -> World:
    """The bundled example with an empty state, at ``now``."""
    files = {
        path.relative_to(BUNDLED.parent).as_posix(): path.read_bytes()
        for path in sorted(BUNDLED.rglob("*.yaml"))
    }
    state = StateSnapshot(commit="0" * 40, files={}, source="memory")
    return build_world(files, state, now=datetime.fromisoformat(now))


def ledger_world() -> World:
    """The small timeline schedule (one wave moved) with a ledger: every status, a ledger-only
    id full of quotes, and publications that moved once or twice."""
    moves = [
        line("teaser/yt-main", "claimed", "2030-12-02T17:00:01Z", "2030-12-02T17:00:00Z"),
        line("teaser/yt-main", "unknown", "2030-12-02T17:20:00Z", "2030-12-02T17:00:00Z"),
        line("teaser/yt-main", "released", "2030-12-02T18:00:00Z", "2030-12-02T19:00:00Z"),
        line("teaser/yt-main", "claimed", "2030-12-02T19:00:01Z", "2030-12-02T19:00:00Z"),
        line("teaser/yt-main", "unknown", "2030-12-02T19:20:00Z", "2030-12-02T19:00:00Z"),
        line("teaser/yt-main", "released", "2030-12-02T20:00:00Z", "2030-12-02T21:00:00Z"),
    ]
    kept = [event for event in STATE_LINES if event["id"] != "teaser/yt-main"]
    files = {**SMALL, "schedules/waves/teaser.yaml": MOVED_TEASER}
    return world_of(files, [*kept, *moves], "2030-12-07T00:00:00Z")


WORLDS = {
    "bundled-example": bundled_world,
    "bundled-example-later": lambda: bundled_world("2031-01-20T00:00:00Z"),
    "ledger-history": ledger_world,
}


def listed_of(world: World) -> list[Entry]:
    """The world's entries in the timeline's order."""
    return entries(world, sorted(world.publications, key=lambda p: (p.due, p.channel, p.id)))


# --------------------------------------------------------------------------- (1) same calendar


@pytest.mark.parametrize("include_private", [False, True], ids=["public", "private"])
@pytest.mark.parametrize("slug", [None, SLUG], ids=["no-repository", "repository"])
@pytest.mark.parametrize("world_name", list(WORLDS))
def test_every_event_matches_the_object_model(
    world_name: str, slug: str | None, include_private: bool
) -> None:
    world = WORLDS[world_name]()
    text = render(
        world,
        world.publications,
        fmt="ics",
        zone=PARIS,
        include_private=include_private,
        repo_slug=slug,
    )
    expected = reference_calendar(
        world, listed_of(world), include_private=include_private, repo_slug=slug
    )
    got, want = parsed_events(text), parsed_events(expected)
    assert len(got) == len(want) == len(world.publications)
    for got_event, want_event in zip(got, want, strict=True):
        assert got_event == want_event
    assert calendar_values(text) == calendar_values(expected)
    assert logical_lines(text) == logical_lines(expected)
    assert_well_formed(text)


def test_the_compared_worlds_are_not_trivial() -> None:
    """Several statuses, moved publications, URLs, escapes and folds are compared above."""
    texts = [
        ics.calendar(world, listed_of(world), include_private=True, repo_slug=SLUG)
        for world in (make() for make in WORLDS.values())
    ]
    events = [event for text in texts for event in parsed_events(text)]
    assert {event["STATUS"] for event in events} == {"CONFIRMED", "TENTATIVE", "CANCELLED"}
    assert {event["SEQUENCE"] for event in events} == {0, 1, 2}
    assert all(event["URL"] for event in events if event["UID"].startswith("launch/"))
    assert all("\r\n " in text and "\\," in text for text in texts)


def test_bundled_example_values() -> None:
    world = bundled_world()
    text = ics.calendar(world, listed_of(world), include_private=False, repo_slug=SLUG)
    first = parsed_events(text)[0]
    assert first["UID"] == "teaser/ig-fr@acme/launch"
    assert first["DTSTART"] == datetime(2030, 12, 2, 17, tzinfo=UTC)
    assert first["DTSTAMP"] == datetime(2030, 12, 2, 17, 1, tzinfo=UTC)
    assert first["DURATION"] == ics.DURATION
    assert first["CATEGORIES"] == ["ig-fr", "scheduled"]
    assert first["STATUS"] == "CONFIRMED"
    assert first["TRANSP"] == "TRANSPARENT"
    assert calendar_values(text) == {
        "VERSION": "2.0",
        "PRODID": ics.PRODID,
        "CALSCALE": "GREGORIAN",
        "METHOD": "PUBLISH",
        "X-WR-CALNAME": "Publications (acme/launch)",
    }
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert "\r\nDTSTART:20301202T170000Z\r\nDURATION:PT5M\r\nDTSTAMP:20301202T170100Z\r\n" in text


def test_an_empty_calendar() -> None:
    world = bundled_world()
    text = ics.calendar(world, [], include_private=False, repo_slug=None)
    assert text == (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//scheduler//publication timeline//EN\r\n"
        "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Publications\r\nEND:VCALENDAR\r\n"
    )


# --------------------------------------------------------------------------- (2) escaping, folding


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("plain text", "plain text"),
        ("a,b;c", "a\\,b\\;c"),
        ("back\\slash", "back\\\\slash"),
        ("C:\\Net\\new", "C:\\\\Net\\\\new"),
        ("one\ntwo", "one\\ntwo"),
        ("crlf\r\nand cr\rend", "crlf\\nand cr\\nend"),
        ("\\,", "\\\\\\,"),
        ("émoji 😀 漢字: ok", "émoji 😀 漢字: ok"),
    ],
    ids=[
        "plain",
        "comma-semicolon",
        "backslash",
        "backslash-before-n",
        "newline",
        "cr-and-crlf",
        "escaped-comma-text",
        "multi-byte-and-colon",
    ],
)
def test_text_escaping(value: str, encoded: str) -> None:
    assert ics.text(value) == encoded


@pytest.mark.parametrize(
    ("line", "folded"),
    [
        ("x" * 74, "x" * 74),
        ("x" * 75, "x" * 74 + "\r\n x"),
        ("x" * 148 + "yz", "x" * 74 + "\r\n " + "x" * 74 + "\r\n yz"),
        ("x" * 73 + "é", "x" * 73 + "\r\n é"),
        ("x" * 72 + "é", "x" * 72 + "é"),
        ("x" * 72 + "😀y", "x" * 72 + "\r\n 😀y"),
        ("x" * 73 + "\\,y", "x" * 73 + "\r\n \\,y"),
        ("x" * 72 + "\\,yz", "x" * 72 + "\\,\r\n yz"),
        ("😀" * 19, "😀" * 18 + "\r\n 😀"),
    ],
    ids=[
        "74-octets-stay",
        "75-octets-fold",
        "two-folds",
        "two-byte-char-not-split",
        "two-byte-char-fits",
        "four-byte-char-not-split",
        "escape-not-split",
        "escape-fits-before-the-fold",
        "only-emoji",
    ],
)
def test_folding(line: str, folded: str) -> None:
    assert ics.fold(line) == folded
    assert all(len(part.encode()) <= MAX_OCTETS for part in folded.split("\r\n"))


@pytest.mark.parametrize(
    ("dt", "stamp"),
    [
        (datetime(2030, 12, 2, 17, 0, tzinfo=UTC), "20301202T170000Z"),
        (datetime(2030, 12, 2, 18, 0, 5, 999_999, tzinfo=PARIS), "20301202T170005Z"),
        (datetime(2031, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5))), "20301231T193000Z"),
        (datetime(2030, 3, 31, 3, 0, tzinfo=PARIS), "20300331T010000Z"),
    ],
    ids=["utc", "paris-with-microseconds", "fixed-offset-previous-day", "paris-after-dst-gap"],
)
def test_date_times_are_utc(dt: datetime, stamp: str) -> None:
    assert ics.utc_stamp(dt) == stamp


SPECIALS = [",", ";", "\\", "\n", "\r\n", "\r", ":", '"', "^", " ", "\\n", "\\N", "\\,", "\t"]
MULTI_BYTE = ["é", "ß", "漢字", "😀", "👩‍👩‍👧", "\u0301", "ü"]
pieces = st.one_of(
    st.sampled_from(SPECIALS),
    st.sampled_from(MULTI_BYTE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=20, max_size=90),
)
texts = st.lists(pieces, max_size=25).map("".join)
# A URL holds URI characters (RFC 3986) and, as an IRI, letters beyond ASCII; the icalendar
# parser reads a backslash sequence inside any value as a TEXT escape, so none is generated.
URI_CHARACTERS = "abcXYZ0189-._~:/?#[]@!$&'()*+,;=%"
URLS = st.builds(
    lambda path: f"https://cdn.example.com/{path}",
    st.lists(st.sampled_from([*URI_CHARACTERS, *MULTI_BYTE]), max_size=120).map("".join),
)
STATUSES = st.sampled_from(["pending", "scheduled", "completed", "cancelled", "failed", "paused"])
SETTINGS = settings(max_examples=150, deadline=None)


def random_entry(
    *, pub_id: str, channel: str, video: str, title: str, url: str | None, status: str
) -> Entry:
    """An entry whose every free text is given."""
    pub = Publication(
        id=pub_id,
        channel=channel,
        video=video,
        due=datetime(2030, 12, 2, 17, tzinfo=UTC),
        type="simultaneous",
        wave=video,
        file=None,
        params={title: channel},
    )
    return Entry(pub=pub, status=status, platform=title, channel_zone=PARIS, title=title, url=url)


def normalized(value: str) -> str:
    """``value`` with each line break as one LF (TEXT has no escape for a CR)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


@SETTINGS
@given(
    pub_id=texts,
    channel=texts,
    video=texts,
    title=texts,
    url=st.one_of(st.none(), URLS),
    status=STATUSES,
    include_private=st.booleans(),
)
def test_random_texts_round_trip(
    pub_id: str,
    channel: str,
    video: str,
    title: str,
    url: str | None,
    status: str,
    include_private: bool,
) -> None:
    world = bundled_world()
    entry = random_entry(
        pub_id=pub_id, channel=channel, video=video, title=title, url=url, status=status
    )
    text = ics.calendar(world, [entry], include_private=include_private, repo_slug=SLUG)
    assert_well_formed(text)
    (event,) = parsed_events(text)
    assert event["UID"] == normalized(f"{pub_id}@{SLUG}")
    assert event["SUMMARY"] == normalized(f"{video} on {channel}")
    assert event["CATEGORIES"] == [normalized(channel), status]
    assert event["DESCRIPTION"] == normalized(
        ics.description(entry, include_private=include_private)
    )
    assert event["URL"] == (url if include_private and url else None)


@SETTINGS
@given(pub_id=texts, channel=texts, title=texts, url=st.one_of(st.none(), URLS))
def test_random_texts_match_the_object_model(
    pub_id: str, channel: str, title: str, url: str | None
) -> None:
    # the object model reads a literal backslash-N as a line break; the text is kept instead
    values = (pub_id, channel, title)
    if any("\\N" in value for value in values):
        return
    world = bundled_world()
    entry = random_entry(
        pub_id=pub_id, channel=channel, video="v", title=title, url=url, status="pending"
    )
    for include_private in (False, True):
        text = ics.calendar(world, [entry], include_private=include_private, repo_slug=None)
        expected = reference_calendar(
            world, [entry], include_private=include_private, repo_slug=None
        )
        assert parsed_events(text) == parsed_events(expected)


@SETTINGS
@given(value=texts)
def test_any_folded_line_unfolds_to_itself(value: str) -> None:
    line = "DESCRIPTION:" + ics.text(value)
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= MAX_OCTETS for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line


def test_a_literal_backslash_n_is_kept() -> None:
    world = bundled_world()
    entry = random_entry(
        pub_id="a\\Nb", channel="c", video="v", title="C:\\Net", url=None, status="pending"
    )
    (event,) = parsed_events(ics.calendar(world, [entry], include_private=False, repo_slug=None))
    assert event["UID"] == "a\\Nb@scheduler"
    assert "Video: v (C:\\Net)" in event["DESCRIPTION"]


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("https://cdn.example.com/a,b;c\\d", "https://cdn.example.com/a,b;c\\d"),
        ("https://cdn.example.com/a\r\nb\nc", "https://cdn.example.com/a%0D%0Ab%0Ac"),
    ],
    ids=["uri-not-text-escaped", "line-breaks-percent-encoded"],
)
def test_url_values(url: str, written: str) -> None:
    world = bundled_world()
    entry = random_entry(pub_id="p", channel="c", video="v", title="t", url=url, status="pending")
    text = ics.calendar(world, [entry], include_private=True, repo_slug=None)
    assert f"URL:{written}" in logical_lines(text)
    assert parsed_events(text)[0]["URL"] == written


# --------------------------------------------------------------------------- (3) private fields


@pytest.mark.parametrize("include_private", [False, True], ids=["public", "private"])
def test_private_fields_only_with_the_flag(include_private: bool) -> None:
    world = bundled_world()
    listed = listed_of(world)
    events = parsed_events(
        ics.calendar(world, listed, include_private=include_private, repo_slug=None)
    )
    assert len(events) == len(listed)
    for entry, event in zip(listed, events, strict=True):
        assert event["UID"] == f"{entry.pub.id}@scheduler"
        description = event["DESCRIPTION"]
        assert description.startswith(f"Status: {entry.status_text}\n")
        if include_private:
            assert event["URL"] == entry.url and entry.url
            params = json.dumps(dict(entry.pub.params), ensure_ascii=False, sort_keys=True)
            assert description.endswith(f"\nURL: {entry.url}\nParams: {params}")
        else:
            assert event["URL"] is None
            assert description.endswith(f"\nID: {entry.pub.id}")
            assert "cdn.example.com" not in description and "Params:" not in description


@pytest.mark.parametrize("include_private", [False, True], ids=["public", "private"])
def test_an_entry_without_url(include_private: bool) -> None:
    world = bundled_world()
    entry = replace(listed_of(world)[0], url=None)
    text = ics.calendar(world, [entry], include_private=include_private, repo_slug=None)
    (event,) = parsed_events(text)
    assert event["URL"] is None
    assert ("\nURL: \nParams: " in event["DESCRIPTION"]) == include_private
    assert not any(line.startswith("URL:") for line in logical_lines(text))
