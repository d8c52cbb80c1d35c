"""Statuses: intent + state + now -> one status per publication (pure query)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from scheduler import times
from scheduler.control import Control
from scheduler.loading import ChannelConfig
from scheduler.planning import Publication

STATUSES = (
    "pending",
    "scheduled",
    "paused",
    "executing",
    "completed",
    "unconfirmed",
    "failed",
    "cancelled",
    "missed",
    "unknown",
)
PROBLEM_STATUSES = frozenset({"failed", "unknown", "unconfirmed", "missed"})


def status_of(
    pub: Publication, control: Control, channels: Mapping[str, ChannelConfig], now: datetime
) -> str:
    """The status of one publication at ``now`` (section 4 of the contract)."""
    record = pub.record
    if record is not None and record.state not in (None, "released") and not pub.rearmed:
        return _ledger_status(pub, channels.get(pub.channel), now)
    if pub.cancelled or control.cancel_of(pub.id, pub.channel, pub.wave) is not None:
        return "cancelled"
    if control.pause_of(pub.id, pub.channel, pub.wave, now) is not None:
        return "paused"
    if now < pub.due - pub.lead:
        return "pending"
    if pub.type != "independent" and now > pub.due + pub.max_lateness:
        return "missed"
    return "scheduled"


def _ledger_status(pub: Publication, channel: ChannelConfig | None, now: datetime) -> str:
    assert pub.record is not None
    state = pub.record.state
    if state == "claimed":
        return "executing"
    if state == "dispatched":
        confirm = channel.confirm_within if channel else timedelta(0)
        if not confirm:
            return "completed"
        last = pub.record.last_outcome
        sent_at = last.at if last is not None else now
        not_before = last.get("not_before") if last is not None else None
        if isinstance(not_before, str):
            sent_at = max(sent_at, times.to_utc(times.parse_datetime(not_before)))
        return "unconfirmed" if now > sent_at + confirm else "executing"
    if state == "published":
        return "completed"
    if state in ("failed", "publish_failed"):
        return "failed"
    if state in ("unknown", "missed"):
        return state
    return "scheduled"
