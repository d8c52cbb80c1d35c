"""The fuzz harness in the suite: a short seeded run finds nothing, and its checks can fail."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests import fuzz


def test_a_short_seeded_run_finds_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # a fixed number of inputs, so the run is the same on any machine
    status = fuzz.main(["--seconds", "60", "--inputs", "100", "--seed", "7", "--cli", "10"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FINDING" not in out
    count_line = out.splitlines()[-2]
    assert count_line.startswith("fuzz: ") and ", 0 tracebacks (seed 7, " in count_line
    assert count_line.split()[1] == "100"


@pytest.mark.parametrize("kind", ["schedule", "ledger", "control", "event"])
def test_every_file_kind_gets_mutated(kind: str) -> None:
    rng = random.Random(1)
    example = fuzz.example_tree()
    targets = {fuzz.sample(rng, example, Path("/nonexistent")).mutated for _ in range(300)}
    wanted = {
        "schedule": {"schedules/channels.yaml", "schedules/videos.yaml"},
        "ledger": {fuzz.LEDGER_FILE},
        "control": {fuzz.CONTROL_FILE},
        "event": {fuzz.EVENT_FILE},
    }[kind]
    assert wanted <= targets
    assert any(t.startswith("schedules/waves/") for t in targets)
    assert any(t.startswith("schedules/queues/") for t in targets)


def test_an_escaping_exception_is_a_finding(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def planted(item: fuzz.Sample) -> None:
        raise KeyError("planted")

    monkeypatch.setattr(fuzz, "run_pipeline", planted)
    status = fuzz.main(["--seconds", "0.2", "--seed", "1", "--cli", "0"])
    out = capsys.readouterr().out
    assert status == 1
    assert "FINDING #1 (KeyError at test_fuzz.py:" in out
    assert "KeyError: 'planted'" in out


def test_an_executed_tag_is_a_finding(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    canary = tmp_path / "canary"

    def planted(item: fuzz.Sample) -> None:
        canary.touch()

    monkeypatch.setattr(fuzz, "run_pipeline", planted)
    tally = fuzz.Tally()
    item = fuzz.sample(random.Random(0), fuzz.example_tree(), canary)
    fuzz.one(tally, item, canary)
    assert tally.findings == ["canary"]
    assert "a YAML tag was executed" in capsys.readouterr().out
    assert not canary.exists()
