"""The cache of parsed schedule files kept between runs, seen from the command line.

It lives in ``.git/scheduler-cache/`` (never in the working tree) or in
``$SCHEDULER_CACHE_DIR`` (empty: no cache). A warm run parses no unchanged file again and
prints exactly what a cold or an uncached run prints, problems and positions included; a
corrupt or unwritable cache changes nothing a user sees; the cache holds only what the last
run used.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import random
import re
import resource
import stat
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from scheduler import yamltext
from scheduler.adapters import parse_cache
from tests.gitrepos import git, init_repo, isolate_git_env
from tests.schedule_builder import NOW, run_cli, tree, wave, write_tree

REPO = Path(__file__).resolve().parent.parent
ENV = "SCHEDULER_CACHE_DIR"
CACHE_NAME = re.compile(rf"parsed-v\d+-py{sys.version_info[0]}{sys.version_info[1]}\.marshal")
EDITED = "schedules/waves/teaser.yaml"

Outcome = tuple[int, str, str]


# --------------------------------------------------------------------------- schedules


def example_files() -> dict[str, bytes]:
    """The bundled example, by repository-relative path."""
    folder = REPO / "schedules"
    return {
        f"schedules/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


SYNTAX = "schedules/waves/syntax.yaml"
DUPLICATE = "schedules/waves/dupe.yaml"


def problem_files() -> dict[str, bytes]:
    """A schedule with an unknown channel, an overlap, an unknown key, a YAML syntax error
    and a duplicate key (one problem per wave file)."""
    return tree(
        waves={
            "a": wave("teaser-01", "2030-12-01T18:00:00Z", ["yt-mian"]),
            "early": wave("teaser-02", "2030-12-02T18:00:00Z", ["yt-main"]),
            "late": wave("clip-03", "2030-12-02T19:00:00Z", ["yt-main"]),
            "extra-key": wave("teaser-02", "2030-12-03T18:00:00Z", ["ig-fr"], colour="red"),
        },
        files={
            SYNTAX: "video: teaser-01\ntype: simultaneous\nat: 2030-12-04T18:00:00Z\n"
            "channels: [yt-main\n",
            DUPLICATE: "video: teaser-01\ntype: simultaneous\nvideo: clip-03\n"
            "at: 2030-12-05T18:00:00Z\nchannels: [tiktok-fr]\n",
        },
    )


PROBLEM_REPORT = [
    "schedules/waves/a.yaml:5:3: error: unknown channel 'yt-mian' (did you mean 'yt-main'?): "
    "channels are defined in channels.yaml [unknown-channel]",
    "schedules/waves/dupe.yaml:3:1: error: duplicate key 'video': keep one [yaml-duplicate-key]",
    "schedules/waves/extra-key.yaml:4:1: error: unknown key 'colour': remove it "
    "(see the file reference) [schema]",
    "schedules/waves/late.yaml:5:3: error: 'late/yt-main' at 2030-12-02T19:00:00Z is within 2h "
    "(min_gap of 'yt-main') of wave 'early' (schedules/waves/early.yaml:5, 2030-12-02T18:00:00Z): "
    "move it to 2030-12-02T20:00:00Z or later [overlap]",
    "schedules/waves/syntax.yaml:5:1: error: invalid YAML: did not find expected ',' or ']' "
    "[yaml-syntax]",
    "8 files checked: 5 error(s), 0 warning(s)",
]


@dataclass(frozen=True)
class Schedule:
    """A schedule tree, the files of it whose YAML is refused, and what validate exits with."""

    files: Mapping[str, bytes]
    unparsable: tuple[str, ...]
    exit_code: int

    def cacheable_digests(self) -> set[str]:
        """The sha256 hex digests of the files that parse without a problem."""
        return {digest(data) for path, data in self.files.items() if path not in self.unparsable}


SCHEDULES = {
    "example": Schedule(example_files(), (), 0),
    "problems": Schedule(problem_files(), (DUPLICATE, SYNTAX), 1),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Git isolated from the user's configuration, and no cache folder set from outside."""
    isolate_git_env(monkeypatch, tmp_path)
    monkeypatch.delenv(ENV, raising=False)


@dataclass
class Parses:
    """The paths handed to the YAML parser, in call order."""

    paths: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        """The paths parsed since the last call, sorted (the record is emptied)."""
        taken, self.paths = sorted(self.paths), []
        return taken


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Parses:
    """Records every call of the real YAML parser, which still does the work."""
    record = Parses()
    real = yamltext.parse_text

    def counting(text: str, path: str) -> tuple[Any, yamltext.Source]:
        record.paths.append(path)
        return real(text, path)

    monkeypatch.setattr(yamltext, "parse_text", counting)
    monkeypatch.setattr(parse_cache, "parse_text", counting)  # big schedules: every core
    return record


def make_repo(tmp_path: Path, files: Mapping[str, bytes]) -> Path:
    """A git repository holding ``files``, committed, with a clean working tree."""
    root = init_repo(tmp_path / "repo")
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "schedules")
    return root


def run(root: Path, *args: str, cache: str | None = None) -> Result:
    """``scheduler ARGS`` on ``root``, with ``$SCHEDULER_CACHE_DIR`` set to ``cache`` (unset:
    None)."""
    return run_cli(root, *args, env={ENV: cache})


def outcome(result: Result) -> Outcome:
    """What a user sees of a run: (exit code, stdout, stderr)."""
    return result.exit_code, result.stdout, result.stderr


def digest(data: bytes) -> str:
    """The sha256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def cache_dir(root: Path) -> Path:
    """The default cache folder of the repository at ``root``."""
    return root / ".git" / "scheduler-cache"


def cache_file(folder: Path) -> Path:
    """The one cache file in ``folder`` (asserting there is exactly one file, well named)."""
    entries = sorted(folder.iterdir())
    assert len(entries) == 1, entries
    assert CACHE_NAME.fullmatch(entries[0].name), entries[0].name
    return entries[0]


def cached_keys(folder: Path) -> set[str]:
    """The keys of the dict the cache file in ``folder`` holds (asserting it is a dict)."""
    loaded = parse_cache._unpack(cache_file(folder).read_bytes())
    assert isinstance(loaded, dict), type(loaded)
    return set(loaded)


def worktree_status(root: Path) -> str:
    """``git status --porcelain``, counting untracked and ignored files too."""
    return git(root, "status", "--porcelain", "--ignored", "--untracked-files=all")


def stray_files(tmp_path: Path) -> list[Path]:
    """Cache files and leftover temporary files anywhere under ``tmp_path``."""
    return sorted(
        path
        for pattern in ("parsed-*.marshal", ".parsed-*")
        for path in tmp_path.rglob(pattern)
        if path.is_file()
    )


# every command that loads the schedule through the cache
COMMANDS = {
    "validate": ("validate",),
    "validate-json": ("validate", "--format", "json"),
    "list-json": ("list", "--format", "json"),
    "status": ("status",),
    "timeline": ("timeline",),
    "show": ("show", "launch/yt-main"),
    "plan": ("plan",),
    "tick-dry-run": ("tick", "--dry-run"),
}


# --------------------------------------------------------------------------- where it lives


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_the_cache_is_kept_in_dot_git_and_the_working_tree_stays_clean(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    root = make_repo(tmp_path, example_files())
    assert worktree_status(root) == ""
    result = run(root, *args)
    assert result.exit_code == 0, result.output
    assert cached_keys(cache_dir(root)) == SCHEDULES["example"].cacheable_digests()
    assert worktree_status(root) == ""


def test_scheduler_cache_dir_puts_the_cache_there(tmp_path: Path, parses: Parses) -> None:
    root = make_repo(tmp_path, example_files())
    elsewhere = tmp_path / "elsewhere" / "cache"
    assert run(root, "validate", cache=str(elsewhere)).exit_code == 0
    assert cached_keys(elsewhere) == SCHEDULES["example"].cacheable_digests()
    assert not cache_dir(root).exists()
    parses.take()
    assert run(root, "validate", cache=str(elsewhere)).exit_code == 0
    assert parses.take() == []


def test_an_empty_scheduler_cache_dir_means_no_cache(tmp_path: Path, parses: Parses) -> None:
    root = make_repo(tmp_path, example_files())
    for _ in range(2):
        assert run(root, "validate", cache="").exit_code == 0
        assert parses.take() == sorted(example_files())
    assert not cache_dir(root).exists()
    assert stray_files(tmp_path) == []
    assert worktree_status(root) == ""


def test_outside_a_git_repository_nothing_is_written(tmp_path: Path, parses: Parses) -> None:
    root = write_tree(tmp_path / "plain", example_files())
    for _ in range(2):
        assert outcome(run(root, "validate")) == (
            0,
            "8 files checked: 0 error(s), 0 warning(s)\n",
            "",
        )
        assert parses.take() == sorted(example_files())
    assert stray_files(tmp_path) == []


# --------------------------------------------------------------------------- nothing parsed twice


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_second_run_parses_only_the_edited_file(
    tmp_path: Path, parses: Parses, args: tuple[str, ...]
) -> None:
    root = make_repo(tmp_path, example_files())
    assert run(root, *args).exit_code == 0
    assert sorted(set(parses.take())) == sorted(example_files())
    assert run(root, *args).exit_code == 0
    assert parses.take() == []
    with (root / EDITED).open("a") as out:
        out.write("# edited\n")
    assert run(root, *args).exit_code == 0
    assert parses.take() == [EDITED]
    assert run(root, *args).exit_code == 0
    assert parses.take() == []


def test_files_with_yaml_problems_are_parsed_on_every_run(tmp_path: Path, parses: Parses) -> None:
    root = make_repo(tmp_path, problem_files())
    assert run(root, "validate").exit_code == 1
    assert parses.take() == sorted(problem_files())
    for _ in range(2):
        assert run(root, "validate").exit_code == 1
        assert parses.take() == [DUPLICATE, SYNTAX]


# --------------------------------------------------------------------------- same results


OUTPUTS = {name: COMMANDS[name] for name in ("validate", "validate-json", "list-json")}


@pytest.mark.parametrize("args", OUTPUTS.values(), ids=OUTPUTS.keys())
@pytest.mark.parametrize("name", SCHEDULES)
def test_cold_warm_and_uncached_runs_print_the_same(
    tmp_path: Path, parses: Parses, name: str, args: tuple[str, ...]
) -> None:
    schedule = SCHEDULES[name]
    root = make_repo(tmp_path, schedule.files)
    cold = outcome(run(root, *args))
    assert sorted(set(parses.take())) == sorted(schedule.files)
    warm = outcome(run(root, *args))
    assert parses.take() == sorted(schedule.unparsable)  # the cache was used
    uncached = outcome(run(root, *args, cache=""))
    assert warm == cold
    assert uncached == cold
    if args[0] == "validate":
        assert cold[0] == schedule.exit_code


def test_every_problem_is_reported_again_at_its_place_from_a_warm_cache(tmp_path: Path) -> None:
    root = make_repo(tmp_path, problem_files())
    for cache in (None, None, ""):  # cold, warm, none
        result = run(root, "validate", cache=cache)
        assert (result.exit_code, result.stdout.splitlines()) == (1, PROBLEM_REPORT)


def big_schedule(count: int) -> Schedule:
    """``count`` valid waves, one an hour on one channel, each with its own video, plus the
    two files with YAML problems: enough files to be parsed on several cores when cold."""
    videos = {
        f"v{index:03}": {"title": f"Video {index}", "url": f"https://cdn.example.com/{index}.mp4"}
        for index in range(count)
    }
    waves = {
        f"w{index:03}": wave(
            f"v{index:03}", f"2030-12-{1 + index // 24:02}T{index % 24:02}:00:00Z", ["ig-fr"]
        )
        for index in range(count)
    }
    broken = {path: problem_files()[path] for path in (DUPLICATE, SYNTAX)}
    return Schedule(
        tree(videos={"videos": videos}, waves=waves, files=broken), (DUPLICATE, SYNTAX), 1
    )


@pytest.mark.parametrize("args", OUTPUTS.values(), ids=OUTPUTS.keys())
def test_a_big_schedule_prints_the_same_cold_warm_and_uncached(
    tmp_path: Path, parses: Parses, args: tuple[str, ...]
) -> None:
    schedule = big_schedule(parse_cache.PARALLEL_FROM + 20)
    root = make_repo(tmp_path, schedule.files)
    cold = outcome(run(root, *args))
    assert cached_keys(cache_dir(root)) == schedule.cacheable_digests()
    parses.take()
    warm = outcome(run(root, *args))
    assert parses.take() == sorted(schedule.unparsable)
    assert warm == cold
    assert outcome(run(root, *args, cache="")) == cold
    if args == ("validate",):
        assert cold[0] == 1
        assert f"{DUPLICATE}:3:1" in cold[1]
        assert f"{SYNTAX}:5:" in cold[1]


# --------------------------------------------------------------------------- corrupt cache


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "random-bytes": lambda good: random.Random(0).randbytes(4096),
    "truncated": lambda good: good[: len(good) // 2],
    "a-list": lambda good: parse_cache._pack(list(parse_cache._unpack(good).items())),  # type: ignore[arg-type]
    "an-int": lambda good: parse_cache._pack(7),  # type: ignore[arg-type]
    "empty": lambda good: b"",
    "unrelated-keys": lambda good: parse_cache._pack({"not-a-digest": "x"}),
    "bare-marshal": lambda good: marshal.dumps(parse_cache._unpack(good)),
    "one-byte-flipped": lambda good: good[:-1] + bytes([good[-1] ^ 1]),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
@pytest.mark.parametrize("name", SCHEDULES)
def test_a_corrupt_cache_is_ignored_and_rewritten(
    tmp_path: Path, name: str, corrupt: Callable[[bytes], bytes]
) -> None:
    schedule = SCHEDULES[name]
    root = make_repo(tmp_path, schedule.files)
    reference = outcome(run(root, "validate"))
    assert reference[0] == schedule.exit_code
    path = cache_file(cache_dir(root))
    path.write_bytes(corrupt(path.read_bytes()))
    assert outcome(run(root, "validate")) == reference
    assert cached_keys(cache_dir(root)) == schedule.cacheable_digests()
    assert outcome(run(root, "validate")) == reference


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux only")
def test_a_corrupt_cache_announcing_a_huge_tuple_is_ignored_within_modest_memory(
    tmp_path: Path,
) -> None:
    """A 5-byte cache file (marshal's tuple code and a count of 2**31 - 1) must not make a
    command allocate gigabytes: under a 2 GiB address-space limit, the command still prints
    what it prints without a cache."""
    root = make_repo(tmp_path, example_files())
    assert run(root, "validate").exit_code == 0
    path = cache_file(cache_dir(root))
    path.write_bytes(b"(" + (2**31 - 1).to_bytes(4, "little"))
    uncached = run_limited(root, cache="")
    assert uncached == (0, "8 files checked: 0 error(s), 0 warning(s)\n", "")
    assert run_limited(root, cache=None) == uncached


def run_limited(root: Path, *, cache: str | None) -> Outcome:
    """``python -m scheduler validate`` on ``root`` in a process limited to 2 GiB of address
    space; (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if cache is not None:
        env[ENV] = cache

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    proc = subprocess.run(
        [sys.executable, "-m", "scheduler", "--root", str(root), "--now", NOW, "validate"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


# --------------------------------------------------------------------------- what is kept


def delete(root: Path) -> None:
    """Delete the edited wave file."""
    (root / EDITED).unlink()


def edit(root: Path) -> None:
    """Add a comment line to the edited wave file."""
    with (root / EDITED).open("a") as out:
        out.write("# moved to the evening\n")


@pytest.mark.parametrize("change", [delete, edit], ids=["deleted", "edited"])
def test_the_cache_keeps_only_the_entries_the_run_used(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    root = make_repo(tmp_path, example_files())
    assert run(root, "validate").exit_code == 0
    before = digest((root / EDITED).read_bytes())
    assert before in cached_keys(cache_dir(root))
    change(root)
    assert run(root, "validate").exit_code == 0
    now_there = {
        digest(path.read_bytes()) for path in (root / "schedules").rglob("*") if path.is_file()
    }
    assert before not in cached_keys(cache_dir(root))
    assert cached_keys(cache_dir(root)) == now_there


def test_only_files_that_parse_without_a_problem_are_cached(tmp_path: Path) -> None:
    schedule = SCHEDULES["problems"]
    root = make_repo(tmp_path, schedule.files)
    assert run(root, "validate").exit_code == 1
    keys = cached_keys(cache_dir(root))
    assert keys == schedule.cacheable_digests()
    assert digest(schedule.files[SYNTAX]) not in keys
    assert digest(schedule.files[DUPLICATE]) not in keys


# --------------------------------------------------------------------------- unwritable cache


def folder_is_a_file(root: Path, tmp_path: Path) -> str | None:
    """``.git/scheduler-cache`` is a regular file."""
    cache_dir(root).write_text("not a folder\n")
    return None


def configured_folder_is_a_file(root: Path, tmp_path: Path) -> str | None:
    """``$SCHEDULER_CACHE_DIR`` names a regular file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder\n")
    return str(blocker)


def cache_file_is_a_folder(root: Path, tmp_path: Path) -> str | None:
    """The cache file's own name is taken by a folder."""
    assert run(root, "validate").exit_code == 1
    path = cache_file(cache_dir(root))
    path.unlink()
    path.mkdir()
    edit(root)
    return None


UNWRITABLE: dict[str, Callable[[Path, Path], str | None]] = {
    "folder-is-a-file": folder_is_a_file,
    "configured-folder-is-a-file": configured_folder_is_a_file,
    "cache-file-is-a-folder": cache_file_is_a_folder,
}


@pytest.mark.parametrize("setup", UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_an_unwritable_cache_does_not_change_the_outcome(
    tmp_path: Path, setup: Callable[[Path, Path], str | None]
) -> None:
    root = make_repo(tmp_path, problem_files())
    try:
        cache = setup(root, tmp_path)
        expected = outcome(run(root, "validate", cache=""))
        assert expected[0] == 1
        for _ in range(2):
            assert outcome(run(root, "validate", cache=cache)) == expected
        assert [p for p in stray_files(tmp_path) if p.name.startswith(".parsed-")] == []
    finally:
        if cache_dir(root).is_dir():
            cache_dir(root).chmod(stat.S_IRWXU)
