"""The ports between the pure core and the outside world.

Adapters implement them: ``adapters/git.py`` (``GitStateStore``), ``adapters/github.py``
(``GitHubDispatcher``), and the real in-memory / outbox implementations used by ``--dry-run``,
``simulate`` and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class StateSnapshot:
    """One commit of the state branch, read whole.

    ``files`` maps paths (``ledger/2030-12.jsonl``, ``control.yaml``, ``outbox/...``) to bytes.
    ``trailers`` comes from the newest commit whose message carries ``Scheduler-Ledger:``
    trailers: ledger file -> (line count, sha256 hex of those lines); empty when none has any.
    ``source`` says where it was read: ``local``, ``origin``, ``empty`` or ``memory``.
    ``files`` may read a file's bytes only when asked (the ledger months that a summary
    covers); ``blobs`` has the git blob id of the files whose id the store knows.
    """

    commit: str | None
    files: Mapping[str, bytes] = field(default_factory=dict)
    trailers: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    source: str = "empty"
    warnings: tuple[str, ...] = ()
    blobs: Mapping[str, str] = field(default_factory=dict)  # path -> git blob id, where known


class Overlay(Mapping[str, bytes]):
    """``bottom``'s files with ``top``'s written over them; nothing of ``bottom`` is read early."""

    def __init__(self, top: Mapping[str, bytes], bottom: Mapping[str, bytes]) -> None:
        self.top = dict(top)
        self.bottom = bottom

    def __getitem__(self, path: str) -> bytes:
        found = self.top.get(path)
        return found if found is not None else self.bottom[path]

    def __iter__(self) -> Iterator[str]:
        yield from self.bottom
        yield from (path for path in self.top if path not in self.bottom)

    def __len__(self) -> int:
        return len(self.bottom) + sum(1 for path in self.top if path not in self.bottom)

    def __contains__(self, path: object) -> bool:
        return path in self.top or path in self.bottom


def overlay(bottom: Mapping[str, bytes], top: Mapping[str, bytes]) -> Mapping[str, bytes]:
    """``bottom`` with ``top`` written over it (a plain dict when ``bottom`` is one)."""
    if isinstance(bottom, Overlay):
        return Overlay({**bottom.top, **top}, bottom.bottom)
    if isinstance(bottom, dict):
        return {**bottom, **top}
    return Overlay(top, bottom)


class StateStore(Protocol):
    """Where the ledger, control.yaml and the outbox live."""

    def load(self) -> StateSnapshot:
        """Read the current state (query)."""
        ...

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Commit ``files`` (full new contents of the changed paths) on top of ``base``.

        Raises :class:`scheduler.errors.StateConflict` when the branch is no longer at
        ``base.commit`` (someone else pushed first); the caller reloads and recomputes.
        """
        ...


# --------------------------------------------------------------------------- dispatch


@dataclass(frozen=True)
class DispatchRequest:
    """One ``repository_dispatch`` request: at most ``max_batch`` publications."""

    repo: str | None
    event_type: str
    client_payload: Mapping[str, Any]
    ids: tuple[str, ...]


OutcomeKind = Literal["ok", "failed", "unknown"]


@dataclass(frozen=True)
class DispatchOutcome:
    """What became of one request (or of a repository preflight).

    ``ok``: accepted (204). ``failed``: proven not accepted; ``reason`` is one of ``auth``
    (401, 404, 403 without rate limit, or no token), ``rejected`` (422), ``refused``
    (connection refused), ``rate_limited`` (wait budget used up); ``retryable`` says whether a
    later tick may try again using an attempt. ``unknown``: the outcome cannot be known
    (timeout, connection lost after sending, 5xx): never re-sent automatically.
    """

    kind: OutcomeKind
    reason: str | None = None
    retryable: bool = False
    detail: str = ""
    status: int | None = None


class Dispatcher(Protocol):
    """Sends repository_dispatch events, one request after another."""

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Preflight ``GET /repos/{repo}`` once per tick and target (query)."""
        ...

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """POST one request; never retried here after an ambiguous outcome (command)."""
        ...
