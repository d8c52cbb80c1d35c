"""``scheduler record``: receivers' confirmations, by hand and from ``publication-result``
events, in real git repositories (the path that untrusted event data takes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from scheduler.operations import Result as Confirmation
from scheduler.operations import results_from_event, shown, url_problem
from tests.gitrepos import RepoPair, git, isolate_git_env
from tests.tick_helpers import STATE_REF, Project, Schedule, make_project, wave

CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
  reporters: [acme-bot]
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt}
    confirm_within: 30m
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
    reporters: [social-bot]
  x-us:
    platform: x
"""
TEASER = ["teaser/tiktok-fr", "teaser/x-us", "teaser/yt-main"]
UNSET = (
    "GITHUB_ACTOR",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_STEP_SUMMARY",
    "SCHEDULER_STATE_REF",
    "SCHEDULER_CLOCK_OVERRIDE",
)
URL = "https://videos.example.com/watch?v=abc123"


def schedule() -> Schedule:
    """Return the teaser (2 Dec 17:00, three channels) and the launch (3 Dec 17:00, yt-main)."""
    teaser = wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr", "x-us"])
    launch = wave("trailer", "2030-12-03T17:00:00Z", ["yt-main"])
    base = Schedule.base(channels=CHANNELS)
    return base.with_wave("teaser", teaser).with_wave("launch", launch)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Return a project whose teaser was dispatched (outbox, pushed) at 17:01, made once per
    module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        made = make_project(monkeypatch, tmp_path_factory.mktemp("template"), schedule())
        push = ("tick", "--backend", "outbox", "--push")
        result = made.cli(*push, now="17:01", SCHEDULER_CLOCK_OVERRIDE="1")
        assert result.exit_code == 0, result.output
        return made


@pytest.fixture
def project(template: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """Return a copy of :func:`template` in ``tmp_path``; the actor is ``jane``."""
    isolate_git_env(monkeypatch, tmp_path)
    for name in (*UNSET, "SCHEDULER_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    old = template.pair.origin.parent
    shutil.copytree(old, tmp_path, dirs_exist_ok=True, symlinks=True)
    config = tmp_path / "clone" / ".git" / "config"
    config.write_text(config.read_text().replace(str(old), str(tmp_path)))
    pair = RepoPair(tmp_path / "origin.git", tmp_path / "clone")
    return Project(pair, {**template.env, "SCHEDULER_ACTOR": "jane"})


def results_of(project: Project) -> list[dict[str, Any]]:
    """Return the published / publish_failed lines of the clone's ledger."""
    return [r for r in project.rows() if r["event"] in ("published", "publish_failed")]


def state_head(project: Project) -> str:
    """Return the sha of the clone's state branch."""
    return git(project.root, "rev-parse", STATE_REF)


def status_of(project: Project, pub_id: str, now: str = "17:45") -> str:
    """Return the status ``list --format json`` gives ``pub_id`` at ``now``."""
    result = project.cli("list", "--format", "json", now=now)
    assert result.exit_code == 0, result.output
    found: dict[str, str] = {row["id"]: row["status"] for row in json.loads(result.stdout)}
    return found[pub_id]


def event_file(tmp_path: Path, results: Any, *, sender: Any = "acme-bot", **top: Any) -> Path:
    """Write a ``publication-result`` repository_dispatch event and return its path."""
    event: dict[str, Any] = {
        "action": "publication-result",
        "client_payload": {"results": results},
        "repository": {"full_name": "acme/campaign"},
        **top,
    }
    if sender is not None:
        event["sender"] = {"login": sender, "type": "Bot"}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return path


def from_event(project: Project, path: Path, *args: str) -> Result:
    """Run ``record --from-event PATH`` at 17:30."""
    return project.cli("record", "--from-event", str(path), *args, now="17:30")


# --------------------------------------------------------------------------- by hand


def test_record_published_by_hand_for_the_latest_dispatched_attempt(project: Project) -> None:
    assert status_of(project, "teaser/yt-main") == "unconfirmed"
    result = project.cli(
        "record", "teaser/yt-main", "--result", "published", "--url", URL, now="17:40"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["recorded teaser/yt-main: published (attempt 1)"]
    [line] = results_of(project)
    line.pop("run")
    assert line == {
        "id": "teaser/yt-main",
        "event": "published",
        "at": "2030-12-02T17:40:00Z",
        "due": "2030-12-02T17:00:00Z",
        "channel": "yt-main",
        "video": "teaser-01",
        "attempt": 1,
        "url": URL,
        "actor": "jane",
    }
    assert status_of(project, "teaser/yt-main") == "completed"
    subject = git(project.root, "log", "-1", "--format=%s", STATE_REF)
    assert subject == "record 1 result(s) (jane)"


def test_record_failed_is_publish_failed_and_can_be_retried(project: Project) -> None:
    result = project.cli(
        "record", "teaser/x-us", "--result", "failed", "--reason", "expired", now="17:20"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["recorded teaser/x-us: publish_failed (attempt 1)"]
    [line] = results_of(project)
    assert (line["event"], line["reason"], line["attempt"]) == ("publish_failed", "expired", 1)
    assert status_of(project, "teaser/x-us") == "failed"
    retry = project.cli("retry", "teaser/x-us", now="17:25")
    assert retry.exit_code == 0, retry.output
    assert project.rows()[-1]["event"] == "released"


def test_the_actor_falls_back_to_github_actor(project: Project) -> None:
    env = {k: v for k, v in project.env.items() if k != "SCHEDULER_ACTOR"}
    project.env.clear()
    project.env.update(env, GITHUB_ACTOR="octo")
    result = project.cli("record", "teaser/x-us", "--result", "published", now="17:20")
    assert result.exit_code == 0, result.output
    assert results_of(project)[0]["actor"] == "octo"


def test_a_repeated_record_is_a_no_op(project: Project) -> None:
    args = ("record", "teaser/yt-main", "--result", "published", "--url", URL)
    assert project.cli(*args, now="17:20").exit_code == 0
    head = state_head(project)
    again = project.cli(*args, now="17:21")
    assert again.exit_code == 0
    assert again.stdout.splitlines() == ["already recorded: teaser/yt-main published (attempt 1)"]
    assert state_head(project) == head


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["teaser/yt-mian", "--result", "published"],
            "Error: teaser/yt-mian: no such publication (did you mean 'teaser/yt-main'?)",
            id="unknown-id",
        ),
        pytest.param(
            ["launch/yt-main", "--result", "published"],
            "Error: launch/yt-main: it was never dispatched, so there is no result to record",
            id="never-dispatched",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "published", "--url", "http://videos.example.com/1"],
            "Error: teaser/yt-main: url must be an https: URL",
            id="http-url",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "published", "--url", "javascript:alert(1)"],
            "url must be an https: URL",
            id="javascript-url",
        ),
        pytest.param(
            [
                "teaser/yt-main",
                "--result",
                "published",
                "--url",
                "https://x.example/<script>alert(1)</script>",
            ],
            "url must be an https: URL",
            id="script-in-url",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "published", "--url", 'https://x.example/" onclick="x'],
            "url must be an https: URL",
            id="quote-in-url",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "published", "--url", "https://x.example/a b"],
            "url must be an https: URL",
            id="space-in-url",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "published", "--url", "https://x.example/" + "a" * 2000],
            "at most 2000 characters",
            id="long-url",
        ),
        pytest.param(
            ["teaser/yt-main", "--result", "failed", "--reason", "r" * 500],
            "Error: teaser/yt-main: reason must be under 500 characters",
            id="long-reason",
        ),
    ],
)
def test_refused_results_exit_1_and_write_nothing(
    project: Project, args: list[str], message: str
) -> None:
    head = state_head(project)
    result = project.cli("record", *args, now="17:20")
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert state_head(project) == head


def test_a_reason_of_499_characters_is_accepted(project: Project) -> None:
    reason = "r" * 499
    result = project.cli(
        "record", "teaser/x-us", "--result", "failed", "--reason", reason, now="17:20"
    )
    assert result.exit_code == 0, result.output
    assert results_of(project)[0]["reason"] == reason


def test_a_claimed_but_not_dispatched_publication_has_no_result_to_record(project: Project) -> None:
    # a tick that died after its claim: launch/yt-main claimed, never dispatched
    ledger = project.state_files()["ledger/2030-12.jsonl"]
    claim = {
        "id": "launch/yt-main", "event": "claimed", "at": "2030-12-02T17:05:00Z",
        "due": "2030-12-03T17:00:00Z", "channel": "yt-main", "video": "trailer", "attempt": 1,
    }  # fmt: skip
    from scheduler.adapters.git import GitRepo, GitStateStore

    repo = GitRepo.find(project.root)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=False)
    store.save(
        store.load(), {"ledger/2030-12.jsonl": ledger + json.dumps(claim).encode() + b"\n"}, "x"
    )
    result = project.cli("record", "launch/yt-main", "--result", "published", now="17:20")
    assert result.exit_code == 1
    assert "it was never dispatched" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "give ID --result published|failed, or --from-event FILE", id="nothing"),
        pytest.param(["teaser/x-us"], "give ID --result", id="no-result"),
        pytest.param(
            ["teaser/x-us", "--result", "done"], "Invalid value for '--result'", id="bad-result"
        ),
    ],
)
def test_record_usage_errors_exit_2(project: Project, args: list[str], message: str) -> None:
    result = project.cli("record", *args, now="17:20")
    assert result.exit_code == 2
    assert message in result.stderr


def test_record_push_writes_origin(project: Project) -> None:
    result = project.cli(
        "record", "teaser/x-us", "--result", "published", "--push",
        now="17:20", SCHEDULER_CLOCK_OVERRIDE="1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [r["event"] for r in project.rows(origin=True)][-1] == "published"


# --------------------------------------------------------------------------- from an event


def test_an_event_from_a_reporter_is_recorded_with_the_sender_as_actor(
    project: Project, tmp_path: Path
) -> None:
    path = event_file(
        tmp_path,
        [
            {"id": "teaser/yt-main", "attempt": 1, "result": "published", "url": URL},
            {"id": "teaser/x-us", "attempt": 1, "result": "failed", "reason": "expired"},
        ],
    )
    result = from_event(project, path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "recorded teaser/yt-main: published (attempt 1)",
        "recorded teaser/x-us: publish_failed (attempt 1)",
    ]
    lines = results_of(project)
    assert [(r["id"], r["event"], r["actor"]) for r in lines] == [
        ("teaser/yt-main", "published", "acme-bot"),
        ("teaser/x-us", "publish_failed", "acme-bot"),
    ]
    subject = git(project.root, "log", "-1", "--format=%s", STATE_REF)
    assert subject == "record 2 result(s) (acme-bot)"


def test_a_channels_reporters_add_to_the_defaults(project: Project, tmp_path: Path) -> None:
    tiktok = {"id": "teaser/tiktok-fr", "attempt": 1, "result": "published"}
    x_us = {"id": "teaser/x-us", "attempt": 1, "result": "published"}
    result = from_event(project, event_file(tmp_path, [tiktok, x_us], sender="social-bot"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["recorded teaser/tiktok-fr: published (attempt 1)"]
    assert result.stderr.splitlines() == [
        "Error: teaser/x-us: sender 'social-bot' is not among the reporters of channel 'x-us'"
    ]
    assert [(r["id"], r["actor"]) for r in results_of(project)] == [
        ("teaser/tiktok-fr", "social-bot")
    ]
    defaults = from_event(project, event_file(tmp_path, [x_us], sender="acme-bot"))
    assert defaults.exit_code == 0, defaults.output


@pytest.mark.parametrize(
    ("item", "sender", "message"),
    [
        pytest.param(
            {"id": "teaser/x-us", "attempt": 1, "result": "published"},
            "mallory",
            "teaser/x-us: sender 'mallory' is not among the reporters of channel 'x-us'",
            id="not-a-reporter",
        ),
        pytest.param(
            {"id": "teaser/x-us", "attempt": 2, "result": "published"},
            "acme-bot",
            "teaser/x-us: attempt 2 was never dispatched (dispatched: [1])",
            id="attempt-not-dispatched",
        ),
        pytest.param(
            {"id": "launch/yt-main", "attempt": 1, "result": "published"},
            "acme-bot",
            "launch/yt-main: it was never dispatched",
            id="never-dispatched",
        ),
        pytest.param(
            {"id": "nope/x-us", "attempt": 1, "result": "published"},
            "acme-bot",
            "nope/x-us: no such publication",
            id="unknown-id",
        ),
        pytest.param(
            {"id": "teaser/x-us", "attempt": 1, "result": "published", "url": "http://x.example/1"},
            "acme-bot",
            "teaser/x-us: url must be an https: URL",
            id="http-url",
        ),
        pytest.param(
            {"id": "teaser/x-us", "attempt": 1, "result": "failed", "reason": "x" * 600},
            "acme-bot",
            "teaser/x-us: reason must be under 500 characters",
            id="long-reason",
        ),
        pytest.param(
            {"id": "teaser/x-us", "attempt": 1, "result": "deleted"},
            "acme-bot",
            "teaser/x-us: result must be published or failed, not 'deleted'",
            id="bad-result",
        ),
    ],
)
def test_a_refused_result_from_an_event_is_listed_and_not_recorded(
    project: Project, tmp_path: Path, item: dict[str, Any], sender: str, message: str
) -> None:
    head = state_head(project)
    result = from_event(project, event_file(tmp_path, [item], sender=sender))
    assert result.exit_code == 1
    assert f"Error: {message}" in result.stderr
    assert state_head(project) == head


def test_a_batch_records_the_good_results_and_lists_the_bad(
    project: Project, tmp_path: Path
) -> None:
    path = event_file(
        tmp_path,
        [
            {"id": "teaser/yt-main", "attempt": 1, "result": "published", "url": URL},
            {"id": "teaser/x-us", "attempt": 7, "result": "published"},
            {"id": "teaser/x-us", "result": "published"},
            {"id": "teaser/tiktok-frr", "attempt": 1, "result": "published"},
        ],
    )
    result = from_event(project, path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["recorded teaser/yt-main: published (attempt 1)"]
    assert result.stderr.splitlines() == [
        "Error: results[2]: needs id (string), attempt (integer) and result (string)",
        "Error: teaser/x-us: attempt 7 was never dispatched (dispatched: [1])",
        "Error: teaser/tiktok-frr: no such publication (did you mean 'teaser/tiktok-fr'?)",
    ]
    assert [r["id"] for r in results_of(project)] == ["teaser/yt-main"]


def test_the_same_result_twice_in_one_event_is_recorded_once(
    project: Project, tmp_path: Path
) -> None:
    item = {"id": "teaser/x-us", "attempt": 1, "result": "published"}
    result = from_event(project, event_file(tmp_path, [item, item]))
    assert result.exit_code == 0, result.output
    assert len(results_of(project)) == 1
    again = from_event(project, event_file(tmp_path, [item]))
    assert again.stdout.splitlines() == ["already recorded: teaser/x-us published (attempt 1)"]


def test_a_failed_result_cannot_undo_a_published_one(project: Project, tmp_path: Path) -> None:
    published = {"id": "teaser/x-us", "attempt": 1, "result": "published"}
    failed = {"id": "teaser/x-us", "attempt": 1, "result": "failed", "reason": "oops"}
    result = from_event(project, event_file(tmp_path, [published, failed]))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: teaser/x-us: attempt 1 is already recorded published; a failed result cannot "
        "undo that (it would let the video go out again): check the receiver"
    ]
    by_hand = project.cli("record", "teaser/x-us", "--result", "failed", now="17:40")
    assert by_hand.exit_code == 1
    assert [r["event"] for r in results_of(project)] == ["published"]
    assert status_of(project, "teaser/x-us") == "completed"


def test_a_published_result_may_follow_a_failed_one(project: Project) -> None:
    assert project.cli("record", "teaser/x-us", "--result", "failed", now="17:20").exit_code == 0
    later = project.cli("record", "teaser/x-us", "--result", "published", now="17:25")
    assert later.exit_code == 0, later.output
    assert [r["event"] for r in results_of(project)] == ["publish_failed", "published"]
    assert status_of(project, "teaser/x-us") == "completed"


def write_raw(tmp_path: Path, content: str | bytes) -> Path:
    """Write ``content`` as the event file and return its path."""
    path = tmp_path / "event.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


GOOD = {"id": "teaser/x-us", "attempt": 1, "result": "published"}


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        pytest.param("{not json", 2, "cannot read a JSON event", id="not-json"),
        pytest.param(b"\xff\xfe\x00", 2, "cannot read a JSON event", id="not-utf8"),
        pytest.param("", 2, "cannot read a JSON event", id="empty"),
        pytest.param("[1, 2]", 1, "the event is not a JSON object", id="a-list"),
        pytest.param('"text"', 1, "the event is not a JSON object", id="a-string"),
        pytest.param(
            json.dumps({"sender": {"login": "acme-bot"}}),
            1,
            'client_payload must be {"results": [',
            id="no-payload",
        ),
        pytest.param(
            json.dumps({"sender": {"login": "acme-bot"}, "client_payload": {"results": {"id": 1}}}),
            1,
            'client_payload must be {"results": [',
            id="results-not-a-list",
        ),
        pytest.param(
            json.dumps({"client_payload": {"results": [GOOD]}}),
            1,
            "the event has no sender.login: results are accepted only from reporters",
            id="no-sender",
        ),
        pytest.param(
            json.dumps({"sender": {"login": 42}, "client_payload": {"results": [GOOD]}}),
            1,
            "the event has no sender.login",
            id="login-not-a-string",
        ),
        pytest.param(
            json.dumps({"sender": "acme-bot", "client_payload": {"results": [GOOD]}}),
            1,
            "the event has no sender.login",
            id="sender-not-an-object",
        ),
        pytest.param(
            json.dumps(
                {
                    "action": "publish",
                    "sender": {"login": "acme-bot"},
                    "client_payload": {"results": [GOOD]},
                }
            ),
            1,
            "the event is 'publish', not a publication-result",
            id="other-action",
        ),
        pytest.param(
            json.dumps(
                {
                    "sender": {"login": "acme-bot"},
                    "client_payload": {"results": [{**GOOD, "attempt": True}]},
                }
            ),
            1,
            "results[0]: needs id (string), attempt (integer) and result (string)",
            id="attempt-bool",
        ),
        pytest.param(
            json.dumps(
                {
                    "sender": {"login": "acme-bot"},
                    "client_payload": {"results": [{**GOOD, "url": 5}]},
                }
            ),
            1,
            "results[0]: url and reason must be strings",
            id="url-not-a-string",
        ),
        pytest.param(
            json.dumps(
                {"sender": {"login": "acme-bot"}, "client_payload": {"results": ["x", None]}}
            ),
            1,
            "results[1]: needs id",
            id="items-not-objects",
        ),
    ],
)
def test_a_malformed_event_file_is_a_clear_error(
    project: Project, tmp_path: Path, content: str | bytes, code: int, message: str
) -> None:
    head = state_head(project)
    result = from_event(project, write_raw(tmp_path, content))
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stderr.startswith("Error: ")
    assert state_head(project) == head


def test_a_missing_event_file_is_a_usage_error(project: Project, tmp_path: Path) -> None:
    result = from_event(project, tmp_path / "absent.json")
    assert result.exit_code == 2
    assert "cannot read a JSON event" in result.stderr


def test_from_event_with_an_id_is_a_usage_error(project: Project, tmp_path: Path) -> None:
    path = event_file(tmp_path, [GOOD])
    result = project.cli("record", "teaser/x-us", "--from-event", str(path), now="17:30")
    assert result.exit_code == 2
    assert "not both" in result.stderr


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("x\n::error::forged annotation", id="newline-workflow-command"),
        pytest.param("\x1b[31mred\x1b[0m", id="terminal-escape"),
        pytest.param("<img src=x onerror=alert(1)>" + "a" * 300, id="long-html"),
    ],
)
def test_untrusted_ids_are_printed_on_one_escaped_line(
    project: Project, tmp_path: Path, bad_id: str
) -> None:
    result = from_event(project, event_file(tmp_path, [{**GOOD, "id": bad_id}]))
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ") and "no such publication" in line
    assert "\x1b" not in line and len(line) < 250


def test_a_sender_login_with_a_newline_is_printed_escaped(project: Project, tmp_path: Path) -> None:
    result = from_event(project, event_file(tmp_path, [GOOD], sender="bot\n::error::x"))
    assert result.exit_code == 1
    assert not any(line.startswith("::") for line in result.output.splitlines())


def test_a_recorded_url_never_reaches_html_unescaped(project: Project, tmp_path: Path) -> None:
    attack = "https://x.example/<script>alert(1)</script>"
    path = event_file(tmp_path, [{**GOOD, "url": attack}])
    assert from_event(project, path).exit_code == 1
    out = tmp_path / "calendar.html"
    html = project.cli(
        "timeline", "--format", "html", "--include-private", "-o", str(out), now="17:30"
    )
    assert html.exit_code == 0, html.output
    page = out.read_text()
    assert "<script>alert" not in page
    shown_text = project.cli("show", "teaser/x-us", now="17:30")
    assert "<script>" not in shown_text.stdout


# --------------------------------------------------------------------------- pure pieces


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        pytest.param(URL, True, id="plain"),
        pytest.param("https://x.example/a%20b?q=1&r=(2)#frag", True, id="encoded"),
        pytest.param("HTTPS://X.EXAMPLE/", True, id="upper-case-scheme"),
        pytest.param("https://", False, id="no-host"),
        pytest.param("https:///path", False, id="empty-host"),
        pytest.param("ftp://x.example/", False, id="ftp"),
        pytest.param("https://x.example/\u00e9", False, id="non-ascii"),
        pytest.param("https://x.example/`x`", False, id="backtick"),
        pytest.param("https://[::1", False, id="broken-ipv6"),
    ],
)
def test_url_problem(url: str, accepted: bool) -> None:
    assert (url_problem(url) is None) is accepted


def test_shown_escapes_and_cuts() -> None:
    assert shown("a\nb\tc") == "a\\nb\\tc"
    assert shown("x" * 200, 10) == "xxxxxxx..."


def test_results_from_event_reads_the_documented_payload() -> None:
    event = {
        "action": "publication-result",
        "sender": {"login": "acme-bot"},
        "client_payload": {
            "results": [{"id": "a/b", "attempt": 2, "result": "published", "url": URL}]
        },
    }
    assert results_from_event(event) == (
        [Confirmation("a/b", "published", 2, URL, None)],
        "acme-bot",
        [],
    )
