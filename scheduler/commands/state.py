"""Opening the state branch for commands that change it (``--push`` or the local branch)."""

from __future__ import annotations

import os
import random
import time
from typing import TYPE_CHECKING

from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.errors import StateError, UsageError

if TYPE_CHECKING:
    from scheduler.cli import Options


def writable_store(opts: Options, *, push: bool) -> tuple[GitRepo, GitStateStore]:
    """The state store a state-changing command writes to; refuses what the contract refuses."""
    if push and opts.now_given and os.environ.get("SCHEDULER_CLOCK_OVERRIDE") != "1":
        raise UsageError(
            "--now with --push is refused: set SCHEDULER_CLOCK_OVERRIDE=1 if you really mean it"
        )
    repo = GitRepo.find(opts.root)
    if repo is None:
        raise StateError(
            f"{opts.root} is not a git repository (or git is not installed): the state branch "
            f"'{opts.state_ref}' lives in git, so nothing was changed"
        )
    return repo, GitStateStore(repo, opts.state_ref, push=push)


def backoff(attempt: int) -> None:
    """Wait a little, with jitter, before recomputing after a rejected push."""
    time.sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.5))


def run_id() -> str:
    """``$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT`` in Actions, a local id elsewhere."""
    run, attempt = os.environ.get("GITHUB_RUN_ID"), os.environ.get("GITHUB_RUN_ATTEMPT", "1")
    if run:
        return f"{run}-{attempt}"
    return f"local-{int(time.time())}-{os.getpid()}"


def actor() -> str:
    """Who acts: ``SCHEDULER_ACTOR``, ``GITHUB_ACTOR``, else the login name."""
    for name in ("SCHEDULER_ACTOR", "GITHUB_ACTOR", "USER", "LOGNAME"):
        value = os.environ.get(name)
        if value:
            return value
    return "unknown"
