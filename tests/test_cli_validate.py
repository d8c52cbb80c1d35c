"""The read-only commands through the CLI: ``validate`` (text, github, json, --strict, --base),
``list`` (selectors, ranges, formats) and ``show``, with exact output and exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepos import git, init_repo, isolate_git_env
from tests.schedule_builder import (
    CHANNELS,
    json_rows,
    ledger_bytes,
    ledger_line,
    run_cli,
    tree,
    wave,
    write_tree,
)

REPO = Path(__file__).resolve().parent.parent
NOW = "2030-11-20T00:00:00Z"
AT = "2030-12-01T18:00:00Z"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A directory holding a copy of the bundled example (not a git repository)."""
    root = tmp_path / "example"
    shutil.copytree(REPO / "schedules", root / "schedules")
    return root


def bad_tree() -> dict[str, bytes]:
    """A tree with one error and one warning."""
    return tree(
        waves={
            "a": wave("teaser-01", AT, ["yt-mian"]),
            "b": wave("teaser-02", "2030-12-01T18:00:00+05:00", ["ig-fr"]),
        }
    )


UNKNOWN = (
    "schedules/waves/a.yaml:5:3: error: unknown channel 'yt-mian' (did you mean 'yt-main'?): "
    "channels are defined in channels.yaml [unknown-channel]"
)
OFFSET = (
    "schedules/waves/b.yaml:3:5: warning: 'at' is written 2030-12-01T18:00:00+05:00, but Europe/Paris is at "
    "UTC+01:00 then: if the wall-clock time is meant, write 2030-12-01T18:00:00+01:00; the instant as written "
    "is 2030-12-01T14:00:00+01:00 there [offset]"
)


# --------------------------------------------------------------------------- validate: formats


def test_the_bundled_example_validates(example: Path) -> None:
    result = run_cli(example, "validate")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "8 files checked: 0 error(s), 0 warning(s)\n",
        "",
    )


def test_text_lists_each_problem_at_file_line_column_then_a_count(tmp_path: Path) -> None:
    result = run_cli(write_tree(tmp_path, bad_tree()), "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        UNKNOWN,
        OFFSET,
        "4 files checked: 1 error(s), 1 warning(s)",
    ]


def test_json_prints_the_documented_shape(tmp_path: Path) -> None:
    result = run_cli(write_tree(tmp_path, bad_tree()), "validate", "--format", "json")
    assert result.exit_code == 1
    assert json_rows(result) == {
        "problems": [
            {
                "file": "schedules/waves/a.yaml",
                "line": 5,
                "column": 3,
                "severity": "error",
                "code": "unknown-channel",
                "message": "unknown channel 'yt-mian' (did you mean 'yt-main'?): channels are defined in channels.yaml",
            },
            {
                "file": "schedules/waves/b.yaml",
                "line": 3,
                "column": 5,
                "severity": "warning",
                "code": "offset",
                "message": OFFSET.split(": warning: ", 1)[1].removesuffix(" [offset]"),
            },
        ]
    }


def test_json_of_a_clean_tree_is_an_empty_list(example: Path) -> None:
    result = run_cli(example, "validate", "--format", "json")
    assert (result.exit_code, json_rows(result)) == (0, {"problems": []})


def test_a_file_level_problem_has_line_and_column_zero(tmp_path: Path) -> None:
    root = write_tree(tmp_path, tree(files={"schedules/waves/x.yml": "a: b\n"}))
    [row] = json_rows(run_cli(root, "validate", "--format", "json"))["problems"]
    assert (row["file"], row["line"], row["column"], row["code"]) == (
        "schedules/waves/x.yml",
        0,
        0,
        "stray-file",
    )


def test_github_prints_workflow_annotations(tmp_path: Path) -> None:
    result = run_cli(write_tree(tmp_path, bad_tree()), "validate", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=schedules/waves/a.yaml,line=5,col=3,title=unknown-channel::unknown channel 'yt-mian' "
        "(did you mean 'yt-main'?): channels are defined in channels.yaml",
        "::warning file=schedules/waves/b.yaml,line=3,col=5,title=offset::"
        + OFFSET.split(": warning: ", 1)[1].removesuffix(" [offset]"),
    ]


def test_github_escapes_file_names_and_omits_unknown_positions(tmp_path: Path) -> None:
    root = write_tree(tmp_path, tree(files={"schedules/waves/a,b:c.yml": "x: y\n"}))
    result = run_cli(root, "validate", "--format", "github")
    assert result.stdout.splitlines() == [
        "::error file=schedules/waves/a%2Cb%3Ac.yml,title=stray-file::this file matches no schedule file pattern: "
        "did you mean schedules/waves/a,b:c.yaml?"
    ]


def many_problems() -> dict[str, bytes]:
    """12 errors (unknown channels) and 12 warnings (offsets), each wave on its own channel."""
    channels = {
        "defaults": {"timezone": "Europe/Paris"},
        "channels": {f"c{i:02d}": {"platform": "x"} for i in range(12)},
    }
    waves: dict[str, Any] = {}
    for i in range(12):
        waves[f"e{i:02d}"] = wave("teaser-01", AT, [f"nowhere-{i}"])
        waves[f"w{i:02d}"] = wave("teaser-01", "2030-12-01T18:00:00+05:00", [f"c{i:02d}"])
    return tree(channels=channels, waves=waves)


def test_github_shows_at_most_ten_annotations_per_severity(tmp_path: Path) -> None:
    root = write_tree(tmp_path, many_problems())
    lines = run_cli(root, "validate", "--format", "github").stdout.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert lines[-1] == "4 more problem(s) are listed in the job summary"


def test_github_writes_every_problem_to_the_job_summary(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", many_problems())
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = run_cli(
        root, "validate", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### Schedule validation\n")
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| error ") or line.startswith("| warning ")
    ]
    assert len(rows) == 24
    assert "| error | `schedules/waves/e11.yaml:5:3` | unknown channel 'nowhere-11'" in text


def test_github_without_a_summary_variable_writes_no_summary(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", bad_tree())
    result = run_cli(root, "validate", "--format", "github")
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


@pytest.mark.parametrize(
    ("files", "strict", "code"),
    [
        pytest.param(tree(), False, 0, id="clean"),
        pytest.param(tree(), True, 0, id="clean-strict"),
        pytest.param(
            tree(waves={"b": wave("teaser-02", "2030-12-01T18:00:00+05:00", ["ig-fr"])}),
            False,
            0,
            id="warning",
        ),
        pytest.param(
            tree(waves={"b": wave("teaser-02", "2030-12-01T18:00:00+05:00", ["ig-fr"])}),
            True,
            1,
            id="warning-strict",
        ),
        pytest.param(bad_tree(), False, 1, id="error"),
    ],
)
def test_exit_codes_and_strict(
    tmp_path: Path, files: dict[str, bytes], strict: bool, code: int
) -> None:
    result = run_cli(write_tree(tmp_path, files), "validate", *(["--strict"] if strict else []))
    assert result.exit_code == code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["validate", "--format", "xml"],
            "Invalid value for '--format': 'xml' is not one of 'text', 'github', 'json'.",
        ),
        (["validate", "--bogus"], "No such option"),
        (["--tz", "Mars/Base", "validate"], "--tz: unknown time zone 'Mars/Base'"),
    ],
)
def test_usage_errors_exit_2(example: Path, args: list[str], message: str) -> None:
    result = run_cli(example, *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("now", ["yesterday", "2030-12-01T10:00:00"])
def test_a_bad_now_is_a_usage_error(example: Path, now: str) -> None:
    result = run_cli(example, "validate", now=now)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --now {now}: ")


def test_a_root_without_schedules_is_an_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "validate")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {tmp_path}/schedules: no schedules/ folder here: run from the repository root or pass --root DIR\n"
    )


# --------------------------------------------------------------------------- validate --base


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository (a README on main) with isolated git configuration."""
    isolate_git_env(monkeypatch, tmp_path)
    return init_repo(tmp_path / "repo")


def commit(root: Path, files: dict[str, bytes], message: str) -> str:
    """Replace ``schedules/`` by ``files``, commit everything and return the commit."""
    shutil.rmtree(root / "schedules", ignore_errors=True)
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


def commit_state(root: Path, ledger: dict[str, bytes]) -> None:
    """Put ``ledger/<name>`` files on a local ``scheduler-state`` branch, with plumbing only."""
    rows = "".join(
        f"100644 blob {git(root, 'hash-object', '-w', '--stdin', input=content.decode())}\t{name}\n"
        for name, content in ledger.items()
    )
    ledger_tree = git(root, "mktree", input=rows)
    top = git(root, "mktree", input=f"040000 tree {ledger_tree}\tledger\n")
    sha = git(root, "commit-tree", top, "-m", "state")
    git(root, "update-ref", "refs/heads/scheduler-state", sha)


OVERLAPPING = {
    "a": wave("teaser-01", AT, ["yt-main"]),
    "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
}
PRE_EXISTING = (
    "schedules/waves/b.yaml:5:3: warning: 'b/yt-main' at 2030-12-01T19:00:00Z is within 2h (min_gap of 'yt-main') of "
    "wave 'a' (schedules/waves/a.yaml:5, 2030-12-01T18:00:00Z): move it to 2030-12-01T20:00:00Z or later "
    "(already so before this change) [overlap]"
)


def test_base_turns_problems_the_change_did_not_introduce_into_warnings(repo: Path) -> None:
    base = commit(repo, tree(waves=OVERLAPPING), "base")
    commit(repo, tree(waves={**OVERLAPPING, "c": wave("clip-03", AT, ["ig-fr"])}), "head")
    assert run_cli(repo, "validate").exit_code == 1
    result = run_cli(repo, "validate", "--base", base)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [PRE_EXISTING, "5 files checked: 0 error(s), 1 warning(s)"]


def test_base_reports_a_new_conflict_at_the_publication_the_change_adds(repo: Path) -> None:
    base = commit(
        repo, tree(waves={"b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"])}), "base"
    )
    commit(
        repo,
        tree(
            waves={
                "b": wave("teaser-02", "2030-12-01T19:00:00Z", ["yt-main"]),
                "c": wave("teaser-01", AT, ["yt-main"]),
            }
        ),
        "head",
    )
    without = run_cli(repo, "validate").stdout.splitlines()
    assert without[0].startswith(
        "schedules/waves/b.yaml:5:3: error: 'b/yt-main' at 2030-12-01T19:00:00Z is within 2h"
    )
    result = run_cli(repo, "validate", "--base", base)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "schedules/waves/c.yaml:5:3: error: 'c/yt-main' at 2030-12-01T18:00:00Z is within 2h (min_gap of 'yt-main') of "
        "wave 'b' (schedules/waves/b.yaml:5, 2030-12-01T19:00:00Z): move it to 2030-12-01T21:00:00Z or later [overlap]",
        "4 files checked: 1 error(s), 0 warning(s)",
    ]


def test_base_reports_a_duplicate_at_the_publication_the_change_moves(repo: Path) -> None:
    waves = {
        "a": wave("teaser-01", "2030-12-05T18:00:00Z", ["ig-fr"]),
        "b": wave("teaser-01", "2030-12-03T18:00:00Z", ["tiktok-fr"]),
    }
    base = commit(repo, tree(waves=waves), "base")
    waves["b"] = wave("teaser-01", "2030-12-03T18:00:00Z", ["ig-fr"])
    commit(repo, tree(waves=waves), "move b to ig-fr")
    lines = run_cli(repo, "validate", "--base", base).stdout.splitlines()
    assert lines[0] == (
        "schedules/waves/b.yaml:5:3: error: video 'teaser-01' is also published on 'ig-fr' by wave 'a' "
        "(schedules/waves/a.yaml:5, 2030-12-05T18:00:00Z): remove one of the two [duplicate-video]"
    )


@pytest.mark.parametrize(
    ("head_at", "severity"),
    [
        pytest.param("2030-11-01T18:00:00Z", "warning", id="unchanged"),
        pytest.param("2030-11-02T18:00:00Z", "error", id="moved-within-the-past"),
    ],
)
def test_base_a_past_publication_fails_only_when_the_change_makes_it(
    repo: Path, head_at: str, severity: str
) -> None:
    base = commit(
        repo, tree(waves={"old": wave("teaser-01", "2030-11-01T18:00:00Z", ["ig-fr"])}), "base"
    )
    commit(repo, tree(waves={"old": wave("teaser-01", head_at, ["ig-fr"])}), "head")
    result = run_cli(repo, "validate", "--base", base)
    [line, _] = result.stdout.splitlines()
    assert line.startswith(
        f"schedules/waves/old.yaml:5:3: {severity}: 'old/ig-fr' is due {head_at}, more than its max_lateness"
    )
    assert result.exit_code == (1 if severity == "error" else 0)


def test_base_a_publication_added_into_the_past_fails(repo: Path) -> None:
    base = commit(repo, tree(), "base")
    commit(repo, tree(waves={"late": wave("teaser-01", "2030-11-19T18:00:00Z", ["ig-fr"])}), "head")
    result = run_cli(repo, "validate", "--base", base)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "schedules/waves/late.yaml:5:3: error: 'late/ig-fr' is due 2030-11-19T18:00:00Z, more than its max_lateness (1h) "
        "in the past, and never went out: move it to the future or cancel it [past]"
    )


def launch_history() -> dict[str, bytes]:
    """The ledger of launch/yt-main: claimed and dispatched."""
    lines = [
        ledger_line(
            "launch/yt-main", "claimed", AT, due=AT, channel="yt-main", video="teaser-01", run="1-1"
        ),
        ledger_line("launch/yt-main", "dispatched", "2030-12-01T18:00:02Z", attempt=1, run="1-1"),
    ]
    return {"2030-12.jsonl": ledger_bytes(lines)}


def test_base_renaming_a_wave_with_history_loses_its_identity(repo: Path) -> None:
    launch = wave("teaser-01", AT, ["yt-main"])
    base = commit(repo, tree(files={"schedules/waves/launch.yaml": launch}), "base")
    commit(repo, tree(files={"schedules/waves/launch-day.yaml": launch}), "rename")
    commit_state(repo, launch_history())
    result = run_cli(repo, "validate", "--base", base, now="2030-12-01T18:05:00Z")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-2] == (
        "schedules/waves/launch.yaml:1:1: error: 'launch/yt-main' has ledger history (dispatched, due 2030-12-01T18:00:00Z) "
        "and this change no longer plans it: keep the wave's id with id: (or the channel's old id in formerly:), "
        "or its history stays apart from the new name [identity-lost]"
    )
    assert lines[0].startswith(
        "schedules/waves/launch-day.yaml:5:3: error: video 'teaser-01' is also published on 'yt-main' by 'launch/yt-main' "
        "(ledger history)"
    )


def test_base_renaming_a_wave_file_that_keeps_its_id_is_fine(repo: Path) -> None:
    launch = wave("teaser-01", AT, ["yt-main"])
    base = commit(repo, tree(files={"schedules/waves/launch.yaml": launch}), "base")
    commit(
        repo,
        tree(files={"schedules/waves/2030/launch-day.yaml": {"id": "launch", **launch}}),
        "rename",
    )
    commit_state(repo, launch_history())
    result = run_cli(repo, "validate", "--base", base, now="2030-12-01T18:05:00Z")
    assert (result.exit_code, result.stdout) == (0, "3 files checked: 0 error(s), 0 warning(s)\n")


def test_base_renaming_a_channel_with_formerly_keeps_its_history(repo: Path) -> None:
    launch = wave("teaser-01", AT, ["yt-main"])
    base = commit(repo, tree(waves={"launch": launch}), "base")
    channels = json.loads(json.dumps(CHANNELS))
    channels["channels"]["youtube"] = {
        **channels["channels"].pop("yt-main"),
        "formerly": ["yt-main"],
    }
    commit(
        repo,
        tree(
            channels=channels,
            waves={"launch": wave("clip-03", "2030-12-03T18:00:00Z", ["youtube"])},
        ),
        "rename",
    )
    commit_state(repo, launch_history())
    result = run_cli(repo, "validate", "--base", base, now="2030-12-01T18:05:00Z")
    assert "identity-lost" not in result.stdout
    assert result.exit_code == 0


def test_base_that_names_no_commit_is_a_usage_error(repo: Path) -> None:
    commit(repo, tree(), "head")
    result = run_cli(repo, "validate", "--base", "no-such-ref")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --base no-such-ref: no such commit here (fetch it first, e.g. git fetch origin no-such-ref)\n",
    )


def test_base_outside_a_git_repository_is_a_usage_error(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(example.parent))
    result = run_cli(example, "validate", "--base", "main")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --base needs a git repository: run inside one, or drop --base\n",
    )


# --------------------------------------------------------------------------- list


def listed(root: Path, *args: str) -> list[str]:
    """The ids ``list --format json ARGS`` prints."""
    result = run_cli(root, "list", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return [row["id"] for row in json_rows(result)]


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        pytest.param(
            ["--channel", "yt-main", "--channel", "ig-fr", "--wave", "launch"],
            ["launch/ig-fr", "launch/yt-main"],
            id="or-within-a-kind-and-across",
        ),
        pytest.param(
            ["--group", "fr", "--platform", "tiktok"],
            ["teaser/tiktok-fr", "trailer/tiktok-fr", "launch/tiktok-fr"],
            id="group-and-platform",
        ),
        pytest.param(
            ["--wave", "teaser", "--wave", "trailer", "--channel", "yt-main"],
            ["teaser/yt-main", "trailer/yt-main"],
            id="two-waves-one-channel",
        ),
        pytest.param(
            ["--id", "launch/x-us", "--id", "bts/x-us"], ["bts/x-us", "launch/x-us"], id="ids"
        ),
        pytest.param(["--id", "bts/x-us", "--channel", "yt-main"], [], id="id-and-channel"),
        pytest.param(
            ["--platform", "youtube", "--video", "trailer"],
            ["trailer/yt-jp", "trailer/yt-main"],
            id="video",
        ),
        pytest.param(
            ["--video", "bts-01", "--video", "recap"],
            [
                "bts/yt-jp",
                "bts/li-corp",
                "bts/ig-fr",
                "bts/x-us",
                "queue/yt-main/bts-01",
                "queue/yt-main/recap",
            ],
            id="videos",
        ),
        pytest.param(["--status", "cancelled"], ["bts/ig-fr"], id="status"),
        pytest.param(
            ["--from", "2030-12-09", "--to", "2030-12-10"],
            ["launch/ig-fr", "launch/tiktok-fr", "launch/tiktok-us", "launch/yt-main"],
            id="bare-dates-in-the-default-zone",
        ),
        pytest.param(
            ["--from", "2030-12-09T22:00:00Z", "--to", "2030-12-09T23:00:00Z"],
            ["launch/tiktok-us", "launch/yt-main"],
            id="from-inclusive-to-exclusive",
        ),
        pytest.param(["--to", "2030-12-02T17:00:00Z"], [], id="nothing-before"),
    ],
)
def test_list_selects(example: Path, args: list[str], ids: list[str]) -> None:
    assert listed(example, *args) == ids


def test_list_bare_dates_are_midnight_in_tz(example: Path) -> None:
    result = run_cli(
        example,
        "--tz",
        "America/New_York",
        "list",
        "--format",
        "json",
        "--from",
        "2030-12-09",
        "--to",
        "2030-12-10",
    )
    assert [row["id"] for row in json_rows(result)] == [
        "launch/ig-fr",
        "launch/tiktok-fr",
        "launch/tiktok-us",
        "launch/yt-main",
        "launch/x-us",
    ]


def test_list_json_rows_carry_the_contract_fields(example: Path) -> None:
    rows = {row["id"]: row for row in json_rows(run_cli(example, "list", "--format", "json"))}
    assert len(rows) == 24
    assert {
        key: rows["queue/yt-main/recap"][key]
        for key in ("id", "channel", "video", "due", "status", "type", "wave")
    } == {
        "id": "queue/yt-main/recap",
        "channel": "yt-main",
        "video": "recap",
        "due": "2030-12-13T23:00:00Z",
        "status": "pending",
        "type": "independent",
        "wave": None,
    }
    assert {key: rows["bts/ig-fr"][key] for key in ("due", "status", "type", "wave")} == {
        "due": "2030-12-04T14:00:00Z",
        "status": "cancelled",
        "type": "staggered",
        "wave": "bts",
    }
    assert all(row["due"].endswith("Z") for row in rows.values())


def test_list_status_follows_now(example: Path) -> None:
    result = run_cli(
        example, "list", "--format", "json", "--channel", "ig-fr", now="2030-12-02T17:00:00Z"
    )
    statuses = {row["id"]: row["status"] for row in json_rows(result)}
    assert statuses == {
        "teaser/ig-fr": "scheduled",
        "bts/ig-fr": "cancelled",
        "launch/ig-fr": "pending",
    }


def test_list_csv_has_a_header_and_one_row_per_publication(example: Path) -> None:
    result = run_cli(example, "list", "--format", "csv", "--wave", "teaser", "--channel", "yt-main")
    assert result.exit_code == 0
    assert result.stdout == (
        "id,channel,video,due,status,type,wave,local,platform,file\n"
        "teaser/yt-main,yt-main,teaser-01,2030-12-02T17:00:00Z,pending,simultaneous,teaser,"
        "2030-12-02 12:00 -05:00,youtube,schedules/waves/teaser.yaml\n"
    )
    rows = list(csv.DictReader(io.StringIO(run_cli(example, "list", "--format", "csv").stdout)))
    assert len(rows) == 24
    assert rows[9]["wave"] == ""


def test_list_text_shows_local_times_and_what_was_selected(example: Path) -> None:
    result = run_cli(example, "list", "--channel", "yt-main", "--wave", "launch")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "DUE                      CHANNEL LOCAL            CHANNEL  ID              VIDEO        STATUS",
        "2030-12-09 23:00 +01:00  2030-12-09 17:00 -05:00  yt-main  launch/yt-main  launch-film  pending",
        "1 publication(s)",
    ]
    assert result.stderr == "selected: --channel yt-main --wave launch\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wave", "lunch"], "Error: --wave lunch: no such wave (did you mean 'launch'?)\n"),
        (
            ["--channel", "yt-mian"],
            "Error: --channel yt-mian: no such channel (did you mean 'yt-main'?)\n",
        ),
        (["--group", "frr"], "Error: --group frr: no such group (did you mean 'fr'?)\n"),
        (
            ["--platform", "youtub"],
            "Error: --platform youtub: no such platform (did you mean 'youtube'?)\n",
        ),
        (
            ["--id", "launch/yt-mai"],
            "Error: --id launch/yt-mai: no such id (did you mean 'launch/yt-main'?)\n",
        ),
    ],
)
def test_list_unknown_selector_names_exit_2_with_a_did_you_mean(
    example: Path, args: list[str], message: str
) -> None:
    result = run_cli(example, "list", *args)
    assert (result.exit_code, result.stderr) == (2, message)


@pytest.mark.parametrize(
    "args", [["--status", "late"], ["--from", "2030-13-01"], ["--to", "soon"], ["--format", "xml"]]
)
def test_list_bad_options_exit_2(example: Path, args: list[str]) -> None:
    assert run_cli(example, "list", *args).exit_code == 2


# --------------------------------------------------------------------------- show


def test_show_prints_the_file_events_and_exact_payload(example: Path) -> None:
    result = run_cli(example, "show", "launch/yt-main")
    assert result.exit_code == 0
    head, payload = result.stdout.split("payload (one entry of client_payload.publications):\n")
    assert head.splitlines() == [
        "id:       launch/yt-main",
        "status:   pending",
        "channel:  yt-main (youtube, America/New_York)",
        "video:    launch-film",
        "type:     staggered (wave launch)",
        "due:      2030-12-09T22:00:00Z = 2030-12-09 23:00 +01:00 = 2030-12-09 17:00 -05:00 local",
        "file:     schedules/waves/launch/day-one.yaml:14",
        "dispatch: acme-media/yt-publisher event_type=publish",
        "events:",
        "  (none)",
    ]
    assert json.loads(payload) == {
        "id": "launch/yt-main",
        "dedupe_key": "yt-main/launch-film",
        "channel": "yt-main",
        "platform": "youtube",
        "video": {
            "id": "launch-film",
            "title": "Aurora - the launch film",
            "url": "https://cdn.example.com/aurora/launch-film.mp4",
            "aspect": "16:9",
        },
        "due": "2030-12-09T22:00:00Z",
        "not_before": "2030-12-09T22:00:00Z",
        "expires_at": "2030-12-09T22:30:00Z",
        "wave": "launch",
        "type": "staggered",
        "attempt": 1,
        "params": {"playlist": "PL-AURORA", "campaign": "aurora-launch"},
    }


def test_show_a_queue_item_says_its_slot_is_estimated(example: Path) -> None:
    result = run_cli(example, "show", "queue/yt-main/recap")
    assert result.exit_code == 0
    assert (
        "note:     queue slot estimated at 2030-11-20T00:00:00Z; fixed when claimed\n"
        in result.stdout
    )
    assert "dispatch: acme-media/yt-publisher event_type=publish\n" in result.stdout


def test_show_an_outbox_channel(example: Path) -> None:
    result = run_cli(example, "show", "bts/li-corp")
    assert "dispatch: (outbox) event_type=publish\n" in result.stdout


def test_show_an_unknown_id_exits_2_with_a_did_you_mean(example: Path) -> None:
    result = run_cli(example, "show", "launch/yt-mai")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "no publication 'launch/yt-mai' (did you mean 'launch/yt-main'?)\n"
    )
    assert result.stdout == ""
