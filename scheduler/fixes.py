"""``validate --fix``: the overlap shifts that are unambiguous (pure query).

A shift is unambiguous when it moves exactly one publication: an item with an explicit
``delay`` (its delay grows), or a wave of a single channel (its ``at`` moves). Anything else,
such as one channel of a simultaneous wave, is left for a human.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler import models, times
from scheduler.checks import canonical_channels, overlap_pairs
from scheduler.planning import blocks_slots
from scheduler.world import World


@dataclass(frozen=True)
class Shift:
    """Set ``key`` at ``loc`` in ``file`` to ``value`` (the written form)."""

    file: str
    loc: tuple[str | int, ...]
    value: str
    pub_id: str
    new_due: datetime


def suggested_shifts(world: World) -> list[Shift]:
    """One shift per publication that can be moved alone to its next free time."""
    schedules = world.schedules
    live = [pub for pub in world.publications if blocks_slots(pub)]
    waves = {doc.path: doc for doc in schedules.waves}
    shifts: dict[str, Shift] = {}
    for found in overlap_pairs(live, schedules, canonical_channels(schedules.channels)):
        pub = found.at
        doc = waves.get(pub.file or "")
        if doc is None or pub.claimed or pub.id in shifts or found.free <= pub.due:
            continue
        delta = found.free - pub.due
        index = pub.loc[1] if len(pub.loc) > 1 and isinstance(pub.loc[1], int) else None
        entry = doc.wave.channels[index] if index is not None else None
        if index is not None and isinstance(entry, models.ChannelItem) and entry.delay is not None:
            value = times.format_duration(entry.delay + delta)
            shifts[pub.id] = Shift(
                doc.path, ("channels", index, "delay"), value, pub.id, found.free
            )
        elif sum(1 for other in world.publications if other.file == doc.path) == 1:
            shifts[pub.id] = Shift(
                doc.path, ("at",), _moved_at(doc.wave, delta), pub.id, found.free
            )
    return list(shifts.values())


def _moved_at(wave: models.Wave, delta: timedelta) -> str:
    """The wave's ``at`` moved by ``delta``, written in the same form (offset or naive)."""
    moved = wave.at + delta
    if moved.tzinfo is None and wave.timezone is not None:
        zone = times.load_zone(wave.timezone)
        instant = times.localize_strict(wave.at, zone) + delta
        moved = instant.astimezone(zone).replace(tzinfo=None)
    return moved.isoformat()
