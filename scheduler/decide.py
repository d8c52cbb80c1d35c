"""What a tick should do at ``now``: which publications to claim, miss, hold or mark unknown.

A pure query over a :class:`World`; ``tick.py`` turns the answer into ledger events and
requests.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler import checks
from scheduler.ledger import Record, retryable_failure
from scheduler.planning import Publication, blocks_slots
from scheduler.world import World

STALE_CLAIM = timedelta(minutes=15)
# Hold causes under which a publication is never "missed": it was cancelled, or it went out
# under another id; it cannot be late for a post that must not (or did already) happen.
SETTLED_ELSEWHERE = frozenset({"cancelled", "already-published"})


@dataclass(frozen=True)
class Claim:
    """A publication to claim now, with the attempt and ``not_before`` it goes out with."""

    pub: Publication
    attempt: int
    not_before: datetime


@dataclass(frozen=True)
class Decisions:
    """The tick's plan: ``claims`` go out; the others become ledger events as they are."""

    claims: tuple[Claim, ...] = ()
    missed: tuple[tuple[Publication, str], ...] = ()
    held: tuple[tuple[Publication, str], ...] = ()
    stale: tuple[Record, ...] = ()
    waiting: tuple[tuple[Publication, str], ...] = ()  # held for a cause already recorded
    notes: tuple[str, ...] = field(default_factory=tuple)


def due_publications(world: World) -> Decisions:
    """Decide, for every publication, what this tick does with it (query)."""
    now = world.now
    stale = tuple(
        record
        for record in world.records.values()
        if record.state == "claimed"
        and record.claim is not None
        and record.claim.at <= now - STALE_CLAIM
    )
    occupied = _occupied(world.records.values(), world)
    canonical = checks.canonical_channels(world.schedules.channels)
    later_of_conflict = _later_of_conflicts(world)
    claims: list[Claim] = []
    missed: list[tuple[Publication, str]] = []
    held: list[tuple[Publication, str]] = []
    waiting: list[tuple[Publication, str]] = []
    for pub in world.publications:
        if not _actionable(pub, now):
            continue
        cause = _hold_cause(pub, world, occupied, later_of_conflict, canonical)
        late = pub.type != "independent" and now > pub.due + pub.max_lateness
        if late and cause not in SETTLED_ELSEWHERE:
            missed.append((pub, "late"))
            continue
        if cause is not None:
            record = pub.record
            already = record is not None and cause in record.held
            (waiting if already else held).append((pub, cause))
            continue
        claims.append(Claim(pub, _next_attempt(pub.record), pub.due))
        # from now on the (channel, video) is taken: a later duplicate is already published
        occupied.setdefault((canonical.get(pub.channel, pub.channel), pub.video), pub.id)
    spaced, gap_missed = _space_catch_up(claims, world)
    return Decisions(tuple(spaced), tuple(missed + gap_missed), tuple(held), stale, tuple(waiting))


def _actionable(pub: Publication, now: datetime) -> bool:
    """Due, not cancelled in a file, and not settled by the ledger."""
    if pub.cancelled or now < pub.due - pub.lead:
        return False
    if pub.file is None and not (pub.record is not None and pub.record.state == "released"):
        return False
    record = pub.record
    if record is None or pub.rearmed:
        return True
    last = record.last_outcome
    if last is None or last.event == "released":
        return True
    return last.event == "failed" and retryable_failure(last, record.attempt)


def _next_attempt(record: Record | None) -> int:
    if record is None or record.attempt == 0:
        return 1
    last = record.last_outcome
    if last is not None and last.event == "failed" and last.get("reason") == "auth":
        return record.attempt
    return record.attempt + 1


def _hold_cause(
    pub: Publication,
    world: World,
    occupied: Mapping[tuple[str, str], str],
    later: set[str],
    canonical: Mapping[str, str],
) -> str | None:
    if world.control.cancel_of(pub.id, pub.channel, pub.wave) is not None:
        return "cancelled"
    if world.control.pause_of(pub.id, pub.channel, pub.wave, world.now) is not None:
        return "paused"
    video = world.schedules.videos.get(pub.video)
    if video is None and not pub.claimed:
        return "unknown-video"
    if video is not None and not video.ready:
        return "video-not-ready"
    owner = occupied.get((canonical.get(pub.channel, pub.channel), pub.video))
    if owner is not None and owner != pub.id:
        return "already-published"
    if pub.id in later:
        return "conflict"
    return None


def _occupied(records: Iterable[Record], world: World) -> dict[tuple[str, str], str]:
    """(channel, video) -> the id that claimed, sent or published it (any id, former ids)."""
    canonical = checks.canonical_channels(world.schedules.channels)
    result: dict[tuple[str, str], str] = {}
    for record in records:
        if record.blocks_others() and record.channel and record.video:
            result.setdefault(
                (canonical.get(record.channel, record.channel), record.video), record.id
            )
    return result


def _later_of_conflicts(world: World) -> set[str]:
    """Ids that are the later side of an overlap or a duplicate video (held; the earlier goes)."""
    live = [pub for pub in world.publications if blocks_slots(pub)]
    canonical = checks.canonical_channels(world.schedules.channels)
    later: set[str] = set()
    by_channel: dict[str, list[Publication]] = defaultdict(list)
    by_video: dict[tuple[str, str], list[Publication]] = defaultdict(list)
    for pub in live:
        channel = canonical.get(pub.channel, pub.channel)
        by_channel[channel].append(pub)
        by_video[(channel, pub.video)].append(pub)
    for group in by_video.values():
        group.sort(key=lambda pub: (pub.due, pub.id))
        later.update(pub.id for pub in group[1:] if not pub.claimed)
    for channel_id, group in by_channel.items():
        config = world.schedules.channels.get(channel_id)
        if config is None:
            continue
        group.sort(key=lambda pub: (pub.due, pub.id))
        for earlier, pub in itertools.pairwise(group):
            if (
                pub.due - earlier.due < config.min_gap
                and not pub.claimed
                and not (earlier.estimated and pub.estimated)
            ):
                later.add(pub.id)
    return later


def _space_catch_up(
    claims: list[Claim], world: World
) -> tuple[list[Claim], list[tuple[Publication, str]]]:
    """After a stall, keep each channel's gap: ``not_before = max(due, previous + min_gap)``.

    ``previous`` is the ``not_before`` of the channel's latest post sent by an earlier tick, or
    of this tick's previous claim on the channel; a claim of this tick whose ``not_before`` has
    passed is posted at once, so it counts as posted ``now``. What that pushes past
    ``max_lateness`` is missed (reason ``gap``); queue items never miss. Returns the claims with
    their ``not_before`` and the publications missed for the gap.
    """
    canonical = checks.canonical_channels(world.schedules.channels)
    previous: dict[str, datetime] = {}
    for name, sent in world.history.latest_sent.items():
        key = canonical.get(name, name)
        previous[key] = max(previous.get(key, sent), sent)
    spaced: list[Claim] = []
    missed: list[tuple[Publication, str]] = []
    for claim in sorted(claims, key=lambda c: (c.pub.due, c.pub.id)):
        pub = claim.pub
        key = canonical.get(pub.channel, pub.channel)
        channel = world.schedules.channels.get(key)
        gap = channel.min_gap if channel else timedelta(0)
        not_before = pub.due
        last = previous.get(key)
        if last is not None and last + gap > not_before and last <= pub.due + pub.max_lateness:
            not_before = last + gap
        if pub.type != "independent" and not_before > pub.due + pub.max_lateness:
            missed.append((pub, "gap"))
            continue
        previous[key] = max(not_before, world.now, last or not_before)
        spaced.append(Claim(pub, claim.attempt, not_before))
    return spaced, missed
