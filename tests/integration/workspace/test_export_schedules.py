"""Exports' own schedules (cron, the system refresh, manual) through the service and the
CLI, their next firing in `exports show` and `exports list`, and what the worker fires,
on SQLite and PostgreSQL. Every time is an explicit `now`: nothing sleeps."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests.fixtures.workspace import Cli

from segport.brevo.sandbox import SandboxServer
from segport.errors import Forbidden, Invalid
from segport.service import (
    ExportConfig,
    ExportEdit,
    ExportMapping,
    NextFiring,
    ScheduledExport,
    actor_named,
    add_export,
    add_user,
    connections,
    due_export_schedules,
    edit_export,
    list_entries,
    list_exports,
    record_export_firing,
    schedule_export,
    set_system_schedule,
    show_export,
    to_json,
    turn_off_system_schedule,
)
from segport.service.workspace import Workspace


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@pytest.fixture
def ws(profiled_workspace: Workspace, sandbox: SandboxServer) -> Workspace:
    """Users of every role, a private and a shared connection, and two exports on the
    shared one (`news`, `promo`) and one on the private one (`private`)."""
    ws = profiled_workspace
    admin = actor_named(ws, None)
    add_user(ws, admin, "carol", "contributor")
    add_user(ws, admin, "vic", "viewer")
    for name, share in (("private", False), ("shared", True)):
        connections.add_connection(
            ws, admin, name, "brevo", sandbox.api_key, agree_privacy=True,
            base_url=sandbox.base_url, share_with_contributors=share,
        )  # fmt: skip
    for name, connection in (("news", "shared"), ("promo", "shared"), ("private", "private")):
        list_id = sandbox.state.create_list(f"list {name} {id(ws)}")
        config = ExportConfig(name, connection, list_id, ("gb",), ExportMapping("email"))
        add_export(ws, admin, config)
    return ws


def _row(ws: Workspace, name: str) -> tuple[object, ...]:
    with ws.session() as session:
        row = session.execute(
            text("SELECT schedule, cron, timezone FROM exports WHERE name = :n"), {"n": name}
        ).one()
    return tuple(row)


# -- setting and showing -----------------------------------------------------------------


def test_cron_system_and_off_with_the_next_firing(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    assert show_export(ws, admin, "news").next_firing == NextFiring(
        "system", "with the system refresh, which is off"
    )
    # Set on Saturday 2026-03-28 12:00Z; Berlin moves its clocks the next night, so the
    # daily 02:30 fires at 03:00 local (01:00 UTC) on 2026-03-29.
    now = utc("2026-03-28 12:00")
    view = schedule_export(ws, admin, "news", cron="30 2 * * *", timezone="Europe/Berlin", now=now)
    c = view.config
    assert (c.schedule, c.cron, c.timezone) == ("cron", "30 2 * * *", "Europe/Berlin")
    firing = view.next_firing
    assert firing is not None and firing.kind == "cron" and firing.zone == "Europe/Berlin"
    assert firing.description == "30 2 * * * in Europe/Berlin"
    assert firing.at == utc("2026-03-29 01:00")
    assert firing.local is not None and firing.local.isoformat() == "2026-03-29T03:00:00+02:00"
    assert firing.last_fired_at is None
    assert show_export(ws, admin, "news", now=now) == view  # stored as answered
    assert _row(ws, "news") == ("cron", "30 2 * * *", "Europe/Berlin")
    # The day after: 02:30 exists again.
    later = show_export(ws, admin, "news", now=utc("2026-03-29 12:00")).next_firing
    assert later is not None and later.local is not None
    assert later.local.isoformat() == "2026-03-30T02:30:00+02:00"

    # list shows every export's next firing: the others follow the system refresh.
    listed = {v.config.name: v.next_firing for v in list_exports(ws, admin, now=now)}
    assert listed["news"] == firing
    assert listed["promo"] == NextFiring("system", "with the system refresh, which is off")
    set_system_schedule(ws, admin, times=["08:30"], timezone="Asia/Kolkata", now=now)
    promo = {v.config.name: v.next_firing for v in list_exports(ws, admin, now=now)}["promo"]
    assert promo is not None and promo.kind == "system" and promo.zone == "Asia/Kolkata"
    assert promo.at == utc("2026-03-29 03:00")  # 08:30 at +05:30
    assert promo.description == "with the system refresh (daily at 08:30 in Asia/Kolkata)"

    back = schedule_export(ws, admin, "news", "system", now=now)
    assert (back.config.schedule, back.config.cron, back.config.timezone) == ("system", None, None)
    assert back.next_firing is not None and back.next_firing.at == promo.at
    turn_off_system_schedule(ws, admin)
    off = schedule_export(ws, admin, "news", "manual", now=now)
    assert off.config.schedule == "manual"
    assert off.next_firing == NextFiring("manual", "manual: runs only on demand")
    assert _row(ws, "news") == ("manual", None, None)
    # Setting what is set already changes and logs nothing.
    schedule_export(ws, admin, "news", "manual", now=utc("2026-03-28 13:00"))

    entries = [e for e in list_entries(ws, admin, limit=10) if e.action == "exports.schedule"]
    assert [(e.target, e.details["schedule"]) for e in entries] == [
        ("news", "manual"),
        ("news", "system"),
        ("news", "cron"),
    ]
    assert entries[2].details == {
        "schedule": "cron",
        "cron": "30 2 * * *",
        "timezone": "Europe/Berlin",
        "was": "system",
    }


def test_the_views_json_has_the_next_firing_as_instants_and_a_zone(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    now = utc("2026-06-01 00:00")
    schedule_export(ws, admin, "news", cron="0 6 * * 1-5", timezone="Europe/Paris", now=now)
    data = to_json(show_export(ws, admin, "news", now=now))
    assert isinstance(data, dict)
    assert data["config"]["schedule"] == "cron"
    assert (data["config"]["cron"], data["config"]["timezone"]) == ("0 6 * * 1-5", "Europe/Paris")
    assert data["next_firing"] == {
        "kind": "cron",
        "description": "0 6 * * 1-5 in Europe/Paris",
        "at": "2026-06-01T04:00:00+00:00",  # a Monday; Paris is at +02:00 in June
        "local": "2026-06-01T06:00:00+02:00",
        "zone": "Europe/Paris",
        "last_fired_at": None,
    }
    manual = to_json(schedule_export(ws, admin, "promo", "manual", now=now))
    assert isinstance(manual, dict)
    assert manual["next_firing"]["at"] is None and manual["next_firing"]["zone"] is None


def test_bad_schedules_name_their_field_and_change_nothing(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    schedule_export(ws, admin, "news", cron="0 6 * * *", timezone="UTC")
    cases = [
        ({"cron": "0 25 * * *", "timezone": "UTC"}, "cron", "bad cron expression '0 25 * * *'"),
        ({"cron": "0 6 * *", "timezone": "UTC"}, "cron", "has 4"),
        ({"cron": "0 0 30 2 *", "timezone": "UTC"}, "cron", "bad day-of-month field"),
        ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"cron": "0 6 * * *", "timezone": "europe/paris"}, "timezone", "'Europe/Paris'"),
        ({"cron": "0 6 * * *"}, "timezone", "needs the time zone"),
        ({"cron": " ", "timezone": "UTC"}, "cron", "needs its cron expression"),
        ({"schedule": "system", "cron": "0 6 * * *"}, "cron", "not for schedule system"),
        ({"schedule": "manual", "timezone": "UTC"}, "timezone", "not for schedule manual"),
        ({"schedule": "hourly"}, "schedule", "the schedule 'hourly' is not known"),
    ]
    for kwargs, field, message in cases:
        with pytest.raises(Invalid) as caught:
            schedule_export(ws, admin, "news", **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field, kwargs
        assert message in str(caught.value), (kwargs, str(caught.value))
    assert _row(ws, "news") == ("cron", "0 6 * * *", "UTC")


def test_who_may_schedule_an_export(ws: Workspace) -> None:
    carol, vic = actor_named(ws, "carol"), actor_named(ws, "vic")
    with pytest.raises(Forbidden, match="vic is a viewer and may not create or change exports"):
        schedule_export(ws, vic, "news", "manual")
    with pytest.raises(Forbidden, match="may only view it"):
        schedule_export(ws, carol, "private", "manual")
    view = schedule_export(ws, carol, "news", cron="15 7 * * 1", timezone="Europe/Paris")
    assert view.config.schedule == "cron" and "edit" in view.permissions
    # Everyone who sees exports sees the next firing.
    shown = show_export(ws, vic, "news").next_firing
    assert shown is not None and shown.kind == "cron" and shown.at is not None
    assert _row(ws, "private") == ("system", None, None)
    entry = list_entries(ws, actor_named(ws, None), limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("carol", "exports.schedule", "news")


def test_add_and_edit_take_a_cron_schedule(ws: Workspace, sandbox: SandboxServer) -> None:
    admin = actor_named(ws, None)
    list_id = sandbox.state.create_list(f"cron {id(ws)}")
    config = ExportConfig(
        "daily", "shared", list_id, ("gb",), ExportMapping("email"),
        schedule="cron", cron="0  6 * * *", timezone=" Europe/Paris ",
    )  # fmt: skip
    added = add_export(ws, admin, config)
    assert (added.config.cron, added.config.timezone) == ("0 6 * * *", "Europe/Paris")
    # The zone alone changes; the expression stays.
    edited = edit_export(ws, admin, "daily", changes=ExportEdit(timezone="America/New_York"))
    assert (edited.config.cron, edited.config.timezone) == ("0 6 * * *", "America/New_York")
    # Another schedule drops the expression and the zone...
    edited = edit_export(ws, admin, "daily", changes=ExportEdit(schedule="manual"))
    assert (edited.config.schedule, edited.config.cron, edited.config.timezone) == (
        "manual",
        None,
        None,
    )
    # ...and a cron expression makes it cron again (its zone is required).
    with pytest.raises(Invalid) as caught:
        edit_export(ws, admin, "daily", changes=ExportEdit(cron="0 7 * * *"))
    assert caught.value.field == "timezone"
    edited = edit_export(ws, admin, "daily", changes=ExportEdit(cron="0 7 * * *", timezone="UTC"))
    assert (edited.config.schedule, edited.config.cron) == ("cron", "0 7 * * *")
    with pytest.raises(Invalid) as caught:
        edit_export(ws, admin, "daily", changes=ExportEdit(schedule="system", cron="0 8 * * *"))
    assert caught.value.field == "cron"
    with pytest.raises(Invalid) as caught:
        add_export(ws, admin, dataclasses.replace(config, name="d2", timezone="Nowhere/Land"))
    assert caught.value.field == "timezone"


# -- firing (the worker's side) ----------------------------------------------------------


def _due(ws: Workspace, now: datetime) -> dict[str, ScheduledExport]:
    return {s.name: s for s in due_export_schedules(ws, now)}


def _fire(ws: Workspace, export_id: int, at: datetime) -> bool:
    with ws.session() as session:
        return record_export_firing(session, export_id, at)


def test_a_cron_export_is_due_once_per_firing(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    set_at = utc("2026-03-28 12:00")
    schedule_export(ws, admin, "news", cron="30 2 * * *", timezone="Europe/Berlin", now=set_at)
    # Only exports on their own schedule are the worker's here.
    assert list(_due(ws, set_at)) == ["news"]

    before = _due(ws, utc("2026-03-29 00:59"))["news"]
    assert before.since == set_at and before.due_at is None
    assert before.next_at == utc("2026-03-29 01:00")  # 03:00 CEST, the gap's end

    at = _due(ws, utc("2026-03-29 01:00"))["news"]
    assert at.due_at == utc("2026-03-29 01:00") and not at.caught_up
    assert at.next_at == utc("2026-03-30 00:30")
    assert _fire(ws, at.export_id, utc("2026-03-29 01:00")) is True
    # Fired: not due again, and a second worker acting on the same answer fires nothing.
    assert _fire(ws, at.export_id, utc("2026-03-29 01:00")) is False
    after = _due(ws, utc("2026-03-29 01:05"))["news"]
    assert after.due_at is None and after.since == utc("2026-03-29 01:00")
    shown = show_export(ws, admin, "news", now=utc("2026-03-29 01:05")).next_firing
    assert shown is not None and shown.last_fired_at == utc("2026-03-29 01:00")

    # A worker down from then until 2026-04-02 09:00Z catches up once, with the latest.
    late = _due(ws, utc("2026-04-02 09:00"))["news"]
    assert late.earliest_due == utc("2026-03-30 00:30")
    assert late.due_at == utc("2026-04-02 00:30") and late.caught_up
    assert _fire(ws, late.export_id, late.due_at) is True
    assert _due(ws, utc("2026-04-02 09:00"))["news"].due_at is None
    # An older answer (a slow worker's) can no longer fire.
    assert _fire(ws, late.export_id, utc("2026-03-31 00:30")) is False


def test_a_changed_schedule_never_fires_a_time_already_past(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    schedule_export(
        ws, admin, "news", cron="0 6 * * *", timezone="UTC", now=utc("2026-06-01 00:00")
    )
    news = _due(ws, utc("2026-06-01 10:00"))["news"]
    assert news.due_at == utc("2026-06-01 06:00")
    # Changed at 10:00 to 08:00 daily: today's 08:00 (and 06:00) are past, not fired.
    schedule_export(
        ws, admin, "news", cron="0 8 * * *", timezone="UTC", now=utc("2026-06-01 10:00")
    )
    again = _due(ws, utc("2026-06-01 10:00"))["news"]
    assert again.due_at is None and again.since == utc("2026-06-01 10:00")
    assert again.next_at == utc("2026-06-02 08:00")
    # The answer computed before the change no longer fires.
    assert _fire(ws, news.export_id, utc("2026-06-01 06:00")) is False
    assert _due(ws, utc("2026-06-02 08:00"))["news"].due_at == utc("2026-06-02 08:00")
    # Turned to manual (or system), it is not the worker's to fire, and recording fails.
    schedule_export(ws, admin, "news", "manual", now=utc("2026-06-02 07:00"))
    assert _due(ws, utc("2026-06-02 08:00")) == {}
    assert _fire(ws, news.export_id, utc("2026-06-02 08:00")) is False


def test_a_stored_schedule_that_cannot_fire_says_why(ws: Workspace) -> None:
    admin = actor_named(ws, None)
    schedule_export(ws, admin, "news", cron="0 6 * * *", timezone="UTC")
    with ws.engine.begin() as conn:  # a zone removed from the tz database since
        conn.execute(text("UPDATE exports SET timezone = 'Gone/Zone' WHERE name = 'news'"))
    found = _due(ws, datetime.now(UTC))["news"]
    assert found.due_at is None and found.next_at is None
    assert found.problem is not None and "unknown time zone 'Gone/Zone'" in found.problem
    shown = show_export(ws, admin, "news").next_firing
    assert shown is not None and shown.at is None and "cannot fire" in shown.description
    with pytest.raises(ValueError, match="aware"):
        due_export_schedules(ws, datetime(2026, 6, 1))


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def cli_ws(ws: Workspace, cli: Cli) -> Cli:
    return cli


def test_exports_schedule_command(cli_ws: Cli) -> None:
    cli = cli_ws
    out = cli(
        "exports", "schedule", "news", "--cron", "0 6 * * 1-5", "--timezone", "Europe/Paris",
        ok=True,
    ).output  # fmt: skip
    assert "Export 'news' runs on its own schedule: 0 6 * * 1-5 in Europe/Paris." in out
    next_line = next(line for line in out.splitlines() if line.startswith("Next firing: "))
    # e.g. "Next firing: Mon 2026-12-07 06:00 CET (2026-12-07 05:00 UTC)."
    assert " 06:00 CE" in next_line and " UTC)." in next_line

    show = cli("exports", "show", "news", ok=True).output
    assert "schedule:      0 6 * * 1-5 in Europe/Paris" in show
    assert "next firing:   " in show and " 06:00 CE" in show
    data = json.loads(cli("exports", "show", "news", "--json", ok=True).stdout)
    assert set(data["next_firing"]) == {f.name for f in dataclasses.fields(NextFiring)}
    at = datetime.fromisoformat(data["next_firing"]["at"])
    assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert at == datetime.fromisoformat(data["next_firing"]["local"])

    rows = {line.split()[0]: line for line in cli("exports", "list", ok=True).output.splitlines()}
    assert rows["name"].split()[:6] == ["name", "connection", "segments", "schedule", "next",
                                        "firing"]  # fmt: skip
    assert "0 6 * * 1-5 (Europe/Paris)" in rows["news"] and " UTC)" in rows["news"]
    assert "system refresh is off" in rows["promo"]

    out = cli("exports", "schedule", "promo", "--off", ok=True).output
    assert "Export 'promo' is manual: it runs only on demand" in out
    promo = next(r for r in cli("exports", "list").output.splitlines() if r.startswith("promo"))
    assert promo.split()[3:5] == ["manual", "manual"]  # the schedule, and no next firing
    out = cli("exports", "schedule", "promo", "--system", ok=True).output
    assert "runs with the system refresh, which is off" in out
    assert "Next firing" not in out and "until `segport schedule set` turns" in out
    cli("schedule", "set", "--daily", "--at", "09:00", "--timezone", "UTC", ok=True)
    out = cli("exports", "schedule", "promo", "--system", "--json", ok=True).stdout
    firing = json.loads(out)["next_firing"]
    assert firing["kind"] == "system" and firing["zone"] == "UTC"
    assert datetime.fromisoformat(firing["at"]).strftime("%H:%M") == "09:00"
    row = next(
        r for r in cli("exports", "list", ok=True).output.splitlines() if r.startswith("promo")
    )
    assert " 09:00 UTC " in row

    log = cli("audit", "--limit", "3", ok=True).output.splitlines()
    assert [line.split()[3] for line in log[1:]] == ["schedule.set", "exports.schedule",
                                                     "exports.schedule"]  # fmt: skip


def test_exports_schedule_bad_usage(cli_ws: Cli) -> None:
    cli = cli_ws

    def usage(*args: str) -> str:
        result = cli("exports", "schedule", "news", *args)
        assert result.exit_code == 2, result.output
        return result.output

    assert "give one of --cron EXPRESSION --timezone ZONE" in usage()
    assert "(not --system and --off)" in usage("--system", "--off")
    assert "(not --cron and --off)" in usage("--cron", "0 6 * * *", "--timezone", "UTC", "--off")
    assert "--cron needs --timezone ZONE" in usage("--cron", "0 6 * * *")
    assert "give --cron too" in usage("--system", "--timezone", "UTC")

    def error(*args: str, actor: str | None = None) -> str:
        result = cli("exports", "schedule", *args, actor=actor)
        assert result.exit_code == 1, result.output
        return result.output

    out = error("news", "--cron", "0 6 * *", "--timezone", "UTC")
    assert "has 4" in out and "(option: --cron EXPRESSION)" in out
    out = error("news", "--cron", "0 6 * * *", "--timezone", "Europe/Pariss")
    assert "unknown time zone 'Europe/Pariss'" in out and "(option: --timezone ZONE)" in out
    out = error("nope", "--off")
    assert "no export named 'nope'" in out
    out = error("news", "--off", actor="vic")
    assert "vic is a viewer and may not create or change exports" in out
    assert "may only view it" in error("private", "--off", actor="carol")
    assert "exports.schedule" not in cli("audit", ok=True).output
    cli("exports", "schedule", "news", "--off", actor="carol", ok=True)


def test_add_and_edit_take_cron_on_the_command_line(
    cli_ws: Cli, sandbox: SandboxServer, ws: Workspace
) -> None:
    cli = cli_ws
    list_id = sandbox.state.create_list(f"cli cron {id(ws)}")
    cli(
        "exports", "add", "daily", "--connection", "shared", "--list-id", str(list_id),
        "--segment", "gb", "--email", "email", "--cron", "30 7 * * *",
        "--timezone", "Asia/Kolkata", ok=True,
    )  # fmt: skip
    assert _row(ws, "daily") == ("cron", "30 7 * * *", "Asia/Kolkata")
    out = cli("exports", "show", "daily", ok=True).output
    assert "schedule:      30 7 * * * in Asia/Kolkata" in out and " 07:30 IST " in out
    # Users' scripts keep working: --schedule system|manual.
    cli("exports", "edit", "daily", "--schedule", "manual", ok=True)
    assert _row(ws, "daily") == ("manual", None, None)
    cli("exports", "edit", "daily", "--cron", "0 9 * * 1", "--timezone", "UTC", ok=True)
    assert _row(ws, "daily") == ("cron", "0 9 * * 1", "UTC")
    out = cli("exports", "edit", "daily", "--schedule", "system", "--cron", "0 8 * * *").output
    assert "not for schedule system" in out and "(option: --cron EXPRESSION)" in out
    out = cli("exports", "edit", "daily", "--cron", "0 8 * * * *").output
    assert "has 6" in out
    assert _row(ws, "daily") == ("cron", "0 9 * * 1", "UTC")
