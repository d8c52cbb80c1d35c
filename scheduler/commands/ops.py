"""State-changing operations: load, compute the change, commit it (retrying on a moved branch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scheduler.adapters.files import read_schedules
from scheduler.commands.state import backoff, writable_store
from scheduler.control import CONTROL_FILE
from scheduler.control_edit import apply_changes
from scheduler.errors import StateConflict, StateError
from scheduler.operations import Outcome
from scheduler.tick import MAX_ROUNDS, append_events, check_state, save_state
from scheduler.world import World, build_world

if TYPE_CHECKING:
    from scheduler.cli import Options


def change_state(
    opts: Options, *, push: bool, subject: str, compute: Callable[[World], Outcome]
) -> Outcome:
    """Apply ``compute``'s change to the state branch (locally, or on origin with ``push``)."""
    _, store = writable_store(opts, push=push)
    files, file_problems = read_schedules(opts.root)
    for round_number in range(MAX_ROUNDS):
        state = store.load()
        world = build_world(files, state, now=opts.now, extra_problems=tuple(file_problems))
        check_state(world)
        outcome = compute(world)
        if outcome.is_empty():
            return outcome
        changes: dict[str, bytes] = {}
        if outcome.control:
            current = bytes(state.files.get(CONTROL_FILE, b"")).decode("utf-8", "replace")
            changes[CONTROL_FILE] = apply_changes(current, outcome.control).encode()
        if outcome.events:
            changes.update(append_events(state, outcome.events, world.records))
        try:
            save_state(store, state, changes, one_line(subject), world.history, now=opts.now)
            return outcome
        except StateConflict:
            backoff(round_number)
    raise StateError(f"the state branch moved {MAX_ROUNDS} times: nothing was changed; try again")


def one_line(subject: str, limit: int = 200) -> str:
    """``subject`` as one line of at most ``limit`` characters (control characters made spaces).

    A commit's subject carries user text (a reason); kept to one line, it can never add a
    ``Scheduler-Ledger`` trailer or any other line to the message.
    """
    flat = " ".join("".join(c if c.isprintable() else " " for c in subject).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
