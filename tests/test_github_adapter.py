"""GitHubDispatcher against the fake GitHub server, with the real PyGithub client."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import github
import pytest

from scheduler.adapters.github import GitHubDispatcher
from scheduler.errors import DispatchConfigError
from scheduler.ports import DispatchRequest
from tests import fakegithub
from tests.fakegithub import FakeGitHub, Reply, Step, rate_limited, secondary_rate_limited

fake_github = fakegithub.fake_github

SCHEDULER_TOKEN = "sched-0123456789abcdef0123456789abcdef"
GITHUB_TOKEN = "ghs_fedcba9876543210fedcba9876543210"
THIS_REPO = "acme/scheduler"
TARGET = "acme/publisher"
POST_PATH = f"/repos/{TARGET}/dispatches"


@dataclass
class Setup:
    """The fake server, the waits the dispatcher asked for, and a dispatcher factory."""

    fake: FakeGitHub
    waits: list[float]

    def dispatcher(self, **overrides: Any) -> GitHubDispatcher:
        """Return a dispatcher on the fake server; ``overrides`` replace the test defaults."""
        settings: dict[str, Any] = {
            "api_url": self.fake.url,
            "scheduler_token": SCHEDULER_TOKEN,
            "github_token": GITHUB_TOKEN,
            "this_repo": THIS_REPO,
            "spacing": 0.0,
            "timeout": 5.0,
            "sleep": self.waits.append,
        }
        return GitHubDispatcher(**{**settings, **overrides})


@pytest.fixture
def setup(fake_github: FakeGitHub) -> Iterator[Setup]:
    """Yield the fake with the publisher (scheduler token) and this repository (its own token)."""
    fake_github.add_repo(TARGET, token=SCHEDULER_TOKEN)
    fake_github.add_repo(THIS_REPO, token=GITHUB_TOKEN)
    yield Setup(fake_github, [])


def request(repo: str | None = TARGET, **payload: Any) -> DispatchRequest:
    """Return a small dispatch request to ``repo``."""
    body = payload or {"publications": [{"id": "launch/yt-main"}], "run": "1-1"}
    return DispatchRequest(repo, "publish", body, ("launch/yt-main",))


def closed_port_url() -> str:
    """Return the URL of a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- send: statuses


@pytest.mark.parametrize(
    ("steps", "kind", "reason", "retryable", "status"),
    [
        pytest.param([], "ok", None, False, 204, id="204-ok"),
        pytest.param([401], "failed", "auth", False, 401, id="401-auth"),
        pytest.param([403], "failed", "auth", False, 403, id="403-auth"),
        pytest.param([404], "failed", "auth", False, 404, id="404-auth"),
        pytest.param([422], "failed", "rejected", False, 422, id="422-rejected"),
        pytest.param([500], "unknown", None, False, 500, id="500-unknown"),
        pytest.param([502], "unknown", None, False, 502, id="502-unknown"),
    ],
)
def test_send_classifies_each_status_after_exactly_one_post(
    setup: Setup,
    steps: list[Step],
    kind: str,
    reason: str | None,
    retryable: bool,
    status: int,
) -> None:
    setup.fake.script(TARGET, steps)

    outcome = setup.dispatcher().send(request())

    assert (outcome.kind, outcome.reason, outcome.retryable) == (kind, reason, retryable)
    assert outcome.status == status
    assert f"HTTP {status}" in outcome.detail
    assert setup.fake.count("POST", POST_PATH) == 1
    assert len(setup.fake.dispatches) == (1 if kind == "ok" else 0)
    assert setup.waits == []


def test_an_accepted_dispatch_carries_the_event_type_and_payload(setup: Setup) -> None:
    setup.dispatcher().send(request(items=[1, 2], run="9-1"))

    [dispatch] = setup.fake.dispatches
    assert (dispatch.repo, dispatch.event_type) == (TARGET, "publish")
    assert dispatch.client_payload == {"items": [1, 2], "run": "9-1"}


def test_the_message_of_github_is_in_the_detail_on_one_line(setup: Setup) -> None:
    setup.fake.script(TARGET, [Reply(422, {"message": "Invalid request.\n\nNo event_type."})])

    outcome = setup.dispatcher().send(request())

    assert outcome.detail == f"POST {POST_PATH}: HTTP 422 Invalid request. No event_type."


# --------------------------------------------------------------------------- send: no answer


@pytest.mark.parametrize(
    ("step", "received", "expected"),
    [
        pytest.param("slow:1", True, "no answer within 0.3 s", id="timeout-after-acceptance"),
        pytest.param("drop", True, "connection lost after sending", id="dropped-after-reading"),
        pytest.param("drop-before", False, "connection lost", id="dropped-before-reading"),
    ],
)
def test_send_without_an_answer_is_unknown_and_never_resent(
    setup: Setup, step: Step, received: bool, expected: str
) -> None:
    setup.fake.script(TARGET, [step])

    outcome = setup.dispatcher(timeout=0.3).send(request())

    assert (outcome.kind, outcome.reason, outcome.status) == ("unknown", None, None)
    assert expected in outcome.detail
    assert setup.fake.count("POST", POST_PATH) == 1
    assert len(setup.fake.dispatches) == (1 if received else 0)


def test_connection_refused_is_a_retryable_failure(setup: Setup) -> None:
    dispatcher = setup.dispatcher(api_url=closed_port_url())

    outcomes = [dispatcher.send(request()), dispatcher.check_repo(TARGET)]

    assert [(o.kind, o.reason, o.retryable) for o in outcomes] == [("failed", "refused", True)] * 2
    assert all("could not connect" in o.detail for o in outcomes)


# --------------------------------------------------------------------------- send: rate limits


@pytest.mark.parametrize(
    ("limit", "wait"),
    [
        pytest.param(429, 1.0, id="429-retry-after"),
        pytest.param(secondary_rate_limited(retry_after=2), 2.0, id="403-secondary-retry-after"),
        pytest.param(rate_limited(reset_in=2), 3.0, id="403-primary-reset"),
        pytest.param(Reply(429, {"message": "slow down"}), 60.0, id="429-without-headers"),
    ],
)
def test_a_rate_limit_is_waited_out_and_sent_again(setup: Setup, limit: Step, wait: float) -> None:
    setup.fake.script(TARGET, [limit])

    outcome = setup.dispatcher().send(request())

    assert (outcome.kind, outcome.status) == ("ok", 204)
    assert setup.waits == [wait]
    assert setup.fake.count("POST", POST_PATH) == 2
    assert len(setup.fake.dispatches) == 1


def test_a_rate_limit_beyond_the_budget_fails_retryable(setup: Setup) -> None:
    setup.fake.script(TARGET, [429, 429])

    outcome = setup.dispatcher(rate_limit_budget=1.5).send(request())

    assert (outcome.kind, outcome.reason, outcome.retryable) == ("failed", "rate_limited", True)
    assert outcome.status == 429
    assert setup.waits == [1.0]
    assert setup.fake.count("POST", POST_PATH) == 2
    assert setup.fake.dispatches == []


def test_the_budget_counts_every_wait_of_the_dispatcher(setup: Setup) -> None:
    dispatcher = setup.dispatcher(rate_limit_budget=1.0)
    setup.fake.script(TARGET, [429])
    first = dispatcher.send(request())
    setup.fake.script(TARGET, [429])
    second = dispatcher.send(request())

    assert (first.kind, second.kind, second.reason) == ("ok", "failed", "rate_limited")
    assert setup.waits == [1.0]
    assert dispatcher.waited == 1.0
    assert setup.fake.count("POST", POST_PATH) == 3


def test_a_plain_403_with_rate_limit_headers_left_is_auth(setup: Setup) -> None:
    setup.fake.script(TARGET, [Reply(403, {"message": "Must have admin rights"})])

    outcome = setup.dispatcher().send(request())

    assert (outcome.kind, outcome.reason) == ("failed", "auth")
    assert setup.waits == []


# --------------------------------------------------------------------------- check_repo


@pytest.mark.parametrize(
    ("repo", "steps", "kind", "reason", "retryable"),
    [
        pytest.param(TARGET, [], "ok", None, False, id="200-ok"),
        pytest.param("acme/missing", [], "failed", "auth", False, id="unknown-repo-404"),
        pytest.param(TARGET, [401], "failed", "auth", False, id="401-auth"),
        pytest.param(TARGET, [403], "failed", "auth", False, id="403-auth"),
        pytest.param(TARGET, [500], "failed", "refused", True, id="500-not-unknown"),
        pytest.param(TARGET, ["drop"], "failed", "refused", True, id="dropped-not-unknown"),
    ],
)
def test_check_repo_sends_one_get_and_is_never_unknown(
    setup: Setup, repo: str, steps: list[Step], kind: str, reason: str | None, retryable: bool
) -> None:
    setup.fake.script(repo, steps, endpoint="repo")

    outcome = setup.dispatcher().check_repo(repo)

    assert (outcome.kind, outcome.reason, outcome.retryable) == (kind, reason, retryable)
    assert [(m, p) for m, p, _ in setup.fake.requests] == [("GET", f"/repos/{repo}")]


def test_check_repo_with_a_token_the_repo_refuses_is_auth(setup: Setup) -> None:
    outcome = setup.dispatcher(scheduler_token="another-token-without-access").check_repo(TARGET)

    assert (outcome.kind, outcome.reason, outcome.status) == ("failed", "auth", 401)
    assert "SCHEDULER_TOKEN" in outcome.detail


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("repo", "this_repo", "token"),
    [
        pytest.param(THIS_REPO, THIS_REPO, GITHUB_TOKEN, id="this-repo-github-token"),
        pytest.param(THIS_REPO, "ACME/Scheduler", GITHUB_TOKEN, id="this-repo-any-case"),
        pytest.param(TARGET, THIS_REPO, SCHEDULER_TOKEN, id="other-repo-scheduler-token"),
    ],
)
def test_the_token_depends_on_the_target(
    setup: Setup, repo: str, this_repo: str, token: str
) -> None:
    outcome = setup.dispatcher(this_repo=this_repo).send(request(repo))

    assert outcome.kind == "ok"
    assert [d.token for d in setup.fake.dispatches] == [token]


@pytest.mark.parametrize(
    ("repo", "overrides", "variable"),
    [
        pytest.param(TARGET, {"scheduler_token": None}, "SCHEDULER_TOKEN", id="other-repo"),
        pytest.param(TARGET, {"scheduler_token": ""}, "SCHEDULER_TOKEN", id="other-repo-empty"),
        pytest.param(
            TARGET, {"scheduler_token": None, "this_repo": None}, "SCHEDULER_TOKEN", id="no-this"
        ),
        pytest.param(THIS_REPO, {"github_token": None}, "GITHUB_TOKEN", id="this-repo"),
    ],
)
def test_a_missing_token_fails_auth_naming_the_variable_without_a_request(
    setup: Setup, repo: str, overrides: dict[str, Any], variable: str
) -> None:
    dispatcher = setup.dispatcher(**overrides)

    outcomes = [dispatcher.send(request(repo)), dispatcher.check_repo(repo)]

    for outcome in outcomes:
        assert (outcome.kind, outcome.reason, outcome.retryable) == ("failed", "auth", False)
        assert outcome.detail.startswith(f"{variable} is not set")
        assert f"required to dispatch to {repo}" in outcome.detail
    assert setup.fake.requests == []


def test_tokens_never_appear_in_details_or_repr(setup: Setup) -> None:
    echo = Reply(401, {"message": f"Bad credentials: {SCHEDULER_TOKEN}"})
    setup.fake.script(TARGET, [echo, 403, 404, 422, 500, "drop", 429, 429])
    dispatcher = setup.dispatcher(rate_limit_budget=0.5)

    outcomes = [dispatcher.send(request()) for _ in range(7)]
    outcomes += [dispatcher.check_repo(THIS_REPO), dispatcher.check_repo("acme/missing")]
    outcomes.append(setup.dispatcher(api_url=closed_port_url()).send(request()))
    text = " ".join([o.detail for o in outcomes] + [repr(dispatcher), repr(outcomes)])

    assert "Bad credentials: ***" in text
    assert SCHEDULER_TOKEN not in text
    assert GITHUB_TOKEN not in text


# --------------------------------------------------------------------------- GitHub's limits


def sized_payload(total: int) -> dict[str, str]:
    """Return a one-key payload whose compact JSON is ``total`` bytes long."""
    return {"k": "x" * (total - len('{"k":""}'))}


@pytest.mark.parametrize(
    ("event_type", "payload", "kind"),
    [
        pytest.param("e" * 100, {"a": 1}, "ok", id="event-type-100"),
        pytest.param("e" * 101, {"a": 1}, "failed", id="event-type-101"),
        pytest.param("", {"a": 1}, "failed", id="event-type-empty"),
        pytest.param("publish", {f"k{i}": i for i in range(10)}, "ok", id="10-keys"),
        pytest.param("publish", {f"k{i}": i for i in range(11)}, "failed", id="11-keys"),
        pytest.param("publish", sized_payload(65535), "ok", id="payload-65535-bytes"),
        pytest.param("publish", sized_payload(65536), "failed", id="payload-65536-bytes"),
    ],
)
def test_the_fake_enforces_the_limits_of_github(
    setup: Setup, event_type: str, payload: dict[str, Any], kind: str
) -> None:
    outcome = setup.dispatcher().send(DispatchRequest(TARGET, event_type, payload, ("x",)))

    accepted = kind == "ok"
    assert (outcome.kind, outcome.status) == (kind, 204 if accepted else 422)
    assert outcome.reason == (None if accepted else "rejected")
    assert len(setup.fake.dispatches) == (1 if accepted else 0)


# --------------------------------------------------------------------------- spacing, input


def test_writes_are_spaced(setup: Setup) -> None:
    dispatcher = setup.dispatcher(spacing=0.2)

    dispatcher.send(request())
    dispatcher.send(request())

    first, second = setup.fake.dispatches
    assert second.at - first.at >= 0.2


@pytest.mark.parametrize(
    "repo",
    [
        pytest.param(None, id="no-repo"),
        pytest.param("acme", id="no-owner"),
        pytest.param("acme/pub/extra", id="three-parts"),
        pytest.param("acme/..", id="dot-dot"),
    ],
)
def test_a_request_without_a_valid_repo_is_rejected_unsent(setup: Setup, repo: str | None) -> None:
    outcome = setup.dispatcher().send(request(repo))

    assert (outcome.kind, outcome.reason) == ("failed", "rejected")
    assert setup.fake.requests == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"api_url": "api.example.com"}, "is not an http(s) URL", id="no-scheme"),
        pytest.param({"api_url": "ftp://example.com"}, "is not an http(s) URL", id="ftp"),
        pytest.param({"timeout": 0}, "timeout must be positive", id="timeout-zero"),
        pytest.param({"spacing": -1}, "must not be negative", id="negative-spacing"),
    ],
)
def test_bad_settings_are_refused(setup: Setup, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(DispatchConfigError, match=re.escape(message)):
        setup.dispatcher(**overrides)


# --------------------------------------------------------------------------- the fake itself


def test_the_fake_serves_actions_and_issues_to_pygithub(setup: Setup) -> None:
    fake = setup.fake
    runs = [{"created_at": "2030-01-01T10:00:00Z", "status": "completed", "conclusion": "failure"}]
    fake.set_workflow(THIS_REPO, "tick.yml", state="disabled_inactivity", runs=runs)
    client = github.Github(
        base_url=fake.url,
        auth=github.Auth.Token(GITHUB_TOKEN),
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    repo = client.get_repo(THIS_REPO)
    workflow = repo.get_workflow("tick.yml")

    assert (repo.full_name, repo.default_branch) == (THIS_REPO, "main")
    assert workflow.state == "disabled_inactivity"
    assert [run.conclusion for run in workflow.get_runs()] == ["failure"]
    assert workflow.enable() is True
    assert fake.enabled == [(THIS_REPO, "tick.yml")]

    issue = repo.create_issue("Scheduler: trouble", body="details", labels=["scheduler"])
    issue.create_comment("still failing")
    open_issues = list(repo.get_issues(state="open", labels=["scheduler"]))
    issue.edit(state="closed")

    assert [i.number for i in open_issues] == [issue.number]
    assert fake.comments == [(THIS_REPO, issue.number, "still failing")]
    assert list(repo.get_issues(state="open", labels=["scheduler"])) == []
