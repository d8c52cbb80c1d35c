"""Durations, date-times, time zones and the DST policy: pure functions, no clock, no I/O.

Time zones come from the pinned ``tzdata`` package only (never the system's zoneinfo), so the
pull-request check and the cron agree on every offset. The DST policy is RFC 5545's: a slot time
in a gap moves forward by the gap, a slot time in an overlap is its first occurrence, and a
naive written time that is in a gap or an overlap is an error naming both valid readings.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo

_DURATION_RE = re.compile(
    r"(?:(?P<d>[0-9]{1,9})d)?(?:(?P<h>[0-9]{1,9})h)?(?:(?P<m>[0-9]{1,9})m)?(?:(?P<s>[0-9]{1,9})s)?",
    re.ASCII,
)
_DURATION_HELP = "write a number with a unit, e.g. 30s, 15m, 2h, 1d or 1h30m"
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

_ZONE_NAME_RE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*", re.ASCII)
_ZONE_HELP = "write an IANA name such as Europe/Paris, America/New_York or UTC"

_DATETIME_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<frac>[0-9]{1,6}))?)?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))?",
    re.ASCII,
)
_DATETIME_HELP = (
    "write e.g. 2030-12-01T18:00:00+01:00 or 2030-12-01T17:00:00Z "
    "(or 2030-12-01T18:00 with a time zone)"
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATE_HELP = "write YYYY-MM-DD, e.g. 2030-12-01"
_CLOCK_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", re.ASCII)
_CLOCK_HELP = "write HH:MM or HH:MM:SS from 00:00 to 23:59:59, e.g. 18:00 or 09:30"

# --------------------------------------------------------------------------- durations


def parse_duration(text: str) -> timedelta:
    """Return the exact elapsed time written as ``1d2h3m4s`` (units descending, each once)."""
    match = _DURATION_RE.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"{text!r} is not a duration{_duration_hint(text)}: {_DURATION_HELP}")
    parts = {unit: int(value) for unit, value in match.groupdict().items() if value}
    try:
        return timedelta(
            days=parts.get("d", 0),
            hours=parts.get("h", 0),
            minutes=parts.get("m", 0),
            seconds=parts.get("s", 0),
        )
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration: {_DURATION_HELP}") from None


def _duration_hint(text: str) -> str:
    """Return a parenthesised hint for a common mistake in a duration, or ``""``."""
    if text.startswith("-"):
        return " (durations are never negative)"
    if "." in text or "," in text:
        return " (use whole numbers, e.g. 1h30m for an hour and a half)"
    if text != text.strip() or " " in text:
        return " (no spaces)"
    if re.fullmatch(r"[0-9]+", text, re.ASCII):
        return " (a bare number has no unit)"
    if text != text.lower():
        return " (units are lower-case: d, h, m, s)"
    if re.fullmatch(r"(?:[0-9]+[dhms])+", text, re.ASCII):
        return " (each unit at most once, in the order d, h, m, s)"
    return ""


def format_duration(td: timedelta) -> str:
    """Return ``td`` written as :func:`parse_duration` reads it (``1h30m``, ``0s``, ``1d``)."""
    if td < timedelta(0):
        return "-" + format_duration(-td)
    seconds, micros = divmod(td // timedelta(microseconds=1), 1_000_000)
    out = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    if micros:
        whole = out.pop()[:-1] if out and out[-1].endswith("s") else "0"
        out.append(f"{whole}.{micros:06d}".rstrip("0") + "s")
    return "".join(out) or "0s"


# --------------------------------------------------------------------------- time zones


@functools.lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Return every IANA zone name that the pinned ``tzdata`` package provides."""
    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@functools.cache
def load_zone(name: str) -> ZoneInfo:
    """Return the zone ``name`` built from the ``tzdata`` package (never the system's files)."""
    if not _ZONE_NAME_RE.fullmatch(name):
        raise ValueError(f"unknown time zone {name!r}: {_ZONE_HELP}")
    if name not in zone_names():
        raise ValueError(f"unknown time zone {name!r}{_zone_suggestion(name)}")
    resource = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with resource.open("rb") as fp:
        return ZoneInfo.from_file(fp, key=name)


def _zone_suggestion(name: str) -> str:
    """Return `` (did you mean 'X'?)`` for the known zone closest to ``name``, or a hint."""
    names = sorted(zone_names())
    folded = name.casefold()
    same_case = [zone for zone in names if zone.casefold() == folded]
    by_city = [zone for zone in names if zone.rsplit("/", 1)[-1].casefold() == folded]
    close = difflib.get_close_matches(name, names, n=1)
    for found in (same_case, by_city, close):
        if found:
            return f" (did you mean {found[0]!r}?)"
    return f": {_ZONE_HELP}"


# --------------------------------------------------------------------------- parsing


def parse_datetime(text: str) -> datetime:
    """Return the ISO 8601 date-time ``text``: aware with its offset or ``Z``, else naive."""
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date-time: {_DATETIME_HELP}")
    fields = match.groupdict()
    try:
        day = date.fromisoformat(fields["date"])
        clock = time(
            int(fields["hour"]),
            int(fields["minute"]),
            int(fields["second"] or 0),
            int((fields["frac"] or "0").ljust(6, "0")),
        )
        return datetime.combine(day, clock, tzinfo=_written_offset(fields))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time ({exc}): {_DATETIME_HELP}") from None


def _written_offset(fields: dict[str, str | None]) -> timezone | None:
    """Return the fixed offset written in a date-time's fields, or None when there is none."""
    if fields["utc"]:
        return UTC
    if not fields["sign"]:
        return None
    hours, minutes = int(fields["oh"] or 0), int(fields["om"] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {fields['sign']}{fields['oh']}:{fields['om']} is out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if fields["sign"] == "-" else offset)


def parse_date(text: str) -> date:
    """Return the calendar date written ``YYYY-MM-DD``."""
    if not _DATE_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date: {_DATE_HELP}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date ({exc}): {_DATE_HELP}") from None


def parse_clock(text: str) -> time:
    """Return the wall-clock time written ``HH:MM`` or ``HH:MM:SS`` (the hour may be 1 digit)."""
    match = _CLOCK_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day: {_CLOCK_HELP}")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day (out of range): {_CLOCK_HELP}")
    return time(hour, minute, second)


# --------------------------------------------------------------------------- DST policy


class NonexistentTimeError(ValueError):
    """A naive wall time that the zone skips (a DST gap); ``choices`` are the two readings."""

    def __init__(self, wall: datetime, zone: ZoneInfo, choices: tuple[datetime, datetime]):
        self.choices = choices
        before, after = _clocks_at_transition(wall, zone)
        super().__init__(
            f"{_wall(wall)} does not exist in {zone.key} (clocks jump from {before} to {after}):"
            f" write {_iso(choices[0])} or {_iso(choices[1])}"
        )


class AmbiguousTimeError(ValueError):
    """A naive wall time that the zone shows twice (a DST overlap); ``choices`` are both."""

    def __init__(self, wall: datetime, zone: ZoneInfo, choices: tuple[datetime, datetime]):
        self.choices = choices
        before, after = _clocks_at_transition(wall, zone)
        super().__init__(
            f"{_wall(wall)} happens twice in {zone.key} (clocks go back from {before} to"
            f" {after}): write {_iso(choices[0])} or {_iso(choices[1])}"
        )


def localize_strict(naive: datetime, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of the naive wall time ``naive`` in ``zone``.

    Raises :class:`NonexistentTimeError` in a DST gap and :class:`AmbiguousTimeError` in an
    overlap, both carrying the two valid readings.
    """
    if naive.tzinfo is not None:
        raise ValueError(f"{naive.isoformat()} already has an offset; expected a naive time")
    first, second = (to_utc(naive.replace(tzinfo=zone, fold=fold)) for fold in (0, 1))
    if first == second:
        return first
    choices = _sorted_pair(first.astimezone(zone), second.astimezone(zone))
    if first.astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentTimeError(naive, zone, choices)
    raise AmbiguousTimeError(naive, zone, choices)


def slot_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of a slot: a gap time moves forward by the gap, an overlap time
    is its first occurrence (RFC 5545; Python's ``fold=0`` reading is exactly this)."""
    return to_utc(datetime.combine(day, clock, tzinfo=zone).replace(fold=0))


def offset_mismatch(at: datetime, zone: ZoneInfo) -> timedelta | None:
    """Return the zone's real UTC offset at ``at`` when it differs from ``at``'s written one."""
    written = _require_aware(at, "offset_mismatch").utcoffset()
    real = at.astimezone(zone).utcoffset()
    return real if real != written else None


def _sorted_pair(a: datetime, b: datetime) -> tuple[datetime, datetime]:
    """Return the aware datetimes ``a`` and ``b`` in order of their instants."""
    return (a, b) if to_utc(a) <= to_utc(b) else (b, a)


def _clocks_at_transition(wall: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """Return the wall clocks just before and at the transition that makes ``wall`` odd."""
    before, after = (_utcoffset(wall.replace(tzinfo=zone, fold=fold)) for fold in (0, 1))
    naive_utc = wall.replace(tzinfo=UTC)
    low = math.floor((naive_utc - max(before, after)).timestamp())
    high = math.ceil((naive_utc - min(before, after)).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        at = datetime.fromtimestamp(middle, UTC)
        low, high = (middle, high) if _utcoffset(at.astimezone(zone)) == before else (low, middle)
    moment = datetime.fromtimestamp(high, UTC).replace(tzinfo=None)
    return _clock_on(moment + before, wall.date()), _clock_on(moment + after, wall.date())


# --------------------------------------------------------------------------- formatting


def to_utc(dt: datetime) -> datetime:
    """Return the aware ``dt`` as the same instant in UTC."""
    return _require_aware(dt, "to_utc").astimezone(UTC)


def format_utc(dt: datetime) -> str:
    """Return ``dt`` as ``2030-12-01T17:00:00Z`` (microseconds only when there are some)."""
    return _iso(to_utc(dt).replace(tzinfo=None)) + "Z"


def format_local(dt: datetime, zone: ZoneInfo) -> str:
    """Return ``dt`` in ``zone`` as ``2030-12-01 18:00 +01:00`` (seconds only when non-zero)."""
    local = to_utc(dt).astimezone(zone)
    return f"{_wall(local)} {_offset(_utcoffset(local))}"


def floor_month(dt: datetime) -> str:
    """Return the UTC month of the aware ``dt`` as ``YYYY-MM``."""
    return to_utc(dt).strftime("%Y-%m")


def _require_aware(dt: datetime, what: str) -> datetime:
    """Return ``dt`` when it carries an offset; raise ValueError naming ``what`` otherwise."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} needs a date-time with an offset, got {dt.isoformat()}")
    return dt


def _utcoffset(dt: datetime) -> timedelta:
    """Return the UTC offset of the aware ``dt``."""
    return dt.utcoffset() or timedelta(0)


def _iso(dt: datetime) -> str:
    """Return ISO 8601 with seconds, and microseconds only when there are some."""
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")


def _clock(dt: datetime | time) -> str:
    """Return ``HH:MM``, or ``HH:MM:SS`` when the seconds are not zero."""
    return f"{dt:%H:%M:%S}" if dt.second else f"{dt:%H:%M}"


def _clock_on(dt: datetime, day: date) -> str:
    """Return the clock of ``dt``, preceded by its date when that is not ``day``."""
    return _clock(dt) if dt.date() == day else _wall(dt)


def _wall(dt: datetime) -> str:
    """Return the wall date and clock of ``dt`` as ``2030-12-01 18:00``."""
    return f"{dt:%Y-%m-%d} {_clock(dt)}"


def _offset(offset: timedelta) -> str:
    """Return a UTC offset as ``+01:00`` (``+00:09:21`` when it has seconds)."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes, seconds = divmod(int(abs(offset).total_seconds()), 60)
    text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{text}:{seconds:02d}" if seconds else text
