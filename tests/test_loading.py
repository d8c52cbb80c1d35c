"""Loading: YAML without implicit typing, schema errors at file:line:column, stray files,
references with did-you-mean, and settings resolved item > wave > channel > defaults."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.adapters.files import read_schedules
from scheduler.loading import classify, load_schedules
from scheduler.yamltext import YamlError, parse_yaml
from tests.schedule_builder import (
    CHANNELS,
    problems_of,
    rendered,
    tree,
    wave,
    world_of,
)

REPO = Path(__file__).resolve().parent.parent
WAVE = "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n"
CHANNELS_TEXT = """\
defaults:
  timezone: UTC
channels:
  yt-main:
    platform: youtube
    slots:
      - days: [mon]
        times: [18:00]
"""


def wave_problems(text: str, name: str = "w") -> list[str]:
    """Every problem of a tree whose only wave is ``text``."""
    return rendered(problems_of(tree(waves={name: text})))


# --------------------------------------------------------------------------- the example


def test_the_bundled_example_loads_without_a_problem() -> None:
    files, file_problems = read_schedules(REPO)
    schedules, problems = load_schedules(files)
    assert (file_problems, problems) == ([], [])
    assert schedules.usable
    assert list(schedules.channels) == [
        "yt-main",
        "yt-jp",
        "tiktok-fr",
        "tiktok-us",
        "ig-fr",
        "x-us",
        "li-corp",
    ]
    assert len(schedules.videos) == 8
    assert sorted(doc.id for doc in schedules.waves) == [
        "bts",
        "interview",
        "launch",
        "teaser",
        "trailer",
    ]
    assert [doc.channel for doc in schedules.queues] == ["yt-main"]


# --------------------------------------------------------------------------- YAML typing


@pytest.mark.parametrize(
    "written",
    [
        "18:00",
        "no",
        "on",
        "off",
        "yes",
        "0123",
        "1e3",
        "0x1F",
        "~",
        "null",
        "true",
        "1_000",
        "2030-12-01",
    ],
)
def test_every_scalar_stays_the_string_it_was_written_as(written: str) -> None:
    value, _ = parse_yaml(f"key: {written}\nlist: [{written}]\n", "f.yaml")
    assert value == {"key": written, "list": [written]}


def test_params_and_video_metadata_reach_the_model_as_written() -> None:
    text = "videos:\n  teaser-01:\n    url: https://x/t.mp4\n    aspect: 9:16\n    hdr: no\n    views: 0123\n"
    params = "params: {slot: 18:00, pinned: on, count: 1e3, empty: ~, nothing: null}\n"
    world = world_of(tree(videos=text, waves={"w": WAVE + params}))
    assert world.problems() == []
    [pub] = world.publications
    assert dict(pub.params) == {
        "slot": "18:00",
        "pinned": "on",
        "count": "1e3",
        "empty": "~",
        "nothing": "null",
    }
    assert world.schedules.videos["teaser-01"].model_extra == {
        "aspect": "9:16",
        "hdr": "no",
        "views": "0123",
    }


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", True),
        ("false", False),
    ],
)
def test_ready_takes_true_or_false(written: str, expected: bool) -> None:
    text = f"videos:\n  teaser-01:\n    url: https://x/t.mp4\n    ready: {written}\n"
    schedules, problems = load_schedules(tree(videos=text))
    assert problems == []
    assert schedules.videos["teaser-01"].ready is expected


@pytest.mark.parametrize("written", ["yes", "no", "on", "True", "1", "~"])
def test_ready_other_than_true_or_false_is_an_error_at_its_value(written: str) -> None:
    text = f"videos:\n  teaser-01:\n    url: https://x/t.mp4\n    ready: {written}\n"
    assert rendered(load_schedules(tree(videos=text))[1]) == [
        f"schedules/videos.yaml:4:12: error: videos.teaser-01.ready: expected true or false, "
        f"not '{written}' [schema]"
    ]


@pytest.mark.parametrize(
    ("line", "position", "field", "hint"),
    [
        ("  min_gap: 30\n", "3:12", "defaults.min_gap", "(a bare number has no unit)"),
        ("  lead: 0\n", "3:9", "defaults.lead", "(a bare number has no unit)"),
        (
            "  max_lateness: 1.5h\n",
            "3:17",
            "defaults.max_lateness",
            "(use whole numbers, e.g. 1h30m for an hour and a half)",
        ),
        (
            "  confirm_within: 30M\n",
            "3:19",
            "defaults.confirm_within",
            "(units are lower-case: d, h, m, s)",
        ),
        (
            "  min_gap: 30m1h\n",
            "3:12",
            "defaults.min_gap",
            "(each unit at most once, in the order d, h, m, s)",
        ),
        ("  min_gap: -5m\n", "3:12", "defaults.min_gap", "(durations are never negative)"),
    ],
    ids=["bare-number", "bare-zero", "fraction", "upper-case", "unit-order", "negative"],
)
def test_durations_without_a_proper_unit_are_errors(
    line: str, position: str, field: str, hint: str
) -> None:
    text = (
        "defaults:\n  timezone: UTC\n"
        + line
        + CHANNELS_TEXT.removeprefix("defaults:\n  timezone: UTC\n")
    )
    [problem] = rendered(load_schedules(tree(channels=text))[1])
    value = line.split(": ", 1)[1].strip()
    assert problem == (
        f"schedules/channels.yaml:{position}: error: {field}: '{value}' is not a duration {hint}: "
        "write a number with a unit, e.g. 30s, 15m, 2h, 1d or 1h30m [schema]"
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("0s", timedelta(0)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(hours=24)),
    ],
)
def test_durations_with_units_resolve_to_exact_elapsed_time(
    written: str, expected: timedelta
) -> None:
    text = CHANNELS_TEXT.replace("  timezone: UTC\n", f"  timezone: UTC\n  min_gap: {written}\n")
    schedules, problems = load_schedules(tree(channels=text))
    assert problems == []
    assert schedules.channels["yt-main"].min_gap == expected


# --------------------------------------------------------------------------- schema errors

SCHEMA_CASES = [
    pytest.param(
        "video: [teaser-01]\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:1:8: error: video: expected a single value, not a list or a mapping [schema]"
        ],
        id="list-for-a-value",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: {yt-main: x}\n",
        ["schedules/waves/w.yaml:4:11: error: channels: Input should be a valid list [schema]"],
        id="map-for-a-list",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultanous\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:2:7: error: type: Input should be 'simultaneous' or 'staggered' [schema]"
        ],
        id="bad-type",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\n",
        ["schedules/waves/w.yaml:1:1: error: missing key 'channels' [schema]"],
        id="missing-key",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchanels: [yt-main]\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:4:1: error: unknown key 'chanels': did you mean 'channels'? [schema]"
        ],
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        WAVE + "colour: blue\n",
        [
            "schedules/waves/w.yaml:5:1: error: unknown key 'colour': remove it (see the file reference) [schema]"
        ],
        id="unknown-key-no-match",
    ),
    pytest.param(
        "video: teaser-01\ntype: staggered\nevery: 1h\nat: 2030-12-01T18:00:00Z\n"
        "channels:\n  - yt-main\n  - {channel: ig-fr, dealy: 1h}\n",
        ["schedules/waves/w.yaml:7:22: error: unknown key 'dealy': did you mean 'delay'? [schema]"],
        id="unknown-item-key",
    ),
    pytest.param(
        "video: teaser-01\ntype: staggered\nevery: 1h\nat: 2030-12-01T18:00:00Z\n"
        "channels:\n  - yt-main\n  - {delay: 1h}\n",
        ["schedules/waves/w.yaml:7:5: error: missing key 'channel' in channels.1 [schema]"],
        id="item-without-channel",
    ),
    pytest.param(
        WAVE + "video: clip-03\n",
        ["schedules/waves/w.yaml:5:1: error: duplicate key 'video': keep one [yaml-duplicate-key]"],
        id="duplicate-key",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: tomorrow\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:3:5: error: at: 'tomorrow' is not a date-time: write e.g. "
            "2030-12-01T18:00:00+01:00 or 2030-12-01T17:00:00Z (or 2030-12-01T18:00 with a time zone) [schema]"
        ],
        id="bad-time",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: 3030-12-01T18:00:00Z\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:3:5: error: at: '3030-12-01T18:00:00Z' is out of range: write a date between 1970 and 2999 [schema]"
        ],
        id="year-typo",
    ),
    pytest.param(
        "video: teaser-01\ntype: staggered\nevery: 999999999d\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main, ig-fr]\n",
        [
            "schedules/waves/w.yaml:3:8: error: every: '999999999d' is too long: durations are at most 36500d [schema]"
        ],
        id="huge-duration",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\ncancelled: yes\nat: 2030-12-01T18:00:00Z\nchannels: [yt-main]\n",
        [
            "schedules/waves/w.yaml:3:12: error: cancelled: expected true or false, not 'yes' [schema]"
        ],
        id="boolean-yes",
    ),
    pytest.param(
        "id: Bad Id\n" + WAVE,
        [
            "schedules/waves/w.yaml:1:5: error: id: 'Bad Id' is not a valid id: use 1-64 characters, "
            "lower-case letters, digits, '.', '_' or '-', starting with a letter or digit [schema]"
        ],
        id="bad-id",
    ),
    pytest.param(
        "id: queue\n" + WAVE,
        [
            "schedules/waves/w.yaml:1:5: error: 'queue' is reserved for queue publications: choose another wave id [bad-id]"
        ],
        id="reserved-id",
    ),
    pytest.param(
        "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00Z\nchannels: []\n",
        [
            "schedules/waves/w.yaml:4:11: error: channels: List should have at least 1 item after validation, not 0 [schema]"
        ],
        id="no-channels",
    ),
    pytest.param(
        "- video: teaser-01\n",
        [
            "schedules/waves/w.yaml:1:1: error: the file holds a list; it must be a mapping of keys (see the file reference) [schema]"
        ],
        id="list-file",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_CASES)
def test_wave_schema_errors_name_file_line_and_column(text: str, expected: list[str]) -> None:
    assert wave_problems(text) == expected


CHANNEL_CASES = [
    pytest.param(
        "channels:\n  yt-main:\n    timezone: UTC\n",
        ["schedules/channels.yaml:3:5: error: missing key 'platform' in channels.yt-main [schema]"],
        id="missing-platform",
    ),
    pytest.param(
        CHANNELS_TEXT + "    plaform: x\n",
        [
            "schedules/channels.yaml:9:5: error: unknown key 'plaform': did you mean 'platform'? [schema]"
        ],
        id="unknown-key",
    ),
    pytest.param(
        CHANNELS_TEXT + "  yt-main:\n    platform: x\n",
        [
            "schedules/channels.yaml:9:3: error: duplicate key 'yt-main': keep one [yaml-duplicate-key]"
        ],
        id="duplicate-channel-key",
    ),
    pytest.param(
        "channels:\n  YT_Main:\n    platform: youtube\n",
        [
            "schedules/channels.yaml:2:3: error: channels.YT_Main: 'YT_Main' is not a valid id: use 1-64 "
            "characters, lower-case letters, digits, '.', '_' or '-', starting with a letter or digit [schema]"
        ],
        id="bad-channel-id-at-its-key",
    ),
    pytest.param(
        CHANNELS_TEXT.replace("timezone: UTC", "timezone: Europe/Pariss"),
        [
            "schedules/channels.yaml:2:13: error: defaults.timezone: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?) [schema]"
        ],
        id="unknown-zone",
    ),
    pytest.param(
        CHANNELS_TEXT.replace("[mon]", "[monday]"),
        [
            "schedules/channels.yaml:7:9: error: channels.yt-main.slots.0: slot day 'monday' is not a day (did you mean 'mon'?) [schema]"
        ],
        id="bad-slot-day",
    ),
    pytest.param(
        CHANNELS_TEXT.replace(
            "    slots:\n      - days: [mon]\n        times: [18:00]\n",
            "    slots: {days: [mon], times: [18:00]}\n",
        ),
        [
            "schedules/channels.yaml:6:12: error: channels.yt-main.slots: Input should be a valid list [schema]"
        ],
        id="map-for-slots",
    ),
    pytest.param(
        "channels: [yt-main]\n",
        [
            "schedules/channels.yaml:1:11: error: channels: Input should be a valid dictionary [schema]"
        ],
        id="list-for-channels",
    ),
    pytest.param(
        CHANNELS_TEXT + "    dispatch: {max_batch: 0}\n",
        [
            "schedules/channels.yaml:9:27: error: channels.yt-main.dispatch.max_batch: expected a whole number of at least 1, not '0' [schema]"
        ],
        id="max-batch-zero",
    ),
    pytest.param(
        CHANNELS_TEXT + "    params: [a, b]\n",
        [
            "schedules/channels.yaml:9:13: error: channels.yt-main.params: Input should be a valid dictionary [schema]"
        ],
        id="list-for-params",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CHANNEL_CASES)
def test_channel_schema_errors_name_file_line_and_column(text: str, expected: list[str]) -> None:
    assert rendered(load_schedules(tree(channels=text))[1]) == expected


def test_a_video_without_url_is_an_error() -> None:
    text = "videos:\n  teaser-01:\n    title: T\n    aspect: 9:16\n"
    assert rendered(load_schedules(tree(videos=text))[1]) == [
        "schedules/videos.yaml:3:5: error: missing key 'url' in videos.teaser-01 [schema]"
    ]


def test_dictionary_keys_that_look_like_union_tags_are_located_like_any_other() -> None:
    text = "videos:\n  item:\n    url: [x]\n  ref:\n    url: ok\n    ready: maybe\n"
    assert rendered(load_schedules(tree(videos=text))[1]) == [
        "schedules/videos.yaml:3:10: error: videos.item.url: expected a single value, not a list or a mapping [schema]",
        "schedules/videos.yaml:6:12: error: videos.ref.ready: expected true or false, not 'maybe' [schema]",
    ]


# --------------------------------------------------------------------------- files and ids


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("schedules/channels.yaml", "channels"),
        ("schedules/videos.yaml", "videos"),
        ("schedules/channels/eu.yaml", "channels"),
        ("schedules/videos/2030.yaml", "videos"),
        ("schedules/waves/launch.yaml", "wave"),
        ("schedules/waves/2030/dec/launch.yaml", "wave"),
        ("schedules/queues/yt-main.yaml", "queue"),
        ("schedules/queues/sub/yt-main.yaml", None),
        ("schedules/waves/launch.yml", None),
        ("schedules/channels/eu/more.yaml", None),
        ("schedules/notes.txt", None),
    ],
)
def test_classify_names_the_kind_of_each_schedule_file(path: str, kind: str | None) -> None:
    assert classify(path) == kind


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("schedules/waves/x.yml", "did you mean schedules/waves/x.yaml?"),
        ("schedules/waves/deep/x.YAML", "did you mean schedules/waves/deep/x.yaml?"),
        ("schedules/queues/yt-main.yml", "did you mean schedules/queues/yt-main.yaml?"),
        ("schedules/wave/y.yaml", "did you mean schedules/waves/y.yaml?"),
        ("schedules/queue/yt-main.yaml", "did you mean schedules/queues/yt-main.yaml?"),
        ("schedules/chanels.yaml", "did you mean schedules/channels.yaml?"),
        (
            "schedules/README.md",
            "files here are channels.yaml, videos.yaml, channels/*.yaml, videos/*.yaml, "
            "waves/**/*.yaml and queues/<channel>.yaml: move or delete it",
        ),
    ],
    ids=["yml", "upper-case-ext", "queue-yml", "wave-dir", "queue-dir", "channels-typo", "other"],
)
def test_a_stray_file_is_an_error_with_a_did_you_mean(path: str, hint: str) -> None:
    assert rendered(load_schedules(tree(files={path: "a: b\n"}))[1]) == [
        f"{path}: error: this file matches no schedule file pattern: {hint} [stray-file]"
    ]


def test_gitkeep_files_are_not_stray() -> None:
    assert load_schedules(tree(files={"schedules/waves/.gitkeep": ""}))[1] == []


def test_a_wave_id_comes_from_id_or_else_the_file_stem() -> None:
    files = tree(
        files={
            "schedules/waves/2030/launch-day.yaml": WAVE,
            "schedules/waves/other.yaml": "id: teaser\n" + WAVE.replace("teaser-01", "teaser-02"),
        }
    )
    schedules, problems = load_schedules(files)
    assert problems == []
    assert sorted(doc.id for doc in schedules.waves) == ["launch-day", "teaser"]


def test_a_file_stem_that_is_no_valid_id_is_an_error() -> None:
    [problem] = rendered(load_schedules(tree(files={"schedules/waves/Launch Day.yaml": WAVE}))[1])
    assert problem == (
        "schedules/waves/Launch Day.yaml:1:1: error: the wave id 'Launch Day' (from the file name) "
        "is not a valid id: rename the file or set id: [bad-id]"
    )


def test_duplicate_wave_ids_are_reported_at_the_second_file_naming_the_first() -> None:
    files = tree(
        waves={
            "a": wave("teaser-01", "2030-12-01T18:00:00Z", ["yt-main"]),
            "b": "id: a\n" + WAVE.replace("teaser-01", "teaser-02"),
        }
    )
    assert rendered(load_schedules(files)[1]) == [
        "schedules/waves/b.yaml:1:5: error: wave id 'a' is already used by schedules/waves/a.yaml: "
        "set a different id: [duplicate-wave]"
    ]


def test_channels_and_videos_may_be_split_across_files() -> None:
    files = {
        "schedules/channels/eu.yaml": b"defaults:\n  timezone: Europe/Paris\nchannels:\n  ig-fr: {platform: instagram}\n",
        "schedules/channels/us.yaml": b"groups:\n  all: [ig-fr, yt-us]\nchannels:\n  yt-us: {platform: youtube, timezone: America/New_York}\n",
        "schedules/videos/a.yaml": b"videos:\n  v1: {url: https://x/1}\n",
        "schedules/videos/b.yaml": b"videos:\n  v2: {url: https://x/2}\n",
    }
    schedules, problems = load_schedules(files)
    assert problems == []
    assert schedules.channels["ig-fr"].timezone == "Europe/Paris"
    assert schedules.channels["yt-us"].file == "schedules/channels/us.yaml"
    assert schedules.groups == {"all": ("ig-fr", "yt-us")}
    assert sorted(schedules.videos) == ["v1", "v2"]


@pytest.mark.parametrize(
    ("files", "expected", "usable"),
    [
        pytest.param(
            {
                "schedules/channels/a.yaml": "channels:\n  yt: {platform: youtube}\n",
                "schedules/channels/b.yaml": "channels:\n  ig: {platform: instagram}\n  yt: {platform: x}\n",
                "schedules/videos.yaml": "videos:\n  v: {url: u}\n",
            },
            [
                "schedules/channels/b.yaml:3:3: error: channel 'yt' is defined twice: rename or remove one [duplicate-channel]"
            ],
            False,
            id="channel-in-two-files",
        ),
        pytest.param(
            {
                "schedules/channels.yaml": "channels:\n  yt: {platform: youtube}\n",
                "schedules/videos/a.yaml": "videos:\n  v: {url: u}\n",
                "schedules/videos/b.yaml": "videos:\n  w: {url: u}\n  v: {url: u}\n",
            },
            [
                "schedules/videos/b.yaml:3:3: error: video 'v' is registered twice (also in schedules/videos/a.yaml): keep one [duplicate-video]"
            ],
            False,
            id="video-in-two-files",
        ),
        pytest.param(
            {
                "schedules/channels/a.yaml": "defaults: {timezone: UTC}\nchannels:\n  yt: {platform: youtube}\n",
                "schedules/channels/b.yaml": "defaults: {min_gap: 1m}\n",
                "schedules/videos.yaml": "videos:\n  v: {url: u}\n",
            },
            [
                "schedules/channels/b.yaml:1:1: error: defaults are given in two files: keep them in one [duplicate-defaults]"
            ],
            False,
            id="defaults-in-two-files",
        ),
        pytest.param(
            {
                "schedules/channels.yaml": "channels:\n  yt: {platform: youtube}\n",
                "schedules/channels/more.yaml": "channels:\n  ig: {platform: instagram}\n",
                "schedules/videos.yaml": "videos:\n  v: {url: u}\n",
            },
            [
                "schedules/channels/more.yaml: error: both schedules/channels.yaml and schedules/channels/ exist: keep one of the two forms [duplicate-file]"
            ],
            True,
            id="both-forms",
        ),
        pytest.param(
            {"schedules/videos.yaml": "videos:\n  v: {url: u}\n"},
            [
                "schedules/channels.yaml: error: no channels: create schedules/channels.yaml [missing-file]"
            ],
            False,
            id="no-channels",
        ),
        pytest.param(
            {"schedules/channels.yaml": "channels:\n  yt: {platform: youtube}\n"},
            [
                "schedules/videos.yaml: error: no video registry: create schedules/videos.yaml [missing-file]"
            ],
            False,
            id="no-videos",
        ),
    ],
)
def test_registry_files_that_clash_or_are_missing(
    files: dict[str, str], expected: list[str], usable: bool
) -> None:
    schedules, problems = load_schedules({path: text.encode() for path, text in files.items()})
    assert rendered(problems) == expected
    assert schedules.usable is usable


# --------------------------------------------------------------------------- references


def test_unknown_references_are_errors_with_a_did_you_mean_each() -> None:
    text = (
        "video: teaser-1\ntype: staggered\nevery: 1h\nat: 2030-12-01T18:00:00Z\n"
        "channels: [yt-mian, group:frr, platform:youtub, {channel: ig-f}, zzz]\n"
    )
    assert wave_problems(text) == [
        "schedules/waves/w.yaml:1:8: error: unknown video 'teaser-1' (did you mean 'teaser-01'?) [unknown-video]",
        "schedules/waves/w.yaml:5:12: error: unknown channel 'yt-mian' (did you mean 'yt-main'?): "
        "channels are defined in channels.yaml [unknown-channel]",
        "schedules/waves/w.yaml:5:21: error: unknown group 'frr' (did you mean 'fr'?): "
        "groups are defined in channels.yaml [unknown-channel]",
        "schedules/waves/w.yaml:5:32: error: no channel has platform 'youtub' (did you mean 'youtube'?) [unknown-channel]",
        "schedules/waves/w.yaml:5:59: error: unknown channel 'ig-f' (did you mean 'ig-fr'?): "
        "channels are defined in channels.yaml [unknown-channel]",
        "schedules/waves/w.yaml:5:66: error: unknown channel 'zzz': channels are defined in channels.yaml [unknown-channel]",
    ]


def test_channel_references_are_checked_even_when_at_cannot_be_read() -> None:
    text = "video: teaser-01\ntype: simultaneous\nat: 2030-12-01T18:00:00\nchannels: [yt-mian]\n"
    assert wave_problems(text) == [
        "schedules/waves/w.yaml:3:5: error: 'at' has no offset: add one (e.g. +01:00 or Z) or set timezone: [naive-time]",
        "schedules/waves/w.yaml:4:12: error: unknown channel 'yt-mian' (did you mean 'yt-main'?): "
        "channels are defined in channels.yaml [unknown-channel]",
    ]


def test_queue_references_are_checked() -> None:
    files = tree(
        queues={
            "yt-main": "start: 2030-12-01\nvideos:\n  - teaser-1\n  - {video: clip-3}\n  - teaser-02\n  - teaser-02\n"
        },
        files={"schedules/queues/yt-mian.yaml": "start: 2030-12-01\nvideos: [clip-03]\n"},
    )
    assert rendered(problems_of(files)) == [
        "schedules/queues/yt-main.yaml:3:5: error: unknown video 'teaser-1' (did you mean 'teaser-01'?) [unknown-video]",
        "schedules/queues/yt-main.yaml:4:13: error: unknown video 'clip-3' (did you mean 'clip-03'?) [unknown-video]",
        "schedules/queues/yt-main.yaml:6:5: error: video 'teaser-02' is queued twice on 'yt-main': remove one [duplicate-video]",
        "schedules/queues/yt-mian.yaml:1:1: error: queue for unknown channel 'yt-mian' (did you mean 'yt-main'?): "
        "name the file after a channel id [unknown-channel]",
    ]


def test_a_group_listing_an_unknown_channel_is_an_error_at_the_member() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["groups"]["fr"].append("tiktok-de")
    assert rendered(load_schedules(tree(channels=channels))[1]) == [
        "schedules/channels.yaml:9:5: error: group 'fr' lists unknown channel 'tiktok-de' "
        "(did you mean 'tiktok-fr'?) [unknown-channel]"
    ]


def test_a_former_id_may_belong_to_one_current_channel_only() -> None:
    text = (
        "channels:\n  yt: {platform: youtube, formerly: [old, ig]}\n"
        "  ig: {platform: instagram, formerly: [old]}\n"
    )
    assert rendered(load_schedules(tree(channels=text))[1]) == [
        "schedules/channels.yaml:2:37: error: 'ig' in formerly of 'yt' is a current channel: "
        "remove it from formerly [formerly-clash]",
        "schedules/channels.yaml:3:39: error: 'old' is claimed by formerly of both 'yt' and 'ig': "
        "keep one [formerly-clash]",
    ]


def test_a_broken_channel_file_does_not_make_every_reference_unknown() -> None:
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["min_gap"] = "2 hours"
    files = tree(
        channels=channels,
        waves={"w": wave("teaser-01", "2030-12-01T18:00:00Z", ["yt-main", "group:fr"])},
        queues={"yt-main": {"start": "2030-12-01", "videos": ["clip-03"]}},
    )
    problems = problems_of(files)
    assert [problem.code for problem in problems] == ["schema"]
    assert problems[0].file == "schedules/channels.yaml"


def test_a_broken_video_file_does_not_make_every_video_unknown() -> None:
    files = tree(
        videos="videos:\n  teaser-01: {url: [x]}\n",
        waves={"w": wave("teaser-01", "2030-12-01T18:00:00Z", ["yt-main"])},
        queues={"yt-main": {"start": "2030-12-01", "videos": ["clip-03"]}},
    )
    assert [problem.code for problem in problems_of(files)] == ["schema"]


# --------------------------------------------------------------------------- settings


def test_settings_resolve_over_the_defaults_and_merge_dispatch_and_params() -> None:
    text = (
        "defaults:\n  timezone: Europe/Paris\n  min_gap: 30m\n  lead: 5m\n"
        "  dispatch: {repo: acme/default, event_type: go, max_batch: 20}\n"
        "  reporters: [bot]\n  params: {lang: fr, tag: base}\n"
        "channels:\n"
        "  a: {platform: youtube, min_gap: 2h, dispatch: {repo: acme/yt}, params: {tag: a}, reporters: [bot, other]}\n"
        "  b: {platform: x, timezone: Asia/Tokyo}\n"
        "  c: {platform: x, dispatch: {max_batch: 5}}\n"
    )
    schedules, problems = load_schedules(tree(channels=text))
    assert problems == []
    a, b, c = (schedules.channels[name] for name in "abc")
    assert (a.timezone, a.min_gap, a.lead, a.max_lateness) == (
        "Europe/Paris",
        timedelta(hours=2),
        timedelta(minutes=5),
        timedelta(hours=1),
    )
    assert (a.repo, a.event_type, a.max_batch) == ("acme/yt", "go", 20)
    assert dict(a.params) == {"lang": "fr", "tag": "a"}
    assert a.reporters == ("bot", "other")
    assert (b.timezone, b.min_gap, b.repo) == ("Asia/Tokyo", timedelta(minutes=30), "acme/default")
    assert (c.max_batch, c.confirm_within) == (5, timedelta(0))
    assert schedules.default_timezone == "Europe/Paris"


def test_without_defaults_a_channel_gets_the_documented_ones() -> None:
    schedules, problems = load_schedules(tree(channels="channels:\n  a: {platform: x}\n"))
    assert problems == []
    a = schedules.channels["a"]
    assert (a.timezone, a.min_gap, a.max_lateness, a.lead, a.confirm_within) == (
        "UTC",
        timedelta(minutes=1),
        timedelta(hours=1),
        timedelta(0),
        timedelta(0),
    )
    assert (a.repo, a.event_type, a.max_batch) == (None, "publish", 50)


def test_wave_and_item_settings_override_the_channel() -> None:
    text = (
        "video: teaser-01\ntype: staggered\nevery: 1h\nat: 2030-12-01T18:00:00Z\n"
        "max_lateness: 10m\nlead: 2m\nparams: {tag: wave, wave_only: w}\n"
        "channels:\n  - yt-main\n  - {channel: ig-fr, params: {tag: item}}\n"
    )
    channels = copy.deepcopy(CHANNELS)
    channels["channels"]["yt-main"]["params"] = {"tag": "channel", "playlist": "PL1"}
    world = world_of(tree(channels=channels, waves={"w": text}))
    assert world.problems() == []
    yt, ig = world.publications
    assert dict(yt.params) == {"tag": "wave", "playlist": "PL1", "wave_only": "w"}
    assert dict(ig.params) == {"tag": "item", "wave_only": "w"}
    assert (yt.max_lateness, yt.lead) == (timedelta(minutes=10), timedelta(minutes=2))


# --------------------------------------------------------------------------- parse_yaml


def test_parse_yaml_refuses_two_documents_in_one_file() -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml("a: b\n---\nc: d\n", "f.yaml")
    assert caught.value.problem.render() == (
        "f.yaml:3:1: error: one YAML document per file: remove the '---' and what follows [yaml-multi]"
    )


def test_source_positions_follow_keys_and_values() -> None:
    _, source = parse_yaml("a:\n  b: [x, {c: d}]\n", "f.yaml")
    assert source.locate(["a", "b", 1, "c"]) == (2, 14)
    assert source.locate(["a", "b", 1, "c"], key=True) == (2, 11)
    assert source.locate(["a", "missing"]) == (2, 3)
