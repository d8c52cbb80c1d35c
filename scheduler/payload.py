"""What a receiver gets: one publication's entry in ``client_payload.publications`` (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scheduler import times
from scheduler.loading import Schedules
from scheduler.planning import Publication

# GitHub refuses a client_payload of 64 KB or more; one publication must leave room for others.
MAX_PUBLICATION_BYTES = 60 * 1024


def dedupe_key(channel: str, video: str) -> str:
    """The key a receiver never posts twice: ``<channel>/<video>``."""
    return f"{channel}/{video}"


def video_entry(video_id: str, schedules: Schedules) -> dict[str, Any]:
    """``{"id", "title", "url", ...free metadata}`` of a registered video."""
    video = schedules.videos.get(video_id)
    if video is None:
        return {"id": video_id}
    entry: dict[str, Any] = {"id": video_id, "title": video.title or video_id, "url": video.url}
    entry.update(video.model_extra or {})
    return entry


def publication_entry(
    pub: Publication, schedules: Schedules, *, attempt: int, not_before: datetime | None = None
) -> dict[str, Any]:
    """The payload entry of ``pub``; a claimed publication's comes from its claim."""
    claim = pub.record.claim if pub.record is not None and pub.claimed else None
    stored = claim.get("payload") if claim is not None else None
    if isinstance(stored, Mapping):
        entry = dict(stored)
        due = times.format_utc(pub.due)
        if entry.get("due") != due:  # released with a new due: the window moves with it
            entry["due"] = entry["not_before"] = due
            entry["expires_at"] = times.format_utc(pub.due + pub.max_lateness)
    else:
        channel = schedules.channels.get(pub.channel)
        entry = {
            "id": pub.id,
            "dedupe_key": dedupe_key(pub.channel, pub.video),
            "channel": pub.channel,
            "platform": channel.platform if channel else None,
            "video": video_entry(pub.video, schedules),
            "due": times.format_utc(pub.due),
            "not_before": times.format_utc(pub.due),
            "expires_at": times.format_utc(pub.due + pub.max_lateness),
            "wave": pub.wave,
            "type": pub.type,
            "attempt": attempt,
            "params": dict(pub.params),
        }
    entry["attempt"] = attempt
    if not_before is not None:
        entry["not_before"] = times.format_utc(not_before)
    return entry


def wire_size(value: Any) -> int:
    """Bytes of ``value`` as the request carries it: PyGithub's ``json.dumps`` (ASCII escapes,
    ``", "`` and ``": "`` separators), the largest of the ways GitHub could measure it."""
    return len(json.dumps(value).encode())
