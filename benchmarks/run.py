"""Time the scheduler's commands on generated repositories of growing size.

    python benchmarks/run.py [--sizes 1000,10000] [--repeat 3] [--quick] [--work-dir DIR]

For each size (a number of wave files), a repository is generated with
``benchmarks/generate.py`` (cached under the work directory by its parameters), then every
command runs as a whole process, ``--repeat`` times, and the best wall time is kept with the
peak resident memory of the runs:

- ``floor``: a Python process that only parses every file under ``schedules/`` with libyaml;
- ``floor+ledger``: the same, plus reading the ledger from git and ``json.loads`` of each line;
- ``validate``, ``list --format json`` (output discarded), ``tick --dry-run``, and
  ``plan --base HEAD~0`` / ``timeline --format ics`` where ``scheduler --help`` lists them,
  with the cache of parsed files warm (one ``validate`` runs first, unmeasured);
- ``validate (no cache)`` and ``tick --dry-run (no cache)``: the same with
  ``SCHEDULER_CACHE_DIR=""``, every file parsed again (what a first run, or a new runner, pays);

each with ``--now`` at the moment the first upcoming wave is due (earlier waves are in the
ledger). Then the effect of the ledger's size on ``tick --dry-run``: the same schedule with a
small and a large ledger. Prints Markdown tables; ``--json FILE`` also saves every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import META_FILE, STATE_REF, Params, generate  # noqa: E402

DEFAULT_WORK_DIR = Path("/tmp/scheduler-bench")
EVENTS_PER_WAVE = 100  # 1,000,000 events at 10,000 waves
MAX_DEFAULT_EVENTS = 1_000_000
NO_CACHE = "(no cache)"  # a label run with SCHEDULER_CACHE_DIR="": every file parsed again


@dataclass(frozen=True)
class Settings:
    """How this run measures."""

    sizes: tuple[int, ...]
    channels: int
    queues: int
    events: int | None
    repeat: int
    work_dir: Path
    ledger_waves: int
    ledger_events: tuple[int, ...]
    timeout: float
    seed: int
    commands: tuple[str, ...] | None = None  # labels to run (the floor always runs)
    src: Path | None = None  # a folder holding the scheduler package to measure instead of this one


@dataclass(frozen=True)
class Result:
    """The best of the runs of one command on one repository."""

    waves: int
    events: int
    command: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    returncode: int
    floor_seconds: float | None
    note: str = ""

    def ratio(self) -> str:
        """Seconds over the floor's, as text."""
        if not self.floor_seconds:
            return "-"
        return f"{self.seconds / self.floor_seconds:.1f}x"


# --------------------------------------------------------------------------- repositories


def default_events(waves: int) -> int:
    """100 events per wave, at most 1,000,000 (about 250 MB of ledger)."""
    return min(waves * EVENTS_PER_WAVE, MAX_DEFAULT_EVENTS)


def repository(params: Params, work_dir: Path) -> tuple[Path, dict[str, object]]:
    """The generated repository for ``params`` (generated now unless cached) and its metadata."""
    root = work_dir / params.key()
    meta_path = root / ".git" / META_FILE
    if meta_path.exists():
        return root, json.loads(meta_path.read_text(encoding="utf-8"))
    if root.exists():
        shutil.rmtree(root)  # an interrupted generation
    log(f"generating {root.name} ...")
    meta = generate(root, params)
    log(f"  generated in {meta['seconds']} s")
    return root, meta


# --------------------------------------------------------------------------- commands


def child_env(src: Path | None, label: str = "") -> dict[str, str]:
    """The environment of measured processes: ``PYTHONPATH=src`` puts that package first; a
    label ending in ``(no cache)`` runs without the cache of parsed files."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if label.endswith(NO_CACHE):
        env["SCHEDULER_CACHE_DIR"] = ""
    return env


def available_commands(src: Path | None = None) -> set[str]:
    """The command names ``scheduler --help`` lists."""
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(src),
        cwd=HERE.parent if src is None else src,
    ).stdout
    names: set[str] = set()
    listing = False
    for line in out.splitlines():
        if line.strip() == "Commands:":
            listing = True
        elif listing and line.startswith("  ") and line.strip():
            names.add(line.split()[0])
    return names


def scheduler(root: Path, now: str, *args: str) -> list[str]:
    """``python -m scheduler --root ROOT --now NOW ARGS``."""
    return [sys.executable, "-m", "scheduler", "--root", str(root), "--now", now, *args]


def command_lines(root: Path, now: str, available: set[str]) -> list[tuple[str, list[str]]]:
    """(label, argv) of every measured command, the floor first."""
    floor = [sys.executable, str(HERE / "floor.py"), str(root)]
    lines = [
        ("floor", floor),
        ("floor+ledger", [*floor, "--ledger", STATE_REF]),
        ("validate", scheduler(root, now, "validate")),
        (f"validate {NO_CACHE}", scheduler(root, now, "validate")),
        ("list --format json", scheduler(root, now, "list", "--format", "json")),
        ("tick --dry-run", scheduler(root, now, "tick", "--dry-run")),
        (f"tick --dry-run {NO_CACHE}", scheduler(root, now, "tick", "--dry-run")),
    ]
    if "plan" in available:
        lines.append(("plan --base HEAD~0", scheduler(root, now, "plan", "--base", "HEAD~0")))
    if "timeline" in available:
        lines.append(("timeline --format ics", scheduler(root, now, "timeline", "--format", "ics")))
    return lines


@dataclass(frozen=True)
class Run:
    """One measured process."""

    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    returncode: int
    stderr_tail: tuple[str, ...]


def run_once(
    argv: Sequence[str], cwd: Path, timeout: float, src: Path | None = None, label: str = ""
) -> Run:
    """One measured run through ``measure.py`` (its own process group, killed on timeout)."""
    wrapper = [sys.executable, str(HERE / "measure.py"), "--cwd", str(cwd), "--", *argv]
    with subprocess.Popen(
        wrapper, stdout=subprocess.PIPE, start_new_session=True, env=child_env(src, label)
    ) as process:
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return Run(timeout, 0.0, 0.0, -1, ("timed out",))
    data = json.loads(out)
    return Run(
        float(data["seconds"]),
        float(data["cpu_seconds"]),
        float(data["max_rss_mb"]),
        int(data["returncode"]),
        tuple(data["stderr_tail"]),
    )


def best_of(label: str, argv: Sequence[str], cwd: Path, settings: Settings) -> Run:
    """The fastest of ``repeat`` runs (wall and CPU time each), with the highest peak memory."""
    runs = [
        run_once(argv, cwd, settings.timeout, settings.src, label) for _ in range(settings.repeat)
    ]
    best = min(runs, key=lambda run: run.seconds)
    peak = max(run.max_rss_mb for run in runs)
    cpu = min(run.cpu_seconds for run in runs)
    best = Run(best.seconds, cpu, peak, best.returncode, best.stderr_tail)
    log(
        f"  {label:<24} {best.seconds:8.2f} s {cpu:8.2f} s CPU {peak:8.0f} MB  exit {best.returncode}"
    )
    return best


def measure_size(
    waves: int,
    events: int,
    settings: Settings,
    available: set[str],
    only: Sequence[str] | None = None,
    done: Sequence[Result] = (),
) -> list[Result]:
    """Every command (or those labelled ``only``, and the floor) on the repository of this size;
    a command already measured on the same repository (in ``done``) is not run again."""
    params = Params(waves, settings.channels, settings.queues, events, settings.seed)
    root, meta = repository(params, settings.work_dir)
    now = str(meta["now"])
    log(f"{waves} waves, {events} events, --now {now}")
    results: list[Result] = []
    floor_seconds: float | None = None
    warm_up = run_once(scheduler(root, now, "validate"), root, settings.timeout, settings.src)
    log(f"  (cache of parsed files warmed by one validate: {warm_up.seconds:.2f} s)")
    for label, argv in command_lines(root, now, available):
        wanted = only if only is not None else settings.commands
        if wanted is not None and label not in wanted and label != "floor":
            continue
        known = [r for r in done if (r.waves, r.events, r.command) == (waves, events, label)]
        if known:
            results.append(known[0])
            floor_seconds = known[0].floor_seconds
            continue
        run = best_of(label, argv, root, settings)
        if label == "floor":
            floor_seconds = run.seconds
        note = "; ".join(run.stderr_tail) if run.returncode not in (0, 1) else ""
        results.append(
            Result(
                waves,
                events,
                label,
                run.seconds,
                run.cpu_seconds,
                run.max_rss_mb,
                run.returncode,
                floor_seconds,
                note[:200],
            )
        )
    return results


# --------------------------------------------------------------------------- output


def table(results: Sequence[Result], *, with_events: bool = False) -> str:
    """A Markdown table of the results."""
    head = (
        "| waves | "
        + ("events | " if with_events else "")
        + "command | seconds | x floor | CPU s | peak RSS MB | exit |"
    )
    rule = "|---:|" + ("---:|" if with_events else "") + "---|---:|---:|---:|---:|---:|"
    rows = [head, rule]
    for result in results:
        events = f"{result.events:,} | " if with_events else ""
        exit_text = str(result.returncode) + (f" ({result.note})" if result.note else "")
        rows.append(
            f"| {result.waves:,} | {events}{result.command} | {result.seconds:.2f} | {result.ratio()} | "
            f"{result.cpu_seconds:.2f} | {result.max_rss_mb:,.0f} | {exit_text} |"
        )
    return "\n".join(rows)


def machine() -> str:
    """``nproc``, CPU model and RAM of this machine."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kb = int(handle.readline().split()[1])
    return f"{os.cpu_count()} CPUs ({model}), {total_kb / 1024 / 1024:.1f} GB RAM, Python {sys.version.split()[0]}"


def revision(src: Path | None = None) -> str:
    """The scheduler's commit, and whether the working tree has changes (or the ``src`` folder)."""
    if src is not None:
        return f"from {src}"
    top = HERE.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=top, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "scheduler")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + (
        " + local changes" if dirty else ""
    )


def log(message: str) -> None:
    """Progress on standard error."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, Path | None]:
    """The run's settings from the command line (``--quick`` picks small defaults)."""
    parser = argparse.ArgumentParser(description="Benchmark the scheduler's commands.")
    parser.add_argument(
        "--sizes", help="wave counts, comma-separated (default 1000,10000; quick: 500)"
    )
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=500)
    parser.add_argument(
        "--events",
        type=int,
        help="ledger events at every size (default: 100 per wave, at most 1,000,000)",
    )
    parser.add_argument(
        "--repeat", type=int, help="runs per command, the best kept (default 3; quick: 1)"
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--ledger-waves",
        type=int,
        help="size of the ledger comparison (default 10000; quick: 500)",
    )
    parser.add_argument(
        "--ledger-events", help="ledger sizes compared (default 10000,1000000; quick: 500,50000)"
    )
    parser.add_argument(
        "--no-ledger-comparison", action="store_true", help="skip the ledger-size comparison"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds before one run is stopped"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and one run each: about a minute"
    )
    parser.add_argument(
        "--commands",
        help="only these, comma-separated labels, e.g. 'validate,tick --dry-run' (floor always)",
    )
    parser.add_argument(
        "--src",
        type=Path,
        help="measure the scheduler package in this folder (e.g. a git archive of one commit)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    return Settings(
        sizes=_ints(args.sizes or ("500" if quick else "1000,10000")),
        channels=args.channels,
        queues=args.queues,
        events=args.events,
        repeat=args.repeat or (1 if quick else 3),
        work_dir=args.work_dir,
        ledger_waves=args.ledger_waves or (500 if quick else 10000),
        ledger_events=()
        if args.no_ledger_comparison
        else _ints(args.ledger_events or ("500,50000" if quick else "10000,1000000")),
        timeout=args.timeout,
        seed=args.seed,
        commands=tuple(part.strip() for part in args.commands.split(","))
        if args.commands
        else None,
        src=args.src.resolve() if args.src else None,
    ), args.json


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables; exit 0."""
    settings, json_path = parse_args(argv)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    available = available_commands(settings.src)
    started = time.perf_counter()
    results: list[Result] = []
    for waves in settings.sizes:
        results += measure_size(
            waves, settings.events or default_events(waves), settings, available
        )
    ledger_results: list[Result] = []
    for events in settings.ledger_events:
        ledger_results += measure_size(
            settings.ledger_waves,
            events,
            settings,
            available,
            only=("floor+ledger", "tick --dry-run"),
            done=results,
        )
    print(f"Machine: {machine()}; scheduler {revision(settings.src)}.")
    print(f"Best of {settings.repeat}; {settings.channels} channels, {settings.queues} queues.\n")
    print(table(results, with_events=True))
    if ledger_results:
        print(f"\nLedger size and tick --dry-run ({settings.ledger_waves:,} waves):\n")
        print(table(ledger_results, with_events=True))
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    if json_path is not None:
        payload = {
            "machine": machine(),
            "revision": revision(settings.src),
            "settings": {
                **asdict(settings),
                "work_dir": str(settings.work_dir),
                "src": str(settings.src),
            },
            "results": [asdict(r) for r in results],
            "ledger": [asdict(r) for r in ledger_results],
        }
        json_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
