"""Where a command's time goes, on a generated repository, sampled with py-spy.

    python benchmarks/hotspots.py [--waves 10000] [--events N] [--top 25] -- validate
    python benchmarks/hotspots.py --waves 10000 -- tick --dry-run

The repository is the one ``run.py`` uses for these parameters (generated if missing). The
command runs as ``python -m scheduler --root ROOT --now NOW <command>`` under
``py-spy record --format raw`` (sampling, so the timings are not inflated the way a tracing
profiler inflates many small calls). Prints two Markdown tables: functions by inclusive share
(the samples in which the function is on the stack) and by self share (the samples in which it
is the running frame). ``--raw FILE`` keeps py-spy's collapsed stacks (for a flame graph).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import Params  # noqa: E402
from run import DEFAULT_WORK_DIR, child_env, default_events, repository  # noqa: E402

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Frames every sample goes through: the interpreter's entry and click's dispatch.
WRAPPERS = ("<frozen runpy>", "click/", "scheduler/__main__.py")


def frame_name(frame: str, *, line: bool = False) -> str:
    """``function (path/to/file.py:12)`` -> ``function  scheduler/file.py`` (``:12`` with ``line``)."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("/scheduler/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path[path.index(marker) + 1 :]
            break
    where = f"{path}:{match['line']}" if line and match["line"] else path
    return f"{match['function']}  {where}"


def parse_raw(lines: Iterable[str]) -> tuple[Counter[str], Counter[str], int]:
    """(inclusive samples by function, self samples by function and line, total samples) from
    py-spy's collapsed stacks; the entry and click frames are left out of the inclusive count."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for row in lines:
        stack, _, count_text = row.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frame_name(frames[-1], line=True)] += count
        for name in {frame_name(frame) for frame in frames}:
            if not any(marker in name for marker in WRAPPERS):
                inclusive[name] += count
    return inclusive, own, total


def share_table(title: str, counts: Counter[str], total: int, top: int, rate: int) -> str:
    """A Markdown table of the ``top`` functions by samples."""
    rows = [f"| {title} | share | seconds |", "|---|---:|---:|"]
    for name, count in counts.most_common(top):
        rows.append(f"| `{name}` | {100 * count / total:.1f}% | {count / rate:.1f} |")
    return "\n".join(rows)


def record(argv: Sequence[str], cwd: Path, rate: int, raw: Path, src: Path | None = None) -> None:
    """Run ``argv`` under py-spy, writing collapsed stacks to ``raw`` (``src``: see run.py)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [
        spy,
        "record",
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(raw),
        "--",
        *argv,
    ]
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, check=True, env=child_env(src))


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one command; print the tables."""
    parser = argparse.ArgumentParser(description="Profile one scheduler command with py-spy.")
    parser.add_argument("--waves", type=int, default=10000)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--queues", type=int, default=500)
    parser.add_argument(
        "--events", type=int, help="default: as run.py (100 per wave, at most 1,000,000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    parser.add_argument("--src", type=Path, help="profile the scheduler package in this folder")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the scheduler command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the scheduler command after --, e.g. -- validate")
    events = args.events if args.events is not None else default_events(args.waves)
    params = Params(args.waves, args.channels, args.queues, events, args.seed)
    root, meta = repository(params, args.work_dir)
    scheduler = [sys.executable, "-m", "scheduler", "--root", str(root), "--now", str(meta["now"])]
    with tempfile.TemporaryDirectory() as scratch:
        raw = args.raw or Path(scratch) / "stacks.txt"
        src = args.src.resolve() if args.src else None
        record([*scheduler, *command], root, args.rate, raw, src)
        inclusive, own, total = parse_raw(raw.read_text(encoding="utf-8").splitlines())
    print(
        f"`scheduler {' '.join(command)}` on {args.waves:,} waves, {events:,} ledger events: "
        f"{total} samples at {args.rate}/s (~{total / args.rate:.1f} s)\n"
    )
    print(share_table("inclusive (on the stack)", inclusive, total, args.top, args.rate))
    print()
    print(share_table("self (running), by line", own, total, args.top, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
