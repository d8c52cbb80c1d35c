"""The workflows' shell glue, executed: tick, validate, control, record and monitor, step by step.

A copy of this repository's example (schedules, workflows, lock file) lives in a bare origin;
:mod:`tests.runner_sim` runs each workflow's jobs against it as GitHub's runner would, with the
real ``scheduler`` command and a fake GitHub API on 127.0.0.1 (``GITHUB_API_URL``). Events
carry the payloads GitHub sends: a ``schedule`` run's payload is the cron line alone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakegithub import FakeGitHub
from tests.gitrepos import clone, git, has_ref, isolate_git_env, make_origin
from tests.runner_sim import (
    Annotation,
    Event,
    JobResult,
    RunnerConfig,
    Scope,
    StepResult,
    UnsupportedError,
    condition_holds,
    evaluate,
    interpolate,
    parse_file_command,
    read_workflow,
    run_workflow,
)

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "acme-media/scheduler"
PUBLISHER = "acme-media/smoke-publisher"
SECRETS = {"SCHEDULER_TOKEN": "sched-t0ken", "GITHUB_TOKEN": "ghs-t0ken"}
BOT = "github-actions[bot]"
STATE = "scheduler-state"
TICK_CRON = "3-59/5 * * * *"

SMOKE_CHANNELS = """
  smoke-yt:
    platform: youtube
    timezone: UTC
    dispatch: {repo: acme-media/smoke-publisher}
  smoke-li:
    platform: linkedin
    timezone: UTC
"""
SMOKE_VIDEOS = """
  smoke-01:
    title: Smoke test
    url: https://cdn.example.com/smoke-01.mp4
"""


# --------------------------------------------------------------------------- the project


@dataclass
class Project:
    """A bare origin holding a copy of this repository's example, and a clone to change it."""

    origin: Path
    author: Path
    runs: Path
    api_url: str

    def main_sha(self) -> str:
        """Return the commit of origin's main."""
        return git(self.origin, "rev-parse", "refs/heads/main")

    def config(self, run_id: int, **changes: Any) -> RunnerConfig:
        """Return the runner configuration of run ``run_id``."""
        base = RunnerConfig(
            root=self.runs,
            origin=self.origin,
            api_url=self.api_url,
            repository=REPOSITORY,
            run_id=run_id,
            secrets=SECRETS,
        )
        return replace(base, **changes)

    def state_text(self, path: str) -> str | None:
        """Return a file of origin's state branch, or ``None``."""
        if not has_ref(self.origin, f"refs/heads/{STATE}"):
            return None
        listed = git(self.origin, "ls-tree", "--name-only", "-r", STATE)
        return git(self.origin, "show", f"{STATE}:{path}") if path in listed.split() else None

    def state_lines(self, path: str) -> list[dict[str, Any]]:
        """Return the JSON lines of a state file (empty when it does not exist)."""
        text = self.state_text(path) or ""
        return [json.loads(line) for line in text.splitlines()]


def write_files(repo: Path, files: Mapping[str, str | None], *, append: bool = False) -> None:
    """Write (or append to) files of a working tree; ``None`` deletes the file."""
    for name, text in files.items():
        target = repo / name
        if text is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)


def make_project(
    tmp_path: Path,
    fake: FakeGitHub,
    *,
    files: Mapping[str, str] | None = None,
    append: Mapping[str, str] | None = None,
) -> Project:
    """Return a project whose main holds the example, with ``files`` and ``append`` laid over."""
    origin = make_origin(tmp_path)
    author = clone(origin, tmp_path / "author")
    shutil.copytree(ROOT / "schedules", author / "schedules")
    shutil.copytree(ROOT / ".github" / "workflows", author / ".github" / "workflows")
    for name in ("requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, author / name)
    write_files(author, append or {}, append=True)
    write_files(author, files or {})
    git(author, "add", "--all")
    git(author, "commit", "--quiet", "-m", "The scheduler and its example")
    git(author, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    return Project(origin, author, tmp_path / "runs", fake.url)


def smoke_project(tmp_path: Path, fake: FakeGitHub) -> tuple[Project, datetime]:
    """Return the example plus a wave due three minutes ago, and that due instant."""
    due = (datetime.now(UTC) - timedelta(minutes=3)).replace(second=0, microsecond=0)
    wave = (
        f"video: smoke-01\ntype: simultaneous\nat: {due:%Y-%m-%dT%H:%M:%SZ}\n"
        "channels: [smoke-yt, smoke-li]\n"
    )
    project = make_project(
        tmp_path,
        fake,
        files={"schedules/waves/smoke.yaml": wave},
        append={"schedules/channels.yaml": SMOKE_CHANNELS, "schedules/videos.yaml": SMOKE_VIDEOS},
    )
    return project, due


def repository_payload() -> dict[str, Any]:
    """Return the ``repository`` object of an event."""
    return {"full_name": REPOSITORY, "name": "scheduler", "default_branch": "main"}


def branch_event(project: Project, name: str, **payload: Any) -> Event:
    """Return an event of ``name`` on origin's main (``ref`` may be overridden in payload)."""
    ref = payload.pop("ref", "refs/heads/main")
    body = {"repository": repository_payload(), "sender": {"login": "jane"}, **payload}
    if name == "workflow_dispatch":
        body["ref"] = ref
    return Event(name, body, ref, project.main_sha())


def schedule_event(project: Project, cron: str) -> Event:
    """Return a cron run on origin's main: GitHub's schedule payload is the cron line alone.

    It carries no ``repository`` object, so ``github.event.repository.default_branch`` is
    null in scheduled runs.
    """
    return Event("schedule", {"schedule": cron}, "refs/heads/main", project.main_sha())


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGitHub]:
    """Yield a fake GitHub with this repository and the publisher; git isolated for the test."""
    isolate_git_env(monkeypatch, tmp_path)
    with FakeGitHub() as server:
        server.add_repo(REPOSITORY, token=SECRETS["GITHUB_TOKEN"])
        server.add_repo(PUBLISHER, token=SECRETS["SCHEDULER_TOKEN"])
        yield server


def run_steps(job: JobResult) -> list[tuple[str, str, int | None]]:
    """Return (step name, outcome, exit code) of every step, for readable assertions."""
    return [(step.name, step.outcome, step.exit_code) for step in job.steps]


def assert_all_passed(job: JobResult) -> None:
    """Assert the job ran every step and each one succeeded."""
    assert job.result == "success", run_steps(job)
    failing = [
        (s.name, s.exit_code, s.stdout, s.stderr) for s in job.steps if s.outcome != "success"
    ]
    assert failing == []


# --------------------------------------------------------------------------- tick.yml


def ledger_events(project: Project, due: datetime) -> list[tuple[str, str]]:
    """Return (id, event) of the smoke wave's ledger lines on origin's state branch."""
    lines = project.state_lines(f"ledger/{due:%Y-%m}.jsonl")
    return [(line["id"], line["event"]) for line in lines if line["id"].startswith("smoke/")]


def assert_sent_and_recorded(project: Project, fake: FakeGitHub, due: datetime) -> None:
    """Assert run 4242 sent smoke/smoke-yt, put smoke/smoke-li in the outbox, and pushed both."""
    (sent,) = fake.dispatches_to(PUBLISHER)
    assert sent.token == SECRETS["SCHEDULER_TOKEN"]
    assert [p["id"] for p in sent.client_payload["publications"]] == ["smoke/smoke-yt"]
    assert sent.client_payload["run"] == "4242-1"
    assert fake.count("POST", f"/repos/{PUBLISHER}/dispatches") == 1
    assert sorted(ledger_events(project, due)) == [
        ("smoke/smoke-li", "claimed"),
        ("smoke/smoke-li", "dispatched"),
        ("smoke/smoke-yt", "claimed"),
        ("smoke/smoke-yt", "dispatched"),
    ]
    lines = project.state_lines(f"ledger/{due:%Y-%m}.jsonl")
    claims = {(line["run"], line["sha"]) for line in lines if line["event"] == "claimed"}
    assert claims == {("4242-1", project.main_sha())}
    (outbox,) = project.state_lines(f"outbox/{due:%Y-%m}.jsonl")
    assert outbox["repo"] is None
    assert [p["id"] for p in outbox["client_payload"]["publications"]] == ["smoke/smoke-li"]
    authors = git(project.origin, "log", "--format=%an <%ae>", STATE).splitlines()
    assert set(authors) == {f"{BOT} <41898282+{BOT}@users.noreply.github.com>"}


def test_tick_dispatches_what_is_due_records_it_and_sends_nothing_twice(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    project, due = smoke_project(tmp_path, fake)
    event = schedule_event(project, TICK_CRON)

    jobs = run_workflow("tick.yml", event, project.config(4242))

    assert jobs["keep-alive"].result == "skipped", "the weekly job is not this cron's"
    tick = jobs["tick"]
    assert_all_passed(tick)
    assert [s.exit_code for s in tick.steps if s.script] == [0, 0, 0, 0]
    assert_sent_and_recorded(project, fake, due)
    assert "### Scheduler tick" in tick.summary
    assert "**dispatched**: 2" in tick.summary and "`smoke/smoke-yt`" in tick.summary

    again = run_workflow("tick.yml", event, project.config(4243))["tick"]

    assert_all_passed(again)
    assert len(fake.dispatches) == 1, "a second tick sends nothing new"
    assert len(ledger_events(project, due)) == 4
    assert "**dispatched**: 0" in again.summary


def test_tick_fails_the_run_when_a_publication_failed(tmp_path: Path, fake: FakeGitHub) -> None:
    project, due = smoke_project(tmp_path, fake)
    fake.script(PUBLISHER, [404])
    event = branch_event(project, "workflow_dispatch", inputs={})

    tick = run_workflow("tick.yml", event, project.config(5000), only=["tick"])["tick"]

    assert tick.result == "failure"
    assert tick.step("tick").exit_code == 1
    assert [s.outcome for s in tick.steps] == ["success"] * 6 + ["failure"]
    assert fake.dispatches == []
    lines = project.state_lines(f"ledger/{due:%Y-%m}.jsonl")
    assert [(f["id"], f.get("reason")) for f in lines if f["event"] == "failed"] == [
        ("smoke/smoke-yt", "auth")
    ]
    assert "**failed**: 1: `smoke/smoke-yt`" in tick.summary


def test_tick_keep_alive_re_enables_the_scheduled_workflows(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    project = make_project(tmp_path, fake)
    for name in ("tick.yml", "monitor.yml"):
        fake.set_workflow(REPOSITORY, name, state="disabled_inactivity")
    event = schedule_event(project, "17 4 * * 1")

    jobs = run_workflow("tick.yml", event, project.config(6000))

    assert_all_passed(jobs["keep-alive"])
    assert fake.enabled == [(REPOSITORY, "tick.yml"), (REPOSITORY, "monitor.yml")]
    assert jobs["keep-alive"].steps[0].stdout.splitlines() == [
        "re-enabled tick.yml",
        "re-enabled monitor.yml",
    ]
    assert_all_passed(jobs["tick"])
    assert fake.dispatches == []


def test_tick_runs_on_the_default_branch_only(tmp_path: Path, fake: FakeGitHub) -> None:
    project = make_project(tmp_path, fake)
    event = branch_event(project, "workflow_dispatch", inputs={}, ref="refs/heads/feature")

    jobs = run_workflow("tick.yml", event, project.config(6001))

    assert {name: job.result for name, job in jobs.items()} == {
        "tick": "skipped",
        "keep-alive": "skipped",
    }
    assert project.state_text("control.yaml") is None


def result_event(project: Project, sender: str, url: str) -> Event:
    """Return a publisher's ``publication-result`` repository_dispatch for smoke/smoke-yt."""
    result = {"id": "smoke/smoke-yt", "attempt": 1, "result": "published", "url": url}
    return branch_event(
        project,
        "repository_dispatch",
        action="publication-result",
        client_payload={"results": [result]},
        sender={"login": sender},
    )


def test_record_takes_a_reporters_result_from_the_event_file(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    project, due = smoke_project(tmp_path, fake)
    tick = run_workflow("tick.yml", schedule_event(project, TICK_CRON), project.config(4242))[
        "tick"
    ]
    assert_all_passed(tick)
    url = "https://video.example.com/watch/1"

    stranger = run_workflow(
        "record.yml", result_event(project, "mallory", url), project.config(4300)
    )
    reporter = run_workflow(
        "record.yml", result_event(project, "acme-publisher-bot", url), project.config(4301)
    )

    refused = stranger["record"]
    assert (refused.result, refused.steps[-1].exit_code) == ("failure", 1)
    assert "'mallory' is not among the reporters" in refused.steps[-1].stderr
    assert_all_passed(reporter["record"])
    published = [
        (line["id"], line.get("url"), line.get("actor"))
        for line in project.state_lines(f"ledger/{due:%Y-%m}.jsonl")
        if line["event"] == "published"
    ]
    assert published == [("smoke/smoke-yt", url, "acme-publisher-bot")]


def monitor_event(project: Project) -> Event:
    """Return monitor.yml's hourly cron run."""
    return schedule_event(project, "41 * * * *")


@pytest.mark.parametrize(
    ("tick_state", "exit_code"),
    [
        pytest.param("active", "0", id="all-well"),
        pytest.param("disabled_manually", "1", id="tick-disabled"),
    ],
)
def test_monitor_checks_online_and_hands_the_verdict_to_the_issue_step(
    tmp_path: Path, fake: FakeGitHub, tick_state: str, exit_code: str
) -> None:
    project = make_project(tmp_path, fake)
    recent = (datetime.now(UTC) - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.set_workflow(REPOSITORY, "tick.yml", state=tick_state, runs=[{"created_at": recent}])

    job = run_workflow("monitor.yml", monitor_event(project), project.config(12000))["monitor"]

    assert_all_passed(job)
    check = job.step("check")
    assert check.outputs == {"exit-code": exit_code}
    assert fake.count("GET", f"/repos/{REPOSITORY}/actions/workflows/tick.yml") == 1
    assert check.stdout.strip() in job.summary
    issue_step = job.steps[-1]
    assert issue_step.action == "actions/github-script"
    assert issue_step.env["EXIT_CODE"] == exit_code


# --------------------------------------------------------------------------- validate.yml


def open_pull_request(
    project: Project, number: int, files: Mapping[str, str | None], *, head_repo: str = REPOSITORY
) -> Event:
    """Push a branch changing ``files`` and GitHub's test merge commit; return the event."""
    base = project.main_sha()
    author = project.author
    git(author, "checkout", "--quiet", "-B", f"change-{number}", base)
    write_files(author, files)
    git(author, "add", "--all")
    git(author, "commit", "--quiet", "-m", f"Change {number}")
    head = git(author, "rev-parse", "HEAD")
    git(author, "push", "--quiet", "origin", f"HEAD:refs/heads/change-{number}")
    git(author, "checkout", "--quiet", "--detach", base)
    git(author, "merge", "--quiet", "--no-ff", "-m", f"Merge {head} into {base}", head)
    merge = git(author, "rev-parse", "HEAD")
    git(author, "push", "--quiet", "origin", f"HEAD:refs/pull/{number}/merge")
    pull = {
        "number": number,
        "base": {"ref": "main", "sha": base, "repo": {"full_name": REPOSITORY}},
        "head": {"ref": f"change-{number}", "sha": head, "repo": {"full_name": head_repo}},
    }
    payload = {"number": number, "pull_request": pull, "repository": repository_payload()}
    return Event("pull_request", payload, f"refs/pull/{number}/merge", merge)


ENCORE = "video: recap\ntype: simultaneous\nat: 2031-01-15T12:00:00Z\nchannels: [li-corp]\n"
CLASH = "video: recap\ntype: simultaneous\nat: 2030-12-02T17:10:00Z\nchannels: [tiktok-fr]\n"


def test_validate_passes_a_valid_change_and_plans_it(tmp_path: Path, fake: FakeGitHub) -> None:
    project = make_project(tmp_path, fake)
    event = open_pull_request(project, 7, {"schedules/waves/encore.yaml": ENCORE})

    jobs = run_workflow("validate.yml", event, project.config(7000))

    validate = jobs["validate"]
    assert_all_passed(validate)
    assert validate.step("changes").outputs == {"relevant": "true"}
    assert validate.step("base").outputs == {"sha": project.main_sha()}
    plan = validate.step("plan").outputs["markdown"]
    assert "`encore/li-corp`" in plan and "1 added" in plan
    assert plan.strip() in validate.summary
    assert validate.outputs["validation"] == "success"
    assert validate.outputs["plan"] == plan
    assert validate.step("validate").annotations == []
    (comment_step,) = jobs["comment"].steps
    assert comment_step.action == "actions/github-script"
    assert comment_step.env["RELEVANT"] == "true"
    assert comment_step.env["VALIDATION"] == "success"
    assert comment_step.env["PLAN"] == plan
    assert comment_step.env["RUN_URL"] == f"https://github.com/{REPOSITORY}/actions/runs/7000"
    assert validate.workspace is not None
    credentials = git(validate.workspace, "config", "--local", "--list")
    assert "extraheader" not in credentials, "the checkout's credentials were dropped"


def test_validate_fails_an_overlap_with_annotations_and_still_plans(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    project = make_project(tmp_path, fake)
    event = open_pull_request(project, 8, {"schedules/waves/clash.yaml": CLASH})

    jobs = run_workflow("validate.yml", event, project.config(8000))

    validate = jobs["validate"]
    assert validate.result == "failure"
    step = validate.step("validate")
    assert (step.outcome, step.exit_code) == ("failure", 1)
    (annotation,) = step.annotations
    assert annotation.level == "error"
    assert annotation.properties["file"] == "schedules/waves/clash.yaml"
    assert annotation.properties["line"] == "4"
    assert "within 30m" in annotation.message
    plan = validate.step("plan")
    assert plan.outcome != "skipped", "the plan runs after a failed validation"
    assert "`clash/tiktok-fr`" in plan.outputs["markdown"]
    assert "clash.yaml" in validate.summary
    comment = jobs["comment"]
    assert comment.result == "success", "the comment reports a failed validation too"
    assert comment.steps[0].env["VALIDATION"] == "failure"


def test_validate_reads_the_ledger_from_the_state_branch(tmp_path: Path, fake: FakeGitHub) -> None:
    project, _ = smoke_project(tmp_path, fake)
    tick = run_workflow("tick.yml", schedule_event(project, TICK_CRON), project.config(4242))
    assert_all_passed(tick["tick"])
    again = "video: smoke-01\ntype: simultaneous\nat: 2031-02-01T12:00:00Z\nchannels: [smoke-yt]\n"
    moved = {"schedules/waves/smoke.yaml": None, "schedules/waves/again.yaml": again}
    event = open_pull_request(project, 11, moved)

    validate = run_workflow("validate.yml", event, project.config(11000))["validate"]

    step = validate.step("validate")
    assert step.exit_code == 1
    messages = [(a.properties.get("file"), a.message) for a in step.annotations]
    assert any(
        file == "schedules/waves/again.yaml" and "'smoke-01' is already published" in text
        for file, text in messages
    ), messages
    assert not any("smoke.yaml:" in text for _, text in messages), "known from the ledger only"


@pytest.mark.parametrize(
    ("head_repo", "comment"),
    [
        pytest.param(REPOSITORY, "success", id="branch-of-this-repository"),
        pytest.param("someone/fork", "skipped", id="fork"),
    ],
)
def test_validate_exits_quickly_when_nothing_it_reads_changed(
    tmp_path: Path, fake: FakeGitHub, head_repo: str, comment: str
) -> None:
    project = make_project(tmp_path, fake)
    event = open_pull_request(project, 9, {"docs/notes.md": "notes\n"}, head_repo=head_repo)

    jobs = run_workflow("validate.yml", event, project.config(9000))

    validate = jobs["validate"]
    assert validate.result == "success"
    assert validate.step("changes").outputs == {"relevant": "false"}
    ran = [step.name for step in validate.ran()]
    assert ran == [
        "Check out the change with its history",
        "Fetch the state branch (the ledger's history)",
        "Drop the checkout's credentials",
        "Find the base of the change",
        "Did the change touch the schedules or the scheduler?",
    ]
    assert "nothing to validate" in validate.summary
    assert validate.outputs == {"relevant": "false", "validation": "skipped", "plan": ""}
    assert jobs["comment"].result == comment


def test_validate_checks_a_merge_queue_entry_against_its_base(
    tmp_path: Path, fake: FakeGitHub
) -> None:
    project = make_project(tmp_path, fake)
    base = project.main_sha()
    pull = open_pull_request(project, 10, {"schedules/waves/clash.yaml": CLASH})
    queue_ref = f"refs/heads/gh-readonly-queue/main/pr-10-{base}"
    git(project.origin, "update-ref", queue_ref, pull.sha)
    group = {
        "head_ref": queue_ref,
        "head_sha": pull.sha,
        "base_ref": "refs/heads/main",
        "base_sha": base,
    }
    payload = {"merge_group": group, "repository": repository_payload()}
    event = Event("merge_group", payload, queue_ref, pull.sha)

    jobs = run_workflow("validate.yml", event, project.config(10000))

    validate = jobs["validate"]
    assert validate.step("base").outputs == {"sha": base}
    assert validate.step("validate").exit_code == 1
    (annotation,) = validate.step("validate").annotations
    assert annotation.properties["file"] == "schedules/waves/clash.yaml"
    assert jobs["comment"].result == "skipped", "a merge queue entry has no pull request"


# --------------------------------------------------------------------------- control.yml


def control_event(project: Project, selector: str, reason: str = "", until: str = "") -> Event:
    """Return a workflow_dispatch of control.yml pausing by ``selector``."""
    inputs = {"action": "pause", "selector": selector, "reason": reason, "until": until}
    return branch_event(project, "workflow_dispatch", inputs=inputs)


def test_control_pauses_a_channel_and_records_the_actor(tmp_path: Path, fake: FakeGitHub) -> None:
    project = make_project(tmp_path, fake)
    event = control_event(project, "--channel yt-main", "account under review")

    job = run_workflow("control.yml", event, project.config(10000, actor="jane"))["control"]

    assert_all_passed(job)
    control = yaml.safe_load(project.state_text("control.yaml") or "")
    entry = control["channels"]["yt-main"]
    assert entry["paused"] is True
    assert entry["reason"] == "account under review"
    assert entry["actor"] == "jane"
    assert "### scheduler pause, run by @jane" in job.summary
    assert "scheduler pause --channel=yt-main --reason=account\\ under\\ review" in job.summary

    resume = {"action": "resume", "selector": "--channel=yt-main", "reason": "", "until": ""}
    event = branch_event(project, "workflow_dispatch", inputs=resume)
    again = run_workflow("control.yml", event, project.config(10001, actor="joe"))["control"]

    assert_all_passed(again)
    control = yaml.safe_load(project.state_text("control.yaml") or "")
    assert "yt-main" not in (control.get("channels") or {}), control
    assert int(git(project.origin, "rev-list", "--count", STATE)) == 2


HOSTILE = [
    pytest.param("; rm -rf /", id="semicolon-rm"),
    pytest.param("$(touch pwned)", id="command-substitution"),
    pytest.param("--channel $(touch pwned)", id="substitution-as-value"),
    pytest.param("--channel yt-main;touch pwned", id="semicolon-in-value"),
    pytest.param("--channel `touch pwned`", id="backticks"),
]

GUARD = '#!/bin/sh\necho "$(basename "$0") $*" >> "$GUARD_LOG"\n'


@pytest.mark.parametrize("selector", HOSTILE)
def test_control_refuses_a_hostile_selector_without_running_anything(
    tmp_path: Path, fake: FakeGitHub, selector: str
) -> None:
    project = make_project(tmp_path, fake)
    guard = tmp_path / "guard"
    guard.mkdir()
    for command in ("rm", "touch"):
        (guard / command).write_text(GUARD, encoding="utf-8")
        (guard / command).chmod(0o755)
    log = tmp_path / "guard.log"
    config = project.config(11000, tool_dirs=[guard], machine_env={"GUARD_LOG": str(log)})

    job = run_workflow("control.yml", control_event(project, selector, "x"), config)["control"]

    step = job.step("control")
    assert (job.result, step.exit_code) == ("failure", 2)
    assert step.stdout.startswith("::error::")
    assert not log.exists(), log.read_text()
    assert list(tmp_path.rglob("pwned")) == []
    assert job.summary == "", "nothing was run, so nothing was reported"
    assert project.state_text("control.yaml") is None
    assert not has_ref(project.origin, f"refs/heads/{STATE}")


JOB_CONDITIONS = [
    pytest.param("tick.yml", "tick", "schedule", "3-59/5 * * * *", True, id="tick-cron"),
    pytest.param("tick.yml", "keep-alive", "schedule", "3-59/5 * * * *", False, id="no-keep-alive"),
    pytest.param("tick.yml", "keep-alive", "schedule", "17 4 * * 1", True, id="weekly-keep-alive"),
    pytest.param("tick.yml", "keep-alive", "dispatch", "main", True, id="keep-alive-by-hand"),
    pytest.param("tick.yml", "tick", "dispatch", "feature", False, id="tick-off-main"),
    pytest.param("monitor.yml", "monitor", "schedule", "41 * * * *", True, id="monitor-cron"),
    pytest.param("monitor.yml", "monitor", "dispatch", "feature", False, id="monitor-off-main"),
    pytest.param("pages.yml", "build", "schedule", "27 * * * *", True, id="pages-cron"),
    pytest.param("pages.yml", "build", "dispatch", "feature", False, id="pages-off-main"),
    pytest.param("control.yml", "control", "dispatch", "feature", False, id="control-off-main"),
]


@pytest.mark.parametrize(("name", "job", "kind", "detail", "runs"), JOB_CONDITIONS)
def test_jobs_run_from_the_default_branch_on_cron_and_by_hand(
    name: str, job: str, kind: str, detail: str, runs: bool
) -> None:
    doc = read_workflow((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    if kind == "schedule":
        github: dict[str, Any] = {"event_name": "schedule", "ref_name": "main"}
        github["event"] = {"schedule": detail}
    else:
        github = {"event_name": "workflow_dispatch", "ref_name": detail}
        github["event"] = {"repository": repository_payload(), "inputs": {}}
    contexts = {"github": github, "vars": {"SCHEDULER_PAGES": "true"}, "needs": {}}
    functions = {"success": lambda: True, "cancelled": lambda: False}
    assert condition_holds(doc["jobs"][job].get("if"), Scope(contexts, functions)) is runs


# --------------------------------------------------------------------------- the runner itself

CONTEXTS: dict[str, Any] = {
    "github": {"event_name": "pull_request", "ref_name": "main", "event": {"schedule": ""}},
    "steps": {"changes": {"outputs": {"relevant": "true"}, "outcome": "success"}},
    "inputs": {"action": "pause"},
}


def scope(*, failed: bool = False) -> Scope:
    """Return a scope over CONTEXTS whose previous steps failed or not."""
    functions = {
        "success": lambda: not failed,
        "failure": lambda: failed,
        "cancelled": lambda: False,
        "always": lambda: True,
    }
    return Scope(CONTEXTS, functions)


@pytest.mark.parametrize(
    ("condition", "failed", "expected"),
    [
        pytest.param("steps.changes.outputs.relevant == 'true'", False, True, id="bare"),
        pytest.param(
            "steps.changes.outputs.relevant == 'true'", True, False, id="implicit-success"
        ),
        pytest.param(
            "${{ !cancelled() && github.ref_name == 'main' }}", True, True, id="not-cancelled"
        ),
        pytest.param("github.event_name == 'PULL_REQUEST'", False, True, id="case-insensitive"),
        pytest.param(
            "github.event.schedule == 'x' || inputs.action != 'pause'", False, False, id="or"
        ),
        pytest.param("(github.nothing == null) && always()", True, True, id="parens-and-null"),
        pytest.param(None, True, False, id="default-is-success"),
    ],
)
def test_conditions_follow_github_semantics(
    condition: str | None, failed: bool, expected: bool
) -> None:
    assert condition_holds(condition, scope(failed=failed)) is expected


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("contains(github.ref_name, 'm')", id="unused-function"),
        pytest.param("github.event['schedule']", id="index"),
        pytest.param("github.run_number > 1", id="comparison"),
        pytest.param("matrix.os == 'x'", id="unknown-context"),
        pytest.param("github.ref_name == 'a' &&", id="truncated"),
        pytest.param("github.'ref_name'", id="quoted-property"),
    ],
)
def test_an_unsupported_expression_fails_loudly(expression: str) -> None:
    with pytest.raises(UnsupportedError):
        evaluate(expression, scope())


def test_interpolation_and_file_commands() -> None:
    text = "${{ github.ref_name }}/${{ steps.changes.outputs.relevant }}"
    assert interpolate(text, scope()) == "main/true"
    with pytest.raises(UnsupportedError):
        interpolate("${{ github.event }} as text", scope())
    written = "a=1\nmarkdown<<EOF\nline one\n\nb=not a key\nEOF\nc=x=y\n"
    assert parse_file_command(written, "GITHUB_OUTPUT") == {
        "a": "1",
        "markdown": "line one\n\nb=not a key",
        "c": "x=y",
    }
    with pytest.raises(UnsupportedError):
        parse_file_command("markdown<<EOF\nnever closed\n", "GITHUB_OUTPUT")


def test_annotations_are_read_back_unescaped() -> None:
    step_output = "::error file=a%2Cb.yaml,line=3::bad%0Athing\nplain\n::warning::w\n"
    job = JobResult("j", "success")
    job.steps.append(StepResult("s", "s", "success", stdout=step_output))
    assert job.step("s").annotations == [
        Annotation("error", {"file": "a,b.yaml", "line": "3"}, "bad\nthing"),
        Annotation("warning", {}, "w"),
    ]
