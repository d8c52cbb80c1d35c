"""``status``: counts, the next publications, open problems and the dead-cron alarm (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler import slots, times
from scheduler.loading import ChannelConfig
from scheduler.planning import Publication
from scheduler.status import PROBLEM_STATUSES, STATUSES
from scheduler.world import World

DEAD_CRON = timedelta(minutes=45)
STALLED_QUEUE = timedelta(days=2)
TICK_SILENCE = timedelta(minutes=20)
NEXT_SHOWN = 10
MAX_REASON_SHOWN = 120
HELD_ADVICE = {
    "conflict": "it overlaps another publication of the channel (min_gap) or repeats its video; run scheduler validate",
    "video-not-ready": "its video is not ready; set ready: true in videos.yaml when it is",
    "unknown-video": "its video is not in videos.yaml",
    "already-published": "its video already went out on this channel under another id; cancel or remove it",
    "paused": "it is paused in control.yaml; `scheduler resume` with the same selectors lifts it",
}


@dataclass(frozen=True)
class Trouble:
    """One open problem: its kind, the publication or queue it is about, and what to do."""

    kind: (
        str  # failed, unknown, unconfirmed, missed, held, stalled-queue, dead-cron, workflow, files
    )
    subject: str
    message: str


@dataclass
class Health:
    """The whole status report."""

    counts: dict[str, int]
    upcoming: list[Publication]
    troubles: list[Trouble] = field(default_factory=list)


def health(world: World) -> Health:
    """Counts by status, the next publications and every open problem at ``now`` (query)."""
    statuses = {pub.id: world.status(pub) for pub in world.publications}
    counts = Counter(statuses.values())
    upcoming = [
        pub for pub in world.publications if statuses[pub.id] in ("pending", "scheduled", "paused")
    ]
    report = Health({name: counts.get(name, 0) for name in STATUSES}, upcoming[:NEXT_SHOWN])
    for pub in world.publications:
        trouble = publication_trouble(pub, statuses[pub.id], world.now)
        if trouble is not None:
            report.troubles.append(trouble)
    report.troubles += stalled_queues(world)
    report.troubles += state_troubles(world)
    errors = [p for p in world.problems() if p.severity == "error"]
    if errors:
        report.troubles.append(
            Trouble(
                "files", "schedules/", f"{len(errors)} validation error(s): run scheduler validate"
            )
        )
    return report


def publication_trouble(pub: Publication, status: str, now: datetime) -> Trouble | None:
    """The problem ``pub`` (with ``status`` at ``now``) is, if any (query)."""
    record = pub.record
    unclaimed = record is None or record.state in (None, "released")
    became_due = pub.due - pub.lead
    if status == "missed" and unclaimed:
        message = (
            f"never claimed, {_minutes(now - became_due)} after it became due, and now past "
            "max_lateness: is tick.yml running?"
        )
        return Trouble("dead-cron", pub.id, message)
    if status in PROBLEM_STATUSES:
        return Trouble(status, pub.id, _advice(pub, status))
    if record is not None and record.held and status in ("scheduled", "pending", "paused"):
        stale = {"cancelled"} | ({"paused"} if status != "paused" else set())
        causes = sorted(record.held - stale)  # a pause or cancel lifted since is no cause
        if causes:
            since = times.format_utc(record.events[-1].at)
            advice = "; ".join(HELD_ADVICE.get(cause, cause) for cause in causes)
            return Trouble("held", pub.id, f"held ({', '.join(causes)}) since {since}: {advice}")
    if status == "scheduled" and unclaimed and now > became_due + DEAD_CRON:
        message = f"still unclaimed {_minutes(now - became_due)} after it became due: is tick.yml running?"
        return Trouble("dead-cron", pub.id, message)
    return None


def state_troubles(world: World) -> list[Trouble]:
    """A tampered ledger, a clock behind the ledger, unusable ledger lines: ticks act on nothing."""
    from scheduler.errors import StateError
    from scheduler.tick import check_state

    troubles = []
    try:
        check_state(world)
    except StateError as exc:
        troubles.append(Trouble("state", "scheduler-state", str(exc)))
    return troubles


def stalled_queues(world: World) -> list[Trouble]:
    """Queues with unclaimed items and no dispatch for 2 days, though a posting slot of the
    channel passed unused since its last claimed item (so a weekly slot is no stall)."""
    troubles = []
    now = world.now
    for doc in world.schedules.queues:
        channel = world.schedules.channels.get(doc.channel)
        items = [pub for pub in world.publications if pub.file == doc.path]
        waiting = [pub for pub in items if pub.estimated and not pub.cancelled]
        if channel is None or not waiting:
            continue
        start = times.slot_instant(doc.queue.start, datetime.min.time(), channel.zone)
        sent = [
            ev.at
            for pub in items
            if pub.record
            for ev in pub.record.events
            if ev.event in ("claimed", "dispatched")
        ]
        last = max(sent, default=start)
        if now - last <= STALLED_QUEUE or now - start <= STALLED_QUEUE:
            continue
        unused = _unused_slot(channel, items, start, until=now - DEAD_CRON)
        if unused is not None:
            message = (
                f"{len(waiting)} item(s) waiting and nothing dispatched since "
                f"{times.format_utc(last)}, though the slot at {times.format_utc(unused)} passed "
                "unused: is tick.yml running?"
            )
            troubles.append(Trouble("stalled-queue", doc.path, message))
    return troubles


def _unused_slot(
    channel: ChannelConfig, items: list[Publication], start: datetime, *, until: datetime
) -> datetime | None:
    """The first slot of ``channel`` after the queue's last claimed item (or its start) and
    before ``until``, or None."""
    claimed = [pub.due + timedelta(seconds=1) for pub in items if pub.claimed]
    after = max([start, *claimed])
    if after >= until or not channel.slots:
        return None
    try:
        return next(slots.occurrences(channel.slots, channel.zone, after=after, until=until), None)
    except ValueError:  # beyond the calendar slots can compute
        return None


def workflow_troubles(
    state: str | None, last_run: str | None, error: str | None, now: datetime
) -> list[Trouble]:
    """What the Actions API answer about tick.yml means."""
    if error is not None:
        return [Trouble("workflow", "tick.yml", error)]
    troubles = []
    if state != "active":
        troubles.append(
            Trouble(
                "workflow",
                "tick.yml",
                f"tick.yml is {state or 'missing'}: enable it in the Actions tab",
            )
        )
    if last_run is None:
        troubles.append(Trouble("workflow", "tick.yml", "tick.yml has never run"))
    else:
        try:
            started = times.to_utc(times.parse_datetime(last_run.replace("Z", "+00:00")))
        except (ValueError, OverflowError):
            return [
                *troubles,
                Trouble(
                    "workflow",
                    "tick.yml",
                    f"tick.yml's last run has an unreadable time {last_run[:40]!r}",
                ),
            ]
        if now - started > TICK_SILENCE:
            troubles.append(
                Trouble(
                    "workflow",
                    "tick.yml",
                    f"tick.yml last ran at {last_run}, {_minutes(now - started)} ago",
                )
            )
    return troubles


def _advice(pub: Publication, status: str) -> str:
    due = times.format_utc(pub.due)
    if status == "unknown":
        return f"due {due}: the outcome of its dispatch is unknown; check the receiver, then `scheduler retry {pub.id}` only if it did not go out"
    if status == "failed":
        last = pub.record.last_outcome if pub.record else None
        reason = _one_line(last.get("reason")) if last is not None else None
        if reason == "auth":
            return f"due {due}: the publisher repository refused the token (auth); fix the token or its access: later ticks retry by themselves until max_lateness"
        if (
            last is not None
            and last.get("retryable")
            and pub.record is not None
            and pub.record.attempt < 3
        ):
            return f"due {due}: failed ({reason}); later ticks retry by themselves (attempt {pub.record.attempt} of 3)"
        return f"due {due}: failed ({reason or 'see scheduler show'}); fix the cause, then `scheduler retry {pub.id}`"
    if status == "unconfirmed":
        return (
            f"due {due}: dispatched but not confirmed within confirm_within; check the receiver, "
            f"then `scheduler record {pub.id} --result published --url URL` (or --result failed)"
        )
    return f"due {due}: went past max_lateness without going out; `scheduler retry {pub.id} --at T` to send it later"


def _one_line(value: object) -> str | None:
    """A reason from the ledger (a receiver's words) as one short line, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    flat = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return flat if len(flat) <= MAX_REASON_SHOWN else flat[: MAX_REASON_SHOWN - 3] + "..."


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
