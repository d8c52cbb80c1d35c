"""Pause, resume, cancel, retry and record: what each changes in the state (pure queries).

Each function returns the changes (control.yaml edits or ledger events) and a human account of
what the selectors matched; the commands commit them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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
    _check_everything(selector, everything)
    if until is not None and until <= world.now:
        raise UsageError(
            f"--until {times.format_utc(until)} is not after now ({times.format_utc(world.now)}): "
            "a pause must end in the future"
        )
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
    if not outcome.control:
        outcome.problems.append(
            f"no publication matches {selector.describe()}: nothing was changed"
        )
    outcome.lines += _already_out(
        world, selector, "cancelling" if flag == "cancelled" else "pausing"
    )
    return outcome


def lift(world: World, selector: Selector, *, everything: bool) -> Outcome:
    """``resume``: lift pauses and cancellations entered at the selected level.

    ``--id`` lifts publication entries, a lone ``--wave`` wave entries, a lone ``--channel``,
    ``--group`` or ``--platform`` channel entries (so a ``cancel --wave X`` is undone by
    ``resume --wave X``); a cancel in a schedule file is undone only by editing the file.
    """
    _check_everything(selector, everything)
    outcome = Outcome()
    if everything:
        if world.control.everything.paused:
            outcome.control.append(Change("", "", None))
            outcome.lines.append("resumed everything (the global pause is lifted)")
        else:
            outcome.lines.append("nothing to lift: there is no global pause")
        return outcome
    for section, keys in _targets(world, selector, lifting=True):
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


def _check_everything(selector: Selector, everything: bool) -> None:
    """Raise a usage error for ``--all`` given together with selectors."""
    if everything and not selector.is_empty():
        raise UsageError(
            f"--all acts on the global flag only: drop {selector.describe()}, or drop --all"
        )


def _targets(
    world: World, selector: Selector, *, lifting: bool = False
) -> list[tuple[str, list[str]]]:
    """Where entries go: channels for a lone channel/group/platform selector, waves for a lone
    --wave, else one entry per matched publication.

    ``lifting``: names that control.yaml holds are accepted even when the files no longer
    know them (a pause on a channel or wave since removed can still be lifted).
    """
    if selector.is_empty():
        raise UsageError(
            "select what to act on: --id, --channel, --group, --platform or --wave (or --all)"
        )
    control = world.control
    checked = selector
    if lifting:
        checked = replace(
            selector,
            ids=tuple(i for i in selector.ids if i not in control.publications),
            channels=tuple(c for c in selector.channels if c not in control.channels),
            waves=tuple(w for w in selector.waves if w not in control.waves),
        )
    checked.check_names(world.schedules, world.publications)
    kinds = set(selector.kinds())
    if lifting and kinds == {"id"}:
        return [("publications", list(dict.fromkeys(selector.ids)))]
    if kinds <= {"channel", "group", "platform"} and len(kinds) == 1:
        channels = selector.channel_set(world.schedules) or set()
        return [("channels", sorted(channels))]
    if kinds == {"wave"}:
        return [("waves", list(selector.waves))]
    return [
        ("publications", [pub.id for pub in selector.select(world.publications, world.schedules)])
    ]


def _already_out(world: World, selector: Selector, doing: str) -> list[str]:
    """Notes for selected publications claimed and still in flight, which a hold no longer
    stops (claimed, or sent early with ``lead`` and not yet due)."""
    lines = []
    for pub in selector.select(world.publications, world.schedules):
        status = world.status(pub)
        if pub.claimed and (status == "executing" or pub.due > world.now):
            lines.append(
                f"note: {pub.id} was already claimed ({status}): {doing} no longer stops it"
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
                f"{pub.id} is {status}: only unknown, failed (or publish_failed) or missed publications can be retried"
            )
            continue
        if pub.type != "independent" and due + pub.max_lateness < world.now:
            outcome.problems.append(
                f"{pub.id}: --at {times.format_utc(due)} is more than its max_lateness "
                f"({times.format_duration(pub.max_lateness)}) ago, so the next tick would mark it "
                "missed again: give a later --at"
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
    planned = {pub.id for pub in world.publications}
    seen: set[tuple[str, str, int | None]] = set()
    for result in results:
        problem = _check_result(result, records, planned, world, sender)
        if problem is not None:
            outcome.problems.append(problem)
            continue
        rec = records[result.id]
        attempt = result.attempt if result.attempt is not None else _latest_dispatched(rec)
        name = "published" if result.result == "published" else "publish_failed"
        known = seen | {(rec.id, ev.event, ev.get("attempt")) for ev in rec.events}
        if (result.id, name, attempt) in known:
            outcome.lines.append(f"already recorded: {result.id} {name} (attempt {attempt})")
            continue
        if name == "publish_failed" and (result.id, "published", attempt) in known:
            outcome.problems.append(
                f"{result.id}: attempt {attempt} is already recorded published; a failed result "
                "cannot undo that (it would let the video go out again): check the receiver"
            )
            continue
        seen.add((result.id, name, attempt))
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


def shown(text: object, limit: int = 100) -> str:
    """``text`` safe to print in one line of a log: control characters escaped, at most
    ``limit`` characters (untrusted ids and logins from event files)."""
    value = str(text)
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


# Characters RFC 3986 allows in a URI; anything else (spaces, quotes, <, >) is refused.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
MAX_URL = 2000


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be recorded, or None when it is a plain https: URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or len(url) > MAX_URL
        or not _URI_CHARS.fullmatch(url)
    ):
        return (
            f"url must be an https: URL of at most {MAX_URL} characters, without spaces, "
            "quotes or angle brackets (percent-encode them)"
        )
    return None


def _check_result(
    result: Result,
    records: Mapping[str, ledger.Record],
    planned: set[str],
    world: World,
    sender: str | None,
) -> str | None:
    name = shown(result.id)
    if result.result not in ("published", "failed"):
        return f"{name}: result must be published or failed, not '{shown(result.result, 30)}'"
    if result.url is not None and (problem := url_problem(result.url)) is not None:
        return f"{name}: {problem}"
    if result.reason is not None and len(result.reason) >= MAX_REASON:
        return f"{name}: reason must be under {MAX_REASON} characters"
    rec = records.get(result.id)
    dispatched = (
        {ev.get("attempt") for ev in rec.events if ev.event == "dispatched"} if rec else set()
    )
    if not dispatched:
        if rec is None and result.id not in planned:
            return f"{name}: no such publication{_id_hint(result.id, planned | set(records))}"
        return f"{name}: it was never dispatched, so there is no result to record"
    assert rec is not None
    if sender is not None:
        channel = world.schedules.channels.get(rec.channel or "")
        reporters = channel.reporters if channel else ()
        if sender not in reporters:
            return f"{name}: sender '{shown(sender, 40)}' is not among the reporters of channel '{rec.channel}'"
        if result.attempt not in dispatched:
            return f"{name}: attempt {result.attempt} was never dispatched (dispatched: {sorted(a for a in dispatched if a is not None)})"
    return None


def _id_hint(pub_id: str, known: set[str]) -> str:
    close = difflib.get_close_matches(pub_id, sorted(known), 1)
    return f" (did you mean '{close[0]}'?)" if close else ": `scheduler list` shows every id"


def results_from_event(event: Any) -> tuple[list[Result], str | None, list[str]]:
    """(results, sender login, problems) of a ``publication-result`` repository_dispatch event."""
    problems: list[str] = []
    if not isinstance(event, dict):
        return [], None, ["the event is not a JSON object"]
    login = event.get("sender", {}).get("login") if isinstance(event.get("sender"), dict) else None
    sender = login if isinstance(login, str) and login else None
    action = event.get("action")
    if action is not None and action != "publication-result":
        return [], sender, [f"the event is '{shown(action, 40)}', not a publication-result"]
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
