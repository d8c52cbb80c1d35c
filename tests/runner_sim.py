"""A small simulated GitHub Actions runner: it executes a workflow's jobs for real, offline.

:func:`run_workflow` reads a workflow from the bare "origin" at the event's commit (as GitHub
does), runs its jobs in ``needs`` order and returns a :class:`JobResult` per job. Each job gets
a fresh workspace, ``RUNNER_TEMP`` and ``HOME``, and GitHub's environment variables; every
``run:`` script runs under bash as the real runner runs it (``bash -e {0}``, or ``bash
--noprofile --norc -eo pipefail {0}`` for ``shell: bash``); ``GITHUB_OUTPUT``, ``GITHUB_ENV``,
``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY`` are fresh files per step, read back afterwards.

``uses:`` steps have local equivalents: ``actions/checkout`` fetches the origin into the
workspace (``fetch-depth``, ``ref``, ``persist-credentials``), ``actions/setup-python`` puts
this interpreter's bin directory first on ``PATH``, ``actions/github-script`` and the Pages
actions are recorded, not run. ``pip install`` scripts are checked word for word and skipped
(no network; the package is installed in this interpreter's environment).

Expressions (``${{ }}`` in ``env:``/``with:``/``outputs:``, and ``if:``) cover only what the
product's workflows use: contexts ``github``, ``inputs``, ``secrets``, ``vars``, ``steps``,
``needs``, ``env``, ``runner``; string literals, ``true``/``false``/``null``; ``==``, ``!=``,
``&&``, ``||``, ``!``, parentheses; ``success()``, ``failure()``, ``cancelled()``,
``always()``. Anything else raises :class:`UnsupportedError`, as does any workflow key the
runner does not model, so that a test can never pass by silently skipping a step.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PYTHON_BIN = Path(sys.executable).parent
STEP_TIMEOUT = 120
INSTALL_COMMANDS = (
    "python -m pip install --require-hashes -r requirements.lock",
    "python -m pip install --no-deps .",
)
CREDENTIALS_KEY = "http.https://github.com/.extraheader"
JOB_KEYS = {
    "name",
    "if",
    "needs",
    "runs-on",
    "timeout-minutes",
    "permissions",
    "env",
    "outputs",
    "steps",
    "defaults",
    "concurrency",
    "environment",
}
STEP_KEYS = {
    "name",
    "id",
    "if",
    "uses",
    "with",
    "run",
    "env",
    "shell",
    "working-directory",
    "continue-on-error",
    "timeout-minutes",
}
STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")


class UnsupportedError(AssertionError):
    """The workflow uses something this runner does not model: the test must not go on."""


# --------------------------------------------------------------------------- expressions

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||[!().,])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|(?P<other>\S))"
)
EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class Scope:
    """What an expression may read: contexts by name, and the status functions."""

    contexts: Mapping[str, Any]
    functions: Mapping[str, Callable[..., Any]]


def tokens(text: str) -> list[tuple[str, str]]:
    """Return ``(kind, text)`` pairs of an expression; raises on a character it cannot read."""
    found: list[tuple[str, str]] = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or ""
        if kind == "other":
            raise UnsupportedError(f"unsupported syntax {match.group(kind)!r} in {text!r}")
        found.append((kind, match.group(kind)))
    return found


class _Parser:
    """Recursive descent over the supported grammar, evaluating as it goes."""

    def __init__(self, text: str, scope: Scope) -> None:
        self.text, self.scope = text, scope
        self.items = tokens(text)
        self.pos = 0

    def parse(self) -> Any:
        """Return the value of the whole expression."""
        value = self.either()
        if self.pos != len(self.items):
            raise UnsupportedError(f"unexpected {self.items[self.pos][1]!r} in {self.text!r}")
        return value

    def peek(self) -> str:
        return self.items[self.pos][1] if self.pos < len(self.items) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.items):
            raise UnsupportedError(f"the expression {self.text!r} ends too early")
        item = self.items[self.pos]
        if expected is not None and item[1] != expected:
            raise UnsupportedError(f"expected {expected!r}, got {item[1]!r} in {self.text!r}")
        self.pos += 1
        return item

    def either(self) -> Any:
        value = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            value = value if truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            operator = self.take()[1]
            same = loose_equal(value, self.unary())
            value = same if operator == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if text == "(":
            value = self.either()
            self.take(")")
            return value
        if kind != "name":
            raise UnsupportedError(f"unexpected {text!r} in {self.text!r}")
        return self.named(text)

    def named(self, name: str) -> Any:
        literals: dict[str, Any] = {"true": True, "false": False, "null": None}
        if name in literals:
            return literals[name]
        if self.peek() == "(":
            return self.call(name)
        if name not in self.scope.contexts:
            raise UnsupportedError(f"unknown context {name!r} in {self.text!r}")
        value = self.scope.contexts[name]
        while self.peek() == ".":
            self.take()
            kind, text = self.take()
            if kind != "name":
                raise UnsupportedError(f"unsupported property {text!r} in {self.text!r}")
            value = member(value, text)
        return value

    def call(self, name: str) -> Any:
        function = self.scope.functions.get(name)
        if function is None:
            raise UnsupportedError(f"unsupported function {name}() in {self.text!r}")
        self.take("(")
        arguments = []
        while self.peek() != ")":
            arguments.append(self.either())
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        return function(*arguments)


def member(value: Any, name: str) -> Any:
    """Return ``value.name`` as GitHub does: case-insensitive, ``null`` when absent."""
    if not isinstance(value, Mapping):
        return None
    if name in value:
        return value[name]
    folded = {str(key).casefold(): item for key, item in value.items()}
    return folded.get(name.casefold())


def truthy(value: Any) -> bool:
    """Return GitHub's truthiness: null, false, 0, NaN and '' are false."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value) if isinstance(value, bool | int | float | str) else value is not None


def as_number(value: Any) -> float:
    """Return GitHub's numeric coercion (null -> 0, booleans -> 0/1, bad text -> NaN)."""
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(left: Any, right: Any) -> bool:
    """Return GitHub's ``==``: text case-insensitively, mixed types as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right):
        return bool(left == right)
    return as_number(left) == as_number(right)


def evaluate(text: str, scope: Scope) -> Any:
    """Return the value of one expression (the text inside ``${{ }}``)."""
    return _Parser(text, scope).parse()


def as_text(value: Any) -> str:
    """Return a value as GitHub puts it into a string; objects are refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    raise UnsupportedError(f"an object would be put into a string: {value!r}")


def interpolate(value: Any, scope: Scope) -> Any:
    """Return ``value`` with every ``${{ }}`` of a string replaced; other values as they are."""
    if not isinstance(value, str):
        return value
    whole = EMBEDDED.fullmatch(value.strip())
    if whole and value.strip().count("${{") == 1:
        return evaluate(whole.group(1), scope)
    return EMBEDDED.sub(lambda m: as_text(evaluate(m.group(1), scope)), value)


def condition_holds(condition: Any, scope: Scope) -> bool:
    """Return whether an ``if:`` holds; without a status function it means ``success() && (...)``."""
    if condition is None:
        condition = "success()"
    if isinstance(condition, bool):
        return condition
    text = str(condition).strip()
    whole = EMBEDDED.fullmatch(text)
    if whole:
        text = whole.group(1).strip()
    if "${{" in text:
        raise UnsupportedError(f"an if: mixing text and expressions: {condition!r}")
    if not re.search(rf"\b({'|'.join(STATUS_FUNCTIONS)})\s*\(", text):
        text = f"success() && ({text})"
    return truthy(evaluate(text, scope))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Event:
    """The event that starts a run: its name, its JSON payload, the ref and commit it is on."""

    name: str
    payload: Mapping[str, Any]
    ref: str
    sha: str


@dataclass(frozen=True)
class Annotation:
    """A ``::error``/``::warning``/``::notice`` workflow command a step printed."""

    level: str
    properties: Mapping[str, str]
    message: str


@dataclass
class StepResult:
    """One step as it ran: ``outcome`` is ``success``, ``failure`` or ``skipped``."""

    name: str
    step_id: str | None
    outcome: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    script: str | None = None
    note: str = ""

    @property
    def annotations(self) -> list[Annotation]:
        """Return the annotations the step printed, in order."""
        return list(workflow_annotations(self.stdout))


@dataclass
class JobResult:
    """One job: ``result`` is ``success``, ``failure`` or ``skipped``."""

    name: str
    result: str
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    workspace: Path | None = None

    def step(self, key: str) -> StepResult:
        """Return the step whose id (or else name) is ``key``."""
        for step in self.steps:
            if key in (step.step_id, step.name):
                return step
        raise KeyError(f"job {self.name} has no step {key!r}")

    def ran(self) -> list[StepResult]:
        """Return the steps that were not skipped."""
        return [step for step in self.steps if step.outcome != "skipped"]


@dataclass(frozen=True)
class RunnerConfig:
    """The repository and the runner machine: where jobs run and what they are given."""

    root: Path
    origin: Path
    api_url: str
    repository: str
    actor: str = "octocat"
    run_id: int = 4242
    run_attempt: int = 1
    secrets: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    python_bin: Path = PYTHON_BIN
    tool_dirs: Sequence[Path] = ()
    machine_env: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- workflow files


def read_workflow(text: str) -> dict[str, Any]:
    """Return a workflow document, YAML 1.1's ``on: -> True`` key put back as ``"on"``."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise UnsupportedError("a workflow must be a mapping")
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def workflow_at(origin: Path, sha: str, name: str) -> dict[str, Any]:
    """Return ``.github/workflows/<name>`` as committed at ``sha`` in ``origin``."""
    done = subprocess.run(
        ["git", "show", f"{sha}:.github/workflows/{name}"],
        cwd=origin,
        capture_output=True,
        text=True,
        check=False,
        env=_git_only_env(),
    )
    if done.returncode != 0:
        raise UnsupportedError(f"no workflow {name} at {sha}: {done.stderr.strip()}")
    return read_workflow(done.stdout)


def _git_only_env() -> dict[str, str]:
    """Return a minimal environment for the runner's own git calls."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }


def job_order(jobs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Return the job names so that every job comes after the jobs it needs."""
    order: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in trail or name not in jobs:
            raise UnsupportedError(f"bad needs: {' -> '.join((*trail, name))}")
        for need in needs_of(jobs[name]):
            visit(need, (*trail, name))
        order.append(name)

    for name in jobs:
        visit(name, ())
    return order


def needs_of(job: Mapping[str, Any]) -> list[str]:
    """Return the job's ``needs`` as a list."""
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def workflow_inputs(doc: Mapping[str, Any], event: Event) -> dict[str, Any]:
    """Return the ``inputs`` context of a workflow_dispatch, checked as GitHub checks them."""
    if event.name != "workflow_dispatch":
        return {}
    trigger = doc["on"].get("workflow_dispatch") or {}
    declared: Mapping[str, Any] = trigger.get("inputs") or {}
    given: Mapping[str, Any] = event.payload.get("inputs") or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise UnsupportedError(f"GitHub refuses undeclared inputs {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec.get("default", ""))
        if spec.get("required") and value == "":
            raise UnsupportedError(f"GitHub refuses a run without the input {name!r}")
        if spec.get("type") == "choice" and value not in spec.get("options", []):
            raise UnsupportedError(f"GitHub refuses {value!r} for the choice input {name!r}")
        values[name] = value
    return values


# --------------------------------------------------------------------------- file commands


def parse_file_command(text: str, what: str) -> dict[str, str]:
    """Return the ``name=value`` and ``name<<DELIM`` entries of a GITHUB_OUTPUT/ENV file."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip():
            continue
        name, heredoc, delimiter = line.partition("<<")
        if heredoc and ("=" not in name):
            values[name] = _heredoc(lines, delimiter, what, name)
        elif "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
        else:
            raise UnsupportedError(f"{what}: GitHub cannot read the line {line!r}")
    return values


def _heredoc(lines: Iterator[str], delimiter: str, what: str, name: str) -> str:
    """Return the lines up to ``delimiter``; raises when it never comes."""
    body: list[str] = []
    for line in lines:
        if line == delimiter:
            return "\n".join(body)
        body.append(line)
    raise UnsupportedError(f"{what}: the value of {name!r} never ends (no {delimiter!r} line)")


def workflow_annotations(stdout: str) -> Iterator[Annotation]:
    """Yield the ``::error``, ``::warning`` and ``::notice`` commands of a step's output."""
    pattern = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")
    for line in stdout.splitlines():
        match = pattern.match(line)
        if match:
            props = dict(
                _unescape(part).split("=", 1) for part in (match.group(2) or "").split(",") if part
            )
            yield Annotation(match.group(1), props, _unescape(match.group(3)))


def _unescape(text: str) -> str:
    """Return workflow-command text with GitHub's %-escapes undone."""
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


# --------------------------------------------------------------------------- the runner


def run_workflow(
    name: str, event: Event, config: RunnerConfig, *, only: Sequence[str] = ()
) -> dict[str, JobResult]:
    """Run the workflow ``name`` (read from origin at the event's commit); return its jobs.

    ``only`` limits the run to those jobs (the others are reported skipped).
    """
    doc = workflow_at(config.origin, event.sha, name)
    jobs: Mapping[str, dict[str, Any]] = doc.get("jobs") or {}
    inputs = workflow_inputs(doc, event)
    results: dict[str, JobResult] = {}
    for job_name in job_order(jobs):
        if only and job_name not in only:
            results[job_name] = JobResult(job_name, "skipped")
            continue
        run = _JobRun(doc, job_name, event, config, inputs, results)
        results[job_name] = run.execute()
    return results


class _JobRun:
    """One job on a fresh machine: workspace, temp dir, home, and the state steps share."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        name: str,
        event: Event,
        config: RunnerConfig,
        inputs: Mapping[str, Any],
        done: Mapping[str, JobResult],
    ) -> None:
        self.doc, self.name, self.event, self.config = doc, name, event, config
        self.job: Mapping[str, Any] = doc["jobs"][name]
        self.inputs = inputs
        self.needs = {n: done[n] for n in needs_of(self.job)}
        base = config.root / f"run-{config.run_id}-{config.run_attempt}" / name
        self.workspace, self.temp, self.home = base / "work", base / "temp", base / "home"
        self.env: dict[str, str] = {}
        self.path: list[str] = []
        self.steps: dict[str, dict[str, Any]] = {}
        self.failed = False
        self.summary: list[str] = []

    # -- job level

    def execute(self) -> JobResult:
        """Run the job's steps if its ``if:`` holds; return what happened."""
        unknown = set(self.job) - JOB_KEYS
        if unknown:
            raise UnsupportedError(f"job {self.name}: unsupported keys {sorted(unknown)}")
        if not condition_holds(self.job.get("if"), self.job_scope()):
            return JobResult(self.name, "skipped")
        for folder in (self.workspace, self.temp, self.home):
            folder.mkdir(parents=True)
        self.env = {k: as_text(v) for k, v in (self.doc.get("env") or {}).items()}
        self.env |= self.evaluated_env(self.job.get("env"), self.job_scope())
        results = [self.run_step(i, step) for i, step in enumerate(self.job.get("steps", []))]
        outputs = {
            key: as_text(interpolate(value, self.step_scope()))
            for key, value in (self.job.get("outputs") or {}).items()
        }
        return JobResult(
            self.name,
            "failure" if self.failed else "success",
            results,
            outputs,
            "".join(self.summary),
            self.workspace,
        )

    def github_context(self) -> dict[str, Any]:
        """Return the ``github`` context of this job."""
        ref = self.event.ref
        owner = self.config.repository.split("/")[0]
        pull = self.event.payload.get("pull_request") or {}
        return {
            "event_name": self.event.name,
            "event": self.event.payload,
            "ref": ref,
            "ref_name": re.sub(r"^refs/(heads|tags|pull)/", "", ref),
            "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
            "sha": self.event.sha,
            "repository": self.config.repository,
            "repository_owner": owner,
            "actor": self.config.actor,
            "triggering_actor": self.config.actor,
            "run_id": str(self.config.run_id),
            "run_number": "1",
            "run_attempt": str(self.config.run_attempt),
            "server_url": "https://github.com",
            "api_url": self.config.api_url,
            "workflow": self.doc.get("name", ""),
            "job": self.name,
            "workspace": str(self.workspace),
            "head_ref": (pull.get("head") or {}).get("ref", ""),
            "base_ref": (pull.get("base") or {}).get("ref", ""),
        }

    def default_env(self) -> dict[str, str]:
        """Return the variables GitHub sets for every step."""
        github = self.github_context()
        env = {f"GITHUB_{k.upper()}": str(v) for k, v in github.items() if k != "event"}
        return env | {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_PATH": str(self.event_file()),
            "GITHUB_GRAPHQL_URL": f"{self.config.api_url}/graphql",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(self.temp),
            "HOME": str(self.home),
        }

    def event_file(self) -> Path:
        """Return the event JSON file, written on first use."""
        path = self.temp / "_github_workflow" / "event.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.event.payload), encoding="utf-8")
        return path

    def functions(self, success: Callable[[], bool]) -> dict[str, Callable[[], bool]]:
        """Return the status functions, ``success`` deciding the first two."""
        return {
            "success": success,
            "failure": lambda: not success(),
            "cancelled": lambda: False,
            "always": lambda: True,
        }

    def job_scope(self) -> Scope:
        """Return what a job-level ``if:`` or ``env:`` may read."""
        needs = {n: {"result": r.result, "outputs": r.outputs} for n, r in self.needs.items()}
        contexts = {
            "github": self.github_context(),
            "inputs": self.inputs,
            "vars": dict(self.config.variables),
            "needs": needs,
            "secrets": self.secrets(),
        }
        return Scope(contexts, self.functions(lambda: all(r == "success" for r in self.results())))

    def results(self) -> list[str]:
        return [result.result for result in self.needs.values()]

    def step_scope(self) -> Scope:
        """Return what a step's ``if:``, ``env:`` and ``with:`` may read."""
        contexts = dict(self.job_scope().contexts)
        contexts |= {
            "steps": self.steps,
            "env": dict(self.env),
            "runner": {"os": "Linux", "arch": "X64", "temp": str(self.temp)},
        }
        functions: dict[str, Callable[..., Any]] = dict(self.functions(lambda: not self.failed))
        functions["hashFiles"] = self.hash_files
        return Scope(contexts, functions)

    def hash_files(self, *patterns: str) -> str:
        """GitHub's ``hashFiles``: one SHA-256 over the SHA-256 of every matching file, or ''."""
        matched = sorted(
            {
                path
                for pattern in patterns
                for path in self.workspace.glob(pattern)
                if path.is_file()
            }
        )
        if not matched:
            return ""
        outer = hashlib.sha256()
        for path in matched:
            outer.update(hashlib.sha256(path.read_bytes()).digest())
        return outer.hexdigest()

    def secrets(self) -> dict[str, str]:
        """Return the secrets; ``GITHUB_TOKEN`` is always there, as on GitHub."""
        return {"GITHUB_TOKEN": "ghs_runnertoken"} | dict(self.config.secrets)

    def evaluated_env(self, env: Mapping[str, Any] | None, scope: Scope) -> dict[str, str]:
        """Return an ``env:`` mapping with its expressions evaluated, as text."""
        return {str(k): as_text(interpolate(v, scope)) for k, v in (env or {}).items()}

    # -- step level

    def run_step(self, index: int, step: Mapping[str, Any]) -> StepResult:
        """Run one step if its ``if:`` holds; record its outcome for later steps."""
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise UnsupportedError(f"step {index} of {self.name}: unsupported {sorted(unknown)}")
        name = str(step.get("name") or step.get("uses") or step.get("run", "")).strip()
        result = StepResult(name, step.get("id"), "skipped")
        scope = self.step_scope()
        if condition_holds(step.get("if"), scope):
            result.env = self.evaluated_env(step.get("env"), scope)
            if "uses" in step:
                self.use_action(step, result, scope)
            else:
                self.run_script(index, step, result)
        self.settle(step, result)
        return result

    def settle(self, step: Mapping[str, Any], result: StepResult) -> None:
        """Record the step's outcome in the ``steps`` context and the job's status."""
        continue_on_error = step.get("continue-on-error", False)
        if not isinstance(continue_on_error, bool):
            raise UnsupportedError("continue-on-error must be true or false here")
        conclusion = result.outcome
        if result.outcome == "failure" and continue_on_error:
            conclusion = "success"
        if conclusion == "failure":
            self.failed = True
        if result.step_id:
            self.steps[result.step_id] = {
                "outputs": dict(result.outputs),
                "outcome": result.outcome,
                "conclusion": conclusion,
            }

    def process_env(self, step_env: Mapping[str, str]) -> dict[str, str]:
        """Return the environment a step's process gets."""
        machine = [str(d) for d in self.config.tool_dirs]
        system = [
            d
            for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if d and Path(d).resolve() != self.config.python_bin.resolve()
        ]
        env = {"LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1", **self.config.machine_env}
        env |= self.default_env() | self.env | dict(step_env)
        env["PATH"] = os.pathsep.join([*self.path, *machine, *system])
        return env

    def run_script(self, index: int, step: Mapping[str, Any], result: StepResult) -> None:
        """Run a ``run:`` script under bash (or check and skip a ``pip install`` script)."""
        script = str(step["run"])
        result.script = script
        if "pip install" in script:
            self.skip_install(script, result)
            return
        files = self.command_files(index)
        env = self.process_env(result.env) | {k: str(v) for k, v in files.items()}
        path = self.temp / f"step-{index}.sh"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            [*self.shell(step), str(path)],
            cwd=self.workdir(step),
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        result.exit_code, result.stdout, result.stderr = done.returncode, done.stdout, done.stderr
        result.outcome = "success" if done.returncode == 0 else "failure"
        self.read_command_files(files, result)

    def shell(self, step: Mapping[str, Any]) -> list[str]:
        """Return the shell command line of a step, as the runner chooses it."""
        defaults = (self.job.get("defaults") or self.doc.get("defaults") or {}).get("run", {})
        shell = step.get("shell", defaults.get("shell"))
        if shell is None:
            return ["bash", "-e"]
        if shell == "bash":
            return ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
        raise UnsupportedError(f"unsupported shell {shell!r}")

    def workdir(self, step: Mapping[str, Any]) -> Path:
        """Return the directory a script runs in."""
        defaults = (self.job.get("defaults") or self.doc.get("defaults") or {}).get("run", {})
        relative = step.get("working-directory", defaults.get("working-directory", "."))
        return self.workspace / str(relative)

    def command_files(self, index: int) -> dict[str, Path]:
        """Return fresh, empty GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY files for one step."""
        folder = self.temp / "_runner_file_commands"
        folder.mkdir(exist_ok=True)
        files = {}
        for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"):
            files[name] = folder / f"{name.lower()}_{index}_{uuid.uuid4().hex}"
            files[name].touch()
        return files

    def read_command_files(self, files: Mapping[str, Path], result: StepResult) -> None:
        """Take the step's outputs, env and path additions, and summary."""
        result.outputs = parse_file_command(files["GITHUB_OUTPUT"].read_text(), "GITHUB_OUTPUT")
        self.env |= parse_file_command(files["GITHUB_ENV"].read_text(), "GITHUB_ENV")
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()]
        self.path[:0] = reversed(added)
        self.summary.append(files["GITHUB_STEP_SUMMARY"].read_text())
        if re.search(r"^::(set-output|set-env|add-path|save-state)", result.stdout, re.M):
            raise UnsupportedError(f"step {result.name!r} uses a disabled workflow command")

    def skip_install(self, script: str, result: StepResult) -> None:
        """Check an install script word for word, and what it installs from; run nothing."""
        lines = [line.strip() for line in script.splitlines() if line.strip()]
        strange = [line for line in lines if line not in INSTALL_COMMANDS]
        if strange:
            raise UnsupportedError(f"an install step this runner cannot vouch for: {strange}")
        for needed in ("requirements.lock", "pyproject.toml"):
            if not (self.workspace / needed).is_file():
                result.outcome, result.exit_code = "failure", 1
                result.note = f"{needed} is missing from the checkout"
                return
        result.outcome, result.exit_code = "success", 0
        result.note = "install skipped (offline; the package is installed): " + "; ".join(lines)

    # -- actions

    def use_action(self, step: Mapping[str, Any], result: StepResult, scope: Scope) -> None:
        """Run the local equivalent of a ``uses:`` action."""
        action = str(step["uses"]).split("@")[0]
        result.action = action
        result.inputs = {k: interpolate(v, scope) for k, v in (step.get("with") or {}).items()}
        handlers: dict[str, Callable[[StepResult], None]] = {
            "actions/checkout": self.checkout,
            "actions/setup-python": self.setup_python,
            "actions/github-script": self.record_only,
            "actions/cache": self.cache,
            "actions/upload-pages-artifact": self.record_only,
            "actions/deploy-pages": self.record_only,
        }
        handler = handlers.get(action)
        if handler is None:
            raise UnsupportedError(f"no local equivalent of the action {action!r}")
        handler(result)

    def cache(self, result: StepResult) -> None:
        """A cache that is always empty here: check the inputs, restore nothing."""
        self.check_inputs(result, {"path", "key", "restore-keys"})
        if not str(result.inputs.get("key", "")).strip():
            raise UnsupportedError("actions/cache: a key is required")
        result.outcome, result.note = "success", "cache miss (nothing is kept here)"

    def record_only(self, result: StepResult) -> None:
        """Record the action and its inputs; run nothing."""
        result.outcome, result.note = "success", "recorded, not run"

    def setup_python(self, result: StepResult) -> None:
        """Put this interpreter's bin directory first on PATH."""
        allowed = {"python-version", "cache", "cache-dependency-path"}
        self.check_inputs(result, allowed)
        if not (self.config.python_bin / "scheduler").exists():
            raise UnsupportedError(f"no scheduler command in {self.config.python_bin}")
        dependency = str(result.inputs.get("cache-dependency-path", "requirements.txt"))
        if result.inputs.get("cache") == "pip" and not list(self.workspace.glob(dependency)):
            result.outcome, result.exit_code = "failure", 1
            result.note = f"setup-python: no file matched {dependency} for the pip cache"
            return
        self.path.insert(0, str(self.config.python_bin))
        result.outcome, result.exit_code = "success", 0

    def check_inputs(self, result: StepResult, allowed: set[str]) -> None:
        unknown = set(result.inputs) - allowed
        if unknown:
            raise UnsupportedError(f"{result.action}: unsupported inputs {sorted(unknown)}")

    def checkout(self, result: StepResult) -> None:
        """Fetch the origin into the workspace as actions/checkout does."""
        self.check_inputs(result, {"fetch-depth", "ref", "persist-credentials"})
        depth = int(result.inputs.get("fetch-depth", 1))
        ref = str(result.inputs.get("ref") or self.event.ref)
        commit = self.event.sha if "ref" not in result.inputs else ref
        if not ref.startswith("refs/") and not re.fullmatch(r"[0-9a-f]{40}", ref):
            ref = f"refs/heads/{ref}"
        tracking = self.tracking_ref(ref)
        git = self.git_in_workspace
        git("-c", "init.defaultBranch=main", "init", "-q")
        git("remote", "add", "origin", self.config.origin.as_uri())
        self.fetch(depth, f"+{commit}:{tracking}")
        if ref.startswith("refs/heads/"):
            git("checkout", "-q", "--force", "-B", ref.removeprefix("refs/heads/"), tracking)
        else:
            git("checkout", "-q", "--force", "--detach", tracking)
        if result.inputs.get("persist-credentials", True) is not False:
            git("config", "--local", CREDENTIALS_KEY, "AUTHORIZATION: basic ***")
        result.outcome, result.exit_code = "success", 0

    def fetch(self, depth: int, refspec: str) -> None:
        """Fetch ``refspec`` ``depth`` commits deep; with depth 0, every branch and tag too."""
        if depth == 0:
            every = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
            self.git_in_workspace("fetch", "--no-tags", "--prune", "origin", *every)
            self.git_in_workspace("fetch", "--no-tags", "origin", refspec)
        else:
            self.git_in_workspace("fetch", "--no-tags", f"--depth={depth}", "origin", refspec)

    def tracking_ref(self, ref: str) -> str:
        """Return where checkout keeps the fetched ref."""
        if ref.startswith("refs/heads/"):
            return "refs/remotes/origin/" + ref.removeprefix("refs/heads/")
        if ref.startswith("refs/pull/"):
            return "refs/remotes/pull/" + ref.removeprefix("refs/pull/")
        if ref.startswith("refs/tags/"):
            return ref
        return "refs/remotes/origin/checkout"

    def git_in_workspace(self, *args: str) -> str:
        """Run git in the workspace with the job's environment; raise when it fails."""
        done = subprocess.run(
            ["git", *args],
            cwd=self.workspace,
            env=self.process_env({}),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise UnsupportedError(f"checkout: git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout
