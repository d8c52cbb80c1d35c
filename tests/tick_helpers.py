"""Shared pieces of the tick tests: schedules as text, a tick rig over the ports, git projects.

Protocol-level tests use :class:`Rig` (a :class:`MemoryStateStore` and any dispatcher) and feed
schedule files as a mapping, the way ``run_tick`` takes them. CLI tests use :class:`Project`:
a bare origin and a clone whose ``main`` holds the schedules, driven through ``scheduler``'s
click entry point with the environment a workflow would give it.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler import times
from scheduler.adapters.git import GitRepo
from scheduler.adapters.github import GitHubDispatcher
from scheduler.cli import main
from scheduler.memory import MemoryStateStore, RecordingDispatcher
from scheduler.ports import Dispatcher, DispatchOutcome, DispatchRequest, StateSnapshot, StateStore
from scheduler.tick import TickReport, TickSettings, run_tick
from tests.fakegithub import FakeGitHub
from tests.gitrepos import RepoPair, git, git_bytes, has_ref, make_repo_pair

TOKEN = "sched-token-0123456789abcdef0123456789"
STATE_REF = "scheduler-state"
DAY = "2030-12-02"

# Two publisher repositories (x-us caps its requests at one publication); all on UTC time.
CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
  dispatch: {event_type: publish, max_batch: 50}
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt, event_type: upload}
    params: {playlist: PL123, lang: en}
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
  ig-fr:
    platform: instagram
    dispatch: {repo: acme/social}
  x-us:
    platform: x
    dispatch: {repo: acme/social, max_batch: 1}
"""

# A channel without a publisher repository: it goes through the outbox.
OUTBOX_CHANNEL = """\
  li-corp:
    platform: linkedin
"""

VIDEOS = """\
videos:
  teaser-01:
    title: Launch teaser
    url: https://cdn.example.com/teaser-01.mp4
    duration: 15s
    aspect: 9:16
    views: 0123
    subtitles: no
  trailer:
    title: Official trailer
    url: https://cdn.example.com/trailer.mp4
  recap:
    title: Recap
    url: https://cdn.example.com/recap.mp4
  bts-01:
    title: Behind the scenes
    url: https://cdn.example.com/bts-01.mp4
  interview:
    title: Interview
    url: https://cdn.example.com/interview.mp4
    ready: false
"""


def utc(text: str) -> datetime:
    """Return the aware UTC instant written ``2030-12-02T17:00:00Z`` (or ``17:00`` on DAY)."""
    if "T" not in text:
        text = f"{DAY}T{text}:00Z" if text.count(":") == 1 else f"{DAY}T{text}Z"
    return times.to_utc(times.parse_datetime(text))


def stamp(moment: datetime) -> str:
    """Return ``moment`` as the ledger writes it (``...Z``)."""
    return times.format_utc(moment)


def wave(
    video: str,
    at: str,
    channels: Iterable[str],
    *,
    kind: str = "simultaneous",
    extra: str = "",
) -> str:
    """Return a wave file's text; ``channels`` are YAML flow items, ``extra`` more top keys."""
    items = "\n".join(f"  - {item}" for item in channels)
    text = f"video: {video}\ntype: {kind}\nat: {at}\n"
    if kind == "staggered" and "every:" not in extra:
        text += "every: 1h\n"
    return text + textwrap.dedent(extra) + f"channels:\n{items}\n"


@dataclass
class Schedule:
    """The files under ``schedules/``, as text, keyed by their repository-relative path."""

    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def base(
        cls, *, channels: str = CHANNELS, videos: str = VIDEOS, outbox: bool = False
    ) -> Schedule:
        """Return the shared channels and videos, with ``li-corp`` when ``outbox``."""
        text = channels + (OUTBOX_CHANNEL if outbox else "")
        return cls({"schedules/channels.yaml": text, "schedules/videos.yaml": videos})

    def with_wave(self, name: str, text: str) -> Schedule:
        """Return a copy with ``schedules/waves/<name>.yaml`` set to ``text``."""
        return Schedule({**self.texts, f"schedules/waves/{name}.yaml": text})

    def without(self, path: str) -> Schedule:
        """Return a copy without the file ``path``."""
        return Schedule({k: v for k, v in self.texts.items() if k != path})

    def files(self) -> dict[str, bytes]:
        """Return the files as ``run_tick`` reads them."""
        return {path: text.encode() for path, text in self.texts.items()}

    def write(self, root: Path) -> None:
        """Write the files under ``root`` (removing schedule files that are no longer listed)."""
        base = root / "schedules"
        if base.exists():
            for path in sorted(base.rglob("*.yaml")):
                if path.relative_to(root).as_posix() not in self.texts:
                    path.unlink()
        for rel, text in self.texts.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


# --------------------------------------------------------------------------- ledger reading


def ledger_lines(files: Mapping[str, bytes], prefix: str = "ledger/") -> list[dict[str, Any]]:
    """Return every JSON line of the state files under ``prefix``, file by file."""
    rows: list[dict[str, Any]] = []
    for path in sorted(name for name in files if name.startswith(prefix)):
        rows += [json.loads(line) for line in files[path].splitlines() if line.strip()]
    return rows


def events_by_id(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Return id -> its event names, in ledger order."""
    result: dict[str, list[str]] = {}
    for row in rows:
        result.setdefault(row["id"], []).append(row["event"])
    return result


def dispatched_ids(fake: FakeGitHub) -> Counter[str]:
    """Return how many accepted dispatches carried each publication id."""
    return Counter(pub["id"] for d in fake.dispatches for pub in d.client_payload["publications"])


def posts(fake: FakeGitHub) -> int:
    """Return how many dispatch POSTs reached the fake (answered or not)."""
    return sum(
        1 for method, path, _ in fake.requests if method == "POST" and path.endswith("/dispatches")
    )


# --------------------------------------------------------------------------- the rig


def fake_dispatcher(fake: FakeGitHub, **overrides: Any) -> GitHubDispatcher:
    """Return the real dispatcher pointed at the fake, with no spacing and recorded waits."""
    settings: dict[str, Any] = {
        "api_url": fake.url,
        "scheduler_token": TOKEN,
        "github_token": None,
        "this_repo": None,
        "spacing": 0.0,
        "timeout": 5.0,
        "sleep": lambda seconds: None,
    }
    return GitHubDispatcher(**{**settings, **overrides})


def register_repos(fake: FakeGitHub, *repos: str) -> None:
    """Register ``repos`` (default: the publishers of :data:`CHANNELS`) with :data:`TOKEN`."""
    for repo in repos or ("acme/social", "acme/yt"):
        fake.add_repo(repo, token=TOKEN)


@dataclass
class Rig:
    """A schedule, a state store and a dispatcher: ticks at chosen instants."""

    schedule: Schedule
    store: StateStore = field(default_factory=MemoryStateStore)
    dispatcher: Dispatcher = field(default_factory=RecordingDispatcher)
    run: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**6)))

    def tick(self, now: str | datetime, *, backend: str = "github") -> TickReport:
        """Run one tick at ``now`` and return its report."""
        instant = now if isinstance(now, datetime) else utc(now)
        settings = TickSettings(run_id=f"run-{next(self.run)}", sha="f" * 40, backend=backend)
        return run_tick(
            self.schedule.files(),
            store=self.store,
            dispatcher=self.dispatcher,
            now=instant,
            settings=settings,
        )

    def state(self) -> StateSnapshot:
        """Return the current state."""
        return self.store.load()

    @property
    def recorder(self) -> RecordingDispatcher:
        """Return the dispatcher, which the test made a :class:`RecordingDispatcher`."""
        assert isinstance(self.dispatcher, RecordingDispatcher)
        return self.dispatcher

    @property
    def memory(self) -> MemoryStateStore:
        """Return the store, which the test made a :class:`MemoryStateStore`."""
        assert isinstance(self.store, MemoryStateStore)
        return self.store

    def sent_ids(self) -> list[str]:
        """Return the ids of every request the recording dispatcher got, in order."""
        return [pub_id for request in self.recorder.sent for pub_id in request.ids]

    def rows(self, prefix: str = "ledger/") -> list[dict[str, Any]]:
        """Return the ledger (or outbox) lines of the current state."""
        return ledger_lines(self.state().files, prefix)

    def events(self) -> dict[str, list[str]]:
        """Return id -> event names of the current ledger."""
        return events_by_id(self.rows())

    def put_control(self, text: str) -> None:
        """Write ``control.yaml`` into the state with a commit of its own."""
        base = self.store.load()
        self.store.save(base, {"control.yaml": textwrap.dedent(text).encode()}, "control: test")


def summary(report: TickReport) -> dict[str, list[str]]:
    """Return the report's JSON object with each list sorted."""
    return {key: sorted(value) for key, value in report.as_json().items()}


def empty_summary(**lists: list[str]) -> dict[str, list[str]]:
    """Return a summary with empty lists except ``lists`` (sorted)."""
    base: dict[str, list[str]] = {
        k: [] for k in ("dispatched", "failed", "unknown", "missed", "held")
    }
    return base | {key: sorted(value) for key, value in lists.items()}


class Crash(BaseException):
    """A process dying mid-tick: nothing in the tick may catch it."""


@dataclass
class CrashingStore:
    """A store that dies after save number ``after_save`` or before save number ``before_save``."""

    inner: StateStore
    after_save: int | None = None
    before_save: int | None = None
    saves: int = 0

    def load(self) -> StateSnapshot:
        """Return the inner store's state."""
        return self.inner.load()

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Save through the inner store, dying where told to."""
        self.saves += 1
        if self.saves == self.before_save:
            raise Crash(f"died before save {self.saves}")
        result = self.inner.save(base, files, message)
        if self.saves == self.after_save:
            raise Crash(f"died after save {self.saves}")
        return result


@dataclass
class CrashingDispatcher:
    """A dispatcher that dies right after its inner dispatcher sent request ``after_send``."""

    inner: Dispatcher
    after_send: int
    sends: int = 0

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Ask the inner dispatcher."""
        return self.inner.check_repo(repo)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """Send through the inner dispatcher, then die when told to."""
        outcome = self.inner.send(request)
        self.sends += 1
        if self.sends == self.after_send:
            raise Crash("died after sending")
        return outcome


@dataclass
class MovingStore:
    """A store that someone else moves just before some of our saves (a lost push race).

    ``before_save`` maps a save number (1-based) to what the other party does first, on the
    inner store, so that our save finds the branch moved.
    """

    inner: MemoryStateStore
    before_save: Mapping[int, Callable[[MemoryStateStore], object]]
    saves: int = 0

    def load(self) -> StateSnapshot:
        """Return the inner store's state."""
        return self.inner.load()

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Let the other party act first when told to, then save (which may conflict)."""
        self.saves += 1
        other = self.before_save.get(self.saves)
        if other is not None:
            other(self.inner)
        return self.inner.save(base, files, message)


# --------------------------------------------------------------------------- git projects


@dataclass
class Project:
    """A bare origin and a clone whose ``main`` holds a schedule; the CLI runs in the clone."""

    pair: RepoPair
    env: dict[str, str]

    @property
    def root(self) -> Path:
        """Return the clone's work tree."""
        return self.pair.clone

    def publish(self, schedule: Schedule, message: str = "schedules") -> str:
        """Commit ``schedule`` on main in the clone, push it, and return the commit."""
        schedule.write(self.root)
        git(self.root, "add", "-A", "schedules")
        git(self.root, "commit", "--quiet", "-m", message)
        git(self.root, "push", "--quiet", "origin", "main")
        return git(self.root, "rev-parse", "HEAD")

    def cli(
        self,
        *args: str,
        now: str | None = None,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        **more_env: str,
    ) -> Result:
        """Run ``scheduler --root <clone> [--now NOW] ARGS`` and return click's result.

        The environment is the project's, then ``env``, then ``more_env``.
        """
        options = ["--root", str(root or self.root)]
        if now is not None:
            options += ["--now", stamp(utc(now))]
        environment = {**self.env, **(env or {}), **more_env}
        return CliRunner().invoke(main, [*options, *args], env=environment, catch_exceptions=False)

    def state_files(self, ref: str = STATE_REF, where: Path | None = None) -> dict[str, bytes]:
        """Return every file of the state branch ``ref`` (in the clone, or ``where``)."""
        repo = GitRepo.find(where or self.root)
        assert repo is not None
        if repo.resolve(ref) is None:
            return {}
        return repo.read_tree(ref, "")

    def origin_state(self) -> dict[str, bytes]:
        """Return every file of origin's state branch (empty when it has none)."""
        return bare_tree(self.pair.origin, STATE_REF)

    def rows(self, prefix: str = "ledger/", *, origin: bool = False) -> list[dict[str, Any]]:
        """Return the ledger (or outbox) lines of the clone's (or origin's) state branch."""
        files = self.origin_state() if origin else self.state_files()
        return ledger_lines(files, prefix)


def bare_tree(repo: Path, ref: str) -> dict[str, bytes]:
    """Return every file of ``ref`` in the (bare) repository ``repo``; empty when no such ref."""
    if not has_ref(repo, ref):
        return {}
    names = git(repo, "ls-tree", "-r", "--name-only", ref).splitlines()
    return {name: git_bytes(repo, "show", f"{ref}:{name}") for name in names}


def make_project(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    schedule: Schedule,
    *,
    api_url: str = "http://127.0.0.1:9",
) -> Project:
    """Return an isolated project whose main holds ``schedule``, with the workflow environment."""
    pair = make_repo_pair(monkeypatch, tmp_path)
    for name in (
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ID",
        "GITHUB_STEP_SUMMARY",
        "SCHEDULER_STATE_REF",
        "SCHEDULER_CLOCK_OVERRIDE",
        "GITHUB_API_URL",
        "SCHEDULER_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    env = {"GITHUB_API_URL": api_url, "SCHEDULER_TOKEN": TOKEN, "SCHEDULER_DISPATCH_SPACING": "0"}
    project = Project(pair, env)
    git(pair.clone, "config", "user.name", "Test Author")
    git(pair.clone, "config", "user.email", "author@example.com")
    project.publish(schedule)
    return project
