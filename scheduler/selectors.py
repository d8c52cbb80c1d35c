"""Selectors: which publications a command is about (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.errors import UsageError
from scheduler.loading import Schedules
from scheduler.planning import Publication
from scheduler.problems import did_you_mean


@dataclass(frozen=True)
class Selector:
    """``--id``/``--channel``/``--group``/``--platform``/``--wave``: one kind repeated is OR,
    different kinds AND."""

    ids: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    waves: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when nothing was selected (every publication matches)."""
        return not (self.ids or self.channels or self.groups or self.platforms or self.waves)

    def kinds(self) -> list[str]:
        """The selector kinds given, e.g. ``["channel"]``."""
        pairs = (
            ("id", self.ids),
            ("channel", self.channels),
            ("group", self.groups),
            ("platform", self.platforms),
            ("wave", self.waves),
        )
        return [name for name, values in pairs if values]

    def describe(self) -> str:
        """``--channel yt-main --wave launch`` or ``everything``."""
        parts = [
            f"--{kind} {value}" for kind in self.kinds() for value in getattr(self, kind + "s")
        ]
        return " ".join(parts) or "everything"

    def channel_set(self, schedules: Schedules) -> set[str] | None:
        """Channels named by --channel, --group and --platform (None when none were given)."""
        if not (self.channels or self.groups or self.platforms):
            return None
        result: set[str] = set()
        sets = []
        if self.channels:
            sets.append(set(self.channels))
        if self.groups:
            sets.append({c for g in self.groups for c in schedules.groups.get(g, ())})
        if self.platforms:
            platforms = schedules.platforms()
            sets.append({c for p in self.platforms for c in platforms.get(p, ())})
        result = set.intersection(*sets)
        return result

    def matches(self, pub: Publication, channel_set: set[str] | None) -> bool:
        """True when ``pub`` is selected (``channel_set`` from :meth:`channel_set`)."""
        if self.ids and pub.id not in self.ids:
            return False
        if channel_set is not None and pub.channel not in channel_set:
            return False
        return not self.waves or pub.wave in self.waves

    def select(self, pubs: Iterable[Publication], schedules: Schedules) -> list[Publication]:
        """The selected publications, in the given order."""
        channel_set = self.channel_set(schedules)
        return [pub for pub in pubs if self.matches(pub, channel_set)]

    def check_names(self, schedules: Schedules, pubs: Iterable[Publication]) -> None:
        """Raise a usage error for a name that exists nowhere, with a did-you-mean."""
        known_ids = {pub.id for pub in pubs}
        known_waves = {pub.wave for pub in pubs if pub.wave} | {doc.id for doc in schedules.waves}
        for kind, values, known in (
            ("id", self.ids, known_ids),
            ("channel", self.channels, set(schedules.channels)),
            ("group", self.groups, set(schedules.groups)),
            ("platform", self.platforms, set(schedules.platforms())),
            ("wave", self.waves, known_waves),
        ):
            for value in values:
                if value not in known:
                    raise UsageError(
                        f"--{kind} {value}: no such {kind}{did_you_mean(value, sorted(known))}"
                    )
