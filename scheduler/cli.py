"""Command-line wiring: parse options, read the clock and environment once, call, render.

Every command is parse -> one call -> render -> exit code. ``SchedulerError`` becomes
``Error: <message>`` and its exit code in one place (:class:`SchedulerGroup`).
"""

from __future__ import annotations

import difflib
import gc
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from scheduler import __version__, times
from scheduler.adapters.files import read_schedules
from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.adapters.parse_cache import load_cached
from scheduler.errors import SchedulerError, UsageError
from scheduler.operations import Outcome
from scheduler.ports import StateSnapshot
from scheduler.problems import did_you_mean
from scheduler.selectors import Selector
from scheduler.status import STATUSES
from scheduler.views import listing
from scheduler.views import problems as problem_views
from scheduler.world import World, build_world

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_STATE_REF = "scheduler-state"


class SchedulerGroup(click.Group):
    """Turns every :class:`SchedulerError` into ``Error: ...`` and its documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        # A command builds one large world of acyclic objects and exits: the cyclic collector
        # would only rescan it again and again (about a third of the time on big schedules).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return super().invoke(ctx)
        except SchedulerError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        finally:
            if collecting:
                gc.enable()


@dataclass(frozen=True)
class Options:
    """The global options, with the clock read once."""

    root: Path
    now: datetime
    now_given: bool
    state_ref: str
    tz: str | None

    def zone(self, world: World) -> ZoneInfo:
        """The display zone: ``--tz``, else ``defaults.timezone``."""
        return times.load_zone(self.tz or world.schedules.default_timezone)


def _parse_instant(value: str, option: str) -> datetime:
    try:
        parsed = times.parse_datetime(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value}: {exc}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{option} {value}: give an offset or Z, e.g. 2030-12-01T17:05:00Z")
    return times.to_utc(parsed)


@click.group(cls=SchedulerGroup)
@click.version_option(__version__, prog_name="scheduler")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The repository root (holds schedules/).",
)
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="Act as if it were TIME (ISO 8601 with an offset): rehearsals and tests.",
)
@click.option(
    "--state-ref",
    envvar="SCHEDULER_STATE_REF",
    default=DEFAULT_STATE_REF,
    show_default=True,
    help="The state branch (env SCHEDULER_STATE_REF).",
)
@click.option("--tz", metavar="ZONE", help="Display time zone (default: defaults.timezone).")
@click.pass_context
def main(
    ctx: click.Context, root: Path, now_text: str | None, state_ref: str, tz: str | None
) -> None:
    """Publish videos across many channels from schedules kept in this repository."""
    if tz is not None:
        try:
            times.load_zone(tz)
        except ValueError as exc:
            raise UsageError(f"--tz: {exc}") from None
    now = _parse_instant(now_text, "--now") if now_text else datetime.now(UTC)
    ctx.obj = Options(
        root=root.resolve(), now=now, now_given=now_text is not None, state_ref=state_ref, tz=tz
    )


def selector_options(func: F) -> F:
    """--id/--channel/--group/--platform/--wave, each repeatable."""
    for name in ("wave", "platform", "group", "channel", "id"):
        func = click.option(
            f"--{name}",
            f"{name}_",
            multiple=True,
            metavar=name.upper(),
            help=f"Select by {name} (repeat for several).",
        )(func)
    return func


def _selector(kwargs: dict[str, Any], extra_ids: Sequence[str] = ()) -> Selector:
    return Selector(
        ids=(*kwargs.pop("id_"), *extra_ids),
        channels=kwargs.pop("channel_"),
        groups=kwargs.pop("group_"),
        platforms=kwargs.pop("platform_"),
        waves=kwargs.pop("wave_"),
    )


# --------------------------------------------------------------------------- loading


def read_state(opts: Options) -> tuple[GitRepo | None, StateSnapshot]:
    """The state branch as the reading rule finds it (empty outside a git repository)."""
    repo = GitRepo.find(opts.root)
    if repo is None:
        return None, StateSnapshot(commit=None, source="empty")
    state = GitStateStore(repo, opts.state_ref, push=False).load()
    for warning in state.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return repo, state


def load_world(opts: Options) -> World:
    """Files + state + now, for the read-only commands (a warning when files are invalid)."""
    files, file_problems = read_schedules(opts.root)
    _, state = read_state(opts)
    loaded = load_cached(opts.root, files)
    world = build_world(
        files, state, now=opts.now, extra_problems=tuple(file_problems), loaded=loaded
    )
    broken = sorted({p.file for p in world.load_problems if p.severity == "error"})
    if broken:
        shown = ", ".join(broken[:3]) + (f" and {len(broken) - 3} more" if len(broken) > 3 else "")
        click.echo(f"Warning: {shown} cannot be used as written: run scheduler validate", err=True)
    return world


def _time_bound(value: str | None, option: str, zone: ZoneInfo) -> datetime | None:
    """``--from``/``--to``: an instant, or a bare date meaning 00:00 in the display zone."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return times.slot_instant(times.parse_date(value), datetime.min.time(), zone)
        parsed = times.parse_datetime(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value}: {exc}") from None
    if parsed.tzinfo is None:
        return times.to_utc(parsed.replace(tzinfo=zone))
    return times.to_utc(parsed)


# --------------------------------------------------------------------------- validate


@main.command()
@click.option("--base", metavar="REF", help="Judge only what the change since REF introduces.")
@click.option("--fix", is_flag=True, help="Apply unambiguous suggested shifts to wave files.")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
)
@click.pass_obj
def validate(opts: Options, base: str | None, fix: bool, strict: bool, fmt: str) -> None:
    """Check the schedule files: schema, references, conflicts, timing, GitHub's limits."""
    from scheduler.commands.validate import run_validate

    found, checked, fixed = run_validate(opts, base=base, fix=fix)
    for line in fixed:
        click.echo(line, err=True)
    if fmt == "json":
        click.echo(problem_views.as_json(found))
    elif fmt == "github":
        text = problem_views.as_github(found)
        if text:
            click.echo(text)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(problem_views.as_summary(found))
    else:
        click.echo(problem_views.as_text(found, checked=checked))
    failing = [p for p in found if p.severity == "error" or strict]
    raise SystemExit(1 if failing else 0)


# --------------------------------------------------------------------------- list / show


@main.command(name="list")
@selector_options
@click.option("--video", multiple=True, metavar="ID", help="Only these videos.")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only these statuses."
)
@click.option(
    "--from", "from_", metavar="T", help="Due at or after T (a bare date: 00:00 in --tz)."
)
@click.option("--to", metavar="T", help="Due before T.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@click.pass_obj
def list_(
    opts: Options,
    /,
    video: tuple[str, ...],
    statuses: tuple[str, ...],
    from_: str | None,
    to: str | None,
    fmt: str,
    **kwargs: Any,
) -> None:
    """Query publications."""
    selector = _selector(kwargs)
    world = load_world(opts)
    zone = opts.zone(world)
    for name in video:
        if name not in world.schedules.videos and all(
            pub.video != name for pub in world.publications
        ):
            raise UsageError(
                f"--video {name}: no such video{did_you_mean(name, world.schedules.videos)}"
            )
    selector.check_names(world.schedules, world.publications)
    start, end = _time_bound(from_, "--from", zone), _time_bound(to, "--to", zone)
    pubs = [
        pub
        for pub in selector.select(world.publications, world.schedules)
        if (not video or pub.video in video)
        and (start is None or pub.due >= start)
        and (end is None or pub.due < end)
        and (not statuses or world.status(pub) in statuses)
    ]
    if fmt in ("json", "csv"):
        render = listing.json_chunks if fmt == "json" else listing.csv_chunks
        for chunk in render(world, pubs):
            click.echo(chunk, nl=False)
    else:
        if not selector.is_empty():
            click.echo(f"selected: {selector.describe()}", err=True)
        click.echo(listing.as_text(world, pubs, zone))


@main.command()
@click.argument("pub_id", metavar="ID")
@click.pass_obj
def show(opts: Options, pub_id: str) -> None:
    """One publication: its file, its ledger events and the exact payload a receiver gets."""
    world = load_world(opts)
    pub = world.plan.by_id().get(pub_id)
    if pub is None:
        close = difflib.get_close_matches(pub_id, [p.id for p in world.publications], 1)
        hint = f" (did you mean '{close[0]}'?)" if close else ": `scheduler list` shows every id"
        raise UsageError(f"no publication '{pub_id}'{hint}")
    click.echo(listing.show(world, pub, opts.zone(world)))


# --------------------------------------------------------------------------- tick


@main.command()
@click.option(
    "--push", is_flag=True, help="Fetch the state branch, act on origin's state and push."
)
@click.option("--dry-run", is_flag=True, help="Write and send nothing; say what a tick would do.")
@click.option(
    "--backend",
    type=click.Choice(["github", "outbox"]),
    default="github",
    show_default=True,
    help="outbox: every channel goes to the outbox on the state branch.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def tick(opts: Options, push: bool, dry_run: bool, backend: str, fmt: str) -> None:
    """Claim due publications, dispatch them and record the results (the cron's job)."""
    from scheduler.commands.tick import execute_tick
    from scheduler.views.tick import summary, text

    report = execute_tick(opts, push=push, dry_run=dry_run, backend=backend)
    for problem in report.problems:
        click.echo(problem.render(), err=True)
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(text(report, dry_run=dry_run))
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path and not dry_run:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(summary(report))
    raise SystemExit(report.exit_code)


# --------------------------------------------------------------------------- operations


def _report(outcome: Outcome, selector: Selector | None = None) -> None:
    if selector is not None and not selector.is_empty():
        click.echo(f"selected: {selector.describe()}")
    for line in outcome.lines:
        click.echo(line)
    for problem in outcome.problems:
        click.echo(f"Error: {problem}", err=True)


def _run_operation(
    opts: Options,
    push: bool,
    subject: str,
    compute: Callable[[World], Outcome],
    selector: Selector | None = None,
) -> None:
    from scheduler.commands.ops import change_state

    outcome = change_state(opts, push=push, subject=subject, compute=compute)
    _report(outcome, selector)
    raise SystemExit(1 if outcome.problems else 0)


push_option = click.option(
    "--push", is_flag=True, help="Fetch the state branch, change origin's state and push."
)


@main.command()
@selector_options
@click.option("--all", "everything", is_flag=True, help="Pause everything (the global flag).")
@click.option("--until", metavar="T", help="Resume by itself at T.")
@click.option("--reason", required=True, help="Why (recorded).")
@push_option
@click.pass_obj
def pause(
    opts: Options, /, everything: bool, until: str | None, reason: str, push: bool, **kwargs: Any
) -> None:
    """Hold publications (control.yaml on the state branch); nothing is deleted."""
    from scheduler.commands.state import actor
    from scheduler.operations import hold

    selector = _selector(kwargs)
    end = _parse_instant(until, "--until") if until else None
    who = actor()
    _run_operation(
        opts,
        push,
        f"pause {selector.describe()}: {reason} ({who})",
        lambda world: hold(
            world,
            selector,
            flag="paused",
            everything=everything,
            reason=reason,
            actor=who,
            until=end,
        ),
        selector,
    )


@main.command()
@selector_options
@click.option("--all", "everything", is_flag=True, help="Lift the global pause only.")
@push_option
@click.pass_obj
def resume(opts: Options, /, everything: bool, push: bool, **kwargs: Any) -> None:
    """Lift a pause (and, with --id, a cancel)."""
    from scheduler.commands.state import actor
    from scheduler.operations import lift

    selector = _selector(kwargs)
    _run_operation(
        opts,
        push,
        f"resume {selector.describe() if not everything else 'everything'} ({actor()})",
        lambda world: lift(world, selector, everything=everything),
        selector,
    )


@main.command()
@selector_options
@click.option("--reason", required=True, help="Why (recorded).")
@push_option
@click.pass_obj
def cancel(opts: Options, /, reason: str, push: bool, **kwargs: Any) -> None:
    """Cancel publications without a pull request."""
    from scheduler.commands.state import actor
    from scheduler.operations import hold

    selector = _selector(kwargs)
    who = actor()
    _run_operation(
        opts,
        push,
        f"cancel {selector.describe()}: {reason} ({who})",
        lambda world: hold(
            world, selector, flag="cancelled", everything=False, reason=reason, actor=who
        ),
        selector,
    )


@main.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@selector_options
@click.option("--at", metavar="T", help="The new due (default: now).")
@push_option
@click.pass_obj
def retry(
    opts: Options, /, ids: tuple[str, ...], at: str | None, push: bool, **kwargs: Any
) -> None:
    """Release unknown/failed/publish_failed/missed publications for another attempt."""
    from scheduler.commands.state import actor, run_id
    from scheduler.operations import retry as release

    selector = _selector(kwargs, ids)
    if selector.is_empty():
        raise UsageError(
            "name what to retry: IDs or selectors (after checking the receiver did not publish it)"
        )
    when = _parse_instant(at, "--at") if at else None
    who, run = actor(), run_id()

    def compute(world: World) -> Outcome:
        selector.check_names(world.schedules, world.publications)
        return release(
            world, selector.select(world.publications, world.schedules), at=when, actor=who, run=run
        )

    _run_operation(opts, push, f"retry {selector.describe()} ({who})", compute, selector)


@main.command()
@click.argument("pub_id", required=False, metavar="ID")
@click.option("--result", type=click.Choice(["published", "failed"]), help="The receiver's result.")
@click.option("--url", help="Where it was published (https:).")
@click.option("--reason", help="Why it failed (under 500 characters).")
@click.option(
    "--from-event",
    "event_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A publication-result repository_dispatch event file ($GITHUB_EVENT_PATH).",
)
@push_option
@click.pass_obj
def record(
    opts: Options,
    pub_id: str | None,
    result: str | None,
    url: str | None,
    reason: str | None,
    event_file: Path | None,
    push: bool,
) -> None:
    """Record receivers' confirmations (failed is recorded as publish_failed)."""
    from scheduler.commands.state import actor, run_id
    from scheduler.operations import Result, results_from_event
    from scheduler.operations import record as record_results

    sender: str | None = None
    problems: list[str] = []
    if event_file is not None:
        if pub_id or result or url or reason:
            raise UsageError(
                "give either ID --result ... [--url] [--reason] or --from-event FILE, not both"
            )
        try:
            event = json.loads(event_file.read_bytes())
        except (OSError, ValueError, RecursionError) as exc:
            raise UsageError(
                f"--from-event {event_file}: cannot read a JSON event ({exc})"
            ) from None
        results, sender, problems = results_from_event(event)
        if sender is None:
            problems.append(
                "the event has no sender.login: results are accepted only from reporters"
            )
            results = []
    elif pub_id and result:
        results = [Result(pub_id, result, None, url, reason)]
    else:
        raise UsageError("give ID --result published|failed, or --from-event FILE")
    who, run = actor(), run_id()
    outcome = Outcome(problems=list(problems))
    if results:
        from scheduler.commands.ops import change_state

        outcome = change_state(
            opts,
            push=push,
            subject=f"record {len(results)} result(s) ({sender or who})",
            compute=lambda world: record_results(world, results, actor=who, sender=sender, run=run),
        )
        outcome.problems[:0] = problems
    _report(outcome)
    raise SystemExit(1 if outcome.problems else 0)


# --------------------------------------------------------------------------- views


@main.command()
@click.option(
    "--from", "from_", metavar="T", help="Due at or after T (a bare date: 00:00 in --tz)."
)
@click.option("--to", metavar="T", help="Due before T.")
@selector_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "mermaid", "ics", "html", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--include-private", is_flag=True, help="Include video URLs and params (left out by default)."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.pass_obj
def timeline(
    opts: Options,
    /,
    from_: str | None,
    to: str | None,
    fmt: str,
    include_private: bool,
    output: Path | None,
    **kwargs: Any,
) -> None:
    """Calendar and timeline views of the publications."""
    from scheduler.views.timeline import render

    selector = _selector(kwargs)
    world = load_world(opts)
    zone = opts.zone(world)
    selector.check_names(world.schedules, world.publications)
    start, end = _time_bound(from_, "--from", zone), _time_bound(to, "--to", zone)
    pubs = [
        pub
        for pub in selector.select(world.publications, world.schedules)
        if (start is None or pub.due >= start) and (end is None or pub.due < end)
    ]
    repo_slug = os.environ.get("GITHUB_REPOSITORY") or None
    text = render(
        world, pubs, fmt=fmt, zone=zone, include_private=include_private, repo_slug=repo_slug
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"wrote {output} ({len(pubs)} publication(s), {fmt})", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 on any problem (for the monitor workflow).")
@click.option(
    "--online",
    is_flag=True,
    help="Also ask the Actions API whether tick.yml is enabled and running.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def status(opts: Options, check: bool, online: bool, fmt: str) -> None:
    """Counts by status, the next publications, open problems and the dead-cron alarm."""
    from scheduler.health import health, workflow_troubles
    from scheduler.views import status as status_views

    world = load_world(opts)
    report = health(world)
    if online:
        from scheduler.adapters.github import workflow_health

        repo = os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            raise UsageError("--online needs GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN")
        answer = workflow_health(
            api_url=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
            token=os.environ.get("GITHUB_TOKEN"),
            repo=repo,
            workflow="tick.yml",
        )
        report.troubles += workflow_troubles(answer.state, answer.last_run, answer.error, world.now)
    if fmt == "json":
        click.echo(status_views.as_json(world, report))
    else:
        click.echo(status_views.as_text(world, report, opts.zone(world)))
    raise SystemExit(1 if check and report.troubles else 0)


@main.command(name="plan")
@click.option(
    "--base",
    metavar="REF",
    help="Compare with REF (default: the merge-base with the default branch).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "text", "json"]),
    default="text",
    show_default=True,
)
@click.pass_obj
def plan_(opts: Options, base: str | None, fmt: str) -> None:
    """What the change does: publications added, removed, moved, renamed, no effect, conflicts.

    Exits 1 when the change introduces conflicts (as validate --base would fail).
    """
    from scheduler.commands.plan import run_plan

    text, conflicts = run_plan(opts, base=base, fmt=fmt)
    click.echo(text)
    raise SystemExit(1 if conflicts else 0)


@main.command()
@click.option("--from", "from_", metavar="T", help="Start of the simulated window (default: now).")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--faults",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Rate of injected dispatch faults and crashes between protocol steps.",
)
@click.option(
    "--lead", metavar="DURATION", help="Override every channel's lead (to compare choices)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def simulate(
    opts: Options,
    from_: str | None,
    days: int,
    seed: int,
    faults: float,
    lead: str | None,
    fmt: str,
) -> None:
    """What-if: replay the real tick protocol over the schedule under GitHub's late cron."""
    from scheduler.commands.simulate import run_simulate

    gc.enable()  # thousands of worlds come and go: let the collector keep up

    start = _parse_instant(from_, "--from") if from_ else opts.now
    text, code = run_simulate(
        opts, start=start, days=days, seed=seed, faults=faults, lead=lead, fmt=fmt
    )
    click.echo(text)
    raise SystemExit(code)
