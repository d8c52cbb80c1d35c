"""Schedule files -> validated models, every error at file:line:column (query only).

Input is a mapping of repository-relative paths to bytes (the working tree through
``adapters/files.py``, or a base commit through ``adapters/git.py``), so the PR check and the
cron load exactly the same way.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from scheduler import models, slots, times
from scheduler.problems import Problem, did_you_mean, error
from scheduler.yamltext import ParseMemo, Source, YamlError, parse_yaml

ROOT = "schedules/"
M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEZONE = "UTC"
DEFAULT_MIN_GAP = timedelta(minutes=1)
DEFAULT_MAX_LATENESS = timedelta(hours=1)
DEFAULT_EVENT_TYPE = "publish"
DEFAULT_MAX_BATCH = 50


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A channel with every setting resolved over the defaults."""

    id: str
    platform: str
    timezone: str
    zone: ZoneInfo
    min_gap: timedelta
    max_lateness: timedelta
    lead: timedelta
    confirm_within: timedelta
    repo: str | None
    event_type: str
    max_batch: int
    reporters: tuple[str, ...]
    params: Mapping[str, Any]
    slots: tuple[slots.SlotRule, ...]
    formerly: tuple[str, ...]
    file: str


@dataclass(frozen=True, slots=True)
class WaveDoc:
    """One wave file: its validated model and the id it goes by."""

    path: str
    source: Source
    wave: models.Wave
    id: str


@dataclass(frozen=True, slots=True)
class QueueDoc:
    """One channel queue file."""

    path: str
    source: Source
    queue: models.Queue
    channel: str


@dataclass(frozen=True)
class Schedules:
    """Everything under ``schedules/`` that could be loaded.

    ``usable`` is False when the channels or videos could not be loaded: then nothing may act,
    and references to what could not be loaded are not reported as unknown.
    """

    channels: Mapping[str, ChannelConfig] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    group_files: Mapping[str, str] = field(default_factory=dict)
    videos: Mapping[str, models.Video] = field(default_factory=dict)
    video_files: Mapping[str, str] = field(default_factory=dict)
    waves: tuple[WaveDoc, ...] = ()
    queues: tuple[QueueDoc, ...] = ()
    sources: Mapping[str, Source] = field(default_factory=dict)
    default_timezone: str = DEFAULT_TIMEZONE
    usable: bool = True
    channels_loaded: bool = True  # False: references to channels cannot be judged
    videos_loaded: bool = True  # False: references to videos cannot be judged

    def platforms(self) -> Mapping[str, tuple[str, ...]]:
        """platform label -> its channels, in file order (computed once)."""
        cached: Mapping[str, tuple[str, ...]] | None = self.__dict__.get("_platforms")
        if cached is None:
            result: dict[str, list[str]] = {}
            for channel in self.channels.values():
                result.setdefault(channel.platform, []).append(channel.id)
            cached = {name: tuple(ids) for name, ids in result.items()}
            self.__dict__["_platforms"] = cached  # a cache, not state: the value never changes
        return cached

    def locate(self, path: str, loc: Iterable[str | int], *, key: bool = False) -> tuple[int, int]:
        """(line, column) of ``loc`` in the file ``path`` ((0, 0) when unknown)."""
        source = self.sources.get(path)
        return source.locate(list(loc), key=key) if source else (0, 0)


# --------------------------------------------------------------------------- file kinds


def classify(path: str) -> str | None:
    """The kind of a file under ``schedules/``: channels, videos, wave, queue; None if stray."""
    rel = path.removeprefix(ROOT)
    parts = rel.split("/")
    if not rel.endswith(".yaml"):
        return None
    if rel in ("channels.yaml", "videos.yaml"):
        return rel[:-5]
    if len(parts) == 2 and parts[0] in ("channels", "videos"):
        return parts[0]
    if parts[0] == "waves" and len(parts) >= 2:
        return "wave"
    if parts[0] == "queues" and len(parts) == 2:
        return "queue"
    return None


def _did_you_mean(path: str) -> str:
    rel = path.removeprefix(ROOT)
    stem, ext = posixpath.splitext(rel)
    if ext in (".yml", ".YAML", ".Yaml") and classify(ROOT + stem + ".yaml"):
        return f"did you mean {ROOT}{stem}.yaml?"
    parts = rel.split("/")
    if len(parts) > 1:
        guess = difflib.get_close_matches(parts[0], ["waves", "queues", "channels", "videos"], 1)
        if guess and classify(ROOT + "/".join([guess[0], *parts[1:]])):
            return f"did you mean {ROOT}{'/'.join([guess[0], *parts[1:]])}?"
    name = difflib.get_close_matches(rel, ["channels.yaml", "videos.yaml"], 1, 0.7)
    if name:
        return f"did you mean {ROOT}{name[0]}?"
    return (
        "files here are channels.yaml, videos.yaml, channels/*.yaml, videos/*.yaml, "
        "waves/**/*.yaml and queues/<channel>.yaml: move or delete it"
    )


# --------------------------------------------------------------------------- loading


def load_schedules(
    files: Mapping[str, bytes], memo: ParseMemo | None = None
) -> tuple[Schedules, list[Problem]]:
    """Load every file under ``schedules/`` (query); ``memo`` remembers parsed files by content.

    Returns what could be loaded and the problems found; a wave or queue file that cannot be
    loaded is left out (and reported), the rest stands.
    """
    problems: list[Problem] = []
    kinds: dict[str, list[str]] = {"channels": [], "videos": [], "wave": [], "queue": []}
    for path in sorted(files):
        if not path.startswith(ROOT) or posixpath.basename(path) == ".gitkeep":
            continue
        kind = classify(path)
        if kind is None:
            message = f"this file matches no schedule file pattern: {_did_you_mean(path)}"
            problems.append(error(path, (0, 0), "stray-file", message))
        else:
            kinds[kind].append(path)
    sources: dict[str, Source] = {}
    channels_ok, channels_file, defined_in = _load_channel_files(
        files, kinds["channels"], sources, problems, memo
    )
    videos_ok, videos, video_files = _load_video_files(
        files, kinds["videos"], sources, problems, memo
    )
    default_tz = DEFAULT_TIMEZONE
    if channels_file.defaults and channels_file.defaults.timezone:
        default_tz = channels_file.defaults.timezone
    channels = _resolve_channels(channels_file, defined_in)
    waves = _load_waves(files, kinds["wave"], sources, problems, memo)
    queues = _load_queues(files, kinds["queue"], sources, problems, memo)
    schedules = Schedules(
        channels=channels,
        groups={name: tuple(ids) for name, ids in channels_file.groups.items()},
        group_files={name: defined_in["group:" + name] for name in channels_file.groups},
        videos=videos,
        video_files=video_files,
        waves=waves,
        queues=queues,
        sources=sources,
        default_timezone=default_tz,
        usable=channels_ok and videos_ok,
        channels_loaded=channels_ok,
        videos_loaded=videos_ok,
    )
    problems.extend(_check_channels(schedules, channels_file))
    return schedules, problems


def parse_model(
    model: type[M], data: bytes | str, path: str, memo: ParseMemo | None = None
) -> tuple[M | None, Source | None, list[Problem]]:
    """Parse one file into ``model``: (model or None, its source, problems)."""
    try:
        raw, source = parse_yaml(data, path, memo)
    except YamlError as exc:
        return None, None, [exc.problem]
    if not isinstance(raw, dict):
        shape = "a list" if isinstance(raw, list) else "a single value"
        message = f"the file holds {shape}; it must be a mapping of keys (see the file reference)"
        return None, source, [error(path, (1, 1), "schema", message)]
    try:
        return model.model_validate(raw), source, []
    except ValidationError as exc:
        return None, source, _validation_problems(exc, source)


def _load_channel_files(
    files: Mapping[str, bytes],
    paths: list[str],
    sources: dict[str, Source],
    problems: list[Problem],
    memo: ParseMemo | None = None,
) -> tuple[bool, models.ChannelsFile, dict[str, str]]:
    """Merge the channel files: (loaded cleanly, the merged file, channel or group:x -> path)."""
    defined_in: dict[str, str] = {}
    if not paths:
        problems.append(
            error(
                ROOT + "channels.yaml",
                (0, 0),
                "missing-file",
                "no channels: create schedules/channels.yaml",
            )
        )
        return False, models.ChannelsFile(), defined_in
    if ROOT + "channels.yaml" in paths and len(paths) > 1:
        message = (
            "both schedules/channels.yaml and schedules/channels/ exist: keep one of the two forms"
        )
        problems.append(error(paths[-1], (0, 0), "duplicate-file", message))
    ok = True
    merged_defaults: models.Settings | None = None
    groups: dict[str, list[str]] = {}
    channels: dict[str, models.Channel] = {}
    for path in paths:
        parsed, source, found = parse_model(models.ChannelsFile, files[path], path, memo)
        problems.extend(found)
        if source:
            sources[path] = source
        if parsed is None or source is None:
            ok = False
            continue
        if parsed.defaults is not None:
            if merged_defaults is not None:
                pos = source.locate(["defaults"], key=True)
                problems.append(
                    error(
                        path,
                        pos,
                        "duplicate-defaults",
                        "defaults are given in two files: keep them in one",
                    )
                )
                ok = False
            merged_defaults = parsed.defaults
        for kind, target, new in (
            ("group", groups, parsed.groups),
            ("channel", channels, parsed.channels),
        ):
            for name, value in new.items():
                if name in target:
                    pos = source.locate([kind + "s", name], key=True)
                    problems.append(
                        error(
                            path,
                            pos,
                            f"duplicate-{kind}",
                            f"{kind} '{name}' is defined twice: rename or remove one",
                        )
                    )
                    ok = False
                target[name] = value  # type: ignore[assignment]
                defined_in[("group:" if kind == "group" else "") + name] = path
    merged = models.ChannelsFile.model_construct(
        defaults=merged_defaults, groups=groups, channels=channels
    )
    return ok, merged, defined_in


def _load_video_files(
    files: Mapping[str, bytes],
    paths: list[str],
    sources: dict[str, Source],
    problems: list[Problem],
    memo: ParseMemo | None = None,
) -> tuple[bool, dict[str, models.Video], dict[str, str]]:
    if not paths:
        problems.append(
            error(
                ROOT + "videos.yaml",
                (0, 0),
                "missing-file",
                "no video registry: create schedules/videos.yaml",
            )
        )
        return False, {}, {}
    ok = True
    videos: dict[str, models.Video] = {}
    where: dict[str, str] = {}
    for path in paths:
        parsed, source, found = parse_model(models.VideosFile, files[path], path, memo)
        problems.extend(found)
        if source:
            sources[path] = source
        if parsed is None or source is None:
            ok = False
            continue
        for name, video in parsed.videos.items():
            if name in videos:
                pos = source.locate(["videos", name], key=True)
                message = f"video '{name}' is registered twice (also in {where[name]}): keep one"
                problems.append(error(path, pos, "duplicate-video", message))
                ok = False
            videos[name] = video
            where[name] = path
    return ok, videos, where


def _load_waves(
    files: Mapping[str, bytes],
    paths: list[str],
    sources: dict[str, Source],
    problems: list[Problem],
    memo: ParseMemo | None = None,
) -> tuple[WaveDoc, ...]:
    docs: list[WaveDoc] = []
    seen: dict[str, str] = {}
    for path in paths:
        parsed, source, found = parse_model(models.Wave, files[path], path, memo)
        problems.extend(found)
        if parsed is None or source is None:
            continue
        sources[path] = source
        wave_id = parsed.id or posixpath.splitext(posixpath.basename(path))[0]
        pos = source.locate(["id"]) if parsed.id else (1, 1)
        if not models.IDENT_RE.fullmatch(wave_id):
            message = f"the wave id '{wave_id}' (from the file name) is not a valid id: rename the file or set id:"
            problems.append(error(path, pos, "bad-id", message))
            continue
        if wave_id == "queue":
            problems.append(
                error(
                    path,
                    pos,
                    "bad-id",
                    "'queue' is reserved for queue publications: choose another wave id",
                )
            )
            continue
        if wave_id in seen:
            message = f"wave id '{wave_id}' is already used by {seen[wave_id]}: set a different id:"
            problems.append(error(path, pos, "duplicate-wave", message))
            continue
        seen[wave_id] = path
        docs.append(WaveDoc(path, source, parsed, wave_id))
    return tuple(docs)


def _load_queues(
    files: Mapping[str, bytes],
    paths: list[str],
    sources: dict[str, Source],
    problems: list[Problem],
    memo: ParseMemo | None = None,
) -> tuple[QueueDoc, ...]:
    docs: list[QueueDoc] = []
    for path in paths:
        parsed, source, found = parse_model(models.Queue, files[path], path, memo)
        problems.extend(found)
        if parsed is None or source is None:
            continue
        sources[path] = source
        docs.append(QueueDoc(path, source, parsed, posixpath.splitext(posixpath.basename(path))[0]))
    return tuple(docs)


# --------------------------------------------------------------------------- channels


def _resolve_channels(
    channels_file: models.ChannelsFile, files_of: Mapping[str, str]
) -> dict[str, ChannelConfig]:
    base = channels_file.defaults or models.Settings()
    result: dict[str, ChannelConfig] = {}
    for name, channel in channels_file.channels.items():
        result[name] = resolve_channel(
            name, channel, base, files_of.get(name, ROOT + "channels.yaml")
        )
    return result


def resolve_channel(
    name: str, channel: models.Channel, base: models.Settings, file: str
) -> ChannelConfig:
    """One channel's settings over the defaults (dispatch and params merged shallowly)."""
    dispatch = {**_fields(base.dispatch), **_fields(channel.dispatch)}
    timezone = channel.timezone or base.timezone or DEFAULT_TIMEZONE
    return ChannelConfig(
        id=name,
        platform=channel.platform,
        timezone=timezone,
        zone=times.load_zone(timezone),
        min_gap=_first(channel.min_gap, base.min_gap, DEFAULT_MIN_GAP),
        max_lateness=_first(channel.max_lateness, base.max_lateness, DEFAULT_MAX_LATENESS),
        lead=_first(channel.lead, base.lead, timedelta(0)),
        confirm_within=_first(channel.confirm_within, base.confirm_within, timedelta(0)),
        repo=dispatch.get("repo"),
        event_type=dispatch.get("event_type") or DEFAULT_EVENT_TYPE,
        max_batch=dispatch.get("max_batch") or DEFAULT_MAX_BATCH,
        reporters=tuple(dict.fromkeys([*(base.reporters or []), *(channel.reporters or [])])),
        params={**(base.params or {}), **(channel.params or {})},
        slots=tuple(slot.rule() for slot in channel.slots or []),
        formerly=tuple(channel.formerly),
        file=file,
    )


def _fields(model: BaseModel | None) -> dict[str, Any]:
    if model is None:
        return {}
    return {key: value for key, value in model if value is not None}


def _first(*values: timedelta | None) -> timedelta:
    for value in values:
        if value is not None:
            return value
    raise AssertionError("a default is always given")


def _check_channels(schedules: Schedules, channels_file: models.ChannelsFile) -> list[Problem]:
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for channel in schedules.channels.values():
        for old in channel.formerly:
            pos = schedules.locate(channel.file, ["channels", channel.id, "formerly"])
            if old in schedules.channels:
                message = f"'{old}' in formerly of '{channel.id}' is a current channel: remove it from formerly"
                problems.append(error(channel.file, pos, "formerly-clash", message))
            elif old in owner:
                message = f"'{old}' is claimed by formerly of both '{owner[old]}' and '{channel.id}': keep one"
                problems.append(error(channel.file, pos, "formerly-clash", message))
            owner[old] = channel.id
    for group, members in schedules.groups.items():
        for index, member in enumerate(members):
            if member not in schedules.channels and schedules.channels_loaded:
                file = schedules.group_files.get(group, ROOT + "channels.yaml")
                pos = schedules.locate(file, ["groups", group, index])
                message = f"group '{group}' lists unknown channel '{member}'{did_you_mean(member, schedules.channels)}"
                problems.append(error(file, pos, "unknown-channel", message))
    return problems


# --------------------------------------------------------------------------- pydantic errors

_ALL_KEYS = sorted(
    {
        name
        for model in (
            models.Settings,
            models.Channel,
            models.ChannelsFile,
            models.DispatchSettings,
            models.Slot,
            models.VideosFile,
            models.ChannelItem,
            models.Wave,
            models.QueueItem,
            models.Queue,
        )
        for name in model.model_fields
    }
)


def _validation_problems(exc: ValidationError, source: Source) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[int, int, str]] = set()
    for item in exc.errors(include_url=False):
        loc = _file_loc(item["loc"])
        on_key = "[key]" in item["loc"]
        kind = item["type"]
        where = ".".join(str(part) for part in loc) or "the file"
        if kind == "extra_forbidden":
            key = str(loc[-1])
            close = difflib.get_close_matches(key, _ALL_KEYS, 1)
            hint = (
                f": did you mean '{close[0]}'?" if close else ": remove it (see the file reference)"
            )
            message, pos = f"unknown key '{key}'{hint}", source.locate(loc, key=True)
        elif kind == "missing":
            message, pos = f"missing key '{loc[-1]}'", source.locate(loc[:-1])
            if len(loc) > 1:
                message += f" in {'.'.join(str(part) for part in loc[:-1])}"
        else:
            text = str(item["msg"]).removeprefix("Value error, ")
            message, pos = f"{where}: {text}", source.locate(loc, key=on_key)
        if (pos[0], pos[1], message) in seen:
            continue
        seen.add((pos[0], pos[1], message))
        problems.append(error(source.path, pos, "schema", message))
    return problems


def _file_loc(loc: tuple[str | int, ...]) -> list[str | int]:
    """A pydantic error location as a path in the file: union tags after a list index
    (``ref``/``item``) and ``[key]`` markers are not keys of the document."""
    result: list[str | int] = []
    for part in loc:
        tag = part in ("ref", "item") and bool(result) and isinstance(result[-1], int)
        if part != "[key]" and not tag:
            result.append(part)
    return result
