"""``scheduler validate``: problems of the working tree, or only those a change introduces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.adapters.files import read_schedules
from scheduler.base import compare_with_base
from scheduler.errors import UsageError
from scheduler.problems import Problem
from scheduler.world import build_world

if TYPE_CHECKING:
    from scheduler.cli import Options


def run_validate(opts: Options, *, base: str | None, fix: bool) -> tuple[list[Problem], int]:
    """(problems to report, number of schedule files checked)."""
    from scheduler.cli import read_state

    files, file_problems = read_schedules(opts.root)
    repo, state = read_state(opts)
    world = build_world(files, state, now=opts.now, extra_problems=tuple(file_problems))
    found = world.problems()
    if base is not None:
        if repo is None:
            raise UsageError("--base needs a git repository: run inside one, or drop --base")
        base_sha = repo.resolve(base)
        if base_sha is None:
            raise UsageError(
                f"--base {base}: no such commit here (fetch it first, e.g. git fetch origin {base})"
            )
        base_files = repo.read_tree(base_sha, "schedules/")
        base_world = build_world(base_files, state, now=opts.now)
        found = compare_with_base(world, base_world)
    if fix:
        from scheduler.adapters.files import apply_fixes

        fixed = apply_fixes(opts.root, world, found)
        if fixed:
            files, file_problems = read_schedules(opts.root)
            world = build_world(files, state, now=opts.now, extra_problems=tuple(file_problems))
            found = world.problems()
    return found, len(files)
