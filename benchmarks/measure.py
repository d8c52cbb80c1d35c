"""Run one command as a child process and print its wall time and peak memory as JSON.

    python benchmarks/measure.py [--cwd DIR] -- COMMAND [ARG...]

This process runs nothing but the one child, so ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is
exactly the child's peak resident set size. The child's standard output is discarded (as
``> /dev/null`` would); its standard error is kept, and its last lines are printed in the JSON
(``stderr_tail``) so that a failing command can be seen. Prints
``{"seconds", "cpu_seconds", "max_rss_mb", "returncode", "stderr_tail"}`` (``cpu_seconds``: user +
system time of the child, which other load on the machine disturbs less than wall time).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence

STDERR_TAIL = 5


def measure(command: Sequence[str], cwd: str | None = None) -> dict[str, object]:
    """Run ``command``; return its wall and CPU time, peak RSS (MB), exit code, last stderr lines."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = after.ru_maxrss  # kilobytes on Linux
    tail = done.stderr.decode(errors="replace").strip().splitlines()[-STDERR_TAIL:]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "max_rss_mb": peak_kb / 1024,
        "returncode": done.returncode,
        "stderr_tail": tail,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure the command after ``--``."""
    parser = argparse.ArgumentParser(description="Time one command; print JSON.")
    parser.add_argument("--cwd")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    print(json.dumps(measure(command, args.cwd)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
