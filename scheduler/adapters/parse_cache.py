"""A cache of parsed schedule files kept between runs, by the sha256 of each file's bytes.

Parsing the YAML of thousands of wave files is most of what ``validate`` and ``tick`` do, and
from one run to the next almost every file is the same. The plain values the files parse to
(dicts, lists and strings) are kept in one ``marshal`` file, by content digest, so an unchanged
file is never parsed twice; its schema is still checked on every run. The cache lives in
``$SCHEDULER_CACHE_DIR`` when that is set (empty: no cache), else in ``.git/scheduler-cache/``
of the repository (never in the working tree). The workflows keep that folder between runs.
A cache file that cannot be read, or whose checksum does not hold, is ignored and rewritten;
only the entries a run used are written back, so the cache never grows beyond the schedule.
The cache is trusted like the repository's own ``.git``: whoever can write it can make a run
see other schedule values (the workflows keep it with ``actions/cache``, whose entries a pull
request can read but never write for the default branch).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scheduler.loading import Schedules, load_schedules
from scheduler.problems import Problem
from scheduler.yamltext import ParseMemo, YamlError, decode_text, digest, parse_text

ENV = "SCHEDULER_CACHE_DIR"
FORMAT = 2  # raise when what parse_yaml returns for a file changes
FILE = f"parsed-v{FORMAT}-py{sys.version_info[0]}{sys.version_info[1]}.marshal"


def cache_file(root: Path) -> Path | None:
    """Where the cache of ``root`` lives, or None when there is to be none."""
    configured = os.environ.get(ENV)
    if configured is not None:
        return Path(configured) / FILE if configured.strip() else None
    git_dir = root / ".git"
    return git_dir / "scheduler-cache" / FILE if git_dir.is_dir() else None


MAGIC = b"scheduler parse cache\n"


def open_memo(root: Path) -> tuple[ParseMemo, Path | None]:
    """A memo holding what the cache of ``root`` knows (empty when there is none yet)."""
    path = cache_file(root)
    known: dict[str, Any] = {}
    if path is not None:
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError, MemoryError):
            loaded = _unpack(path.read_bytes())
            if isinstance(loaded, dict):
                known = loaded
    return ParseMemo(known), path


def _unpack(content: bytes) -> Any:
    """The value of a cache file; None unless its checksum holds, so that a damaged file is
    never handed to ``marshal`` (which trusts the lengths it reads)."""
    if not content.startswith(MAGIC):
        return None
    digest, _, payload = content[len(MAGIC) :].partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    return marshal.loads(payload)


def _pack(value: dict[str, Any]) -> bytes:
    payload = marshal.dumps(value)
    return MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def save_memo(memo: ParseMemo, path: Path | None) -> None:
    """Write what this run used back, when it parsed anything new (atomic; errors ignored:
    a cache that cannot be written only costs time)."""
    if path is None or (not memo.added and len(memo.used) == len(memo.known)):
        return
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".parsed-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(_pack(memo.used))
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


PARALLEL_FROM = 400  # files to parse before more processes pay for their start


def prefill(memo: ParseMemo, files: Mapping[str, bytes]) -> None:
    """Parse the schedule files ``memo`` does not know yet on every core, into ``memo``.

    Each process parses a share of the files into plain values; a file that does not parse is
    left for the caller's own parse, which reports its problem. Few files: nothing is done.
    """
    missing: dict[str, tuple[str, bytes]] = {}
    for path, data in files.items():
        if path.endswith((".yaml", ".yml")):
            key = digest(data)
            if key not in memo.known:
                missing.setdefault(key, (path, data))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(cores or 1, 8)
    if len(missing) < PARALLEL_FROM or workers < 2:
        return
    items = list(missing.items())
    shares = [items[index::workers] for index in range(workers)]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers - 1) as pool:
        others = pool.map_async(_parse_share, shares[1:])
        results = [_parse_share(shares[0]), *others.get()]
    for parsed in results:
        for key, value in parsed:
            memo.learn(key, value)


def _parse_share(share: list[tuple[str, tuple[str, bytes]]]) -> list[tuple[str, Any]]:
    """(digest, value) of the files of ``share`` that parse without a problem."""
    parsed = []
    for key, (path, data) in share:
        try:
            value, _ = parse_text(decode_text(data, path), path)
        except (YamlError, RecursionError):
            continue
        parsed.append((key, value))
    return parsed


class CachedLoader:
    """Loads schedule files through the cache of one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.memo: ParseMemo | None = None
        self.path: Path | None = None

    def load(self, files: Mapping[str, bytes]) -> tuple[Schedules, list[Problem]]:
        """``load_schedules(files)``, parsing only the files the cache does not know."""
        if self.memo is None:
            self.memo, self.path = open_memo(self.root)
        prefill(self.memo, files)
        return load_schedules(files, self.memo)

    def save(self) -> None:
        """Keep what this run parsed for the next one, and let go of it in memory."""
        if self.memo is not None:
            save_memo(self.memo, self.path)
        self.memo = None


def load_cached(root: Path, files: Mapping[str, bytes]) -> tuple[Schedules, list[Problem]]:
    """``load_schedules(files)`` through the cache of ``root``, kept for the next run."""
    loader = CachedLoader(root)
    loaded = loader.load(files)
    loader.save()
    return loaded
