"""Pydantic models of the schedule files (frozen, unknown keys forbidden).

Every scalar arrives as the string written in the YAML file; the validators below give it its
type (durations with units, ``true``/``false`` only, identifiers, IANA zones from ``tzdata``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from scheduler import slots, times

IDENT_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Bounds that keep every due, plus or minus any duration of the files, far inside datetime's.
FIRST_YEAR = 1970
LAST_YEAR = 2999
MAX_DURATION = timedelta(days=36500)
D = TypeVar("D", date, datetime)
REPO_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def _ident(value: str) -> str:
    if not IDENT_RE.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid id: use 1-64 characters, lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return value


def _string(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise ValueError("expected a single value, not a list or a mapping")
    return value


def _duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 15m, 2h, 1d or 1h30m")
    parsed = times.parse_duration(value)
    if parsed > MAX_DURATION:
        raise ValueError(f"'{value}' is too long: durations are at most {MAX_DURATION.days}d")
    return parsed


def _boolean(value: Any) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueError(f"expected true or false, not {value!r}")


def _positive_int(value: Any) -> int:
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise ValueError(f"expected a whole number of at least 1, not {value!r}")
    return int(value)


def _zone(value: str) -> str:
    times.load_zone(value)
    return value


def _repo(value: str) -> str:
    if not REPO_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a repository: write owner/name, e.g. acme/publisher")
    return value


def _event_type(value: str) -> str:
    if not 1 <= len(value) <= 100:
        raise ValueError(f"event_type must be 1-100 characters (GitHub's limit), not {len(value)}")
    return value


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected a time such as 2030-12-01T18:00:00+01:00")
    return _in_calendar(times.parse_datetime(value), value)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("expected a date such as 2030-12-01")
    return _in_calendar(times.parse_date(value), value)


def _in_calendar(value: D, text: str) -> D:
    """``value`` when its year is one the scheduler plans in (a typo such as 3030 is not)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            f"'{text}' is out of range: write a date between {FIRST_YEAR} and {LAST_YEAR}"
        )
    return value


def _channel_ref(value: str) -> str:
    kind, _, name = value.partition(":")
    if name and kind in ("group", "platform") and name:
        return value
    return _ident(value)


def _shape(value: Any) -> str:
    return "item" if isinstance(value, dict) else "ref"


Str = Annotated[str, BeforeValidator(_string)]
Ident = Annotated[str, BeforeValidator(_string), AfterValidator(_ident)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Bool = Annotated[bool, BeforeValidator(_boolean)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
ZoneName = Annotated[str, BeforeValidator(_string), AfterValidator(_zone)]
RepoName = Annotated[str, BeforeValidator(_string), AfterValidator(_repo)]
EventType = Annotated[str, BeforeValidator(_string), AfterValidator(_event_type)]
DateValue = Annotated[date, BeforeValidator(_date)]
DateTimeValue = Annotated[datetime, BeforeValidator(_datetime)]
ChannelRef = Annotated[str, BeforeValidator(_string), AfterValidator(_channel_ref)]
Params = dict[str, Any]


class Frozen(BaseModel):
    """Base of every file model: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class DispatchSettings(Frozen):
    repo: RepoName | None = None
    event_type: EventType | None = None
    max_batch: PositiveInt | None = None


class Slot(Frozen):
    days: list[Str] = Field(min_length=1)
    times: list[Str] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Slot:
        slots.SlotRule.parse(self.days, self.times)
        return self

    def rule(self) -> slots.SlotRule:
        """The validated slot rule."""
        return slots.SlotRule.parse(self.days, self.times)


class Settings(Frozen):
    """What a channel and the defaults share."""

    timezone: ZoneName | None = None
    min_gap: Duration | None = None
    max_lateness: Duration | None = None
    lead: Duration | None = None
    confirm_within: Duration | None = None
    dispatch: DispatchSettings | None = None
    reporters: list[Str] | None = None
    params: Params | None = None


class Channel(Settings):
    platform: Ident
    slots: list[Slot] | None = None
    formerly: list[Ident] = Field(default_factory=list)


class ChannelsFile(Frozen):
    defaults: Settings | None = None
    groups: dict[Ident, list[Ident]] = Field(default_factory=dict)
    channels: dict[Ident, Channel] = Field(default_factory=dict)


class Video(BaseModel):
    """A registered video; keys beyond these are free metadata passed to receivers."""

    model_config = ConfigDict(frozen=True, extra="allow")

    title: Str | None = None
    url: Str
    ready: Bool = True


class VideosFile(Frozen):
    videos: dict[Ident, Video]


class ChannelItem(Frozen):
    channel: ChannelRef
    delay: Duration | None = None
    cancelled: Bool = False
    params: Params = Field(default_factory=dict)


WaveEntry = Annotated[
    Annotated[ChannelRef, Tag("ref")] | Annotated[ChannelItem, Tag("item")],
    Discriminator(_shape),
]


class Wave(Frozen):
    id: Ident | None = None
    video: Ident
    type: Literal["simultaneous", "staggered"]
    at: DateTimeValue
    timezone: ZoneName | None = None
    every: Duration | None = None
    channels: list[WaveEntry] = Field(min_length=1)
    cancelled: Bool = False
    max_lateness: Duration | None = None
    lead: Duration | None = None
    params: Params = Field(default_factory=dict)


class QueueItem(Frozen):
    video: Ident
    params: Params = Field(default_factory=dict)


QueueEntry = Annotated[
    Annotated[Ident, Tag("ref")] | Annotated[QueueItem, Tag("item")], Discriminator(_shape)
]


class Queue(Frozen):
    start: DateValue
    videos: list[QueueEntry] = Field(default_factory=list)
