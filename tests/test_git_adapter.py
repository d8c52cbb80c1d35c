"""The git adapter against real repositories: a bare origin and clones of it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scheduler.adapters import git as git_adapter
from scheduler.adapters.git import GitRepo, GitStateStore, run_git
from scheduler.errors import GitError, StateConflict, StateError
from scheduler.ports import StateSnapshot
from tests.gitrepos import (
    RepoPair,
    commit_file,
    commit_in_bare,
    git,
    git_bytes,
    init_repo,
    isolate_git_env,
    make_repo_pair,
)

REF = "scheduler-state"
HASH_A = "a" * 64
HASH_B = "b" * 64


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> RepoPair:
    return make_repo_pair(monkeypatch, tmp_path)


def repo_at(path: Path) -> GitRepo:
    repo = GitRepo.find(path)
    assert repo is not None
    return repo


def state_store(path: Path, *, push: bool = False, ref: str = REF) -> GitStateStore:
    return GitStateStore(repo_at(path), ref, push=push)


def save_local(path: Path, files: dict[str, bytes], message: str = "state: test") -> str:
    """Commit ``files`` on the local state branch of ``path``; return the new commit."""
    store = state_store(path)
    commit = store.save(store.load(), files, message).commit
    assert commit is not None
    return commit


def spy_git_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the argv of every process the adapter starts from now on."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def spy(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(list(cmd))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(git_adapter.subprocess, "run", spy)
    return calls


def observe(repo: Path) -> dict[str, object]:
    """Everything a user could see change in a clone: work tree, index, HEAD, main."""
    return {
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "staged": git(repo, "diff", "--cached"),
        "unstaged": git(repo, "diff"),
        "index": git(repo, "ls-files", "--stage"),
        "head": git(repo, "rev-parse", "HEAD"),
        "head_ref": git(repo, "symbolic-ref", "HEAD"),
        "main": git(repo, "rev-parse", "refs/heads/main"),
        "files": {
            p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts
        },
    }


# --------------------------------------------------------------------------- run_git


def test_run_git_returns_stdout_and_takes_input(pair: RepoPair) -> None:
    head = git(pair.clone, "rev-parse", "HEAD")
    assert run_git(["rev-parse", "HEAD"], cwd=pair.clone) == f"{head}\n".encode()
    blob = run_git(["hash-object", "--stdin"], cwd=pair.clone, input=b"x\n")
    assert blob.decode().strip() == git(pair.clone, "hash-object", "--stdin", input="x\n")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["show", "HEAD:https://x-access-token:SECRETVALUE@example.com/o/r"], id="url-token"
        ),
        pytest.param(
            ["-c", "http.extraheader=Authorization: basic SECRETVALUE", "show", "HEAD:nope"],
            id="authorization-header",
        ),
        pytest.param(["show", "HEAD:ghp_SECRETVALUE0123456789abcdefXYZ"], id="bare-token"),
    ],
)
def test_run_git_error_shows_command_code_and_stderr_but_no_token(
    pair: RepoPair, args: list[str]
) -> None:
    with pytest.raises(GitError) as caught:
        run_git(args, cwd=pair.clone)
    message = str(caught.value)
    assert message.startswith("`git ")
    assert "show HEAD:" in message
    assert "exit code 128" in message
    assert "does not exist in 'HEAD'" in message
    assert "SECRETVALUE" not in message


def test_run_git_without_check_returns_output_of_a_failing_command(pair: RepoPair) -> None:
    assert run_git(["rev-parse", "--verify", "--quiet", "nope"], cwd=pair.clone, check=False) == b""


def test_run_git_reports_a_missing_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match=r"^git is not installed"):
        run_git(["--version"], cwd=tmp_path)


def test_run_git_reports_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="no such directory"):
        run_git(["--version"], cwd=tmp_path / "nowhere")


def test_run_git_ignores_inherited_repository_variables(
    pair: RepoPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(pair.origin))
    monkeypatch.setenv("GIT_INDEX_FILE", str(pair.origin / "index"))
    top = run_git(["rev-parse", "--show-toplevel"], cwd=pair.clone).decode().strip()
    assert Path(top) == pair.clone.resolve()


# --------------------------------------------------------------------------- GitRepo


def test_find_returns_the_top_level_from_a_subdirectory(pair: RepoPair) -> None:
    sub = pair.clone / "schedules" / "waves"
    sub.mkdir(parents=True)
    repo = repo_at(sub)
    assert repo.root == pair.clone.resolve()
    assert repo.git_dir == (pair.clone / ".git").resolve()


def _plain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "plain").mkdir()
    return tmp_path / "plain"


def _bare_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(tmp_path, "init", "--quiet", "--bare", "bare.git")
    return tmp_path / "bare.git"


def _missing_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return tmp_path / "missing"


def _no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    init_repo(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path))
    return tmp_path / "repo"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_plain_dir, id="plain-directory"),
        pytest.param(_bare_repo, id="bare-repository"),
        pytest.param(_missing_dir, id="missing-directory"),
        pytest.param(_no_git, id="git-not-installed"),
    ],
)
def test_find_returns_none_outside_a_work_tree(
    make: Callable[[Path, pytest.MonkeyPatch], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolate_git_env(monkeypatch, tmp_path)
    assert GitRepo.find(make(tmp_path, monkeypatch)) is None


def test_resolve_and_head(pair: RepoPair) -> None:
    repo = repo_at(pair.clone)
    head = git(pair.clone, "rev-parse", "HEAD")
    assert repo.head() == head
    assert repo.resolve("main") == head
    assert repo.resolve("origin/main") == head
    assert repo.resolve("HEAD^{tree}") is None
    assert repo.resolve("no-such-branch") is None


def test_resolve_refuses_an_option_as_revision(pair: RepoPair) -> None:
    with pytest.raises(GitError, match="invalid revision '--all'"):
        repo_at(pair.clone).resolve("--all")


def test_head_is_none_before_the_first_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate_git_env(monkeypatch, tmp_path)
    git(tmp_path, "init", "--quiet", "fresh")
    assert repo_at(tmp_path / "fresh").head() is None


def _clone_of(pair: RepoPair) -> Path:
    return pair.clone


def _repo_on(branch: str) -> Callable[[RepoPair], Path]:
    def make(pair: RepoPair) -> Path:
        return init_repo(pair.origin.parent / f"on-{branch}", branch)

    return make


def _clone_without_origin_head(pair: RepoPair) -> Path:
    git(pair.clone, "remote", "set-head", "origin", "--delete")
    git(pair.clone, "switch", "--quiet", "--detach")
    git(pair.clone, "branch", "--quiet", "-D", "main")
    return pair.clone


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(_clone_of, "origin/main", id="origin-head"),
        pytest.param(_repo_on("main"), "main", id="main"),
        pytest.param(_repo_on("master"), "master", id="master"),
        pytest.param(_repo_on("trunk"), "HEAD", id="neither"),
        pytest.param(_clone_without_origin_head, "origin/main", id="remote-main-only"),
    ],
)
def test_default_branch(pair: RepoPair, make: Callable[[RepoPair], Path], expected: str) -> None:
    assert repo_at(make(pair)).default_branch() == expected


def test_merge_base_of_two_branches_and_of_unrelated_histories(pair: RepoPair) -> None:
    root = git(pair.clone, "rev-parse", "HEAD")
    main_tip = commit_file(pair.clone, "a.txt", "a\n", "on main")
    git(pair.clone, "switch", "--quiet", "-c", "feature", root)
    feature_tip = commit_file(pair.clone, "b.txt", "b\n", "on feature")
    orphan = git(pair.clone, "commit-tree", "HEAD^{tree}", "-m", "orphan")
    repo = repo_at(pair.clone)
    assert repo.merge_base(main_tip, feature_tip) == root
    assert repo.merge_base("main", "feature") == root
    assert repo.merge_base(orphan, main_tip) is None


def test_is_ancestor_and_commits_between(pair: RepoPair) -> None:
    root = git(pair.clone, "rev-parse", "HEAD")
    first = commit_file(pair.clone, "a.txt", "a\n", "first change")
    second = commit_file(pair.clone, "a.txt", "b\n", "second change")
    repo = repo_at(pair.clone)
    assert repo.is_ancestor(root, second)
    assert repo.is_ancestor(second, second)
    assert not repo.is_ancestor(second, first)
    assert repo.commits_between(root, second) == [
        f"{second} second change",
        f"{first} first change",
    ]
    assert repo.commits_between(None, second)[-1] == f"{root} Initial commit"
    assert repo.commits_between(second, second) == []


def test_read_tree_returns_exact_bytes_of_2000_files_in_two_processes(
    pair: RepoPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {f"schedules/waves/w{i:04}.yaml": f"video: v{i}\n".encode() for i in range(2000)}
    expected |= {
        "schedules/binary.bin": bytes(range(256)) + b"\0\r\n\0",
        "schedules/no-final-newline.yaml": b"video: v1",
        "schedules/empty.yaml": b"",
        "schedules/twin-a.yaml": b"same\n",
        "schedules/twin-b.yaml": b"same\n",
        "schedules/with space ü.yaml": b"x: 1\n",
    }
    outside = {"README.md": b"docs\n", "schedules-old/x.yaml": b"x\n"}
    for name, content in (expected | outside).items():
        (pair.clone / name).parent.mkdir(parents=True, exist_ok=True)
        (pair.clone / name).write_bytes(content)
    (pair.clone / "schedules" / "link.yaml").symlink_to("waves/w0000.yaml")
    git(pair.clone, "add", "--all")
    git(pair.clone, "commit", "--quiet", "-m", "many files")
    repo = repo_at(pair.clone)
    calls = spy_git_calls(monkeypatch)
    started = time.perf_counter()
    tree = repo.read_tree("HEAD", "schedules/")
    assert time.perf_counter() - started < 5
    assert tree == expected
    assert [call[1] for call in calls] == ["ls-tree", "cat-file"]


def test_read_tree_of_an_absent_prefix_is_empty(pair: RepoPair) -> None:
    assert repo_at(pair.clone).read_tree("HEAD", "schedules/") == {}
    assert repo_at(pair.clone).read_tree("HEAD", "") == {"README": b"# example\n"}


def test_read_tree_of_an_unknown_revision_is_a_git_error(pair: RepoPair) -> None:
    with pytest.raises(GitError, match="no-such-rev"):
        repo_at(pair.clone).read_tree("no-such-rev", "schedules/")


# --------------------------------------------------------------------------- fetch


def test_fetch_is_false_when_origin_has_no_such_branch(pair: RepoPair) -> None:
    assert repo_at(pair.clone).fetch("origin", REF) is False


def test_fetch_brings_origin_branch_into_the_tracking_ref(pair: RepoPair) -> None:
    sha = commit_in_bare(pair.origin, REF, {"control.yaml": "paused: false\n"}, "state")
    repo = repo_at(pair.clone)
    assert repo.fetch("origin", REF) is True
    assert repo.resolve(f"refs/remotes/origin/{REF}") == sha


def test_fetch_drops_a_stale_tracking_ref_when_origin_deleted_the_branch(pair: RepoPair) -> None:
    commit_in_bare(pair.origin, REF, {"control.yaml": "paused: false\n"}, "state")
    repo = repo_at(pair.clone)
    assert repo.fetch("origin", REF) is True
    git(pair.origin, "update-ref", "-d", f"refs/heads/{REF}")
    assert repo.fetch("origin", REF) is False
    assert repo.resolve(f"refs/remotes/origin/{REF}") is None


def test_fetch_without_the_remote_is_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git_env(monkeypatch, tmp_path)
    assert repo_at(init_repo(tmp_path / "alone")).fetch("origin", REF) is False


def test_fetch_from_an_unreachable_remote_is_a_git_error(pair: RepoPair) -> None:
    git(pair.clone, "remote", "set-url", "origin", str(pair.origin.parent / "gone.git"))
    with pytest.raises(GitError, match="git fetch"):
        repo_at(pair.clone).fetch("origin", REF)


# --------------------------------------------------------------------------- state: reading


@pytest.mark.parametrize("push", [False, True], ids=["local", "push"])
def test_load_of_a_repository_that_never_ran_is_empty(pair: RepoPair, push: bool) -> None:
    assert state_store(pair.clone, push=push).load() == StateSnapshot(commit=None, source="empty")


def _only_origin(pair: RepoPair) -> str:
    sha = commit_in_bare(pair.origin, REF, {"control.yaml": "paused: false\n"}, "origin state")
    git(pair.clone, "fetch", "--quiet", "origin")
    return sha


def _only_local(pair: RepoPair) -> str:
    return save_local(pair.clone, {"control.yaml": b"paused: true\n"})


def _local_ahead(pair: RepoPair) -> str:
    _only_origin(pair)
    return save_local(pair.clone, {"control.yaml": b"paused: true\n"})


def _local_behind(pair: RepoPair) -> str:
    old = _only_origin(pair)
    git(pair.clone, "update-ref", f"refs/heads/{REF}", old)
    return _only_origin(pair)


def _diverged(pair: RepoPair) -> str:
    _local_ahead(pair)
    return _only_origin(pair)


@pytest.mark.parametrize(
    ("arrange", "source", "warned"),
    [
        pytest.param(_only_origin, "origin", False, id="only-origin"),
        pytest.param(_only_local, "local", False, id="only-local"),
        pytest.param(_local_ahead, "local", False, id="local-ahead"),
        pytest.param(_local_behind, "origin", False, id="local-behind"),
        pytest.param(_diverged, "origin", True, id="diverged"),
    ],
)
def test_load_reads_local_only_when_origin_is_its_ancestor(
    pair: RepoPair, arrange: Callable[[RepoPair], str], source: str, warned: bool
) -> None:
    expected_commit = arrange(pair)
    snapshot = state_store(pair.clone).load()
    assert (snapshot.commit, snapshot.source) == (expected_commit, source)
    assert snapshot.files["control.yaml"] == git_bytes(
        pair.clone, "show", f"{expected_commit}:control.yaml"
    )
    if warned:
        (warning,) = snapshot.warnings
        assert "'scheduler-state' and 'origin/scheduler-state' have diverged" in warning
        assert "git branch -D scheduler-state" in warning
    else:
        assert snapshot.warnings == ()


@pytest.mark.parametrize(
    "origin_has_state", [False, True], ids=["origin-empty", "origin-has-state"]
)
def test_push_refuses_local_commits_that_origin_lacks(
    pair: RepoPair, origin_has_state: bool
) -> None:
    if origin_has_state:
        _only_origin(pair)
    first = save_local(pair.clone, {"ledger/2030-12.jsonl": b"{}\n"}, "rehearsal: claim")
    second = save_local(pair.clone, {"ledger/2030-12.jsonl": b"{}\n{}\n"}, "rehearsal: record")
    with pytest.raises(StateError) as caught:
        state_store(pair.clone, push=True).load()
    message = str(caught.value)
    assert f"  {second} rehearsal: record\n  {first} rehearsal: claim\n" in message
    assert "has 2 commit(s) that 'origin/scheduler-state' lacks" in message
    assert "git branch -D scheduler-state" in message
    assert "git update-ref -d refs/heads/scheduler-state" in message
    git(pair.clone, "branch", "--quiet", "-D", REF)
    assert state_store(pair.clone, push=True).load().source == (
        "origin" if origin_has_state else "empty"
    )


def test_push_load_reads_origin_even_when_local_is_behind(pair: RepoPair) -> None:
    newest = _local_behind(pair)
    snapshot = state_store(pair.clone, push=True).load()
    assert (snapshot.commit, snapshot.source, snapshot.warnings) == (newest, "origin", ())


# --------------------------------------------------------------------------- state: trailers


def _trailer(file: str, lines: int, digest: str) -> str:
    return f"Scheduler-Ledger: {file} {lines} {digest}"


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        pytest.param(
            [
                f"claim\n\n{_trailer('ledger/2030-11.jsonl', 1, HASH_A)}",
                f"record\n\n{_trailer('ledger/2030-11.jsonl', 2, HASH_B)}\n"
                f"{_trailer('ledger/2030-12.jsonl', 5, HASH_A)}",
                "control: pause without trailers",
            ],
            {"ledger/2030-11.jsonl": (2, HASH_B), "ledger/2030-12.jsonl": (5, HASH_A)},
            id="newest-commit-with-trailers",
        ),
        pytest.param(["first", "second"], {}, id="no-commit-has-any"),
        pytest.param(
            [
                f"claim\n\n{_trailer('ledger/2030-11.jsonl', 3, HASH_A)}",
                "record\n\nScheduler-Ledger: ledger/2030-11.jsonl four xyz",
            ],
            {"ledger/2030-11.jsonl": (3, HASH_A)},
            id="malformed-lines-ignored",
        ),
    ],
)
def test_load_takes_trailers_from_the_newest_commit_that_has_them(
    pair: RepoPair, messages: list[str], expected: dict[str, tuple[int, str]]
) -> None:
    for i, message in enumerate(messages):
        save_local(pair.clone, {"control.yaml": f"n: {i}\n".encode()}, message)
    assert state_store(pair.clone).load().trailers == expected


def test_trailers_behind_1000_commits_are_found_by_one_log(
    pair: RepoPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    def data(text: str) -> str:
        return f"data {len(text.encode())}\n{text}\n"

    identity = "committer T <t@example.com> 1900000000 +0000\n"
    stream = f"commit refs/heads/{REF}\n{identity}"
    stream += data(f"claim\n\n{_trailer('ledger/2030-12.jsonl', 1, HASH_A)}\n")
    stream += "M 100644 inline ledger/2030-12.jsonl\n" + data("{}")
    stream += "".join(f"commit refs/heads/{REF}\n{identity}{data(f'n{i}')}" for i in range(1000))
    git(pair.clone, "fast-import", "--quiet", input=stream)
    calls = spy_git_calls(monkeypatch)
    started = time.perf_counter()
    snapshot = state_store(pair.clone).load()
    assert time.perf_counter() - started < 5
    assert snapshot.trailers == {"ledger/2030-12.jsonl": (1, HASH_A)}
    assert snapshot.files == {"ledger/2030-12.jsonl": b"{}"}
    assert sum(call[1] == "log" for call in calls) == 1


def test_trailers_follow_first_parent_history_only(pair: RepoPair) -> None:
    def commit(branch: str, mark: int, message: str, *parents: str) -> str:
        when = 1900000000 + 100 * mark  # the side branch's commit is newer than the main line's
        links = "".join(f"{'merge' if i else 'from'} {p}\n" for i, p in enumerate(parents))
        return (
            f"commit refs/heads/{branch}\nmark :{mark}\n"
            f"committer T <t@example.com> {when} +0000\n"
            f"data {len(message)}\n{message}\n{links}"
        )

    git(
        pair.clone,
        "fast-import",
        "--quiet",
        input=commit(REF, 1, "root")
        + commit(REF, 2, f"main line\n\n{_trailer('ledger/a.jsonl', 1, HASH_A)}", ":1")
        + commit("side", 3, f"side\n\n{_trailer('ledger/a.jsonl', 9, HASH_B)}", ":1")
        + commit(REF, 4, "merge without trailers", ":2", ":3"),
    )
    assert state_store(pair.clone).load().trailers == {"ledger/a.jsonl": (1, HASH_A)}


# --------------------------------------------------------------------------- state: writing


def _dirty(clone: Path) -> None:
    (clone / "README").write_text("# edited, not staged\n")
    (clone / "staged.txt").write_text("staged\n")
    git(clone, "add", "staged.txt")
    (clone / "untracked.txt").write_text("untracked\n")


@pytest.mark.parametrize("push", [False, True], ids=["local", "push"])
def test_save_leaves_work_tree_index_head_and_main_alone(pair: RepoPair, push: bool) -> None:
    _dirty(pair.clone)
    before = observe(pair.clone)
    origin_main = git(pair.origin, "rev-parse", "main")
    store = state_store(pair.clone, push=push)
    files = {"ledger/2030-12.jsonl": b'{"id": "launch/yt-main"}\n', "control.yaml": b"paused: no"}
    saved = store.save(store.load(), files, "state: claim")
    assert observe(pair.clone) == before
    assert git(pair.origin, "rev-parse", "main") == origin_main
    assert git(pair.clone, "rev-parse", f"refs/heads/{REF}") == saved.commit
    assert git_bytes(pair.clone, "show", f"{REF}:control.yaml") == b"paused: no"
    assert git(pair.clone, "rev-list", "--count", REF) == "1"
    assert (saved.files, saved.source) == (files, "origin" if push else "local")


def test_save_without_push_never_touches_origin(pair: RepoPair) -> None:
    save_local(pair.clone, {"control.yaml": b"paused: false\n"})
    assert git(pair.origin, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_save_with_push_creates_origin_branch_and_follows_it(pair: RepoPair) -> None:
    store = state_store(pair.clone, push=True)
    saved = store.save(store.load(), {"ledger/2030-12.jsonl": b"{}\n"}, "state: claim")
    for repo, ref in [
        (pair.origin, f"refs/heads/{REF}"),
        (pair.clone, f"refs/heads/{REF}"),
        (pair.clone, f"refs/remotes/origin/{REF}"),
    ]:
        assert git(repo, "rev-parse", ref) == saved.commit
    assert store.load() == saved


def test_save_builds_on_the_base_tree(pair: RepoPair) -> None:
    store = state_store(pair.clone)
    first = store.save(
        store.load(), {"control.yaml": b"paused: false\n", "ledger/2030-11.jsonl": b"a\n"}, "one"
    )
    second = store.save(
        first, {"ledger/2030-11.jsonl": b"a\nb\n", "outbox/2030-12.jsonl": b"o\n"}, "two"
    )
    expected = {
        "control.yaml": b"paused: false\n",
        "ledger/2030-11.jsonl": b"a\nb\n",
        "outbox/2030-12.jsonl": b"o\n",
    }
    assert second.files == expected
    assert store.load().files == expected
    assert git(pair.clone, "rev-parse", f"{REF}^") == first.commit


def test_save_returns_trailers_of_its_message_or_else_the_base_ones(pair: RepoPair) -> None:
    store = state_store(pair.clone)
    with_trailers = store.save(
        store.load(), {"ledger/2030-12.jsonl": b"{}\n"}, f"claim\n\n{_trailer('x', 1, HASH_A)}"
    )
    without = store.save(with_trailers, {"control.yaml": b"paused: true\n"}, "pause")
    assert with_trailers.trailers == {"x": (1, HASH_A)}
    assert without.trailers == {"x": (1, HASH_A)}
    assert store.load().trailers == {"x": (1, HASH_A)}


def test_save_without_push_fast_forwards_a_local_branch_behind_origin(pair: RepoPair) -> None:
    newest = _local_behind(pair)
    saved = state_store(pair.clone).save(state_store(pair.clone).load(), {"a": b"1\n"}, "next")
    assert git(pair.clone, "rev-parse", f"{REF}^") == newest
    assert git(pair.clone, "rev-parse", REF) == saved.commit


def test_save_without_push_refuses_to_overwrite_a_diverged_local_branch(pair: RepoPair) -> None:
    _diverged(pair)
    local = git(pair.clone, "rev-parse", REF)
    store = state_store(pair.clone)
    with pytest.raises(StateError, match="diverged") as caught:
        store.save(store.load(), {"a": b"1\n"}, "next")
    assert f"  {local} state: test" in str(caught.value)
    assert git(pair.clone, "rev-parse", REF) == local


@pytest.mark.parametrize(
    "origin_has_state", [False, True], ids=["origin-empty", "origin-has-state"]
)
def test_racing_clones_second_push_conflicts_then_succeeds_after_reload(
    pair: RepoPair, origin_has_state: bool
) -> None:
    if origin_has_state:
        commit_in_bare(pair.origin, REF, {"control.yaml": "paused: false\n"}, "start")
    first = state_store(pair.clone, push=True)
    second = state_store(pair.another_clone("second"), push=True)
    first_base, second_base = first.load(), second.load()
    winner = first.save(first_base, {"ledger/2030-12.jsonl": b"first\n"}, "first claims")
    with pytest.raises(StateConflict, match="moved since it was read"):
        second.save(second_base, {"ledger/2030-12.jsonl": b"second\n"}, "second claims")
    reloaded = second.load()
    assert reloaded.files["ledger/2030-12.jsonl"] == b"first\n"
    second.save(reloaded, {"ledger/2030-12.jsonl": b"first\nsecond\n"}, "second claims")
    assert git(pair.origin, "show", f"{REF}:ledger/2030-12.jsonl") == "first\nsecond"
    assert git(pair.origin, "rev-parse", f"{REF}^") == winner.commit


def test_racing_local_writers_second_conflicts_then_succeeds_after_reload(
    pair: RepoPair,
) -> None:
    first, second = state_store(pair.clone), state_store(pair.clone)
    save_local(pair.clone, {"control.yaml": b"paused: false\n"})
    first_base, second_base = first.load(), second.load()
    winner = first.save(first_base, {"a": b"first\n"}, "first")
    with pytest.raises(StateConflict, match="moved since it was read"):
        second.save(second_base, {"a": b"second\n"}, "second")
    second.save(second.load(), {"a": b"first\nsecond\n"}, "second")
    assert git(pair.clone, "rev-parse", f"{REF}^") == winner.commit


def test_a_push_refused_for_another_reason_is_a_git_error(pair: RepoPair) -> None:
    hook = pair.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    store = state_store(pair.clone, push=True)
    with pytest.raises(GitError, match="pre-receive hook declined") as caught:
        store.save(store.load(), {"a": b"1\n"}, "claim")
    assert not isinstance(caught.value, StateConflict)
    assert git(pair.clone, "for-each-ref", f"refs/heads/{REF}") == ""


@pytest.mark.parametrize(
    ("configure", "expected"),
    [
        pytest.param([], "scheduler <scheduler@localhost>", id="fallback"),
        pytest.param(
            [["user.name", "Jane Doe"], ["user.email", "jane@example.com"]],
            "Jane Doe <jane@example.com>",
            id="configured",
        ),
    ],
)
def test_commit_identity(pair: RepoPair, configure: list[list[str]], expected: str) -> None:
    for key, value in configure:
        git(pair.clone, "config", key, value)
    save_local(pair.clone, {"a": b"1\n"})
    assert git(pair.clone, "log", "-1", "--format=%an <%ae>|%cn <%ce>", REF) == (
        f"{expected}|{expected}"
    )


def test_refuses_the_default_branch_as_state_branch(pair: RepoPair) -> None:
    main = git(pair.clone, "rev-parse", "main")
    store = state_store(pair.clone, ref="main")
    with pytest.raises(StateError, match="'main': it is the default branch"):
        store.save(store.load(), {"a": b"1\n"}, "claim")
    assert git(pair.clone, "rev-parse", "main") == main


def test_refuses_a_checked_out_state_branch(pair: RepoPair) -> None:
    git(pair.clone, "switch", "--quiet", "-c", REF)
    before = observe(pair.clone)
    store = state_store(pair.clone)
    with pytest.raises(StateError, match="while it is checked out"):
        store.save(store.load(), {"a": b"1\n"}, "claim")
    assert observe(pair.clone) == before


@pytest.mark.parametrize("name", ["", "a..b", "-x", "a b", "x.lock", "a/", "a:b"])
def test_refuses_an_invalid_state_branch_name(pair: RepoPair, name: str) -> None:
    with pytest.raises(StateError, match="invalid state branch name"):
        GitStateStore(repo_at(pair.clone), name, push=False)


@pytest.mark.parametrize("path", ["../x", "/abs", "a//b", ".git/config", "", "a/./b"])
def test_save_refuses_a_path_outside_the_tree(pair: RepoPair, path: str) -> None:
    store = state_store(pair.clone)
    with pytest.raises(StateError, match="invalid state file path"):
        store.save(store.load(), {path: b"x"}, "claim")
    assert git(pair.clone, "for-each-ref", f"refs/heads/{REF}") == ""


def test_save_stores_bytes_exactly_whatever_the_line_ending_settings(pair: RepoPair) -> None:
    git(pair.clone, "config", "core.autocrlf", "true")
    (pair.clone / ".gitattributes").write_text("* text=auto eol=crlf\n")
    content = b"crlf\r\nlf\n\0binary"
    save_local(pair.clone, {"ledger/2030-12.jsonl": content, "control.yaml": b"a\r\n"})
    assert state_store(pair.clone).load().files == {
        "ledger/2030-12.jsonl": content,
        "control.yaml": b"a\r\n",
    }
