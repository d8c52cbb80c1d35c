"""What a simulation found, as text and as JSON."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from scheduler import times
from scheduler.simulate import Outcome, Simulation, summary

MAX_CHANNEL_ROWS = 20


def as_data(sim: Simulation, *, seed: int, lead: str | None) -> dict[str, Any]:
    """The JSON object: the contract's keys first, then the details."""
    overall = summary(sim.outcomes)
    delivered = [outcome for outcome in sim.outcomes if outcome.delivered]
    data: dict[str, Any] = {
        "publications": overall["publications"],
        "dispatched": overall["dispatched"],
        "on_time_rate": overall["on_time_rate"],
        "lateness_p50_s": overall["lateness_p50_s"],
        "lateness_p95_s": overall["lateness_p95_s"],
        "lateness_max_s": overall["lateness_max_s"],
        "double_dispatches": len(sim.doubles),
        "silent_losses": len(sim.silent),
        "faults_injected": sum(sim.injected.values()),
        "on_time": overall["on_time"],
        "from": times.format_utc(sim.scenario.start),
        "to": times.format_utc(sim.scenario.end),
        "until": times.format_utc(sim.stop),
        "seed": seed,
        "faults_rate": sim.scenario.faults,
        "lead": lead,
        "outcomes": dict(sorted(Counter(outcome.last for outcome in sim.outcomes).items())),
        "held": sum(1 for outcome in sim.outcomes if outcome.held),
        "delivered": len(delivered),
        "published": sum(1 for outcome in delivered if outcome.published_at is not None),
        "expired": sum(1 for outcome in delivered if outcome.published_at is None),
        "faults": dict(sim.injected),
        "crashes": sum(sim.crashes.values()),
        "crash_points": dict(sim.crashes),
        "cron_runs": sim.runs.scheduled,
        "dropped_runs": sim.runs.dropped,
        "ticks": sim.runs.ticks,
        "ticks_skipped": sim.runs.skipped,
        "races": sim.runs.races,
        "claim_conflicts": sim.conflicts,
        "tick_errors": sim.runs.error_count,
        "ledger_rewrites": len(sim.runs.rewrites),
        "violations": sim.violations(),
        "errors": list(sim.runs.errors),
        "per_channel": per_channel(sim),
    }
    return data


def as_json(sim: Simulation, *, seed: int, lead: str | None) -> str:
    """``simulate --format json``."""
    return json.dumps(as_data(sim, seed=seed, lead=lead), indent=2)


def per_channel(sim: Simulation) -> dict[str, dict[str, Any]]:
    """Channel -> its summary, channels sorted by id."""
    grouped: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in sim.outcomes:
        grouped[outcome.pub.channel].append(outcome)
    return {channel: summary(grouped[channel]) for channel in sorted(grouped)}


def as_text(sim: Simulation, *, seed: int, lead: str | None) -> str:
    """The report: window, cron, faults, outcomes, on-time figures, channels, invariants."""
    data = as_data(sim, seed=seed, lead=lead)
    lines = [
        f"simulated {data['from']} to {data['to']} ({sim.scenario.days} day(s)), then until {data['until']} "
        f"for late runs; seed {seed}, faults {sim.scenario.faults:g}, lead {lead or 'as in the files'}",
        f"cron: {data['cron_runs']:,} runs, {data['dropped_runs']:,} dropped, {data['races']:,} racing another "
        f"({data['claim_conflicts']:,} claim push(es) rejected), {data['ticks']:,} tick(s) run, "
        f"{data['ticks_skipped']:,} skipped as repeats of a no-op, {data['tick_errors']:,} refused",
        f"faults injected: {data['faults_injected']:,}{_counts(data['faults'])}; "
        f"crashes: {data['crashes']:,}{_counts(data['crash_points'])}",
        f"publications due in the window: {data['publications']:,}{_counts(data['outcomes'])}",
        _on_time_line(data),
    ]
    lines += _channel_table(data["per_channel"])
    lines += _errors(data["errors"], data["tick_errors"])
    lines += _invariants(data)
    return "\n".join(lines)


def _counts(counts: Mapping[str, int]) -> str:
    """`` (a 1, b 2)``, or nothing when empty."""
    inner = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in counts.items())
    return f" ({inner})" if inner else ""


def _on_time_line(data: Mapping[str, Any]) -> str:
    """The overall on-time rate and lateness."""
    if not data["publications"]:
        return "nothing to measure: set --from and --days around the dates of the schedule"
    return (
        f"on time (published at most 60s after due): {data['on_time']:,}, {_percent(data['on_time_rate'])} of the "
        f"{data['publications'] - data['held']:,} meant to go out ({data['held']:,} held); lateness p50 {_seconds(data['lateness_p50_s'])}, p95 {_seconds(data['lateness_p95_s'])}, "
        f"max {_seconds(data['lateness_max_s'])}; {data['dispatched']:,} dispatched, {data['delivered']:,} reached "
        f"a receiver, {data['expired']:,} of them too late to post"
    )


def _channel_table(channels: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One row per channel (the least punctual ones when there are many)."""
    if not channels:
        return []
    rows = sorted(channels.items(), key=lambda item: (item[1]["on_time_rate"], item[0]))
    shown = sorted(rows[:MAX_CHANNEL_ROWS]) if len(rows) > MAX_CHANNEL_ROWS else sorted(rows)
    width = max(len("channel"), *(len(name) for name, _ in shown))
    title = (
        "per channel"
        if len(rows) <= MAX_CHANNEL_ROWS
        else f"the {MAX_CHANNEL_ROWS} least punctual channels"
    )
    lines = [
        f"{title}:",
        f"  {'channel':<{width}}  publications  on time     rate      p50      p95      max",
    ]
    for name, row in shown:
        lines.append(
            f"  {name:<{width}}  {row['publications']:>12,}  {row['on_time']:>7,}  {_percent(row['on_time_rate']):>7}  "
            f"{_seconds(row['lateness_p50_s']):>7}  {_seconds(row['lateness_p95_s']):>7}  {_seconds(row['lateness_max_s']):>7}"
        )
    if len(rows) > MAX_CHANNEL_ROWS:
        lines.append(f"  ({len(rows) - MAX_CHANNEL_ROWS:,} more channels in --format json)")
    return lines


def _errors(errors: list[str], count: int) -> list[str]:
    """The ticks that refused to act (as the cron's job would have failed)."""
    if not count:
        return []
    return [f"ticks that refused to act: {count:,}", *(f"  {line}" for line in errors)]


def _invariants(data: Mapping[str, Any]) -> list[str]:
    """The invariants, then each violation."""
    line = (
        f"invariants: sent twice {data['double_dispatches']:,}, silently lost {data['silent_losses']:,}, "
        f"ledger rewritten {data['ledger_rewrites']:,}"
    )
    if not data["violations"]:
        return [line + ": OK"]
    return [line + ": VIOLATED", *(f"  {violation}" for violation in data["violations"])]


def _percent(rate: float) -> str:
    """``97.5%``."""
    return f"{rate * 100:.1f}%"


def _seconds(value: int) -> str:
    """A lateness as a duration (``0s``, ``4m``, ``1h2m3s``)."""
    return times.format_duration(timedelta(seconds=value))
