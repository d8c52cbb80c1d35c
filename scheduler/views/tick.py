"""What a tick did, as text and as a job summary."""

from __future__ import annotations

from scheduler.tick import TickReport


def text(report: TickReport, *, dry_run: bool) -> str:
    """One line per action, then the counts."""
    lines = list(report.lines)
    prefix = "dry run, nothing written or sent: " if dry_run else ""
    lines.append(
        f"{prefix}{len(report.dispatched)} dispatched ({report.requests} request(s)), {len(report.failed)} failed, "
        f"{len(report.unknown)} unknown, {len(report.missed)} missed, {len(report.held)} newly held"
    )
    return "\n".join(lines)


def summary(report: TickReport) -> str:
    """A markdown job summary of the tick."""
    rows = ["### Scheduler tick", ""]
    for name in ("dispatched", "failed", "unknown", "missed", "held"):
        ids: list[str] = getattr(report, name)
        rows.append(
            f"- **{name}**: {len(ids)}"
            + (": " + ", ".join(f"`{i}`" for i in ids[:50]) if ids else "")
        )
        if len(ids) > 50:
            rows.append(f"  (and {len(ids) - 50} more)")
    return "\n".join(rows) + "\n"
