"""``scheduler timeline``: calendar and timeline views of publications (pure).

:func:`render` dispatches on the format: ``text`` and ``markdown`` (a table per day, one
channel column), ``json`` (the rows of ``list --format json``), and ``mermaid``, ``ics`` and
``html`` from their own modules. Times are shown in the display zone with their offset, next
to the channel's local time and UTC. A video's ``url`` and the ``params`` are private: they
appear only with ``include_private``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import times
from scheduler.planning import Publication
from scheduler.views import listing
from scheduler.world import World

FORMATS = ("text", "markdown", "mermaid", "ics", "html", "json")

STATUS_MARKS: dict[str, str] = {
    "completed": "✓",
    "executing": "▸",
    "scheduled": "◷",
    "pending": "…",
    "paused": "‖",
    "unconfirmed": "⚠",
    "missed": "⚠",
    "failed": "✗",
    "unknown": "?",
    "cancelled": "⊘",
}
EMPTY = "No publications in this range."


@dataclass(frozen=True, slots=True)
class Entry:
    """One publication with what every view shows of it."""

    pub: Publication
    status: str
    platform: str | None
    channel_zone: ZoneInfo | None
    title: str
    url: str | None

    @property
    def mark(self) -> str:
        """The status mark, e.g. ``✓``."""
        return STATUS_MARKS.get(self.status, "•")

    @property
    def status_text(self) -> str:
        """``pending``, or ``pending (estimated)`` for a queue slot not yet claimed."""
        return self.status + (" (estimated)" if self.pub.estimated else "")

    def private(self) -> dict[str, Any]:
        """The fields left out unless asked for: ``url`` and ``params``."""
        return {"url": self.url, "params": dict(self.pub.params)}


def entries(world: World, pubs: Iterable[Publication]) -> list[Entry]:
    """Each publication with its status, channel facts and video title (query)."""
    result = []
    for pub in pubs:
        channel = world.schedules.channels.get(pub.channel)
        video = world.schedules.videos.get(pub.video)
        result.append(
            Entry(
                pub=pub,
                status=world.status(pub),
                platform=channel.platform if channel else None,
                channel_zone=channel.zone if channel else None,
                title=(video.title if video else None) or pub.video,
                url=video.url if video else None,
            )
        )
    return result


def legend() -> str:
    """``✓ completed  ▸ executing ...``: every status mark."""
    pairs: dict[str, list[str]] = {}
    for status, mark in STATUS_MARKS.items():
        pairs.setdefault(mark, []).append(status)
    return "  ".join(f"{mark} {'/'.join(names)}" for mark, names in pairs.items())


def render(
    world: World,
    pubs: Sequence[Publication],
    *,
    fmt: str,
    zone: ZoneInfo,
    include_private: bool,
    repo_slug: str | None,
) -> str:
    """``pubs`` in the format ``fmt`` (one of :data:`FORMATS`), times in ``zone``."""
    from scheduler.views import html, ics, mermaid  # they import this module's Entry

    listed = entries(world, sorted(pubs, key=lambda pub: (pub.due, pub.channel, pub.id)))
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: as_text(listed, zone, include_private=include_private),
        "markdown": lambda: as_markdown(listed, zone, include_private=include_private),
        "json": lambda: as_json(world, listed, include_private=include_private),
        "mermaid": lambda: mermaid.mermaid_chart(
            [(e.pub.channel, f"{e.pub.video} ({e.status})", e.pub.due, e.status) for e in listed],
            f"Publications (times in {zone.key})",
            zone=zone,
        ),
        "ics": lambda: ics.calendar(
            world, listed, include_private=include_private, repo_slug=repo_slug
        ),
        "html": lambda: html.page(world, listed, zone, include_private=include_private),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown timeline format {fmt!r}: use one of {', '.join(FORMATS)}")
    return renderers[fmt]()


# --------------------------------------------------------------------------- clock cells


def clock_in(dt: datetime, zone: ZoneInfo, day: date) -> str:
    """``18:00 +01:00`` of ``dt`` in ``zone``, with ``(+1d)``/``(-1d)`` when its date is not
    ``day``."""
    local_day, _, clock = times.format_local(dt, zone).partition(" ")
    return clock + _day_shift(date.fromisoformat(local_day), day)


def utc_clock(dt: datetime, day: date) -> str:
    """``17:00Z`` with ``(-1d)``/``(+1d)`` when the UTC date is not ``day``."""
    text = times.format_utc(dt)
    clock = text[11:16] if text[16:19] == ":00" and len(text) == 20 else text[11:-1]
    return f"{clock}Z" + _day_shift(date.fromisoformat(text[:10]), day)


def _day_shift(local: date, day: date) -> str:
    shift = (local - day).days
    return f" ({shift:+d}d)" if shift else ""


def display_day(entry: Entry, zone: ZoneInfo) -> date:
    """The date of the publication's due in ``zone``."""
    return entry.pub.due.astimezone(zone).date()


def day_heading(day: date) -> str:
    """``Mon 2030-12-02``."""
    return f"{day:%a} {day.isoformat()}"


def by_day(listed: Sequence[Entry], zone: ZoneInfo) -> list[tuple[date, list[Entry]]]:
    """The entries grouped by their date in ``zone``, in order."""
    return [
        (day, list(group)) for day, group in groupby(listed, key=lambda e: display_day(e, zone))
    ]


def cells(entry: Entry, zone: ZoneInfo, day: date, *, include_private: bool) -> list[str]:
    """The columns of one row: channel, time in ``zone``, channel local, UTC, id, video,
    status (and url, params)."""
    pub = entry.pub
    local = clock_in(pub.due, entry.channel_zone, day) if entry.channel_zone else "?"
    row = [
        pub.channel,
        clock_in(pub.due, zone, day),
        local,
        utc_clock(pub.due, day),
        pub.id,
        pub.video,
        f"{entry.mark} {entry.status_text}",
    ]
    if include_private:
        row += [entry.url or "", _compact(entry.private()["params"])]
    return row


def headers(zone: ZoneInfo, *, include_private: bool) -> list[str]:
    """The column titles matching :func:`cells`."""
    names = ["Channel", f"Time ({zone.key})", "Channel local", "UTC", "ID", "Video", "Status"]
    return names + (["URL", "Params"] if include_private else [])


def _compact(value: Any) -> str:
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if value
        else ""
    )


# --------------------------------------------------------------------------- text


def as_text(listed: Sequence[Entry], zone: ZoneInfo, *, include_private: bool) -> str:
    """Days in ``zone``, each a block of aligned rows; a legend line first."""
    lines = [f"Timeline: {len(listed)} publication(s), times in {zone.key}", f"Legend: {legend()}"]
    if not listed:
        return "\n".join([*lines, "", EMPTY])
    days = by_day(listed, zone)
    table = [[name.upper() for name in headers(zone, include_private=include_private)]]
    table += [
        cells(entry, zone, day, include_private=include_private)
        for day, group in days
        for entry in group
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]

    def line(row: Sequence[str]) -> str:
        return (
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )

    lines += ["", line(table[0])]
    rows = iter(table[1:])
    for day, group in days:
        lines += ["", day_heading(day), *(line(next(rows)) for _ in group)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- markdown

_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})


def md_cell(text: str) -> str:
    """``text`` safe inside a GitHub table cell: ``|`` and markup escaped, one line."""
    return " ".join(text.split()).translate(_MARKDOWN_SPECIAL)


def as_markdown(listed: Sequence[Entry], zone: ZoneInfo, *, include_private: bool) -> str:
    """A GitHub-flavoured table per day in ``zone``."""
    lines = [
        "## Publication timeline",
        "",
        f"{len(listed)} publication(s), times in {zone.key}. Legend: {md_cell(legend())}",
    ]
    if not listed:
        return "\n".join([*lines, "", EMPTY])
    names = headers(zone, include_private=include_private)
    for day, group in by_day(listed, zone):
        lines += ["", f"### {day_heading(day)}", "", _md_row(names)]
        lines.append("|" + "---|" * len(names))
        lines += [
            _md_row(cells(entry, zone, day, include_private=include_private)) for entry in group
        ]
    return "\n".join(lines)


def _md_row(values: Sequence[str]) -> str:
    return "| " + " | ".join(md_cell(value) for value in values) + " |"


# --------------------------------------------------------------------------- json


def as_json(world: World, listed: Sequence[Entry], *, include_private: bool) -> str:
    """A JSON array: ``list --format json``'s fields, the video title, and ``url`` and
    ``params`` when ``include_private``."""
    rows = listing.rows(world, [entry.pub for entry in listed])
    for row, entry in zip(rows, listed, strict=True):
        row["title"] = entry.title
        if include_private:
            row.update(entry.private())
    return json.dumps(rows, indent=2, ensure_ascii=False)
