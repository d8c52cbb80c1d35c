"""The GitHub adapter: ``repository_dispatch`` through PyGithub.

This is the only module that imports ``github``. :class:`GitHubDispatcher` implements
:class:`scheduler.ports.Dispatcher` and classifies every answer exactly (SPEC section 5): a POST
is never sent twice after an ambiguous outcome, rate limits are waited out within a budget, and
tokens never reach an outcome, a log line or a ``repr``.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import urllib3.exceptions
from github.Auth import Token
from github.Requester import Requester

from scheduler.errors import DispatchConfigError
from scheduler.ports import DispatchOutcome, DispatchRequest

Verb = Literal["GET", "POST"]

THIS_REPO_TOKEN = "GITHUB_TOKEN"
OTHER_REPO_TOKEN = "SCHEDULER_TOKEN"
USER_AGENT = "scheduler (PyGithub)"
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}")
MIN_WAIT = 1.0
UNSPECIFIED_WAIT = 60.0
DETAIL_LIMIT = 300
SECRET_MIN = 8
CONNECTION_ERRORS = (OSError, urllib3.exceptions.HTTPError)


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer: status, lower-cased headers and GitHub's message (one line)."""

    status: int
    headers: Mapping[str, Any]
    message: str


class GitHubDispatcher:
    """Sends ``repository_dispatch`` events and checks target repositories (the command side).

    One PyGithub requester per token, created on first use, with no automatic retry (a POST is
    never re-sent on 5xx), no spacing between reads and ``spacing`` seconds between writes.
    Rate-limit waits (``sleep``) add up per dispatcher; past ``rate_limit_budget`` seconds a
    rate-limited request is ``failed``/``rate_limited`` and retryable.
    """

    def __init__(
        self,
        *,
        api_url: str,
        scheduler_token: str | None,
        github_token: str | None,
        this_repo: str | None,
        spacing: float = 1.0,
        timeout: float = 30.0,
        rate_limit_budget: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_settings(spacing=spacing, timeout=timeout, rate_limit_budget=rate_limit_budget)
        self._api_url = _checked_api_url(api_url)
        self._tokens = {
            OTHER_REPO_TOKEN: scheduler_token or None,
            THIS_REPO_TOKEN: github_token or None,
        }
        self._this_repo = this_repo
        self._spacing = spacing
        self._timeout = timeout
        self._budget = rate_limit_budget
        self._sleep = sleep
        self._monotonic = monotonic
        self._waited = 0.0
        self._requesters: dict[str, Requester] = {}

    def __repr__(self) -> str:
        tokens = sorted(name for name, value in self._tokens.items() if value)
        return (
            f"GitHubDispatcher(api_url={self._api_url!r}, this_repo={self._this_repo!r}, "
            f"tokens set={tokens}, spacing={self._spacing!r}, timeout={self._timeout!r})"
        )

    @property
    def waited(self) -> float:
        """Return the seconds spent waiting out rate limits so far."""
        return self._waited

    def check_repo(self, repo: str) -> DispatchOutcome:
        """Return whether ``GET /repos/{repo}`` succeeds with the token ``repo`` needs (query).

        Nothing is sent by a GET, so the outcome is ``ok`` or ``failed``, never ``unknown``.
        """
        return self._exchange("GET", repo, None)

    def send(self, request: DispatchRequest) -> DispatchOutcome:
        """POST one ``repository_dispatch`` request and return its classified outcome (command)."""
        if request.repo is None:
            names = ", ".join(request.ids) or "this request"
            detail = f"{names}: no dispatch repository; such publications go through the outbox"
            return DispatchOutcome("failed", reason="rejected", detail=detail)
        body = {"event_type": request.event_type, "client_payload": dict(request.client_payload)}
        return self._exchange("POST", request.repo, body)

    def close(self) -> None:
        """Close the HTTP connections of every requester."""
        for requester in self._requesters.values():
            requester.close()
        self._requesters.clear()

    # ----------------------------------------------------------------------- internals

    def _exchange(self, verb: Verb, repo: str, body: Any) -> DispatchOutcome:
        """Return the outcome of one request to ``repo`` after the checks that need no network."""
        if not REPO_NAME.fullmatch(repo):
            detail = f"{repo!r} is not a GitHub repository name (owner/name)"
            return DispatchOutcome("failed", reason="rejected", detail=detail)
        variable = self._token_variable(repo)
        token = self._tokens[variable]
        if token is None:
            return _missing_token(variable, repo, self._this_repo)
        path = f"/repos/{repo}/dispatches" if verb == "POST" else f"/repos/{repo}"
        outcome = self._request(self._requester(variable, token), verb, path, body)
        if outcome.reason == "auth":
            outcome = replace(outcome, detail=f"{outcome.detail} ({_auth_hint(variable, repo)})")
        return replace(outcome, detail=_scrubbed(outcome.detail, self._tokens.values()))

    def _request(self, requester: Requester, verb: Verb, path: str, body: Any) -> DispatchOutcome:
        """Return the outcome of ``verb path``, waiting out rate limits within the budget."""
        while True:
            try:
                status, headers, output = requester.requestJson(verb, path, input=body)
            except CONNECTION_ERRORS as exc:
                return _connection_outcome(verb, path, exc, self._timeout)
            answer = _Answer(status, headers, _message(output))
            wait = _rate_limit_wait(answer)
            if wait is None:
                return _status_outcome(verb, path, answer)
            if self._waited + wait > self._budget:
                return self._out_of_budget(verb, path, answer, wait)
            self._wait(wait)

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` and count them (or the longer time really spent) in the budget."""
        started = self._monotonic()
        self._sleep(seconds)
        self._waited += max(seconds, self._monotonic() - started)

    def _out_of_budget(
        self, verb: Verb, path: str, answer: _Answer, wait: float
    ) -> DispatchOutcome:
        """Return the retryable ``rate_limited`` failure of a wait the budget cannot afford."""
        detail = (
            f"{verb} {path}: HTTP {answer.status} rate limited ({answer.message}); waiting "
            f"{wait:g} s more would pass the {self._budget:g} s budget "
            f"(already waited {self._waited:g} s)"
        )
        return DispatchOutcome(
            "failed", reason="rate_limited", retryable=True, detail=detail, status=answer.status
        )

    def _token_variable(self, repo: str) -> str:
        """Return the name of the variable whose token may dispatch to ``repo``."""
        if self._this_repo and repo.lower() == self._this_repo.lower():
            return THIS_REPO_TOKEN
        return OTHER_REPO_TOKEN

    def _requester(self, variable: str, token: str) -> Requester:
        """Return the requester of ``variable``'s token, creating it on first use.

        ``github.Github()`` insists on a whole number of seconds for ``timeout``; the requester
        it wraps passes the value to ``requests``, which takes fractions, so it is built here.
        """
        if variable not in self._requesters:
            self._requesters[variable] = _requester(
                token, self._api_url, self._timeout, self._spacing
            )
        return self._requesters[variable]


def _requester(token: str, api_url: str, timeout: float, spacing: float) -> Requester:
    """A PyGithub requester configured on purpose: no automatic retry (a POST is never re-sent
    on 5xx), no spacing between reads, ``spacing`` seconds between writes."""
    return Requester(
        auth=Token(token),
        base_url=api_url,
        timeout=timeout,  # type: ignore[arg-type]
        user_agent=USER_AGENT,
        per_page=100,
        verify=True,
        retry=None,
        pool_size=None,
        seconds_between_requests=0,
        seconds_between_writes=spacing,
    )


# --------------------------------------------------------------------------- classification


def _status_outcome(verb: Verb, path: str, answer: _Answer) -> DispatchOutcome:
    """Return the outcome of an answer that is not a rate limit (SPEC section 5)."""
    status = answer.status
    detail = _one_line(f"{verb} {path}: HTTP {status} {answer.message}")
    if 200 <= status < 300:
        return DispatchOutcome("ok", detail=detail, status=status)
    if status in (401, 403, 404):
        return DispatchOutcome("failed", reason="auth", detail=detail, status=status)
    if status >= 500 and verb == "POST":
        detail += "; the request may have been accepted, so it is not sent again"
        return DispatchOutcome("unknown", detail=detail, status=status)
    if status >= 500:
        return DispatchOutcome(
            "failed", reason="refused", retryable=True, detail=detail, status=status
        )
    return DispatchOutcome("failed", reason="rejected", detail=detail, status=status)


def _connection_outcome(
    verb: Verb, path: str, exc: BaseException, timeout: float
) -> DispatchOutcome:
    """Return the outcome of a request that got no answer.

    Only a connection that was never made proves that nothing was sent; after a POST went out,
    a timeout or a lost connection is ``unknown``.
    """
    chain = list(_exception_chain(exc))
    cause = _one_line(str(chain[-1]) or type(chain[-1]).__name__)
    if _never_connected(chain):
        detail = f"{verb} {path}: could not connect ({cause})"
        return DispatchOutcome("failed", reason="refused", retryable=True, detail=detail)
    if verb == "GET":
        detail = f"{verb} {path}: no answer ({cause})"
        return DispatchOutcome("failed", reason="refused", retryable=True, detail=detail)
    if _timed_out(chain):
        detail = f"{verb} {path}: no answer within {timeout:g} s"
    else:
        detail = f"{verb} {path}: connection lost after sending ({cause})"
    detail += "; the request may have been accepted, so it is not sent again"
    return DispatchOutcome("unknown", detail=detail)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and every exception it wraps (causes, contexts, ``reason``, ``args``)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += list(current.args)
        pending += [item for item in wrapped if isinstance(item, BaseException)]


def _never_connected(chain: list[BaseException]) -> bool:
    """Return whether the failure happened while connecting, before anything was sent."""
    kinds = (urllib3.exceptions.ConnectTimeoutError, ConnectionRefusedError)
    return any(isinstance(item, kinds) for item in chain)


def _timed_out(chain: list[BaseException]) -> bool:
    """Return whether the failure is a read timeout."""
    return any(isinstance(item, TimeoutError | urllib3.exceptions.TimeoutError) for item in chain)


def _rate_limit_wait(answer: _Answer) -> float | None:
    """Return the seconds to wait before sending again when ``answer`` is a rate limit, else None.

    ``Retry-After`` wins; then an exhausted primary limit waits until ``x-ratelimit-reset`` (plus
    one second, both being whole seconds); a rate limit that says neither waits one minute, as
    GitHub's documentation asks. Every wait lasts at least one second.
    """
    if answer.status not in (403, 429):
        return None
    headers = answer.headers
    if "retry-after" in headers:
        return max(_retry_after(headers), MIN_WAIT)
    if str(headers.get("x-ratelimit-remaining")) == "0":
        return max(_until_reset(headers), MIN_WAIT)
    if answer.status == 429 or Requester.isRateLimitError(answer.message.lower()):
        return UNSPECIFIED_WAIT
    return None


def _retry_after(headers: Mapping[str, Any]) -> float:
    """Return the seconds ``Retry-After`` asks for (a number or an HTTP date)."""
    value = str(headers["retry-after"])
    try:
        return float(value)
    except ValueError:
        return _seconds_between(headers.get("date"), value)


def _until_reset(headers: Mapping[str, Any]) -> float:
    """Return the seconds from the answer's ``Date`` until ``x-ratelimit-reset``, plus one."""
    try:
        reset = float(headers["x-ratelimit-reset"])
        server_now = email.utils.parsedate_to_datetime(str(headers["date"])).timestamp()
    except (KeyError, TypeError, ValueError):
        return UNSPECIFIED_WAIT
    return reset - server_now + 1.0


def _seconds_between(start: Any, end: str) -> float:
    """Return the seconds from HTTP date ``start`` to HTTP date ``end`` (a minute if unreadable)."""
    try:
        first = email.utils.parsedate_to_datetime(str(start))
        last = email.utils.parsedate_to_datetime(end)
        return (last - first).total_seconds()
    except (TypeError, ValueError):
        return UNSPECIFIED_WAIT


# --------------------------------------------------------------------------- messages


def _message(output: str) -> str:
    """Return GitHub's message (and validation errors) from a response body, on one line."""
    try:
        data = json.loads(output) if output else None
    except ValueError:
        return _one_line(output)[:100]
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        text = error.get("message") if isinstance(error, dict) else error
        if text and str(text) not in parts:
            parts.append(str(text))
    return _one_line("; ".join(part for part in parts if part))


def _missing_token(variable: str, repo: str, this_repo: str | None) -> DispatchOutcome:
    """Return the auth failure of a token that is not set, naming the variable to set."""
    if variable == THIS_REPO_TOKEN:
        detail = f"{variable} is not set: it is required to dispatch to {repo} (this repository)"
    else:
        where = f" ({this_repo})" if this_repo else ""
        detail = (
            f"{variable} is not set: it is required to dispatch to {repo} "
            f"({THIS_REPO_TOKEN} is used only for this repository{where})"
        )
    return DispatchOutcome("failed", reason="auth", retryable=False, detail=detail)


def _auth_hint(variable: str, repo: str) -> str:
    """Return what to check after an auth failure."""
    return f"check that the token in {variable} is valid and may write to {repo}"


def _one_line(text: str) -> str:
    """Return ``text`` on one line, at most ``DETAIL_LIMIT`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= DETAIL_LIMIT else flat[: DETAIL_LIMIT - 3] + "..."


def _scrubbed(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with every secret replaced by ``***``.

    Details are built without tokens; this guards against a server echoing one. Values shorter
    than ``SECRET_MIN`` characters are no real token and would only garble the text.
    """
    for secret in secrets:
        if secret and len(secret) >= SECRET_MIN:
            text = text.replace(secret, "***")
    return text


def _checked_api_url(api_url: str) -> str:
    """Return ``api_url`` without a trailing slash; raise when it is no http(s) URL."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DispatchConfigError(
            f"GITHUB_API_URL {api_url!r} is not an http(s) URL; "
            "leave it unset for https://api.github.com"
        )
    return api_url.rstrip("/")


def _check_settings(*, spacing: float, timeout: float, rate_limit_budget: float) -> None:
    """Raise when a dispatch setting is out of range."""
    if spacing < 0 or rate_limit_budget < 0:
        raise DispatchConfigError("dispatch spacing and rate-limit budget must not be negative")
    if timeout <= 0:
        raise DispatchConfigError("the dispatch timeout must be positive")


# --------------------------------------------------------------------------- Actions API


@dataclass(frozen=True)
class WorkflowHealth:
    """What the Actions API says of one workflow: its state and its newest run's start."""

    state: str | None
    last_run: str | None  # created_at of the newest run, ISO 8601
    error: str | None = None


def workflow_health(
    *, api_url: str, token: str | None, repo: str, workflow: str, timeout: float = 30.0
) -> WorkflowHealth:
    """``GET /repos/{repo}/actions/workflows/{workflow}`` and its newest run (query)."""
    if not token:
        return WorkflowHealth(
            None, None, f"{THIS_REPO_TOKEN} is not set: cannot ask the Actions API about {workflow}"
        )
    requester = _requester(token, _checked_api_url(api_url), timeout, 0.0)
    base = f"/repos/{repo}/actions/workflows/{workflow}"
    try:
        _, info = requester.requestJsonAndCheck("GET", base)
        _, runs = requester.requestJsonAndCheck("GET", base + "/runs", parameters={"per_page": 1})
    except Exception as exc:  # PyGithub raises many kinds; all mean "could not ask"
        detail = _scrubbed(
            _one_line(str(getattr(exc, "status", "")) + " " + type(exc).__name__), [token]
        )
        return WorkflowHealth(
            None, None, f"the Actions API did not answer about {workflow} ({detail.strip()})"
        )
    state = info.get("state") if isinstance(info, dict) else None
    items = runs.get("workflow_runs") if isinstance(runs, dict) else None
    last = (
        items[0].get("created_at")
        if isinstance(items, list) and items and isinstance(items[0], dict)
        else None
    )
    return WorkflowHealth(
        state if isinstance(state, str) else None, last if isinstance(last, str) else None
    )
