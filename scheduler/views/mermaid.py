"""Publications as a mermaid ``gantt`` chart that GitHub renders (pure).

One ``section`` per channel, one 5-minute task per publication, the status as mermaid's task
tags: ``done`` (completed), ``active`` (scheduled, executing), ``crit`` (failed, unknown,
missed, unconfirmed); ``crit, done`` is never used. Times are wall-clock times in one display
zone, because mermaid reads them without an offset.

Mermaid's gantt lexer is picky: ``:`` ends a task name, ``#`` and ``%`` start comments, ``;``
ends a statement, quotes open link and callback arguments, and a name that begins with a
keyword (``title``, ``section``, ``click``, a date ...) is read as that keyword. Names are
therefore reduced to letters, digits and ``_ . - / ( ) +`` and moved off any keyword.
The chart is returned without a code fence: the caller wraps it where it needs one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

MAX_TASKS = 200
TASK_MINUTES = 5
DATE_FORMAT = "YYYY-MM-DD HH:mm"  # mermaid's (dayjs) spelling of _STRFTIME
_STRFTIME = "%Y-%m-%d %H:%M"
AXIS_FORMAT = "%d %b %H:%M"
MAX_NAME = 80

# A publication status (or a tag given as is) -> mermaid task tags.
TAGS: dict[str, str] = {
    "completed": "done",
    "done": "done",
    "scheduled": "active",
    "executing": "active",
    "active": "active",
    "failed": "crit",
    "unknown": "crit",
    "missed": "crit",
    "unconfirmed": "crit",
    "crit": "crit",
}

_UNSAFE = re.compile(r"[^\w .()/+-]+")
# What mermaid's gantt lexer (case-insensitive, first rule wins) reads before a task name.
_KEYWORD = re.compile(
    r"(?:acctitle|accdescr|call\s|click\s|href\s|gantt|dateformat\s|inclusiveenddates|topaxis"
    r"|axisformat\s|tickinterval\s|includes\s|excludes\s|todaymarker\s|weekday\s|weekend\s"
    r"|\d{4}-\d{2}-\d{2}|title\s|accdescription\s|section\s)",
    re.IGNORECASE,
)
_UTC = ZoneInfo("UTC")

Row = tuple[str, str, datetime, str]  # (channel, label, start, status)


def clean(text: str, *, fallback: str = "untitled") -> str:
    """``text`` with unsafe characters turned into spaces, runs of spaces made one, at most
    80 characters (``fallback`` when nothing is left)."""
    return " ".join(_UNSAFE.sub(" ", text).split())[:MAX_NAME].strip() or fallback


def sanitize(text: str, *, fallback: str = "untitled") -> str:
    """``text`` as a task or section name that mermaid reads literally: :func:`clean`, and
    ``- `` put before a name that would begin with a keyword."""
    cleaned = clean(text, fallback=fallback)
    return "- " + cleaned if _KEYWORD.match(cleaned + " ") else cleaned


def task_line(label: str, start: datetime, status: str, task_id: str, zone: ZoneInfo) -> str:
    """One task: ``    <name> :[tags, ]<id>, <start>, 5m``."""
    tag = TAGS.get(status)
    when = start.astimezone(zone).strftime(_STRFTIME)
    fields = [*([tag] if tag else []), task_id, when, f"{TASK_MINUTES}m"]
    return f"    {sanitize(label)} :{', '.join(fields)}"


def mermaid_chart(
    rows: Iterable[Row], title: str, *, zone: ZoneInfo | None = None, limit: int = MAX_TASKS
) -> str:
    """A ``gantt`` chart of ``rows`` (channel, label, aware start, status), at most ``limit``
    tasks (the earliest), with a ``%%`` comment saying how many were left out.

    ``status`` is a publication status or a tag (``done``, ``active``, ``crit``); anything
    else draws a plain bar. Times are written in ``zone`` (default UTC).
    """
    zone = zone or _UTC
    ordered = sorted(rows, key=lambda row: (row[2], row[0], row[1]))
    kept, left_out = ordered[:limit], len(ordered) - min(len(ordered), limit)
    lines = [
        "gantt",
        f"    title {clean(title, fallback='Publications')}",
        f"    dateFormat {DATE_FORMAT}",
        f"    axisFormat {AXIS_FORMAT}",
        f"    %% times are wall-clock times in {zone.key}; each bar is {TASK_MINUTES} minutes",
    ]
    if left_out:
        lines.append(
            f"    %% {left_out} more publication(s) left out: the chart shows the first {limit}"
        )
    lines.extend(_sections(kept, zone))
    return "\n".join(lines)


def _sections(rows: Sequence[Row], zone: ZoneInfo) -> list[str]:
    """``section`` blocks in order of each channel's first task, tasks numbered t1, t2, ..."""
    first_seen = {channel: index for index, (channel, *_rest) in reversed(list(enumerate(rows)))}
    by_channel = sorted(rows, key=lambda row: first_seen[row[0]])
    lines: list[str] = []
    number = 0
    for channel, group in groupby(by_channel, key=lambda row: row[0]):
        lines.append(f"    section {sanitize(channel, fallback='channel')}")
        for _channel, label, start, status in group:
            number += 1
            lines.append(task_line(label, start, status, f"t{number}", zone))
    return lines
