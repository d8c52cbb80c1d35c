"""control.yaml on the state branch: pauses and cancellations (pure reading and queries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scheduler import times
from scheduler.errors import InputError
from scheduler.yamltext import YamlError, parse_yaml

CONTROL_FILE = "control.yaml"
SECTIONS = ("channels", "waves", "publications")


@dataclass(frozen=True, slots=True)
class Hold:
    """One control entry: a pause or a cancellation, with why, who and when."""

    paused: bool = False
    cancelled: bool = False
    reason: str = ""
    until: datetime | None = None
    actor: str | None = None
    at: datetime | None = None

    def pauses(self, now: datetime) -> bool:
        """True when this entry holds publications at ``now`` (``until`` resumes by itself)."""
        return self.paused and (self.until is None or now < self.until)


@dataclass(frozen=True)
class Control:
    """The whole of control.yaml."""

    everything: Hold = Hold()
    channels: Mapping[str, Hold] = field(default_factory=dict)
    waves: Mapping[str, Hold] = field(default_factory=dict)
    publications: Mapping[str, Hold] = field(default_factory=dict)

    def pause_of(self, pub_id: str, channel: str, wave: str | None, now: datetime) -> Hold | None:
        """The entry that pauses this publication at ``now``, most specific first (query)."""
        if not (self.publications or self.channels or self.waves):
            return self.everything if self.everything.pauses(now) else None
        for hold in self._entries(pub_id, channel, wave):
            if hold.pauses(now):
                return hold
        return self.everything if self.everything.pauses(now) else None

    def cancel_of(self, pub_id: str, channel: str, wave: str | None) -> Hold | None:
        """The entry that cancels this publication, if any (query)."""
        if not (self.publications or self.channels or self.waves):
            return None
        for hold in self._entries(pub_id, channel, wave):
            if hold.cancelled:
                return hold
        return None

    def _entries(self, pub_id: str, channel: str, wave: str | None) -> list[Hold]:
        found = [self.publications.get(pub_id), self.channels.get(channel)]
        if wave is not None:
            found.append(self.waves.get(wave))
        return [hold for hold in found if hold is not None]


def parse_control(data: bytes | None) -> Control:
    """Read control.yaml (absent or empty: nothing held). Raises InputError when unusable."""
    if not data or not data.strip():
        return Control()
    try:
        raw, _ = parse_yaml(data, CONTROL_FILE)
    except YamlError as exc:
        raise InputError(f"state branch: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError("state branch: control.yaml must be a mapping")
    sections: dict[str, dict[str, Hold]] = {}
    for name in SECTIONS:
        entries = raw.get(name) or {}
        if not isinstance(entries, dict):
            raise InputError(f"state branch: control.yaml: '{name}' must be a mapping")
        sections[name] = {key: _hold(value, f"{name}.{key}") for key, value in entries.items()}
    return Control(
        _hold(raw, "control"), sections["channels"], sections["waves"], sections["publications"]
    )


def _hold(raw: Any, where: str) -> Hold:
    if not isinstance(raw, dict):
        raise InputError(f"state branch: control.yaml: '{where}' must be a mapping")
    try:
        return Hold(
            paused=raw.get("paused") == "true",
            cancelled=raw.get("cancelled") == "true",
            reason=str(raw.get("reason") or ""),
            until=_instant(raw.get("until")),
            actor=raw.get("actor") if isinstance(raw.get("actor"), str) else None,
            at=_instant(raw.get("at")),
        )
    except ValueError as exc:
        raise InputError(f"state branch: control.yaml: '{where}': {exc}") from None


def _instant(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("expected a time such as 2030-12-03T00:00:00Z")
    return times.to_utc(times.parse_datetime(value))
