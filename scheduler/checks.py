"""Publications + ledger -> problems: conflicts, timing, GitHub's limits (pure queries)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler import times
from scheduler.loading import ChannelConfig, Schedules, WaveDoc
from scheduler.payload import MAX_PUBLICATION_BYTES, publication_entry, video_entry, wire_size
from scheduler.planning import Plan, Publication, blocks_slots
from scheduler.problems import Problem, error, warning

REQUESTS_PER_HOUR = 500


def check(
    schedules: Schedules, plan: Plan, *, now: datetime, report_at: Collection[str] = frozenset()
) -> list[Problem]:
    """Every problem of the schedule as it stands at ``now`` (query).

    A problem between two publications is reported at the later one, unless only one of the
    two is in ``report_at`` (with ``--base``: what the change adds or moves) or only one of
    them is in a schedule file (the other known from the ledger alone): then at that one.
    Two publications that only the ledger knows are history: no file can change them, and
    they are not reported.
    """
    canonical = canonical_channels(schedules.channels)
    problems = list(plan.problems)
    live = [pub for pub in plan.publications if blocks_slots(pub)]
    problems += duplicate_videos(live, schedules, canonical, report_at)
    problems += overlaps(live, schedules, canonical, report_at)
    problems += timing(plan.publications, schedules, now)
    problems += wave_shape(schedules)
    problems += github_limits(plan.publications, schedules)
    problems += claimed_edits(plan.publications, schedules)
    return problems


def canonical_channels(channels: Mapping[str, ChannelConfig]) -> dict[str, str]:
    """Every channel id and former id -> the current channel id."""
    result = {name: name for name in channels}
    for channel in channels.values():
        for old in channel.formerly:
            result.setdefault(old, channel.id)
    return result


def where(pub: Publication, schedules: Schedules) -> tuple[str, tuple[int, int]]:
    """(file, (line, column)) of a publication; the ledger file when no schedule file has it."""
    if pub.file is None:
        record = pub.record
        return (record.file, (record.events[0].line, 1)) if record else ("(ledger)", (0, 0))
    return pub.file, schedules.locate(pub.file, pub.loc)


def describe(pub: Publication, schedules: Schedules) -> str:
    """``wave 'launch' (schedules/waves/launch.yaml:7, 2030-12-01 17:00 UTC)`` and the like."""
    file, pos = where(pub, schedules)
    what = f"wave '{pub.wave}'" if pub.wave else f"the queue of '{pub.channel}'"
    if pub.file is None:
        what = f"'{pub.id}' (ledger history)"
    return f"{what} ({file}:{pos[0]}, {times.format_utc(pub.due)})"


def reported_pair(
    earlier: Publication, later: Publication, report_at: Collection[str] = frozenset()
) -> tuple[Publication, Publication]:
    """(the publication a problem between the two is reported at, the other one).

    The one in a schedule file over one known from the ledger alone, then the one in
    ``report_at`` over one that is not, then the later.
    """

    def rank(pub: Publication) -> tuple[bool, bool, bool]:
        return (pub.file is not None, pub.id in report_at, pub is later)

    return (earlier, later) if rank(earlier) > rank(later) else (later, earlier)


def duplicate_videos(
    pubs: Iterable[Publication],
    schedules: Schedules,
    canonical: Mapping[str, str],
    report_at: Collection[str] = frozenset(),
) -> list[Problem]:
    """The same video twice on one channel, under any id and any former channel id."""
    groups: dict[tuple[str, str], list[Publication]] = defaultdict(list)
    for pub in pubs:
        groups[(canonical.get(pub.channel, pub.channel), pub.video)].append(pub)
    problems = []
    for (channel, video), found in groups.items():
        if len(found) < 2:
            continue
        found.sort(key=lambda pub: (pub.due, pub.id))
        first = found[0]
        for later in found[1:]:
            if first.file is None and later.file is None:
                continue  # history only: nothing in the files can change it
            at, other = reported_pair(first, later, report_at)
            file, pos = where(at, schedules)
            verb = "already" if other is first else "also"
            message = f"video '{video}' is {verb} published on '{channel}' by {describe(other, schedules)}: remove one of the two"
            subject = f"duplicate-video|{channel}|{video}|{'|'.join(sorted((first.id, later.id)))}"
            problems.append(error(file, pos, "duplicate-video", message, subject))
    return problems


@dataclass(frozen=True)
class Overlap:
    """Two publications of one channel closer than its ``min_gap``.

    ``at`` is where it is reported (and what a fix moves), ``free`` the first time it could take.
    """

    channel: str
    at: Publication
    other: Publication
    free: datetime
    min_gap: timedelta


def overlap_pairs(
    pubs: Iterable[Publication],
    schedules: Schedules,
    canonical: Mapping[str, str],
    report_at: Collection[str] = frozenset(),
) -> Iterator[Overlap]:
    """Every pair of neighbours on a channel closer than its ``min_gap`` (query)."""
    by_channel: dict[str, list[Publication]] = defaultdict(list)
    for pub in pubs:
        by_channel[canonical.get(pub.channel, pub.channel)].append(pub)
    for channel_id, found in by_channel.items():
        channel = schedules.channels.get(channel_id)
        if channel is None:
            continue
        found.sort(key=lambda pub: (pub.due, pub.id))
        dues = [pub.due for pub in found]
        for earlier, later in itertools.pairwise(found):
            if (
                later.due - earlier.due >= channel.min_gap
                or (earlier.estimated and later.estimated)
                or (earlier.file is None and later.file is None)
            ):
                continue
            at, other = reported_pair(earlier, later, report_at)
            yield Overlap(
                channel_id,
                at,
                other,
                next_free_time(at.due, dues, channel.min_gap),
                channel.min_gap,
            )


def overlaps(
    pubs: Iterable[Publication],
    schedules: Schedules,
    canonical: Mapping[str, str],
    report_at: Collection[str] = frozenset(),
) -> list[Problem]:
    """Two publications on one channel closer than its ``min_gap`` (see :func:`reported_pair`)."""
    problems = []
    for found in overlap_pairs(pubs, schedules, canonical, report_at):
        at, other = found.at, found.other
        file, pos = where(at, schedules)
        message = (
            f"'{at.id}' at {times.format_utc(at.due)} is within {times.format_duration(found.min_gap)} "
            f"(min_gap of '{found.channel}') of {describe(other, schedules)}: move it to {times.format_utc(found.free)} or later"
        )
        subject = f"overlap|{'|'.join(sorted((at.id, other.id)))}"
        problems.append(error(file, pos, "overlap", message, subject))
    return problems


def next_free_time(wanted: datetime, dues: Sequence[datetime], gap: timedelta) -> datetime:
    """The first instant at or after ``wanted`` at least ``gap`` away from every other due.

    ``wanted`` itself is among ``dues`` once (the publication being moved); it is ignored.
    """
    others = sorted(dues)
    others.remove(wanted)
    candidate = wanted
    for due in others:
        if due <= candidate - gap:
            continue
        if due >= candidate + gap:
            break
        candidate = due + gap
    return candidate


def timing(pubs: Iterable[Publication], schedules: Schedules, now: datetime) -> list[Problem]:
    """Pending publications already too late, and videos not ready within 24 hours."""
    problems = []
    for pub in pubs:
        if pub.cancelled or pub.cancelled_by_control or pub.file is None or pub.estimated:
            continue
        record = pub.record
        untouched = record is None or pub.rearmed
        if not untouched:
            continue
        if pub.due + pub.max_lateness < now:
            file, pos = where(pub, schedules)
            message = (
                f"'{pub.id}' is due {times.format_utc(pub.due)}, more than its max_lateness "
                f"({times.format_duration(pub.max_lateness)}) in the past, and never went out: move it to the future or cancel it"
            )
            problems.append(
                error(file, pos, "past", message, f"past|{pub.id}|{pub.due.isoformat()}")
            )
        video = schedules.videos.get(pub.video)
        if (
            video is not None
            and not video.ready
            and timedelta(0) <= pub.due - now < timedelta(hours=24)
        ):
            file, pos = where(pub, schedules)
            message = f"video '{pub.video}' is not ready (ready: false) and '{pub.id}' is due {times.format_utc(pub.due)}: it will be held"
            problems.append(warning(file, pos, "not-ready", message, f"not-ready|{pub.id}"))
    return problems


def wave_shape(schedules: Schedules) -> list[Problem]:
    """Waves whose written offset is not the zone's, and stagger steps that are not positive."""
    problems = []
    for doc in schedules.waves:
        problems += _wave_offsets(doc, schedules)
        wave = doc.wave
        if wave.every is not None and wave.type == "simultaneous":
            message = "'every' applies to staggered waves only: remove it or write type: staggered"
            problems.append(error(doc.path, doc.source.locate(["every"]), "timing", message))
        elif wave.every is not None and wave.every <= timedelta(0):
            message = "'every' must be positive, e.g. every: 1h"
            problems.append(error(doc.path, doc.source.locate(["every"]), "timing", message))
    return problems


def _wave_offsets(doc: WaveDoc, schedules: Schedules) -> list[Problem]:
    """A warning when the written offset of ``at`` is that of none of the wave's zones then."""
    at = doc.wave.at
    if at.tzinfo is None or (at.utcoffset() == timedelta(0) and doc.wave.timezone is None):
        return []
    if doc.wave.timezone is None and not schedules.channels_loaded:
        return []  # the channels' zones (and the default zone) are unknown
    zones = _wave_zones(doc, schedules)
    mismatches = [times.offset_mismatch(at, times.load_zone(name)) for name in zones]
    real = mismatches[0]
    if real is None or None in mismatches:
        return []
    zone_name = zones[0]
    written = at.isoformat()
    fixed = at.astimezone(times.load_zone(zone_name)).isoformat()
    message = (
        f"'at' is written {written}, but {zone_name} is at UTC{_offset(real)} then: "
        f"if the wall-clock time is meant, write {at.replace(tzinfo=None).isoformat()}{_offset(real)}; "
        f"the instant as written is {fixed} there"
    )
    return [warning(doc.path, doc.source.locate(["at"]), "offset", message, f"offset|{doc.id}")]


def _wave_zones(doc: WaveDoc, schedules: Schedules) -> list[str]:
    """The wave's ``timezone:``; else its channels' zones in list order, then the default zone."""
    if doc.wave.timezone is not None:
        return [doc.wave.timezone]
    platforms = schedules.platforms()
    zones: list[str] = []
    for entry in doc.wave.channels:
        ref = entry if isinstance(entry, str) else entry.channel
        kind, _, name = ref.partition(":")
        members: Iterable[str] = (ref,)
        if name and kind == "group":
            members = schedules.groups.get(name, ())
        elif name and kind == "platform":
            members = platforms.get(name, ())
        zones += [schedules.channels[m].timezone for m in members if m in schedules.channels]
    return list(dict.fromkeys([*zones, schedules.default_timezone]))


def _offset(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def github_limits(pubs: Iterable[Publication], schedules: Schedules) -> list[Problem]:
    """Payloads GitHub would refuse; hours with more requests than one token may create."""
    problems = []
    per_hour: dict[tuple[datetime, str], set[str]] = defaultdict(set)
    video_sizes: dict[str, int] = {}
    param_sizes: dict[int, int] = {}  # id() of params objects, alive as long as ``pubs``
    targets = {
        name: f"{channel.repo}|{channel.event_type}"
        for name, channel in schedules.channels.items()
        if channel.repo is not None
    }
    for pub in pubs:
        if pub.cancelled or pub.cancelled_by_control or pub.file is None:
            continue
        if (
            _may_be_large(pub, schedules, video_sizes, param_sizes)
            and (size := wire_size(publication_entry(pub, schedules, attempt=1)))
            > MAX_PUBLICATION_BYTES
        ):
            file, pos = where(pub, schedules)
            message = f"the payload of '{pub.id}' is {size:,} bytes; GitHub refuses 64 KB: shorten its params or video metadata"
            problems.append(error(file, pos, "payload-size", message, f"payload-size|{pub.id}"))
        target = targets.get(pub.channel)
        if target is not None:
            hour = pub.due.replace(minute=0, second=0, microsecond=0)
            per_hour[(hour, target)].add(pub.id)
    return problems + _request_rate(per_hour, schedules)


ENTRY_OVERHEAD = 2048  # ids, channel, times, keys: far more than they ever take


def _may_be_large(
    pub: Publication,
    schedules: Schedules,
    video_sizes: dict[str, int],
    param_sizes: dict[int, int],
) -> bool:
    """A cheap upper bound first: most payloads are a few hundred bytes (query)."""
    video = video_sizes.get(pub.video)
    if video is None:
        video = video_sizes[pub.video] = wire_size(video_entry(pub.video, schedules))
    params = param_sizes.get(id(pub.params))
    if params is None:
        # JSON escapes a character to at most 6 ("\\uXXXX"): six times the repr bounds them
        params = param_sizes[id(pub.params)] = 6 * len(repr(pub.params))
    return video + ENTRY_OVERHEAD + len(pub.id) * 2 + params > MAX_PUBLICATION_BYTES


def _request_rate(
    per_hour: Mapping[tuple[datetime, str], set[str]], schedules: Schedules
) -> list[Problem]:
    smallest: dict[str, int] = {}
    for channel in schedules.channels.values():
        if channel.repo is not None:
            smallest[channel.repo] = min(
                smallest.get(channel.repo, channel.max_batch), channel.max_batch
            )
    requests: dict[datetime, int] = defaultdict(int)
    for (hour, target), ids in per_hour.items():
        batch = smallest.get(target.split("|")[0], 50)
        requests[hour] += -(-len(ids) // batch)
    problems = []
    for hour, count in sorted(requests.items()):
        if count > REQUESTS_PER_HOUR:
            message = (
                f"{count} dispatch requests in the hour from {times.format_utc(hour)}: GitHub allows about "
                f"{REQUESTS_PER_HOUR} content-creating requests per hour per token; spread the waves or raise max_batch"
            )
            problems.append(
                warning("schedules/", (0, 0), "rate", message, f"rate|{hour.isoformat()}")
            )
    return problems


def claimed_edits(pubs: Iterable[Publication], schedules: Schedules) -> list[Problem]:
    """Edits of claimed publications: a new video is an error; other edits have no effect."""
    problems = []
    for pub in pubs:
        if not pub.claimed or pub.file is None or pub.intent_video in (None, pub.video):
            continue
        file, pos = where(pub, schedules)
        message = (
            f"'{pub.id}' was already claimed with video '{pub.video}'; it cannot change to "
            f"'{pub.intent_video}': put the new video in a new wave (or a new id:)"
        )
        problems.append(error(file, pos, "claimed-video", message, f"claimed-video|{pub.id}"))
    return problems
