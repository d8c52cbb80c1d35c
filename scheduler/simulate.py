"""What-if: the real tick protocol replayed in memory under a GitHub-like cron (pure).

:func:`simulate` calls :func:`scheduler.tick.run_tick` itself, unchanged, over a
:class:`~scheduler.memory.MemoryStateStore`, through wrappers of the two ports that inject what
production meets: cron runs that start late (mostly 0-5 minutes, often 5-30, sometimes 30-60),
runs that never start, two runs racing for the state branch, dispatch faults (5xx and timeouts
that the receiver did or did not get, refused connections, rate limits, auth failures) and
crashes between protocol steps. A :class:`Receiver` stands for the publisher repositories: it
records every publication delivered to it and when it would publish (``max(tick time,
not_before)``, nothing after ``expires_at``).

Three invariants are checked: no (channel, video) is delivered twice; no publication due in
the window is silently lost (no ledger event at all once it is past due and ``max_lateness``,
or, for a queue item, at the end); every commit only appends to the ledger and the outbox.

No wall clock and no environment: time is the simulated instant and every random draw comes
from the seeded :class:`random.Random` passed in, so one seed gives one result.

Speed: a run whose state is unchanged since a run that did nothing, and that starts before the
next instant at which the schedule's decisions can change (a publication becoming due or too
late, a claim going stale, a pause ending; at most ``heartbeat`` later), would do nothing
either, so it is counted as skipped instead of re-running the same no-op.
``exhaustive=True`` runs every one of them.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import yaml

from scheduler import times
from scheduler.control import Control
from scheduler.decide import STALE_CLAIM
from scheduler.errors import InputError, SchedulerError, StateConflict
from scheduler.loading import classify, load_schedules
from scheduler.memory import MemoryStateStore
from scheduler.planning import Publication
from scheduler.ports import Dispatcher, DispatchOutcome, DispatchRequest, StateSnapshot, StateStore
from scheduler.problems import Problem
from scheduler.tick import TickSettings, run_tick
from scheduler.world import World, build_world
from scheduler.yamltext import YamlError, parse_yaml

ON_TIME = timedelta(seconds=60)
DRAIN = timedelta(hours=2)
HEARTBEAT = timedelta(hours=6)
EPSILON = timedelta(microseconds=1)
MAX_EXAMPLES = 10
# (kind, weight) of an injected dispatch fault; "unknown" is a 5xx or a timeout.
SEND_FAULTS = (("unknown", 0.40), ("refused", 0.25), ("rate_limited", 0.25), ("auth", 0.10))
PREFLIGHT_SHARE = 0.25  # a repository check fails at this share of the fault rate

StoreWrapper = Callable[[StateStore], StateStore]
DispatcherWrapper = Callable[[Dispatcher], Dispatcher]


# --------------------------------------------------------------------------- the cron


@dataclass(frozen=True)
class CronModel:
    """GitHub's scheduled runs: every ``period`` at ``offset`` past the hour, late by a draw
    from ``delays`` (share, lowest seconds, highest seconds), some dropped, some racing."""

    period: timedelta = timedelta(minutes=5)
    offset: timedelta = timedelta(minutes=3)
    drop_rate: float = 0.07
    race_rate: float = 0.03
    delays: tuple[tuple[float, int, int], ...] = (
        (0.70, 0, 300),
        (0.25, 300, 1800),
        (0.05, 1800, 3600),
    )


@dataclass(frozen=True)
class CronRun:
    """One scheduled run: when it was due to start, when it starts, and its fate."""

    index: int
    scheduled: datetime
    at: datetime
    dropped: bool
    race: bool


def cron_runs(
    start: datetime, stop: datetime, model: CronModel, rng: random.Random
) -> list[CronRun]:
    """The runs scheduled in ``[start, stop)`` in the order they start (ties: schedule order).

    Every run consumes the same draws, so a run's fate does not depend on the others.
    """
    runs = []
    scheduled = _first_slot(start, model)
    index = 0
    while scheduled < stop:
        dropped = rng.random() < model.drop_rate
        delay = _delay(model, rng)
        race = rng.random() < model.race_rate
        runs.append(CronRun(index, scheduled, scheduled + delay, dropped, race))
        scheduled += model.period
        index += 1
    return sorted(runs, key=lambda run: (run.at, run.index))


def _first_slot(start: datetime, model: CronModel) -> datetime:
    """The first instant at or after ``start`` that is ``offset`` past a multiple of ``period``."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    steps = math.ceil((start - hour - model.offset) / model.period)
    return hour + model.offset + steps * model.period


def _delay(model: CronModel, rng: random.Random) -> timedelta:
    """How late one run starts, in whole seconds."""
    pick, seconds = rng.random(), rng.random()
    for share, low, high in model.delays:
        if pick < share:
            return timedelta(seconds=low + int(seconds * (high - low)))
        pick -= share
    _, low, high = model.delays[-1]
    return timedelta(seconds=low + int(seconds * (high - low)))


# --------------------------------------------------------------------------- the receiver


@dataclass(frozen=True)
class Delivery:
    """One publication as a receiver got it."""

    id: str
    dedupe_key: str
    channel: str
    at: datetime
    due: datetime
    not_before: datetime
    expires_at: datetime | None

    @property
    def publishes_at(self) -> datetime | None:
        """When the receiver posts it: at ``not_before`` or on arrival; None after expiry."""
        moment = max(self.at, self.not_before)
        return moment if self.expires_at is None or moment <= self.expires_at else None


class Receiver:
    """The publisher repositories: every delivery, and the deliveries of a key already delivered.

    A real receiver never posts a ``dedupe_key`` twice; this one counts the scheduler's second
    sending so that the invariant can be checked. ``now`` is the simulated instant.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.deliveries: list[Delivery] = []
        self.first: dict[str, Delivery] = {}
        self.by_id: dict[str, Delivery] = {}
        self.doubles: list[tuple[Delivery, Delivery]] = []

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Every repository is there."""
        return DispatchOutcome("ok", status=200)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """Receive the request now; returns the 204 GitHub answers."""
        self.deliver(request.client_payload, self.now)
        return DispatchOutcome("ok", status=204)

    def deliver(self, payload: Mapping[str, Any], at: datetime) -> None:
        """Record each publication of a ``client_payload`` received at ``at``."""
        for entry in payload.get("publications") or ():
            delivery = _delivery(entry, at)
            self.deliveries.append(delivery)
            self.by_id.setdefault(delivery.id, delivery)
            earlier = self.first.setdefault(delivery.dedupe_key, delivery)
            if earlier is not delivery:
                self.doubles.append((earlier, delivery))


def _delivery(entry: Mapping[str, Any], at: datetime) -> Delivery:
    """The :class:`Delivery` of one payload entry."""
    due = _instant(entry.get("due")) or at
    return Delivery(
        id=str(entry.get("id")),
        dedupe_key=str(entry.get("dedupe_key")),
        channel=str(entry.get("channel")),
        at=at,
        due=due,
        not_before=_instant(entry.get("not_before")) or due,
        expires_at=_instant(entry.get("expires_at")),
    )


def _instant(value: Any) -> datetime | None:
    """A payload time as a UTC instant (None when absent)."""
    return times.to_utc(times.parse_datetime(value)) if isinstance(value, str) else None


# --------------------------------------------------------------------------- faults


class Crash(BaseException):
    """The tick's process dies here. Like a killed runner, nothing in the protocol catches it."""


@dataclass
class Faults:
    """The troubles injected into one simulation, drawn from one random stream, and their counts."""

    rate: float
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    conflicts: int = 0
    crash_after_send: bool = False

    def preflight(self, repo: str) -> DispatchOutcome | None:
        """An injected failure of ``GET /repos/{repo}``, or None."""
        if self.rng.random() >= self.rate * PREFLIGHT_SHARE:
            return None
        if self.rng.random() < 0.5:
            self.injected["preflight_auth"] += 1
            return DispatchOutcome(
                "failed",
                reason="auth",
                detail=f"GET /repos/{repo}: HTTP 401 (simulated)",
                status=401,
            )
        self.injected["preflight_refused"] += 1
        detail = f"GET /repos/{repo}: could not connect (simulated)"
        return DispatchOutcome("failed", reason="refused", retryable=True, detail=detail)

    def send(self, request: DispatchRequest) -> tuple[DispatchOutcome | None, bool]:
        """(an injected outcome or None, whether the receiver gets the request anyway)."""
        if self.rng.random() >= self.rate:
            return None, True
        kind = _pick(SEND_FAULTS, self.rng.random())
        where = f"POST /repos/{request.repo}/dispatches"
        if kind == "unknown":
            delivered = self.rng.random() < 0.5
            self.injected["unknown_delivered" if delivered else "unknown_lost"] += 1
            detail = (
                f"{where}: HTTP 502 or no answer (simulated); the request may have been accepted"
            )
            return DispatchOutcome("unknown", detail=detail), delivered
        self.injected[kind] += 1
        if kind == "auth":
            return DispatchOutcome(
                "failed", reason="auth", detail=f"{where}: HTTP 401 (simulated)", status=401
            ), False
        detail = f"{where}: {kind.replace('_', ' ')} (simulated)"
        return DispatchOutcome("failed", reason=kind, retryable=True, detail=detail), False

    def crash_point(self) -> str | None:
        """Where this tick dies after its claim commit: ``after-claim``, ``after-send`` or None."""
        if self.rng.random() >= self.rate:
            return None
        return "after-claim" if self.rng.random() < 0.5 else "after-send"

    def crash(self, point: str) -> Crash:
        """Count a crash at ``point`` and return the exception that stands for it."""
        self.crashes[point] += 1
        return Crash(point)


def _pick(weights: Sequence[tuple[str, float]], draw: float) -> str:
    """The kind that ``draw`` (in [0, 1)) falls on."""
    for kind, weight in weights:
        if draw < weight:
            return kind
        draw -= weight
    return weights[-1][0]


class FaultyDispatcher:
    """A dispatcher that injects faults in front of ``inner`` and may die after a send."""

    def __init__(self, inner: Dispatcher, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults

    def check_repo(self, repo: str) -> DispatchOutcome:
        """The inner answer, or an injected failure."""
        self.faults.calls += 1
        return self.faults.preflight(repo) or self.inner.check_repo(repo)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """The inner answer, or an injected fault (the receiver may have the request anyway)."""
        self.faults.calls += 1
        injected, delivered = self.faults.send(request)
        outcome = self.inner.send(request) if delivered else None
        if self.faults.crash_after_send:
            self.faults.crash_after_send = False
            raise self.faults.crash("after-send")
        return injected or outcome or DispatchOutcome("ok", status=204)


class FaultyStore:
    """A state store that may let another run win the race, and may die after the claim commit.

    ``racer`` (one use) runs after the state is read and before it is returned, so that this
    run's claim push is rejected and the protocol reloads and recomputes. ``on_commit`` sees
    every commit, with the state it was made on.
    """

    def __init__(
        self,
        inner: StateStore,
        faults: Faults,
        racer: Callable[[], None] | None,
        on_commit: Callable[[StateSnapshot, StateSnapshot], None],
    ) -> None:
        self.inner = inner
        self.faults = faults
        self.racer = racer
        self.on_commit = on_commit
        self.saves = 0

    def load(self) -> StateSnapshot:
        """The state as read before the racer moved it."""
        snapshot = self.inner.load()
        racer, self.racer = self.racer, None
        if racer is not None:
            racer()
        return snapshot

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """The inner save; after the first (the claim commit), maybe a crash."""
        try:
            saved = self.inner.save(base, files, message)
        except StateConflict:
            self.faults.conflicts += 1
            raise
        self.on_commit(base, saved)
        self.saves += 1
        if self.saves == 1:
            point = self.faults.crash_point()
            if point == "after-claim":
                raise self.faults.crash(point)
            self.faults.crash_after_send = point == "after-send"
        return saved


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Scenario:
    """What to simulate: the window, the fault rate, the cron, and how to run it."""

    start: datetime
    days: int = 7
    faults: float = 0.0
    cron: CronModel = CronModel()
    drain: timedelta = DRAIN
    heartbeat: timedelta = HEARTBEAT
    exhaustive: bool = False

    @property
    def end(self) -> datetime:
        """The end of the window (exclusive)."""
        return self.start + timedelta(days=self.days)


@dataclass
class Runs:
    """What the cron and the protocol did, counted."""

    scheduled: int = 0
    dropped: int = 0
    ticks: int = 0
    skipped: int = 0
    races: int = 0
    rewrites: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0


# --------------------------------------------------------------------------- the runner


class Runner:
    """Replays cron runs over one in-memory state branch, one receiver and one fault stream."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        scenario: Scenario,
        faults: Faults,
        *,
        file_problems: Sequence[Problem] = (),
        wrap_store: StoreWrapper | None = None,
        wrap_dispatcher: DispatcherWrapper | None = None,
    ) -> None:
        self.files = files
        self.loaded = load_schedules(files)  # the files never change during a simulation
        self.scenario = scenario
        self.faults = faults
        self.file_problems = tuple(file_problems)
        self.base = MemoryStateStore()
        self.store = wrap_store(self.base) if wrap_store else self.base
        self.receiver = Receiver(scenario.start)
        self.target = wrap_dispatcher(self.receiver) if wrap_dispatcher else self.receiver
        self.runs = Runs()
        self.idle: tuple[str | None, datetime] | None = None

    def run(self, runs: Iterable[CronRun]) -> None:
        """Execute every run that is not dropped, in order."""
        for run in runs:
            self.runs.scheduled += 1
            if run.dropped:
                self.runs.dropped += 1
            elif self._idle(run.at):
                self.runs.skipped += 1
            else:
                self._run(run)

    def _run(self, run: CronRun) -> None:
        """One run, then the per-tick checks, then what it proves about idleness."""
        before = self.base.load()
        calls, errors = self.faults.calls, self.runs.error_count
        self._execute(run.at, f"sim-{run.index}", race=run.race)
        after = self.base.load()
        self._after_tick(before, after, run.at)
        quiet = (
            after.commit == before.commit
            and self.faults.calls == calls
            and self.runs.error_count == errors
        )
        if quiet and not self.scenario.exhaustive:
            self.idle = (after.commit, self._wake(after, run.at))

    def _execute(self, at: datetime, run_id: str, *, race: bool) -> None:
        """One ``run_tick`` at ``at``; a crash or a refused tick ends it as in production."""
        racer = (lambda: self._race(at, run_id)) if race else None
        store = FaultyStore(self.store, self.faults, racer, self._check_commit)
        dispatcher = FaultyDispatcher(self.target, self.faults)
        self.receiver.now = at
        self.runs.ticks += 1
        try:
            run_tick(
                self.files,
                store=store,
                dispatcher=dispatcher,
                now=at,
                settings=TickSettings(run_id=run_id),
                file_problems=self.file_problems,
                loaded=self.loaded,
            )
        except Crash:
            pass
        except SchedulerError as exc:
            self.runs.error_count += 1
            if len(self.runs.errors) < MAX_EXAMPLES:
                self.runs.errors.append(f"{times.format_utc(at)} {run_id}: {exc}")
        finally:
            self.faults.crash_after_send = False

    def _race(self, at: datetime, run_id: str) -> None:
        """The other runner: a whole tick that commits between this one's read and its push."""
        self.runs.races += 1
        self._execute(at, run_id + "-race", race=False)

    def _idle(self, at: datetime) -> bool:
        """True when a run at ``at`` would repeat a no-op already seen on the same state."""
        if self.idle is None:
            return False
        commit, until = self.idle
        return self.base.load().commit == commit and at < until

    def _wake(self, state: StateSnapshot, at: datetime) -> datetime:
        """The first instant after ``at`` at which a tick on ``state`` may decide otherwise."""
        world = build_world(self.files, state, now=at, loaded=self.loaded)
        moments = [*_publication_moments(world.publications), *_control_moments(world.control)]
        moments += [
            record.claim.at + STALE_CLAIM for record in world.records.values() if record.claim
        ]
        later = [moment for base in moments for moment in (base, base + EPSILON) if moment > at]
        return min([*later, at + self.scenario.heartbeat])

    def _check_commit(self, base: StateSnapshot, saved: StateSnapshot) -> None:
        """Count each ledger or outbox file that a commit did not only append to."""
        moment = times.format_utc(self.receiver.now)
        self.runs.rewrites += [f"{path} rewritten at {moment}" for path in rewritten(base, saved)]

    def _after_tick(self, before: StateSnapshot, after: StateSnapshot, at: datetime) -> None:
        """Hand the outbox lines this run committed to the receiver (the outbox's consumer)."""
        for path, new in after.files.items():
            if path.startswith("outbox/"):
                for line in new[len(before.files.get(path, b"")) :].splitlines():
                    self.receiver.deliver(json.loads(line).get("client_payload") or {}, at)


def rewritten(base: StateSnapshot, saved: StateSnapshot) -> list[str]:
    """The ledger and outbox files of ``base`` that ``saved`` does not merely extend."""
    return [
        path
        for path, old in base.files.items()
        if path.startswith(("ledger/", "outbox/"))
        and not saved.files.get(path, b"").startswith(old)
    ]


def _publication_moments(pubs: Iterable[Publication]) -> list[datetime]:
    """When each publication becomes due (minus lead), is due, and is too late."""
    moments = []
    for pub in pubs:
        if not pub.cancelled:
            moments += [pub.due - pub.lead, pub.due, pub.due + pub.max_lateness]
    return moments


def _control_moments(control: Control) -> list[datetime]:
    """When the pauses of control.yaml end by themselves."""
    holds = [
        control.everything,
        *control.channels.values(),
        *control.waves.values(),
        *control.publications.values(),
    ]
    return [hold.until for hold in holds if hold.until is not None]


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Outcome:
    """One publication due in the window, at the end of the simulation."""

    pub: Publication
    last: str  # the last ledger event but held ones; "held" when only held; "none" when none
    held: bool  # held by the scheduler (paused, video not ready, ...) and never claimed
    dispatched: bool
    silent: bool
    delivered: bool
    published_at: datetime | None

    @property
    def lateness(self) -> int | None:
        """Seconds between due and publishing (None when it did not publish)."""
        if self.published_at is None:
            return None
        return max(0, int((self.published_at - self.pub.due).total_seconds()))

    @property
    def on_time(self) -> bool:
        """Published no later than :data:`ON_TIME` after due."""
        return self.published_at is not None and self.published_at <= self.pub.due + ON_TIME


@dataclass(frozen=True)
class Simulation:
    """Everything a simulation found."""

    scenario: Scenario
    stop: datetime
    outcomes: tuple[Outcome, ...]
    doubles: tuple[tuple[Delivery, Delivery], ...]
    runs: Runs
    injected: Mapping[str, int]
    crashes: Mapping[str, int]
    conflicts: int

    @property
    def silent(self) -> list[Outcome]:
        """Publications due in the window that no ledger event accounts for."""
        return [outcome for outcome in self.outcomes if outcome.silent]

    @property
    def exit_code(self) -> int:
        """1 when an invariant is violated (sent twice, silently lost, ledger rewritten), else 0."""
        return 1 if self.doubles or self.silent or self.runs.rewrites else 0

    def violations(self) -> list[str]:
        """One line per violation (at most :data:`MAX_EXAMPLES` of each kind)."""
        lines = [
            f"sent twice: {second.dedupe_key} as {first.id} at {times.format_utc(first.at)} "
            f"and as {second.id} at {times.format_utc(second.at)}"
            for first, second in self.doubles[:MAX_EXAMPLES]
        ]
        lines += [
            f"silently lost: {outcome.pub.id} due {times.format_utc(outcome.pub.due)} has no ledger event"
            for outcome in self.silent[:MAX_EXAMPLES]
        ]
        return lines + self.runs.rewrites[:MAX_EXAMPLES]


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Counts, on-time rate and lateness percentiles of ``outcomes``.

    The rate is over the publications meant to go out (not those the scheduler held and never
    claimed); lateness is over the ones that published.
    """
    expected = [outcome for outcome in outcomes if not outcome.held]
    on_time = sum(1 for outcome in expected if outcome.on_time)
    lateness = sorted(value for outcome in outcomes if (value := outcome.lateness) is not None)
    return {
        "publications": len(outcomes),
        "dispatched": sum(1 for outcome in outcomes if outcome.dispatched),
        "on_time": on_time,
        "on_time_rate": round(on_time / len(expected), 4) if expected else 1.0,
        "lateness_p50_s": percentile(lateness, 50),
        "lateness_p95_s": percentile(lateness, 95),
        "lateness_max_s": lateness[-1] if lateness else 0,
    }


def percentile(values: Sequence[int], rank: float) -> int:
    """The nearest-rank percentile of sorted ``values`` (0 when empty)."""
    if not values:
        return 0
    return values[max(0, math.ceil(rank / 100 * len(values)) - 1)]


# --------------------------------------------------------------------------- simulate


def simulate(
    files: Mapping[str, bytes],
    scenario: Scenario,
    *,
    rng: random.Random,
    file_problems: Sequence[Problem] = (),
    wrap_store: StoreWrapper | None = None,
    wrap_dispatcher: DispatcherWrapper | None = None,
) -> Simulation:
    """Replay the tick protocol over ``files`` for the scenario's window and a drain (command
    on in-memory state only); returns what went out, when, and the invariants.

    ``wrap_store`` and ``wrap_dispatcher`` put a wrapper around the in-memory state branch and
    the receiver (a deliberately broken one shows that the checks catch what they must).
    """
    initial = build_world(files, StateSnapshot(commit=None, source="memory"), now=scenario.start)
    if not initial.schedules.usable:
        raise InputError(_unusable(initial))
    stop = scenario.end + max(scenario.drain, _longest_lateness(initial) + timedelta(minutes=30))
    cron_rng, fault_rng = random.Random(rng.getrandbits(64)), random.Random(rng.getrandbits(64))
    faults = Faults(scenario.faults, fault_rng)
    runner = Runner(
        files,
        scenario,
        faults,
        file_problems=file_problems,
        wrap_store=wrap_store,
        wrap_dispatcher=wrap_dispatcher,
    )
    runner.run(
        run for run in cron_runs(scenario.start, stop, scenario.cron, cron_rng) if run.at < stop
    )
    final = build_world(files, runner.base.load(), now=stop)
    return Simulation(
        scenario=scenario,
        stop=stop,
        outcomes=tuple(_outcomes(initial, final, runner.receiver, scenario)),
        doubles=tuple(runner.receiver.doubles),
        runs=runner.runs,
        injected=dict(sorted(faults.injected.items())),
        crashes=dict(sorted(faults.crashes.items())),
        conflicts=faults.conflicts,
    )


def _unusable(world: World) -> str:
    """The message for a schedule whose channels or videos cannot be loaded."""
    errors = [problem.render() for problem in world.load_problems if problem.severity == "error"]
    return "the channels or videos cannot be loaded, so nothing can be simulated: " + "; ".join(
        errors[:5]
    )


def _longest_lateness(world: World) -> timedelta:
    """The longest ``max_lateness`` of any publication (the drain lets each one run out)."""
    return max((pub.max_lateness for pub in world.publications), default=timedelta(0))


def _outcomes(
    initial: World, final: World, receiver: Receiver, scenario: Scenario
) -> list[Outcome]:
    """The end state of every publication due in the window.

    In the window: due there by the final plan, or (a queue item) by the plan at the start,
    since an unclaimed queue item rolls forward and would leave the window unnoticed.
    """

    def inside(pub: Publication) -> bool:
        return scenario.start <= pub.due < scenario.end

    ids = {pub.id for pub in final.publications if inside(pub)}
    ids |= {pub.id for pub in initial.publications if pub.type == "independent" and inside(pub)}
    by_id = final.plan.by_id()
    pubs = sorted(
        (by_id[pub_id] for pub_id in ids if pub_id in by_id), key=lambda pub: (pub.due, pub.id)
    )
    return [_outcome(pub, receiver, final.now) for pub in pubs if not pub.cancelled]


def _outcome(pub: Publication, receiver: Receiver, stop: datetime) -> Outcome:
    """One publication's end state."""
    record = pub.record
    last_event = record.last_outcome if record is not None else None
    last = (
        last_event.event if last_event is not None else ("held" if record is not None else "none")
    )
    overdue = pub.type == "independent" or stop > pub.due + pub.max_lateness
    delivery = receiver.by_id.get(pub.id)
    names = {event.event for event in record.events} if record is not None else set()
    return Outcome(
        pub=pub,
        last=last,
        held="held" in names and "claimed" not in names,
        dispatched="dispatched" in names,
        silent=record is None and overdue,
        delivered=delivery is not None,
        published_at=delivery.publishes_at if delivery is not None else None,
    )


# --------------------------------------------------------------------------- --lead


class _PlainDumper(yaml.SafeDumper):
    """Writes plain values out in full (no anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def with_lead(files: Mapping[str, bytes], lead: str) -> dict[str, bytes]:
    """``files`` with every lead replaced by ``lead`` (a duration as written in the files).

    ``defaults.lead`` is set (in the channels file that has the defaults, else the first one);
    every channel's and every wave's own ``lead`` is removed. Files that cannot be read are
    left as they are, for the tick to report.
    """
    result = dict(files)
    channel_files = sorted(path for path in files if classify(path) == "channels")
    parsed = {path: _plain(files[path], path) for path in channel_files}
    holder = next((path for path, data in parsed.items() if "defaults" in data), None)
    holder = holder or next(iter(channel_files), None)
    for path, data in parsed.items():
        channels = data.get("channels")
        for channel in channels.values() if isinstance(channels, dict) else ():
            if isinstance(channel, dict):
                channel.pop("lead", None)
        if path == holder and data:
            defaults = data.get("defaults")
            data["defaults"] = {**(defaults if isinstance(defaults, dict) else {}), "lead": lead}
        if data:
            result[path] = _dump(data)
    for path in sorted(path for path in files if classify(path) == "wave"):
        data = _plain(files[path], path)
        if data.pop("lead", None) is not None:
            result[path] = _dump(data)
    return result


def _plain(data: bytes, path: str) -> dict[str, Any]:
    """A YAML mapping as plain values ({} when the file cannot be read or is no mapping)."""
    try:
        value, _ = parse_yaml(data, path)
    except YamlError:
        return {}
    return value if isinstance(value, dict) else {}


def _dump(data: Mapping[str, Any]) -> bytes:
    """YAML text of plain values, every scalar a string that reads back as written."""
    text = yaml.dump(
        dict(data),
        Dumper=_PlainDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
    return text.encode()
