"""Edits of control.yaml that keep its comments and layout (ruamel.yaml round trip; pure)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from scheduler.errors import InputError

HEADER = (
    "# Pauses and cancellations, written by `scheduler pause|resume|cancel` (never by hand).\n"
    "# Each entry records why, who and when; git history keeps every change.\n"
)


@dataclass(frozen=True)
class Change:
    """Set ``fields`` on one entry, or lift a flag from it (``lift``: ``paused``/``cancelled``).

    ``section`` is ``channels``, ``waves``, ``publications`` or ``""`` for the global flags.
    An entry left with neither flag is removed.
    """

    section: str
    key: str
    fields: Mapping[str, str] | None = None
    lift: str | None = None


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def apply_changes(text: str, changes: Iterable[Change]) -> str:
    """control.yaml ``text`` with ``changes`` applied; comments and order kept."""
    yaml = _yaml()
    try:
        data = yaml.load(text) if text.strip() else None
    except Exception as exc:  # ruamel raises many types; all mean "unreadable"
        raise InputError(
            f"state branch: control.yaml cannot be read ({exc}): restore it from git history"
        ) from None
    if data is None:
        data = CommentedMap()
        data.yaml_set_start_comment(HEADER.replace("# ", "").rstrip("\n"))
        data["paused"] = False
    if not isinstance(data, CommentedMap):
        raise InputError(
            "state branch: control.yaml must be a mapping: restore it from git history"
        )
    for change in changes:
        _apply(data, change)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _apply(data: CommentedMap, change: Change) -> None:
    if change.section == "":
        for key in ("paused", "reason", "until", "actor", "at"):
            data.pop(key, None)
        fields: Mapping[str, Any] = change.fields or {"paused": "false"}
        for position, (key, value) in enumerate(fields.items()):
            data.insert(position, key, _scalar(value))
        return
    section = data.get(change.section)
    if not isinstance(section, dict):
        if change.fields is None:
            return
        section = CommentedMap()
        data[change.section] = section
    entry = section.get(change.key)
    if not isinstance(entry, dict):
        entry = CommentedMap()
        entry.fa.set_flow_style()
    if change.fields is not None and "paused" in change.fields:
        entry.pop("until", None)  # a new pause replaces the old one's end
    if change.lift is not None:
        entry.pop(change.lift, None)
        if change.lift == "paused":
            entry.pop("until", None)
    for key, value in (change.fields or {}).items():
        entry[key] = _scalar(value)
    if entry.get("paused") is True or entry.get("cancelled") is True:
        section[change.key] = entry
    else:
        section.pop(change.key, None)
        if not section:
            data.pop(change.section, None)


def _scalar(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    return value
