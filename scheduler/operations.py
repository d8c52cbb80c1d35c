"""Pause, resume, cancel, retry and record: what each changes in the state (pure queries).

Each function returns the changes (control.yaml edits or ledger events) and a human account of
what the selectors matched; the commands commit them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scheduler import ledger, times
from scheduler.control_edit import Change
from scheduler.errors import UsageError
from scheduler.planning import Publication
from scheduler.selectors import Selector
from scheduler.world import World

RETRYABLE = frozenset({"unknown", "failed", "missed"})
MAX_REASON = 500


@dataclass
class Outcome:
    """What a state-changing command would write, and what to tell the user."""

    control: list[Change] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when nothing would be written."""
        return not (self.control or self.events)


def _stamp(reason: str, actor: str, now: datetime, until: datetime | None = None) -> dict[str, str]:
    fields = {"reason": reason, "actor": actor, "at": times.format_utc(now)}
    if until is not None:
        fields["until"] = times.format_utc(until)
    return fields


def hold(
    world: World,
    selector: Selector,
    *,
    flag: str,
    everything: bool,
    reason: str,
    actor: str,
    until: datetime | None = None,
) -> Outcome:
    """``pause`` (flag ``paused``) or ``cancel`` (flag ``cancelled``) entries for the selection."""
    if not reason.strip():
        raise UsageError("--reason is required: say why, it is recorded with the change")
    outcome = Outcome()
    stamp = {flag: "true", **_stamp(reason, actor, world.now, until)}
    if everything:
        outcome.control.append(Change("", "", stamp))
        outcome.lines.append(f"{flag} everything: {reason}")
        return outcome
    for section, keys in _targets(world, selector):
        for key in keys:
            outcome.control.append(Change(section, key, stamp))
            outcome.lines.append(f"{flag} {section[:-1]} {key}")
    if flag == "cancelled":
        outcome.lines += _already_out(world, selector)
    return outcome


def lift(world: World, selector: Selector, *, everything: bool) -> Outcome:
    """``resume``: lift pauses and cancellations entered at the selected level.

    ``--id`` lifts publication entries, a lone ``--wave`` wave entries, a lone ``--channel``,
    ``--group`` or ``--platform`` channel entries (so a ``cancel --wave X`` is undone by
    ``resume --wave X``); a cancel in a schedule file is undone only by editing the file.
    """
    outcome = Outcome()
    if everything:
        if world.control.everything.paused:
            outcome.control.append(Change("", "", None))
            outcome.lines.append("resumed everything (the global pause is lifted)")
        else:
            outcome.lines.append("nothing to lift: there is no global pause")
        return outcome
    for section, keys in _targets(world, selector):
        entries = getattr(world.control, section)
        for key in keys:
            entry = entries.get(key)
            if entry is not None and entry.paused:
                outcome.control.append(Change(section, key, lift="paused"))
                outcome.lines.append(f"resumed {section[:-1]} {key}")
            if entry is not None and entry.cancelled:
                outcome.control.append(Change(section, key, lift="cancelled"))
                outcome.lines.append(f"un-cancelled {section[:-1]} {key}")
    if not outcome.control:
        outcome.lines.append(f"nothing to lift for {selector.describe()}")
    return outcome


def _targets(world: World, selector: Selector) -> list[tuple[str, list[str]]]:
    """Where entries go: channels for a lone channel/group/platform selector, waves for a lone
    --wave, else one entry per matched publication."""
    if selector.is_empty():
        raise UsageError(
            "select what to act on: --id, --channel, --group, --platform or --wave (or --all)"
        )
    selector.check_names(world.schedules, world.publications)
    kinds = set(selector.kinds())
    if kinds <= {"channel", "group", "platform"} and len(kinds) == 1:
        channels = selector.channel_set(world.schedules) or set()
        return [("channels", sorted(channels))]
    if kinds == {"wave"}:
        return [("waves", list(selector.waves))]
    return [
        ("publications", [pub.id for pub in selector.select(world.publications, world.schedules)])
    ]


def _already_out(world: World, selector: Selector) -> list[str]:
    lines = []
    for pub in selector.select(world.publications, world.schedules):
        if pub.claimed:
            lines.append(
                f"note: {pub.id} was already claimed ({world.status(pub)}): cancelling no longer stops it"
            )
    return lines


def retry(
    world: World, pubs: Sequence[Publication], *, at: datetime | None, actor: str, run: str
) -> Outcome:
    """``released`` events for unknown/failed/publish_failed/missed publications."""
    outcome = Outcome()
    due = at or world.now
    for pub in pubs:
        status = world.status(pub)
        if status not in RETRYABLE:
            outcome.problems.append(
                f"{pub.id} is {status}: only unknown, failed or missed publications can be retried"
            )
            continue
        outcome.events.append(
            ledger.new_event(
                pub.id,
                "released",
                world.now,
                due=due,
                channel=pub.channel,
                video=pub.video,
                actor=actor,
                run=run,
            )
        )
        outcome.lines.append(
            f"released {pub.id} for another attempt at {times.format_utc(due)} ({status} before)"
        )
    return outcome


# --------------------------------------------------------------------------- record


@dataclass(frozen=True)
class Result:
    """One receiver result: ``published`` or ``failed`` for an attempt."""

    id: str
    result: str
    attempt: int | None = None
    url: str | None = None
    reason: str | None = None


def record(
    world: World, results: Sequence[Result], *, actor: str, sender: str | None, run: str
) -> Outcome:
    """``published``/``publish_failed`` events for receiver results; repeats are no-ops.

    With ``sender`` (from a ``publication-result`` event), a result is accepted only from a
    login in the channel's ``reporters`` and for an attempt that was dispatched.
    """
    outcome = Outcome()
    records = world.records
    for result in results:
        problem = _check_result(result, records, world, sender)
        if problem is not None:
            outcome.problems.append(problem)
            continue
        rec = records[result.id]
        attempt = result.attempt if result.attempt is not None else _latest_dispatched(rec)
        name = "published" if result.result == "published" else "publish_failed"
        if any(ev.event == name and ev.get("attempt") == attempt for ev in rec.events):
            outcome.lines.append(f"already recorded: {result.id} {name} (attempt {attempt})")
            continue
        outcome.events.append(
            ledger.new_event(
                result.id,
                name,
                world.now,
                due=rec.due,
                channel=rec.channel,
                video=rec.video,
                attempt=attempt,
                url=result.url,
                reason=result.reason,
                actor=sender or actor,
                run=run,
            )
        )
        outcome.lines.append(f"recorded {result.id}: {name} (attempt {attempt})")
    return outcome


def _latest_dispatched(rec: ledger.Record) -> int | None:
    for event in reversed(rec.events):
        if event.event == "dispatched":
            value = event.get("attempt")
            return int(value) if isinstance(value, int) else None
    return None


def _check_result(
    result: Result, records: Mapping[str, ledger.Record], world: World, sender: str | None
) -> str | None:
    if result.result not in ("published", "failed"):
        return f"{result.id}: result must be published or failed, not {result.result!r}"
    rec = records.get(result.id)
    if rec is None:
        return f"{result.id}: no such publication in the ledger (was it dispatched?)"
    if result.url is not None and (not result.url.startswith("https://") or len(result.url) > 2000):
        return f"{result.id}: url must be an https: URL of at most 2000 characters"
    if result.reason is not None and len(result.reason) >= MAX_REASON:
        return f"{result.id}: reason must be under {MAX_REASON} characters"
    dispatched = {ev.get("attempt") for ev in rec.events if ev.event == "dispatched"}
    if not dispatched:
        return f"{result.id}: it was never dispatched, so there is no result to record"
    if sender is not None:
        channel = world.schedules.channels.get(rec.channel or "")
        reporters = channel.reporters if channel else ()
        if sender not in reporters:
            return f"{result.id}: sender '{sender}' is not among the reporters of channel '{rec.channel}'"
        if result.attempt not in dispatched:
            return f"{result.id}: attempt {result.attempt} was never dispatched (dispatched: {sorted(a for a in dispatched if a is not None)})"
    return None


def results_from_event(event: Any) -> tuple[list[Result], str | None, list[str]]:
    """(results, sender login, problems) of a ``publication-result`` repository_dispatch event."""
    problems: list[str] = []
    if not isinstance(event, dict):
        return [], None, ["the event is not a JSON object"]
    sender = event.get("sender", {}).get("login") if isinstance(event.get("sender"), dict) else None
    payload = event.get("client_payload")
    raw = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(raw, list):
        return (
            [],
            sender,
            [
                'client_payload must be {"results": [{"id", "attempt", "result", "url"?, "reason"?}]}'
            ],
        )
    results = []
    for index, item in enumerate(raw):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and isinstance(item.get("result"), str)
            and isinstance(item.get("attempt"), int)
            and not isinstance(item.get("attempt"), bool)
        ):
            problems.append(
                f"results[{index}]: needs id (string), attempt (integer) and result (string)"
            )
            continue
        url, reason = item.get("url"), item.get("reason")
        if (url is not None and not isinstance(url, str)) or (
            reason is not None and not isinstance(reason, str)
        ):
            problems.append(f"results[{index}]: url and reason must be strings")
            continue
        results.append(Result(item["id"], item["result"], item["attempt"], url, reason))
    return results, sender, problems
