"""``scheduler status``: counts, the next publications, open problems with advice, the
dead-cron alarm, stalled queues, a tampered ledger, and ``--online`` against the fake GitHub."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.health import workflow_troubles
from scheduler.ledger import encode_lines
from scheduler.status import STATUSES
from tests import fakegithub
from tests.fakegithub import FakeGitHub
from tests.gitrepos import RepoPair, isolate_git_env
from tests.tick_helpers import STATE_REF, Project, Schedule, make_project, utc, wave

fake_github = fakegithub.fake_github

# Monday 2 December 2030. yt-main posts its queue on Mondays at 18:00 UTC, weekly.
CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt}
    slots:
      - days: [mon]
        times: ["18:00"]
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
    lead: 10m
  ig-fr:
    platform: instagram
    dispatch: {repo: acme/social}
    confirm_within: 30m
  x-us:
    platform: x
"""
QUEUE = "start: 2030-12-02\nvideos:\n  - recap\n  - bts-01\n"
TEASER = ["teaser/ig-fr", "teaser/tiktok-fr", "teaser/x-us", "teaser/yt-main"]
UNSET = (
    "GITHUB_ACTOR",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GITHUB_RUN_ID",
    "GITHUB_STEP_SUMMARY",
    "SCHEDULER_STATE_REF",
    "SCHEDULER_CLOCK_OVERRIDE",
)


def schedule() -> Schedule:
    """Return the teaser (2 Dec 17:00 on four channels) and yt-main's weekly queue."""
    teaser = wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr", "ig-fr", "x-us"])
    base = Schedule.base(channels=CHANNELS).with_wave("teaser", teaser)
    return Schedule({**base.texts, "schedules/queues/yt-main.yaml": QUEUE})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Return a project holding :func:`schedule`, made once per module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return make_project(monkeypatch, tmp_path_factory.mktemp("template"), schedule())


@pytest.fixture
def project(template: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """Return a copy of :func:`template` in ``tmp_path``."""
    isolate_git_env(monkeypatch, tmp_path)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    old = template.pair.origin.parent
    shutil.copytree(old, tmp_path, dirs_exist_ok=True, symlinks=True)
    config = tmp_path / "clone" / ".git" / "config"
    config.write_text(config.read_text().replace(str(old), str(tmp_path)))
    pair = RepoPair(tmp_path / "origin.git", tmp_path / "clone")
    return Project(pair, dict(template.env))


def tick(project: Project, now: str) -> dict[str, list[str]]:
    """Run an outbox tick at ``now`` and return its JSON report."""
    result = project.cli("tick", "--backend", "outbox", "--format", "json", now=now)
    assert result.exit_code in (0, 1), result.output
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report


def status(project: Project, now: str, *args: str, **env: str) -> Result:
    """Run ``status ARGS`` at ``now``."""
    return project.cli("status", *args, now=now, env=env)


def problems(project: Project, now: str, **env: str) -> list[dict[str, str]]:
    """Return the problems of ``status --format json`` at ``now``."""
    result = status(project, now, "--format", "json", **env)
    assert result.exit_code == 0, result.output
    found: list[dict[str, str]] = json.loads(result.stdout)["problems"]
    return found


def kinds(project: Project, now: str) -> dict[str, str]:
    """Return subject -> kind of every problem at ``now``."""
    return {p["subject"]: p["kind"] for p in problems(project, now)}


def append_ledger(project: Project, lines: list[dict[str, Any]], *, rewrite: bool = False) -> None:
    """Append ``lines`` to (or with ``rewrite``, replace) ledger/2030-12.jsonl on the state branch."""
    repo = GitRepo.find(project.root)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=False)
    state = store.load()
    current = b"" if rewrite else state.files.get("ledger/2030-12.jsonl", b"")
    store.save(state, {"ledger/2030-12.jsonl": current + encode_lines(lines)}, "by hand")


def line(pub_id: str, event: str, at: str, **extra: Any) -> dict[str, Any]:
    """Return a ledger line of ``pub_id`` (due 2 Dec 17:00)."""
    channel = pub_id.split("/")[-1]
    return {
        "id": pub_id, "event": event, "at": stamp(at), "due": "2030-12-02T17:00:00Z",
        "channel": channel, "video": "teaser-01", **extra,
    }  # fmt: skip


def stamp(text: str) -> str:
    """Return ``17:01`` (on 2 Dec) or a full time as the ledger writes it."""
    moment: datetime = utc(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- counts, next


def test_json_shape_counts_and_next(project: Project) -> None:
    result = status(project, "2030-12-01T12:00:00Z", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["now", "counts", "next", "problems"]
    assert data["now"] == "2030-12-01T12:00:00Z"
    assert list(data["counts"]) == list(STATUSES)
    assert data["counts"]["pending"] == 6 and sum(data["counts"].values()) == 6
    assert data["next"] == [
        {"id": "teaser/ig-fr", "due": "2030-12-02T17:00:00Z", "status": "pending"},
        {"id": "teaser/tiktok-fr", "due": "2030-12-02T17:00:00Z", "status": "pending"},
        {"id": "teaser/x-us", "due": "2030-12-02T17:00:00Z", "status": "pending"},
        {"id": "teaser/yt-main", "due": "2030-12-02T17:00:00Z", "status": "pending"},
        {"id": "queue/yt-main/recap", "due": "2030-12-02T18:00:00Z", "status": "pending"},
        {"id": "queue/yt-main/bts-01", "due": "2030-12-09T18:00:00Z", "status": "pending"},
    ]
    assert data["problems"] == []


def test_text_counts_next_and_no_problems(project: Project) -> None:
    tick(project, "17:01")
    result = status(project, "17:10", "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "status at 2030-12-02 17:10 +00:00: pending 2, executing 1, completed 3",
        "next:",
        "  2030-12-02 18:00 +00:00  queue/yt-main/recap  (pending)",
        "  2030-12-09 18:00 +00:00  queue/yt-main/bts-01  (pending)",
        "no problems",
    ]


def test_a_healthy_repository_is_quiet_all_week(project: Project) -> None:
    for now in ("16:51", "17:01"):
        tick(project, now)
    ok = project.cli("record", "teaser/ig-fr", "--result", "published", now="17:20")
    assert ok.exit_code == 0, ok.output
    tick(project, "18:01")
    for now in ("18:30", "2030-12-04T12:00:00Z", "2030-12-09T17:00:00Z"):
        result = status(project, now, "--check")
        assert result.exit_code == 0, (now, result.stdout)
        assert result.stdout.endswith("no problems\n")


# --------------------------------------------------------------------------- dead cron


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("17:34", {}, id="34m-quiet"),
        pytest.param("17:36", {"teaser/tiktok-fr": "dead-cron"}, id="lead-counts"),
        pytest.param(
            "17:46",
            {f"teaser/{c}": "dead-cron" for c in ("ig-fr", "tiktok-fr", "x-us", "yt-main")},
            id="46m-all",
        ),
        pytest.param(
            "18:30",
            {
                **{f"teaser/{c}": "dead-cron" for c in ("ig-fr", "tiktok-fr", "x-us", "yt-main")},
                "schedules/": "files",  # pending and past max_lateness: validate's timing error
            },
            id="past-max-lateness",
        ),
    ],
)
def test_a_dead_cron_is_caught(project: Project, now: str, expected: dict[str, str]) -> None:
    assert kinds(project, now) == expected
    result = status(project, now, "--check")
    assert result.exit_code == (1 if expected else 0)


def test_dead_cron_messages(project: Project) -> None:
    found = {p["subject"]: p["message"] for p in problems(project, "17:46")}
    assert found["teaser/x-us"] == "still unclaimed 46m after it became due: is tick.yml running?"
    assert (
        found["teaser/tiktok-fr"] == "still unclaimed 56m after it became due: is tick.yml running?"
    )
    late = {p["subject"]: p["message"] for p in problems(project, "19:00")}
    assert late["teaser/x-us"] == (
        "never claimed, 2h00m after it became due, and now past max_lateness: is tick.yml running?"
    )


def test_a_released_publication_left_unclaimed_is_a_dead_cron(project: Project) -> None:
    tick(project, "18:30")  # every teaser publication missed
    retry = project.cli("retry", "teaser/x-us", "--at", "2030-12-02T19:00:00Z", now="18:40")
    assert retry.exit_code == 0, retry.output
    assert "teaser/x-us" not in kinds(project, "19:10")
    assert kinds(project, "19:46")["teaser/x-us"] == "dead-cron"


# --------------------------------------------------------------------------- problems


def test_failed_unknown_and_unconfirmed_appear_with_advice(project: Project) -> None:
    tick(project, "17:01")
    append_ledger(
        project,
        [
            line("teaser/x-us", "publish_failed", "17:05", attempt=1, reason="expired\n@everyone"),
            line("teaser/yt-main", "unknown", "17:05", attempt=1, reason="timeout"),
        ],
    )
    found = {p["subject"]: (p["kind"], p["message"]) for p in problems(project, "17:32")}
    assert found["teaser/x-us"] == (
        "failed",
        "due 2030-12-02T17:00:00Z: failed (expired @everyone); fix the cause, then "
        "`scheduler retry teaser/x-us`",
    )
    assert found["teaser/yt-main"][0] == "unknown"
    assert (
        "check the receiver, then `scheduler retry teaser/yt-main` only if it did not go out"
        in (found["teaser/yt-main"][1])
    )
    assert found["teaser/ig-fr"] == (
        "unconfirmed",
        "due 2030-12-02T17:00:00Z: dispatched but not confirmed within confirm_within; check the "
        "receiver, then `scheduler record teaser/ig-fr --result published --url URL` "
        "(or --result failed)",
    )
    text = status(project, "17:32").stdout
    assert "problems (3):" in text
    assert (
        "  failed        teaser/x-us: due 2030-12-02T17:00:00Z: failed (expired @everyone)" in text
    )
    assert status(project, "17:32", "--check").exit_code == 1


def test_an_executing_publication_within_confirm_within_is_no_problem(project: Project) -> None:
    tick(project, "17:01")
    assert "teaser/ig-fr" not in kinds(project, "17:30")
    assert kinds(project, "17:32")["teaser/ig-fr"] == "unconfirmed"


def test_a_retryable_failure_says_later_ticks_retry(project: Project) -> None:
    append_ledger(
        project,
        [
            line("teaser/x-us", "claimed", "17:01", attempt=1),
            line(
                "teaser/x-us",
                "failed",
                "17:01",
                attempt=1,
                reason="connection refused",
                retryable=True,
            ),
        ],
    )
    [found] = [p for p in problems(project, "17:02") if p["subject"] == "teaser/x-us"]
    assert found["message"].endswith("later ticks retry by themselves (attempt 1 of 3)")


def test_missed_appears_with_advice(project: Project) -> None:
    tick(project, "17:01")
    append_ledger(project, [line("teaser/x-us", "missed", "2030-12-02T18:20:00Z", reason="late")])
    found = {p["subject"]: p for p in problems(project, "18:30")}
    assert found["teaser/x-us"]["kind"] == "missed"
    assert "`scheduler retry teaser/x-us --at T`" in found["teaser/x-us"]["message"]


@pytest.mark.parametrize(
    ("change", "cause", "advice"),
    [
        pytest.param(
            {
                "schedules/videos.yaml": "videos:\n  teaser-01: {title: T, url: 'https://x.example/t', ready: false}\n"
            },
            "video-not-ready",
            "set ready: true in videos.yaml",
            id="video-not-ready",
        ),
    ],
)
def test_held_publications_appear_with_advice(
    project: Project, change: dict[str, str], cause: str, advice: str
) -> None:
    texts = dict(schedule().texts)
    texts["schedules/waves/teaser.yaml"] = wave("teaser-01", "2030-12-02T17:00:00Z", ["x-us"])
    texts.pop("schedules/queues/yt-main.yaml")
    project.publish(Schedule({**texts, **change}))
    tick(project, "17:01")
    [found] = problems(project, "17:05")
    assert (found["kind"], found["subject"]) == ("held", "teaser/x-us")
    assert found["message"].startswith(f"held ({cause}) since 2030-12-02T17:01:00Z: ")
    assert advice in found["message"]


def test_a_paused_publication_that_came_due_is_held_with_advice(project: Project) -> None:
    paused = project.cli("pause", "--channel", "x-us", "--reason", "review", now="16:00")
    assert paused.exit_code == 0, paused.output
    assert "teaser/x-us" not in kinds(project, "16:30")  # not due yet: nothing held
    tick(project, "17:01")
    [found] = [p for p in problems(project, "17:05") if p["subject"] == "teaser/x-us"]
    assert found == {
        "kind": "held",
        "subject": "teaser/x-us",
        "message": "held (paused) since 2030-12-02T17:01:00Z: it is paused in control.yaml; "
        "`scheduler resume` with the same selectors lifts it",
    }
    assert json.loads(status(project, "17:05", "--format", "json").stdout)["counts"]["paused"] == 1


# --------------------------------------------------------------------------- stalled queues


def queue_only(project: Project) -> None:
    """Keep only yt-main's queue in the schedule."""
    project.publish(schedule().without("schedules/waves/teaser.yaml"))


def test_a_stalled_queue_is_reported(project: Project) -> None:
    queue_only(project)
    found = {p["subject"]: p for p in problems(project, "2030-12-04T01:00:00Z")}
    stalled = found["schedules/queues/yt-main.yaml"]
    assert stalled["kind"] == "stalled-queue"
    assert stalled["message"] == (
        "2 item(s) waiting and nothing dispatched since 2030-12-02T00:00:00Z, though the slot at "
        "2030-12-02T18:00:00Z passed unused: is tick.yml running?"
    )
    assert status(project, "2030-12-04T01:00:00Z", "--check").exit_code == 1


def test_a_queue_is_not_stalled_before_two_days(project: Project) -> None:
    queue_only(project)
    assert "schedules/queues/yt-main.yaml" not in kinds(project, "2030-12-03T23:00:00Z")


def test_a_weekly_queue_between_its_slots_is_not_stalled(project: Project) -> None:
    queue_only(project)
    tick(project, "18:01")  # recap goes out; bts-01 waits for next Monday
    for now in ("2030-12-05T12:00:00Z", "2030-12-09T17:50:00Z"):
        result = status(project, now, "--check")
        assert result.exit_code == 0, (now, result.stdout)
    assert kinds(project, "2030-12-10T12:00:00Z")["schedules/queues/yt-main.yaml"] == (
        "stalled-queue"
    )


# --------------------------------------------------------------------------- state


def test_a_tampered_ledger_is_reported(project: Project) -> None:
    tick(project, "17:01")
    rows = project.rows()
    rows[0]["at"] = "2030-12-02T16:00:00Z"  # a vouched line edited by hand
    append_ledger(project, rows, rewrite=True)
    found = {p["kind"]: p for p in problems(project, "17:05")}
    assert found["state"]["subject"] == "scheduler-state"
    assert found["state"]["message"].startswith(
        "ledger-tampered: lines vouched for by the scheduler's last commit were changed or "
        "removed in ledger/2030-12.jsonl"
    )
    assert status(project, "17:05", "--check").exit_code == 1


def test_appending_to_the_ledger_is_no_tampering(project: Project) -> None:
    tick(project, "17:01")
    append_ledger(project, [line("teaser/x-us", "published", "17:03", attempt=1)])
    assert "state" not in {p["kind"] for p in problems(project, "17:05")}


def test_invalid_schedule_files_are_a_problem(project: Project) -> None:
    (project.root / "schedules" / "waves" / "broken.yaml").write_text("video: [\n")
    found = {p["kind"]: p for p in problems(project, "2030-12-01T12:00:00Z")}
    assert found["files"]["message"] == "1 validation error(s): run scheduler validate"


# --------------------------------------------------------------------------- --online


REPO = "acme/campaign"
GITHUB_TOKEN = "ghs-this-repository-token-0123456789"


def online(project: Project, fake: FakeGitHub, now: str, **env: str) -> Result:
    """Run ``status --check --online --format json`` against ``fake``."""
    settings = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": GITHUB_TOKEN}
    return status(project, now, "--check", "--online", "--format", "json", **{**settings, **env})


def workflow_messages(result: Result) -> list[str]:
    """Return the messages of the ``workflow`` problems in a JSON status."""
    return [p["message"] for p in json.loads(result.stdout)["problems"] if p["kind"] == "workflow"]


@pytest.mark.parametrize(
    ("state", "runs", "expected"),
    [
        pytest.param("active", ["2030-12-01T11:50:00Z"], [], id="enabled-recent"),
        pytest.param(
            "disabled_inactivity",
            ["2030-12-01T11:50:00Z"],
            ["tick.yml is disabled_inactivity: enable it in the Actions tab"],
            id="disabled",
        ),
        pytest.param(
            "active",
            ["2030-12-01T11:39:00Z", "2030-12-01T10:00:00Z"],
            ["tick.yml last ran at 2030-12-01T11:39:00Z, 21m ago"],
            id="silent-21m",
        ),
        pytest.param("active", [], ["tick.yml has never run"], id="never-ran"),
    ],
)
def test_online_asks_the_actions_api(
    project: Project,
    fake_github: FakeGitHub,
    state: str,
    runs: list[str],
    expected: list[str],
) -> None:
    fake_github.add_repo(REPO, token=GITHUB_TOKEN)
    fake_github.set_workflow(REPO, "tick.yml", state=state, runs=[{"created_at": r} for r in runs])
    result = online(project, fake_github, "2030-12-01T12:00:00Z")
    assert result.exit_code == (1 if expected else 0), result.output
    assert workflow_messages(result) == expected
    assert fake_github.count("GET", f"/repos/{REPO}/actions/workflows/tick.yml") == 1


def test_online_with_a_refused_token_is_a_problem(
    project: Project, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo(REPO, token="another-token")
    fake_github.set_workflow(REPO, "tick.yml", runs=[{"created_at": "2030-12-01T11:55:00Z"}])
    result = online(project, fake_github, "2030-12-01T12:00:00Z")
    assert result.exit_code == 1
    [message] = workflow_messages(result)
    assert message.startswith("the Actions API did not answer about tick.yml (401")
    assert GITHUB_TOKEN not in result.output


def test_online_without_a_token_is_a_problem(project: Project, fake_github: FakeGitHub) -> None:
    result = online(project, fake_github, "2030-12-01T12:00:00Z", GITHUB_TOKEN="")
    assert result.exit_code == 1
    assert workflow_messages(result) == [
        "GITHUB_TOKEN is not set: cannot ask the Actions API about tick.yml"
    ]
    assert fake_github.requests == []


def test_online_needs_github_repository(project: Project, fake_github: FakeGitHub) -> None:
    result = online(project, fake_github, "2030-12-01T12:00:00Z", GITHUB_REPOSITORY="")
    assert result.exit_code == 2
    assert "--online needs GITHUB_REPOSITORY" in result.stderr
    assert fake_github.requests == []


@pytest.mark.parametrize(
    ("state", "last_run", "error", "expected"),
    [
        pytest.param("active", "2030-12-01T11:59:00Z", None, [], id="fine"),
        pytest.param(None, None, "no answer", ["no answer"], id="error"),
        pytest.param(
            "active",
            "yesterday",
            None,
            ["tick.yml's last run has an unreadable time 'yesterday'"],
            id="unreadable-time",
        ),
        pytest.param(
            None,
            "2030-12-01T11:59:00Z",
            None,
            ["tick.yml is missing: enable it in the Actions tab"],
            id="no-state",
        ),
    ],
)
def test_workflow_troubles(
    state: str | None, last_run: str | None, error: str | None, expected: list[str]
) -> None:
    found = workflow_troubles(state, last_run, error, utc("2030-12-01T12:00:00Z"))
    assert [t.message for t in found] == expected


def test_a_lifted_pause_left_unclaimed_is_a_dead_cron(project: Project) -> None:
    assert project.cli("pause", "--channel", "x-us", "--reason", "x", now="16:00").exit_code == 0
    tick(project, "17:01")  # teaser/x-us held (paused)
    assert project.cli("resume", "--channel", "x-us", now="17:02").exit_code == 0
    assert "teaser/x-us" not in kinds(project, "17:40")
    assert kinds(project, "17:46")["teaser/x-us"] == "dead-cron"
