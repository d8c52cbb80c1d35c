"""A seeded fuzz harness: mutated input files of every kind through the pure pipeline and the CLI.

Run ``python -m tests.fuzz --seconds 60 --seed 1``. Each input starts from a valid tree (the
bundled example under ``schedules/`` or a small generated one, with a ledger and control.yaml
on the state branch) and one file of it is mutated: byte flips, token splices (YAML indicators,
tags, anchors and aliases, huge numbers, far dates, DST-edge times, unicode, NUL, invalid
UTF-8, deep nesting), truncations and duplications. The file is one of ``channels.yaml``,
``videos.yaml``, a wave, a queue, ``control.yaml``, a ledger file, or a ``publication-result``
event. Then the pipeline runs in process (load, plan, problems, due publications, every
timeline format, health, record from the event) and, for a share of the inputs, the real CLI.

The only clean failure is a :class:`scheduler.errors.SchedulerError` (the CLI turns it into
``Error: ...`` and exit 1); any other exception is a finding, printed with its input and
traceback. A canary file that a YAML tag would create if it were ever executed must never
appear. Prints ``fuzz: N inputs tried, F tracebacks (seed S, T s)``; exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from scheduler.cli import main as cli_main
from scheduler.decide import due_publications
from scheduler.errors import SchedulerError
from scheduler.health import health
from scheduler.ledger import encode_lines
from scheduler.operations import record, results_from_event
from scheduler.ports import StateSnapshot
from scheduler.views import timeline
from scheduler.world import World, build_world
from tests.schedule_builder import tree, wave

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2030, 12, 2, 17, 5, tzinfo=UTC)
NOW_TEXT = "2030-12-02T17:05:00Z"
LEDGER_FILE = "ledger/2030-12.jsonl"
EVENT_FILE = "event.json"
CONTROL_FILE = "control.yaml"
MAX_SHOWN = 3000

TOKENS: tuple[bytes, ...] = (
    b": ",
    b"- ",
    b"? ",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"#",
    b"|",
    b">",
    b"'",
    b'"',
    b"&",
    b"*",
    b"!",
    b"%",
    b"@",
    b"`",
    b"\n",
    b"\t",
    b"  ",
    b"---\n",
    b"...\n",
    b"&anchor ",
    b"*anchor",
    b"<<: *anchor\n",
    b"!!int ",
    b"!!binary aGk=",
    b"!local ",
    b"!!python/object/apply:os.system [CANARY_SHELL]",
    b"!!python/object/apply:builtins.open [CANARY_PATH, w]",
    b"!!python/name:os.system",
    b"~",
    b"null",
    b"true",
    b"no",
    b"on",
    b"0123",
    b"1e309",
    b"-0",
    b"99999999999999999999999999999999",
    b"-99999999999999999999",
    b"0s",
    b"-1h",
    b"99999999d",
    b"1h30m",
    b"9999-12-31",
    b"9999-12-31T23:59:59Z",
    b"0001-01-01T00:00:00+14:00",
    b"2030-03-31T02:30:00",
    b"2030-10-27T02:30:00",
    b"2030-03-10T02:30:00-05:00",
    b"2030-11-03T01:30:00",
    b"2030-12-01T18:00:00+01:00",
    b"2030-02-30T18:00:00Z",
    b"24:00",
    b"02:30",
    b"Europe/Paris",
    b"Australia/Lord_Howe",
    b"America/Santiago",
    b"Nowhere/Zone",
    b"group:",
    b"platform:",
    b"group:fr",
    b"yt-main",
    b"teaser-01",
    b"queue",
    b"cancelled: true",
    b"\xc3\xa9",
    b"\xe2\x80\xae",
    b"\xf0\x9f\x8e\xac",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x07",
    b"\r",
    b"\x85",
    b"\\u0000",
    b"\\ud800",
    b"[" * 200,
    b"{a: " * 200,
    b"- " * 200,
    b"A" * 5000,
)


@dataclass(frozen=True)
class Sample:
    """One input: the schedule files, the state files and the event bytes."""

    files: Mapping[str, bytes]
    state: Mapping[str, bytes]
    event: bytes
    mutated: str  # which file was mutated, for the report


@dataclass
class Tally:
    """What a run found."""

    tried: int = 0
    through_cli: int = 0
    findings: list[str] = field(default_factory=list)
    signatures: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- corpus


def example_tree() -> dict[str, bytes]:
    """The bundled example under ``schedules/``."""
    return {
        path.relative_to(REPO).as_posix(): path.read_bytes()
        for path in sorted((REPO / "schedules").rglob("*"))
        if path.is_file()
    }


def small_tree(rng: random.Random) -> dict[str, bytes]:
    """A small generated tree: the builder's base with a wave or two and maybe a queue."""
    zone = rng.choice(["+01:00", "Z", "-05:00", "+10:30"])
    day = rng.randint(1, 28)
    waves: dict[str, Any] = {
        "launch": wave("teaser-01", f"2030-12-{day:02d}T18:00:00{zone}", ["yt-main", "group:fr"]),
    }
    if rng.random() < 0.5:
        waves["stagger"] = wave(
            "teaser-02",
            "2030-12-03T02:30:00",
            [
                "tiktok-fr",
                {"channel": "ig-fr", "delay": "3h"},
                {"channel": "yt-main", "cancelled": "true"},
            ],
            type="staggered",
            every="1h",
            timezone=rng.choice(["Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
        )
    queues = (
        {"yt-main": {"start": "2030-12-01", "videos": ["clip-03"]}} if rng.random() < 0.6 else {}
    )
    return tree(waves=waves, queues=queues)


def ledger_lines() -> bytes:
    """A plausible ledger for the tree: one id of each outcome."""
    rows: list[dict[str, Any]] = []
    outcomes = ("dispatched", "unknown", "failed", "missed", "published", "released")
    for index, outcome in enumerate(outcomes):
        pub_id = "launch/yt-main" if index == 0 else f"old-{outcome}/tiktok-fr"
        video = "teaser-01" if index == 0 else f"v-{outcome}"
        base = {
            "due": "2030-12-01T17:00:00Z",
            "channel": "yt-main" if index == 0 else "tiktok-fr",
            "video": video,
        }
        rows.append(
            {
                "id": pub_id,
                "event": "claimed",
                "at": "2030-12-01T16:50:00Z",
                **base,
                "attempt": 1,
                "run": "1-1",
                "sha": "0" * 40,
                "not_before": "2030-12-01T17:00:00Z",
            }
        )
        rows.append(
            {
                "id": pub_id,
                "event": outcome,
                "at": "2030-12-01T16:51:00Z",
                **base,
                "attempt": 1,
                "reason": "auth" if outcome == "failed" else None,
            }
        )
    rows.append(
        {
            "id": "queue/yt-main/clip-03",
            "event": "held",
            "at": "2030-12-01T16:52:00Z",
            "reason": "paused",
            "channel": "yt-main",
            "video": "clip-03",
        }
    )
    return encode_lines([{k: v for k, v in row.items() if v is not None} for row in rows])


CONTROL = b"""paused: false
reason: ""
channels:
  tiktok-fr: {paused: true, reason: review, until: 2030-12-03T00:00:00Z}
waves:
  launch: {paused: true, reason: legal}
publications:
  launch/ig-fr: {cancelled: true, reason: wrong cut, actor: jane, at: 2030-11-30T09:12:00Z}
"""

EVENT: dict[str, Any] = {
    "action": "publication-result",
    "sender": {"login": "acme-publisher-bot"},
    "client_payload": {
        "results": [
            {
                "id": "launch/yt-main",
                "attempt": 1,
                "result": "published",
                "url": "https://youtu.be/x",
            },
            {
                "id": "old-dispatched/tiktok-fr",
                "attempt": 1,
                "result": "failed",
                "reason": "expired",
            },
        ]
    },
}


# --------------------------------------------------------------------------- mutation


def splice_token(data: bytes, rng: random.Random, canary: Path) -> bytes:
    """``data`` with a token inserted or written over a few bytes at a random place."""
    token = rng.choice(TOKENS)
    token = token.replace(b"CANARY_SHELL", f'"touch {canary}"'.encode())
    token = token.replace(b"CANARY_PATH", str(canary).encode())
    at = rng.randint(0, len(data))
    cut = at + (rng.randint(0, 8) if rng.random() < 0.5 else 0)
    return data[:at] + token + data[cut:]


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one to four bytes replaced by random ones."""
    if not data:
        return bytes([rng.randrange(256)])
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    """``data`` cut at a random place."""
    return data[: rng.randint(0, len(data))]


def duplicate(data: bytes, rng: random.Random) -> bytes:
    """``data`` with a random slice (often whole lines) repeated."""
    lines = data.splitlines(keepends=True)
    if lines and rng.random() < 0.7:
        start = rng.randrange(len(lines))
        end = rng.randint(start + 1, min(len(lines), start + 4))
        chunk = b"".join(lines[start:end])
        return b"".join(lines[:end]) + chunk * rng.randint(1, 3) + b"".join(lines[end:])
    start = rng.randint(0, len(data))
    end = rng.randint(start, min(len(data), start + 64))
    return data[:end] + data[start:end] * rng.randint(1, 3) + data[end:]


def mutate(data: bytes, rng: random.Random, canary: Path) -> bytes:
    """One to three random mutations of ``data``."""
    operations: list[Callable[[bytes], bytes]] = [
        lambda d: splice_token(d, rng, canary),
        lambda d: splice_token(d, rng, canary),
        lambda d: splice_token(d, rng, canary),
        lambda d: flip_bytes(d, rng),
        lambda d: truncate(d, rng),
        lambda d: duplicate(d, rng),
    ]
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(operations)(data)
    return data


def mutate_json_value(value: Any, rng: random.Random) -> Any:
    """A structurally mutated JSON value: a random node replaced by a hostile one."""
    hostile: list[Any] = [
        None,
        True,
        0,
        -1,
        10**30,
        1.5,
        float("inf"),
        "",
        "x" * 600,
        "\x00",
        "9999-12-31T23:59:59Z",
        "http://evil",
        "javascript:alert(1)",
        [],
        {},
        [[[[]]]],
        {"id": None},
        "launch/yt-main",
    ]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        copy = dict(value)
        copy[key] = mutate_json_value(value[key], rng)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        copy_list = list(value)
        index = rng.randrange(len(copy_list))
        copy_list[index] = mutate_json_value(copy_list[index], rng)
        return copy_list
    return rng.choice(hostile)


def mutated_ledger(base: bytes, rng: random.Random, canary: Path) -> bytes:
    """The ledger with bytes mutated, or one line's JSON structure mutated."""
    if rng.random() < 0.5:
        return mutate(base, rng, canary)
    lines = [json.loads(line) for line in base.splitlines()]
    index = rng.randrange(len(lines))
    lines[index] = mutate_json_value(lines[index], rng)
    text = [json.dumps(line, allow_nan=True) for line in lines]
    return ("\n".join(text) + "\n").encode()


def mutated_event(rng: random.Random, canary: Path) -> bytes:
    """A publication-result event, mutated in bytes or in structure."""
    if rng.random() < 0.5:
        return mutate(json.dumps(EVENT).encode(), rng, canary)
    return json.dumps(mutate_json_value(EVENT, rng), allow_nan=True).encode()


def sample(rng: random.Random, example: Mapping[str, bytes], canary: Path) -> Sample:
    """One fuzz input: a base tree, its state and event, one of them mutated."""
    files = dict(example if rng.random() < 0.5 else small_tree(rng))
    state = {LEDGER_FILE: ledger_lines(), CONTROL_FILE: CONTROL}
    event = json.dumps(EVENT).encode()
    kinds = [*sorted(files), LEDGER_FILE, CONTROL_FILE, EVENT_FILE]
    target = rng.choice(kinds)
    if target == LEDGER_FILE:
        state[LEDGER_FILE] = mutated_ledger(state[LEDGER_FILE], rng, canary)
    elif target == CONTROL_FILE:
        state[CONTROL_FILE] = mutate(CONTROL, rng, canary)
    elif target == EVENT_FILE:
        event = mutated_event(rng, canary)
    else:
        files[target] = mutate(files[target], rng, canary)
    return Sample(files, state, event, target)


# --------------------------------------------------------------------------- running


def run_pipeline(item: Sample) -> None:
    """Every pure step a command takes over ``item``; SchedulerError is a clean refusal."""
    try:
        world = build_world(
            item.files, StateSnapshot(commit="0" * 40, files=item.state, source="memory"), now=NOW
        )
    except SchedulerError:
        return
    world.problems()
    due_publications(world)
    health(world)
    for zone_name in ("UTC", "Europe/Paris", "Australia/Lord_Howe"):
        zone = ZoneInfo(zone_name)
        for fmt in timeline.FORMATS:
            timeline.render(
                world,
                world.publications,
                fmt=fmt,
                zone=zone,
                include_private=True,
                repo_slug="acme/x",
            )
    record_event(world, item.event)


def record_event(world: World, raw: bytes) -> None:
    """``record --from-event`` in process: parse as the CLI does, then record."""
    try:
        event = json.loads(raw)
    except ValueError:
        return  # the CLI reports an unreadable event file as a clean error
    results, sender, _ = results_from_event(event)
    try:
        record(world, results, actor="fuzz", sender=sender, run="fuzz-1")
    except SchedulerError:
        return


CLI_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("validate",),
    ("validate", "--format", "json"),
    ("list", "--format", "json"),
    ("list", "--format", "csv"),
    ("status",),
    ("timeline", "--format", "ics"),
    ("timeline", "--format", "html"),
    ("plan", "--format", "json"),
    ("tick", "--dry-run", "--backend", "outbox"),
    ("show", "launch/yt-main"),
    ("record", "--from-event", EVENT_FILE),
)


def run_cli(item: Sample, rng: random.Random, workdir: Path) -> str | None:
    """One CLI command over ``item`` written to disk; the problem text when it misbehaves."""
    root = Path(tempfile.mkdtemp(dir=workdir))
    for path, content in item.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (root / EVENT_FILE).write_bytes(item.event)
    command = list(rng.choice(CLI_COMMANDS))
    if command[-1] == EVENT_FILE:
        command[-1] = str(root / EVENT_FILE)
    env = {
        "GITHUB_STEP_SUMMARY": None,
        "SCHEDULER_STATE_REF": None,
        "GIT_CEILING_DIRECTORIES": str(workdir),
    }
    result = CliRunner().invoke(
        cli_main, ["--root", str(root), "--now", NOW_TEXT, *command], env=env
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return f"CLI {' '.join(command)} raised:\n{trace}"
    if result.exit_code not in (0, 1, 2) or "Traceback" in result.output:
        return f"CLI {' '.join(command)} exited {result.exit_code}:\n{result.output[-MAX_SHOWN:]}"
    return None


def shown(item: Sample) -> str:
    """The mutated file of ``item``, for a report."""
    if item.mutated == EVENT_FILE:
        content = item.event
    elif item.mutated in item.state:
        content = item.state[item.mutated]
    else:
        content = item.files[item.mutated]
    return f"{item.mutated}:\n{content[:MAX_SHOWN]!r}"


def note(tally: Tally, item: Sample, problem: str, signature: str) -> None:
    """Record a finding (each distinct place once) and print it."""
    if signature in tally.signatures:
        tally.findings.append(signature)
        return
    tally.signatures.add(signature)
    tally.findings.append(signature)
    print(
        f"FINDING #{len(tally.signatures)} ({signature})\ninput {shown(item)}\n{problem}",
        flush=True,
    )


def signature_of(exc: BaseException) -> str:
    """Exception type and innermost frame: one finding per place."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def one(tally: Tally, item: Sample, canary: Path) -> None:
    """Run ``item`` through the pipeline; note any escaping exception or executed tag."""
    try:
        run_pipeline(item)
    except Exception as exc:  # every escaping exception is a finding
        note(tally, item, "".join(traceback.format_exception(exc)), signature_of(exc))
    if canary.exists():
        canary.unlink()
        note(tally, item, "a YAML tag was executed: the canary file exists", "canary")


def fuzz(seconds: float, seed: int, cli_inputs: int, inputs: int | None = None) -> Tally:
    """Fuzz for ``seconds`` or ``inputs`` inputs, whichever ends first; every fifth input,
    up to ``cli_inputs`` of them, also goes through the CLI."""
    rng = random.Random(seed)
    example = example_tree()
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scheduler-fuzz-") as tmp:
        workdir = Path(tmp)
        canary = workdir / "canary"
        while time.monotonic() - started < seconds and (inputs is None or tally.tried < inputs):
            item = sample(rng, example, canary)
            tally.tried += 1
            one(tally, item, canary)
            if tally.through_cli < cli_inputs and tally.tried % 5 == 0:
                tally.through_cli += 1
                problem = run_cli(item, rng, workdir)
                if problem is not None:
                    note(tally, item, problem, problem.splitlines()[-1][:200])
                if canary.exists():
                    canary.unlink()
                    note(tally, item, "a YAML tag was executed through the CLI", "canary")
    return tally


def main(argv: list[str] | None = None) -> int:
    """Parse the options, fuzz, print the count line; 1 on any finding."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli", type=int, default=300, help="inputs also run through the CLI")
    parser.add_argument("--inputs", type=int, default=None, help="stop after this many inputs")
    args = parser.parse_args(argv)
    started = time.monotonic()
    tally = fuzz(args.seconds, args.seed, args.cli, args.inputs)
    elapsed = time.monotonic() - started
    print(
        f"fuzz: {tally.tried} inputs tried, {len(tally.findings)} tracebacks "
        f"(seed {args.seed}, {elapsed:.0f} s)"
    )
    print(
        f"fuzz: {tally.through_cli} of them also through the CLI; {len(tally.signatures)} distinct findings"
    )
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
