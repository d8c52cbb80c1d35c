"""Publications as a table, JSON or CSV, and one publication in full (``show``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import times
from scheduler.payload import publication_entry
from scheduler.planning import Publication
from scheduler.world import World

COLUMNS = ("id", "channel", "video", "due", "status", "type", "wave")
CSV_FIELDS = (*COLUMNS, "local", "platform", "file")
BATCH = 500  # publications rendered per chunk of ``json_chunks`` / ``csv_chunks``


def row(world: World, pub: Publication) -> dict[str, Any]:
    """The machine-readable form of one publication (the contract's list fields and more)."""
    channel = world.schedules.channels.get(pub.channel)
    return {
        "id": pub.id,
        "channel": pub.channel,
        "video": pub.video,
        "due": times.format_utc(pub.due),
        "status": world.status(pub),
        "type": pub.type,
        "wave": pub.wave,
        "local": times.format_local(pub.due, channel.zone) if channel else None,
        "platform": channel.platform if channel else None,
        "file": pub.file,
        "claimed": pub.claimed,
        "estimated": pub.estimated,
    }


def rows(world: World, pubs: Sequence[Publication]) -> list[dict[str, Any]]:
    """The machine-readable form of each publication, in order (see :func:`row`)."""
    return [row(world, pub) for pub in pubs]


def _batches(pubs: Sequence[Publication], size: int) -> Iterator[Sequence[Publication]]:
    """Yields ``pubs`` in consecutive slices of at most ``size``."""
    step = max(size, 1)
    for start in range(0, len(pubs), step):
        yield pubs[start : start + step]


def json_chunks(world: World, pubs: Sequence[Publication], *, batch: int = BATCH) -> Iterator[str]:
    """Yields the JSON array of publications piece by piece, ``batch`` publications at a time.

    Joined, the pieces are ``json.dumps(rows(world, pubs), indent=2, ensure_ascii=False)``
    followed by one newline: exactly what ``list --format json`` prints, built without ever
    holding more than one batch of rows.
    """
    if not pubs:
        yield "[]\n"
        return
    opening = "[\n"
    for part in _batches(pubs, batch):
        text = json.dumps(rows(world, part), indent=2, ensure_ascii=False)
        yield opening + text[2:-2]  # the elements, without this batch's "[\n" and "\n]"
        opening = ",\n"
    yield "\n]\n"


def csv_chunks(world: World, pubs: Sequence[Publication], *, batch: int = BATCH) -> Iterator[str]:
    """Yields CSV with a header row piece by piece: the header, then ``batch`` rows at a time,
    every line ended by a newline (what ``list --format csv`` prints)."""
    yield _csv_text([], header=True)
    for part in _batches(pubs, batch):
        yield _csv_text(rows(world, part), header=False)


def _csv_text(table: Sequence[dict[str, Any]], *, header: bool) -> str:
    """Returns ``table`` as CSV lines of :data:`CSV_FIELDS` (None as empty), the header first
    when ``header``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n"
    )
    if header:
        writer.writeheader()
    for values in table:
        writer.writerow({key: "" if value is None else value for key, value in values.items()})
    return buffer.getvalue()


def as_json(world: World, pubs: Sequence[Publication]) -> str:
    """Returns the JSON array of publications as one string (no final newline); for small
    lists: ``list`` streams :func:`json_chunks` instead."""
    return "".join(json_chunks(world, pubs)).removesuffix("\n")


def as_csv(world: World, pubs: Sequence[Publication]) -> str:
    """Returns CSV with a header row as one string (no final newline); for small lists:
    ``list`` streams :func:`csv_chunks` instead."""
    return "".join(csv_chunks(world, pubs)).rstrip("\n")


def as_text(world: World, pubs: Sequence[Publication], zone: ZoneInfo) -> str:
    """An aligned table: due in the display zone, the channel's local time, id, video, status."""
    table = [("DUE", "CHANNEL LOCAL", "CHANNEL", "ID", "VIDEO", "STATUS")]
    for row, pub in zip(rows(world, pubs), pubs, strict=True):
        status = row["status"] + (" (estimated)" if pub.estimated else "")
        table.append(
            (
                times.format_local(pub.due, zone),
                row["local"] or "",
                pub.channel,
                pub.id,
                pub.video,
                status,
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    lines.append(f"{len(pubs)} publication(s)")
    return "\n".join(lines)


def show(world: World, pub: Publication, zone: ZoneInfo) -> str:
    """Everything about one publication: where it comes from, its events, its exact payload."""
    channel = world.schedules.channels.get(pub.channel)
    lines = [
        f"id:       {pub.id}",
        f"status:   {world.status(pub)}",
        f"channel:  {pub.channel}"
        + (f" ({channel.platform}, {channel.timezone})" if channel else " (no longer defined)"),
        f"video:    {pub.video}",
        f"type:     {pub.type}" + (f" (wave {pub.wave})" if pub.wave else ""),
        f"due:      {times.format_utc(pub.due)} = {times.format_local(pub.due, zone)}"
        + (f" = {times.format_local(pub.due, channel.zone)} local" if channel else ""),
    ]
    if pub.file:
        pos = world.schedules.locate(pub.file, pub.loc)
        lines.append(f"file:     {pub.file}:{pos[0]}")
    else:
        lines.append("file:     (none: only the ledger knows it; its file was deleted or renamed)")
    if pub.claimed and pub.intent_due not in (None, pub.due):
        assert pub.intent_due is not None
        lines.append(
            f"note:     the file now says {times.format_utc(pub.intent_due)}: no effect, the claim fixed the due"
        )
    if pub.estimated:
        lines.append(
            f"note:     queue slot estimated at {times.format_utc(world.now)}; fixed when claimed"
        )
    if channel:
        target = channel.repo or "(outbox)"
        lines.append(f"dispatch: {target} event_type={channel.event_type}")
    lines.append("events:")
    events = pub.record.events if pub.record else ()
    lines += [
        f"  {ev.file}:{ev.line}  {json.dumps(dict(ev.data), ensure_ascii=False)}" for ev in events
    ] or ["  (none)"]
    attempt = (pub.record.attempt if pub.record else 0) or 1
    if pub.record is not None and pub.record.state == "released":
        attempt = pub.record.attempt + 1  # what the next claim will carry
    entry = publication_entry(pub, world.schedules, attempt=attempt)
    lines.append("payload (one entry of client_payload.publications):")
    lines += ["  " + line for line in json.dumps(entry, indent=2, ensure_ascii=False).splitlines()]
    return "\n".join(lines)
