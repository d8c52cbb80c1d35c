"""``pause``, ``resume``, ``cancel`` and ``retry`` end to end: real git repositories with a bare
origin, control.yaml and the ledger on the state branch, the next tick's behaviour."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.control import parse_control
from scheduler.control_edit import Change, apply_changes
from scheduler.ledger import encode_lines
from tests.gitrepos import RepoPair, git, isolate_git_env
from tests.schedule_builder import run_cli, write_tree
from tests.tick_helpers import STATE_REF, Project, Schedule, make_project, wave

CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
groups:
  fr: [tiktok-fr, ig-fr]
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt}
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
  ig-fr:
    platform: instagram
    dispatch: {repo: acme/social}
  x-us:
    platform: x
    lead: 10m
"""

UNSET = (
    "GITHUB_ACTOR",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_STEP_SUMMARY",
    "SCHEDULER_STATE_REF",
    "SCHEDULER_CLOCK_OVERRIDE",
)

# teaser: 2 Dec 17:00 on four channels; launch: 3 Dec 17:00 on yt-main and the group fr.
TEASER = ["teaser/ig-fr", "teaser/tiktok-fr", "teaser/x-us", "teaser/yt-main"]
LAUNCH = ["launch/ig-fr", "launch/tiktok-fr", "launch/yt-main"]


def schedule() -> Schedule:
    """Return the two waves over :data:`CHANNELS`."""
    teaser = wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr", "ig-fr", "x-us"])
    launch = wave("trailer", "2030-12-03T17:00:00Z", ["yt-main", "group:fr"])
    base = Schedule.base(channels=CHANNELS)
    return base.with_wave("teaser", teaser).with_wave("launch", launch)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Return a project made once per module, to be copied by :func:`project`."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return make_project(monkeypatch, tmp_path_factory.mktemp("template"), schedule())


@pytest.fixture
def project(template: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """Return a copy of :func:`template` in ``tmp_path``; the actor is ``jane``."""
    return copy_project(template, monkeypatch, tmp_path, SCHEDULER_ACTOR="jane")


def copy_project(
    template: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> Project:
    """Return a copy of ``template``'s origin and clone under ``tmp_path``, isolated."""
    isolate_git_env(monkeypatch, tmp_path)
    for name in (*UNSET, *env):
        monkeypatch.delenv(name, raising=False)
    old = template.pair.origin.parent
    shutil.copytree(old, tmp_path, dirs_exist_ok=True, symlinks=True)
    config = tmp_path / "clone" / ".git" / "config"
    config.write_text(config.read_text().replace(str(old), str(tmp_path)))
    pair = RepoPair(tmp_path / "origin.git", tmp_path / "clone")
    return Project(pair, {**template.env, **env})


def control(project: Project, *, origin: bool = False) -> dict[str, Any]:
    """Return control.yaml of the clone's (or origin's) state branch as plain data."""
    files = project.origin_state() if origin else project.state_files()
    import yaml

    loaded = yaml.safe_load(files.get("control.yaml", b"") or b"{}")
    assert isinstance(loaded, dict)
    return loaded


def statuses(project: Project, now: str = "2030-12-01T12:00:00Z") -> dict[str, str]:
    """Return id -> status as ``list --format json`` says at ``now``."""
    result = project.cli("list", "--format", "json", now=now)
    assert result.exit_code == 0, result.output
    return {row["id"]: row["status"] for row in json.loads(result.stdout)}


def put_state(project: Project, files: Mapping[str, bytes], message: str = "by hand") -> None:
    """Commit ``files`` on the clone's local state branch (as a test's earlier history)."""
    repo = GitRepo.find(project.root)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=False)
    store.save(store.load(), dict(files), message)


def append_ledger(project: Project, lines: list[dict[str, Any]]) -> None:
    """Append ``lines`` to ledger/2030-12.jsonl of the clone's state branch."""
    current = project.state_files().get("ledger/2030-12.jsonl", b"")
    put_state(project, {"ledger/2030-12.jsonl": current + encode_lines(lines)})


def ok(result: Result) -> Result:
    """Return ``result`` after checking that it exited 0."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


# --------------------------------------------------------------------------- pause: selectors


@pytest.mark.parametrize(
    ("selectors", "printed", "entries"),
    [
        pytest.param(
            ["--channel", "tiktok-fr"],
            ["paused channel tiktok-fr"],
            {"channels": ["tiktok-fr"]},
            id="lone-channel",
        ),
        pytest.param(
            ["--channel", "tiktok-fr", "--channel", "x-us"],
            ["paused channel tiktok-fr", "paused channel x-us"],
            {"channels": ["tiktok-fr", "x-us"]},
            id="channels-or",
        ),
        pytest.param(
            ["--group", "fr"],
            ["paused channel ig-fr", "paused channel tiktok-fr"],
            {"channels": ["ig-fr", "tiktok-fr"]},
            id="lone-group-expanded",
        ),
        pytest.param(
            ["--platform", "youtube"],
            ["paused channel yt-main"],
            {"channels": ["yt-main"]},
            id="lone-platform",
        ),
        pytest.param(
            ["--wave", "launch"], ["paused wave launch"], {"waves": ["launch"]}, id="lone-wave"
        ),
        pytest.param(
            ["--id", "teaser/x-us"],
            ["paused publication teaser/x-us"],
            {"publications": ["teaser/x-us"]},
            id="id",
        ),
        pytest.param(
            ["--group", "fr", "--wave", "launch"],
            ["paused publication launch/ig-fr", "paused publication launch/tiktok-fr"],
            {"publications": ["launch/ig-fr", "launch/tiktok-fr"]},
            id="group-and-wave-per-publication",
        ),
        pytest.param(
            ["--channel", "yt-main", "--platform", "youtube"],
            ["paused publication teaser/yt-main", "paused publication launch/yt-main"],
            {"publications": ["launch/yt-main", "teaser/yt-main"]},
            id="two-channel-kinds-per-publication",
        ),
    ],
)
def test_pause_writes_entries_at_the_level_the_selectors_name(
    project: Project, selectors: list[str], printed: list[str], entries: dict[str, list[str]]
) -> None:
    result = ok(
        project.cli("pause", *selectors, "--reason", "legal review", now="2030-12-01T09:00:00Z")
    )
    described = " ".join(selectors)
    assert result.stdout.splitlines() == [f"selected: {described}", *printed]
    data = control(project)
    assert {key: sorted(data.get(key) or {}) for key in entries} == entries
    for section, keys in entries.items():
        for key in keys:
            assert data[section][key] == {
                "paused": True,
                "reason": "legal review",
                "actor": "jane",
                "at": "2030-12-01T09:00:00Z",
            }
    assert not ({"channels", "waves", "publications"} - set(entries)) & set(data)


def test_a_group_is_expanded_when_paused_not_later(project: Project) -> None:
    ok(project.cli("pause", "--group", "fr", "--reason", "review", now="2030-12-01T09:00:00Z"))
    channels = CHANNELS.replace("fr: [tiktok-fr, ig-fr]", "fr: [tiktok-fr, ig-fr, x-us]")
    project.publish(Schedule({**schedule().texts, "schedules/channels.yaml": channels}))
    assert sorted(control(project)["channels"]) == ["ig-fr", "tiktok-fr"]
    assert statuses(project)["teaser/x-us"] == "pending"
    assert statuses(project)["teaser/tiktok-fr"] == "paused"


def test_pause_holds_and_resume_with_the_same_selectors_lifts(project: Project) -> None:
    ok(
        project.cli(
            "pause",
            "--group",
            "fr",
            "--wave",
            "launch",
            "--reason",
            "x",
            now="2030-12-01T09:00:00Z",
        )
    )
    assert {k: v for k, v in statuses(project).items() if v == "paused"} == {
        "launch/ig-fr": "paused",
        "launch/tiktok-fr": "paused",
    }
    result = ok(
        project.cli("resume", "--group", "fr", "--wave", "launch", now="2030-12-01T10:00:00Z")
    )
    assert result.stdout.splitlines() == [
        "selected: --group fr --wave launch",
        "resumed publication launch/ig-fr",
        "resumed publication launch/tiktok-fr",
    ]
    assert "paused" not in statuses(project).values()
    assert "publications" not in control(project)


def test_a_paused_publication_is_not_sent_and_goes_out_after_resume(project: Project) -> None:
    ok(project.cli("pause", "--channel", "tiktok-fr", "--reason", "x", now="2030-12-02T16:00:00Z"))
    tick = project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01")
    assert tick.exit_code == 1  # newly held
    report = json.loads(tick.stdout)
    assert "teaser/tiktok-fr" not in report["dispatched"]
    assert report["held"] == ["teaser/tiktok-fr"]
    ok(project.cli("resume", "--channel", "tiktok-fr", now="17:02"))
    again = ok(project.cli("tick", "--backend", "outbox", "--format", "json", now="17:03"))
    assert json.loads(again.stdout)["dispatched"] == ["teaser/tiktok-fr"]


def test_resume_of_something_not_paused_changes_nothing(project: Project) -> None:
    result = ok(project.cli("resume", "--channel", "x-us", now="2030-12-01T09:00:00Z"))
    assert result.stdout.splitlines() == [
        "selected: --channel x-us",
        "nothing to lift for --channel x-us",
    ]
    assert project.state_files() == {}


def test_resume_by_id_does_not_lift_a_channel_pause(project: Project) -> None:
    ok(project.cli("pause", "--channel", "x-us", "--reason", "x", now="2030-12-01T09:00:00Z"))
    result = ok(project.cli("resume", "--id", "teaser/x-us", now="2030-12-01T09:01:00Z"))
    assert "nothing to lift for --id teaser/x-us" in result.stdout
    assert statuses(project)["teaser/x-us"] == "paused"


# --------------------------------------------------------------------------- global pause


def test_pause_all_and_resume_all_clear_the_global_flag_only(project: Project) -> None:
    ok(project.cli("pause", "--channel", "x-us", "--reason", "channel", now="2030-12-01T09:00:00Z"))
    paused = ok(project.cli("pause", "--all", "--reason", "incident", now="2030-12-01T09:01:00Z"))
    assert paused.stdout.splitlines() == ["paused everything: incident"]
    data = control(project)
    assert (data["paused"], data["reason"], data["actor"], data["at"]) == (
        True,
        "incident",
        "jane",
        "2030-12-01T09:01:00Z",
    )
    assert set(statuses(project).values()) == {"paused"}
    resumed = ok(project.cli("resume", "--all", now="2030-12-01T09:02:00Z"))
    assert resumed.stdout.splitlines() == ["resumed everything (the global pause is lifted)"]
    data = control(project)
    assert data["paused"] is False and "reason" not in data
    assert data["channels"]["x-us"]["paused"] is True
    left = statuses(project)
    assert left["teaser/x-us"] == "paused" and left["teaser/yt-main"] == "pending"


def test_resume_all_without_a_global_pause_says_so(project: Project) -> None:
    result = ok(project.cli("resume", "--all", now="2030-12-01T09:00:00Z"))
    assert result.stdout.splitlines() == ["nothing to lift: there is no global pause"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["pause", "--all", "--channel", "x-us", "--reason", "x"], id="pause"),
        pytest.param(["resume", "--all", "--wave", "launch"], id="resume"),
    ],
)
def test_all_with_selectors_is_a_usage_error(project: Project, args: list[str]) -> None:
    result = project.cli(*args, now="2030-12-01T09:00:00Z")
    assert result.exit_code == 2
    assert "--all" in result.stderr
    assert project.state_files() == {}


# --------------------------------------------------------------------------- --until


def test_until_resumes_by_itself(project: Project) -> None:
    ok(
        project.cli(
            "pause", "--channel", "tiktok-fr", "--until", "2030-12-02T16:30:00Z",
            "--reason", "short", now="2030-12-01T09:00:00Z",
        )
    )  # fmt: skip
    assert control(project)["channels"]["tiktok-fr"]["until"] == "2030-12-02T16:30:00Z"
    assert statuses(project, "2030-12-02T16:29:00Z")["teaser/tiktok-fr"] == "paused"
    assert statuses(project, "2030-12-02T16:30:00Z")["teaser/tiktok-fr"] == "pending"
    tick = ok(project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01"))
    assert "teaser/tiktok-fr" in json.loads(tick.stdout)["dispatched"]


def test_a_global_pause_until_resumes_by_itself(project: Project) -> None:
    ok(
        project.cli(
            "pause", "--all", "--until", "2030-12-02T12:00:00Z", "--reason", "freeze",
            now="2030-12-01T09:00:00Z",
        )
    )  # fmt: skip
    assert set(statuses(project, "2030-12-02T11:59:00Z").values()) == {"paused"}
    assert "paused" not in statuses(project, "2030-12-02T12:00:00Z").values()


def test_a_new_pause_without_until_replaces_the_old_until(project: Project) -> None:
    now = "2030-12-01T09:00:00Z"
    ok(
        project.cli(
            "pause",
            "--channel",
            "x-us",
            "--until",
            "2030-12-01T10:00:00Z",
            "--reason",
            "a",
            now=now,
        )
    )
    ok(project.cli("pause", "--channel", "x-us", "--reason", "b", now=now))
    assert "until" not in control(project)["channels"]["x-us"]
    assert statuses(project, "2030-12-02T16:00:00Z")["teaser/x-us"] == "paused"


@pytest.mark.parametrize(
    ("until", "message"),
    [
        pytest.param("2030-12-01T08:00:00Z", "--until", id="past"),
        pytest.param("2030-12-01T09:00:00Z", "--until", id="now"),
        pytest.param("tomorrow", "--until tomorrow", id="unreadable"),
        pytest.param("2030-12-02T10:00:00", "give an offset", id="naive"),
    ],
)
def test_an_until_that_cannot_end_a_pause_is_refused(
    project: Project, until: str, message: str
) -> None:
    result = project.cli(
        "pause", "--channel", "x-us", "--until", until, "--reason", "x", now="2030-12-01T09:00:00Z"
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert project.state_files() == {}


# --------------------------------------------------------------------------- cancel


def test_cancel_then_resume_by_id_lifts_it(project: Project) -> None:
    result = ok(
        project.cli(
            "cancel", "--id", "launch/ig-fr", "--reason", "wrong cut", now="2030-12-01T09:00:00Z"
        )
    )
    assert result.stdout.splitlines() == [
        "selected: --id launch/ig-fr",
        "cancelled publication launch/ig-fr",
    ]
    assert control(project)["publications"]["launch/ig-fr"] == {
        "cancelled": True,
        "reason": "wrong cut",
        "actor": "jane",
        "at": "2030-12-01T09:00:00Z",
    }
    assert statuses(project)["launch/ig-fr"] == "cancelled"
    lifted = ok(project.cli("resume", "--id", "launch/ig-fr", now="2030-12-01T09:05:00Z"))
    assert lifted.stdout.splitlines() == [
        "selected: --id launch/ig-fr",
        "un-cancelled publication launch/ig-fr",
    ]
    assert statuses(project)["launch/ig-fr"] == "pending"
    assert "publications" not in control(project)


def test_cancel_by_wave_is_undone_by_resume_by_wave(project: Project) -> None:
    ok(
        project.cli(
            "cancel", "--wave", "launch", "--reason", "postponed", now="2030-12-01T09:00:00Z"
        )
    )
    assert {statuses(project)[i] for i in LAUNCH} == {"cancelled"}
    ok(project.cli("resume", "--wave", "launch", now="2030-12-01T09:01:00Z"))
    assert {statuses(project)[i] for i in LAUNCH} == {"pending"}


def test_a_cancelled_publication_is_never_sent(project: Project) -> None:
    ok(project.cli("cancel", "--id", "teaser/x-us", "--reason", "no", now="2030-12-02T16:00:00Z"))
    tick = project.cli("tick", "--backend", "outbox", "--format", "json", now="17:01")
    assert "teaser/x-us" not in json.loads(tick.stdout)["dispatched"]
    assert statuses(project, "2030-12-02T17:02:00Z")["teaser/x-us"] == "cancelled"


def test_a_hold_of_a_publication_in_flight_says_it_no_longer_stops_it(project: Project) -> None:
    ok(project.cli("tick", "--backend", "outbox", now="16:51"))  # x-us sent early (lead 10m)
    cancel = ok(project.cli("cancel", "--id", "teaser/x-us", "--reason", "late", now="16:55"))
    assert cancel.stdout.splitlines() == [
        "selected: --id teaser/x-us",
        "cancelled publication teaser/x-us",
        "note: teaser/x-us was already claimed (completed): cancelling no longer stops it",
    ]
    pause = ok(project.cli("pause", "--channel", "x-us", "--reason", "x", now="16:56"))
    assert pause.stdout.splitlines()[-1] == (
        "note: teaser/x-us was already claimed (completed): pausing no longer stops it"
    )


def test_a_hold_says_nothing_of_publications_long_done(project: Project) -> None:
    ok(project.cli("tick", "--backend", "outbox", now="17:01"))
    result = ok(project.cli("pause", "--channel", "yt-main", "--reason", "x", now="17:30"))
    assert result.stdout.splitlines() == ["selected: --channel yt-main", "paused channel yt-main"]


def test_cancel_needs_selectors(project: Project) -> None:
    result = project.cli("cancel", "--reason", "x", now="2030-12-01T09:00:00Z")
    assert result.exit_code == 2
    assert "select what to act on" in result.stderr


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["pause", "--channel", "x-us"], "Missing option '--reason'", id="no-reason"),
        pytest.param(
            ["pause", "--channel", "x-us", "--reason", "  "],
            "--reason is required",
            id="blank-reason",
        ),
        pytest.param(["pause", "--reason", "x"], "select what to act on", id="pause-no-selector"),
        pytest.param(["resume"], "select what to act on", id="resume-no-selector"),
        pytest.param(
            ["pause", "--channel", "tiktok-f", "--reason", "x"],
            "--channel tiktok-f: no such channel (did you mean 'tiktok-fr'?)",
            id="unknown-channel",
        ),
        pytest.param(
            ["pause", "--group", "frr", "--reason", "x"],
            "--group frr: no such group (did you mean 'fr'?)",
            id="unknown-group",
        ),
        pytest.param(
            ["resume", "--wave", "lunch"],
            "--wave lunch: no such wave (did you mean 'launch'?)",
            id="unknown-wave",
        ),
        pytest.param(
            ["cancel", "--id", "teaser/x-usa", "--reason", "x"],
            "--id teaser/x-usa: no such id (did you mean 'teaser/x-us'?)",
            id="unknown-id",
        ),
        pytest.param(
            ["pause", "--platform", "tiktoc", "--reason", "x"],
            "--platform tiktoc: no such platform (did you mean 'tiktok'?)",
            id="unknown-platform",
        ),
    ],
)
def test_usage_errors_exit_2_and_change_nothing(
    project: Project, args: list[str], message: str
) -> None:
    result = project.cli(*args, now="2030-12-01T09:00:00Z")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert project.state_files() == {}


def test_a_selection_that_matches_nothing_is_reported(project: Project) -> None:
    result = project.cli(
        "pause",
        "--channel",
        "x-us",
        "--wave",
        "launch",
        "--reason",
        "x",
        now="2030-12-01T09:00:00Z",
    )
    assert result.exit_code == 1
    assert "no publication matches --channel x-us --wave launch" in result.stderr
    assert project.state_files() == {}


# --------------------------------------------------------------------------- control.yaml


def test_control_yaml_keeps_its_comments_and_records_every_change(project: Project) -> None:
    text = (
        "# kept: the team's note about this file\n"
        "paused: false\n"
        "channels:\n"
        "  # kept: ig-fr is under review until legal answers\n"
        "  ig-fr: {paused: true, reason: account review, actor: bob, at: '2030-11-30T08:00:00Z'}\n"
    )
    put_state(project, {"control.yaml": text.encode()})
    ok(
        project.cli(
            "pause", "--wave", "launch", "--reason", "waiting for legal", now="2030-12-01T09:00:00Z"
        )
    )
    written = project.state_files()["control.yaml"].decode()
    assert "# kept: the team's note about this file" in written
    assert "# kept: ig-fr is under review until legal answers" in written
    assert "ig-fr: {paused: true, reason: account review, actor: bob" in written
    parsed = parse_control(written.encode())
    assert parsed.waves["launch"].reason == "waiting for legal"
    assert parsed.waves["launch"].actor == "jane"
    ok(project.cli("resume", "--channel", "ig-fr", now="2030-12-01T09:01:00Z"))
    after = project.state_files()["control.yaml"].decode()
    assert "# kept: the team's note about this file" in after
    assert "ig-fr" not in after.split("# kept: ig-fr")[-1]
    assert "launch" in after


def test_the_first_control_yaml_says_how_it_is_written(project: Project) -> None:
    ok(project.cli("pause", "--channel", "x-us", "--reason", "x", now="2030-12-01T09:00:00Z"))
    written = project.state_files()["control.yaml"].decode()
    assert written.startswith(
        "# Pauses and cancellations, written by `scheduler pause|resume|cancel`"
    )


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("yes", id="yaml-1.1-boolean"),
        pytest.param("true", id="true"),
        pytest.param("18:00", id="sexagesimal"),
        pytest.param("a: b # c", id="colon-and-hash"),
        pytest.param("- list? [x] {y} & *z !tag '\"", id="indicators"),
        pytest.param("two\nlines", id="newline"),
        pytest.param("café ✓", id="unicode"),
    ],
)
def test_any_reason_reads_back_as_written(project: Project, reason: str) -> None:
    ok(project.cli("pause", "--channel", "x-us", "--reason", reason, now="2030-12-01T09:00:00Z"))
    parsed = parse_control(project.state_files()["control.yaml"])
    assert parsed.channels["x-us"].reason == reason


def test_a_reason_cannot_forge_a_ledger_trailer(project: Project) -> None:
    ok(project.cli("tick", "--backend", "outbox", now="17:01"))
    forged = "x\n\nScheduler-Ledger: ledger/2031-01.jsonl 5 " + "0" * 64
    ok(project.cli("pause", "--channel", "x-us", "--reason", forged, now="17:02"))
    message = git(project.root, "log", "-1", "--format=%B", STATE_REF)
    assert not any(
        line.startswith("Scheduler-Ledger: ledger/2031") for line in message.splitlines()
    )
    tick = project.cli("tick", "--backend", "outbox", now="17:03")
    assert tick.exit_code == 0, tick.output
    assert "ledger-tampered" not in tick.output


def test_apply_changes_lifts_a_pause_and_keeps_a_cancel_on_the_same_entry() -> None:
    text = "channels:\n  x-us: {paused: true, cancelled: true, reason: r, until: '2030-12-01T00:00:00Z'}\n"
    out = apply_changes(text, [Change("channels", "x-us", lift="paused")])
    parsed = parse_control(out.encode())
    hold = parsed.channels["x-us"]
    assert (hold.paused, hold.cancelled, hold.until) == (False, True, None)
    gone = apply_changes(out, [Change("channels", "x-us", lift="cancelled")])
    assert "x-us" not in parse_control(gone.encode()).channels


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("paused: [unclosed\n", id="unparsable"),
        pytest.param("- a list\n", id="not-a-mapping"),
    ],
)
def test_an_unreadable_control_yaml_is_a_clear_error(project: Project, text: str) -> None:
    put_state(project, {"control.yaml": text.encode()})
    result = project.cli("pause", "--channel", "x-us", "--reason", "x", now="2030-12-01T09:00:00Z")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: state branch")
    assert "control.yaml" in result.stderr


# --------------------------------------------------------------------------- git: push, tree


def test_push_writes_origins_branch(project: Project) -> None:
    result = project.cli(
        "pause", "--wave", "launch", "--reason", "legal", "--push",
        now="2030-12-01T09:00:00Z", SCHEDULER_CLOCK_OVERRIDE="1",
    )  # fmt: skip
    ok(result)
    assert control(project, origin=True)["waves"]["launch"]["reason"] == "legal"
    assert git(project.pair.origin, "rev-parse", STATE_REF) == git(
        project.root, "rev-parse", STATE_REF
    )


def test_push_with_now_needs_the_clock_override(project: Project) -> None:
    result = project.cli(
        "pause", "--wave", "launch", "--reason", "legal", "--push", now="2030-12-01T09:00:00Z"
    )
    assert result.exit_code == 2
    assert "SCHEDULER_CLOCK_OVERRIDE=1" in result.stderr
    assert project.origin_state() == {}


def test_push_refuses_local_state_commits_origin_lacks(project: Project) -> None:
    ok(
        project.cli(
            "pause", "--channel", "x-us", "--reason", "rehearsal", now="2030-12-01T09:00:00Z"
        )
    )
    result = project.cli(
        "pause", "--wave", "launch", "--reason", "real", "--push",
        now="2030-12-01T09:01:00Z", SCHEDULER_CLOCK_OVERRIDE="1",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "1 commit(s)" in result.stderr
    assert "pause --channel x-us: rehearsal (jane)" in result.stderr
    assert project.origin_state() == {}


def test_the_working_tree_index_and_main_are_untouched(project: Project) -> None:
    root = project.root
    (root / "schedules" / "waves" / "draft.yaml").write_text("video: draft\n")  # untracked
    (root / "README").write_text("edited, not staged\n")
    (root / "schedules" / "videos.yaml").write_text(
        (root / "schedules" / "videos.yaml").read_text() + "# staged\n"
    )
    git(root, "add", "schedules/videos.yaml")

    def snapshot() -> tuple[str, ...]:
        return (
            git(root, "status", "--porcelain=v1", "--untracked-files=all"),
            git(root, "diff"),
            git(root, "diff", "--cached"),
            git(root, "rev-parse", "HEAD", "main", "origin/main"),
            git(root, "symbolic-ref", "HEAD"),
            (root / "schedules" / "waves" / "draft.yaml").read_text(),
        )

    before = snapshot()
    ok(project.cli("pause", "--channel", "x-us", "--reason", "x", now="2030-12-01T09:00:00Z"))
    ok(project.cli("cancel", "--id", "teaser/yt-main", "--reason", "x", now="2030-12-01T09:00:00Z"))
    ok(project.cli("resume", "--channel", "x-us", now="2030-12-01T09:00:00Z"))
    assert snapshot() == before
    assert "control.yaml" not in {p.name for p in root.iterdir()}


def test_without_git_a_change_exits_1_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = write_tree(tmp_path / "plain", {k: v.encode() for k, v in schedule().texts.items()})
    result = run_cli(root, "pause", "--channel", "x-us", "--reason", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "is not a git repository" in result.stderr
    assert "nothing was changed" in result.stderr


# --------------------------------------------------------------------------- retry


def claimed(pub_id: str, channel: str, video: str, attempt: int = 1) -> dict[str, Any]:
    """Return a claim of ``pub_id`` (due 2 Dec 17:00) at 17:01."""
    return {
        "id": pub_id, "event": "claimed", "at": "2030-12-02T17:01:00Z",
        "due": "2030-12-02T17:00:00Z", "channel": channel, "video": video,
        "run": "r-1", "attempt": attempt,
    }  # fmt: skip


def outcome(pub_id: str, event: str, **extra: Any) -> dict[str, Any]:
    """Return an outcome event of ``pub_id`` at 17:02."""
    return {"id": pub_id, "event": event, "at": "2030-12-02T17:02:00Z", **extra}


def make_status(project: Project, status: str) -> str:
    """Bring ``teaser/x-us`` into ``status`` and return the status ``list`` shows."""
    pub, channel, video = "teaser/x-us", "x-us", "teaser-01"
    if status == "missed":
        project.cli("tick", "--backend", "outbox", now="18:30")
    elif status == "publish_failed":
        ok(project.cli("tick", "--backend", "outbox", now="17:01"))
        ok(project.cli("record", pub, "--result", "failed", "--reason", "expired", now="17:20"))
    elif status == "unknown":
        append_ledger(
            project, [claimed(pub, channel, video), outcome(pub, "unknown", reason="timeout")]
        )
    elif status == "failed":
        append_ledger(
            project,
            [claimed(pub, channel, video), outcome(pub, "failed", reason="422 Validation Failed")],
        )
    elif status == "completed":
        ok(project.cli("tick", "--backend", "outbox", now="17:01"))
    elif status == "cancelled":
        ok(project.cli("cancel", "--id", pub, "--reason", "x", now="17:01"))
    return statuses(project, "2030-12-02T18:45:00Z")[pub]


@pytest.mark.parametrize(
    ("how", "status"),
    [
        pytest.param("unknown", "unknown", id="unknown"),
        pytest.param("failed", "failed", id="failed"),
        pytest.param("publish_failed", "failed", id="publish_failed"),
        pytest.param("missed", "missed", id="missed"),
    ],
)
def test_retry_releases_and_the_next_tick_sends_attempt_plus_one(
    project: Project, how: str, status: str
) -> None:
    assert make_status(project, how) == status
    before = [row for row in project.rows() if row["id"] == "teaser/x-us"]
    attempt = max((row.get("attempt", 0) for row in before), default=0)
    result = ok(project.cli("retry", "teaser/x-us", "--at", "2030-12-02T19:00:00Z", now="18:45"))
    assert result.stdout.splitlines() == [
        "selected: --id teaser/x-us",
        f"released teaser/x-us for another attempt at 2030-12-02T19:00:00Z ({status} before)",
    ]
    released = project.rows()[-1]
    assert {k: released[k] for k in ("id", "event", "at", "due", "actor")} == {
        "id": "teaser/x-us",
        "event": "released",
        "at": "2030-12-02T18:45:00Z",
        "due": "2030-12-02T19:00:00Z",
        "actor": "jane",
    }
    assert statuses(project, "2030-12-02T18:49:00Z")["teaser/x-us"] == "pending"
    tick = project.cli("tick", "--backend", "outbox", "--format", "json", now="19:01")
    assert json.loads(tick.stdout)["dispatched"] == ["teaser/x-us"]
    [entry] = [
        pub
        for line in project.rows("outbox/")
        for pub in line["client_payload"]["publications"]
        if pub["id"] == "teaser/x-us" and pub["attempt"] == attempt + 1
    ]
    assert (entry["due"], entry["not_before"]) == ("2030-12-02T19:00:00Z", "2030-12-02T19:00:00Z")


def test_retry_at_defaults_to_now(project: Project) -> None:
    make_status(project, "unknown")
    ok(project.cli("retry", "--channel", "x-us", "--wave", "teaser", now="18:40"))
    assert project.rows()[-1]["due"] == "2030-12-02T18:40:00Z"
    assert statuses(project, "2030-12-02T18:40:30Z")["teaser/x-us"] == "scheduled"


@pytest.mark.parametrize("status", ["completed", "cancelled", "pending"])
def test_retry_refuses_other_statuses(project: Project, status: str) -> None:
    shown = make_status(project, status) if status != "pending" else "pending"
    state = project.state_files()
    now = "18:45" if status != "pending" else "2030-12-01T09:00:00Z"
    result = project.cli("retry", "teaser/x-us", now=now)
    assert result.exit_code == 1
    assert f"teaser/x-us is {shown}" in result.stderr
    assert "only unknown, failed" in result.stderr
    assert project.state_files() == state


def test_retry_of_many_releases_the_retryable_and_lists_the_rest(project: Project) -> None:
    project.cli("tick", "--backend", "outbox", now="18:30")  # every teaser publication missed
    result = project.cli("retry", "--wave", "teaser", "--wave", "launch", now="18:45")
    assert result.exit_code == 1
    released = [row["id"] for row in project.rows() if row["event"] == "released"]
    assert sorted(released) == TEASER
    assert result.stderr.count("is pending") == len(LAUNCH)


def test_retry_needs_something_to_retry(project: Project) -> None:
    result = project.cli("retry", now="18:45")
    assert result.exit_code == 2
    assert "name what to retry" in result.stderr


def test_retry_at_a_time_it_would_miss_again_is_refused(project: Project) -> None:
    make_status(project, "missed")
    state = project.state_files()
    result = project.cli("retry", "teaser/x-us", "--at", "2030-12-02T17:00:00Z", now="18:45")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: teaser/x-us: --at 2030-12-02T17:00:00Z is more than its max_lateness (1h) ago, "
        "so the next tick would mark it missed again: give a later --at"
    ]
    assert project.state_files() == state


# --------------------------------------------------------------------------- entries left behind


def test_a_pause_on_a_channel_since_removed_can_be_lifted(project: Project) -> None:
    ok(project.cli("pause", "--channel", "x-us", "--reason", "x", now="2030-12-01T09:00:00Z"))
    ok(project.cli("cancel", "--id", "teaser/x-us", "--reason", "x", now="2030-12-01T09:00:00Z"))
    texts = dict(schedule().texts)
    texts["schedules/channels.yaml"] = CHANNELS.split("  x-us:")[0]
    texts["schedules/waves/teaser.yaml"] = wave(
        "teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr", "ig-fr"]
    )
    project.publish(Schedule(texts))
    channel = ok(project.cli("resume", "--channel", "x-us", now="2030-12-01T10:00:00Z"))
    assert channel.stdout.splitlines()[-1] == "resumed channel x-us"
    by_id = ok(project.cli("resume", "--id", "teaser/x-us", now="2030-12-01T10:00:00Z"))
    assert by_id.stdout.splitlines()[-1] == "un-cancelled publication teaser/x-us"
    assert set(control(project)) == {"paused"}
    unknown = project.cli("resume", "--channel", "x-usa", now="2030-12-01T10:00:00Z")
    assert unknown.exit_code == 2
