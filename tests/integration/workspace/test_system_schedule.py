"""The system refresh's schedule, stored in the workspace's metadata database, through the
service and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.fixtures.workspace import Cli

from segport.errors import Forbidden, Invalid
from segport.service import (
    FiringView,
    SystemScheduleView,
    actor_named,
    add_user,
    list_entries,
    set_system_schedule,
    show_system_schedule,
    to_json,
    turn_off_system_schedule,
)
from segport.service.workspace import Workspace


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def test_off_until_set_then_set_shown_and_turned_off(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    never = show_system_schedule(workspace, admin)
    assert not never.configured and not never.enabled and never.next_firings == []

    # Set on Saturday 2026-03-28 12:00Z; Berlin moves its clocks the next night.
    view = set_system_schedule(
        workspace,
        admin,
        times=["14:00", "02:30"],
        timezone="Europe/Berlin",
        now=utc("2026-03-28 12:00"),
    )
    assert view.configured and view.enabled and view.daily
    assert view.times == ["02:30", "14:00"] and view.timezone == "Europe/Berlin"
    assert view.updated_by == "admin" and view.updated_at == utc("2026-03-28 12:00")
    assert view.last_fired_at is None

    shown = show_system_schedule(workspace, admin, now=utc("2026-03-28 12:00"))
    assert shown == view  # what was stored is what was answered
    assert [(f.local.isoformat(), f.utc.isoformat()) for f in shown.next_firings] == [
        ("2026-03-28T14:00:00+01:00", "2026-03-28T13:00:00+00:00"),
        ("2026-03-29T03:00:00+02:00", "2026-03-29T01:00:00+00:00"),  # 02:30 does not exist
        ("2026-03-29T14:00:00+02:00", "2026-03-29T12:00:00+00:00"),
        ("2026-03-30T02:30:00+02:00", "2026-03-30T00:30:00+00:00"),
        ("2026-03-30T14:00:00+02:00", "2026-03-30T12:00:00+00:00"),
    ]

    off = turn_off_system_schedule(workspace, admin, now=utc("2026-03-28 13:00"))
    assert off.configured and not off.enabled and off.next_firings == []
    assert off.times == ["02:30", "14:00"]  # kept, to say what it was
    assert off.updated_at == utc("2026-03-28 13:00")
    # Off again changes nothing and logs nothing.
    again = turn_off_system_schedule(workspace, admin, now=utc("2026-03-28 14:00"))
    assert again.updated_at == utc("2026-03-28 13:00")

    weekly = set_system_schedule(
        workspace,
        admin,
        days="thu,mon",
        times=["08:30"],
        timezone="America/New_York",
        now=utc("2026-06-02 00:00"),  # a Tuesday
    )
    assert weekly.enabled and not weekly.daily and weekly.days == ["mon", "thu"]
    assert [f.utc for f in show_system_schedule(
        workspace, admin, now=utc("2026-06-02 00:00"), count=2
    ).next_firings] == [utc("2026-06-04 12:30"), utc("2026-06-08 12:30")]  # fmt: skip

    entries = list_entries(workspace, admin, limit=3)
    assert [(e.action, e.target) for e in entries] == [
        ("schedule.set", "system"),
        ("schedule.off", "system"),
        ("schedule.set", "system"),
    ]
    assert entries[0].details == {
        "days": "mon,thu",
        "times": "08:30",
        "timezone": "America/New_York",
    }
    assert entries[2].details["days"] == "mon,tue,wed,thu,fri,sat,sun"

    with workspace.session() as session:
        rows = session.execute(text("SELECT id, enabled, times FROM system_schedule")).all()
    assert [(r[0], bool(r[1]), r[2]) for r in rows] == [(1, True, "08:30")]


def test_the_view_is_json_with_local_and_utc_times(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    set_system_schedule(workspace, admin, times=["09:00"], timezone="Asia/Kolkata")
    data = to_json(show_system_schedule(workspace, admin, now=utc("2026-06-01 00:00"), count=1))
    assert isinstance(data, dict)
    assert data["next_firings"] == [
        {"local": "2026-06-01T09:00:00+05:30", "utc": "2026-06-01T03:30:00+00:00"}
    ]
    assert isinstance(show_system_schedule(workspace, admin).next_firings[0], FiringView)


def test_only_admins_set_or_turn_off_and_everyone_sees_it(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    add_user(workspace, admin, "carol", "contributor")
    add_user(workspace, admin, "vic", "viewer")
    for name in ("carol", "vic"):
        actor = actor_named(workspace, name)
        with pytest.raises(Forbidden, match=f"{name} is a .* may not set the system refresh"):
            set_system_schedule(workspace, actor, times=["08:00"], timezone="UTC")
        with pytest.raises(Forbidden, match="ask an admin"):
            turn_off_system_schedule(workspace, actor)
        assert not show_system_schedule(workspace, actor).configured
    set_system_schedule(workspace, admin, times=["08:00"], timezone="UTC")
    assert show_system_schedule(workspace, actor_named(workspace, "vic")).enabled
    assert [e.action for e in list_entries(workspace, admin, limit=1)] == ["schedule.set"]


def test_bad_input_changes_nothing(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    set_system_schedule(workspace, admin, times=["08:00"], timezone="UTC")
    for kwargs, field in (
        ({"times": ["08:00"], "timezone": "Moon/Tycho"}, "timezone"),
        ({"times": ["25:00"], "timezone": "UTC"}, "times"),
        ({"times": ["1:00", "2:00", "3:00", "4:00", "5:00"], "timezone": "UTC"}, "times"),
        ({"times": ["08:00"], "timezone": "UTC", "days": "mon,someday"}, "days"),
    ):
        with pytest.raises(Invalid) as caught:
            set_system_schedule(workspace, admin, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
    view = show_system_schedule(workspace, admin)
    assert view.times == ["08:00"] and view.timezone == "UTC" and view.daily
    with pytest.raises(Invalid, match="1 to 100"):
        show_system_schedule(workspace, admin, count=0)


def test_the_database_keeps_one_schedule(workspace: Workspace) -> None:
    admin = actor_named(workspace, None)
    set_system_schedule(workspace, admin, times=["08:00"], timezone="UTC")
    with pytest.raises(IntegrityError), workspace.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO system_schedule (id, enabled, days, times, timezone, updated_by, "
                "updated_at) VALUES (2, :t, 'mon', '08:00', 'UTC', 'x', :now)"
            ),
            {"t": True, "now": datetime.now(UTC)},
        )


# -- the command line --------------------------------------------------------------------


def test_schedule_commands(cli: Cli) -> None:
    out = cli("schedule", "show", ok=True).output
    assert "off: it was never set" in out and "segport schedule set" in out

    out = cli(
        "schedule", "set", "--weekly", "mon,thu", "--at", "08:30", "--at", "14:00",
        "--timezone", "Europe/Amsterdam", ok=True,
    ).output  # fmt: skip
    assert "on: every mon, thu at 08:30, 14:00 in Europe/Amsterdam" in out
    lines = out.splitlines()
    table = lines[lines.index("Next firings:") + 2 :]
    assert len(table) == 5
    assert all((" CET (+01:00) " in r or " CEST (+02:00) " in r) for r in table), table

    data = json.loads(cli("schedule", "show", "--json", ok=True).stdout)
    assert set(data) == {f.name for f in dataclasses.fields(SystemScheduleView)}
    assert data["enabled"] is True and data["days"] == ["mon", "thu"]
    assert data["times"] == ["08:30", "14:00"] and data["timezone"] == "Europe/Amsterdam"
    assert len(data["next_firings"]) == 5
    for firing in data["next_firings"]:
        local = datetime.fromisoformat(firing["local"])
        assert local.strftime("%a %H:%M") in {"Mon 08:30", "Mon 14:00", "Thu 08:30", "Thu 14:00"}
        assert local == datetime.fromisoformat(firing["utc"])
    assert len(json.loads(cli("schedule", "show", "--json", "--count", "7").stdout)[
        "next_firings"]) == 7  # fmt: skip

    out = cli("schedule", "off", ok=True).output
    assert "off; it was every mon, thu at 08:30, 14:00 in Europe/Amsterdam" in out
    out = cli("schedule", "show", ok=True).output
    assert "off; it was" in out and "Next firings" not in out and "turns it on again" in out

    out = cli("schedule", "set", "--daily", "--at", "07:00", "--timezone", "UTC", ok=True).output
    assert "on: daily at 07:00 in UTC" in out

    log = cli("audit", "--limit", "3", ok=True).output.splitlines()
    assert [line.split()[3] for line in log[1:]] == ["schedule.set", "schedule.off", "schedule.set"]


def test_schedule_bad_input_names_the_option(cli: Cli) -> None:
    def error(*args: str) -> str:
        result = cli("schedule", "set", *args, ok=False)
        return result.output

    out = error("--at", "08:00", "--timezone", "UTC")
    assert "give --daily or --weekly DAYS" in out
    assert "not both" in error("--daily", "--weekly", "mon", "--at", "08:00", "--timezone", "UTC")
    out = error("--daily", "--at", "8h", "--timezone", "UTC")
    assert "'8h' is not a time of day" in out and "(option: --at HH:MM)" in out
    out = error("--daily", "--at", "08:00", "--timezone", "europe/paris")
    assert "did you mean 'Europe/Paris'" in out and "(option: --timezone ZONE)" in out
    out = error("--weekly", "mon,noday", "--at", "08:00", "--timezone", "UTC")
    assert "unknown weekday 'noday'" in out and "(option: --weekly DAYS)" in out
    at = [a for t in ("01:00", "02:00", "03:00", "04:00", "05:00") for a in ("--at", t)]
    out = error("--daily", *at, "--timezone", "UTC")
    assert "at most 4 times a day" in out and "(option: --at HH:MM)" in out
    assert "Missing option '--timezone'" in error("--daily", "--at", "08:00")
    # Nothing was set by any of them.
    assert "never set" in cli("schedule", "show", ok=True).output

    cli("users", "add", "vic", "--role", "viewer", ok=True)
    out = cli(
        "schedule", "set", "--daily", "--at", "08:00", "--timezone", "UTC", actor="vic", ok=False
    ).output
    assert "vic is a viewer and may not set the system refresh's schedule" in out
    assert "may not" in cli("schedule", "off", actor="vic", ok=False).output
    assert "never set" in cli("schedule", "show", actor="vic", ok=True).output
