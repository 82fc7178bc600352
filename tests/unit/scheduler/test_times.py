"""Firings of schedules across time zones and daylight-saving changes, catch-up once, and
the messages of bad input. Expected instants are written out in UTC from the zones' rules
(the tz database), not computed by the code under test."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.errors import Invalid
from segport.scheduler.times import (
    CronSchedule,
    Due,
    RefreshSchedule,
    due,
    firings,
    local,
    next_firings,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(instants: list[datetime]) -> list[str]:
    return [i.strftime("%Y-%m-%d %H:%M") for i in instants]


def local_iso(schedule: RefreshSchedule | CronSchedule, instants: list[datetime]) -> list[str]:
    return [local(schedule, i).isoformat() for i in instants]


# -- daylight saving ---------------------------------------------------------------------


def test_berlin_spring_forward_fires_once_at_the_first_valid_instant() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
    daily = RefreshSchedule(["02:30"], "Europe/Berlin")
    fired = next_firings(daily, utc("2026-03-27 12:00"), 4)
    assert iso(fired) == [
        "2026-03-28 01:30",  # 02:30 CET
        "2026-03-29 01:00",  # 03:00 CEST, right after the gap
        "2026-03-30 00:30",  # 02:30 CEST
        "2026-03-31 00:30",
    ]
    assert local_iso(daily, fired)[1] == "2026-03-29T03:00:00+02:00"


def test_berlin_fall_back_fires_once_the_first_time() -> None:
    # 2026-10-25: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
    daily = RefreshSchedule(["02:30"], "Europe/Berlin")
    fired = next_firings(daily, utc("2026-10-23 12:00"), 4)
    assert iso(fired) == [
        "2026-10-24 00:30",
        "2026-10-25 00:30",  # 02:30 CEST, the first of the two
        "2026-10-26 01:30",  # 02:30 CET
        "2026-10-27 01:30",
    ]


def test_starting_inside_the_repeated_hour_does_not_fire_its_first_pass_again() -> None:
    daily = RefreshSchedule(["02:30"], "Europe/Berlin")
    # 01:15Z is 02:15 CET, the second pass; 02:30 CEST (00:30Z) has already fired.
    assert iso(next_firings(daily, utc("2026-10-25 01:15"), 1)) == ["2026-10-26 01:30"]
    # Just before the first pass, it comes once.
    assert iso(next_firings(daily, utc("2026-10-25 00:29"), 2)) == [
        "2026-10-25 00:30",
        "2026-10-26 01:30",
    ]


def test_new_york_both_change_days() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    daily = RefreshSchedule(["02:30", "01:30"], "America/New_York")
    assert iso(next_firings(daily, utc("2026-03-07 12:00"), 4)) == [
        "2026-03-08 06:30",  # 01:30 EST
        "2026-03-08 07:00",  # 02:30 does not exist: 03:00 EDT
        "2026-03-09 05:30",  # 01:30 EDT
        "2026-03-09 06:30",
    ]
    assert iso(next_firings(daily, utc("2026-10-31 12:00"), 4)) == [
        "2026-11-01 05:30",  # 01:30 EDT, the first of the two 01:30s
        "2026-11-01 07:30",  # 02:30 EST
        "2026-11-02 06:30",
        "2026-11-02 07:30",
    ]


def test_two_times_that_meet_in_the_gap_fire_once() -> None:
    both = RefreshSchedule(["02:30", "03:00"], "Europe/Berlin")
    fired = next_firings(both, utc("2026-03-28 12:00"), 3)
    assert local_iso(both, fired) == [
        "2026-03-29T03:00:00+02:00",  # 02:30 moved onto 03:00: one firing
        "2026-03-30T02:30:00+02:00",
        "2026-03-30T03:00:00+02:00",
    ]


def test_half_hour_offset_without_dst_kolkata() -> None:
    daily = RefreshSchedule(["08:30", "00:00"], "Asia/Kolkata")  # +05:30 all year
    assert iso(next_firings(daily, utc("2026-06-01 00:00"), 3)) == [
        "2026-06-01 03:00",
        "2026-06-01 18:30",  # 00:00 IST on June 2nd
        "2026-06-02 03:00",
    ]


def test_half_hour_offset_with_dst_adelaide() -> None:
    # +10:30 (ACDT) until 2026-04-05 03:00 -> 02:00 ACST (+09:30); back on 2026-10-04
    # 02:00 -> 03:00.
    daily = RefreshSchedule(["02:30"], "Australia/Adelaide")
    assert iso(next_firings(daily, utc("2026-04-03 00:00"), 3)) == [
        "2026-04-03 16:00",  # 2026-04-04 02:30 ACDT
        "2026-04-04 16:00",  # 2026-04-05 02:30 ACDT, the first of the two
        "2026-04-05 17:00",  # 2026-04-06 02:30 ACST
    ]
    fired = next_firings(daily, utc("2026-10-02 00:00"), 3)
    assert local_iso(daily, fired) == [
        "2026-10-03T02:30:00+09:30",
        "2026-10-04T03:00:00+10:30",  # 02:30 does not exist
        "2026-10-05T02:30:00+10:30",
    ]


def test_lord_howe_thirty_minute_dst_shift() -> None:
    # Lord Howe moves its clocks by half an hour: 2026-10-04 02:00 -> 02:30 (+10:30 ->
    # +11:00); 2026-04-05 02:00 -> 01:30 (+11:00 -> +10:30).
    daily = RefreshSchedule(["02:15"], "Australia/Lord_Howe")
    fired = next_firings(daily, utc("2026-10-02 12:00"), 3)
    assert local_iso(daily, fired) == [
        "2026-10-03T02:15:00+10:30",
        "2026-10-04T02:30:00+11:00",  # 02:15 falls in the gap
        "2026-10-05T02:15:00+11:00",
    ]
    early = RefreshSchedule(["01:45"], "Australia/Lord_Howe")
    fired = next_firings(early, utc("2026-04-03 12:00"), 3)
    assert local_iso(early, fired) == [
        "2026-04-04T01:45:00+11:00",
        "2026-04-05T01:45:00+11:00",  # happens twice: the first
        "2026-04-06T01:45:00+10:30",
    ]


def test_cron_schedule_in_a_zone_and_an_interval_across_the_change() -> None:
    weekdays = CronSchedule("0 6 * * 1-5", "Europe/Paris")
    # Friday 2026-03-27 .. Tuesday 2026-03-31; the clocks change on Sunday the 29th.
    assert iso(next_firings(weekdays, utc("2026-03-27 00:00"), 3)) == [
        "2026-03-27 05:00",
        "2026-03-30 04:00",
        "2026-03-31 04:00",
    ]
    # Every 30 minutes is every 30 real minutes, through the repeated hour too.
    every = CronSchedule("*/30 * * * *", "Europe/Berlin")
    assert iso(next_firings(every, utc("2026-10-24 23:50"), 5)) == [
        "2026-10-25 00:00",
        "2026-10-25 00:30",
        "2026-10-25 01:00",
        "2026-10-25 01:30",
        "2026-10-25 02:00",
    ]


# -- days and times ----------------------------------------------------------------------


def test_weekly_on_given_days_four_times_a_day() -> None:
    schedule = RefreshSchedule(
        ["18:00", "08:30", "12:00", "06:15"], "Europe/Amsterdam", "thu,Monday"
    )
    assert schedule.days == ("mon", "thu") and not schedule.daily
    assert [t.strftime("%H:%M") for t in schedule.times] == ["06:15", "08:30", "12:00", "18:00"]
    assert schedule.describe() == "every mon, thu at 06:15, 08:30, 12:00, 18:00 in Europe/Amsterdam"
    # From Tuesday 2026-06-02: Thursday the 4th, then Monday the 8th (CEST, +02:00).
    fired = next_firings(schedule, utc("2026-06-02 00:00"), 6)
    assert local_iso(schedule, fired) == [
        "2026-06-04T06:15:00+02:00",
        "2026-06-04T08:30:00+02:00",
        "2026-06-04T12:00:00+02:00",
        "2026-06-04T18:00:00+02:00",
        "2026-06-08T06:15:00+02:00",
        "2026-06-08T08:30:00+02:00",
    ]


def test_daily_is_every_day_and_sunday_is_a_weekday_like_the_others() -> None:
    assert RefreshSchedule(["09:00"], "UTC").daily
    assert RefreshSchedule(["09:00"], "UTC", "sun,sat,fri,thu,wed,tue,mon").daily
    sunday = RefreshSchedule([time(9, 0)], "UTC", ["SUN"])
    assert iso(next_firings(sunday, utc("2026-06-01 00:00"), 2)) == [  # a Monday
        "2026-06-07 09:00",
        "2026-06-14 09:00",
    ]


def test_firings_are_strictly_after_the_instant_given() -> None:
    daily = RefreshSchedule(["08:30"], "UTC")
    assert iso(next_firings(daily, utc("2026-06-01 08:30"), 1)) == ["2026-06-02 08:30"]
    assert iso(next_firings(daily, utc("2026-06-01 08:29:59.999"), 1)) == ["2026-06-01 08:30"]
    assert next(firings(daily, utc("2026-06-01 00:00"))).tzinfo is UTC


# -- due: catch up once ------------------------------------------------------------------


def test_nothing_is_due_before_the_next_firing() -> None:
    daily = RefreshSchedule(["08:30"], "Europe/Berlin")
    assert due(daily, utc("2026-06-01 06:30"), utc("2026-06-02 06:29")) is None
    assert due(daily, utc("2026-06-01 06:30"), utc("2026-06-01 06:30")) is None


def test_one_firing_due_exactly_on_time() -> None:
    daily = RefreshSchedule(["08:30"], "Europe/Berlin")
    found = due(daily, utc("2026-06-01 06:30"), utc("2026-06-02 06:30"))
    assert found == Due(at=utc("2026-06-02 06:30"), earliest=utc("2026-06-02 06:30"))
    assert not found.caught_up


def test_a_worker_down_for_days_catches_up_once_with_the_latest_firing() -> None:
    schedule = RefreshSchedule(["08:30", "14:00"], "Europe/Berlin")
    # Last fired Monday 2026-06-01 14:00 CEST; back on Thursday at 10:00 CEST: six
    # firings were missed, one is due.
    found = due(schedule, utc("2026-06-01 12:00"), utc("2026-06-04 08:00"))
    assert found is not None and found.caught_up
    assert found.at == utc("2026-06-04 06:30")  # Thursday 08:30 CEST
    assert found.earliest == utc("2026-06-02 06:30")  # Tuesday 08:30 CEST
    # Recording `at` as fired, nothing more is due until the next one.
    assert due(schedule, found.at, utc("2026-06-04 11:59")) is None
    assert due(schedule, found.at, utc("2026-06-04 12:00")) == Due(
        utc("2026-06-04 12:00"), utc("2026-06-04 12:00")
    )


def test_catch_up_of_a_frequent_and_of_a_rare_schedule() -> None:
    every_minute = CronSchedule("* * * * *", "UTC")
    found = due(every_minute, utc("2026-01-01 00:00"), utc("2026-06-01 12:34:56"))
    assert found == Due(at=utc("2026-06-01 12:34"), earliest=utc("2026-01-01 00:01"))
    leap_day = CronSchedule("0 12 29 2 *", "Asia/Kolkata")
    found = due(leap_day, utc("2019-01-01 00:00"), utc("2026-06-01 00:00"))
    assert found == Due(at=utc("2024-02-29 06:30"), earliest=utc("2020-02-29 06:30"))


def test_due_needs_aware_instants() -> None:
    daily = RefreshSchedule(["08:30"], "UTC")
    with pytest.raises(ValueError, match="aware"):
        due(daily, datetime(2026, 6, 1), utc("2026-06-02 00:00"))
    with pytest.raises(ValueError, match="count"):
        next_firings(daily, utc("2026-06-01 00:00"), 0)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: RefreshSchedule(["08:30"], "Mars/Olympus"), "timezone", "'Mars/Olympus'"),
        (lambda: RefreshSchedule(["08:30"], "europe/paris"), "timezone", "'Europe/Paris'"),
        (lambda: RefreshSchedule(["08:30"], "../../etc/passwd"), "timezone", "IANA"),
        (lambda: RefreshSchedule(["08:30"], ""), "timezone", "unknown time zone"),
        (lambda: RefreshSchedule(["8h30"], "UTC"), "times", "'8h30' is not a time of day"),
        (lambda: RefreshSchedule(["24:00"], "UTC"), "times", "HH:MM"),
        (lambda: RefreshSchedule(["12:60"], "UTC"), "times", "HH:MM"),
        (lambda: RefreshSchedule([], "UTC"), "times", "at least one time"),
        (
            lambda: RefreshSchedule(["01:00", "02:00", "03:00", "04:00", "05:00"], "UTC"),
            "times",
            "at most 4 times a day (got 5",
        ),
        (lambda: RefreshSchedule(["08:30", "8:30"], "UTC"), "times", "08:30 is given twice"),
        (lambda: RefreshSchedule(["08:30"], "UTC", "mon,funday"), "days", "'funday'"),
        (lambda: RefreshSchedule(["08:30"], "UTC", ""), "days", "unknown weekday ''"),
        (lambda: RefreshSchedule(["08:30"], "UTC", []), "days", "at least one weekday"),
        (lambda: CronSchedule("0 6 * *", "UTC"), "cron", "five fields"),
        (lambda: CronSchedule("0 6 * * * *", "UTC"), "cron", "has 6"),
        (lambda: CronSchedule("0 25 * * *", "UTC"), "cron", "bad hour field"),
        (lambda: CronSchedule("0 6 * * mon-xyz", "UTC"), "cron", "bad day-of-week"),
        (lambda: CronSchedule("0 0 31 2 *", "UTC"), "cron", "day-of-month"),
        (lambda: CronSchedule("0 6 * * 1", "Nowhere"), "timezone", "'Nowhere'"),
    ],
)
def test_bad_input_names_its_field(make: object, field: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        make()  # type: ignore[operator]
    assert caught.value.field == field
    assert words in caught.value.message


# -- property: one firing per local date -------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
    "UTC",
]


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@functools.cache
def _change_days(tz: str) -> list[date]:
    """The dates of 2026 on which ``tz`` changes its offset (midnight to midnight)."""
    zone = ZoneInfo(tz)
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    return [
        d
        for d in days
        if datetime.combine(d, time(0), tzinfo=zone).utcoffset()
        != datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
        or datetime.combine(d, time(0), tzinfo=zone).dst()
        != datetime.combine(d, time(23, 59), tzinfo=zone).dst()
    ]


@st.composite
def daily_cases(draw: st.DrawFn) -> tuple[date, str, time]:
    """A zone, a date of 2026 (a change day half the time) and a time of day (near
    midnight or the small hours, where the changes are, half the time)."""
    tz = draw(st.sampled_from(ZONES))
    changes = _change_days(tz)
    if changes and draw(st.booleans()):
        day = draw(st.sampled_from(changes))
    else:
        day = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
    hour = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 23]), st.integers(0, 23)))
    return day, tz, time(hour, draw(st.integers(0, 59)))


def test_the_zones_of_the_property_do_change_their_clocks() -> None:
    changing = [tz for tz in ZONES if _change_days(tz)]
    assert len(changing) == len(ZONES) - 2  # all but Kolkata and UTC


@settings(max_examples=400, deadline=None)
@given(case=daily_cases())
def test_a_daily_schedule_fires_exactly_once_on_every_local_date(
    case: tuple[date, str, time],
) -> None:
    day, tz, at = case
    zone = ZoneInfo(tz)
    schedule = RefreshSchedule([at], tz)
    start = datetime.combine(day - timedelta(days=2), time(12), tzinfo=zone)
    fired = next_firings(schedule, start, 6)
    on_day = [local(schedule, f) for f in fired if local(schedule, f).date() == day]
    assert len(on_day) == 1, (day, tz, at, [f.isoformat() for f in fired])
    (when,) = on_day
    wall = datetime.combine(day, at, tzinfo=zone)
    if when.time() != at:
        # Only when the time does not exist that day, and then the first instant after it.
        assert not _exists(wall.replace(tzinfo=None), zone)
        assert when.time() > at
        before = when.replace(tzinfo=None) - timedelta(minutes=1)  # wall time, in the gap
        assert not _exists(before, zone)
    assert fired == sorted(set(fired))
