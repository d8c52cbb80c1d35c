"""Publications as one self-contained HTML calendar page (pure).

The page has no external resource at all (inline CSS, a little inline JavaScript, system
fonts), so it works offline and from GitHub Pages alike. It shows a month grid for every month
the publications span, then an agenda (one table, a row group per day); buttons switch between
them and checkboxes in the channel legend hide channels (without JavaScript everything is
shown). Each channel has one colour, its hue derived from a hash of its id and kept apart from
the other channels' hues (:func:`channel_hues`); status is an icon, a word and a class. Times are
in the display zone; the channel's local time and UTC are in each event's tooltip and in the
agenda. Every value from the files or the ledger is HTML-escaped; a video's URL and the
``params`` appear only with ``include_private``.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import groupby
from zoneinfo import ZoneInfo

from scheduler import times
from scheduler.views.timeline import (
    EMPTY,
    STATUS_MARKS,
    Entry,
    clock_in,
    day_heading,
    display_day,
    utc_clock,
)
from scheduler.world import World

TITLE = "Publication calendar"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_HUE_GAP = 60.0
GOLDEN_ANGLE = 137.508
HUE_STEPS = 64


def esc(value: object) -> str:
    """``value`` as text safe in HTML content and in double-quoted attributes."""
    return html.escape(str(value), quote=True)


def hash_hue(channel: str) -> float:
    """The hue (0-360) that a channel id hashes to: the same everywhere, for good."""
    digest = hashlib.sha256(channel.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 3600 / 10


def channel_hues(channels: Iterable[str]) -> dict[str, int]:
    """channel -> hue, in the order given (the repository's channels, in file order).

    A channel keeps its hashed hue while that lies at least 360 / (channels + 1) degrees (at
    most 60) from the hues of the channels before it; otherwise it takes, of 64 steps of the
    golden angle from its hashed hue, the one farthest from them. So two channels never share
    a colour by chance, and a channel's colour changes only when an earlier one crowds it.
    """
    ordered = list(dict.fromkeys(channels))
    wide = min(MAX_HUE_GAP, 360 / (len(ordered) + 1))
    hues: dict[str, float] = {}
    for channel in ordered:
        base = hash_hue(channel)
        if _nearest(base, hues.values()) < wide:
            steps = [(base + step * GOLDEN_ANGLE) % 360 for step in range(HUE_STEPS)]
            base = max(steps, key=lambda hue: _nearest(hue, hues.values()))
        hues[channel] = base
    return {channel: round(hue) % 360 for channel, hue in hues.items()}


def _nearest(hue: float, others: Iterable[float]) -> float:
    """Degrees from ``hue`` to the closest of ``others`` around the colour wheel (360 if none)."""
    return min((min(abs(hue - other), 360 - abs(hue - other)) for other in others), default=360.0)


def page(world: World, listed: Sequence[Entry], zone: ZoneInfo, *, include_private: bool) -> str:
    """The whole page."""
    shown = {entry.pub.channel for entry in listed}
    known = [*world.schedules.channels, *sorted(shown - set(world.schedules.channels))]
    hues = channel_hues(known)
    index = {channel: number for number, channel in enumerate(c for c in known if c in shown)}
    body = [_header(world, listed, zone)]
    if listed:
        body += [
            _controls(),
            _legend(world, listed, index),
            '<section id="month-view" aria-label="Month view">',
            *_months(listed, zone, index, today=world.now.astimezone(zone).date()),
            "</section>",
            _agenda(listed, zone, index, include_private=include_private),
        ]
    else:
        body.append(f'<p class="empty">{esc(EMPTY)}</p>')
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(TITLE)}</title>",
            f"<style>\n{_CSS}\n{_channel_css(index, hues)}\n</style>",
            "</head>",
            '<body data-show="both">',
            *body,
            f"<script>\n{_JS}\n</script>" if listed else "",
            "</body>",
            "</html>",
        ]
    )


def _channel_css(index: Mapping[str, int], hues: Mapping[str, int]) -> str:
    """One rule per channel shown: ``.c3{--h:210;--l:40%}`` (yellows and greens darker, so
    that every channel's text reads as well on white)."""
    rules = []
    for channel, number in index.items():
        hue = hues[channel]
        rules.append(f".c{number}{{--h:{hue};--l:{30 if 40 <= hue <= 200 else 40}%}}")
    return "\n".join(rules)


def _header(world: World, listed: Sequence[Entry], zone: ZoneInfo) -> str:
    """Title, what the page covers, and the counts by status."""
    now = times.format_local(world.now, zone)
    span = ""
    if listed:
        first, last = display_day(listed[0], zone), display_day(listed[-1], zone)
        span = f" from {first.isoformat()} to {last.isoformat()}"
    counts = Counter(entry.status for entry in listed)
    chips = " ".join(
        f'<span class="count s-{esc(status)}">{esc(STATUS_MARKS.get(status, "•"))} {esc(status)} {count}</span>'
        for status, count in sorted(counts.items(), key=lambda item: -item[1])
    )
    return (
        f"<header><h1>{esc(TITLE)}</h1>"
        f'<p class="sub">{len(listed)} publication(s){esc(span)} · times in <b>{esc(zone.key)}</b>'
        f" · computed at {esc(now)}</p>"
        f'<p class="counts">{chips}</p></header>'
    )


def _controls() -> str:
    """The view switch (shown by the script, useless without it)."""
    buttons = "".join(
        f'<button type="button" data-view="{view}" aria-pressed="{str(view == "both").lower()}">{label}</button>'
        for view, label in (("both", "Month + agenda"), ("month", "Month"), ("agenda", "Agenda"))
    )
    return f'<nav id="controls" class="controls" hidden aria-label="Views">{buttons}</nav>'


def _legend(world: World, listed: Sequence[Entry], index: Mapping[str, int]) -> str:
    """Channels (colour, platform, zone, count; a checkbox each) and the status icons."""
    counts = Counter(entry.pub.channel for entry in listed)
    items = []
    for channel, number in index.items():
        config = world.schedules.channels.get(channel)
        about = f"{config.platform} · {config.timezone}" if config else "no longer defined"
        items.append(
            f'<label class="chan c{number}"><input type="checkbox" checked data-filter="{number}">'
            f'<span class="swatch" aria-hidden="true"></span><span class="name">{esc(channel)}</span>'
            f" <small>{esc(about)} · {counts[channel]}</small></label>"
        )
    statuses = "".join(
        f'<span class="st s-{esc(status)}"><span class="ic" aria-hidden="true">{esc(mark)}</span> {esc(status)}</span>'
        for status, mark in STATUS_MARKS.items()
    )
    return (
        '<section class="legend" aria-label="Legend">'
        f'<div class="chans"><h2>Channels</h2>{"".join(items)}</div>'
        f'<div class="stats"><h2>Status</h2>{statuses}'
        '<span class="st"><span class="ic est">≈</span> estimated queue slot (fixed when claimed)</span></div>'
        "</section>"
    )


# --------------------------------------------------------------------------- month grid


def _months(
    listed: Sequence[Entry], zone: ZoneInfo, index: Mapping[str, int], *, today: date
) -> list[str]:
    """One grid per month from the first publication's month to the last's, in ``zone``."""
    by_date: dict[date, list[Entry]] = {}
    for entry in listed:
        by_date.setdefault(display_day(entry, zone), []).append(entry)
    first, last = min(by_date), max(by_date)
    year, month = first.year, first.month
    grids = []
    while (year, month) <= (last.year, last.month):
        grids.append(_month(year, month, by_date, zone, index, today=today))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return grids


def _month(
    year: int,
    month: int,
    by_date: Mapping[date, list[Entry]],
    zone: ZoneInfo,
    index: Mapping[str, int],
    *,
    today: date,
) -> str:
    """A Monday-first grid of one month; days of the neighbouring months are greyed."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    head = "".join(f'<th scope="col">{day}</th>' for day in WEEKDAYS)
    rows = []
    for week in weeks:
        cells = "".join(
            _day_cell(day, month, by_date.get(day, []), zone, index, today=today) for day in week
        )
        rows.append(f"<tr>{cells}</tr>")
    label = f"{calendar.month_name[month]} {year}"
    count = sum(
        len(entries) for day, entries in by_date.items() if (day.year, day.month) == (year, month)
    )
    return (
        f'<div class="month"><h2>{esc(label)} <small>{count} publication(s)</small></h2>'
        f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _day_cell(
    day: date,
    month: int,
    entries: Sequence[Entry],
    zone: ZoneInfo,
    index: Mapping[str, int],
    *,
    today: date,
) -> str:
    """One day of the grid, with its publications when the day belongs to ``month``."""
    classes = ["day"]
    if day.month != month:
        classes.append("out")
        entries = ()
    if day == today:
        classes.append("today")
    if day.weekday() >= 5:
        classes.append("weekend")
    chips = "".join(_chip(entry, zone, index, day) for entry in entries)
    items = f"<ul>{chips}</ul>" if chips else ""
    return f'<td class="{" ".join(classes)}"><div class="dn">{day.day}</div>{items}</td>'


def _chip(entry: Entry, zone: ZoneInfo, index: Mapping[str, int], day: date) -> str:
    """One publication in a day cell: time, status icon, channel, video; details in the title."""
    pub = entry.pub
    number = index[pub.channel]
    clock = clock_in(pub.due, zone, day).split(" ")[0]
    return (
        f'<li class="ev c{number} s-{esc(entry.status)}" data-c="{number}" title="{esc(tooltip(entry, zone))}">'
        f'<span class="tm">{_estimated(entry)}{esc(clock)}</span>'
        f'<span class="ic" aria-hidden="true">{esc(entry.mark)}</span>'
        f'<span class="ch">{esc(pub.channel)}</span> <span class="vd">{esc(pub.video)}</span>'
        f'<span class="sr"> {esc(entry.status_text)}</span></li>'
    )


def tooltip(entry: Entry, zone: ZoneInfo) -> str:
    """The lines shown on hover: id, video, times (display, channel local, UTC), status."""
    pub = entry.pub
    local = times.format_local(pub.due, entry.channel_zone) if entry.channel_zone else "unknown"
    return "\n".join(
        [
            pub.id,
            f"{pub.video}: {entry.title}",
            f"{times.format_local(pub.due, zone)} ({zone.key})",
            f"{local} local on {pub.channel}" + (f" ({entry.platform})" if entry.platform else ""),
            times.format_utc(pub.due),
            f"{entry.mark} {entry.status_text}",
        ]
    )


# --------------------------------------------------------------------------- agenda


def _agenda(
    listed: Sequence[Entry], zone: ZoneInfo, index: Mapping[str, int], *, include_private: bool
) -> str:
    """One table, a row group per day: time, channel, channel local, UTC, video, id, status
    (and url, params)."""
    names = [f"Time ({zone.key})", "Channel", "Channel local", "UTC", "Video", "ID", "Status"]
    names += ["URL", "Params"] if include_private else []
    head = "".join(f'<th scope="col">{esc(name)}</th>' for name in names)
    groups = []
    for day, group in groupby(listed, key=lambda entry: display_day(entry, zone)):
        rows = "".join(
            _agenda_row(entry, zone, index, day, include_private=include_private) for entry in group
        )
        heading = f'<tr class="dayrow"><th colspan="{len(names)}" scope="rowgroup">{esc(day_heading(day))}</th></tr>'
        groups.append(f'<tbody id="d{day.isoformat()}">{heading}{rows}</tbody>')
    return (
        '<section id="agenda-view" aria-label="Agenda"><h2>Agenda</h2>'
        f'<table class="agenda"><thead><tr>{head}</tr></thead>{"".join(groups)}</table></section>'
    )


def _agenda_row(
    entry: Entry, zone: ZoneInfo, index: Mapping[str, int], day: date, *, include_private: bool
) -> str:
    """One publication of the agenda; the tooltip repeats the details."""
    pub = entry.pub
    number = index[pub.channel]
    local = clock_in(pub.due, entry.channel_zone, day) if entry.channel_zone else "unknown"
    cells = [
        f'<td class="tm">{_estimated(entry)}{esc(clock_in(pub.due, zone, day))}</td>',
        f'<td><span class="tag c{number}">{esc(pub.channel)}</span></td>',
        f'<td class="tm" title="{esc(entry.channel_zone.key if entry.channel_zone else "")}">{esc(local)}</td>',
        f'<td class="tm">{esc(utc_clock(pub.due, day))}</td>',
        f'<td><span class="vd">{esc(pub.video)}</span> <small>{esc(entry.title)}</small></td>',
        f"<td><code>{esc(pub.id)}</code></td>",
        f'<td class="status s-{esc(entry.status)}"><span class="ic" aria-hidden="true">{esc(entry.mark)}</span> '
        f"{esc(entry.status_text)}</td>",
    ]
    if include_private:
        cells += [
            f'<td class="url">{_link(entry.url)}</td>',
            f'<td class="params"><code>{esc(_params(entry))}</code></td>',
        ]
    return f'<tr class="c{number}" data-c="{number}" title="{esc(tooltip(entry, zone))}">{"".join(cells)}</tr>'


def _estimated(entry: Entry) -> str:
    """``≈`` before the time of a queue slot that is still an estimate."""
    return '<span class="est" title="estimated queue slot">≈</span>' if entry.pub.estimated else ""


def _link(url: str | None) -> str:
    """A link for an http(s) URL; any other text shown as text, never as a link."""
    if not url:
        return ""
    if url.startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(url)}</a>'
    return esc(url)


def _params(entry: Entry) -> str:
    params = dict(entry.pub.params)
    return json.dumps(params, ensure_ascii=False, sort_keys=True) if params else ""


_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--panel:#f6f8fa;--today:#fff8c5;--cl:95%}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--bg:#0d1117;
--panel:#151b23;--today:#3b2e00;--cl:18%}
.ev .ch{color:hsl(var(--h) 70% 72%)!important}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1400px;padding:16px 20px 40px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:18px 0 8px}h3{font-size:14px;margin:16px 0 6px}
h2 small{font-weight:normal;color:var(--muted);font-size:13px}
.sub{margin:0 0 6px;color:var(--muted)}.counts{margin:0}
.count,.st{display:inline-block;margin:2px 8px 2px 0;white-space:nowrap}
.count{padding:1px 8px;border:1px solid var(--line);border-radius:10px;background:var(--panel)}
.controls{margin:10px 0}.controls button{font:inherit;padding:4px 12px;margin-right:4px;border:1px solid var(--line);
background:var(--panel);color:var(--fg);border-radius:6px;cursor:pointer}
.controls button[aria-pressed=true]{background:var(--fg);color:var(--bg)}
.legend{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;padding:8px 12px;
border:1px solid var(--line);border-radius:8px;background:var(--panel)}
.legend h2{font-size:13px;margin:2px 0 6px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.chan{display:inline-flex;align-items:center;gap:5px;margin:2px 14px 2px 0;white-space:nowrap;cursor:pointer}
.chan small{color:var(--muted)}.chan .name{font-weight:600}
.swatch{width:12px;height:12px;border-radius:3px;background:hsl(var(--h) 65% var(--l))}
.grid{width:100%;border-collapse:collapse;table-layout:fixed}
.grid th{font-size:12px;font-weight:600;color:var(--muted);padding:4px;border-bottom:1px solid var(--line);text-align:left}
.grid td{vertical-align:top;height:92px;padding:3px;border:1px solid var(--line)}
.grid td.weekend{background:var(--panel)}.grid td.out{background:var(--panel);color:var(--muted);opacity:.55}
.grid td.today{background:var(--today)}.grid td.today .dn{font-weight:700;color:var(--fg)}
.dn{font-size:12px;color:var(--muted);margin:0 0 2px 2px}
.grid ul{list-style:none;margin:0;padding:0}
.ev{display:flex;gap:4px;align-items:baseline;margin:0 0 2px;padding:1px 4px;font-size:12px;line-height:1.35;
border-left:4px solid hsl(var(--h) 65% var(--l));background:hsl(var(--h) 70% var(--cl));border-radius:3px;
white-space:nowrap;overflow:hidden}
.ev .tm{font-variant-numeric:tabular-nums;font-weight:600}
.ev .ch{color:hsl(var(--h) 65% var(--l));font-weight:600}
.ev .vd{overflow:hidden;text-overflow:ellipsis;min-width:0;color:var(--muted)}
.ic{display:inline-block;width:1.1em;text-align:center;font-weight:700}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.s-completed .ic{color:#1a7f37}.s-failed .ic,.s-missed .ic,.s-unconfirmed .ic,.s-unknown .ic{color:#cf222e}
.s-executing .ic,.s-scheduled .ic{color:#0969da}.s-paused .ic{color:#9a6700}.s-pending .ic,.s-cancelled .ic{color:var(--muted)}
.ev.s-cancelled .vd,.ev.s-cancelled .ch{text-decoration:line-through}
.ev.s-cancelled{opacity:.6}.ev.s-failed,.ev.s-missed,.ev.s-unknown,.ev.s-unconfirmed{outline:1px solid #cf222e}
.est{color:var(--muted);font-weight:600}
.agenda{width:100%;border-collapse:collapse}
.agenda .dayrow th{padding:14px 8px 4px;font-size:14px;color:var(--fg);border-bottom:2px solid var(--line)}
.agenda th,.agenda td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.agenda th{font-size:12px;color:var(--muted);font-weight:600}
.agenda td.tm,.agenda td.status{font-variant-numeric:tabular-nums;white-space:nowrap}
.agenda small{color:var(--muted)}.agenda code{font-size:12px;white-space:nowrap}
.agenda td.url{word-break:break-all;font-size:12px}.agenda td.params code{white-space:normal;word-break:break-word}
.tag{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:4px;color:#fff;background:hsl(var(--h) 65% var(--l));font-weight:600}
.off{display:none!important}
body[data-show=month] #agenda-view,body[data-show=agenda] #month-view{display:none}
.empty{padding:40px;text-align:center;color:var(--muted);border:1px dashed var(--line);border-radius:8px}
@media (max-width:800px){.legend{grid-template-columns:1fr}.grid td{height:auto}.ev .vd{display:none}}
""".strip()

_JS = """
(function () {
  var body = document.body;
  var buttons = document.querySelectorAll("[data-view]");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      body.setAttribute("data-show", button.getAttribute("data-view"));
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (box) {
    box.addEventListener("change", function () {
      var selector = '[data-c="' + box.getAttribute("data-filter") + '"]';
      document.querySelectorAll(selector).forEach(function (el) { el.classList.toggle("off", !box.checked); });
      document.querySelectorAll("#agenda-view tbody").forEach(function (day) {
        day.classList.toggle("off", !day.querySelector("tr[data-c]:not(.off)"));
      });
    });
  });
  document.getElementById("controls").hidden = false;
})();
""".strip()
