"""Publications as an RFC 5545 calendar, through the ``icalendar`` library (pure).

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
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise

from icalendar import Calendar, Event

from scheduler import times
from scheduler.planning import Publication
from scheduler.views.timeline import Entry
from scheduler.world import World

PRODID = "-//scheduler//publication timeline//EN"
DURATION = timedelta(minutes=5)
CONFIRMED = frozenset({"completed", "executing", "unconfirmed", "pending", "scheduled"})


def calendar(
    world: World, listed: Sequence[Entry], *, include_private: bool, repo_slug: str | None
) -> str:
    """The ``VCALENDAR`` text (CRLF line ends) with one ``VEVENT`` per entry."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Publications ({repo_slug})" if repo_slug else "Publications")
    for entry in listed:
        cal.add_component(event(world, entry, include_private=include_private, repo_slug=repo_slug))
    return bytes(cal.to_ical()).decode("utf-8")


def event(world: World, entry: Entry, *, include_private: bool, repo_slug: str | None) -> Event:
    """The ``VEVENT`` of one publication."""
    pub = entry.pub
    ev = Event()
    ev.add("uid", uid(pub.id, repo_slug))
    ev.add("dtstamp", world.now)
    ev.add("dtstart", pub.due)
    ev.add("duration", DURATION)
    ev.add("summary", f"{pub.video} on {pub.channel}")
    ev.add("description", description(entry, include_private=include_private))
    ev.add("categories", [pub.channel, entry.status])
    ev.add("status", ical_status(entry))
    ev.add("sequence", sequence(pub))
    ev.add("transp", "TRANSPARENT")
    if include_private and entry.url:
        ev.add("url", entry.url)
    return ev


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
