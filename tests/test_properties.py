"""Properties of planning and checks over random schedules (hypothesis, small example counts)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.problems import Problem
from tests.schedule_builder import problems_of, tree, world_of

CHANNEL_IDS = ("ch-a", "ch-b", "ch-c", "ch-d")
VIDEO_IDS = tuple(f"v{i}" for i in range(6))
CHANNELS: dict[str, Any] = {
    "defaults": {"timezone": "UTC", "min_gap": "1m"},
    "groups": {"pair": ["ch-a", "ch-b"], "solo": ["ch-c"]},
    "channels": {
        "ch-a": {
            "platform": "youtube",
            "slots": [{"days": ["mon", "thu"], "times": ["09:00", "18:00"]}],
        },
        "ch-b": {"platform": "youtube", "timezone": "Europe/Paris"},
        "ch-c": {"platform": "tiktok", "timezone": "America/New_York"},
        "ch-d": {"platform": "x"},
    },
}
VIDEOS = {"videos": {video: {"url": f"https://cdn.example.com/{video}.mp4"} for video in VIDEO_IDS}}
SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def channel_entry(draw: st.DrawFn, channel: str) -> Any:
    """A channel written as a bare id or as an item, maybe cancelled or delayed."""
    form = draw(st.sampled_from(["ref", "item", "cancelled", "delayed"]))
    if form == "ref":
        return channel
    if form == "item":
        return {"channel": channel}
    if form == "cancelled":
        return {"channel": channel, "cancelled": "true"}
    return {"channel": channel, "delay": f"{draw(st.integers(0, 300))}m"}


@st.composite
def a_wave(draw: st.DrawFn, wave_id: str, *, refs: bool) -> dict[str, Any]:
    """One wave file's content; with ``refs``, groups and platforms too."""
    channels = draw(st.lists(st.sampled_from(CHANNEL_IDS), min_size=1, max_size=4, unique=True))
    entries = [draw(channel_entry(channel)) for channel in channels]
    if refs and draw(st.booleans()):
        taken = set(channels)
        extra = [
            ref
            for ref, members in (("group:solo", {"ch-c"}), ("platform:x", {"ch-d"}))
            if not members & taken
        ]
        entries += draw(st.lists(st.sampled_from(extra), max_size=1)) if extra else []
    staggered = draw(st.booleans())
    content: dict[str, Any] = {
        "id": wave_id,
        "video": draw(st.sampled_from(VIDEO_IDS)),
        "type": "staggered" if staggered else "simultaneous",
        "at": f"2030-12-{draw(st.integers(1, 28)):02d}T{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30])):02d}:00Z",
    }
    if staggered:
        content["every"] = draw(st.sampled_from(["1m", "30m", "1h", "2h"]))
    content["channels"] = entries
    return content


@st.composite
def schedule(draw: st.DrawFn, *, refs: bool = True) -> dict[str, bytes]:
    """A schedule tree of 1-6 waves and maybe a queue on ch-a."""
    count = draw(st.integers(1, 6))
    waves = {f"w{i}": draw(a_wave(f"w{i}", refs=refs)) for i in range(count)}
    queues = {}
    if draw(st.booleans()):
        videos = draw(st.lists(st.sampled_from(VIDEO_IDS), max_size=4, unique=True))
        queues["ch-a"] = {"start": f"2030-12-{draw(st.integers(1, 20)):02d}", "videos": videos}
    return tree(channels=CHANNELS, videos=VIDEOS, waves=waves, queues=queues)


def signature(world: Any) -> list[tuple[Any, ...]]:
    """What a plan says of each publication, file names aside."""
    return [
        (
            pub.id,
            pub.channel,
            pub.video,
            pub.due,
            pub.type,
            pub.wave,
            pub.cancelled,
            dict(pub.params),
            pub.estimated,
        )
        for pub in world.publications
    ]


def renamed(problems: list[Problem], names: Mapping[str, str]) -> Counter[str]:
    """The problems with each file name put back as ``names`` says, as a multiset of lines."""
    lines = []
    for problem in problems:
        line = problem.render()
        for new, old in names.items():
            line = line.replace(new, old)
        lines.append(line)
    return Counter(lines)


@SETTINGS
@given(files=schedule(), seed=st.integers(0, 2**16))
def test_planning_is_deterministic_and_independent_of_file_order(
    files: dict[str, bytes], seed: int
) -> None:
    first = world_of(files)
    again = world_of(files)
    shuffled_items = list(files.items())
    random.Random(seed).shuffle(shuffled_items)
    shuffled = world_of(dict(shuffled_items))
    assert signature(first) == signature(again) == signature(shuffled)
    assert first.problems() == again.problems() == shuffled.problems()


@SETTINGS
@given(files=schedule(), seed=st.integers(0, 2**16))
def test_renaming_wave_files_without_changing_ids_changes_nothing(
    files: dict[str, bytes], seed: int
) -> None:
    waves = sorted(path for path in files if path.startswith("schedules/waves/"))
    targets = [
        f"schedules/waves/{name}.yaml"
        for name in ("zz/last", "aa", "mm/mid", "b-2", "0-first", "q")
    ]
    random.Random(seed).shuffle(targets)
    names = dict(zip(targets, waves, strict=False))
    moved = {path: content for path, content in files.items() if path not in waves}
    moved.update({new: files[old] for new, old in names.items()})
    before, after = world_of(files), world_of(moved)
    assert signature(before) == signature(after)
    assert renamed(after.problems(), names) == renamed(before.problems(), {})


@SETTINGS
@given(files=schedule(refs=False))
def test_every_duplicate_channel_video_pair_is_reported(files: dict[str, bytes]) -> None:
    world = world_of(files)
    counts = Counter((pub.channel, pub.video) for pub in world.publications if not pub.cancelled)
    reported = Counter(
        tuple(problem.subject.split("|")[1:3])
        for problem in world.problems()
        if problem.code == "duplicate-video"
    )
    assert reported == Counter({pair: count - 1 for pair, count in counts.items() if count > 1})


@SETTINGS
@given(files=schedule())
def test_duplicates_are_reported_at_a_schedule_file_line(files: dict[str, bytes]) -> None:
    for problem in problems_of(files):
        if problem.code in ("duplicate-video", "overlap"):
            assert problem.file in files
            assert problem.line >= 1 and problem.column >= 1


def test_the_property_channels_are_valid_and_a_duplicate_among_them_is_found() -> None:
    files = tree(
        channels=CHANNELS,
        videos=VIDEOS,
        waves={
            "a": {
                "video": "v1",
                "type": "simultaneous",
                "at": "2030-12-01T10:00:00Z",
                "channels": ["group:pair"],
            },
            "b": {
                "video": "v1",
                "type": "simultaneous",
                "at": "2030-12-02T10:00:00Z",
                "channels": ["ch-b"],
            },
        },
    )
    assert [(p.code, p.subject) for p in problems_of(files)] == [
        ("duplicate-video", "duplicate-video|ch-b|v1|a/ch-b|b/ch-b")
    ]
