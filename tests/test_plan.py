"""``scheduler plan``: what a change to the schedule files does, against a base commit, in real
git repositories (the working tree or a branch against the merge-base with main)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from scheduler.plan_diff import PlanDiff, Row
from scheduler.views.plan import MARKER, MAX_CHARS, as_markdown
from tests.gitrepos import RepoPair, git, isolate_git_env
from tests.tick_helpers import Project, Schedule, make_project, utc, wave

CHANNELS = """\
defaults:
  timezone: UTC
  min_gap: 30m
  max_lateness: 1h
channels:
  yt-main:
    platform: youtube
    dispatch: {repo: acme/yt}
    slots:
      - days: [mon, wed, fri]
        times: ["18:00"]
  tiktok-fr:
    platform: tiktok
    dispatch: {repo: acme/social}
  ig-fr:
    platform: instagram
    dispatch: {repo: acme/social}
  x-us:
    platform: x
"""
NOW = "2030-12-01T12:00:00Z"
UNSET = ("GITHUB_STEP_SUMMARY", "SCHEDULER_STATE_REF", "SCHEDULER_CLOCK_OVERRIDE")


def schedule() -> Schedule:
    """teaser (2 Dec 17:00, three channels), launch (3 Dec 17:00, two), yt-main's queue."""
    base = Schedule.base(channels=CHANNELS)
    teaser = wave("teaser-01", "2030-12-02T17:00:00Z", ["yt-main", "tiktok-fr", "ig-fr"])
    launch = wave("trailer", "2030-12-03T17:00:00Z", ["yt-main", "tiktok-fr"])
    texts = {
        **base.with_wave("teaser", teaser).with_wave("launch", launch).texts,
        "schedules/queues/yt-main.yaml": "start: 2030-12-04\nvideos:\n  - recap\n",
    }
    return Schedule(texts)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Return a project whose main holds :func:`schedule`, made once per module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return make_project(monkeypatch, tmp_path_factory.mktemp("template"), schedule())


@pytest.fixture
def project(template: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """Return a copy of :func:`template` in ``tmp_path``."""
    isolate_git_env(monkeypatch, tmp_path)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    old = template.pair.origin.parent
    shutil.copytree(old, tmp_path, dirs_exist_ok=True, symlinks=True)
    config = tmp_path / "clone" / ".git" / "config"
    config.write_text(config.read_text().replace(str(old), str(tmp_path)))
    pair = RepoPair(tmp_path / "origin.git", tmp_path / "clone")
    return Project(pair, dict(template.env))


def waves_dir(project: Project) -> Path:
    """Return the clone's schedules/waves."""
    return project.root / "schedules" / "waves"


def plan(project: Project, *args: str, now: str = NOW) -> Result:
    """Run ``plan ARGS`` at ``now``."""
    return project.cli("plan", *args, now=now)


def changes(project: Project, *args: str, now: str = NOW) -> list[dict[str, Any]]:
    """Return the changes of ``plan --format json``, each without its channel and video."""
    result = plan(project, "--format", "json", *args, now=now)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)["changes"]
    return [{k: v for k, v in row.items() if k not in ("channel", "video")} for row in rows]


def change(
    kind: str,
    pub_id: str,
    old: str | None,
    new: str | None,
    note: str = "",
    *,
    estimated: bool = False,
) -> dict[str, Any]:
    """Return one expected change."""
    return {
        "kind": kind,
        "id": pub_id,
        "old_due": old,
        "new_due": new,
        "note": note,
        "estimated": estimated,
    }


def edit(project: Project, name: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the wave file ``name`` of the working tree."""
    path = waves_dir(project) / f"{name}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


L17, L18 = "2030-12-03T17:00:00Z", "2030-12-03T18:00:00Z"


def add_bonus(project: Project) -> None:
    (waves_dir(project) / "bonus.yaml").write_text(wave("bts-01", "2030-12-05T10:00:00Z", ["x-us"]))


def remove_launch(project: Project) -> None:
    (waves_dir(project) / "launch.yaml").unlink()


def move_launch(project: Project) -> None:
    edit(project, "launch", "at: 2030-12-03T17:00:00Z", "at: 2030-12-03T18:00:00Z")


def rename_launch(project: Project) -> None:
    (waves_dir(project) / "launch.yaml").rename(waves_dir(project) / "premiere.yaml")


def params_launch(project: Project) -> None:
    edit(project, "launch", "channels:", "params: {caption: hello}\nchannels:")


def video_launch(project: Project) -> None:
    edit(project, "launch", "video: trailer", "video: bts-01")


def cancel_launch(project: Project) -> None:
    edit(project, "launch", "channels:", "cancelled: true\nchannels:")


def move_and_params_launch(project: Project) -> None:
    move_launch(project)
    params_launch(project)


def queue_item(project: Project) -> None:
    path = project.root / "schedules" / "queues" / "yt-main.yaml"
    path.write_text(path.read_text() + "  - bts-01\n")


def queue_in_front(project: Project) -> None:
    path = project.root / "schedules" / "queues" / "yt-main.yaml"
    path.write_text("start: 2030-12-04\nvideos:\n  - bts-01\n  - recap\n")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            add_bonus, [change("added", "bonus/x-us", None, "2030-12-05T10:00:00Z")], id="added"
        ),
        pytest.param(
            remove_launch,
            [
                change("removed", "launch/tiktok-fr", L17, None),
                change("removed", "launch/yt-main", L17, None),
            ],
            id="removed",
        ),
        pytest.param(
            move_launch,
            [
                change("moved", "launch/tiktok-fr", L17, L18),
                change("moved", "launch/yt-main", L17, L18),
            ],
            id="moved",
        ),
        pytest.param(
            rename_launch,
            [
                change("renamed", "premiere/tiktok-fr", L17, L17, "was launch/tiktok-fr"),
                change("renamed", "premiere/yt-main", L17, L17, "was launch/yt-main"),
            ],
            id="renamed",
        ),
        pytest.param(
            params_launch,
            [
                change("changed", "launch/tiktok-fr", L17, L17, "params changed"),
                change("changed", "launch/yt-main", L17, L17, "params changed"),
            ],
            id="params",
        ),
        pytest.param(
            video_launch,
            [
                change("changed", "launch/tiktok-fr", L17, L17, "video changed"),
                change("changed", "launch/yt-main", L17, L17, "video changed"),
            ],
            id="video",
        ),
        pytest.param(
            cancel_launch,
            [
                change("cancelled", "launch/tiktok-fr", L17, L17),
                change("cancelled", "launch/yt-main", L17, L17),
            ],
            id="cancelled",
        ),
        pytest.param(
            move_and_params_launch,
            [
                change("moved", "launch/tiktok-fr", L17, L18, "params changed"),
                change("moved", "launch/yt-main", L17, L18, "params changed"),
            ],
            id="moved-and-params",
        ),
        pytest.param(
            queue_item,
            [change("added", "queue/yt-main/bts-01", None, "2030-12-06T18:00:00Z", estimated=True)],
            id="queue-added-estimated",
        ),
        pytest.param(
            queue_in_front,
            [
                change(
                    "added", "queue/yt-main/bts-01", None, "2030-12-04T18:00:00Z", estimated=True
                ),
                change(
                    "moved",
                    "queue/yt-main/recap",
                    "2030-12-04T18:00:00Z",
                    "2030-12-06T18:00:00Z",
                    "queue slot, estimated",
                    estimated=True,
                ),
            ],
            id="queue-shifted",
        ),
    ],
)
def test_plan_reports_each_kind_of_change(
    project: Project, make: Callable[[Project], None], expected: list[dict[str, Any]]
) -> None:
    make(project)
    assert changes(project) == expected


def test_a_channel_renamed_with_formerly_is_a_rename(project: Project) -> None:
    channels = project.root / "schedules" / "channels.yaml"
    channels.write_text(
        channels.read_text().replace("  tiktok-fr:\n", "  tt-fr:\n    formerly: [tiktok-fr]\n")
    )
    for name in ("teaser", "launch"):
        path = waves_dir(project) / f"{name}.yaml"
        path.write_text(path.read_text().replace("tiktok-fr", "tt-fr"))
    assert changes(project) == [
        change(
            "renamed",
            "teaser/tt-fr",
            "2030-12-02T17:00:00Z",
            "2030-12-02T17:00:00Z",
            "was teaser/tiktok-fr",
        ),
        change("renamed", "launch/tt-fr", L17, L17, "was launch/tiktok-fr"),
    ]


def test_restoring_a_cancelled_wave(project: Project) -> None:
    cancel_launch(project)
    git(project.root, "commit", "--quiet", "-am", "cancel launch")
    edit(project, "launch", "cancelled: true\n", "")
    assert changes(project) == []  # against main, where launch was never cancelled
    assert [row["kind"] for row in changes(project, "--base", "HEAD")] == ["restored", "restored"]


def test_an_unchanged_tree_has_no_change(project: Project) -> None:
    result = plan(project)
    assert result.exit_code == 0, result.output
    assert result.stdout == "plan: no change to any publication (6 unchanged)\n"


def test_text_lists_changes_and_marks_queue_estimates(project: Project) -> None:
    move_launch(project)
    queue_item(project)
    result = plan(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "plan: 1 added, 2 moved (4 unchanged)",
        f"added      {'queue/yt-main/bts-01':<40} - -> 2030-12-06T18:00:00Z  estimated at {NOW}",
        f"moved      {'launch/tiktok-fr':<40} {L17} -> {L18}",
        f"moved      {'launch/yt-main':<40} {L17} -> {L18}",
    ]


# --------------------------------------------------------------------------- claimed


def claim_teaser(project: Project) -> None:
    """Dispatch the teaser (outbox) at 2 Dec 17:01 on the local state branch."""
    result = project.cli("tick", "--backend", "outbox", now="17:01")
    assert result.exit_code == 0, result.output


def test_edits_of_claimed_publications_have_no_effect(project: Project) -> None:
    claim_teaser(project)
    edit(project, "teaser", "at: 2030-12-02T17:00:00Z", "at: 2030-12-02T19:00:00Z")
    note = "already claimed: the ledger keeps its due, video and payload"
    old, new = "2030-12-02T17:00:00Z", "2030-12-02T19:00:00Z"
    assert changes(project, now="2030-12-02T17:05:00Z") == [
        change("no effect", f"teaser/{c}", old, new, note)
        for c in ("ig-fr", "tiktok-fr", "yt-main")
    ]


def test_removing_claimed_publications_has_no_effect(project: Project) -> None:
    claim_teaser(project)
    (waves_dir(project) / "teaser.yaml").unlink()
    result = plan(project, "--format", "json", now="2030-12-02T17:05:00Z")
    data = json.loads(result.stdout)
    assert [(row["kind"], row["id"], row["note"]) for row in data["changes"]] == [
        ("no effect", f"teaser/{c}", "already claimed: removing it from the files does not undo it")
        for c in ("ig-fr", "tiktok-fr", "yt-main")
    ]
    # ids with ledger history that nothing plans any more: validate --base's identity-lost
    assert {p["code"] for p in data["problems"]} == {"identity-lost"}
    assert result.exit_code == 1


def test_the_chart_draws_claimed_publications_where_they_go_out(project: Project) -> None:
    claim_teaser(project)
    edit(project, "teaser", "at: 2030-12-02T17:00:00Z", "at: 2030-12-02T19:00:00Z")
    result = plan(project, "--format", "markdown", now="2030-12-02T17:05:00Z")
    chart = result.stdout.split("```mermaid\n", 1)[1]
    assert "no effect teaser/yt-main :t" in chart
    assert "2030-12-02 17:00, 5m" in chart and "2030-12-02 19:00" not in chart


# --------------------------------------------------------------------------- conflicts


def test_a_conflict_the_change_introduces_fails(project: Project) -> None:
    (waves_dir(project) / "clash.yaml").write_text(
        wave("recap", "2030-12-03T17:10:00Z", ["tiktok-fr"])
    )
    result = plan(project)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith("added      clash/tiktok-fr")
    [conflict] = [ln for ln in result.stdout.splitlines() if ln.startswith("conflict: ")]
    assert conflict.startswith("conflict: schedules/waves/clash.yaml:")
    assert "launch" in conflict
    data = json.loads(plan(project, "--format", "json").stdout)
    assert [p["file"] for p in data["problems"]] == ["schedules/waves/clash.yaml"]


def test_a_conflict_that_was_already_there_is_not_introduced(project: Project) -> None:
    (waves_dir(project) / "clash.yaml").write_text(
        wave("recap", "2030-12-03T17:10:00Z", ["tiktok-fr"])
    )
    git(project.root, "add", "-A")
    git(project.root, "commit", "--quiet", "-m", "clash")
    add_bonus(project)
    result = plan(project, "--base", "HEAD")
    assert result.exit_code == 0, result.output
    assert "conflict" not in result.stdout


# --------------------------------------------------------------------------- --base


def test_the_default_base_is_the_merge_base_with_the_default_branch(project: Project) -> None:
    git(project.root, "switch", "--quiet", "-c", "feature")
    move_launch(project)
    git(project.root, "commit", "--quiet", "-am", "move launch")
    add_bonus(project)
    git(project.root, "add", "-A")
    git(project.root, "commit", "--quiet", "-m", "bonus")
    kinds = sorted(row["kind"] for row in changes(project))
    assert kinds == ["added", "moved", "moved"]
    assert [row["kind"] for row in changes(project, "--base", "HEAD~1")] == ["added"]
    assert changes(project, "--base", "HEAD") == []


def test_main_moving_on_does_not_enter_the_plan(project: Project) -> None:
    git(project.root, "switch", "--quiet", "-c", "feature")
    add_bonus(project)
    git(project.root, "add", "-A")
    git(project.root, "commit", "--quiet", "-m", "bonus")
    other = project.pair.another_clone("other")
    (other / "schedules" / "waves" / "launch.yaml").unlink()
    git(other, "commit", "--quiet", "-am", "drop launch on main")
    git(other, "push", "--quiet", "origin", "main")
    git(project.root, "fetch", "--quiet", "origin")
    assert [row["id"] for row in changes(project)] == ["bonus/x-us"]


def test_an_unknown_base_is_a_usage_error(project: Project) -> None:
    result = plan(project, "--base", "no-such-ref")
    assert result.exit_code == 2
    assert "--base no-such-ref: no such commit here" in result.stderr


def test_plan_outside_git_is_a_usage_error(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(project.root / "schedules", plain / "schedules")
    result = project.cli("plan", root=plain, now=NOW)
    assert result.exit_code == 2
    assert "run it inside a git repository" in result.stderr


# --------------------------------------------------------------------------- formats


def test_json_shape(project: Project) -> None:
    move_launch(project)
    result = plan(project, "--format", "json")
    data = json.loads(result.stdout)
    assert list(data) == ["changes", "problems", "unchanged"]
    assert data["unchanged"] == 4 and data["problems"] == []
    assert data["changes"][0] == {
        "kind": "moved",
        "id": "launch/tiktok-fr",
        "channel": "tiktok-fr",
        "video": "trailer",
        "old_due": L17,
        "new_due": L18,
        "note": "",
        "estimated": False,
    }


def test_markdown_has_the_marker_a_table_and_a_mermaid_chart(project: Project) -> None:
    move_launch(project)
    queue_item(project)
    result = plan(project, "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(
        MARKER + "\n### Publication plan\n\n**1 added, 2 moved** (4 unchanged)\n"
    )
    assert f"| moved | `launch/yt-main` | yt-main | trailer | {L17} | {L18} |  |" in text
    assert (
        f"| added | `queue/yt-main/bts-01` | yt-main | bts-01 | - | 2030-12-06T18:00:00Z | estimated at {NOW} |"
        in text
    )
    assert "```mermaid\ngantt\n    title Affected publications\n" in text
    assert text.rstrip().endswith("```")


def many_changes(project: Project, *, waves: int, channels: int, long: bool) -> None:
    """Commit ``channels`` channels and ``waves`` videos on a new branch; then add ``waves``
    waves, each on every channel, to the working tree (waves x channels added rows)."""
    pad = "-" + "x" * 50 if long else ""
    names = [f"ch{i:02d}{pad}" for i in range(channels)]
    videos = [f"video{i:03d}{pad}" for i in range(waves)]
    channel_text = "defaults:\n  timezone: UTC\n  min_gap: 30m\nchannels:\n" + "".join(
        f"  {name}:\n    platform: p{i % 3}\n" for i, name in enumerate(names)
    )
    video_text = "videos:\n" + "".join(
        f"  {v}: {{title: T, url: 'https://cdn.example.com/{i}.mp4'}}\n"
        for i, v in enumerate(videos)
    )
    root = project.root / "schedules"
    shutil.rmtree(root)
    (root / "waves").mkdir(parents=True)
    (root / "channels.yaml").write_text(channel_text)
    (root / "videos.yaml").write_text(video_text)
    git(project.root, "switch", "--quiet", "-c", "big")
    git(project.root, "add", "-A")
    git(project.root, "commit", "--quiet", "-m", "many channels")
    for i, video in enumerate(videos):
        at = f"2030-12-{2 + i // 24:02d}T{i % 24:02d}:00:00Z"
        (root / "waves" / f"w{i:03d}{pad}.yaml").write_text(wave(video, at, names))


def table_rows(text: str) -> list[str]:
    """Return the table's data rows."""
    return [ln for ln in text.splitlines() if ln.startswith("| added |")]


def test_markdown_summarises_beyond_200_rows(project: Project) -> None:
    many_changes(project, waves=30, channels=10, long=False)
    result = plan(project, "--format", "markdown", "--base", "HEAD")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "**300 added** (0 unchanged)" in text
    assert len(table_rows(text)) == 200
    assert "... and 100 more rows (100 added): run `scheduler plan --format text` for all" in text
    assert "%% 100 more publication(s) left out: the chart shows the first 200" in text
    assert len(text) <= MAX_CHARS
    full = plan(project, "--base", "HEAD")
    assert len(full.stdout.splitlines()) == 301


def test_markdown_is_cut_to_fit_a_comment_with_every_fence_closed(project: Project) -> None:
    many_changes(project, waves=30, channels=10, long=True)
    result = plan(project, "--format", "markdown", "--base", "HEAD")
    assert result.exit_code == 0, result.output
    text = result.stdout.rstrip("\n") + "\n"
    assert len(text) <= MAX_CHARS
    assert text.startswith(MARKER)
    assert text.count("```") % 2 == 0
    shown = len(table_rows(text))
    assert 0 < shown <= 200
    assert f"... and {300 - shown} more rows ({300 - shown} added)" in text


def row(i: int) -> Row:
    """Return an added row with a long id."""
    return Row(
        "added", f"w{i:03d}/" + "c" * 120, "c" * 60, "v" * 60, None, utc("2030-12-02T17:00:00Z")
    )


@pytest.mark.parametrize("count", [1, 150, 200, 201, 300])
def test_as_markdown_always_fits(count: int) -> None:
    plan_diff = PlanDiff(tuple(row(i) for i in range(count)), (), 0)
    chart = "gantt\n" + "    task :t1, 2030-12-02 17:00, 5m\n" * 2000
    text = as_markdown(plan_diff, now=utc(NOW), chart=chart)
    assert len(text) <= MAX_CHARS
    assert text.count("```") % 2 == 0
    shown = len(table_rows(text))
    assert (shown == count) == ("more rows" not in text)
    if shown < count:
        assert f"... and {count - shown} more rows ({count - shown} added)" in text


def test_cells_cannot_break_the_table_or_inject_html() -> None:
    bad = Row("added", "a/b", "c", "v", None, utc(NOW), note="x | y\n<img src=x onerror=alert(1)>")
    text = as_markdown(PlanDiff((bad,), (), 0), now=utc(NOW))
    [line] = table_rows(text)
    assert line.count(" | ") == 6 and line.endswith(" |")
    assert "<img" not in text
