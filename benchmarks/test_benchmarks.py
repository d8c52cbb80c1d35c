"""The benchmark tools: generated repositories are valid and consistent, the helpers measure.

Run with ``python -m pytest benchmarks -q`` (the project's own tests live in ``tests/``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dispatch  # noqa: E402
import floor  # noqa: E402
import hotspots  # noqa: E402
import measure  # noqa: E402
import run  # noqa: E402
from generate import STATE_REF, Params, generate  # noqa: E402

SIZES = [
    pytest.param(Params(waves=40, channels=20, queues=4, events=300, seed=0), id="small"),
    pytest.param(
        Params(waves=120, channels=60, queues=12, events=3000, seed=7), id="more-channels"
    ),
    pytest.param(
        Params(waves=25, channels=10, queues=0, events=0, seed=1), id="one-block-no-ledger"
    ),
]


def scheduler(root: Path, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m scheduler --root ROOT --now NOW ARGS``, output captured."""
    command = [sys.executable, "-m", "scheduler", "--root", str(root), "--now", now, *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def git(root: Path, *args: str) -> str:
    """git's standard output."""
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module", params=SIZES)
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """A generated repository and its metadata."""
    params: Params = request.param
    root = tmp_path_factory.mktemp("repo") / params.key()
    return root, generate(root, params)


@pytest.mark.parametrize("moment", ["before_first_wave", "now"])
def test_generated_schedule_validates_with_no_problem(
    generated: tuple[Path, dict[str, Any]], moment: str
) -> None:
    root, meta = generated
    done = scheduler(root, meta[moment], "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s), 0 warning(s)" in done.stdout


def test_ledger_has_the_events_asked_for_and_trailers_that_vouch_for_them(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, meta = generated
    names = [
        name
        for name in git(root, "ls-tree", "-r", "--name-only", STATE_REF).split()
        if name.startswith("ledger/")
    ]
    message = git(root, "log", "-1", "--format=%B", STATE_REF)
    lines = 0
    for name in names:
        content = subprocess.run(
            ["git", "show", f"{STATE_REF}:{name}"], cwd=root, capture_output=True, check=True
        ).stdout
        count = content.count(b"\n")
        lines += count
        assert f"Scheduler-Ledger: {name} {count} {hashlib.sha256(content).hexdigest()}" in message
        for raw in content.splitlines():
            event = json.loads(raw)
            assert list(event)[:3] == ["id", "event", "at"]
    assert lines == meta["ledger_events"] >= meta["params"]["events"]


def test_every_channel_gets_each_video_once(generated: tuple[Path, dict[str, Any]]) -> None:
    root, meta = generated
    done = scheduler(root, meta["now"], "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    pubs = [pub for pub in json.loads(done.stdout) if pub["status"] != "cancelled"]
    pairs = Counter((pub["channel"], pub["video"]) for pub in pubs)
    assert pairs and max(pairs.values()) == 1


def test_a_dry_run_tick_at_now_dispatches_the_first_upcoming_wave(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, meta = generated
    done = scheduler(root, meta["now"], "tick", "--dry-run", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["dispatched"]
    assert not report["missed"] and not report["failed"] and not report["held"]


def test_generation_is_deterministic(tmp_path: Path) -> None:
    params = Params(waves=30, channels=20, queues=3, events=500, seed=3)
    first, second = tmp_path / "a", tmp_path / "b"
    generate(first, params)
    generate(second, params)
    for ref in ("main", STATE_REF):
        assert git(first, "rev-parse", f"{ref}^{{tree}}") == git(
            second, "rev-parse", f"{ref}^{{tree}}"
        )


def test_generation_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SystemExit, match="not empty"):
        generate(tmp_path, Params(waves=10, channels=10, queues=0, events=0))


def test_floor_reads_every_schedule_file_and_every_ledger_line(
    generated: tuple[Path, dict[str, Any]],
) -> None:
    root, meta = generated
    files, _ = floor.parse_schedules(root)
    assert files == sum(1 for path in (root / "schedules").rglob("*") if path.is_file())
    assert floor.parse_ledger(root, STATE_REF) == meta["ledger_events"]


@pytest.mark.parametrize(
    ("lines", "inclusive", "own", "total"),
    [
        pytest.param(
            ["main (app.py:3);work (scheduler/planning.py:10) 7", "main (app.py:4) 3"],
            {"main  app.py": 10, "work  scheduler/planning.py": 7},
            {"work  scheduler/planning.py:10": 7, "main  app.py:4": 3},
            10,
            id="nested",
        ),
        pytest.param(
            ["f (/x/lib/python3.11/json/decoder.py:5);f (/x/lib/python3.11/json/decoder.py:9) 2"],
            {"f  lib/python3.11/json/decoder.py": 2},
            {"f  lib/python3.11/json/decoder.py:9": 2},
            2,
            id="recursion-counted-once",
        ),
        pytest.param(
            [
                "_run_code (<frozen runpy>:88);invoke (/v/site-packages/click/core.py:1) 4",
                "",
                "garbage",
            ],
            {},
            {"invoke  site-packages/click/core.py:1": 4},
            4,
            id="wrappers-and-junk-left-out",
        ),
    ],
)
def test_hotspots_count_samples(
    lines: list[str], inclusive: dict[str, int], own: dict[str, int], total: int
) -> None:
    found_inclusive, found_own, found_total = hotspots.parse_raw(lines)
    assert dict(found_inclusive) == inclusive
    assert dict(found_own) == own
    assert found_total == total


@pytest.mark.parametrize(
    ("code", "returncode"), [("pass", 0), ("raise SystemExit(3)", 3)], ids=["ok", "exit-3"]
)
def test_measure_reports_the_childs_exit_code_and_memory(code: str, returncode: int) -> None:
    found = measure.measure([sys.executable, "-c", f"block = bytearray(80_000_000)\n{code}"])
    assert found["returncode"] == returncode
    assert float(str(found["max_rss_mb"])) >= 80
    assert float(str(found["seconds"])) > 0


def test_run_lists_the_commands_scheduler_has() -> None:
    assert {"validate", "list", "tick"} <= run.available_commands()


def test_dispatch_economy_sends_one_request_per_repository_with_no_spread() -> None:
    report, timed, fake, _ = dispatch.run(channels=200, latency=0.0, spacing=0.0)
    methods = Counter(method for method, _, _ in fake.requests)
    assert len(report.dispatched) == 200
    assert methods == {"POST": 50, "GET": 50}
    assert timed.batch_sizes == [4] * 50
    assert dispatch.not_before_spread(fake) == (200, 0.0)
