"""Real git repositories for tests: a bare "origin", clones of it, a pinned identity.

Either register this module as a plugin in a test module (``pytest_plugins =
("tests.gitrepos",)``) and ask for the ``git_env`` / ``repo_pair`` fixtures, or call
:func:`make_repo_pair` / :func:`isolate_git_env` from a fixture of your own.

``git_env`` isolates the code under test from the user's and the system's git configuration
(and from identity variables); ``git()`` always runs isolated, with a pinned identity.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}
ISOLATION = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
_LEAKY = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


def git_bytes(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    """Return the stdout of ``git *args`` run in ``cwd``, isolated, with a pinned identity."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY} | ISOLATION | IDENTITY
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=input, env=env, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout


def git(cwd: Path, *args: str, input: str | None = None) -> str:
    """Return the stdout of ``git *args`` as text, without its trailing newline."""
    data = None if input is None else input.encode()
    return git_bytes(cwd, *args, input=data).decode().rstrip("\n")


def commit_in_bare(repo: Path, branch: str, files: Mapping[str, str], message: str) -> str:
    """Return a new commit of flat ``files`` put on ``branch`` of a bare repository."""
    rows = "".join(
        f"100644 blob {git(repo, 'hash-object', '-w', '--stdin', input=text)}\t{name}\n"
        for name, text in files.items()
    )
    tree = git(repo, "mktree", input=rows)
    parent = git(repo, "rev-parse", "--verify", "--quiet", branch) if has_ref(repo, branch) else ""
    sha = git(repo, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message)
    git(repo, "update-ref", f"refs/heads/{branch}", sha)
    return sha


def has_ref(repo: Path, ref: str) -> bool:
    """Return whether ``ref`` names a commit in ``repo``."""
    try:
        git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except AssertionError:
        return False
    return True


def make_origin(tmp_path: Path) -> Path:
    """Return a bare repository whose ``main`` holds one commit with a README."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    commit_in_bare(origin, "main", {"README": "# example\n"}, "Initial commit")
    return origin


def clone(origin: Path, dest: Path) -> Path:
    """Return ``dest``, a fresh clone of ``origin`` (``origin/HEAD`` -> ``origin/main``)."""
    git(origin.parent, "clone", "--quiet", str(origin), str(dest))
    return dest


def make_origin_and_clone(tmp_path: Path) -> tuple[Path, Path]:
    """Return ``(origin, clone)``: a bare origin with a README on main, and one clone of it."""
    origin = make_origin(tmp_path)
    return origin, clone(origin, tmp_path / "clone")


def init_repo(path: Path, branch: str = "main") -> Path:
    """Return ``path``, a new non-bare repository with one commit (a README) on ``branch``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", f"--initial-branch={branch}")
    commit_file(path, "README", "# example\n", "Initial commit")
    return path


def commit_file(repo: Path, path: str, content: str, message: str) -> str:
    """Return the sha of a commit of ``path`` made on the checked-out branch of ``repo``."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", path)
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass(frozen=True)
class RepoPair:
    """A bare origin and a clone of it; ``another_clone`` makes more."""

    origin: Path
    clone: Path

    def another_clone(self, name: str) -> Path:
        """Return a new clone of ``origin`` next to it, called ``name``."""
        return clone(self.origin, self.origin.parent / name)


def isolate_git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Isolate every git process of the test from the user's configuration and identity."""
    for name, value in ISOLATION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in (*IDENTITY, *_LEAKY):
        monkeypatch.delenv(name, raising=False)


def make_repo_pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> RepoPair:
    """Return an isolated bare origin (README on main) and one clone of it."""
    isolate_git_env(monkeypatch, tmp_path)
    origin, first = make_origin_and_clone(tmp_path)
    return RepoPair(origin=origin, clone=first)


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fixture: :func:`isolate_git_env` for the test."""
    isolate_git_env(monkeypatch, tmp_path)


@pytest.fixture
def repo_pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> RepoPair:
    """Fixture: :func:`make_repo_pair` for the test."""
    return make_repo_pair(monkeypatch, tmp_path)
