"""The cron's job: claim -> push -> dispatch -> record -> push, over ports only.

Query and command are apart: :func:`scheduler.decide.due_publications` says what is due;
:func:`run_tick` acts on it. The push of the state branch is the lock: a rejected claim push
means another tick moved first, so the tick reloads and recomputes; a rejected record push
re-appends the same events and never recomputes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler import ledger, summary, times
from scheduler.decide import Claim, Decisions, due_publications
from scheduler.errors import StateConflict, StateError
from scheduler.history import History, read_history, summarized
from scheduler.payload import publication_entry, wire_size
from scheduler.ports import (
    Dispatcher,
    DispatchOutcome,
    DispatchRequest,
    StateSnapshot,
    StateStore,
    overlay,
)
from scheduler.problems import Problem
from scheduler.world import Loaded, World, build_world

MAX_ROUNDS = 6
PAYLOAD_BUDGET = 64_000  # GitHub refuses a client_payload of 64 KB (65,536 bytes) or more
CLOCK_SKEW = timedelta(minutes=2)


@dataclass
class TickReport:
    """What one tick did; ``exit_code`` is 1 when something failed, went unknown, was missed
    or newly held, or a schedule file could not be used (``problems``)."""

    dispatched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    requests: int = 0
    problems: list[Problem] = field(default_factory=list)
    usable: bool = True

    @property
    def exit_code(self) -> int:
        """0 all well, 1 trouble (section 5 of the contract)."""
        trouble = (
            self.failed
            or self.unknown
            or self.missed
            or self.held
            or self.problems
            or not self.usable
        )
        return 1 if trouble else 0

    def as_json(self) -> dict[str, list[str]]:
        """The ``tick --format json`` object."""
        return {
            "dispatched": self.dispatched,
            "failed": self.failed,
            "unknown": self.unknown,
            "missed": self.missed,
            "held": self.held,
        }


@dataclass(frozen=True)
class TickSettings:
    """How a tick runs: identity of the run, backend, and the retry pacing."""

    run_id: str
    sha: str | None = None
    backend: str = "github"  # or "outbox": every channel goes to the outbox
    max_rounds: int = MAX_ROUNDS
    backoff: Callable[[int], None] = lambda attempt: None


def check_state(world: World) -> None:
    """Refuse a tampered or unreadable ledger, and a clock behind the ledger (query).

    Acting on a ledger with lines it cannot read could send a publication twice, so a tick
    (and every state-changing command) does nothing until the ledger is restored.
    """
    state, now = world.state, world.now
    bad = ledger.tampered_files(state.files, state.trailers, world.history.verified)
    if bad:
        raise StateError(
            "ledger-tampered: lines vouched for by the scheduler's last commit were changed or removed in "
            f"{', '.join(bad)}; nothing was done. Restore the branch from its history (git log {state.commit or ''})"
        )
    unreadable = [p for p in world.load_problems if p.code == "ledger-line"]
    if unreadable:
        first = unreadable[0]
        raise StateError(
            f"ledger-unreadable: {len(unreadable)} ledger line(s) cannot be read, first {first.file}:{first.line}; "
            "nothing was done. Restore the branch from its history"
        )
    newest = world.history.newest_at
    if newest is not None and now < newest - CLOCK_SKEW:
        raise StateError(
            f"clock-skew: now is {times.format_utc(now)} but the ledger has an event at "
            f"{times.format_utc(newest)}; nothing was done. Check the clock (or --now)"
        )


def run_tick(
    files: Mapping[str, bytes],
    *,
    store: StateStore,
    dispatcher: Dispatcher,
    now: datetime,
    settings: TickSettings,
    file_problems: Sequence[Problem] = (),
    loaded: Loaded | None = None,
) -> TickReport:
    """Run one tick at ``now`` (command): claim, dispatch, record."""
    report = TickReport()
    checked: dict[str, DispatchOutcome] = {}
    for round_number in range(settings.max_rounds):
        state = store.load()
        world = build_world(
            files, state, now=now, extra_problems=tuple(file_problems), loaded=loaded, focused=True
        )
        check_state(world)
        if not world.schedules.usable:
            report.usable = False
            report.problems = [p for p in world.load_problems if p.severity == "error"]
            report.lines.append("channels or videos cannot be loaded: nothing was done")
            return report
        report.problems = _file_problems(world)
        decisions = due_publications(world)
        claims, refused = _preflight(decisions.claims, world, dispatcher, settings, checked)
        events = _decision_events(decisions, refused, world, settings, now)
        if not events:
            _fill_report(report, decisions, refused, world)
            return report
        try:
            changes = append_events(state, events, world.records)
            state = save_state(
                store, state, changes, _subject("claim", events, settings), world.history
            )
        except StateConflict:
            settings.backoff(round_number)
            continue
        _fill_report(report, decisions, refused, world)
        break
    else:
        raise StateError(
            f"the state branch moved {settings.max_rounds} times while claiming: nothing was sent; "
            "the next tick tries again"
        )
    if claims:
        _dispatch_and_record(
            claims,
            world,
            state,
            store=store,
            dispatcher=dispatcher,
            now=now,
            settings=settings,
            report=report,
        )
    return report


def _file_problems(world: World) -> list[Problem]:
    """Errors that left part of the schedule out (a wave or queue file that cannot be used)."""
    found = [*world.load_problems, *world.plan.problems]
    return sorted((p for p in found if p.severity == "error"), key=Problem.sort_key)


# --------------------------------------------------------------------------- claiming


@dataclass(frozen=True)
class _Target:
    """Where a publication's request goes: its channel's repository, or the outbox."""

    repo: str | None  # the channel's publisher repository (None: the channel has none)
    event_type: str
    outbox: bool  # written to the outbox on the state branch instead of sent


def _target(pub_channel: str, world: World, settings: TickSettings) -> _Target:
    """Return where the publications of ``pub_channel`` go under ``settings.backend``."""
    channel = world.schedules.channels.get(pub_channel)
    if channel is None:
        return _Target(None, "publish", True)
    return _Target(
        channel.repo, channel.event_type, channel.repo is None or settings.backend == "outbox"
    )


def _preflight(
    claims: Sequence[Claim],
    world: World,
    dispatcher: Dispatcher,
    settings: TickSettings,
    checked: dict[str, DispatchOutcome],
) -> tuple[list[Claim], list[tuple[Claim, DispatchOutcome]]]:
    """Check each target repository once; claims for a repository that fails are not made."""
    kept: list[Claim] = []
    refused: list[tuple[Claim, DispatchOutcome]] = []
    for claim in claims:
        target = _target(claim.pub.channel, world, settings)
        repo = None if target.outbox else target.repo
        if repo is not None and repo not in checked:
            checked[repo] = dispatcher.check_repo(repo)
        outcome = checked.get(repo) if repo is not None else None
        if outcome is not None and outcome.kind != "ok":
            refused.append((claim, outcome))
        else:
            kept.append(claim)
    return kept, refused


def _decision_events(
    decisions: Decisions,
    refused: Sequence[tuple[Claim, DispatchOutcome]],
    world: World,
    settings: TickSettings,
    now: datetime,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for record in decisions.stale:
        events.append(
            ledger.new_event(
                record.id,
                "unknown",
                now,
                due=record.due,
                channel=record.channel,
                video=record.video,
                attempt=record.attempt,
                reason="no result within 15 minutes of the claim",
                run=settings.run_id,
            )
        )
    for pub, reason in decisions.missed:
        events.append(
            ledger.new_event(
                pub.id,
                "missed",
                now,
                due=pub.due,
                channel=pub.channel,
                video=pub.video,
                reason=reason,
                run=settings.run_id,
            )
        )
    for pub, cause in decisions.held:
        events.append(
            ledger.new_event(
                pub.id,
                "held",
                now,
                due=pub.due,
                channel=pub.channel,
                video=pub.video,
                reason=cause,
                run=settings.run_id,
            )
        )
    for claim, outcome in refused:
        pub = claim.pub
        last = pub.record.last_outcome if pub.record else None
        if last is not None and last.event == "failed" and last.get("reason") == outcome.reason:
            continue  # already recorded; the report still says it failed
        events.append(
            ledger.new_event(
                pub.id,
                "failed",
                now,
                due=pub.due,
                channel=pub.channel,
                video=pub.video,
                reason=outcome.reason,
                retryable=outcome.retryable or None,
                detail=outcome.detail or None,
                run=settings.run_id,
            )
        )
    for claim in decisions.claims:
        if any(claim is refused_claim for refused_claim, _ in refused):
            continue
        pub = claim.pub
        entry = publication_entry(
            pub, world.schedules, attempt=claim.attempt, not_before=claim.not_before
        )
        events.append(
            ledger.new_event(
                pub.id,
                "claimed",
                now,
                due=pub.due,
                channel=pub.channel,
                video=pub.video,
                attempt=claim.attempt,
                not_before=claim.not_before,
                run=settings.run_id,
                sha=settings.sha,
                payload=entry,
            )
        )
    return events


def _fill_report(
    report: TickReport,
    decisions: Decisions,
    refused: Sequence[tuple[Claim, DispatchOutcome]],
    world: World,
) -> None:
    report.unknown += [record.id for record in decisions.stale]
    report.missed += [pub.id for pub, _ in decisions.missed]
    report.held += [pub.id for pub, _ in decisions.held]
    report.failed += [claim.pub.id for claim, _ in refused]
    for record in decisions.stale:
        report.lines.append(
            f"unknown   {record.id}: claimed at {times.format_utc(record.claim.at) if record.claim else '?'} with no result; check the receiver, then `scheduler retry {record.id}` if it did not go out"
        )
    for pub, reason in decisions.missed:
        report.lines.append(
            f"missed    {pub.id}: due {times.format_utc(pub.due)}, now past max_lateness ({reason})"
        )
    for pub, cause in decisions.held:
        report.lines.append(f"held      {pub.id}: {cause}")
    for claim, outcome in refused:
        report.lines.append(f"failed    {claim.pub.id}: {outcome.reason}: {outcome.detail}")


# --------------------------------------------------------------------------- dispatching


@dataclass
class _Batch:
    target: _Target
    claims: list[Claim]
    entries: list[dict[str, Any]]
    outbox_file: str | None = None  # set when the batch is an outbox line


def build_batches(claims: Iterable[Claim], world: World, settings: TickSettings) -> list[_Batch]:
    """Requests grouped by (repo, event_type), at most ``max_batch`` each (the smallest of the
    channels in it), split to keep ``client_payload`` under GitHub's size limit as sent.

    Outbox lines are grouped the same way (by the channel's repository, null where it has none)
    and by the outbox file of their publications.
    """
    grouped: dict[tuple[_Target, str | None], list[Claim]] = defaultdict(list)
    for claim in claims:
        target = _target(claim.pub.channel, world, settings)
        grouped[(target, _outbox_file(claim) if target.outbox else None)].append(claim)
    batches: list[_Batch] = []
    for (target, outbox_file), group in sorted(grouped.items(), key=_group_order):
        current: _Batch | None = None
        limit = 0
        size = 0
        for claim in group:
            entry = _entry_of(claim, world)
            channel = world.schedules.channels.get(claim.pub.channel)
            cap = channel.max_batch if channel else 1
            entry_size = wire_size(entry) + len(", ")
            if (
                current is None
                or len(current.claims) + 1 > min(limit, cap)
                or size + entry_size > PAYLOAD_BUDGET
            ):
                current = _Batch(target, [], [], outbox_file)
                batches.append(current)
                limit, size = cap, wire_size({"publications": [], "run": settings.run_id})
            limit = min(limit, cap)
            current.claims.append(claim)
            current.entries.append(entry)
            size += entry_size
    return batches


def _group_order(
    item: tuple[tuple[_Target, str | None], list[Claim]],
) -> tuple[bool, str, str, str]:
    """Return the sort key of a group: requests first, by repository and event type; then outbox."""
    (target, outbox_file), _ = item
    return target.outbox, target.repo or "", target.event_type, outbox_file or ""


def _outbox_file(claim: Claim) -> str:
    """The outbox file of a publication: the month of its ledger file, for good."""
    month = ledger.ledger_file_for(claim.pub.record, claim.pub.due).removeprefix("ledger/")
    return "outbox/" + month


def _entry_of(claim: Claim, world: World) -> dict[str, Any]:
    return publication_entry(
        claim.pub, world.schedules, attempt=claim.attempt, not_before=claim.not_before
    )


def _dispatch_and_record(
    claims: Sequence[Claim],
    world: World,
    state: StateSnapshot,
    *,
    store: StateStore,
    dispatcher: Dispatcher,
    now: datetime,
    settings: TickSettings,
    report: TickReport,
) -> None:
    events: list[dict[str, Any]] = []
    outbox: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for batch, outcome in _send_batches(
        build_batches(claims, world, settings), dispatcher, settings, report
    ):
        if batch.outbox_file is not None:
            payload = {"publications": batch.entries, "run": settings.run_id}
            outbox[batch.outbox_file].append(
                {
                    "repo": batch.target.repo,
                    "event_type": batch.target.event_type,
                    "client_payload": payload,
                }
            )
        events += _outcome_events(batch, outcome, now, settings, report)
    subject = _subject("record", events, settings)
    known = world.history
    for round_number in range(settings.max_rounds):
        changes = append_events(state, events, known.records)
        for path, rows in outbox.items():
            changes[path] = bytes(state.files.get(path, b"")) + ledger.encode_lines(rows)
        try:
            save_state(store, state, changes, subject, known, now=now)
            return
        except StateConflict:
            settings.backoff(round_number)
            state = store.load()
            known = read_history(state, world.focus)
    raise StateError(
        "the results could not be recorded (the state branch kept moving): the claims stay, and the next "
        "tick marks them unknown after 15 minutes; nothing will be re-sent"
    )


def _send_batches(
    batches: Sequence[_Batch], dispatcher: Dispatcher, settings: TickSettings, report: TickReport
) -> Iterator[tuple[_Batch, DispatchOutcome]]:
    """Send the batches one after another; yield each with its outcome (command).

    Outbox batches are accepted as they are (the caller writes them). After an auth failure
    nothing more is sent to that repository; once the rate-limit wait budget is used up nothing
    more is sent at all, and what is left fails the same way (retryable).
    """
    auth_failed: dict[str, DispatchOutcome] = {}
    exhausted: DispatchOutcome | None = None
    for batch in batches:
        repo = batch.target.repo
        if batch.outbox_file is not None or repo is None:
            yield batch, DispatchOutcome("ok")
            continue
        outcome = auth_failed.get(repo) or exhausted
        if outcome is None:
            ids = tuple(claim.pub.id for claim in batch.claims)
            payload = {"publications": batch.entries, "run": settings.run_id}
            outcome = dispatcher.send(DispatchRequest(repo, batch.target.event_type, payload, ids))
            report.requests += 1
            if outcome.kind == "failed" and outcome.reason == "auth":
                auth_failed[repo] = outcome
            elif outcome.kind == "failed" and outcome.reason == "rate_limited":
                exhausted = outcome
        yield batch, outcome


def _outcome_events(
    batch: _Batch,
    outcome: DispatchOutcome,
    now: datetime,
    settings: TickSettings,
    report: TickReport,
) -> list[dict[str, Any]]:
    events = []
    backend = "outbox" if batch.outbox_file is not None else "github"
    where = "outbox" if batch.outbox_file is not None else batch.target.repo
    for claim in batch.claims:
        pub = claim.pub
        common: dict[str, Any] = {
            "due": pub.due,
            "channel": pub.channel,
            "video": pub.video,
            "attempt": claim.attempt,
            "run": settings.run_id,
        }
        if outcome.kind == "ok":
            events.append(
                ledger.new_event(
                    pub.id,
                    "dispatched",
                    now,
                    backend=backend,
                    not_before=claim.not_before,
                    **common,
                )
            )
            report.dispatched.append(pub.id)
            report.lines.append(
                f"dispatched {pub.id} -> {where} (not_before {times.format_utc(claim.not_before)})"
            )
        elif outcome.kind == "failed":
            events.append(
                ledger.new_event(
                    pub.id,
                    "failed",
                    now,
                    reason=outcome.reason,
                    retryable=outcome.retryable or None,
                    detail=outcome.detail or None,
                    **common,
                )
            )
            report.failed.append(pub.id)
            report.lines.append(f"failed    {pub.id}: {outcome.reason}: {outcome.detail}")
        else:
            events.append(
                ledger.new_event(
                    pub.id,
                    "unknown",
                    now,
                    reason=outcome.reason or "ambiguous",
                    detail=outcome.detail or None,
                    **common,
                )
            )
            report.unknown.append(pub.id)
            report.lines.append(
                f"unknown   {pub.id}: {outcome.detail}; never re-sent automatically"
            )
    return events


# --------------------------------------------------------------------------- writing


def append_events(
    state: StateSnapshot, events: Sequence[Mapping[str, Any]], records: Mapping[str, ledger.Record]
) -> dict[str, bytes]:
    """New contents of the ledger files these events go to (appended, never rewritten).

    An id's events go to the file of its first event, for good; a new id's to the UTC month
    of its due.
    """
    by_file: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    first_file: dict[str, str] = {}
    for event in events:
        pub_id = event["id"]
        if pub_id not in first_file:
            due = times.to_utc(times.parse_datetime(event.get("due") or event["at"]))
            first_file[pub_id] = ledger.ledger_file_for(records.get(pub_id), due)
        by_file[first_file[pub_id]].append(event)
    return {
        path: bytes(state.files.get(path, b"")) + ledger.encode_lines(rows)
        for path, rows in by_file.items()
    }


def _subject(step: str, events: Sequence[Mapping[str, Any]], settings: TickSettings) -> str:
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        counts[event["event"]] += 1
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    return f"tick {step}: {summary} (run {settings.run_id})"


def save_state(
    store: StateStore,
    state: StateSnapshot,
    changes: Mapping[str, bytes],
    subject: str,
    history: History | None = None,
    *,
    now: datetime | None = None,
) -> StateSnapshot:
    """Commit ``changes`` on ``state`` with the ``Scheduler-Ledger`` trailers of every ledger
    file and summary.

    ``history`` (read from ``state``, or from an earlier state of the branch) knows the line
    count and hash of the months its summaries cover; those still unchanged in ``state`` are
    not read again. With ``now``, closed months whose summary is
    missing or out of date get a new one in the same commit (:mod:`scheduler.summary`).
    """
    known = history.known if history is not None else summarized(state)
    changes = dict(changes)
    merged = overlay(state.files, changes)
    # What the summaries read with ``history`` still say of ``state``'s files (a commit since,
    # a claim say, may have changed a month): those files need not be read or hashed again.
    current = [
        path for path, facts in known.items() if path not in changes and facts.still(state, path)
    ]
    unchanged = {path: (known[path].lines, known[path].sha256) for path in current}
    if now is not None:
        for path in ledger.ledger_files(merged):
            if path not in unchanged and summary.month_closed(path, now):
                built = summary.build(path, bytes(merged[path]))
                if built is not None:
                    changes[summary.summary_path(path)] = built
        merged = overlay(state.files, changes)
    # Vouch only for the summaries written now and those still in use: one edited by hand, or
    # left behind by its changed month, stays unvouched (and ignored) until it is rewritten.
    trusted = {summary.summary_path(path) for path in current}
    leave_out = {
        path
        for path in merged
        if path.startswith(summary.DIRECTORY) and path not in changes and path not in trusted
    }
    unchanged |= {name: state.trailers[name] for name in trusted if name in state.trailers}
    lines = ledger.trailers(merged, unchanged, leave_out)
    message = subject + "\n\n" + "\n".join(lines) + "\n"
    return store.save(state, changes, message)
