"""Hostile input: whatever the files hold, the CLI ends in a clear message at file:line and
exit 1, never a traceback, and nothing in them is ever executed."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from tests.schedule_builder import run_cli, tree, write_tree

REPO = Path(__file__).resolve().parent.parent
PATHS = (
    "schedules/waves/w.yaml",
    "schedules/queues/yt-main.yaml",
    "schedules/channels.yaml",
    "schedules/videos.yaml",
)

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)

HOSTILE = [
    pytest.param(
        b"video: [teaser-01\n", "2:1: error: invalid YAML: *[yaml-syntax]", id="unclosed-list"
    ),
    pytest.param(
        b"video: teaser-01\n\tat: x\n", "2:1: error: invalid YAML: *[yaml-syntax]", id="tab"
    ),
    pytest.param(b"a: b\n c: d\n", "2:3: error: invalid YAML: *[yaml-syntax]", id="bad-indent"),
    pytest.param(b"a: 'open\n", "2:1: error: invalid YAML: *[yaml-syntax]", id="unclosed-quote"),
    pytest.param(
        b"a: *nowhere\n", "1:4: error: invalid YAML: *[yaml-syntax]", id="undefined-alias"
    ),
    pytest.param(
        b"%YAML 9.9\n---\na: b\n", "1:1: error: invalid YAML: *[yaml-syntax]", id="yaml-version"
    ),
    pytest.param(
        b"a: b\n---\nc: d\n",
        "3:1: error: one YAML document per file: remove the '---' and what follows [yaml-multi]",
        id="two-documents",
    ),
    pytest.param(
        b"? [a, b]\n: c\n", "1:3: error: keys must be plain scalars [yaml-key]", id="list-as-key"
    ),
    pytest.param(
        b"a: !!int 5\n",
        "1:4: error: YAML tags such as 'tag:yaml.org,2002:int' are not allowed: write plain values [yaml-tag]",
        id="int-tag",
    ),
    pytest.param(
        b"a: !local x\n",
        "1:4: error: YAML tags such as '!local' are not allowed: write plain values [yaml-tag]",
        id="local-tag",
    ),
    pytest.param(
        b"a: !!binary aGk=\n",
        "1:4: error: YAML tags such as 'tag:yaml.org,2002:binary' are not allowed: write plain values [yaml-tag]",
        id="binary-tag",
    ),
    pytest.param(
        BILLION_LAUGHS.encode(),
        "2:4: error: more than 100 alias uses are refused: write the values out [yaml-aliases]",
        id="billion-laughs",
    ),
    pytest.param(
        ("a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n").encode(),
        "1:4: error: more than 100 alias uses are refused: write the values out [yaml-aliases]",
        id="101-scalar-aliases",
    ),
    pytest.param(
        b"",
        "1:1: error: the file is empty: write its content or delete it [yaml-empty]",
        id="empty",
    ),
    pytest.param(
        b"# nothing here\n\n   \n",
        "1:1: error: the file is empty: write its content or delete it [yaml-empty]",
        id="comments-only",
    ),
    pytest.param(
        b"\xef\xbb\xbf",
        "1:1: error: the file is empty: write its content or delete it [yaml-empty]",
        id="bom-only",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "1:1: error: not UTF-8 text (byte 0x89 at offset 0): save the file as UTF-8 [yaml-encoding]",
        id="png",
    ),
    pytest.param(
        b"a: b\nc: caf\xe9\n",
        "2:1: error: not UTF-8 text (byte 0xe9 at offset 11): save the file as UTF-8 [yaml-encoding]",
        id="latin-1",
    ),
    pytest.param(
        "a: b\n".encode("utf-16"),
        "1:1: error: not UTF-8 text (byte 0xff at offset 0): save the file as UTF-8 [yaml-encoding]",
        id="utf-16",
    ),
    pytest.param(
        b"a: b\nc: \x00d\n",
        "2:1: error: the file contains NUL bytes: it is not a text file [yaml-encoding]",
        id="nul",
    ),
    pytest.param(
        b"a: \x07\n",
        "1:4: error: invalid YAML: unacceptable character #x0007: *[yaml-syntax]",
        id="control-character",
    ),
    pytest.param(
        b"- a\n- b\n",
        "1:1: error: the file holds a list; it must be a mapping of keys (see the file reference) [schema]",
        id="list-for-a-map",
    ),
    pytest.param(
        b"just some text\n",
        "1:1: error: the file holds a single value; it must be a mapping of keys (see the file reference) [schema]",
        id="scalar-for-a-map",
    ),
]


def assert_clean_failure(result: Result, expected: str) -> None:
    """Exit 1, no exception but the exit, no traceback, and ``expected`` among the lines.

    A ``*`` in ``expected`` stands for any text (libyaml words its own syntax errors).
    """
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    head, _, tail = expected.partition("*")
    lines = result.stdout.splitlines()
    assert any(line.startswith(head) and line.endswith(tail) for line in lines), lines


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("content", "problem"), HOSTILE)
def test_hostile_files_end_in_a_problem_at_file_line(
    tmp_path: Path, path: str, content: bytes, problem: str
) -> None:
    root = write_tree(tmp_path, tree(files={path: content}))
    assert_clean_failure(run_cli(root, "validate"), f"{path}:{problem}")
    listed = run_cli(root, "list", "--format", "json")
    assert listed.exception is None or isinstance(listed.exception, SystemExit)
    assert listed.exit_code in (0, 1)


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payloads = [
        f"video: !!python/object/apply:os.system ['touch {marker}']\n",
        f"video: !!python/object/apply:subprocess.call [[touch, {marker}]]\n",
        f"video: !!python/object/new:pathlib.Path ['{marker}']\n",
        "video: !!python/name:os.system\n",
        f"video: !!python/object/apply:builtins.exec [\"open('{marker}', 'w')\"]\n",
    ]
    for index, payload in enumerate(payloads):
        root = write_tree(tmp_path / f"r{index}", tree(files={"schedules/waves/w.yaml": payload}))
        result = run_cli(root, "validate")
        [line, _] = result.stdout.splitlines()
        assert line.startswith(
            "schedules/waves/w.yaml:1:8: error: YAML tags such as 'tag:yaml.org,2002:python/"
        )
        assert result.exit_code == 1
        assert not marker.exists()


def test_aliases_up_to_the_limit_are_read(tmp_path: Path) -> None:
    videos = "videos:\n  v0: &v {url: https://x/v.mp4, aspect: 9:16}\n" + "".join(
        f"  v{i}: *v\n" for i in range(1, 20)
    )
    params = "params: {a: &a x, b: [" + ", ".join(["*a"] * 80) + "]}\n"
    wave_text = (
        "video: v3\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n" + params
    )
    root = write_tree(tmp_path, tree(videos=videos, waves={"w": wave_text}))
    result = run_cli(root, "validate")
    assert (result.exit_code, result.stdout) == (0, "3 files checked: 0 error(s), 0 warning(s)\n")


def test_an_11_mb_file_is_refused_without_being_parsed(tmp_path: Path) -> None:
    content = b"videos:\n" + b"".join(b"  v%07d: {url: u}\n" % i for i in range(600_000))
    assert len(content) > 11 * 1024 * 1024
    root = write_tree(tmp_path, tree(files={"schedules/videos.yaml": content}))
    expected = f"schedules/videos.yaml: error: the file is {len(content):,} bytes; files over 10,485,760 bytes are refused: split it [yaml-too-large]"
    assert_clean_failure(run_cli(root, "validate"), expected)


@pytest.mark.parametrize(
    ("content", "position"),
    [
        pytest.param(b"[" * 100_000, "1:65", id="flow-lists"),
        pytest.param(b"{a: " * 100_000, "1:257", id="flow-maps"),
        pytest.param(b"- " * 100_000 + b"x\n", "1:129", id="block-lists-on-one-line"),
        pytest.param(b"? " * 100_000 + b"x\n", "1:129", id="complex-keys"),
        pytest.param(
            b"".join(b" " * i + b"k:\n" for i in range(2_000)), "65:65", id="indented-maps"
        ),
    ],
)
def test_deep_nesting_is_refused_and_never_crashes_the_process(
    tmp_path: Path, content: bytes, position: str
) -> None:
    # A separate process: a stack overflow in the YAML composer would kill the test run.
    root = write_tree(tmp_path, tree(files={"schedules/waves/w.yaml": content}))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITHUB_STEP_SUMMARY", "SCHEDULER_STATE_REF")
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler",
            "--root",
            str(root),
            "--now",
            "2030-11-20T00:00:00Z",
            "validate",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout.splitlines()[0] == (
        f"schedules/waves/w.yaml:{position}: error: nesting deeper than 64 levels is refused [yaml-too-deep]"
    )


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    params = "params: " + "{a: " * 63 + "x" + "}" * 63 + "\n"
    root = write_tree(
        tmp_path,
        tree(
            waves={
                "w": "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n"
                + params
            }
        ),
    )
    result = run_cli(root, "validate")
    assert (result.exit_code, result.stdout) == (0, "3 files checked: 0 error(s), 0 warning(s)\n")


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_symlink_under_schedules_is_refused_and_not_followed(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yaml"
    secret.write_text(
        "video: top-secret-value\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n"
    )
    root = write_tree(tmp_path / "repo", tree())
    link = root / "schedules" / "waves" / ("leak.yaml" if kind == "file" else "leak")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret if kind == "file" else outside)
    result = run_cli(root, "validate")
    rel = link.relative_to(root).as_posix()
    assert_clean_failure(
        result,
        f"{rel}: error: symbolic links are not allowed under schedules/: replace it by the file itself [symlink]",
    )
    assert "top-secret" not in result.output
    assert "top-secret" not in run_cli(root, "list", "--format", "json").output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"videos:\n  teaser-01: [a, b]\n",
            "schedules/videos.yaml:2:14: error: videos.teaser-01: Input should be a valid dictionary or instance of Video [schema]",
            id="list-for-a-video",
        ),
        pytest.param(
            b"videos: just-text\n",
            "schedules/videos.yaml:1:9: error: videos: Input should be a valid dictionary [schema]",
            id="text-for-videos",
        ),
        pytest.param(
            b"videos:\n  teaser-01:\n    url: u\n    ready: [true]\n",
            "schedules/videos.yaml:4:12: error: videos.teaser-01.ready: expected true or false, not ['true'] [schema]",
            id="list-for-a-boolean",
        ),
    ],
)
def test_wrong_types_in_the_registry_are_schema_errors(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    root = write_tree(tmp_path, tree(videos=content))
    assert_clean_failure(run_cli(root, "validate"), expected)


# --------------------------------------------------------------------------- fuzzing

TOKENS = [
    b"\n",
    b" ",
    b"- ",
    b": ",
    b"[",
    b"]",
    b"{",
    b"}",
    b"&a ",
    b"*a",
    b"!!str ",
    b"~",
    b"'",
    b'"',
    b"#",
    b"\t",
    b"0",
    b"true",
    b"yes",
    b"group:fr",
    b"platform:x",
    b"-1h",
    b"2030-03-31T02:30:00",
    b"\xff",
    b"ig-fr",
    b"2h",
    b"delay: ",
    b"cancelled: true",
    b"every: ",
    b"\x00",
    b"---\n",
    b"queue",
    b"id: ",
    b"? ",
    b"|",
    b">",
    b"9999-12-31T23:59:59-05:00",
    b"999999999d",
    b"0001-01-01",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """``data`` with 1-4 random insertions, deletions, byte flips or duplications."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.35:
            out[pos:pos] = rng.choice(TOKENS)
        elif choice < 0.55:
            del out[pos : pos + rng.randint(1, 8)]
        elif choice < 0.75 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        else:
            start = rng.randint(0, len(out))
            out[pos:pos] = out[start : start + rng.randint(1, 40)]
    return bytes(out)


def test_mutated_example_files_never_raise(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "schedules", root / "schedules")
    paths = sorted(p.relative_to(root).as_posix() for p in (root / "schedules").rglob("*.yaml"))
    originals = {path: (root / path).read_bytes() for path in paths}
    rng = random.Random(20301201)
    for round_ in range(300):
        changed = rng.sample(paths, rng.randint(1, 2))
        for path in changed:
            (root / path).write_bytes(mutate(originals[path], rng))
        now = rng.choice(["2030-11-20T00:00:00Z", "2030-12-09T19:30:00Z"])
        commands = (
            [["validate"], ["list", "--format", "json"]] if round_ % 5 == 0 else [["validate"]]
        )
        for command in commands:
            result = run_cli(root, *command, now=now)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                round_,
                {path: (root / path).read_bytes() for path in changed},
                result.exception,
            )
            assert result.exit_code in (0, 1)
        for path in changed:
            (root / path).write_bytes(originals[path])
