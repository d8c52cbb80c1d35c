"""``scheduler tick``: wiring the protocol to git, GitHub (or the outbox) and the clock."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from scheduler.adapters.files import read_schedules
from scheduler.adapters.parse_cache import load_cached
from scheduler.commands.state import backoff, run_id, writable_store
from scheduler.errors import UsageError
from scheduler.memory import MemoryStateStore, RecordingDispatcher
from scheduler.ports import Dispatcher, StateStore
from scheduler.tick import TickReport, TickSettings, run_tick

if TYPE_CHECKING:
    from scheduler.cli import Options


def github_dispatcher() -> Dispatcher:
    """The real dispatcher, configured from the environment (tokens never printed)."""
    from scheduler.adapters.github import GitHubDispatcher

    spacing = os.environ.get("SCHEDULER_DISPATCH_SPACING", "1")
    try:
        seconds = float(spacing)
    except ValueError:
        raise UsageError(
            f"SCHEDULER_DISPATCH_SPACING={spacing!r}: give seconds, e.g. 1 or 0.5"
        ) from None
    return GitHubDispatcher(
        api_url=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
        scheduler_token=os.environ.get("SCHEDULER_TOKEN") or None,
        github_token=os.environ.get("GITHUB_TOKEN") or None,
        this_repo=os.environ.get("GITHUB_REPOSITORY") or None,
        spacing=seconds,
    )


def execute_tick(opts: Options, *, push: bool, dry_run: bool, backend: str) -> TickReport:
    """Run one tick as the options say."""
    if dry_run and push:
        raise UsageError(
            "--dry-run writes and sends nothing, so it cannot --push: drop one of the two"
        )
    files, file_problems = read_schedules(opts.root)
    store: StateStore
    dispatcher: Dispatcher
    if dry_run:  # reads the state as every read-only command does: empty outside git
        from scheduler.cli import read_state

        repo, state = read_state(opts)
        store, dispatcher = MemoryStateStore(state), RecordingDispatcher()
    else:
        repo, store = writable_store(opts, push=push)
        dispatcher = RecordingDispatcher() if backend == "outbox" else github_dispatcher()
    sha = repo.head() if repo is not None else None
    settings = TickSettings(run_id=run_id(), sha=sha, backend=backend, backoff=backoff)
    loaded = load_cached(opts.root, files)
    return run_tick(
        files,
        store=store,
        dispatcher=dispatcher,
        now=opts.now,
        settings=settings,
        file_problems=file_problems,
        loaded=loaded,
    )
