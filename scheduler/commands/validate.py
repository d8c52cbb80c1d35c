"""``scheduler validate``: problems of the working tree, or only those a change introduces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler import times
from scheduler.adapters.files import apply_fixes, read_schedules
from scheduler.adapters.parse_cache import CachedLoader
from scheduler.base import compare_with_base
from scheduler.errors import GitError, UsageError
from scheduler.fixes import suggested_shifts
from scheduler.problems import Problem
from scheduler.world import build_world

MAX_FIX_PASSES = 10  # a fix can reveal the next conflict; stop after this many rounds

if TYPE_CHECKING:
    from scheduler.cli import Options


def run_validate(
    opts: Options, *, base: str | None, fix: bool
) -> tuple[list[Problem], int, list[str]]:
    """(problems to report, number of schedule files checked, lines saying what --fix did)."""
    from scheduler.cli import read_state

    repo, state = read_state(opts)
    base_files = None
    if base is not None:
        if repo is None:
            raise UsageError("--base needs a git repository: run inside one, or drop --base")
        try:
            base_sha = repo.resolve(base)
        except GitError:
            base_sha = None
        if base_sha is None:
            raise UsageError(
                f"--base {base}: no such commit here (fetch it first, e.g. git fetch origin {base})"
            )
        base_files = repo.read_tree(base_sha, "schedules/")
    fixed: list[str] = []
    loader = CachedLoader(opts.root)
    for passes in range(MAX_FIX_PASSES + 1):
        files, file_problems = read_schedules(opts.root)
        world = build_world(
            files,
            state,
            now=opts.now,
            extra_problems=tuple(file_problems),
            loaded=loader.load(files),
            focused=True,
        )
        if base_files is None:
            found = world.problems()
        else:
            base_world = build_world(
                base_files, state, now=opts.now, loaded=loader.load(base_files), focused=True
            )
            found = compare_with_base(world, base_world)
        loader.save()
        shifts = suggested_shifts(world) if fix and passes < MAX_FIX_PASSES else []
        if not shifts:
            break
        apply_fixes(opts.root, shifts)
        fixed += [
            f"fixed {s.file}: moved '{s.pub_id}' to {times.format_utc(s.new_due)} ({'.'.join(map(str, s.loc))}: {s.value})"
            for s in shifts
        ]
    return found, len(files), fixed
