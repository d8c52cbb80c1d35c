"""Intent + state + now, assembled once per command: the input of every view (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from scheduler import checks
from scheduler.control import CONTROL_FILE, Control, parse_control
from scheduler.history import Focus, History, focus_for, read_history
from scheduler.ledger import Record
from scheduler.loading import Schedules, load_schedules
from scheduler.planning import Plan, Publication, expand_waves, plan, queue_items
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
    history: History
    records: Mapping[str, Record]
    control: Control
    plan: Plan
    state: StateSnapshot
    focus: Focus | None = None  # what of the history was read (None: all of it)

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
    focused: bool = False,
    history: History | None = None,
) -> World:
    """Load the schedule files and the state, and plan at ``now`` (query).

    ``loaded`` is ``load_schedules(files)`` already computed, for callers that plan the same
    files many times (``simulate``). ``focused`` reads only the history the schedule can meet
    (:mod:`scheduler.history`): what ``tick`` and ``validate`` need; views read all of it.
    ``history`` is the whole history of ``state`` already read (``plan`` builds two worlds on
    one state).
    """
    schedules, load_problems = loaded if loaded is not None else load_schedules(files)
    expanded = expand_waves(schedules)
    focus = intent_focus(schedules, expanded[0], now) if focused else None
    if history is None or focus is not None:
        history = read_history(state, focus)
    control = parse_control(state.files.get(CONTROL_FILE))
    planned = plan(schedules, history.records, control, now=now, expanded=expanded)
    problems = (*extra_problems, *load_problems, *history.problems)
    return World(now, schedules, problems, history, history.records, control, planned, state, focus)


def intent_focus(schedules: Schedules, waves: list[Publication], now: datetime) -> Focus:
    """The part of the history the files' publications can meet (see :mod:`scheduler.history`)."""
    intent: list[tuple[str, str, str, datetime | None]]
    intent = [(pub.id, pub.channel, pub.video, pub.due) for pub in waves]
    intent += [(pub_id, channel, video, None) for pub_id, channel, video in queue_items(schedules)]
    channels = {
        name: (channel.min_gap, channel.max_lateness)
        for name, channel in schedules.channels.items()
    }
    return focus_for(intent, channels, checks.canonical_channels(schedules.channels), now)
