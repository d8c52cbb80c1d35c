"""``status``: counts, the next publications, open problems and the dead-cron alarm (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler import times
from scheduler.planning import Publication
from scheduler.status import PROBLEM_STATUSES, STATUSES
from scheduler.world import World

DEAD_CRON = timedelta(minutes=45)
STALLED_QUEUE = timedelta(days=2)
TICK_SILENCE = timedelta(minutes=20)
NEXT_SHOWN = 10


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
    now = world.now
    statuses = {pub.id: world.status(pub) for pub in world.publications}
    counts = Counter(statuses.values())
    upcoming = [
        pub for pub in world.publications if statuses[pub.id] in ("pending", "scheduled", "paused")
    ]
    report = Health({name: counts.get(name, 0) for name in STATUSES}, upcoming[:NEXT_SHOWN])
    for pub in world.publications:
        status = statuses[pub.id]
        if status == "missed" and pub.record is None:
            late = now - (pub.due - pub.lead)
            message = f"never claimed, {_minutes(late)} after it became due, and now past max_lateness: is tick.yml running?"
            report.troubles.append(Trouble("dead-cron", pub.id, message))
        elif status in PROBLEM_STATUSES:
            report.troubles.append(Trouble(status, pub.id, _advice(pub, status)))
        elif (
            pub.record is not None
            and pub.record.held
            and status in ("scheduled", "pending", "paused")
        ):
            causes = ", ".join(sorted(pub.record.held))
            report.troubles.append(
                Trouble(
                    "held",
                    pub.id,
                    f"held ({causes}) since {times.format_utc(pub.record.events[-1].at)}",
                )
            )
        elif status == "scheduled" and pub.record is None and now > pub.due - pub.lead + DEAD_CRON:
            late = now - (pub.due - pub.lead)
            report.troubles.append(
                Trouble(
                    "dead-cron",
                    pub.id,
                    f"still unclaimed {_minutes(late)} after it became due: is tick.yml running?",
                )
            )
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
    """Queues with unclaimed items and no dispatch for 2 days."""
    troubles = []
    now = world.now
    for doc in world.schedules.queues:
        items = [pub for pub in world.publications if pub.file == doc.path]
        waiting = [pub for pub in items if pub.estimated and not pub.cancelled]
        if not waiting:
            continue
        sent = [
            ev.at
            for pub in items
            if pub.record
            for ev in pub.record.events
            if ev.event in ("claimed", "dispatched")
        ]
        channel = world.schedules.channels.get(doc.channel)
        start = (
            times.slot_instant(doc.queue.start, datetime.min.time(), channel.zone)
            if channel
            else now
        )
        last = max(sent, default=start)
        if now - last > STALLED_QUEUE and now - start > STALLED_QUEUE:
            message = f"{len(waiting)} item(s) waiting and nothing dispatched since {times.format_utc(last)}"
            troubles.append(Trouble("stalled-queue", doc.path, message))
    return troubles


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
        started = times.to_utc(times.parse_datetime(last_run.replace("Z", "+00:00")))
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
        reason = last.get("reason") if last is not None else None
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
        return f"due {due}: dispatched but not confirmed within confirm_within; check the receiver"
    return f"due {due}: went past max_lateness without going out; `scheduler retry {pub.id} --at T` to send it later"


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
