"""Intent + state + now, assembled once per command: the input of every view (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from scheduler import checks, ledger
from scheduler.control import CONTROL_FILE, Control, parse_control
from scheduler.ledger import LedgerEvent, Record
from scheduler.loading import Schedules, load_schedules
from scheduler.planning import Plan, Publication, plan
from scheduler.ports import StateSnapshot
from scheduler.problems import Problem
from scheduler.status import status_of

Loaded = tuple[Schedules, list[Problem]]


@dataclass(frozen=True)
class World:
    """Everything a command needs to know, computed from files, state and ``now``."""

    now: datetime
    schedules: Schedules
    load_problems: tuple[Problem, ...]
    events: tuple[LedgerEvent, ...]
    records: Mapping[str, Record]
    control: Control
    plan: Plan
    state: StateSnapshot

    @property
    def publications(self) -> tuple[Publication, ...]:
        """Every publication, by due."""
        return self.plan.publications

    def status(self, pub: Publication) -> str:
        """The status of ``pub`` at ``now``."""
        return status_of(pub, self.control, self.schedules.channels, self.now)

    def problems(self) -> list[Problem]:
        """Loading, planning and check problems, sorted by file and position."""
        found = [*self.load_problems, *checks.check(self.schedules, self.plan, now=self.now)]
        return sorted(found, key=Problem.sort_key)


def build_world(
    files: Mapping[str, bytes],
    state: StateSnapshot,
    *,
    now: datetime,
    extra_problems: tuple[Problem, ...] = (),
    loaded: Loaded | None = None,
) -> World:
    """Load the schedule files and the state, and plan at ``now`` (query).

    ``loaded`` is ``load_schedules(files)`` already computed, for callers that plan the same
    files many times (``simulate``).
    """
    schedules, load_problems = loaded if loaded is not None else load_schedules(files)
    events, ledger_problems = ledger.parse_ledger(state.files)
    records = ledger.fold_events(events)
    control = parse_control(state.files.get(CONTROL_FILE))
    planned = plan(schedules, records, control, now=now)
    problems = (*extra_problems, *load_problems, *ledger_problems)
    return World(now, schedules, problems, tuple(events), records, control, planned, state)
