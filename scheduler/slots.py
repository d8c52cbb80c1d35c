"""Posting slots of a channel and their occurrences: small validated rules, pure iterators.

A slot is a wall-clock time on a weekday in the channel's time zone. Its instant follows the
RFC 5545 policy of :func:`scheduler.times.slot_instant`: a time in a DST gap moves forward by
the gap, a time in an overlap fires once, at its first occurrence.
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.times import parse_clock, slot_instant, to_utc

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_HELP = "write some of mon, tue, wed, thu, fri, sat, sun, e.g. [mon, wed, fri]"
_ONE_DAY = timedelta(days=1)
_FIRST_DAY = date.min + 3 * _ONE_DAY  # the walk looks a few days around every date
_LAST_DAY = date.max - 3 * _ONE_DAY


@dataclass(frozen=True, slots=True)
class SlotRule:
    """Posting times (naive wall clocks, kept sorted) on some weekdays (0 = Monday)."""

    days: frozenset[int]
    times: tuple[time, ...]

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"slot days must be weekday numbers 0 to 6, got {sorted(self.days)}")
        if not self.times or len(set(self.times)) != len(self.times):
            raise ValueError("slot times must be a non-empty list without repeats")
        if any(clock.tzinfo is not None for clock in self.times):
            raise ValueError("slot times are wall-clock times in the channel's time zone")
        object.__setattr__(self, "times", tuple(sorted(self.times)))

    @classmethod
    def parse(cls, days: Sequence[str], times: Sequence[str]) -> SlotRule:
        """Return the rule written as day names (``mon``..``sun``) and ``HH:MM`` times."""
        return cls(days=_parse_days(days), times=_parse_times(times))


def _parse_days(days: Sequence[str]) -> frozenset[int]:
    """Return the weekday numbers of ``days``; raise ValueError naming a bad or repeated day."""
    if isinstance(days, str) or not days:
        raise ValueError(f"slot days must be a non-empty list: {_DAYS_HELP}")
    numbers: list[int] = []
    for name in days:
        if name not in WEEKDAYS:
            raise ValueError(f"slot day {name!r} is not a day{_day_suggestion(name)}")
        if WEEKDAYS.index(name) in numbers:
            raise ValueError(f"slot day {name!r} is listed twice")
        numbers.append(WEEKDAYS.index(name))
    return frozenset(numbers)


def _day_suggestion(name: str) -> str:
    """Return `` (did you mean 'mon'?)`` for the day closest to ``name``, else the help text."""
    folded = str(name).strip().casefold()
    by_prefix = [day for day in WEEKDAYS if folded[:3] == day]
    close = difflib.get_close_matches(folded, WEEKDAYS, n=1)
    found = by_prefix or close
    return f" (did you mean {found[0]!r}?)" if found else f": {_DAYS_HELP}"


def _parse_times(times: Sequence[str]) -> tuple[time, ...]:
    """Return the wall-clock times of ``times``; raise ValueError naming a bad or repeated one."""
    if isinstance(times, str) or not times:
        raise ValueError("slot times must be a non-empty list of HH:MM times, e.g. [18:00, 21:30]")
    clocks: list[time] = []
    for text in times:
        try:
            clock = parse_clock(text)
        except ValueError as exc:
            raise ValueError(f"slot time {exc}") from None
        if clock in clocks:
            raise ValueError(f"slot time {text!r} is listed twice")
        clocks.append(clock)
    return tuple(clocks)


def occurrences(
    rules: Sequence[SlotRule],
    zone: ZoneInfo,
    *,
    after: datetime,
    until: datetime | None = None,
) -> Iterator[datetime]:
    """Return a lazy iterator over the slot instants (aware UTC) in ``[after, until)``.

    Ascending, each instant once (two rules or a DST fold may map two wall times to one
    instant); endless when ``until`` is None. ``after`` must be aware: never "now" by default.
    """
    start = _aware_utc(after, "after")
    stop = None if until is None else _aware_utc(until, "until")
    if not _FIRST_DAY <= start.date() <= _LAST_DAY:
        raise ValueError(f"after must lie between {_FIRST_DAY} and {_LAST_DAY}, got {start}")
    return _walk(tuple(rules), zone, start, stop)


def _aware_utc(dt: datetime, name: str) -> datetime:
    """Return the aware ``dt`` in UTC; raise ValueError naming the argument when naive."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be an aware date-time, got {dt.isoformat()}")
    return to_utc(dt)


def _walk(
    rules: tuple[SlotRule, ...], zone: ZoneInfo, start: datetime, stop: datetime | None
) -> Iterator[datetime]:
    """Yield the instants of ``rules`` in ``[start, stop)``, walking the zone's days.

    A slot's instant lies within 24 h of its wall time read as UTC (every UTC offset does), so
    once day ``d`` is walked nothing later can come before ``d`` 00:00 read as UTC: everything
    pending up to there is final. The walk starts two days before ``start``'s local date.
    """
    if not rules:
        return
    pending: list[datetime] = []
    day = start.astimezone(zone).date() - 2 * _ONE_DAY
    while True:
        for instant in _day_instants(rules, day, zone):
            if instant >= start and (stop is None or instant < stop) and instant not in pending:
                heapq.heappush(pending, instant)
        settled = datetime.combine(day, time(0), tzinfo=UTC)
        while pending and pending[0] <= settled:
            yield heapq.heappop(pending)
        if (stop is not None and settled >= stop) or day >= _LAST_DAY:
            return
        day += _ONE_DAY


def _day_instants(rules: Iterable[SlotRule], day: date, zone: ZoneInfo) -> set[datetime]:
    """Return the instants of every slot of ``rules`` on the local date ``day``."""
    weekday = day.weekday()
    return {
        slot_instant(day, clock, zone)
        for rule in rules
        if weekday in rule.days
        for clock in rule.times
    }
