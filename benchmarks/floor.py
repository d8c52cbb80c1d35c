"""The floor: the least work any command must do, as a process of its own.

    python benchmarks/floor.py ROOT [--ledger REF]

Reads every file under ``ROOT/schedules/`` and parses it with libyaml
(``yaml.load(text, Loader=yaml.CBaseLoader)``), nothing more: no schema, no planning. With
``--ledger REF`` it also reads the ledger files of the state branch ``REF`` in one
``git cat-file --batch`` and parses every line with ``json.loads`` (the least a command that
reads the ledger must do). Prints the number of files, documents and ledger lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml


def parse_schedules(root: Path) -> tuple[int, int]:
    """(files read, top-level keys seen) for every file under ``root/schedules``."""
    files = keys = 0
    for directory, _, names in os.walk(root / "schedules"):
        for name in names:
            text = (Path(directory) / name).read_text(encoding="utf-8")
            data = yaml.load(text, Loader=yaml.CBaseLoader)
            files += 1
            keys += len(data) if isinstance(data, dict) else 0
    return files, keys


def ledger_blobs(root: Path, ref: str) -> list[bytes]:
    """The contents of ``ledger/*.jsonl`` on ``ref``, read in one ``git cat-file --batch``."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", ref, "--", "ledger/"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    oids = [line.split()[2] for line in listing.splitlines() if line.endswith(".jsonl")]
    out = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="\n".join(oids).encode() + b"\n",
        capture_output=True,
        check=True,
    ).stdout
    blobs, position = [], 0
    for _ in oids:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        blobs.append(out[header_end + 1 : header_end + 1 + size])
        position = header_end + 1 + size + 1
    return blobs


def parse_ledger(root: Path, ref: str) -> int:
    """Lines of the ledger parsed with ``json.loads``."""
    count = 0
    for blob in ledger_blobs(root, ref):
        for line in blob.splitlines():
            json.loads(line)
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: parse, print what was parsed."""
    parser = argparse.ArgumentParser(
        description="Parse the schedule files (and the ledger) and nothing more."
    )
    parser.add_argument("root", type=Path)
    parser.add_argument(
        "--ledger", metavar="REF", help="also read and JSON-parse the ledger on REF"
    )
    args = parser.parse_args(argv)
    files, keys = parse_schedules(args.root)
    lines = parse_ledger(args.root, args.ledger) if args.ledger else 0
    print(f"{files} files, {keys} top-level keys, {lines} ledger lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
