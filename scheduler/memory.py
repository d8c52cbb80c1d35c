"""Real in-memory implementations of the ports: ``--dry-run``, ``simulate`` and tests use them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from scheduler.errors import StateConflict
from scheduler.ports import DispatchOutcome, DispatchRequest, StateSnapshot, overlay
from scheduler.summary import blob_id


def parse_trailers(message: str) -> dict[str, tuple[int, str]]:
    """``Scheduler-Ledger: <file> <lines> <sha256>`` lines of a commit message."""
    result = {}
    for line in message.splitlines():
        key, _, value = line.partition(": ")
        parts = value.split()
        if key == "Scheduler-Ledger" and len(parts) == 3 and parts[1].isdigit():
            result[parts[0]] = (int(parts[1]), parts[2])
    return result


class MemoryStateStore:
    """A state branch kept in memory, with the same compare-and-swap rule as a push."""

    def __init__(self, initial: StateSnapshot | None = None) -> None:
        self.current = initial or StateSnapshot(commit=None, files={}, source="memory")
        self.commits: list[tuple[str, str]] = []  # (commit, message), oldest first

    def load(self) -> StateSnapshot:
        """The current snapshot."""
        return self.current

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Commit on top of ``base``; StateConflict when someone else committed first."""
        if base.commit != self.current.commit:
            raise StateConflict("the state moved since it was read")
        merged = overlay(base.files, files)
        digest = hashlib.sha256((str(base.commit) + message).encode())
        for path in sorted(files):
            digest.update(path.encode() + files[path])
        commit = digest.hexdigest()[:40]
        trailers = parse_trailers(message) or dict(base.trailers)
        self.current = StateSnapshot(
            commit=commit,
            files=merged,
            trailers=trailers,
            source="memory",
            blobs={**base.blobs, **{path: blob_id(data) for path, data in files.items()}},
        )
        self.commits.append((commit, message))
        return self.current


class RecordingDispatcher:
    """Accepts every request and keeps it: the dispatcher of ``--dry-run`` and of tests."""

    def __init__(self) -> None:
        self.sent: list[DispatchRequest] = []
        self.checked: list[str] = []

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Every repository is reachable."""
        self.checked.append(repo)
        return DispatchOutcome("ok")

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """Accept and record."""
        self.sent.append(request)
        return DispatchOutcome("ok", status=204)
