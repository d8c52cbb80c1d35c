"""Git: the only module that runs subprocesses.

Every call goes through :func:`run_git`. :class:`GitRepo` answers questions about a work tree
(revisions, merge bases, whole trees read in two processes) and fetches; :class:`GitStateStore`
keeps the state branch (SPEC section 7) with plumbing only (``hash-object``, ``read-tree`` /
``update-index`` / ``write-tree`` into a temporary index, ``commit-tree``, ``update-ref``,
``push``), so the user's working tree, index and ``HEAD`` never change.

Without git, or outside a work tree, :meth:`GitRepo.find` returns ``None``: callers then read
empty state, and commands that write state exit 1 saying that they need a git repository.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from scheduler import ledger, summary
from scheduler.errors import GitError, StateConflict, StateError
from scheduler.ports import StateSnapshot, overlay

_ZERO_SHA = "0" * 40
_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "scheduler",
    "GIT_AUTHOR_EMAIL": "scheduler@localhost",
    "GIT_COMMITTER_NAME": "scheduler",
    "GIT_COMMITTER_EMAIL": "scheduler@localhost",
}
# Variables that would point git at another repository or index than the one we run in.
_REPOSITORY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
)
_SCRUBS = (
    (re.compile(r"(?i)(authorization:\s*(?:(?:basic|bearer|token)\s+)?)[^\s'\"]+"), r"\1***"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@"), r"\1***@"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_\w{16,})"), "***"),
)
_DEFAULT_CANDIDATES = (
    ("main", "refs/heads/main"),
    ("origin/main", "refs/remotes/origin/main"),
    ("master", "refs/heads/master"),
    ("origin/master", "refs/remotes/origin/master"),
)
_NOT_A_WORK_TREE = ("not a git repository", "must be run in a work tree")
_TRAILER = re.compile(r"^Scheduler-Ledger: (\S+) (\d+) ([0-9a-f]{64})$", re.MULTILINE)
_TRAILER_GREP = r"^Scheduler-Ledger: [^ ]+ [0-9]+ [0-9a-f]{64}$"
_PUSH_RACES = (
    "non-fast-forward",
    "fetch first",
    "stale info",
    "already exists",
    "lock",
    "failed to update ref",
    "but expected",
)
_BAD_REF_CHARS = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|//|/\.|^[-/.]|[/.]$|\.lock$")


class _GitFailure(GitError):
    """A git command that ran and exited non-zero; keeps its code and raw output."""

    def __init__(self, message: str, *, returncode: int, stdout: bytes, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _scrub(text: str) -> str:
    """Return ``text`` with credentials (URL user info, Authorization headers, tokens) masked."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def _child_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """Return the environment for git: ours minus repository redirections, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_ENV}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run ``git *args`` in ``cwd`` and return its stdout.

    ``env`` adds variables to the inherited environment. Messages are in English (``LC_ALL=C``)
    and git never prompts. With ``check`` a non-zero exit raises :class:`GitError` showing the
    command, the code and stderr, credentials masked.
    """
    command = ["git", *args]
    try:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=_child_env(env),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        if not cwd.is_dir():
            raise GitError(f"cannot run git in {cwd}: no such directory") from None
        raise GitError("git is not installed (or not on PATH); install git and retry") from None
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        message = f"`{shlex.join(command)}` failed with exit code {proc.returncode}:\n{stderr}"
        raise _GitFailure(
            _scrub(message.rstrip(":\n")),
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=stderr,
        )
    return proc.stdout


def _rev(rev: str) -> str:
    """Return ``rev`` unchanged, refusing one that git would take for an option."""
    if not rev or rev.startswith("-"):
        raise GitError(f"invalid revision {rev!r}")
    return rev


def _text(out: bytes) -> str:
    """Return git output as text without the trailing newline."""
    return out.decode("utf-8", "surrogateescape").rstrip("\n")


class GitRepo:
    """A git work tree: queries about revisions and trees, and fetches."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir

    @classmethod
    def find(cls, root: Path) -> GitRepo | None:
        """Return the work tree containing ``root``; None outside one or without git."""
        if not root.is_dir():
            return None
        try:
            out = run_git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], cwd=root)
        except _GitFailure as exc:
            if any(marker in exc.stderr for marker in _NOT_A_WORK_TREE):
                return None
            raise
        except GitError:
            return None
        top, git_dir = _text(out).split("\n")[:2]
        return cls(Path(top), Path(git_dir))

    def _git(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> bytes:
        """Return the stdout of ``git *args`` run at the top of the work tree."""
        return run_git(args, cwd=self.root, input=input, env=env)

    def _code(self, *args: str) -> int:
        """Return 0 or 1, the exit code of a yes/no git query; other codes raise GitError."""
        try:
            self._git(*args)
        except _GitFailure as exc:
            if exc.returncode == 1:
                return 1
            raise
        return 0

    def resolve(self, rev: str) -> str | None:
        """Return the commit sha ``rev`` names, or None when it names no commit."""
        out = run_git(
            ["rev-parse", "--verify", "--quiet", f"{_rev(rev)}^{{commit}}"],
            cwd=self.root,
            check=False,
        )
        return _text(out) or None

    def head(self) -> str | None:
        """Return the sha of ``HEAD``, or None before the first commit."""
        return self.resolve("HEAD")

    def default_branch(self) -> str:
        """Return origin/HEAD's target (``origin/main``), else main, master, or ``HEAD``."""
        target = _text(
            run_git(
                ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"],
                cwd=self.root,
                check=False,
            )
        )
        if target and self.resolve(target):
            return target
        for name, ref in _DEFAULT_CANDIDATES:
            if self.resolve(ref):
                return name
        return "HEAD"

    def merge_base(self, a: str, b: str) -> str | None:
        """Return the best common ancestor of ``a`` and ``b``, or None when they share none."""
        try:
            return _text(self._git("merge-base", _rev(a), _rev(b))) or None
        except _GitFailure as exc:
            if exc.returncode == 1:
                return None
            raise

    def is_ancestor(self, a: str, b: str) -> bool:
        """Return whether commit ``a`` is ``b`` or one of its ancestors."""
        return self._code("merge-base", "--is-ancestor", _rev(a), _rev(b)) == 0

    def commits_between(self, base: str | None, tip: str) -> list[str]:
        """Return ``"sha subject"`` for commits reachable from ``tip`` but not ``base``, newest
        first."""
        revs = [_rev(tip)] + ([f"^{_rev(base)}"] if base else [])
        out = self._git("log", "--no-show-signature", "--format=%H %s", *revs, "--")
        return _text(out).splitlines()

    def read_tree(self, rev: str, prefix: str) -> dict[str, bytes]:
        """Return every blob under ``prefix`` at ``rev``, keyed by repository-relative path.

        Symlinks and submodules are skipped. Two processes whatever the size of the tree.
        """
        pathspec = ["--", prefix] if prefix else []
        listing = self._git("ls-tree", "-r", "-z", "--full-tree", _rev(rev), *pathspec)
        entries = _blob_entries(listing, prefix.encode())
        blobs = self._cat_blobs(sorted({oid for _, oid in entries}))
        return {path: blobs[oid] for path, oid in entries}

    def list_tree(self, rev: str) -> bytes:
        """Return ``ls-tree -r -z`` of the whole tree at ``rev``."""
        return self._git("ls-tree", "-r", "-z", "--full-tree", _rev(rev))

    def cat_blobs(self, oids: list[bytes]) -> dict[bytes, bytes]:
        """Return the contents of ``oids`` (one process)."""
        return self._cat_blobs(oids)

    def _cat_blobs(self, oids: list[bytes]) -> dict[bytes, bytes]:
        """Return the contents of ``oids`` read by one ``git cat-file --batch``."""
        if not oids:
            return {}
        out = self._git("cat-file", "--batch", input=b"\n".join(oids) + b"\n")
        blobs: dict[bytes, bytes] = {}
        pos = 0
        while pos < len(out):
            end_of_header = out.index(b"\n", pos)
            header = out[pos:end_of_header].split(b" ")
            if len(header) != 3:
                raise GitError(f"git cat-file: unexpected answer {header!r}")
            start = end_of_header + 1
            pos = start + int(header[2])
            blobs[header[0]] = out[start:pos]
            pos += 1
        return blobs

    def fetch(self, remote: str, ref_name: str) -> bool:
        """Fetch ``refs/heads/<ref_name>`` into ``refs/remotes/<remote>/<ref_name>``.

        Returns False (and drops a stale remote-tracking ref) when the remote has no such
        branch, or when no such remote is configured; other failures raise GitError.
        """
        url = run_git(["config", "--get", f"remote.{remote}.url"], cwd=self.root, check=False)
        if not url.strip():
            return False
        tracking = f"refs/remotes/{remote}/{ref_name}"
        refspec = f"+refs/heads/{ref_name}:{tracking}"
        try:
            self._git("fetch", "--quiet", "--no-tags", "--no-recurse-submodules", remote, refspec)
        except _GitFailure as exc:
            if "couldn't find remote ref" not in exc.stderr:
                raise
            self._git("update-ref", "-d", tracking)
            return False
        return True


def _blob_entries(listing: bytes, prefix: bytes) -> list[tuple[str, bytes]]:
    """Return (path, blob id) of the regular files under ``prefix`` in ``ls-tree -r -z`` output."""
    entries = []
    for record in listing.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        fields = meta.split(b" ")
        is_file = len(fields) == 3 and fields[1] == b"blob" and fields[0] != b"120000"
        if is_file and path.startswith(prefix):
            entries.append((path.decode("utf-8", "surrogateescape"), fields[2]))
    return entries


class LazyTree(Mapping[str, bytes]):
    """A tree's files by path; those in ``later`` are read from git on first use."""

    def __init__(self, repo: GitRepo, entries: Mapping[str, bytes], later: set[str]) -> None:
        self._repo = repo
        self._entries = entries
        now = sorted({oid for path, oid in entries.items() if path not in later})
        blobs = repo.cat_blobs(now)
        self._read = {path: blobs[oid] for path, oid in entries.items() if path not in later}

    def __getitem__(self, path: str) -> bytes:
        found = self._read.get(path)
        if found is None:
            oid = self._entries[path]
            found = self._read[path] = self._repo.cat_blobs([oid])[oid]
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries


def _parse_trailers(message: str) -> dict[str, tuple[int, str]]:
    """Return ``file -> (lines, sha256)`` from the ``Scheduler-Ledger:`` lines of a message."""
    return {m[1]: (int(m[2]), m[3]) for m in _TRAILER.finditer(message)}


def _check_ref_name(ref_name: str) -> None:
    """Raise StateError when ``ref_name`` cannot be a branch name."""
    if not ref_name or _BAD_REF_CHARS.search(ref_name):
        raise StateError(f"invalid state branch name {ref_name!r}")


class GitStateStore:
    """The state branch ``ref_name`` of ``repo`` (SPEC section 7).

    Without ``push`` the local branch is read (when origin's is its ancestor) and written;
    with ``push`` origin's branch is fetched, read, and written by pushing.
    """

    def __init__(self, repo: GitRepo, ref_name: str, *, push: bool, remote: str = "origin") -> None:
        _check_ref_name(ref_name)
        self.repo = repo
        self.ref_name = ref_name
        self.push = push
        self.remote = remote
        self._local = f"refs/heads/{ref_name}"
        self._tracking = f"refs/remotes/{remote}/{ref_name}"

    # ------------------------------------------------------------------ reading (queries)

    def load(self) -> StateSnapshot:
        """Return the state to build on, read by the rule of SPEC section 7."""
        return self._load_for_push() if self.push else self._load_local_first()

    def _load_local_first(self) -> StateSnapshot:
        """Return the local branch unless origin's is not its ancestor, else origin's."""
        local = self.repo.resolve(self._local)
        origin = self.repo.resolve(self._tracking)
        if local and (origin is None or self.repo.is_ancestor(origin, local)):
            return self._snapshot(local, "local")
        if origin is None:
            return StateSnapshot(commit=None, source="empty")
        warnings: tuple[str, ...] = ()
        if local and not self.repo.is_ancestor(local, origin):
            warnings = (self._diverged_warning(local, origin),)
        return self._snapshot(origin, "origin", warnings)

    def _diverged_warning(self, local: str, origin: str) -> str:
        """Return the warning for a local state branch that diverged from origin's."""
        count = len(self.repo.commits_between(origin, local))
        return (
            f"the local branch '{self.ref_name}' and '{self.remote}/{self.ref_name}' have "
            f"diverged; reading '{self.remote}/{self.ref_name}' ({count} local commit(s) "
            f"ignored; drop them with `git branch -D {self.ref_name}`)"
        )

    def _load_for_push(self) -> StateSnapshot:
        """Fetch, refuse local commits origin lacks, and return origin's state."""
        origin = self._tracking if self.repo.fetch(self.remote, self.ref_name) else None
        commit = self.repo.resolve(origin) if origin else None
        self._refuse_unpushed(commit)
        if commit is None:
            return StateSnapshot(commit=None, source="empty")
        return self._snapshot(commit, "origin")

    def _refuse_unpushed(self, origin: str | None) -> None:
        """Raise StateError listing local state commits that origin's branch lacks."""
        local = self.repo.resolve(self._local)
        extra = self.repo.commits_between(origin, local) if local and local != origin else []
        if not extra:
            return
        listing = "\n".join(f"  {line}" for line in extra)
        raise StateError(
            f"the local branch '{self.ref_name}' has {len(extra)} commit(s) that "
            f"'{self.remote}/{self.ref_name}' lacks (a rehearsal left behind?); --push "
            f"refuses to publish them:\n{listing}\n"
            f"drop them with `git branch -D {self.ref_name}` "
            f"(or `git update-ref -d {self._local}`) and run again"
        )

    def _snapshot(self, commit: str, source: str, warnings: tuple[str, ...] = ()) -> StateSnapshot:
        """Return the snapshot of ``commit``: its tree and its ledger trailers.

        A ledger month with a summary is read only if asked for: usually the summary is enough.
        """
        entries = dict(_blob_entries(self.repo.list_tree(commit), b""))
        later = {
            path
            for path in entries
            if ledger.is_ledger_file(path) and summary.summary_path(path) in entries
        }
        return StateSnapshot(
            commit=commit,
            files=LazyTree(self.repo, entries, later),
            trailers=self._trailers(commit),
            source=source,
            warnings=warnings,
            blobs={path: oid.decode() for path, oid in entries.items()},
        )

    def _trailers(self, commit: str) -> dict[str, tuple[int, str]]:
        """Return the trailers of the newest first-parent commit that has any (one process)."""
        out = self.repo._git(
            "log", "--first-parent", "--no-show-signature", "-n", "1", "-E",
            f"--grep={_TRAILER_GREP}", "--format=%B", _rev(commit), "--",
        )  # fmt: skip
        return _parse_trailers(_text(out))

    # ------------------------------------------------------------------ writing (commands)

    def save(self, base: StateSnapshot, files: Mapping[str, bytes], message: str) -> StateSnapshot:
        """Commit ``files`` over ``base``'s tree, then move the branch; return the new state.

        Raises StateConflict when the branch is no longer where ``base`` found it.
        """
        self._refuse_unsafe_target()
        new = self._commit(base.commit, files, message)
        if self.push:
            warnings, source = self._publish(new), "origin"
        else:
            warnings, source = self._advance_local(new, base.commit), "local"
        return StateSnapshot(
            commit=new,
            files=overlay(base.files, files),
            trailers=_parse_trailers(message) or dict(base.trailers),
            source=source,
            warnings=warnings,
            blobs={**base.blobs, **{path: summary.blob_id(data) for path, data in files.items()}},
        )

    def _refuse_unsafe_target(self) -> None:
        """Raise StateError when the state branch is the default branch or checked out."""
        default = self.repo.default_branch().removeprefix(f"{self.remote}/")
        if self.ref_name in {"main", "master", default}:
            raise StateError(
                f"refusing to write state to '{self.ref_name}': it is the default branch; "
                "use --state-ref with a branch of its own (default: scheduler-state)"
            )
        worktrees = _text(self.repo._git("worktree", "list", "--porcelain")).splitlines()
        if f"branch {self._local}" in worktrees:
            raise StateError(
                f"refusing to write state to '{self.ref_name}' while it is checked out; "
                "switch to another branch first (git switch main)"
            )

    def _commit(self, parent: str | None, files: Mapping[str, bytes], message: str) -> str:
        """Return a new commit: ``parent``'s tree with ``files`` written, built in a temp index."""
        paths = [_tree_path(path).encode() for path in files]
        with tempfile.TemporaryDirectory(prefix="scheduler-state-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.repo._git("read-tree", _rev(parent), env=index)
            oids = self._hash_blobs(Path(tmp), list(files.values()))
            entries = b"".join(
                b"100644 %s\t%s\0" % (oid, path) for path, oid in zip(paths, oids, strict=True)
            )
            self.repo._git("update-index", "--add", "-z", "--index-info", input=entries, env=index)
            tree = _text(self.repo._git("write-tree", env=index))
        parents = ["-p", parent] if parent else []
        text = message if message.endswith("\n") else message + "\n"
        args = ["commit-tree", "--no-gpg-sign", *parents, "-F", "-", tree]
        return _text(self.repo._git(*args, input=text.encode(), env=self._identity()))

    def _hash_blobs(self, tmp: Path, contents: list[bytes]) -> list[bytes]:
        """Return the blob ids of ``contents``, written by one ``git hash-object``."""
        if not contents:
            return []
        paths = [tmp / f"blob-{i}" for i in range(len(contents))]
        for path, content in zip(paths, contents, strict=True):
            path.write_bytes(content)
        names = "\n".join(str(p) for p in paths).encode() + b"\n"
        out = self.repo._git("hash-object", "-w", "--no-filters", "--stdin-paths", input=names)
        return out.split()

    def _identity(self) -> dict[str, str]:
        """Return no override when an identity is configured, else the scheduler's own."""
        try:
            for role in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
                self.repo._git("-c", "user.useConfigOnly=true", "var", role)
        except _GitFailure:
            return dict(_FALLBACK_IDENTITY)
        return {}

    def _advance_local(self, new: str, expected: str | None) -> tuple[str, ...]:
        """Move the local branch from where ``expected`` implies to ``new`` (compare-and-swap)."""
        current = self.repo.resolve(self._local)
        if current != expected:
            self._check_fast_forward(current, expected)
        try:
            self.repo._git("update-ref", self._local, new, current or _ZERO_SHA)
        except _GitFailure:
            if self.repo.resolve(self._local) != current:
                raise self._moved(current) from None
            raise
        return ()

    def _check_fast_forward(self, current: str | None, expected: str | None) -> None:
        """Accept a missing or behind local branch; raise when it moved or diverged."""
        if current is None or (expected and self.repo.is_ancestor(current, expected)):
            return
        if expected is None or self.repo.is_ancestor(expected, current):
            raise self._moved(current)
        extra = "\n".join(f"  {line}" for line in self.repo.commits_between(expected, current))
        raise StateError(
            f"the local branch '{self.ref_name}' diverged from the state that was read "
            f"('{self.remote}/{self.ref_name}'); refusing to overwrite its commits:\n{extra}\n"
            f"drop them with `git branch -D {self.ref_name}`, or push them first"
        )

    def _moved(self, current: str | None) -> StateConflict:
        """Return the conflict for a branch that moved since the state was read."""
        where = current[:12] if current else "nothing"
        return StateConflict(
            f"the state branch '{self.ref_name}' moved since it was read (now at {where}); "
            "read it again and retry"
        )

    def _publish(self, new: str) -> tuple[str, ...]:
        """Push ``new`` to origin's branch, then move the local and tracking refs to it."""
        refspec = f"{new}:{self._local}"
        try:
            self.repo._git("push", "--porcelain", "--no-verify", self.remote, refspec)
        except _GitFailure as exc:
            rejected = _text(exc.stdout)
            said = rejected + "\n" + str(exc)  # a lost ref-update race is told on stderr
            if any(race in said for race in _PUSH_RACES):
                raise StateConflict(
                    f"'{self.remote}/{self.ref_name}' moved since it was read (push rejected); "
                    "fetch, read it again and retry"
                ) from None
            raise GitError(_scrub(f"{exc}\n{rejected}".strip())) from None
        return self._follow_pushed(new)

    def _follow_pushed(self, new: str) -> tuple[str, ...]:
        """Move the tracking ref and (when it would fast-forward) the local branch to ``new``."""
        try:
            self.repo._git("update-ref", self._tracking, new)
            current = self.repo.resolve(self._local)
            if current is None or self.repo.is_ancestor(current, new):
                self.repo._git("update-ref", self._local, new, current or _ZERO_SHA)
                return ()
        except GitError as exc:
            return (f"pushed {new[:12]}, but could not update the local refs: {exc}",)
        return (f"pushed {new[:12]}; the local branch '{self.ref_name}' was left as it is",)


def _tree_path(path: str) -> str:
    """Return ``path`` when it is a plain relative path; raise StateError otherwise."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in {"", ".", "..", ".git"} for p in parts):
        raise StateError(f"invalid state file path {path!r}")
    return path
