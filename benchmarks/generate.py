"""Generate a large, valid scheduler repository for benchmarks.

    python benchmarks/generate.py OUT_DIR --waves N --channels C --queues Q --events E [--seed S]

The repository gets, on ``main`` (one commit):

- ``schedules/channels.yaml``: C channels over 8 platforms and 10 time zones, 50 publisher
  repositories, two groups per block of 10 channels plus one group per region, posting slots
  for the Q queue channels;
- the video registry (``schedules/videos.yaml``, or ``schedules/videos/*.yaml`` beyond 40,000
  videos so that no file passes the 10 MB limit);
- N wave files under ``schedules/waves/<yyyy-mm>/`` from January 2031 on, one an hour, half
  simultaneous and half staggered, 10 channels each (plain ids, ``group:`` and
  ``{channel:, delay:}`` / ``{channel:, params:}`` items);
- Q queue files ``schedules/queues/<channel>.yaml`` of about 10 videos each.

On ``scheduler-state`` (one commit written with git plumbing): ``control.yaml`` and a ledger of
E events as the tick writes them. The first waves (one in 20, at most E/24 of them) are already
sent: their publications have ``claimed`` and ``dispatched`` events (``published`` too where
the channel expects a confirmation). The rest of the events belong to older waves whose files
were deleted from ``main`` (ledger-only publications, from the years before 2031): mostly
claimed + dispatched (+ published), some ``failed`` (final), ``unknown``, ``missed`` and
``held``. The commit carries one ``Scheduler-Ledger:`` trailer per ledger file.

Every (channel, video) pair is used once and a channel's publications are hours apart, so the
schedule validates with no error. ``.git/scheduler-bench.json`` records the parameters and the
instants to use as ``--now``: ``now`` (the first upcoming wave is due), ``before_first_wave``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

GENERATOR_VERSION = 3
ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # one, not one per line
META_FILE = "scheduler-bench.json"
STATE_REF = "scheduler-state"
FIRST_WAVE = datetime(2031, 1, 6, 0, 0, tzinfo=UTC)  # a Monday
BLOCK = 10  # channels per wave
STAGGER_SPAN = timedelta(hours=3)  # the longest staggered wave (9 x 20m, or a 3h delay)
VIDEOS_PER_FILE = 40_000
PLATFORMS = ("youtube", "tiktok", "instagram", "x", "linkedin", "facebook", "threads", "snapchat")
ZONES = {
    "Europe/Paris": "fr",
    "America/New_York": "us",
    "Asia/Tokyo": "jp",
    "UTC": "global",
    "America/Los_Angeles": "usw",
    "Europe/London": "uk",
    "Australia/Sydney": "au",
    "Asia/Kolkata": "in",
    "America/Sao_Paulo": "br",
    "Europe/Berlin": "de",
}
DEFAULT_ZONE = "Europe/Paris"
OWNERS = ("acme-media", "acme-social", "acme-video", "acme-intl", "acme-labs")
PUBLISHERS = tuple(f"{OWNERS[k % len(OWNERS)]}/publisher-{k:02d}" for k in range(50))
EVERY = ("5m", "10m", "15m", "20m")
DELAYS = ("0s", "15m", "45m", "2h", "2h30m", "3h")
SLOT_SHAPES = (
    ("[mon, wed, fri]", "[09:00, 18:30]"),
    ("[mon, tue, wed, thu, fri]", "[12:00]"),
    ("[sat, sun]", "[10:00, 16:00]"),
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Generator",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Generator",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_AUTHOR_DATE": "2030-12-31T00:00:00Z",
    "GIT_COMMITTER_DATE": "2030-12-31T00:00:00Z",
}


@dataclass(frozen=True)
class Params:
    """What to generate."""

    waves: int
    channels: int
    queues: int
    events: int
    seed: int = 0
    summaries: bool = True  # write the month summaries the scheduler keeps for closed months

    def key(self) -> str:
        """A directory name that identifies these parameters (and the generator's version)."""
        plain = "" if self.summaries else "-nosum"
        return f"w{self.waves}-c{self.channels}-q{self.queues}-e{self.events}-s{self.seed}{plain}-g{GENERATOR_VERSION}"


@dataclass(frozen=True)
class Channel:
    """A generated channel."""

    id: str
    platform: str
    zone: str  # the effective zone (the default's when ``own_zone`` is False)
    own_zone: bool
    repo: str
    lead: timedelta
    confirms: bool
    slots: int | None  # index into SLOT_SHAPES for queue channels


@dataclass(frozen=True)
class Pub:
    """One generated publication: what the ledger needs to know of it."""

    id: str
    channel: Channel
    video: str
    due: datetime
    max_lateness: timedelta


@dataclass(frozen=True)
class Timeline:
    """Where the waves sit: ``step`` apart, past waves from FIRST_WAVE, upcoming from ``upcoming``."""

    step: timedelta
    past: int
    upcoming: datetime

    def due(self, index: int) -> datetime:
        """The ``at`` of wave ``index`` (0 = FIRST_WAVE; negative: ledger-only history)."""
        if index < self.past:
            return FIRST_WAVE + index * self.step
        return self.upcoming + (index - self.past) * self.step


# --------------------------------------------------------------------------- formatting


def fmt_utc(instant: datetime) -> str:
    """``2031-01-06T05:00:00Z``."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    return instant.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def fmt_duration(delta: timedelta) -> str:
    """``1h30m``-style text of a whole number of minutes (``0s`` for zero)."""
    minutes = int(delta.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text or "0s"


def parse_duration(text: str) -> timedelta:
    """The few durations this generator writes: ``0s``, ``15m``, ``2h``, ``2h30m``."""
    if text == "0s":
        return timedelta(0)
    hours, _, rest = text.partition("h") if "h" in text else ("0", "", text)
    minutes = rest.removesuffix("m") or "0"
    return timedelta(hours=int(hours), minutes=int(minutes))


# --------------------------------------------------------------------------- channels


def make_channels(params: Params, rng: random.Random) -> list[Channel]:
    """C channels; the first Q of a shuffled order get posting slots (queue channels)."""
    zones = list(ZONES)
    queue_set = set(rng.sample(range(params.channels), min(params.queues, params.channels)))
    result = []
    for k in range(params.channels):
        platform = PLATFORMS[k % len(PLATFORMS)]
        zone = zones[(k // len(PLATFORMS)) % len(zones)]
        own_zone = zone != DEFAULT_ZONE or k % 3 == 0
        result.append(
            Channel(
                id=f"{platform}-{ZONES[zone]}-{k:05d}",
                platform=platform,
                zone=zone,
                own_zone=own_zone,
                repo=PUBLISHERS[k % len(PUBLISHERS)],
                lead=timedelta(minutes=10) if k % 3 == 1 else timedelta(minutes=5),
                confirms=platform == "youtube",
                slots=k % len(SLOT_SHAPES) if k in queue_set else None,
            )
        )
    return result


def make_blocks(channels: Sequence[Channel], rng: random.Random) -> list[list[Channel]]:
    """Disjoint blocks of 10 channels (a seeded shuffle), each wave on one block."""
    order = list(channels)
    rng.shuffle(order)
    return [order[start : start + BLOCK] for start in range(0, len(order) - BLOCK + 1, BLOCK)]


def block_groups(index: int) -> tuple[str, str]:
    """The two group names of block ``index``: its first 3 channels and its next 2."""
    return f"blk{index:03d}-core", f"blk{index:03d}-pair"


def channels_yaml(channels: Sequence[Channel], blocks: Sequence[Sequence[Channel]]) -> str:
    """The text of schedules/channels.yaml."""
    lines = [
        "# Generated for benchmarks: channels over 8 platforms, 10 time zones, 50 publishers.",
        "defaults:",
        f"  timezone: {DEFAULT_ZONE}",
        "  min_gap: 1m",
        "  max_lateness: 1h",
        "  lead: 5m",
        "  confirm_within: 0m",
        "  dispatch:",
        "    event_type: publish",
        "    max_batch: 50",
        "  reporters: [acme-publisher-bot]",
        "",
        "groups:",
    ]
    for index, block in enumerate(blocks):
        core, pair = block_groups(index)
        lines.append(f"  {core}: [{', '.join(ch.id for ch in block[:3])}]")
        lines.append(f"  {pair}: [{', '.join(ch.id for ch in block[3:5])}]")
    by_region: dict[str, list[str]] = defaultdict(list)
    for channel in channels:
        by_region[ZONES[channel.zone]].append(channel.id)
    for region, ids in sorted(by_region.items()):
        lines.append(f"  region-{region}: [{', '.join(ids)}]")
    lines += ["", "channels:"]
    for channel in channels:
        lines += channel_lines(channel)
    return "\n".join(lines) + "\n"


def channel_lines(channel: Channel) -> list[str]:
    """One channel's entry in channels.yaml."""
    number = int(channel.id.rsplit("-", 1)[1])
    lines = [f"  {channel.id}:", f"    platform: {channel.platform}"]
    if channel.own_zone:
        lines.append(f"    timezone: {channel.zone}")
    lines.append(f"    dispatch: {{repo: {channel.repo}}}")
    if number % 4 == 0:
        lines.append("    min_gap: 30m")
    if channel.lead != timedelta(minutes=5):
        lines.append(f"    lead: {fmt_duration(channel.lead)}")
    if channel.confirms:
        lines.append("    confirm_within: 30m")
    if number % 2 == 0:
        lines.append(f"    params: {{account: '{channel.id}', language: {ZONES[channel.zone]}}}")
    if channel.slots is not None:
        days, hours = SLOT_SHAPES[channel.slots]
        lines += ["    slots:", f"      - days: {days}", f"        times: {hours}"]
    return lines


# --------------------------------------------------------------------------- waves


def timeline(params: Params, blocks: int) -> Timeline:
    """One wave an hour (longer when there are few blocks, so that a channel waits >= 6 h)."""
    minutes = max(60, -(-6 * 60 // blocks))
    step = timedelta(minutes=minutes)
    past = min(params.waves // 20, params.events // 24)
    last_past_end = FIRST_WAVE + (past - 1) * step + STAGGER_SPAN if past else FIRST_WAVE
    upcoming = max(FIRST_WAVE, last_past_end + timedelta(hours=6))
    upcoming = upcoming.replace(minute=0, second=0) + timedelta(hours=1 if upcoming.minute else 0)
    return Timeline(step, past, upcoming)


def wave_entries(
    index: int, block: Sequence[Channel], block_index: int, rng: random.Random
) -> list[tuple[str, Any]]:
    """The channel list of a wave as (kind, value) pairs: ("group", name), ("id", channel),
    ("delay", (channel, delay)), ("params", channel), ("cancelled", channel)."""
    core, pair = block_groups(block_index)
    entries: list[tuple[str, Any]] = [("group", core)]
    rest = list(block[3:])
    if index % 3 == 0:
        entries.append(("group", pair))
        rest = rest[2:]
    staggered = index % 2 == 1
    for position, channel in enumerate(rest):
        if position < 2:
            entries.append(("delay" if staggered else "params", (channel, rng.choice(DELAYS))))
        elif index % 20 == 7 and position == len(rest) - 1:
            entries.append(("cancelled", channel))
        else:
            entries.append(("id", channel))
    rng.shuffle(entries)
    return entries


def first_zone(entries: Sequence[tuple[str, Any]]) -> str:
    """The zone scheduler's offset check uses: the first entry naming a channel, else the default."""
    for kind, value in entries:
        if kind == "id" or kind == "cancelled":
            return str(value.zone)
        if kind in ("delay", "params"):
            return str(value[0].zone)
    return DEFAULT_ZONE


def at_lines(index: int, due: datetime, zone_name: str) -> list[str]:
    """``at:`` written as Z, as the zone's real offset, or naive with ``timezone:``."""
    zone = ZoneInfo(zone_name)
    local = due.astimezone(zone)
    naive = local.replace(tzinfo=None)
    unambiguous = (
        naive.replace(tzinfo=zone, fold=0).utcoffset()
        == naive.replace(tzinfo=zone, fold=1).utcoffset()
    )
    if index % 3 == 2 and unambiguous:
        return [f"at: {naive.isoformat()}", f"timezone: {zone_name}"]
    if index % 3 == 1:
        return [f"at: {local.isoformat()}"]
    return [f"at: {fmt_utc(due)}"]


def entry_line(kind: str, value: Any, index: int) -> str:
    """One line of a wave's ``channels:`` list."""
    if kind == "group":
        return f"  - group:{value}"
    if kind == "id":
        return f"  - {value.id}"
    if kind == "cancelled":
        return f"  - {{channel: {value.id}, cancelled: true}}"
    channel, delay = value
    if kind == "delay":
        return f"  - {{channel: {channel.id}, delay: {delay}}}"
    return (
        f'  - {{channel: {channel.id}, params: {{caption: "Clip {index} on {channel.platform}"}}}}'
    )


@dataclass(frozen=True)
class WaveFile:
    """A generated wave file and the publications it makes."""

    path: str
    text: str
    pubs: tuple[Pub, ...]


def make_wave(
    index: int,
    due: datetime,
    block: Sequence[Channel],
    block_index: int,
    rng: random.Random,
    last_tenth: bool,
) -> WaveFile:
    """Wave ``index``: its file text and its publications (due instants as the scheduler computes)."""
    entries = wave_entries(index, block, block_index, rng)
    staggered = index % 2 == 1
    every = rng.choice(EVERY)
    video = f"clip-{index:06d}"
    stem = f"{due:%Y-%m-%d}-{video}"
    wave_id = f"launch-{index:06d}" if index % 7 == 3 else stem
    lines = [f"# Wave {index}: {video} on block {block_index}."]
    if wave_id != stem:
        lines.append(f"id: {wave_id}")
    lines += [f"video: {video}", f"type: {'staggered' if staggered else 'simultaneous'}"]
    lines += at_lines(index, due, first_zone(entries))
    if staggered:
        lines.append(f"every: {every}")
    max_lateness = timedelta(hours=1)
    if index % 5 == 0:
        max_lateness = timedelta(minutes=30)
        lines.append("max_lateness: 30m")
    lines.append(
        f"params: {{campaign: camp-{index // 100:04d}{', hero: true' if last_tenth else ''}}}"
    )
    lines.append("channels:")
    lines += [entry_line(kind, value, index) for kind, value in entries]
    pubs = tuple(
        _wave_pubs(
            wave_id,
            video,
            due,
            entries,
            block_index,
            block,
            parse_duration(every) if staggered else None,
            max_lateness,
        )
    )
    path = f"schedules/waves/{due:%Y-%m}/{stem}.yaml"
    return WaveFile(path, "\n".join(lines) + "\n", pubs)


def _wave_pubs(
    wave_id: str,
    video: str,
    at: datetime,
    entries: Sequence[tuple[str, Any]],
    block_index: int,
    block: Sequence[Channel],
    every: timedelta | None,
    max_lateness: timedelta,
) -> Iterator[Pub]:
    """The wave's publications in list order, groups expanded (cancelled ones left out)."""
    core, _ = block_groups(block_index)
    position = 0
    for kind, value in entries:
        if kind == "group":
            members = block[:3] if value == core else block[3:5]
            items: list[tuple[Channel, timedelta | None]] = [(channel, None) for channel in members]
        elif kind == "delay":
            items = [(value[0], parse_duration(value[1]))]
        elif kind == "params":
            items = [(value[0], None)]
        else:
            items = [(value, None)]
        for channel, delay in items:
            offset = delay if delay is not None else (every * position if every else timedelta(0))
            if kind != "cancelled":
                yield Pub(f"{wave_id}/{channel.id}", channel, video, at + offset, max_lateness)
            position += 1


def make_waves(
    params: Params, blocks: Sequence[Sequence[Channel]], line: Timeline, rng: random.Random
) -> list[WaveFile]:
    """Every wave file, oldest first."""
    waves = []
    for index in range(params.waves):
        block_index = index % len(blocks)
        due = line.due(index) + timedelta(minutes=15 * rng.randrange(3))
        last_tenth = index >= params.waves * 9 // 10
        waves.append(make_wave(index, due, blocks[block_index], block_index, rng, last_tenth))
    return waves


# --------------------------------------------------------------------------- videos and queues


def video_lines(video: str, title: str, ready: bool, rng: random.Random) -> list[str]:
    """One video's entry in the registry."""
    aspect = rng.choice(("9:16", "16:9", "1:1"))
    return [
        f"  {video}:",
        f"    title: {title}",
        f"    url: https://cdn.example.com/videos/{video}.mp4",
        f"    ready: {'true' if ready else 'false'}",
        f"    duration: {rng.randrange(10, 180)}s",
        f"    aspect: {aspect}",
    ]


def registry_files(entries: Sequence[list[str]]) -> dict[str, str]:
    """videos.yaml, or videos/NNN.yaml when one file would hold more than VIDEOS_PER_FILE."""
    if len(entries) <= VIDEOS_PER_FILE:
        return {"schedules/videos.yaml": _registry_text(entries)}
    return {
        f"schedules/videos/part-{start // VIDEOS_PER_FILE:03d}.yaml": _registry_text(
            entries[start : start + VIDEOS_PER_FILE]
        )
        for start in range(0, len(entries), VIDEOS_PER_FILE)
    }


def _registry_text(entries: Sequence[list[str]]) -> str:
    return (
        "# Generated video registry.\nvideos:\n"
        + "\n".join(line for entry in entries for line in entry)
        + "\n"
    )


def queue_files(
    channels: Sequence[Channel], start: date, rng: random.Random
) -> tuple[dict[str, str], list[str]]:
    """(path -> text of every queue file, the queued video ids)."""
    files: dict[str, str] = {}
    videos: list[str] = []
    for channel in channels:
        if channel.slots is None:
            continue
        first = start + timedelta(days=rng.randrange(-7, 60))
        lines = [
            f"# Independent uploads on {channel.id}.",
            f"start: {first.isoformat()}",
            "videos:",
        ]
        for number in range(rng.randrange(8, 13)):
            video = f"{channel.id}-q{number:02d}"
            videos.append(video)
            if number % 4 == 3:
                lines.append(f'  - {{video: {video}, params: {{caption: "Upload {number}"}}}}')
            else:
                lines.append(f"  - {video}")
        files[f"schedules/queues/{channel.id}.yaml"] = "\n".join(lines) + "\n"
    return files, videos


# --------------------------------------------------------------------------- ledger


class LedgerWriter:
    """Ledger lines, grouped by the UTC month of each publication's due (``ledger/YYYY-MM.jsonl``)."""

    def __init__(self, sha: str, rng: random.Random) -> None:
        self.sha = sha
        self.rng = rng
        self.count = 0
        self.files: dict[str, list[tuple[datetime, str]]] = defaultdict(list)

    def add(self, pub: Pub, name: str, at: datetime, **extra: Any) -> None:
        """Append one event of ``pub`` (keys in the order the tick writes them)."""
        line: dict[str, Any] = {"id": pub.id, "event": name, "at": fmt_utc(at)}
        if name != "claimed":
            line.update(extra)
        line.update(due=fmt_utc(pub.due), channel=pub.channel.id, video=pub.video)
        if name != "missed" and name != "held":
            line["attempt"] = 1
        if name == "claimed":
            line.update(extra)
        line["run"] = f"{7_000_000_000 + int(at.timestamp()) // 300}-1"
        if name == "claimed":
            line["sha"] = self.sha
        text = ENCODER.encode(line)
        self.files[f"ledger/{pub.due:%Y-%m}.jsonl"].append((at, text))
        self.count += 1

    def sent(self, pub: Pub, *, confirm: bool) -> None:
        """claimed, dispatched, and published when ``confirm``."""
        claimed = pub.due - pub.channel.lead + timedelta(seconds=self.rng.randrange(5, 290))
        self.add(pub, "claimed", claimed, not_before=fmt_utc(pub.due))
        self.add(
            pub,
            "dispatched",
            claimed + timedelta(seconds=self.rng.randrange(1, 4)),
            backend="github",
            not_before=fmt_utc(pub.due),
        )
        if confirm:
            self.add(
                pub,
                "published",
                pub.due + timedelta(minutes=self.rng.randrange(2, 20)),
                url=f"https://videos.example.com/{pub.channel.id}/{pub.video}",
            )

    def history(self, pub: Pub) -> None:
        """A ledger-only publication's events: mostly sent, some failed, unknown, missed or held."""
        roll = self.rng.random()
        claimed = pub.due - pub.channel.lead + timedelta(seconds=self.rng.randrange(5, 290))
        if roll < 0.82:
            self.sent(pub, confirm=pub.channel.confirms or roll < 0.2)
        elif roll < 0.88:
            self.add(pub, "claimed", claimed, not_before=fmt_utc(pub.due))
            self.add(
                pub,
                "failed",
                claimed + timedelta(seconds=1),
                reason="rejected",
                detail="422 Validation Failed",
            )
        elif roll < 0.92:
            self.add(pub, "claimed", claimed, not_before=fmt_utc(pub.due))
            self.add(
                pub,
                "unknown",
                claimed + timedelta(seconds=30),
                reason="timeout",
                detail="no answer within 30 s",
            )
        elif roll < 0.96:
            self.add(
                pub,
                "missed",
                pub.due + pub.max_lateness + timedelta(minutes=self.rng.randrange(1, 30)),
                reason="late",
            )
        else:
            self.add(pub, "held", claimed - timedelta(minutes=5), reason="paused")
            self.sent(pub, confirm=pub.channel.confirms)

    def contents(self) -> dict[str, bytes]:
        """path -> file bytes, each file's lines in time order."""
        result = {}
        for path, rows in sorted(self.files.items()):
            rows.sort(key=lambda row: row[0])
            result[path] = "".join(text + "\n" for _, text in rows).encode()
        return result


def archive_pubs(blocks: Sequence[Sequence[Channel]], line: Timeline) -> Iterator[Pub]:
    """Publications of deleted waves, newest first, going back one wave step at a time."""
    index = -1
    while True:
        block_index = index % len(blocks)
        due = line.due(index)
        for channel in blocks[block_index]:
            yield Pub(
                f"old-{-index:06d}/{channel.id}",
                channel,
                f"old-clip-{-index:06d}",
                due,
                timedelta(hours=1),
            )
        index -= 1


def make_ledger(
    params: Params,
    waves: Sequence[WaveFile],
    blocks: Sequence[Sequence[Channel]],
    line: Timeline,
    sha: str,
    rng: random.Random,
) -> LedgerWriter:
    """E events: the past waves' publications, then the history of deleted waves."""
    writer = LedgerWriter(sha, rng)
    for wave in waves[: line.past]:
        for pub in wave.pubs:
            writer.sent(pub, confirm=pub.channel.confirms)
    history = archive_pubs(blocks, line)
    while writer.count < params.events:
        writer.history(next(history))
    return writer


def month_summaries(files: Mapping[str, bytes], now: datetime) -> dict[str, bytes]:
    """The summaries the scheduler writes for the ledger months closed at ``now``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from scheduler import summary

    result = {}
    for path, content in files.items():
        if path.startswith("ledger/") and summary.month_closed(path, now):
            built = summary.build(path, content)
            if built is not None:
                result[summary.summary_path(path)] = built
    return result


def bench_now(line: Timeline, waves: Sequence[WaveFile]) -> datetime:
    """Two minutes after the first upcoming wave is due: when every command is measured."""
    upcoming = waves[line.past] if line.past < len(waves) else waves[-1]
    return min(pub.due for pub in upcoming.pubs) + timedelta(minutes=2)


def trailer_lines(files: Mapping[str, bytes]) -> list[str]:
    """``Scheduler-Ledger: <file> <lines> <sha256>`` per ledger file (the scheduler's own format)."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from scheduler.ledger import trailers

        return trailers(files)
    except ImportError:  # pragma: no cover - the package is not importable: same format by hand
        newline = b"\n"
        return [
            f"Scheduler-Ledger: {path} {content.count(newline)} {hashlib.sha256(content).hexdigest()}"
            for path, content in sorted(files.items())
            if path.startswith("ledger/")
        ]


# --------------------------------------------------------------------------- git


def git(root: Path, *args: str, data: bytes | None = None) -> str:
    """Run git in ``root``; return its stdout (raises with stderr on failure)."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=root, input=data, capture_output=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"git {' '.join(args)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
        )
    return done.stdout.decode()


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Write every file (creating folders)."""
    folders = {str(Path(path).parent) for path in files}
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        (root / path).write_text(text, encoding="utf-8")


def commit_main(root: Path, files: Mapping[str, str]) -> str:
    """``git init``, write the files, one commit on main; returns its sha."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", GIT_ENV["GIT_AUTHOR_NAME"])
    git(root, "config", "user.email", GIT_ENV["GIT_AUTHOR_EMAIL"])
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Schedules (generated for benchmarks)")
    return git(root, "rev-parse", "HEAD").strip()


def commit_state(root: Path, files: Mapping[str, bytes], message: str) -> str:
    """The state branch as one orphan commit, written with plumbing only; returns its sha."""
    scratch = root / ".git" / "bench-scratch"
    scratch.mkdir(exist_ok=True)
    paths = sorted(files)
    for number, path in enumerate(paths):
        (scratch / f"{number:06d}").write_bytes(files[path])
    listing = "\n".join(str(scratch / f"{number:06d}") for number in range(len(paths))) + "\n"
    oids = git(root, "hash-object", "-w", "--stdin-paths", data=listing.encode()).split()
    shutil.rmtree(scratch)
    trees: dict[str, list[str]] = defaultdict(list)
    for path, oid in zip(paths, oids, strict=True):
        folder, _, name = path.rpartition("/")
        trees[folder].append(f"100644 blob {oid}\t{name}")
    for folder in sorted((name for name in trees if name), key=lambda name: -name.count("/")):
        oid = git(root, "mktree", data=("\n".join(trees.pop(folder)) + "\n").encode()).strip()
        parent, _, name = folder.rpartition("/")
        trees[parent].append(f"040000 tree {oid}\t{name}")
    top = git(root, "mktree", data=("\n".join(trees[""]) + "\n").encode()).strip()
    commit = git(root, "commit-tree", top, "-m", message).strip()
    git(root, "update-ref", f"refs/heads/{STATE_REF}", commit)
    return commit


CONTROL_YAML = """\
paused: false
reason: ""
channels: {}
waves: {}
publications: {}
"""


# --------------------------------------------------------------------------- putting it together


def generate(out: Path, params: Params) -> dict[str, Any]:
    """Create the repository at ``out`` (which must not exist or be empty); returns its metadata."""
    started = time.perf_counter()
    if params.channels < BLOCK:
        raise SystemExit(f"--channels must be at least {BLOCK}")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty")
    rng = random.Random(params.seed)
    channels = make_channels(params, rng)
    blocks = make_blocks(channels, rng)
    line = timeline(params, len(blocks))
    waves = make_waves(params, blocks, line, rng)
    files = {"schedules/channels.yaml": channels_yaml(channels, blocks)}
    queues, queued = queue_files(channels, line.upcoming.date(), rng)
    registry = [
        video_lines(f"clip-{i:06d}", f"Clip {i}", i < params.waves * 19 // 20, rng)
        for i in range(len(waves))
    ]
    registry += [video_lines(video, f"Upload {video}", True, rng) for video in queued]
    files.update(registry_files(registry))
    files.update({wave.path: wave.text for wave in waves})
    files.update(queues)
    sha = commit_main(out, files)
    writer = make_ledger(params, waves, blocks, line, sha, rng)
    state = {**writer.contents(), "control.yaml": CONTROL_YAML.encode()}
    if params.summaries:
        state.update(month_summaries(state, bench_now(line, waves)))
    message = (
        "ledger history (generated for benchmarks)\n\n" + "\n".join(trailer_lines(state)) + "\n"
    )
    commit_state(out, state, message)
    meta = _metadata(params, line, waves, writer, len(queues), time.perf_counter() - started)
    (out / ".git" / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _metadata(
    params: Params,
    line: Timeline,
    waves: Sequence[WaveFile],
    writer: LedgerWriter,
    queues: int,
    seconds: float,
) -> dict[str, Any]:
    return {
        "params": params.__dict__,
        "generator_version": GENERATOR_VERSION,
        "now": fmt_utc(bench_now(line, waves)),
        "before_first_wave": fmt_utc(FIRST_WAVE - timedelta(days=1)),
        "first_wave": fmt_utc(FIRST_WAVE),
        "last_wave": fmt_utc(max(pub.due for pub in waves[-1].pubs)),
        "wave_files": len(waves),
        "past_waves": line.past,
        "publications_in_files": sum(len(wave.pubs) for wave in waves),
        "queue_files": queues,
        "ledger_events": writer.count,
        "ledger_files": len(writer.files),
        "seconds": round(seconds, 2),
    }


def validate(out: Path, meta: Mapping[str, Any]) -> list[str]:
    """``scheduler validate`` at ``before_first_wave`` and at ``now``: the lines of any that fail."""
    failures = []
    for moment in ("before_first_wave", "now"):
        command = [
            sys.executable,
            "-m",
            "scheduler",
            "--root",
            str(out),
            "--now",
            str(meta[moment]),
        ]
        done = subprocess.run([*command, "validate"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            failures.append(
                f"validate --now {meta[moment]} exited {done.returncode}:\n{done.stdout}{done.stderr}"
            )
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate one repository; prints its metadata as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="the repository to create (absent or empty)")
    parser.add_argument("--waves", type=int, required=True)
    parser.add_argument("--channels", type=int, required=True)
    parser.add_argument("--queues", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-summaries",
        action="store_true",
        help="leave out the month summaries (a ledger the scheduler has not compacted yet)",
    )
    parser.add_argument(
        "--validate", action="store_true", help="then run scheduler validate (0 errors)"
    )
    args = parser.parse_args(argv)
    params = Params(
        args.waves, args.channels, args.queues, args.events, args.seed, not args.no_summaries
    )
    meta = generate(args.out, params)
    print(json.dumps(meta, indent=2))
    failures = validate(args.out, meta) if args.validate else []
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
