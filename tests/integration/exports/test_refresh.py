"""The system refresh on SQLite and PostgreSQL: active segments are counted first (the
counts recorded on the segments), then every export on the system schedule, by name,
gets a queued run or a skipped one with its reason; the refresh is audited; a firing is
acted on once."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from tests.fixtures.sandbox import TEST_API_KEY
from tests.integration.exports.conftest import Scenario, add_own, profile

from segport.service import connections
from segport.service.access import actor_named
from segport.service.audit import list_entries
from segport.service.export_configs import detach_export
from segport.service.profile_source import load_profiles
from segport.service.refresh import fire_due_refresh, run_refresh
from segport.service.runs import list_runs
from segport.service.segment_definitions import create_segment, list_segments, set_state
from segport.service.system_schedule import set_system_schedule
from segport.service.users import add_user, set_role


def test_segments_first_then_exports_by_name(any_scenario: Scenario) -> None:
    s = any_scenario
    create_segment(s.ws, s.admin, "london", where="city = 'City1'")
    for name in ("zeta", "alpha", "mid"):
        add_own(s, name)
    add_own(s, "by_hand", schedule="manual")
    before = datetime.now(UTC)
    done = run_refresh(s.ws, s.admin)
    assert [c.name for c in done.segments] == ["gold", "london"]
    assert [(c.member_count, c.error) for c in done.segments] == [(3, None), (1, None)]
    recorded = {seg.name: seg for seg in list_segments(s.ws, s.admin)}
    assert (recorded["gold"].member_count, recorded["london"].member_count) == (3, 1)
    assert [e.export_name for e in done.exports] == ["alpha", "mid", "zeta"]
    runs = [e.run for e in done.exports]
    assert all(r is not None and r.status == "queued" and r.trigger == "schedule" for r in runs)
    ids = [r.id for r in runs if r is not None]
    assert ids == sorted(ids)  # requested in the order of the names
    # Segments were evaluated before the first run was requested.
    # (segments keep naive times on SQLite: UTC)
    evaluated = [
        at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
        for at in (seg.evaluated_at for seg in recorded.values())
    ]
    first = runs[0]
    assert first is not None
    assert all(at is not None and before <= at <= first.created_at for at in evaluated)
    assert list_runs(s.ws, s.admin, "by_hand") == []
    [entry] = [e for e in list_entries(s.ws, s.admin) if e.action == "refresh.run"]
    assert entry.details["segments"] == {"gold": 3, "london": 1}
    assert entry.details["exports"] == {"alpha": "queued", "mid": "queued", "zeta": "queued"}
    # A second refresh leaves the queued runs to go on.
    again = run_refresh(s.ws, s.admin)
    assert [(e.run, e.busy is not None) for e in again.exports] == [(None, True)] * 3


def _load_without_city(s: Scenario) -> None:
    """Profiles again, without the city column (the user allowed the change): a segment
    on it can no longer evaluate."""
    path = s.tmp / "no_city.csv"
    fields = ["customer_id", "email", "first_name", "last_name", "tier"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for i in range(1, 4):
            row = profile(i)
            writer.writerow({k: row[k] for k in fields})
    load_profiles(
        s.ws, s.admin, path, id_column="customer_id", replace=True, allow_schema_change=True
    )


def test_every_skip_reason(any_scenario: Scenario) -> None:
    s = any_scenario
    ws, admin = s.ws, s.admin
    # An export user who stops being an admin: runs on their connection cannot act as them.
    add_user(ws, admin, "ops", "admin")
    connections.add_connection(
        ws,
        actor_named(ws, "ops"),
        "ops_sandbox",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=s.sandbox.base_url,
        verify=True,
    )
    create_segment(ws, admin, "silver", where="tier = 'silver'")
    create_segment(ws, admin, "by_city", where="city = 'City1'")
    add_own(s, "a_fine")
    add_own(s, "b_detached")
    add_own(s, "c_unusable", connection="ops_sandbox")
    add_own(s, "d_inactive", segments=["gold", "silver"])
    add_own(s, "e_failed", segments=["by_city"])
    add_own(s, "f_over_limit", profile_limit=2)
    detach_export(ws, admin, "b_detached")
    set_role(ws, admin, "ops", "contributor")
    set_state(ws, admin, "silver", False)
    _load_without_city(s)

    done = run_refresh(ws, admin)

    seen = {c.name: c for c in done.segments}
    assert "silver" not in seen  # inactive: not evaluated
    assert seen["gold"].member_count == 3 and seen["by_city"].error is not None
    outcome = {e.export_name: (e.run.status, e.run.reason) if e.run else None for e in done.exports}
    assert outcome == {
        "a_fine": ("queued", None),
        "b_detached": ("skipped", "no_connection"),
        "c_unusable": ("skipped", "connection_unusable"),
        "d_inactive": ("skipped", "segment_inactive"),
        "e_failed": ("skipped", "segment_failed"),
        "f_over_limit": ("skipped", "over_profile_limit"),
    }
    messages = {e.export_name: e.run.message or "" for e in done.exports if e.run}
    assert "detached" in messages["b_detached"]
    assert "ops is no longer an admin" in messages["c_unusable"]
    assert "'silver'" in messages["d_inactive"]
    assert "'by_city' failed to evaluate" in messages["e_failed"]
    assert "3 members, over the export's profile limit of 2" in messages["f_over_limit"]
    [over] = list_runs(ws, admin, "f_over_limit")
    assert (over.status, over.members, over.finished_at is not None) == ("skipped", 3, True)
    [entry] = [e for e in list_entries(ws, admin) if e.action == "refresh.run"]
    assert entry.details["exports"]["e_failed"] == "skipped (segment_failed)"
    assert str(entry.details["segments"]["by_city"]).startswith("failed: ")


def test_a_due_firing_is_acted_on_once(any_scenario: Scenario) -> None:
    s = any_scenario
    add_own(s, "news")
    set_at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    set_system_schedule(s.ws, s.admin, times=["08:30"], timezone="UTC", now=set_at)
    assert fire_due_refresh(s.ws, s.admin, set_at + timedelta(hours=2)) is None  # 08:00
    due_at = datetime(2026, 12, 7, 8, 31, tzinfo=UTC)
    fired = fire_due_refresh(s.ws, s.admin, due_at)
    assert fired is not None and fired.fired_for == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    assert fire_due_refresh(s.ws, s.admin, due_at) is None  # the same firing: not again
    # Down three days: one firing, for the latest missed.
    # (news's run is still queued: the late refresh notes it busy)
    late = fire_due_refresh(s.ws, s.admin, datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    assert late is not None and late.fired_for == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    assert late.exports[0].busy is not None
    assert fire_due_refresh(s.ws, s.admin, datetime(2026, 12, 10, 9, 5, tzinfo=UTC)) is None
