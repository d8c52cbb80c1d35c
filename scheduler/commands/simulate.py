"""``scheduler simulate``: the repository's schedule through the simulated cron and faults."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from scheduler import times
from scheduler.adapters.files import read_schedules
from scheduler.errors import UsageError
from scheduler.simulate import Scenario, simulate, with_lead
from scheduler.views import simulate as views

if TYPE_CHECKING:
    from scheduler.cli import Options


def run_simulate(
    opts: Options,
    *,
    start: datetime,
    days: int,
    seed: int,
    faults: float,
    lead: str | None,
    fmt: str,
) -> tuple[str, int]:
    """(the rendered report, the exit code: 1 when an invariant is violated)."""
    files, file_problems = read_schedules(opts.root)
    if lead is not None:
        files = with_lead(files, _lead(lead))
    scenario = Scenario(start=start, days=days, faults=faults)
    result = simulate(files, scenario, rng=random.Random(seed), file_problems=file_problems)
    render = views.as_json if fmt == "json" else views.as_text
    return render(result, seed=seed, lead=lead), result.exit_code


def _lead(text: str) -> str:
    """``--lead`` as the files write durations; a usage error when it is none."""
    try:
        return times.format_duration(times.parse_duration(text))
    except ValueError as exc:
        raise UsageError(f"--lead {text}: {exc}") from None
