"""The status report as text and JSON."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from scheduler import times
from scheduler.health import Health
from scheduler.world import World


def as_text(world: World, report: Health, zone: ZoneInfo) -> str:
    """Counts, the next publications, then the problems."""
    counts = ", ".join(f"{name} {count}" for name, count in report.counts.items() if count)
    lines = [f"status at {times.format_local(world.now, zone)}: {counts or 'no publications'}"]
    if report.upcoming:
        lines.append("next:")
        for pub in report.upcoming:
            lines.append(f"  {times.format_local(pub.due, zone)}  {pub.id}  ({world.status(pub)})")
    if report.troubles:
        lines.append(f"problems ({len(report.troubles)}):")
        lines += [f"  {t.kind:<13} {t.subject}: {t.message}" for t in report.troubles]
    else:
        lines.append("no problems")
    return "\n".join(lines)


def as_json(world: World, report: Health) -> str:
    """``{"now", "counts", "next", "problems"}``."""
    return json.dumps(
        {
            "now": times.format_utc(world.now),
            "counts": report.counts,
            "next": [
                {"id": p.id, "due": times.format_utc(p.due), "status": world.status(p)}
                for p in report.upcoming
            ],
            "problems": [
                {"kind": t.kind, "subject": t.subject, "message": t.message}
                for t in report.troubles
            ],
        },
        indent=2,
    )
