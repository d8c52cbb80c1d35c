"""Reading the schedule files from the working tree, and round-trip edits of wave files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from scheduler.errors import InputError
from scheduler.fixes import Shift
from scheduler.problems import Problem, error
from scheduler.yamltext import Loader

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
    _read_folder(str(base), SCHEDULES, files, problems)
    return files, problems


def _read_folder(folder: str, rel: str, files: dict[str, bytes], problems: list[Problem]) -> None:
    """Read ``folder`` (``rel`` from the root) into ``files``: its files by name, then its
    folders; symbolic links are problems, never followed."""
    with os.scandir(folder) as listing:
        entries = sorted(
            listing, key=lambda entry: (entry.is_dir(follow_symlinks=False), entry.name)
        )
    for entry in entries:
        path = f"{rel}/{entry.name}"
        if entry.is_symlink():
            message = (
                "symbolic links are not allowed under schedules/: replace it by the file itself"
            )
            problems.append(error(path, (0, 0), "symlink", message))
        elif entry.is_dir(follow_symlinks=False):
            _read_folder(entry.path, path, files, problems)
        elif entry.is_file(follow_symlinks=False):
            with open(entry.path, "rb") as handle:
                files[path] = handle.read()


def apply_fixes(root: Path, shifts: Sequence[Shift]) -> list[str]:
    """Write ``shifts`` into the wave files; returns the files changed.

    Each new value replaces exactly the characters of the old scalar (its quoting kept), so
    comments, indentation and every other byte of the file stay as they were.
    """
    changed: list[str] = []
    for file in sorted({shift.file for shift in shifts}):
        path = root / file
        text = path.read_text(encoding="utf-8")
        spans = []
        for shift in (s for s in shifts if s.file == file):
            node = _node_at(yaml.compose(text, Loader=Loader), shift.loc)
            if isinstance(node, yaml.ScalarNode):
                quote = node.style if node.style in ("'", '"') else ""
                value = shift.value
                if node.value.upper().endswith("Z") and value.endswith("+00:00"):
                    value = value.removesuffix("+00:00") + "Z"  # keep the form it was written in
                spans.append((node.start_mark.index, node.end_mark.index, f"{quote}{value}{quote}"))
        for start, end, value in sorted(spans, reverse=True):
            text = text[:start] + value + text[end:]
        if spans:
            path.write_text(text, encoding="utf-8")
            changed.append(file)
    return changed


def _node_at(node: yaml.Node | None, loc: Sequence[str | int]) -> yaml.Node | None:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            return None
    return node
