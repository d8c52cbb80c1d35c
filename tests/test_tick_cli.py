"""``scheduler tick`` end to end: real git repositories with a bare origin, the real PyGithub
client against the fake GitHub server, the environment a workflow gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import fakegithub
from tests.fakegithub import FakeGitHub
from tests.gitrepos import commit_in_bare, git
from tests.tick_helpers import (
    STATE_REF,
    Project,
    Schedule,
    dispatched_ids,
    make_project,
    posts,
    register_repos,
    wave,
)

fake_github = fakegithub.fake_github

AT = "2030-12-02T17:00:00Z"
CHANNELS = ["yt-main", "tiktok-fr", "li-corp"]
IDS = [f"teaser/{c}" for c in CHANNELS]


def schedule() -> Schedule:
    """Return a wave at 17:00 UTC to a channel of acme/yt, one of acme/social, one outbox channel."""
    return Schedule.base(outbox=True).with_wave("teaser", wave("teaser-01", AT, CHANNELS))


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_github: FakeGitHub) -> Project:
    """Return a project whose main holds :func:`schedule`, dispatching to the fake."""
    register_repos(fake_github)
    return make_project(monkeypatch, tmp_path, schedule(), api_url=fake_github.url)


def state_head(project: Project, where: Path | None = None) -> str | None:
    """Return the sha of the state branch in the clone (or ``where``), None when absent."""
    try:
        return git(where or project.root, "rev-parse", "--verify", "--quiet", STATE_REF)
    except AssertionError:
        return None


def origin_head(project: Project, ref: str = STATE_REF) -> str | None:
    """Return the sha of ``ref`` in origin, None when absent."""
    try:
        return git(project.pair.origin, "rev-parse", "--verify", "--quiet", ref)
    except AssertionError:
        return None


# --------------------------------------------------------------------------- the happy path


def test_a_tick_dispatches_records_and_writes_the_outbox_in_one_commit(
    project: Project, fake_github: FakeGitHub
) -> None:
    result = project.cli("tick", now="17:01")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "dispatched teaser/tiktok-fr -> acme/social (not_before 2030-12-02T17:00:00Z)",
        "dispatched teaser/yt-main -> acme/yt (not_before 2030-12-02T17:00:00Z)",
        "dispatched teaser/li-corp -> outbox (not_before 2030-12-02T17:00:00Z)",
        "3 dispatched (2 request(s)), 0 failed, 0 unknown, 0 missed, 0 newly held",
    ]
    assert dispatched_ids(fake_github) == {"teaser/tiktok-fr": 1, "teaser/yt-main": 1}
    subjects = git(project.root, "log", "--format=%s", STATE_REF).splitlines()
    assert [s.split(" (run ")[0] for s in subjects] == [
        "tick record: dispatched 3",
        "tick claim: claimed 3",
    ]
    changed = git(project.root, "show", "--name-only", "--format=", STATE_REF).splitlines()
    assert changed == ["ledger/2030-12.jsonl", "outbox/2030-12.jsonl"]
    [line] = project.rows("outbox/")
    assert (line["repo"], line["event_type"]) == (None, "publish")
    assert [p["id"] for p in line["client_payload"]["publications"]] == ["teaser/li-corp"]
    dispatched = [r for r in project.rows() if r["event"] == "dispatched"]
    assert {r["id"]: r["backend"] for r in dispatched} == {
        "teaser/tiktok-fr": "github",
        "teaser/yt-main": "github",
        "teaser/li-corp": "outbox",
    }
    trailer = git(project.root, "log", "-1", "--format=%B", STATE_REF)
    assert "Scheduler-Ledger: ledger/2030-12.jsonl 6 " in trailer


def test_backend_outbox_sends_nothing(project: Project, fake_github: FakeGitHub) -> None:
    result = project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01")
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["dispatched"]) == sorted(IDS)
    assert fake_github.requests == []
    repos = sorted(str(r["repo"]) for r in project.rows("outbox/"))
    assert repos == ["None", "acme/social", "acme/yt"]


def test_the_same_tick_twice_sends_nothing_new(project: Project, fake_github: FakeGitHub) -> None:
    assert project.cli("tick", now="17:01").exit_code == 0
    head = state_head(project)
    again = project.cli("tick", "--format", "json", now="17:03")
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {
        "dispatched": [],
        "failed": [],
        "unknown": [],
        "missed": [],
        "held": [],
    }
    assert state_head(project) == head and posts(fake_github) == 2


def test_json_output_has_exactly_the_documented_keys(
    project: Project, fake_github: FakeGitHub
) -> None:
    fake_github.script("acme/social", [401])
    result = project.cli("tick", "--format", "json", now="17:01")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "dispatched": ["teaser/yt-main", "teaser/li-corp"],
        "failed": ["teaser/tiktok-fr"],
        "unknown": [],
        "missed": [],
        "held": [],
    }


# --------------------------------------------------------------------------- faults through the CLI


def test_an_auth_failure_is_retried_by_the_next_tick(
    project: Project, fake_github: FakeGitHub
) -> None:
    fake_github.script("acme/social", [401])
    first = project.cli("tick", now="17:01")
    assert first.exit_code == 1
    assert (
        "failed    teaser/tiktok-fr: auth: POST /repos/acme/social/dispatches: HTTP 401"
        in first.stdout
    )
    second = project.cli("tick", now="17:06")
    assert second.exit_code == 0
    assert dispatched_ids(fake_github) == {"teaser/tiktok-fr": 1, "teaser/yt-main": 1}
    events = [
        (r["event"], r.get("attempt")) for r in project.rows() if r["id"] == "teaser/tiktok-fr"
    ]
    assert events == [("claimed", 1), ("failed", 1), ("claimed", 1), ("dispatched", 1)]


def test_a_missing_scheduler_token_fails_for_auth_naming_the_variable(
    project: Project, fake_github: FakeGitHub
) -> None:
    result = project.cli("tick", now="17:01", SCHEDULER_TOKEN="")
    assert result.exit_code == 1
    assert "SCHEDULER_TOKEN is not set" in result.stdout
    assert fake_github.requests == []
    failed = {r["id"]: r for r in project.rows() if r["event"] == "failed"}
    assert sorted(failed) == ["teaser/tiktok-fr", "teaser/yt-main"]
    assert all(r["reason"] == "auth" and "SCHEDULER_TOKEN" in r["detail"] for r in failed.values())


def test_a_server_error_is_unknown_and_never_resent(
    project: Project, fake_github: FakeGitHub
) -> None:
    fake_github.script("acme/yt", [502])
    first = project.cli("tick", "--format", "json", now="17:01")
    assert first.exit_code == 1 and json.loads(first.stdout)["unknown"] == ["teaser/yt-main"]
    assert project.cli("tick", now="17:30").exit_code == 0
    assert fake_github.count("POST", "/repos/acme/yt/dispatches") == 1


# --------------------------------------------------------------------------- refusals


def test_clock_skew_refuses_to_act(project: Project, fake_github: FakeGitHub) -> None:
    assert project.cli("tick", now="17:01").exit_code == 0
    head = state_head(project)
    project.publish(
        schedule().with_wave("extra", wave("trailer", "2030-12-02T16:50:00Z", ["ig-fr"]))
    )
    skewed = project.cli("tick", now="16:58:59")
    assert skewed.exit_code == 1
    assert (
        "Error: clock-skew: now is 2030-12-02T16:58:59Z but the ledger has an event at 2030-12-02T17:01:00Z"
        in (skewed.stderr)
    )
    assert state_head(project) == head and posts(fake_github) == 2
    within = project.cli("tick", now="16:59:30")  # less than 2 minutes behind: acts
    assert within.exit_code == 0 and "dispatched extra/ig-fr" in within.stdout


def commit_on_state_branch(project: Project, tmp_path: Path, edit: str) -> None:
    """Edit the ledger on the state branch by hand, with an ordinary commit, and push it."""
    tree = tmp_path / "hand"
    git(project.root, "worktree", "add", "--quiet", str(tree), STATE_REF)
    path = tree / "ledger" / "2030-12.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    if edit == "change":
        lines[1] = lines[1].replace('"dispatched"', '"failed"')
    elif edit == "delete":
        del lines[0]
    path.write_text("".join(lines))
    git(tree, "commit", "--quiet", "-am", "fix the ledger by hand")
    git(project.root, "worktree", "remove", "--force", str(tree))


@pytest.mark.parametrize("edit", ["change", "delete"])
@pytest.mark.parametrize("push", [False, True], ids=["local", "push"])
def test_a_tampered_ledger_acts_on_nothing(
    project: Project, fake_github: FakeGitHub, tmp_path: Path, edit: str, push: bool
) -> None:
    only = Schedule.base(outbox=True).with_wave("teaser", wave("teaser-01", AT, ["tiktok-fr"]))
    project.publish(only)
    env = {"SCHEDULER_CLOCK_OVERRIDE": "1"}
    flags = ["--push"] if push else []
    assert project.cli("tick", *flags, now="17:01", env=env).exit_code == 0
    commit_on_state_branch(project, tmp_path, edit)
    if push:
        git(project.root, "push", "--quiet", "origin", STATE_REF)
    project.publish(
        Schedule.base(outbox=True).with_wave(
            "teaser", wave("teaser-01", AT, ["tiktok-fr", "ig-fr"])
        )
    )
    head = state_head(project)
    result = project.cli("tick", *flags, now="17:05", env=env)
    assert result.exit_code == 1
    assert "Error: ledger-tampered:" in result.stderr and "ledger/2030-12.jsonl" in result.stderr
    assert state_head(project) == head
    assert posts(fake_github) == 1 and result.stdout == ""


def test_appending_a_line_by_hand_is_not_tampering(project: Project, tmp_path: Path) -> None:
    assert project.cli("tick", now="17:01").exit_code == 0
    tree = tmp_path / "hand"
    git(project.root, "worktree", "add", "--quiet", str(tree), STATE_REF)
    with (tree / "ledger" / "2030-12.jsonl").open("a") as handle:
        handle.write('{"id":"teaser/yt-main","event":"published","at":"2030-12-02T17:02:00Z"}\n')
    git(tree, "commit", "--quiet", "-am", "a confirmation")
    git(project.root, "worktree", "remove", "--force", str(tree))
    assert project.cli("tick", now="17:05").exit_code == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param(["--now", "2030-12-02T17:01:00Z", "tick", "--push"], {}, "--now with --push is refused", id="now-push"),
        pytest.param(["--now", "2030-12-02T17:01:00Z", "tick", "--push"], {"SCHEDULER_CLOCK_OVERRIDE": "0"},
                     "SCHEDULER_CLOCK_OVERRIDE=1", id="now-push-override-0"),
        pytest.param(["tick", "--dry-run", "--push"], {}, "--dry-run writes and sends nothing", id="dry-run-push"),
        pytest.param(["tick", "--backend", "carrier-pigeon"], {}, "Invalid value for '--backend'", id="bad-backend"),
        pytest.param(["--now", "tomorrow", "tick"], {}, "--now tomorrow", id="bad-now"),
        pytest.param(["--now", "2030-12-02T17:01:00", "tick"], {}, "give an offset or Z", id="naive-now"),
        pytest.param(["tick", "--format", "yaml"], {}, "Invalid value for '--format'", id="bad-format"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_and_change_nothing(
    project: Project, fake_github: FakeGitHub, args: list[str], env: dict[str, str], message: str
) -> None:
    result = project.cli(*args, env=env)
    assert result.exit_code == 2
    assert message in result.stderr
    assert (
        state_head(project) is None and origin_head(project) is None and fake_github.requests == []
    )


def test_now_with_push_runs_when_the_clock_override_is_set(
    project: Project, fake_github: FakeGitHub
) -> None:
    result = project.cli("tick", "--push", now="17:01", SCHEDULER_CLOCK_OVERRIDE="1")
    assert result.exit_code == 0, result.output
    assert origin_head(project) == state_head(project) is not None
    assert len(project.rows(origin=True)) == 6


# --------------------------------------------------------------------------- dry runs


def test_a_dry_run_writes_nothing_and_sends_nothing(
    project: Project, fake_github: FakeGitHub
) -> None:
    result = project.cli("tick", "--dry-run", now="17:01")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "dry run, nothing written or sent: 3 dispatched (2 request(s)), 0 failed, 0 unknown, 0 missed, 0 newly held"
    )
    assert state_head(project) is None and fake_github.requests == []
    assert git(project.root, "status", "--porcelain") == ""


def test_a_dry_run_exits_as_the_real_tick_would(project: Project, fake_github: FakeGitHub) -> None:
    held = Schedule.base(outbox=True).with_wave("iv", wave("interview", AT, ["tiktok-fr"]))
    project.publish(held)
    dry = project.cli("tick", "--dry-run", "--format", "json", now="17:01")
    assert dry.exit_code == 1 and json.loads(dry.stdout)["held"] == ["iv/tiktok-fr"]
    assert state_head(project) is None
    real = project.cli("tick", "--format", "json", now="17:01")
    assert (real.exit_code, real.stdout) == (dry.exit_code, dry.stdout)
    assert state_head(project) is not None and fake_github.requests == []


def test_a_broken_wave_file_is_reported_and_the_rest_proceeds(project: Project) -> None:
    broken = schedule().with_wave("oops", "video: teaser-01\ntype: simultaneous\nat: [\n")
    project.publish(broken)
    result = project.cli("tick", now="17:01")
    assert result.exit_code == 1
    assert result.stderr.startswith("schedules/waves/oops.yaml:")
    assert "3 dispatched" in result.stdout


def test_the_job_summary_is_written_when_asked(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    assert project.cli("tick", now="17:01", GITHUB_STEP_SUMMARY=str(path)).exit_code == 0
    text = path.read_text()
    assert text.startswith("### Scheduler tick\n")
    assert "- **dispatched**: 3: `teaser/tiktok-fr`, `teaser/yt-main`, `teaser/li-corp`" in text


# --------------------------------------------------------------------------- the user's work tree


def snapshot(root: Path) -> tuple[str, str, str, str, str]:
    """Return HEAD, status, the unstaged and staged diffs, and the untracked file's text."""
    return (
        git(root, "rev-parse", "HEAD"),
        git(root, "status", "--porcelain", "--untracked-files=all"),
        git(root, "diff"),
        git(root, "diff", "--cached"),
        (root / "notes.txt").read_text(),
    )


def test_tick_never_touches_the_work_tree_the_index_or_main(
    project: Project, fake_github: FakeGitHub
) -> None:
    staggered = Schedule.base(outbox=True).with_wave(
        "teaser", wave("teaser-01", AT, CHANNELS, kind="staggered")
    )
    project.publish(staggered)
    main_at_origin = origin_head(project, "main")
    root = project.root
    (root / "README").write_text("# edited, not committed\n")  # modified tracked file
    (root / "staged.txt").write_text("staged\n")
    git(root, "add", "staged.txt")  # staged change
    (root / "notes.txt").write_text("untracked\n")  # untracked file
    before = snapshot(root)
    assert "M README" in before[1] and "A  staged.txt" in before[1] and "?? notes.txt" in before[1]

    pushed = project.cli("tick", "--push", now="17:01", SCHEDULER_CLOCK_OVERRIDE="1")
    assert pushed.exit_code == 0, pushed.output
    assert snapshot(root) == before
    local = project.cli("tick", now="18:01")
    assert local.exit_code == 0, local.output
    assert snapshot(root) == before
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert origin_head(project, "main") == main_at_origin
    assert dispatched_ids(fake_github) == {"teaser/yt-main": 1, "teaser/tiktok-fr": 1}


# --------------------------------------------------------------------------- outside git, bad settings


def test_a_dry_run_outside_git_reads_empty_state(project: Project, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    schedule().write(plain)
    result = project.cli("tick", "--dry-run", "--format", "json", now="17:01", root=plain)
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["dispatched"]) == sorted(IDS)
    assert sorted(p.name for p in plain.iterdir()) == ["schedules"]


def test_a_real_tick_outside_git_changes_nothing(
    project: Project, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    schedule().write(plain)
    result = project.cli("tick", now="17:01", root=plain)
    assert result.exit_code == 1
    assert "is not a git repository" in result.stderr and "nothing was changed" in result.stderr
    assert fake_github.requests == []


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        pytest.param(
            {"GITHUB_API_URL": "ftp://example.com"},
            1,
            "GITHUB_API_URL 'ftp://example.com'",
            id="api-url",
        ),
        pytest.param(
            {"SCHEDULER_DISPATCH_SPACING": "soon"},
            2,
            "SCHEDULER_DISPATCH_SPACING='soon'",
            id="spacing",
        ),
    ],
)
def test_bad_dispatch_settings_stop_before_anything_is_claimed(
    project: Project, env: dict[str, str], code: int, message: str
) -> None:
    result = project.cli("tick", now="17:01", env=env)
    assert result.exit_code == code
    assert message in result.stderr
    assert state_head(project) is None


def test_a_pause_written_on_the_state_branch_holds_once(project: Project) -> None:
    control = "channels:\n  tiktok-fr: {paused: true, reason: account under review, actor: jane}\n"
    commit_in_bare(project.root, STATE_REF, {"control.yaml": control}, "pause tiktok-fr")
    first = project.cli("tick", now="17:01")
    assert first.exit_code == 1
    assert "held      teaser/tiktok-fr: paused" in first.stdout.splitlines()
    assert (
        "2 dispatched (1 request(s)), 0 failed, 0 unknown, 0 missed, 1 newly held" in first.stdout
    )
    second = project.cli("tick", now="17:06")
    assert second.exit_code == 0 and "0 newly held" in second.stdout
    assert [r["event"] for r in project.rows() if r["id"] == "teaser/tiktok-fr"] == ["held"]
    assert project.state_files()["control.yaml"] == control.encode()


def test_push_refuses_local_state_commits_that_origin_lacks(
    project: Project, fake_github: FakeGitHub
) -> None:
    assert project.cli("tick", now="17:01").exit_code == 0  # a local run, never pushed
    project.publish(
        schedule().with_wave("extra", wave("trailer", "2030-12-02T17:02:00Z", ["ig-fr"]))
    )
    result = project.cli("tick", "--push", now="17:03", SCHEDULER_CLOCK_OVERRIDE="1")
    assert result.exit_code == 1
    assert "has 2 commit(s) that 'origin/scheduler-state' lacks" in result.stderr
    assert "tick record: dispatched 3" in result.stderr and "tick claim: claimed 3" in result.stderr
    assert origin_head(project) is None and posts(fake_github) == 2
