"""``scheduler plan``: the working tree's schedule against a base commit's."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from scheduler.adapters.files import read_schedules
from scheduler.adapters.parse_cache import CachedLoader
from scheduler.errors import UsageError
from scheduler.plan_diff import Row, diff
from scheduler.views import plan as plan_views
from scheduler.world import build_world

if TYPE_CHECKING:
    from scheduler.cli import Options


def run_plan(opts: Options, *, base: str | None, fmt: str) -> tuple[str, bool]:
    """The rendered plan, and whether the change introduces conflicts."""
    from scheduler.cli import read_state

    repo, state = read_state(opts)
    if repo is None:
        raise UsageError("plan compares with a git commit: run it inside a git repository")
    ref = base or repo.merge_base("HEAD", repo.default_branch()) or "HEAD"
    base_sha = repo.resolve(ref)
    if base_sha is None:
        raise UsageError(f"--base {ref}: no such commit here (fetch it first)")
    files, file_problems = read_schedules(opts.root)
    loader = CachedLoader(opts.root)
    head = build_world(
        files,
        state,
        now=opts.now,
        extra_problems=tuple(file_problems),
        loaded=loader.load(files),
    )
    base_files = repo.read_tree(base_sha, "schedules/")
    old = build_world(
        base_files, state, now=opts.now, loaded=loader.load(base_files), history=head.history
    )
    loader.save()
    result = diff(head, old)
    conflicts = bool(result.problems)
    if fmt == "json":
        return plan_views.as_json(result), conflicts
    if fmt == "markdown":
        return plan_views.as_markdown(result, now=opts.now, chart=_chart(result, head)), conflicts
    return plan_views.as_text(result, now=opts.now), conflicts


def _chart_due(row: Row) -> datetime | None:
    """Where the chart draws a row: when it will go out (a claimed one keeps its old due)."""
    return row.old_due if row.kind == "no effect" else row.new_due


def _chart(result: object, head: object) -> str | None:
    """A mermaid gantt of the affected window (None when nothing moved in time)."""
    try:
        from scheduler.views.mermaid import mermaid_chart
    except ImportError:
        return None
    from scheduler.plan_diff import PlanDiff
    from scheduler.world import World

    assert isinstance(result, PlanDiff) and isinstance(head, World)
    rows = [
        (r.channel, f"{r.kind} {r.id}", when, r.kind)
        for r in result.rows
        if (when := _chart_due(r)) is not None
    ]
    if not rows:
        return None
    return mermaid_chart(rows, "Affected publications")
