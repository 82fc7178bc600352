"""Schedules and their firings: when a schedule fires next, and whether one is due now.

Two kinds of schedule:

- :class:`CronSchedule`: a five-field cron expression read in an IANA time zone (an
  export's own schedule).
- :class:`RefreshSchedule`: the system refresh, every day or on some weekdays, at one to
  four times of day (``HH:MM``), in an IANA time zone.

Times are computed by cronsim (it follows Debian cron across daylight-saving changes) in
the zone from :mod:`zoneinfo` (the ``tzdata`` package supplies zones where the system has
none). Every firing is an instant, returned in UTC; :func:`local` shows it in the
schedule's zone. The rules (docs/schedules.md):

- A time of day that does not exist on a spring-forward day (02:30 in Berlin) fires at
  the first valid instant after the gap (03:00); a time that happens twice on a
  fall-back day fires once, the first time. So a daily schedule fires exactly once on
  every local date.
- Two times that land on the same instant (02:30 and 03:00 on that spring day) fire once.
- :func:`due` fires at most once however many firings were missed (a worker that was
  down a day catches up once, with the latest missed firing).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from segport.errors import Invalid

__all__ = [
    "MAX_TIMES",
    "WEEKDAYS",
    "CronSchedule",
    "Due",
    "RefreshSchedule",
    "Schedule",
    "due",
    "firings",
    "local",
    "next_firings",
    "parse_cron",
    "parse_time",
    "parse_times",
    "parse_timezone",
    "parse_weekdays",
    "zone",
]

# Weekdays as users type them and segport stores them, in the week's order.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# cron counts Sunday as 0
_CRON_DAY = {day: str((i + 1) % 7) for i, day in enumerate(WEEKDAYS)}
MAX_TIMES = 4  # the platform's limit for the system refresh
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


# -- validation --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The time zone named ``name`` (IANA, e.g. ``Europe/Berlin``); else :class:`Invalid`."""
    if _ZONE_NAME.match(name) and name not in ("localtime", "posixrules"):
        try:
            return ZoneInfo(name)
        # ZoneInfoNotFoundError is a KeyError; a folder ("Europe") or a file that is not
        # a zone raises OSError or ValueError
        except (KeyError, OSError, ValueError):
            pass
    raise Invalid(
        f"unknown time zone {name!r}{_zone_hint(name)}: use an IANA name such as "
        "Europe/Amsterdam, America/New_York or UTC",
        code="timezone_invalid",
        field="timezone",
    )


def _zone_hint(name: str) -> str:
    from zoneinfo import available_timezones

    folded = name.strip().casefold().replace(" ", "_")
    same = sorted(z for z in available_timezones() if z.casefold() == folded)
    return f" (did you mean {same[0]!r}? names are case-sensitive)" if same else ""


def parse_timezone(name: str) -> str:
    """``name`` checked as an IANA time zone (surrounding spaces dropped)."""
    name = name.strip()
    zone(name)
    return name


def parse_time(value: str | time) -> time:
    """A time of day from ``HH:MM`` (24-hour clock; ``8:30`` is 08:30)."""
    if isinstance(value, time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise Invalid(
                f"a time of day is whole minutes with no zone of its own (got {value})",
                code="time_invalid",
                field="times",
            )
        return value
    match = _HHMM.match(value.strip())
    if not match:
        raise Invalid(
            f"{value!r} is not a time of day: use HH:MM on the 24-hour clock, e.g. 08:30 or 14:00",
            code="time_invalid",
            field="times",
        )
    return time(int(match.group(1)), int(match.group(2)))


def parse_times(values: Iterable[str | time]) -> tuple[time, ...]:
    """One to four distinct times of day, sorted."""
    times = [parse_time(v) for v in values]
    if not times:
        raise Invalid("give at least one time of day (HH:MM)", code="times_missing", field="times")
    if len(times) > MAX_TIMES:
        raise Invalid(
            f"at most {MAX_TIMES} times a day (got {len(times)}: "
            f"{', '.join(t.strftime('%H:%M') for t in times)})",
            code="too_many_times",
            field="times",
        )
    twice = sorted({t for t in times if times.count(t) > 1})
    if twice:
        raise Invalid(
            f"{', '.join(t.strftime('%H:%M') for t in twice)} is given twice: give each time "
            "of day once",
            code="time_repeated",
            field="times",
        )
    return tuple(sorted(times))


def parse_weekdays(value: str | Iterable[str]) -> tuple[str, ...]:
    """Weekdays from ``mon,thu`` (or full names, any case), in the week's order."""
    items = value.split(",") if isinstance(value, str) else list(value)
    days: set[str] = set()
    for item in items:
        word = item.strip().lower()
        if word in WEEKDAYS:
            days.add(word)
        elif word in _FULL_NAMES:
            days.add(WEEKDAYS[_FULL_NAMES.index(word)])
        else:
            raise Invalid(
                f"unknown weekday {item.strip()!r}: use mon, tue, wed, thu, fri, sat or sun, "
                "separated by commas (e.g. mon,thu)",
                code="weekday_invalid",
                field="days",
            )
    if not days:
        raise Invalid(
            "give at least one weekday (e.g. mon,thu)", code="weekdays_missing", field="days"
        )
    return tuple(d for d in WEEKDAYS if d in days)


def parse_cron(expression: str) -> str:
    """A five-field cron expression (minute hour day-of-month month day-of-week) that
    fires at least once; else :class:`Invalid` saying which field is wrong."""
    expression = " ".join(expression.split())
    fields = expression.split(" ") if expression else []
    if len(fields) != 5:
        raise Invalid(
            f"a cron expression has five fields (minute hour day-of-month month "
            f"day-of-week), e.g. '0 6 * * 1-5'; {expression!r} has {len(fields)}",
            code="cron_invalid",
            field="cron",
        )
    try:
        next(CronSim(expression, datetime.now(UTC)))
    except CronSimError as exc:
        raise Invalid(
            f"bad cron expression {expression!r}: {str(exc).lower()} field (fields are "
            "minute hour day-of-month month day-of-week, e.g. '0 6 * * 1-5')",
            code="cron_invalid",
            field="cron",
        ) from None
    except StopIteration:
        raise Invalid(
            f"the cron expression {expression!r} never fires", code="cron_never", field="cron"
        ) from None
    return expression


# -- schedules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression read in a time zone (checked when made)."""

    expression: str
    timezone: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "timezone", parse_timezone(self.timezone))
        object.__setattr__(self, "expression", parse_cron(self.expression))

    def expressions(self) -> tuple[str, ...]:
        return (self.expression,)


@dataclass(frozen=True)
class RefreshSchedule:
    """The system refresh: on ``days`` (all seven: daily) at ``times`` in ``timezone``.

    Made with strings as users type them (``RefreshSchedule(("08:30",), "Europe/Paris",
    "mon,thu")``) or with parsed values; either way checked and normalised when made.
    """

    times: tuple[time, ...]
    timezone: str
    days: tuple[str, ...] = WEEKDAYS

    def __init__(
        self,
        times: Iterable[str | time],
        timezone: str,
        days: str | Iterable[str] = WEEKDAYS,
    ) -> None:
        object.__setattr__(self, "times", parse_times(times))
        object.__setattr__(self, "timezone", parse_timezone(timezone))
        object.__setattr__(self, "days", parse_weekdays(days))

    @property
    def daily(self) -> bool:
        return self.days == WEEKDAYS

    def describe(self) -> str:
        """``daily at 08:30, 14:00 in Europe/Paris`` or ``every mon, thu at 08:30 in UTC``."""
        when = "daily" if self.daily else "every " + ", ".join(self.days)
        at = ", ".join(t.strftime("%H:%M") for t in self.times)
        return f"{when} at {at} in {self.timezone}"

    def expressions(self) -> tuple[str, ...]:
        """One fixed-time cron expression per time of day: cronsim applies its DST rules
        to each, which a combined expression (``30,0 2,14``) would mix up."""
        dow = "*" if self.daily else ",".join(_CRON_DAY[d] for d in self.days)
        return tuple(f"{t.minute} {t.hour} * * {dow}" for t in self.times)


Schedule = CronSchedule | RefreshSchedule


# -- firings -----------------------------------------------------------------------------


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (got a naive {value.isoformat()})")
    return value.astimezone(UTC)


def _stream(expression: str, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    # Starting in the second pass of a repeated hour, cronsim (which steps through wall
    # times there) can name the first pass again: those instants are not after `after`.
    for fired in CronSim(expression, after.astimezone(tz)):
        at = fired.astimezone(UTC)
        if at > after:
            yield at


def firings(schedule: Schedule, after: datetime) -> Iterator[datetime]:
    """Every firing strictly after ``after``, in order, as UTC instants (endless unless
    the expression stops within cronsim's 50-year horizon)."""
    after = _utc(after, "after")
    tz = zone(schedule.timezone)
    merged = heapq.merge(*(_stream(e, tz, after) for e in schedule.expressions()))
    last: datetime | None = None
    for at in merged:
        # Strictly increasing: two times of day that land on one instant (a spring-forward
        # gap moves 02:30 onto 03:00) fire once.
        if last is None or at > last:
            last = at
            yield at


def next_firings(schedule: Schedule, after: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` firings strictly after ``after`` (UTC instants)."""
    if count < 1:
        raise ValueError(f"count must be 1 or more (got {count})")
    return list(islice(firings(schedule, after), count))


def local(schedule: Schedule, at: datetime) -> datetime:
    """``at`` on the schedule's own clock."""
    return _utc(at, "at").astimezone(zone(schedule.timezone))


@dataclass(frozen=True)
class Due:
    """A firing to act on now. ``at`` is the latest scheduled instant not after now (what
    the worker records as fired); ``earliest`` the first one missed since the last firing.
    When they differ, several firings were missed and are caught up by this one."""

    at: datetime
    earliest: datetime

    @property
    def caught_up(self) -> bool:
        return self.earliest < self.at


# How far back :func:`due` looks for the latest firing before reading every firing since
# the last one: a frequent schedule finds it in the first window, a rare one in a later.
_WINDOWS = (
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=8),
    timedelta(days=32),
    timedelta(days=367),
)


def due(schedule: Schedule, last_fired: datetime, now: datetime) -> Due | None:
    """The one firing to act on now, or None when nothing is due.

    ``last_fired`` is the instant the schedule last fired (as :attr:`Due.at` said); when
    it never fired, or was changed after it last fired, pass when it was set. Firings in
    ``(last_fired, now]`` are due; however many there are, one :class:`Due` comes back,
    for the latest, so a worker down for a day fires once, not once per missed firing.
    """
    last_fired = _utc(last_fired, "last_fired")
    now = _utc(now, "now")
    earliest = next(firings(schedule, last_fired), None)
    if earliest is None or earliest > now:
        return None
    for window in _WINDOWS:
        start = now - window
        if start <= earliest:
            break
        latest = _last_until(schedule, start, now)
        if latest is not None:
            return Due(at=latest, earliest=earliest)
    return Due(at=_last_until(schedule, last_fired, now) or earliest, earliest=earliest)


def _last_until(schedule: Schedule, after: datetime, until: datetime) -> datetime | None:
    latest = None
    for at in firings(schedule, after):
        if at > until:
            break
        latest = at
    return latest
