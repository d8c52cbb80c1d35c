"""Publications as a table, JSON or CSV, and one publication in full (``show``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import times
from scheduler.payload import publication_entry
from scheduler.planning import Publication
from scheduler.world import World

COLUMNS = ("id", "channel", "video", "due", "status", "type", "wave")


def rows(world: World, pubs: Sequence[Publication]) -> list[dict[str, Any]]:
    """The machine-readable form of each publication (the contract's list fields and more)."""
    result = []
    for pub in pubs:
        channel = world.schedules.channels.get(pub.channel)
        result.append(
            {
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
        )
    return result


def as_json(world: World, pubs: Sequence[Publication]) -> str:
    """A JSON array of publications."""
    return json.dumps(rows(world, pubs), indent=2, ensure_ascii=False)


def as_csv(world: World, pubs: Sequence[Publication]) -> str:
    """CSV with a header row."""
    buffer = io.StringIO()
    fields = [*COLUMNS, "local", "platform", "file"]
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows(world, pubs):
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue().rstrip("\n")


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
