"""Small schedule trees for tests: built from dicts or raw text, loaded or written to disk.

A tree is a mapping of repository-relative paths (``schedules/waves/x.yaml``) to file contents.
:func:`tree` starts from a small valid base (three channels, three videos, no waves) and lays
waves, queues and raw files over it; :func:`write_tree` puts it under a directory;
:func:`run_cli` runs ``scheduler`` on such a directory through click's test runner; and
:func:`state_with` turns ledger lines into the state snapshot a command reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from scheduler.cli import main
from scheduler.ledger import encode_lines
from scheduler.ports import StateSnapshot
from scheduler.problems import Problem
from scheduler.times import parse_datetime, to_utc
from scheduler.world import World, build_world

NOW = "2030-11-20T00:00:00Z"

CHANNELS: dict[str, Any] = {
    "defaults": {"timezone": "UTC", "min_gap": "30m", "max_lateness": "1h"},
    "groups": {"fr": ["tiktok-fr", "ig-fr"]},
    "channels": {
        "yt-main": {
            "platform": "youtube",
            "dispatch": {"repo": "acme/yt-publisher"},
            "min_gap": "2h",
            "slots": [{"days": ["mon", "wed", "fri"], "times": ["18:00"]}],
        },
        "tiktok-fr": {
            "platform": "tiktok",
            "timezone": "Europe/Paris",
            "dispatch": {"repo": "acme/social-publisher"},
        },
        "ig-fr": {
            "platform": "instagram",
            "timezone": "Europe/Paris",
            "dispatch": {"repo": "acme/social-publisher"},
        },
    },
}

VIDEOS: dict[str, Any] = {
    "videos": {
        "teaser-01": {"title": "Teaser one", "url": "https://cdn.example.com/t1.mp4"},
        "teaser-02": {"title": "Teaser two", "url": "https://cdn.example.com/t2.mp4"},
        "clip-03": {"title": "Clip three", "url": "https://cdn.example.com/c3.mp4"},
    }
}

Content = str | bytes | Mapping[str, Any] | list[Any]


def to_yaml(value: Any) -> str:
    """Block-style YAML text of plain values, keys in the given order."""
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)


def encode(content: Content) -> bytes:
    """The bytes of a file: raw bytes, text, or plain values written as YAML."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    return to_yaml(content).encode()


def wave(
    video: str, at: str, channels: list[Any], *, type: str = "simultaneous", **extra: Any
) -> dict[str, Any]:
    """A wave file's content."""
    return {"video": video, "type": type, "at": at, **extra, "channels": channels}


def tree(
    *,
    channels: Content | None = None,
    videos: Content | None = None,
    waves: Mapping[str, Content] | None = None,
    queues: Mapping[str, Content] | None = None,
    files: Mapping[str, Content] | None = None,
) -> dict[str, bytes]:
    """A schedule tree: the base channels and videos unless given, then the waves
    (``{"launch": {...}}`` -> ``schedules/waves/launch.yaml``), queues (by channel) and any
    further ``files`` (full paths, which may also replace or add anything)."""
    result = {
        "schedules/channels.yaml": encode(CHANNELS if channels is None else channels),
        "schedules/videos.yaml": encode(VIDEOS if videos is None else videos),
    }
    for name, content in (waves or {}).items():
        result[f"schedules/waves/{name}.yaml"] = encode(content)
    for channel, content in (queues or {}).items():
        result[f"schedules/queues/{channel}.yaml"] = encode(content)
    for path, content in (files or {}).items():
        result[path] = encode(content)
    return result


def write_tree(root: Path, files: Mapping[str, bytes]) -> Path:
    """Write ``files`` under ``root`` (parents created) and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "schedules").mkdir(exist_ok=True)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


def run_cli(
    root: Path, *args: str, now: str = NOW, env: Mapping[str, str | None] | None = None
) -> Result:
    """``scheduler --root ROOT --now NOW ARGS...`` through click's runner (stderr apart).

    Variables of the surrounding CI run that change what commands do are unset unless
    given in ``env``.
    """
    runner = CliRunner()
    environment = {"GITHUB_STEP_SUMMARY": None, "SCHEDULER_STATE_REF": None, **(env or {})}
    return runner.invoke(main, ["--root", str(root), "--now", now, *args], env=environment)


def instant(text: str) -> datetime:
    """The UTC instant written ``text`` (with an offset or Z)."""
    return to_utc(parse_datetime(text))


def ledger_line(pub_id: str, event: str, at: str, **fields: Any) -> dict[str, Any]:
    """One ledger event as a dict (``due``, ``channel``, ``video`` ... as keyword arguments)."""
    return {"id": pub_id, "event": event, "at": at, **fields}


def ledger_bytes(lines: Iterable[Mapping[str, Any]]) -> bytes:
    """Ledger lines as the JSON-lines bytes of a ledger file."""
    return encode_lines(list(lines))


def state_with(
    lines: Iterable[Mapping[str, Any]] = (),
    *,
    ledger_file: str = "ledger/2030-12.jsonl",
    control: str | None = None,
) -> StateSnapshot:
    """A state snapshot holding ``lines`` in one ledger file (and ``control.yaml`` if given)."""
    files: dict[str, bytes] = {}
    rows = list(lines)
    if rows:
        files[ledger_file] = ledger_bytes(rows)
    if control is not None:
        files["control.yaml"] = control.encode()
    return StateSnapshot(commit="0" * 40 if files else None, files=files, source="memory")


def world_of(
    files: Mapping[str, bytes], *, now: str = NOW, state: StateSnapshot | None = None
) -> World:
    """Files + state + now, as every command builds it."""
    return build_world(files, state or StateSnapshot(commit=None), now=instant(now))


def problems_of(
    files: Mapping[str, bytes], *, now: str = NOW, state: StateSnapshot | None = None
) -> list[Problem]:
    """Every problem ``validate`` would report for ``files`` at ``now``."""
    return world_of(files, now=now, state=state).problems()


def rendered(problems: Iterable[Problem]) -> list[str]:
    """Each problem as ``file:line:col: severity: message [code]``."""
    return [problem.render() for problem in problems]


def json_rows(result: Result) -> Any:
    """The JSON printed on stdout by a command."""
    return json.loads(result.stdout)
