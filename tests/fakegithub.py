"""A fake GitHub REST API on 127.0.0.1 that the real PyGithub client talks to.

Use the ``fake_github`` fixture, or ``with FakeGitHub() as server:``; point PyGithub at
``server.url``. Repositories are registered with :meth:`FakeGitHub.add_repo`; every request is
logged in ``server.requests`` as ``(method, path, status)`` (status ``None`` when the connection
was dropped), accepted dispatches land in ``server.dispatches``.

Faults are scripted per repository and endpoint with :meth:`FakeGitHub.script`: each request
consumes one step, then the endpoint behaves normally again. A step is

- a status code (``401``, ``403``, ``404``, ``422``, ``429``, ``500``, ``502``, ...), answered
  with GitHub's error JSON and nothing recorded (``429`` carries ``Retry-After: 1``);
- a :class:`Reply` (status, JSON body, headers; ``reset_in`` adds the headers of an exhausted
  primary rate limit), or :func:`rate_limited` / :func:`secondary_rate_limited`;
- ``"slow:<seconds>"``: the request is handled (a dispatch is recorded), then answered late;
- ``"drop"``: the request is read and handled (recorded), then the socket is closed unanswered;
- ``"drop-before"``: the socket is closed before the body is read; nothing is recorded.

Endpoints are rows of :data:`ROUTES` (method, path pattern, endpoint name, handler); a handler
takes the server and a :class:`Call` and returns a :class:`Reply`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

DOCS_URL = "https://docs.github.com/rest"
PAYLOAD_LIMIT = 65536
PAYLOAD_MAX_KEYS = 10
EVENT_TYPE_MAX = 100
STAMP = "2030-01-01T00:00:00Z"

MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Resource not accessible by personal access token",
    404: "Not Found",
    422: "Validation Failed",
    429: "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again.",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Reply:
    """One answer: status, JSON body (``None``: no body), headers.

    ``reset_in`` adds the headers of an exhausted primary rate limit resetting that many seconds
    after the answer is sent (``x-ratelimit-remaining: 0``, ``x-ratelimit-reset``).
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    reset_in: float | None = None


Step = int | str | Reply


@dataclass(frozen=True)
class Dispatch:
    """An accepted ``repository_dispatch`` request; ``at`` is ``time.monotonic()`` on receipt."""

    repo: str
    event_type: str
    client_payload: Any
    token: str | None
    at: float


@dataclass(frozen=True)
class Call:
    """A request as a route handler sees it; ``repo`` is the registered full name."""

    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    token: str | None
    repo: str

    def json(self) -> Any:
        """Return the parsed JSON body; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body or b"null")


Handler = Callable[["FakeGitHub", Call], Reply]


@dataclass(frozen=True)
class Route:
    """One endpoint: ``pattern`` is matched against the whole path."""

    method: str
    pattern: str
    name: str
    handler: Handler


def error_reply(status: int, message: str | None = None, errors: Sequence[Any] = ()) -> Reply:
    """Return GitHub's error JSON for ``status``; ``429`` carries ``Retry-After: 1``."""
    text = message or MESSAGES.get(status) or HTTPStatus(status).phrase
    body: dict[str, Any] = {"message": text, "documentation_url": DOCS_URL}
    if errors:
        body["errors"] = list(errors)
    headers = {"retry-after": "1"} if status == 429 else {}
    return Reply(status, body, headers)


def rate_limited(reset_in: float = 1.0) -> Reply:
    """Return a 403 of an exhausted primary rate limit that resets in ``reset_in`` seconds."""
    body = {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS_URL}
    return Reply(403, body, reset_in=reset_in)


def secondary_rate_limited(retry_after: int = 1, status: int = 403) -> Reply:
    """Return a secondary rate limit answer carrying ``Retry-After``."""
    body = {"message": MESSAGES[429], "documentation_url": DOCS_URL}
    return Reply(status, body, {"retry-after": str(retry_after)})


# --------------------------------------------------------------------------- the server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeGitHub

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep handler failures quiet (a client that gave up); they are kept in ``errors``."""
        self.fake.errors.append(traceback.format_exc())


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self.server.fake.serve(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


class FakeGitHub:
    """A fake GitHub API server running in a background thread until :meth:`close`."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.routes: list[Route] = list(ROUTES)
        self.requests: list[tuple[str, str, int | None]] = []
        self.dispatches: list[Dispatch] = []
        self.enabled: list[tuple[str, str]] = []
        self.comments: list[tuple[str, int, str]] = []
        self.errors: list[str] = []
        self.repos: dict[str, dict[str, Any]] = {}
        self.workflows: dict[str, dict[str, dict[str, Any]]] = {}
        self.issues: dict[str, list[dict[str, Any]]] = {}
        self._scripts: dict[tuple[str, str], list[Step]] = {}
        self._lock = threading.RLock()
        self._ids = iter(range(1000, 10**9))
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # ----------------------------------------------------------------------- set-up

    def add_repo(
        self,
        full_name: str,
        *,
        token: str | Iterable[str] | None = None,
        default_branch: str = "main",
    ) -> None:
        """Register ``owner/name``; ``token`` lists the tokens allowed (default: any)."""
        tokens = {token} if isinstance(token, str) else set(token or ())
        owner, name = full_name.split("/")
        with self._lock:
            self.repos[full_name.lower()] = {
                "full_name": full_name,
                "owner": owner,
                "name": name,
                "id": next(self._ids),
                "tokens": tokens,
                "default_branch": default_branch,
            }

    def script(self, repo: str, responses: Iterable[Step], *, endpoint: str = "dispatches") -> None:
        """Queue ``responses`` for the next requests to ``endpoint`` of ``repo``."""
        with self._lock:
            self._scripts.setdefault((repo.lower(), endpoint), []).extend(responses)

    def set_workflow(
        self,
        repo: str,
        file: str,
        *,
        state: str = "active",
        runs: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Create or update the workflow ``file`` (``tick.yml``); ``runs`` replaces its runs."""
        with self._lock:
            flows = self.workflows.setdefault(repo.lower(), {})
            flow = flows.setdefault(file, {"id": next(self._ids), "file": file, "runs": []})
            flow["state"] = state
            if runs is not None:
                flow["runs"] = [dict(run) for run in runs]

    def add_issue(
        self, repo: str, title: str, *, body: str = "", labels: Iterable[str] = ()
    ) -> int:
        """Open an issue in ``repo`` and return its number."""
        with self._lock:
            return self._new_issue(repo, {"title": title, "body": body, "labels": list(labels)})

    def dispatches_to(self, repo: str) -> list[Dispatch]:
        """Return the accepted dispatches to ``repo``, oldest first."""
        return [d for d in self.dispatches if d.repo.lower() == repo.lower()]

    def count(self, method: str, path: str) -> int:
        """Return how many requests ``method path`` the server received."""
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))

    # ----------------------------------------------------------------------- serving

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request (called in the handler's thread)."""
        parts = urlsplit(handler.path)
        route, params = self._route(handler.command, parts.path)
        key = f"{params.get('owner', '')}/{params.get('name', '')}".lower()
        step = self._next_step(key, route.name if route else "")
        if step == "drop-before":
            self._log(handler, None)
            handler.close_connection = True
            return
        if self.latency:
            time.sleep(self.latency)
        length = int(handler.headers.get("Content-Length") or 0)
        call = Call(
            method=handler.command,
            path=parts.path,
            params=params,
            query=dict(parse_qsl(parts.query)),
            body=handler.rfile.read(length),
            token=_token(handler.headers.get("Authorization")),
            repo=key,
        )
        self._answer(handler, route, call, step)

    def _answer(
        self, handler: BaseHTTPRequestHandler, route: Route | None, call: Call, step: Step | None
    ) -> None:
        if isinstance(step, int):
            reply = error_reply(step)
        elif isinstance(step, Reply):
            reply = step
        else:
            reply = self._handle(route, call)
        self._log(handler, None if step == "drop" else reply.status)
        if step == "drop":
            handler.close_connection = True
            return
        if isinstance(step, str) and step.startswith("slow:"):
            time.sleep(float(step.removeprefix("slow:")))
        _write(handler, reply)

    def _handle(self, route: Route | None, call: Call) -> Reply:
        if route is None:
            return error_reply(404)
        with self._lock:
            repo = self.repos.get(call.repo)
            if call.token is None:
                return error_reply(401, "Requires authentication")
            if repo is None:
                return error_reply(404)
            if repo["tokens"] and call.token not in repo["tokens"]:
                return error_reply(401)
            return route.handler(self, replace(call, repo=repo["full_name"]))

    def _route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            match = re.fullmatch(route.pattern, path)
            if route.method == method and match:
                return route, match.groupdict()
        return None, {}

    def _next_step(self, repo: str, endpoint: str) -> Step | None:
        with self._lock:
            queue = self._scripts.get((repo, endpoint))
            return queue.pop(0) if queue else None

    def _log(self, handler: BaseHTTPRequestHandler, status: int | None) -> None:
        with self._lock:
            self.requests.append((handler.command, urlsplit(handler.path).path, status))

    # ----------------------------------------------------------------------- state helpers

    def api(self, path: str) -> str:
        """Return the absolute API url of ``path``."""
        return f"{self.url}{path}"

    def next_id(self) -> int:
        """Return a fresh object id."""
        return next(self._ids)

    def workflow(self, repo: str, file_or_id: str) -> dict[str, Any] | None:
        """Return the workflow known by file name or id, or ``None``."""
        for flow in self.workflows.get(repo.lower(), {}).values():
            if file_or_id in (flow["file"], str(flow["id"])):
                return flow
        return None

    def issue(self, repo: str, number: int) -> dict[str, Any] | None:
        """Return the stored issue ``number`` of ``repo``, or ``None``."""
        found = [i for i in self.issues.get(repo.lower(), []) if i["number"] == number]
        return found[0] if found else None

    def _new_issue(self, repo: str, fields: Mapping[str, Any]) -> int:
        stored = self.issues.setdefault(repo.lower(), [])
        number = len(stored) + 1
        path = f"/repos/{self.repos[repo.lower()]['full_name']}/issues/{number}"
        labels = [_label(self, name) for name in fields.get("labels", [])]
        stored.append(
            {
                "id": self.next_id(),
                "number": number,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "state": "open",
                "labels": labels,
                "comments": 0,
                "url": self.api(path),
                "html_url": self.api(path),
                "comments_url": self.api(f"{path}/comments"),
                "user": {"login": "scheduler-bot", "id": 1},
                "created_at": STAMP,
                "updated_at": STAMP,
                "closed_at": None,
            }
        )
        return number


def _token(header: str | None) -> str | None:
    """Return the token of ``Authorization: token X`` or ``Bearer X``, else ``None``."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


def _write(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Send ``reply``; a client that already gave up is ignored."""
    now = time.time()
    data = b"" if reply.body is None else json.dumps(reply.body).encode()
    headers = {
        "Date": formatdate(now, usegmt=True),
        "Server": "fake-github",
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": str(int(now) + 3600),
        **reply.headers,
    }
    if reply.reset_in is not None:
        headers |= {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(now + reply.reset_in)),
        }
    if reply.status != 204:
        headers |= {"Content-Type": "application/json; charset=utf-8"}
        headers |= {"Content-Length": str(len(data))}
    try:
        handler.send_response_only(reply.status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:
        handler.close_connection = True


# --------------------------------------------------------------------------- endpoints

REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
WORKFLOW = REPO + r"/actions/workflows/(?P<workflow>[^/]+)"
ISSUE = REPO + r"/issues/(?P<number>[0-9]+)"


def _repo_json(fake: FakeGitHub, call: Call) -> Reply:
    """``GET /repos/{owner}/{repo}``."""
    repo = fake.repos[call.repo.lower()]
    full = repo["full_name"]
    body = {
        "id": repo["id"],
        "node_id": f"R_{repo['id']}",
        "name": repo["name"],
        "full_name": full,
        "private": True,
        "visibility": "private",
        "owner": {
            "login": repo["owner"],
            "id": repo["id"] + 1,
            "type": "Organization",
            "url": fake.api(f"/users/{repo['owner']}"),
        },
        "html_url": fake.api(f"/{full}"),
        "url": fake.api(f"/repos/{full}"),
        "issues_url": fake.api(f"/repos/{full}/issues{{/number}}"),
        "default_branch": repo["default_branch"],
        "archived": False,
        "disabled": False,
        "permissions": {"admin": False, "push": True, "pull": True},
        "created_at": STAMP,
        "updated_at": STAMP,
        "pushed_at": STAMP,
    }
    return Reply(200, body)


def dispatch_problems(body: Any) -> list[dict[str, str]]:
    """Return GitHub-shaped validation errors of a dispatch body (empty when valid)."""
    if not isinstance(body, dict):
        return [_invalid("body", "the body must be a JSON object")]
    event_type = body.get("event_type")
    problems = []
    if not isinstance(event_type, str) or not 1 <= len(event_type) <= EVENT_TYPE_MAX:
        problems.append(_invalid("event_type", "event_type must be 1 to 100 characters"))
    payload = body.get("client_payload", {})
    if not isinstance(payload, dict):
        problems.append(_invalid("client_payload", "client_payload must be an object"))
    elif len(payload) > PAYLOAD_MAX_KEYS:
        problems.append(_invalid("client_payload", "No more than 10 properties are allowed"))
    elif len(json.dumps(payload, separators=(",", ":")).encode()) >= PAYLOAD_LIMIT:
        problems.append(_invalid("client_payload", "client_payload must be less than 64 KB"))
    return problems


def _invalid(name: str, message: str) -> dict[str, str]:
    return {"resource": "Repository", "field": name, "code": "invalid", "message": message}


def _dispatch(fake: FakeGitHub, call: Call) -> Reply:
    """``POST /repos/{owner}/{repo}/dispatches``: validate, record, 204."""
    try:
        body = call.json()
    except ValueError:
        return error_reply(400)
    problems = dispatch_problems(body)
    if problems:
        return error_reply(422, problems[0]["message"], problems)
    payload = body.get("client_payload", {})
    fake.dispatches.append(
        Dispatch(call.repo, body["event_type"], payload, call.token, time.monotonic())
    )
    return Reply(204)


def _workflow_json(fake: FakeGitHub, repo: str, flow: Mapping[str, Any]) -> dict[str, Any]:
    path = f"/repos/{repo}/actions/workflows/{flow['id']}"
    return {
        "id": flow["id"],
        "node_id": f"W_{flow['id']}",
        "name": flow["file"].rsplit(".", 1)[0],
        "path": f".github/workflows/{flow['file']}",
        "state": flow["state"],
        "created_at": STAMP,
        "updated_at": STAMP,
        "url": fake.api(path),
        "html_url": fake.api(f"/{repo}/actions/workflows/{flow['file']}"),
        "badge_url": fake.api(f"/{repo}/workflows/{flow['file']}/badge.svg"),
    }


def _get_workflow(fake: FakeGitHub, call: Call) -> Reply:
    """``GET /repos/{owner}/{repo}/actions/workflows/{file}``."""
    flow = fake.workflow(call.repo, call.params["workflow"])
    return Reply(200, _workflow_json(fake, call.repo, flow)) if flow else error_reply(404)


def _run_json(fake: FakeGitHub, call: Call, flow: Mapping[str, Any], run: Mapping[str, Any]) -> Any:
    run_id = run.get("id") or fake.next_id()
    return {
        "id": run_id,
        "name": flow["file"].rsplit(".", 1)[0],
        "workflow_id": flow["id"],
        "event": "schedule",
        "head_branch": "main",
        "status": "completed",
        "conclusion": "success",
        "updated_at": run.get("created_at", STAMP),
        "run_started_at": run.get("created_at", STAMP),
        "url": fake.api(f"/repos/{call.repo}/actions/runs/{run_id}"),
        "html_url": fake.api(f"/{call.repo}/actions/runs/{run_id}"),
        **run,
    }


def _get_runs(fake: FakeGitHub, call: Call) -> Reply:
    """``GET .../actions/workflows/{file}/runs``: newest first, ``status`` filter honoured."""
    flow = fake.workflow(call.repo, call.params["workflow"])
    if flow is None:
        return error_reply(404)
    runs = [_run_json(fake, call, flow, run) for run in flow["runs"]]
    wanted = call.query.get("status")
    runs = [r for r in runs if wanted in (None, r["status"], r["conclusion"])]
    runs.sort(key=lambda r: str(r.get("created_at", "")), reverse=True)
    return Reply(200, {"total_count": len(runs), "workflow_runs": runs})


def _enable_workflow(fake: FakeGitHub, call: Call) -> Reply:
    """``PUT .../actions/workflows/{file}/enable``: 204, recorded in ``enabled``."""
    flow = fake.workflow(call.repo, call.params["workflow"])
    if flow is None:
        return error_reply(404)
    flow["state"] = "active"
    fake.enabled.append((call.repo, flow["file"]))
    return Reply(204)


def _list_issues(fake: FakeGitHub, call: Call) -> Reply:
    """``GET /repos/{owner}/{repo}/issues?labels=a,b&state=open``."""
    state = call.query.get("state", "open")
    labels = {name for name in call.query.get("labels", "").split(",") if name}
    found = [
        issue
        for issue in fake.issues.get(call.repo.lower(), [])
        if state in ("all", issue["state"])
        and labels <= {label["name"] for label in issue["labels"]}
    ]
    return Reply(200, found)


def _create_issue(fake: FakeGitHub, call: Call) -> Reply:
    """``POST /repos/{owner}/{repo}/issues``: 201 with the new issue."""
    body = call.json()
    if not isinstance(body, dict) or not body.get("title"):
        return error_reply(422, "Validation Failed", [_invalid("title", "title is required")])
    number = fake._new_issue(call.repo, body)
    return Reply(201, fake.issue(call.repo, number))


def _edit_issue(fake: FakeGitHub, call: Call) -> Reply:
    """``PATCH /repos/{owner}/{repo}/issues/{n}``: title, body, state, labels."""
    issue = fake.issue(call.repo, int(call.params["number"]))
    if issue is None:
        return error_reply(404)
    changes = call.json() or {}
    for key in ("title", "body", "state"):
        if key in changes:
            issue[key] = changes[key]
    if "labels" in changes:
        issue["labels"] = [_label(fake, name) for name in changes["labels"]]
    issue["closed_at"] = STAMP if issue["state"] == "closed" else None
    return Reply(200, issue)


def _comment_issue(fake: FakeGitHub, call: Call) -> Reply:
    """``POST /repos/{owner}/{repo}/issues/{n}/comments``: 201, recorded in ``comments``."""
    number = int(call.params["number"])
    issue = fake.issue(call.repo, number)
    if issue is None:
        return error_reply(404)
    text = (call.json() or {}).get("body", "")
    issue["comments"] += 1
    fake.comments.append((call.repo, number, text))
    comment_id = fake.next_id()
    path = f"/repos/{call.repo}/issues/comments/{comment_id}"
    return Reply(
        201,
        {
            "id": comment_id,
            "body": text,
            "user": {"login": "scheduler-bot", "id": 1},
            "url": fake.api(path),
            "html_url": fake.api(f"/{call.repo}/issues/{number}#issuecomment-{comment_id}"),
            "created_at": STAMP,
            "updated_at": STAMP,
        },
    )


def _label(fake: FakeGitHub, name: str) -> dict[str, Any]:
    return {"id": fake.next_id(), "name": name, "color": "ededed", "url": fake.api(f"/{name}")}


ROUTES: tuple[Route, ...] = (
    Route("GET", REPO, "repo", _repo_json),
    Route("POST", REPO + "/dispatches", "dispatches", _dispatch),
    Route("GET", WORKFLOW, "workflow", _get_workflow),
    Route("GET", WORKFLOW + "/runs", "workflow_runs", _get_runs),
    Route("PUT", WORKFLOW + "/enable", "workflow_enable", _enable_workflow),
    Route("GET", REPO + "/issues", "issues", _list_issues),
    Route("POST", REPO + "/issues", "issue_create", _create_issue),
    Route("PATCH", ISSUE, "issue_edit", _edit_issue),
    Route("POST", ISSUE + "/comments", "issue_comment", _comment_issue),
)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """Yield a running :class:`FakeGitHub`; it is shut down after the test."""
    with FakeGitHub() as server:
        yield server
