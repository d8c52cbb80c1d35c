"""Dispatch economy: one tick sending a simultaneous wave over many channels to a fake GitHub.

    python benchmarks/dispatch.py [--channels 1000] [--latency 0.1] [--spacing 0]

The channels are those of ``generate.py`` (1,000 channels on 50 publisher repositories, leads
of 5 and 10 minutes); one simultaneous wave names every platform, so it covers every channel.
The tick is the real one (``scheduler.tick.run_tick``) over an in-memory state store and the
real ``GitHubDispatcher`` (PyGithub), talking to the fake GitHub server of the test suite on
127.0.0.1, which answers each request after ``--latency`` seconds. ``now`` is 5 minutes before
the wave's due, so every publication goes out early, carrying ``not_before``.

Prints: the requests sent (``repository_dispatch`` POSTs and preflight ``GET /repos``), the
publications per request, the time spent sending, and the spread of ``not_before`` over the
publications (0 s means every channel posts at the same instant).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import PLATFORMS, PUBLISHERS, Params, channels_yaml, make_blocks, make_channels  # noqa: E402

from scheduler.adapters.github import GitHubDispatcher  # noqa: E402
from scheduler.memory import MemoryStateStore  # noqa: E402
from scheduler.ports import Dispatcher, DispatchOutcome, DispatchRequest  # noqa: E402
from scheduler.tick import TickReport, TickSettings, run_tick  # noqa: E402
from tests.fakegithub import FakeGitHub  # noqa: E402

DUE = datetime(2031, 3, 2, 17, 0, tzinfo=UTC)
VIDEOS_YAML = """\
videos:
  big-launch:
    title: The big launch
    url: https://cdn.example.com/videos/big-launch.mp4
"""


@dataclass
class TimedDispatcher:
    """Passes every call to ``inner`` and adds up the time spent in each kind of call."""

    inner: Dispatcher
    check_seconds: float = 0.0
    send_seconds: float = 0.0
    batch_sizes: list[int] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() when the tick began

    def check_repo(self, repo: str) -> DispatchOutcome:
        """The preflight ``GET /repos/{repo}``, timed."""
        started = time.perf_counter()
        try:
            return self.inner.check_repo(repo)
        finally:
            self.check_seconds += time.perf_counter() - started

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """One ``repository_dispatch`` POST, timed."""
        started = time.perf_counter()
        try:
            return self.inner.send(request)
        finally:
            self.send_seconds += time.perf_counter() - started
            self.batch_sizes.append(len(request.ids))


def schedule_files(channels: int) -> dict[str, bytes]:
    """channels.yaml of ``channels`` channels, one video, one simultaneous wave on every platform."""
    params = Params(waves=1, channels=channels, queues=0, events=0)
    rng = random.Random(0)
    made = make_channels(params, rng)
    wave = (
        "video: big-launch\ntype: simultaneous\n"
        f"at: {DUE:%Y-%m-%dT%H:%M:%SZ}\n"
        f"channels: [{', '.join('platform:' + name for name in PLATFORMS)}]\n"
    )
    return {
        "schedules/channels.yaml": channels_yaml(made, make_blocks(made, rng)).encode(),
        "schedules/videos.yaml": VIDEOS_YAML.encode(),
        "schedules/waves/big-launch.yaml": wave.encode(),
    }


def run(
    channels: int, latency: float, spacing: float
) -> tuple[TickReport, TimedDispatcher, FakeGitHub, float]:
    """One tick against a fresh fake server: (report, timed dispatcher, the server, wall seconds).

    ``timed.started`` is the tick's start on the ``time.monotonic`` clock of the server's log."""
    files = schedule_files(channels)
    with FakeGitHub(latency=latency) as fake:
        for repo in PUBLISHERS:
            fake.add_repo(repo)
        dispatcher = TimedDispatcher(
            GitHubDispatcher(
                api_url=fake.url,
                scheduler_token="x",
                github_token=None,
                this_repo=None,
                spacing=spacing,
            )
        )
        dispatcher.started = time.monotonic()
        started = time.perf_counter()
        report = run_tick(
            files,
            store=MemoryStateStore(),
            dispatcher=dispatcher,
            now=DUE - timedelta(minutes=5),
            settings=TickSettings(run_id="bench-1", sha=None),
        )
        wall = time.perf_counter() - started
    return report, dispatcher, fake, wall


def not_before_spread(fake: FakeGitHub) -> tuple[int, float]:
    """(publications received, seconds between the earliest and the latest ``not_before``)."""
    instants = [
        datetime.fromisoformat(entry["not_before"].replace("Z", "+00:00"))
        for dispatch in fake.dispatches
        for entry in dispatch.client_payload["publications"]
    ]
    if not instants:
        return 0, 0.0
    return len(instants), (max(instants) - min(instants)).total_seconds()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tick and print the figures; exit 1 if anything failed."""
    parser = argparse.ArgumentParser(description="One tick of a big simultaneous wave.")
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the fake server waits")
    parser.add_argument("--spacing", type=float, default=0.0, help="seconds between writes")
    args = parser.parse_args(argv)
    report, timed, fake, wall = run(args.channels, args.latency, args.spacing)
    methods = Counter(method for method, _, _ in fake.requests)
    received, spread = not_before_spread(fake)
    sizes = Counter(timed.batch_sizes)
    print(f"channels: {args.channels}; repositories: {len(PUBLISHERS)}; latency {args.latency} s")
    print(f"dispatched publications: {len(report.dispatched)} (received by the server: {received})")
    print(
        f"failed/unknown/missed/held: {len(report.failed)}/{len(report.unknown)}/{len(report.missed)}/{len(report.held)}"
    )
    print(
        f"requests: {methods.get('POST', 0)} POST dispatches + {methods.get('GET', 0)} preflight GET"
    )
    print(f"publications per request: {dict(sorted(sizes.items()))}")
    print(
        f"preflight time: {timed.check_seconds:.2f} s; send time: {timed.send_seconds:.2f} s; whole tick: {wall:.2f} s"
    )
    print(f"not_before spread over the publications: {spread:.0f} s")
    if fake.dispatches:
        first = fake.dispatches[0].at - timed.started
        last = fake.dispatches[-1].at - timed.started
        print(
            f"first dispatch received {first:.2f} s after the tick began, the last {last:.2f} s after"
        )
    trouble = report.failed or report.unknown or report.missed or report.held
    return 1 if trouble else 0


if __name__ == "__main__":
    sys.exit(main())
