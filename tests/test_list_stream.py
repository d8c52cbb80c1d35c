"""``list --format json|csv`` writes its output piece by piece, byte for byte as before.

The expected output comes from :func:`reference_json` / :func:`reference_csv`: the one-piece
rendering that ``list`` printed before it streamed, kept here as the oracle. Every command runs
on a real repository: the bundled example after a rehearsal tick, and a generated schedule of
several hundred publications with a ledger (completed, executing, failed, unknown, missed,
paused, cancelled, and publications that only the ledger knows).
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

import pytest
from click.testing import Result

from scheduler import times
from scheduler.adapters.files import read_schedules
from scheduler.adapters.git import GitRepo, GitStateStore
from scheduler.ledger import encode_lines
from scheduler.planning import Publication
from scheduler.views import listing
from scheduler.world import World, build_world
from tests.gitrepos import git, init_repo, isolate_git_env
from tests.schedule_builder import instant, ledger_line, run_cli, tree, wave, write_tree

REPO = Path(__file__).resolve().parents[1]
STATE_REF = "scheduler-state"
REHEARSAL = "2030-12-02T17:01:00Z"  # the README's quickstart tick
EXAMPLE_NOW = "2030-12-05T00:00:00Z"
BIG_NOW = "2030-12-03T12:00:00Z"
CONTRACT_KEYS = ["id", "channel", "video", "due", "status", "type", "wave"]
CSV_HEADER = "id,channel,video,due,status,type,wave,local,platform,file"


# --------------------------------------------------------------------------- the oracle


def reference_rows(world: World, pubs: Sequence[Publication]) -> list[dict[str, Any]]:
    """The rows as ``listing.rows`` built them before ``list`` streamed."""
    result = []
    for pub in pubs:
        channel = world.schedules.channels.get(pub.channel)
        result.append(
            {
                "id": pub.id,
                "channel": pub.channel,
                "video": pub.video,
                "due": times.format_utc(pub.due),
                "status": world.status(pub),
                "type": pub.type,
                "wave": pub.wave,
                "local": times.format_local(pub.due, channel.zone) if channel else None,
                "platform": channel.platform if channel else None,
                "file": pub.file,
                "claimed": pub.claimed,
                "estimated": pub.estimated,
            }
        )
    return result


def reference_json(world: World, pubs: Sequence[Publication]) -> str:
    """What ``list --format json`` printed before it streamed (``click.echo`` adds a newline)."""
    return json.dumps(reference_rows(world, pubs), indent=2, ensure_ascii=False) + "\n"


def reference_csv(world: World, pubs: Sequence[Publication]) -> str:
    """What ``list --format csv`` printed before it streamed (``click.echo`` adds a newline)."""
    buffer = io.StringIO()
    fields = [*CONTRACT_KEYS, "local", "platform", "file"]
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in reference_rows(world, pubs):
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue().rstrip("\n") + "\n"


# --------------------------------------------------------------------------- repositories


@dataclass(frozen=True)
class Checkout:
    """A repository with schedules on main and a state branch, and the ``--now`` to list at."""

    root: Path
    now: str

    def world(self) -> World:
        """Files + state + now, read through the same adapters as the command."""
        files, _ = read_schedules(self.root)
        repo = GitRepo.find(self.root)
        assert repo is not None
        state = GitStateStore(repo, STATE_REF, push=False).load()
        return build_world(files, state, now=instant(self.now))

    def list(self, *args: str) -> Result:
        """``scheduler list ARGS`` at ``now``; it must succeed."""
        result = run_cli(self.root, "list", *args, now=self.now)
        assert result.exit_code == 0, result.output
        return result


def commit_all(root: Path) -> None:
    """Commit every file of the work tree on its branch."""
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "schedules")


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Checkout:
    """The bundled example after the quickstart's rehearsal tick, listed three days later."""
    isolate_git_env(monkeypatch, tmp_path)
    root = init_repo(tmp_path / "example")
    shutil.copytree(REPO / "schedules", root / "schedules")
    commit_all(root)
    ticked = run_cli(root, "tick", "--backend", "outbox", now=REHEARSAL)
    assert ticked.exit_code == 0, ticked.output
    return Checkout(root, EXAMPLE_NOW)


ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")
PLATFORMS = ("youtube", "tiktok", "instagram")
CHANNELS = [f"ch-{i:02d}" for i in range(24)]
WAVES = 45
FIRST_WAVE = instant("2030-12-01T00:00:00Z")


def big_schedule() -> dict[str, bytes]:
    """24 channels in four zones, 30 waves six hours apart (every other one staggered), one
    wave cancelled and one item cancelled, a queue, and a wave file with a non-ASCII name."""
    channels: dict[str, Any] = {
        name: {"platform": PLATFORMS[i % 3], "timezone": ZONES[i % 4]}
        for i, name in enumerate(CHANNELS)
    }
    channels["ch-00"]["slots"] = [{"days": ["mon", "wed", "fri"], "times": ["21:00"]}]
    videos = {f"clip-{k:02d}": {"title": f"Clip {k}", "url": "https://cdn.example.com/c.mp4"}
              for k in range(WAVES)}  # fmt: skip
    videos |= {f"upload-{k}": {"title": f"Upload {k}", "url": "https://cdn.example.com/u.mp4"}
               for k in range(8)}  # fmt: skip
    waves = {f"w{k:02d}": big_wave(k) for k in range(1, WAVES)}
    return tree(
        channels={
            "defaults": {"timezone": "UTC", "min_gap": "30m", "max_lateness": "1h"},
            "groups": {"even": CHANNELS[::2], "odd": CHANNELS[1::2]},
            "channels": channels,
        },
        videos={"videos": videos},
        waves=waves,
        queues={"ch-00": {"start": "2030-12-01", "videos": [f"upload-{k}" for k in range(8)]}},
        files={"schedules/waves/été.yaml": {"id": "w00", **big_wave(0)}},
    )


def big_wave(k: int) -> dict[str, Any]:
    """Wave ``k``: every channel, at FIRST_WAVE + 6k hours."""
    at = (FIRST_WAVE + timedelta(hours=6 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
    video = f"clip-{k:02d}"
    members: list[Any] = ["group:even", "group:odd"]
    if k == 7:
        members = [{"channel": "ch-03", "cancelled": True}, *CHANNELS[:3], *CHANNELS[4:]]
    if k % 2:
        return wave(video, at, members, type="staggered", every="5m")
    extra: dict[str, Any] = {"cancelled": True} if k == 20 else {}
    return wave(video, at, members, **extra)


def big_ledger(world: World) -> dict[str, bytes]:
    """Ledger files: waves 0-3 dispatched, wave 4 claimed, one failure and one unknown in wave
    5, and publications whose wave file or channel no longer exists."""
    lines: list[dict[str, Any]] = []
    for pub in world.publications:
        if pub.wave is None or pub.cancelled or int(pub.wave[1:]) > 5:
            continue
        due = times.format_utc(pub.due)
        lines.append(
            ledger_line(pub.id, "claimed", due, due=due, channel=pub.channel, video=pub.video)
        )
        outcome = {"w05/ch-01": "failed", "w05/ch-02": "unknown"}.get(pub.id, "dispatched")
        if pub.wave != "w04":
            lines.append(ledger_line(pub.id, outcome, due, reason="rejected"))
    old = "2030-11-20T10:00:00Z"
    for pub_id, channel, video in (
        ("old-wave/ch-00", "ch-00", "old-clip"),
        ("old-wave/gone-tv", "gone-tv", "old-clip"),
        ("queue/gone-tv/old-upload", "gone-tv", "old-upload"),
    ):
        lines.append(ledger_line(pub_id, "claimed", old, due=old, channel=channel, video=video))
        lines.append(ledger_line(pub_id, "dispatched", old))
    months: dict[str, list[dict[str, Any]]] = {"2030-11": [], "2030-12": []}
    for line in lines:
        months[line["at"][:7]].append(line)
    return {
        **{f"ledger/{month}.jsonl": encode_lines(rows) for month, rows in months.items()},
        "control.yaml": b"channels:\n  ch-05: {paused: true, reason: account review}\n",
    }


@pytest.fixture
def big(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Checkout:
    """The generated schedule on main, its ledger on the state branch, listed at BIG_NOW."""
    isolate_git_env(monkeypatch, tmp_path)
    root = init_repo(tmp_path / "big")
    write_tree(root, big_schedule())
    commit_all(root)
    checkout = Checkout(root, BIG_NOW)
    repo = GitRepo.find(root)
    assert repo is not None
    store = GitStateStore(repo, STATE_REF, push=False)
    store.save(store.load(), big_ledger(checkout.world()), "history")
    return checkout


# --------------------------------------------------------------------------- selections

Pick = Callable[[World, Publication], bool]

SELECTIONS = [
    pytest.param((), lambda world, pub: True, id="everything"),
    pytest.param(("--channel", "ch-00"), lambda world, pub: pub.channel == "ch-00", id="channel"),
    pytest.param(
        ("--status", "completed", "--status", "missed"),
        lambda world, pub: world.status(pub) in ("completed", "missed"),
        id="statuses",
    ),
    pytest.param(
        ("--from", "2030-12-02T00:00:00Z", "--to", "2030-12-04T00:00:00Z"),
        lambda world, pub: (
            instant("2030-12-02T00:00:00Z") <= pub.due < instant("2030-12-04T00:00:00Z")
        ),
        id="time-window",
    ),
]
EXAMPLE_SELECTIONS = [
    pytest.param((), lambda world, pub: True, id="everything"),
    pytest.param(
        ("--channel", "yt-main"), lambda world, pub: pub.channel == "yt-main", id="channel"
    ),
    pytest.param(
        ("--status", "completed"), lambda world, pub: world.status(pub) == "completed", id="status"
    ),
]


def selected(checkout: Checkout, pick: Pick) -> tuple[World, list[Publication]]:
    """The world and the publications ``pick`` keeps, in the order ``list`` shows them."""
    world = checkout.world()
    return world, [pub for pub in world.publications if pick(world, pub)]


def csv_records(text: str) -> list[list[str]]:
    """``text`` parsed as CSV."""
    return list(csv.reader(io.StringIO(text)))


# --------------------------------------------------------------------------- the bundled example


@pytest.mark.parametrize(("args", "pick"), EXAMPLE_SELECTIONS)
def test_example_json_is_byte_identical(
    example: Checkout, args: tuple[str, ...], pick: Pick
) -> None:
    world, pubs = selected(example, pick)
    result = example.list(*args, "--format", "json")
    assert result.stdout == reference_json(world, pubs)
    data = json.loads(result.stdout)
    assert data == reference_rows(world, pubs)
    assert [list(row)[:7] for row in data] == [CONTRACT_KEYS] * len(pubs)


@pytest.mark.parametrize(("args", "pick"), EXAMPLE_SELECTIONS)
def test_example_csv_is_byte_identical(
    example: Checkout, args: tuple[str, ...], pick: Pick
) -> None:
    world, pubs = selected(example, pick)
    result = example.list(*args, "--format", "csv")
    assert result.stdout == reference_csv(world, pubs)
    records = csv_records(result.stdout)
    assert records[0] == CSV_HEADER.split(",")
    assert [record[0] for record in records[1:]] == [pub.id for pub in pubs]


def test_example_covers_many_statuses(example: Checkout) -> None:
    data = json.loads(example.list("--format", "json").stdout)
    statuses = {row["status"] for row in data}
    assert {"completed", "unconfirmed", "missed", "cancelled", "scheduled", "pending"} <= statuses
    assert any(row["wave"] is None for row in data)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("json", "[]\n", id="json"),
        pytest.param("csv", CSV_HEADER + "\n", id="csv"),
    ],
)
def test_example_empty_selection(example: Checkout, fmt: str, expected: str) -> None:
    result = example.list("--status", "failed", "--format", fmt)
    assert result.stdout == expected


# --------------------------------------------------------------------------- a larger schedule


def test_big_schedule_spans_several_chunks_and_statuses(big: Checkout) -> None:
    world = big.world()
    statuses = {world.status(pub) for pub in world.publications}
    expected = {"completed", "executing", "failed", "unknown", "missed", "paused", "cancelled"}
    assert expected | {"scheduled", "pending"} <= statuses
    assert len(world.publications) > 2 * listing.BATCH
    assert any(pub.file is None for pub in world.publications)
    assert any(world.schedules.channels.get(pub.channel) is None for pub in world.publications)


@pytest.mark.parametrize(("args", "pick"), SELECTIONS)
def test_big_json_is_byte_identical(big: Checkout, args: tuple[str, ...], pick: Pick) -> None:
    world, pubs = selected(big, pick)
    assert pubs
    result = big.list(*args, "--format", "json")
    assert result.stdout == reference_json(world, pubs)
    assert json.loads(result.stdout) == reference_rows(world, pubs)


@pytest.mark.parametrize(("args", "pick"), SELECTIONS)
def test_big_csv_is_byte_identical(big: Checkout, args: tuple[str, ...], pick: Pick) -> None:
    world, pubs = selected(big, pick)
    result = big.list(*args, "--format", "csv")
    assert result.stdout == reference_csv(world, pubs)
    assert csv_records(result.stdout) == csv_records(reference_csv(world, pubs))
    assert len(csv_records(result.stdout)) == len(pubs) + 1


@pytest.mark.parametrize(
    ("fmt", "render"),
    [
        pytest.param("json", reference_json, id="json"),
        pytest.param("csv", reference_csv, id="csv"),
    ],
)
def test_big_stdout_of_a_real_process(
    big: Checkout, fmt: str, render: Callable[[World, Sequence[Publication]], str]
) -> None:
    command = [sys.executable, "-m", "scheduler", "--root", str(big.root), "--now", big.now]
    proc = subprocess.run(
        [*command, "list", "--format", fmt], capture_output=True, check=False, cwd=big.root
    )
    assert proc.returncode == 0, proc.stderr.decode()
    world = big.world()
    assert proc.stdout == render(world, world.publications).encode()
    assert "été.yaml" in proc.stdout.decode()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("json", "[]\n", id="json"),
        pytest.param("csv", CSV_HEADER + "\n", id="csv"),
    ],
)
def test_big_empty_selection(big: Checkout, fmt: str, expected: str) -> None:
    result = big.list("--from", "2031-06-01T00:00:00Z", "--format", fmt)
    assert result.stdout == expected


# --------------------------------------------------------------------------- the chunks


@pytest.mark.parametrize("batch", [1, 2, 499, 500, 501, 100_000], ids=lambda b: f"batch-{b}")
def test_chunks_join_to_the_reference_whatever_the_batch(big: Checkout, batch: int) -> None:
    world = big.world()
    pubs = world.publications
    json_parts = list(listing.json_chunks(world, pubs, batch=batch))
    csv_parts = list(listing.csv_chunks(world, pubs, batch=batch))
    assert "".join(json_parts) == reference_json(world, pubs)
    assert "".join(csv_parts) == reference_csv(world, pubs)
    assert len(json_parts) == len(csv_parts) == math.ceil(len(pubs) / batch) + 1


class Watched(Sequence[Publication]):
    """Publications that remember how far anyone has read into them."""

    def __init__(self, items: Sequence[Publication]) -> None:
        self.items = items
        self.reached = 0

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Publication: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Publication]: ...

    def __getitem__(self, index: int | slice) -> Publication | Sequence[Publication]:
        if isinstance(index, slice):
            self.reached = max(self.reached, index.indices(len(self.items))[1])
        else:
            self.reached = max(self.reached, index + 1)
        return self.items[index]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(listing.json_chunks, id="json"),
        pytest.param(listing.csv_chunks, id="csv"),
    ],
)
def test_chunks_render_publications_only_as_they_are_written(
    big: Checkout, chunks: Callable[..., Iterator[str]]
) -> None:
    world = big.world()
    pubs = Watched(world.publications)
    pieces = chunks(world, pubs, batch=100)
    first = next(pieces)
    assert pubs.reached <= 100
    rest = "".join(pieces)
    assert pubs.reached == len(pubs)
    assert first + rest == "".join(chunks(world, world.publications))


def test_one_piece_helpers_keep_their_text(example: Checkout) -> None:
    world = example.world()
    pubs = world.publications
    assert listing.as_json(world, pubs) == reference_json(world, pubs).removesuffix("\n")
    assert listing.as_csv(world, pubs) == reference_csv(world, pubs).removesuffix("\n")
    assert listing.as_json(world, []) == "[]"
    assert listing.as_csv(world, []) == CSV_HEADER
