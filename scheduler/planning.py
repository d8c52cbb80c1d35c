"""Models + ledger + control + now -> publications with due instants and statuses (pure).

Every wave x channel and every queue item becomes one :class:`Publication` with a stable id
(``<wave>/<channel>`` or ``queue/<channel>/<video>``) and a due instant in UTC. Once claimed,
a publication's due, video and payload are the ledger's.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from scheduler import models, slots, times
from scheduler.control import Control
from scheduler.ledger import Record
from scheduler.loading import ChannelConfig, QueueDoc, Schedules, WaveDoc
from scheduler.problems import Problem, did_you_mean, error

Loc = tuple[str | int, ...]
# Dues stay far from datetime's limits, so that adding any duration of the files is safe.
LATEST_DUE = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Publication:
    """One video on one channel at one instant."""

    id: str
    channel: str
    video: str
    due: datetime
    type: str  # simultaneous | staggered | independent
    wave: str | None
    file: str | None  # the schedule file that defines it; None when only the ledger knows it
    loc: Loc = ()
    cancelled: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    lead: timedelta = timedelta(0)
    max_lateness: timedelta = timedelta(hours=1)
    estimated: bool = False  # a queue row placed at planning time, not yet claimed
    record: Record | None = None
    intent_due: datetime | None = None  # what the file says, when the ledger's due differs
    intent_video: str | None = None
    # cancelled in control.yaml before any claim: like ``cancelled``, it takes no slot and
    # conflicts with nothing (the tick still records why it holds it)
    cancelled_by_control: bool = False

    @property
    def claimed(self) -> bool:
        """True when the ledger fixes this publication's due, video and payload."""
        return self.record is not None and self.record.claim is not None and not self.rearmed

    @property
    def rearmed(self) -> bool:
        """True when the file moved a publication that delivered nothing to a later time."""
        record = self.record
        return (
            record is not None
            and record.delivered_nothing()
            and self.intent_due is not None
            and record.due is not None
            and self.intent_due > record.due
        )


@dataclass(frozen=True)
class Plan:
    """Every publication, and the problems met while planning (references, timing)."""

    publications: tuple[Publication, ...]
    problems: tuple[Problem, ...]

    def by_id(self) -> dict[str, Publication]:
        """id -> publication."""
        return {pub.id: pub for pub in self.publications}


def expand_waves(schedules: Schedules) -> tuple[list[Publication], list[Problem]]:
    """Every wave x channel as the files say, before the ledger is overlaid (query)."""
    problems: list[Problem] = []
    pubs: list[Publication] = []
    for doc in schedules.waves:
        pubs.extend(expand_wave(doc, schedules, problems))
    return pubs, problems


def queue_items(schedules: Schedules) -> Iterator[tuple[str, str, str]]:
    """(id, channel, video) of every queue item of the files."""
    for doc in schedules.queues:
        for item in doc.queue.videos:
            video = _video_of(item)
            yield f"queue/{doc.channel}/{video}", doc.channel, video


def plan(
    schedules: Schedules,
    records: Mapping[str, Record],
    control: Control,
    *,
    now: datetime,
    expanded: tuple[list[Publication], list[Problem]] | None = None,
) -> Plan:
    """Expand waves (unless ``expanded`` already holds :func:`expand_waves`), overlay the
    ledger, fill queues (query)."""
    waves, found = expanded if expanded is not None else expand_waves(schedules)
    problems = list(found)
    pubs = [_withdrawn(_overlay(pub, records), control) for pub in waves]
    known = {pub.id for pub in pubs}
    queue_ids = {pub_id for pub_id, _, _ in queue_items(schedules)}
    pubs.extend(
        ledger_only(record, schedules)
        for pub_id, record in records.items()
        if pub_id not in known and pub_id not in queue_ids and record.channel and record.due
    )
    by_channel: dict[str, list[Publication]] = {}
    for pub in pubs:
        by_channel.setdefault(pub.channel, []).append(pub)
    for queue_doc in schedules.queues:
        others = by_channel.get(queue_doc.channel, [])
        pubs.extend(fill_queue(queue_doc, schedules, records, control, others, now, problems))
    pubs.sort(key=lambda pub: (pub.due, pub.channel, pub.id))
    return Plan(tuple(pubs), tuple(problems))


# --------------------------------------------------------------------------- waves


def wave_start(doc: WaveDoc, problems: list[Problem]) -> datetime | None:
    """The wave's ``at`` as a UTC instant (None, with a problem, when it cannot be read)."""
    wave = doc.wave
    if wave.at.tzinfo is not None:
        return times.to_utc(wave.at)
    if wave.timezone is None:
        message = "'at' has no offset: add one (e.g. +01:00 or Z) or set timezone:"
        problems.append(error(doc.path, doc.source.locate(["at"]), "naive-time", message))
        return None
    try:
        return times.localize_strict(wave.at, times.load_zone(wave.timezone))
    except ValueError as exc:
        problems.append(error(doc.path, doc.source.locate(["at"]), "dst", str(exc)))
        return None


def expand_wave(
    doc: WaveDoc, schedules: Schedules, problems: list[Problem]
) -> Iterator[Publication]:
    """The publications of one wave file, in list order (query).

    Every reference is checked even when the wave cannot be planned (an unknown video, an
    unreadable ``at``), so that one run reports every problem of the file.
    """
    wave = doc.wave
    start = wave_start(doc, problems)
    known_video = wave.video in schedules.videos
    if not known_video and schedules.videos_loaded:
        pos = doc.source.locate(["video"])
        problems.append(
            error(
                doc.path,
                pos,
                "unknown-video",
                f"unknown video '{wave.video}'{did_you_mean(wave.video, schedules.videos)}",
            )
        )
    entries = list(_expanded_channels(doc, schedules, problems))
    if wave.type == "staggered" and wave.every is None and not _all_delayed(wave):
        problems.append(
            error(
                doc.path,
                doc.source.locate(["type"]),
                "schema",
                "a staggered wave needs every: (e.g. every: 1h) or a delay on every item",
            )
        )
        return
    if start is None or not known_video:
        return
    for index, (channel_id, item, loc) in enumerate(entries):
        channel = schedules.channels[channel_id]
        due = _due(start, wave, item, index)
        if due is None:
            message = f"'{doc.id}/{channel_id}' would be due after {LATEST_DUE.year}: shorten every or delay"
            problems.append(error(doc.path, doc.source.locate(loc), "timing", message))
            continue
        params = {**channel.params, **wave.params, **(item.params if item else {})}
        yield Publication(
            id=f"{doc.id}/{channel_id}",
            channel=channel_id,
            video=wave.video,
            due=due,
            type=wave.type,
            wave=doc.id,
            file=doc.path,
            loc=loc,
            cancelled=wave.cancelled or bool(item and item.cancelled),
            params=params,
            lead=_first(wave.lead, channel.lead),
            max_lateness=_first(wave.max_lateness, channel.max_lateness),
        )


def _due(
    start: datetime, wave: models.Wave, item: models.ChannelItem | None, index: int
) -> datetime | None:
    """``start`` plus the item's delay; None when that lies beyond :data:`LATEST_DUE`."""
    try:
        due = start + _delay(wave, item, index)
    except OverflowError:
        return None
    return due if due < LATEST_DUE else None


def _all_delayed(wave: models.Wave) -> bool:
    return all(
        isinstance(item, models.ChannelItem) and item.delay is not None for item in wave.channels
    )


def _delay(wave: models.Wave, item: models.ChannelItem | None, index: int) -> timedelta:
    if item is not None and item.delay is not None:
        return item.delay
    if wave.type == "staggered" and wave.every is not None:
        return wave.every * index
    return timedelta(0)


def _expanded_channels(
    doc: WaveDoc, schedules: Schedules, problems: list[Problem]
) -> Iterator[tuple[str, models.ChannelItem | None, Loc]]:
    """(channel, its item, loc) for every channel of the wave, groups expanded in order."""
    seen: dict[str, Loc] = {}
    platforms = schedules.platforms()
    for index, entry in enumerate(doc.wave.channels):
        item = entry if isinstance(entry, models.ChannelItem) else None
        ref = item.channel if item else str(entry)
        loc: Loc = ("channels", index, "channel") if item else ("channels", index)
        members = _members(ref, schedules, platforms)
        if members is None:
            if schedules.channels_loaded:
                pos = doc.source.locate(loc)
                problems.append(
                    error(doc.path, pos, "unknown-channel", _unknown_ref(ref, schedules, platforms))
                )
            continue
        for channel_id in members:
            if channel_id in seen:
                pos = doc.source.locate(loc)
                first = doc.source.locate(seen[channel_id])
                message = f"channel '{channel_id}' is listed twice in this wave (first at line {first[0]}): keep one"
                problems.append(error(doc.path, pos, "duplicate-channel", message))
                continue
            seen[channel_id] = loc
            yield channel_id, item, loc


def _members(
    ref: str, schedules: Schedules, platforms: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...] | None:
    kind, _, name = ref.partition(":")
    if name and kind == "group":
        group = schedules.groups.get(name)
        return tuple(c for c in group if c in schedules.channels) if group is not None else None
    if name and kind == "platform":
        return platforms.get(name)
    return (ref,) if ref in schedules.channels else None


def _unknown_ref(ref: str, schedules: Schedules, platforms: Mapping[str, tuple[str, ...]]) -> str:
    kind, _, name = ref.partition(":")
    if name and kind == "group":
        return f"unknown group '{name}'{did_you_mean(name, schedules.groups)}: groups are defined in channels.yaml"
    if name and kind == "platform":
        return f"no channel has platform '{name}'{did_you_mean(name, platforms)}"
    return f"unknown channel '{ref}'{did_you_mean(ref, schedules.channels)}: channels are defined in channels.yaml"


def _first(value: timedelta | None, fallback: timedelta) -> timedelta:
    return fallback if value is None else value


# --------------------------------------------------------------------------- the ledger


def _overlay(pub: Publication, records: Mapping[str, Record]) -> Publication:
    """The publication as the ledger fixes it: a claim keeps its due, video and payload."""
    record = records.get(pub.id)
    if record is None:
        return pub
    pub = replace(pub, record=record, intent_due=pub.due, intent_video=pub.video)
    if pub.rearmed:
        return pub
    if record.state == "released" and record.due is not None:
        return replace(pub, due=record.due)
    claim = record.claim
    if claim is None or record.due is None:
        return pub
    payload = claim.get("payload")
    params = payload.get("params", pub.params) if isinstance(payload, dict) else pub.params
    return replace(pub, due=record.due, video=record.video or pub.video, params=params)


def _withdrawn(pub: Publication, control: Control) -> Publication:
    """``pub`` marked ``cancelled_by_control`` when control.yaml cancels it before a claim."""
    if pub.cancelled or pub.claimed or control.cancel_of(pub.id, pub.channel, pub.wave) is None:
        return pub
    return replace(pub, cancelled_by_control=True)


def ledger_only(record: Record, schedules: Schedules) -> Publication:
    """A publication that only the ledger knows (its file was deleted or renamed)."""
    assert record.channel is not None and record.due is not None
    payload = record.claim.get("payload") if record.claim else None
    payload = payload if isinstance(payload, dict) else {}
    wave, _, _ = record.id.partition("/")
    is_queue = record.id.startswith("queue/")
    channel = schedules.channels.get(record.channel)
    return Publication(
        id=record.id,
        channel=record.channel,
        video=record.video or "",
        due=record.due,
        type=str(payload.get("type") or ("independent" if is_queue else "simultaneous")),
        wave=None if is_queue else wave,
        file=None,
        params=payload.get("params") or {},
        lead=channel.lead if channel else timedelta(0),
        max_lateness=channel.max_lateness if channel else timedelta(hours=1),
        record=record,
    )


# --------------------------------------------------------------------------- queues


def _video_of(item: str | models.QueueItem) -> str:
    return item.video if isinstance(item, models.QueueItem) else item


def fill_queue(
    doc: QueueDoc,
    schedules: Schedules,
    records: Mapping[str, Record],
    control: Control,
    others: Sequence[Publication],
    now: datetime,
    problems: list[Problem],
) -> list[Publication]:
    """The queue's items placed in the channel's free posting slots, in order (query).

    ``others`` are the publications the queue must route around (any channel's may be given;
    only the queue channel's count).

    A claimed item keeps its due. The first unclaimed item takes the first free slot at or
    after the latest of ``start``, the last claimed item's due and ``now - max_lateness``; a
    slot is free when no other publication of the channel that went out or will go out lies
    within ``min_gap`` of it.
    """
    channel = schedules.channels.get(doc.channel)
    if channel is None and not schedules.channels_loaded:
        return []
    if channel is None:
        message = f"queue for unknown channel '{doc.channel}'{did_you_mean(doc.channel, schedules.channels)}: name the file after a channel id"
        problems.append(error(doc.path, (1, 1), "unknown-channel", message))
        return []
    if not channel.slots:
        message = f"channel '{channel.id}' has no slots, so its queue cannot be placed: add slots: to the channel in {channel.file}"
        problems.append(error(doc.path, doc.source.locate(["start"]), "no-slots", message))
        return []
    busy = sorted(pub.due for pub in others if pub.channel == channel.id and blocks_slots(pub))
    placed: list[Publication] = []
    pending: list[Publication] = []
    seen: set[str] = set()
    for index, entry in enumerate(doc.queue.videos):
        item = entry if isinstance(entry, models.QueueItem) else None
        video = _video_of(entry)
        loc: Loc = ("videos", index, "video") if item else ("videos", index)
        if video in seen:
            message = f"video '{video}' is queued twice on '{channel.id}': remove one"
            problems.append(error(doc.path, doc.source.locate(loc), "duplicate-video", message))
            continue
        seen.add(video)
        if video not in schedules.videos:
            if schedules.videos_loaded:
                message = f"unknown video '{video}'{did_you_mean(video, schedules.videos)}"
                problems.append(error(doc.path, doc.source.locate(loc), "unknown-video", message))
            continue
        pub_id = f"queue/{channel.id}/{video}"
        pub = Publication(
            id=pub_id,
            channel=channel.id,
            video=video,
            due=now,
            type="independent",
            wave=None,
            file=doc.path,
            loc=loc,
            params={**channel.params, **(item.params if item else {})},
            lead=channel.lead,
            max_lateness=channel.max_lateness,
            estimated=True,
        )
        record = records.get(pub_id)
        if (
            record is not None
            and record.claim is not None
            and record.due is not None
            and record.state != "released"
        ):
            placed.append(
                replace(
                    pub, due=record.due, record=record, estimated=False, video=record.video or video
                )
            )
        elif control.cancel_of(pub_id, channel.id, None) is not None:
            placed.append(
                replace(
                    pub,
                    cancelled=True,
                    record=record,
                    due=record.due if record and record.due else now,
                )
            )
        else:
            pending.append(replace(pub, record=record))
    # Claimed and released items keep their due: later items route around them too.
    busy += [pub.due for pub in placed if blocks_slots(pub)]
    busy += [due for pub in pending if (due := _released_due(pub)) is not None]
    free = _free_slots(channel, sorted(busy), _queue_floor(doc, channel, placed, now))
    for pub in pending:
        due = _released_due(pub) or _next_slot(free)
        if due is None:
            message = f"no posting slot of '{channel.id}' is left for '{pub.id}' before the end of the calendar"
            problems.append(error(doc.path, doc.source.locate(pub.loc), "no-slots", message))
            continue
        placed.append(replace(pub, due=due))
    return placed


def _released_due(pub: Publication) -> datetime | None:
    """The due a ``released`` event gave this queue item (``retry --at``), if any."""
    record = pub.record
    return record.due if record is not None and record.state == "released" else None


def _queue_floor(
    doc: QueueDoc, channel: ChannelConfig, placed: Sequence[Publication], now: datetime
) -> datetime:
    """The latest of ``start``, the claimed items' dues and ``now - max_lateness``."""
    candidates = [slots_start(doc, channel), *(pub.due for pub in placed if not pub.cancelled)]
    with contextlib.suppress(OverflowError):  # a --now at the calendar's start: start is later
        candidates.append(now - channel.max_lateness)
    return max(candidates)


def _next_slot(free: Iterator[datetime]) -> datetime | None:
    """The next free slot, or None when the calendar has none left."""
    try:
        return next(free)
    except (StopIteration, ValueError, OverflowError):
        return None


def slots_start(doc: QueueDoc, channel: ChannelConfig) -> datetime:
    """00:00 of the queue's ``start`` date in the channel's zone, as UTC."""
    return times.slot_instant(doc.queue.start, time(0, 0), channel.zone)


def blocks_slots(pub: Publication) -> bool:
    """True when ``pub`` went out or will go out, so a queue must keep ``min_gap`` from it."""
    if pub.cancelled or pub.cancelled_by_control:
        return False
    record = pub.record
    return not (
        record is not None and record.is_final() and record.delivered_nothing() and not pub.rearmed
    )


def _free_slots(
    channel: ChannelConfig, busy: list[datetime], floor: datetime
) -> Iterator[datetime]:
    """Slot instants at or after ``floor`` that keep ``min_gap`` from ``busy`` and each other."""
    taken = list(busy)
    gap = channel.min_gap
    for instant in slots.occurrences(channel.slots, channel.zone, after=floor):
        index = bisect.bisect_left(taken, instant - gap + timedelta(microseconds=1))
        if index < len(taken) and taken[index] < instant + gap:
            continue
        bisect.insort(taken, instant)
        yield instant
