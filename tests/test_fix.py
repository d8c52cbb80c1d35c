"""``validate --fix``: unambiguous shifts written into wave files, every other byte kept."""

from __future__ import annotations

from pathlib import Path

from tests.schedule_builder import run_cli, tree, write_tree

CHANNELS = {
    "channels": {
        "a": {"platform": "youtube", "min_gap": "2h"},
        "b": {"platform": "tiktok", "min_gap": "2h"},
    }
}
VIDEOS = {"videos": {f"v{i}": {"url": f"https://cdn.example.com/v{i}.mp4"} for i in range(1, 5)}}
ONE = "video: v1\ntype: simultaneous\nat: 2030-12-01T17:00:00Z\nchannels: [a, b]\n"


def make(tmp_path: Path, waves: dict[str, str]) -> Path:
    return write_tree(tmp_path, tree(channels=CHANNELS, videos=VIDEOS, waves={"one": ONE, **waves}))


def test_single_channel_wave_moves_its_at_keeping_comments(tmp_path: Path) -> None:
    two = "# why\nvideo: v2\ntype: simultaneous\nat: 2030-12-01T17:30:00Z   # too close\nchannels: [a]\n"
    root = make(tmp_path, {"two": two})
    assert run_cli(root, "validate").exit_code == 1
    result = run_cli(root, "validate", "--fix")
    assert result.exit_code == 0, result.output
    assert "fixed schedules/waves/two.yaml: moved 'two/a' to 2030-12-01T19:00:00Z" in result.stderr
    assert (root / "schedules/waves/two.yaml").read_text() == two.replace("17:30:00Z", "19:00:00Z")


def test_explicit_delay_grows_and_layout_is_kept(tmp_path: Path) -> None:
    three = (
        "video: v3\ntype: staggered\nat: 2030-12-01T15:00:00Z\nevery: 1h\nchannels:\n"
        "  - a                         # 15:00\n"
        "  - {channel: b, delay: 3h}   # 18:00, within 2h of one/b\n"
    )
    root = make(tmp_path, {"three": three})
    result = run_cli(root, "validate", "--fix")
    assert result.exit_code == 0, result.output
    assert (root / "schedules/waves/three.yaml").read_text() == three.replace(
        "delay: 3h}", "delay: 4h}"
    )


def test_ambiguous_conflict_is_left_for_a_human(tmp_path: Path) -> None:
    # moving `at` would move both channels: not unambiguous, so nothing is written
    four = "video: v4\ntype: simultaneous\nat: 2030-12-01T17:30:00Z\nchannels: [a, b]\n"
    root = make(tmp_path, {"four": four})
    result = run_cli(root, "validate", "--fix")
    assert result.exit_code == 1
    assert "overlap" in result.output
    assert (root / "schedules/waves/four.yaml").read_text() == four
