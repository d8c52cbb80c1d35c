"""The plan of a change: markdown for the PR comment, text, JSON."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from scheduler import times
from scheduler.plan_diff import KINDS, PlanDiff, Row

MAX_ROWS = 200
MAX_CHARS = 65_536
MARKER = "<!-- scheduler-plan -->"


def _when(value: datetime | None) -> str:
    return times.format_utc(value) if value else "-"


def _counts(plan: PlanDiff) -> str:
    counts = Counter(row.kind for row in plan.rows)
    parts = [f"{counts[kind]} {kind}" for kind in KINDS if counts[kind]]
    return ", ".join(parts) or "no change to any publication"


def as_text(plan: PlanDiff, *, now: datetime) -> str:
    """One line per change, then the problems the change introduces."""
    lines = [f"plan: {_counts(plan)} ({plan.unchanged} unchanged)"]
    for row in plan.rows:
        arrow = f"{_when(row.old_due)} -> {_when(row.new_due)}"
        note = f"  ({row.note})" if row.note else ""
        estimate = f"  estimated at {times.format_utc(now)}" if row.estimated else ""
        lines.append(f"{row.kind:<10} {row.id:<40} {arrow}{note}{estimate}")
    for problem in plan.problems:
        lines.append("conflict: " + problem.render())
    return "\n".join(lines)


def as_json(plan: PlanDiff) -> str:
    """``{"changes": [...], "problems": [...], "unchanged": N}``."""
    return json.dumps(
        {
            "changes": [
                {
                    "kind": r.kind,
                    "id": r.id,
                    "channel": r.channel,
                    "video": r.video,
                    "old_due": times.format_utc(r.old_due) if r.old_due else None,
                    "new_due": times.format_utc(r.new_due) if r.new_due else None,
                    "note": r.note,
                    "estimated": r.estimated,
                }
                for r in plan.rows
            ],
            "problems": [
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "code": p.code,
                    "message": p.message,
                }
                for p in plan.problems
            ],
            "unchanged": plan.unchanged,
        },
        indent=2,
    )


def _cell(text: str) -> str:
    """``text`` safe in one table cell: pipes escaped, one line, no HTML tags."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def as_markdown(plan: PlanDiff, *, now: datetime, chart: str | None = None) -> str:
    """A PR comment: counts, conflicts, the table (first 200 rows), a mermaid chart.

    Always at most 65,536 characters: the chart goes first, then table rows from the end (the
    count of what was left out is said), so that every code fence stays closed.
    """
    head = _markdown_head(plan)
    rows = [_markdown_row(row, now) for row in plan.rows]
    shown = min(len(rows), MAX_ROWS)
    tail = ["", "```mermaid", chart, "```"] if chart else []
    text = _assemble(head, rows, shown, plan, tail)
    if len(text) > MAX_CHARS and tail:
        tail = ["", "_The chart is left out to fit a pull request comment._"]
        text = _assemble(head, rows, shown, plan, tail)
    while len(text) > MAX_CHARS and shown > 0:
        excess, drop = len(text) - MAX_CHARS, 0
        while drop < shown and excess > 0:
            drop += 1
            excess -= len(rows[shown - drop]) + 1
        shown -= drop
        text = _assemble(head, rows, shown, plan, tail)
    if len(text) > MAX_CHARS:  # the conflicts alone are too long
        cut = text[: MAX_CHARS - 200].rsplit("\n", 1)[0]
        text = (
            cut
            + "\n\n... (cut to fit a pull request comment; run `scheduler plan` for the whole plan)\n"
        )
    return text


def _markdown_head(plan: PlanDiff) -> list[str]:
    """The marker, the title, the counts and the conflicts."""
    parts = [
        MARKER,
        "### Publication plan",
        "",
        f"**{_counts(plan)}** ({plan.unchanged} unchanged)",
        "",
    ]
    if plan.problems:
        parts += ["**Conflicts this change introduces:**", ""]
        parts += [f"- `{p.file}:{p.line}` {_cell(p.message)}" for p in plan.problems[:50]]
        if len(plan.problems) > 50:
            parts.append(f"- ... and {len(plan.problems) - 50} more (see the validate job)")
        parts.append("")
    return parts


def _markdown_row(row: Row, now: datetime) -> str:
    """One table row."""
    note = row.note + (f" estimated at {times.format_utc(now)}" if row.estimated else "")
    return (
        f"| {row.kind} | `{_cell(row.id)}` | {_cell(row.channel)} | {_cell(row.video)} | "
        f"{_when(row.old_due)} | {_when(row.new_due)} | {_cell(note.strip())} |"
    )


def _assemble(head: list[str], rows: list[str], shown: int, plan: PlanDiff, tail: list[str]) -> str:
    """The comment with the first ``shown`` table rows and a summary of the others."""
    parts = list(head)
    if rows:
        parts += [
            "| change | publication | channel | video | before | after | note |",
            "|---|---|---|---|---|---|---|",
            *rows[:shown],
        ]
        if shown < len(rows):
            rest = Counter(row.kind for row in plan.rows[shown:])
            summary = ", ".join(f"{rest[kind]} {kind}" for kind in KINDS if rest[kind])
            parts.append(
                f"\n... and {len(rows) - shown} more rows ({summary}): run "
                "`scheduler plan --format text` for all"
            )
    return "\n".join([*parts, *tail]) + "\n"
