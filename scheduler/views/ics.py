"""Publications as an RFC 5545 calendar, written directly as text (pure).

One ``VEVENT`` per publication:

- ``UID``: ``<id>@<owner>/<repo>`` (the repository, e.g. ``GITHUB_REPOSITORY``), else
  ``<id>@scheduler``: stable, so a subscribed calendar updates events in place.
- ``DTSTART`` in UTC, ``DURATION`` 5 minutes, ``DTSTAMP`` the command's ``now``,
  ``TRANSP:TRANSPARENT`` (a publication does not make anyone busy).
- ``SUMMARY`` ``<video> on <channel>``; ``DESCRIPTION`` with status, channel, platform, the
  channel's local time, wave and type; ``CATEGORIES`` the channel and the status.
- ``STATUS``: ``CANCELLED`` when cancelled; ``CONFIRMED`` when it went out or will go out as
  planned (completed, executing, unconfirmed, and pending or scheduled except a queue slot that
  is still an estimate); ``TENTATIVE`` otherwise (estimated, paused, failed, missed, unknown).
- ``SEQUENCE``, raised each time the publication moves, as far as the ledger can witness it:
  the number of times the due carried by its ledger events changes from one event to the next,
  plus 1 when the due shown differs from the last due in the ledger (the file moved a
  publication that delivered nothing). The ledger is append-only, so the number never goes
  down as it grows; moves of a publication that the ledger never mentioned leave it at 0.
- The video's URL (``URL``) and the ``params`` only with ``include_private``.

The calendar carries ``VERSION``, ``PRODID``, ``CALSCALE:GREGORIAN``, ``METHOD:PUBLISH`` and
``X-WR-CALNAME``. Properties come in the order the ``icalendar`` library writes them, so the
text is the one that library would produce, without building its object model (which costs
minutes and gigabytes for a long ledger history).

The text format: lines end in CRLF; TEXT values escape backslash, semicolon, comma and line
breaks (``\\n``; a CR or CRLF counts as one line break); ``DTSTART`` and ``DTSTAMP`` are UTC
``YYYYMMDDTHHMMSSZ`` (whole seconds); a line longer than 75 octets is folded: every physical
line holds at most 74 octets of content (UTF-8, never splitting a character, and not right
after a backslash or caret, so an escape stays whole), continuation lines begin with one space.
A ``URL`` is written as given, except that CR and LF (which no URI contains) are
percent-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from scheduler import times
from scheduler.planning import Publication
from scheduler.views.timeline import Entry
from scheduler.world import World

PRODID = "-//scheduler//publication timeline//EN"
DURATION = timedelta(minutes=5)
DURATION_TEXT = "PT5M"  # DURATION as an RFC 5545 DURATION value
CONFIRMED = frozenset({"completed", "executing", "unconfirmed", "pending", "scheduled"})
FOLD_OCTETS = 74  # content octets per physical line; with the leading space, 75 at most
_CONTINUATION = 0b1000_0000  # a UTF-8 byte 10xxxxxx continues a character
_NO_FOLD_AFTER = frozenset(b"\\^")


def calendar(
    world: World, listed: Sequence[Entry], *, include_private: bool, repo_slug: str | None
) -> str:
    """The ``VCALENDAR`` text (CRLF line ends) with one ``VEVENT`` per entry."""
    name = f"Publications ({repo_slug})" if repo_slug else "Publications"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        content_line("PRODID", text(PRODID)),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        content_line("X-WR-CALNAME", text(name)),
    ]
    stamp = utc_stamp(world.now)
    for entry in listed:
        lines += event_lines(
            entry, stamp=stamp, include_private=include_private, repo_slug=repo_slug
        )
    lines.append("END:VCALENDAR\r\n")
    return "\r\n".join(lines)


def event_lines(
    entry: Entry, *, stamp: str, include_private: bool, repo_slug: str | None
) -> list[str]:
    """The folded content lines (without line ends) of one publication's ``VEVENT``;
    ``stamp`` is the ``DTSTAMP`` value (:func:`utc_stamp` of the command's ``now``)."""
    pub = entry.pub
    categories = f"{text(pub.channel)},{text(entry.status)}"
    lines = [
        "BEGIN:VEVENT",
        content_line("SUMMARY", text(f"{pub.video} on {pub.channel}")),
        f"DTSTART:{utc_stamp(pub.due)}",
        f"DURATION:{DURATION_TEXT}",
        f"DTSTAMP:{stamp}",
        content_line("UID", text(uid(pub.id, repo_slug))),
        f"SEQUENCE:{sequence(pub)}",
        content_line("CATEGORIES", categories),
        content_line("DESCRIPTION", text(description(entry, include_private=include_private))),
        f"STATUS:{ical_status(entry)}",
        "TRANSP:TRANSPARENT",
    ]
    if include_private and entry.url:
        lines.append(content_line("URL", uri(entry.url)))
    lines.append("END:VEVENT")
    return lines


def uid(pub_id: str, repo_slug: str | None) -> str:
    """``<id>@<owner>/<repo>``, or ``<id>@scheduler`` outside a repository."""
    return f"{pub_id}@{repo_slug or 'scheduler'}"


def ical_status(entry: Entry) -> str:
    """``CANCELLED``, ``CONFIRMED`` or ``TENTATIVE`` (see the module docstring)."""
    if entry.status == "cancelled":
        return "CANCELLED"
    if entry.status in CONFIRMED and not entry.pub.estimated:
        return "CONFIRMED"
    return "TENTATIVE"


def sequence(pub: Publication) -> int:
    """How many times the publication moved, as its ledger witnesses it (see above)."""
    events = pub.record.events if pub.record is not None else ()
    dues = [due for due in (ev.due for ev in events) if due is not None]
    changes = sum(1 for before, after in pairwise(dues) if before != after)
    return changes + (1 if dues and pub.due != dues[-1] else 0)


def description(entry: Entry, *, include_private: bool) -> str:
    """The event's text: status, channel, local time, wave/type, id (and url, params)."""
    pub = entry.pub
    local = times.format_local(pub.due, entry.channel_zone) if entry.channel_zone else "unknown"
    kind = f"wave {pub.wave} ({pub.type})" if pub.wave else f"{pub.type} (queue)"
    lines = [
        f"Status: {entry.status_text}",
        f"Channel: {pub.channel}",
        f"Platform: {entry.platform or 'unknown'}",
        f"Channel local time: {local}",
        f"Due (UTC): {times.format_utc(pub.due)}",
        f"Video: {pub.video} ({entry.title})",
        f"Type: {kind}",
        f"ID: {pub.id}",
    ]
    if include_private:
        lines.append(f"URL: {entry.url or ''}")
        lines.append(f"Params: {json.dumps(dict(pub.params), ensure_ascii=False, sort_keys=True)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- value encoding


def text(value: str) -> str:
    """``value`` as an RFC 5545 TEXT value: ``\\``, ``;``, ``,`` escaped, each line break
    (LF, CRLF or a lone CR) written ``\\n``."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def uri(value: str) -> str:
    """``value`` as a URI value: as given, with CR and LF percent-encoded."""
    return value.replace("\r", "%0D").replace("\n", "%0A")


def utc_stamp(dt: datetime) -> str:
    """The aware ``dt`` as a UTC DATE-TIME, ``YYYYMMDDTHHMMSSZ`` (fractions dropped)."""
    u = dt.astimezone(UTC)
    return f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"


def content_line(name: str, value: str) -> str:
    """``NAME:value``, folded (:func:`fold`); ``value`` already encoded."""
    return fold(f"{name}:{value}")


def fold(line: str) -> str:
    """``line`` folded into physical lines of at most :data:`FOLD_OCTETS` octets of content,
    joined by CRLF and one space; a fold never splits a UTF-8 character, and never falls right
    after a backslash or caret (unless that would leave a line with nothing else)."""
    data = line.encode()
    if len(data) <= FOLD_OCTETS:
        return line
    pieces = []
    start = 0
    while len(data) - start > FOLD_OCTETS:
        cut = start + FOLD_OCTETS
        while data[cut] & 0b1100_0000 == _CONTINUATION:
            cut -= 1
        if data[cut - 1] in _NO_FOLD_AFTER and cut - 1 > start:
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode()
