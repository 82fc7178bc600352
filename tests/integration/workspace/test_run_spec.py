"""get_run_spec: what the run engine asks before running an export."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from segport.secret import Secret
from segport.service import connections, users
from segport.service.access import PermissionDenied, actor_named
from segport.service.export_configs import ExportNotRunnable, get_run_spec
from segport.service.models import Connection, Export, ExportSegment
from segport.service.workspace import Workspace

KEY = "xkeysib-runspec-0123456789abcdef"


def _export_on(ws: Workspace, conn_name: str | None, name: str = "news") -> None:
    """An export row as `exports add` would save it (the Brevo checks are tested elsewhere)."""
    with ws.session() as s:
        conn = None
        if conn_name:
            conn = s.scalars(select(Connection).where(Connection.name == conn_name)).one()
        e = Export(
            name=name,
            connection=conn,
            list_id=7,
            email_column="email",
            first_name_column="first",
            first_name_attribute="PRENOM",
            attributes={"CITY": "city"},
            mode="mirror",
            phone_region="GB",
            profile_limit=500,
            schedule="system",
            created_by="admin",
        )
        e.segments.extend(
            [
                ExportSegment(segment_name="vip", position=0),
                ExportSegment(segment_name="gb", position=1),
            ]
        )
        s.add(e)


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    users.add_user(workspace, actor_named(workspace, None), "bob", "admin")
    users.add_user(workspace, actor_named(workspace, None), "carol", "contributor")
    users.add_user(workspace, actor_named(workspace, None), "vic", "viewer")
    connections.add_connection(
        workspace,
        actor_named(workspace, "bob"),
        "shared",
        "brevo",
        KEY,
        agree_privacy=True,
        verify=False,
        share_with_contributors=True,
        base_url="http://127.0.0.1:9/v3",
    )
    connections.add_connection(
        workspace,
        actor_named(workspace, "bob"),
        "private",
        "brevo",
        KEY,
        agree_privacy=True,
        verify=False,
    )
    return workspace


def test_spec_carries_settings_and_decrypted_key(ws: Workspace) -> None:
    _export_on(ws, "shared")
    spec = get_run_spec(ws, actor_named(ws, "carol"), "news")
    c = spec.config
    assert (c.name, c.list_id, c.mode, c.phone_region) == ("news", 7, "mirror", "GB")
    assert c.segments == ("vip", "gb")
    assert c.profile_limit == 500
    assert c.mapping.email == "email" and c.mapping.first_name == "first"
    assert c.mapping.attributes == {"CITY": "city"}
    assert c.mapping.first_name_attribute == "PRENOM" and c.mapping.last_name_attribute is None
    assert spec.target.config is c and spec.target.base_url == "http://127.0.0.1:9/v3"
    creds = spec.credentials
    assert creds.base_url == "http://127.0.0.1:9/v3"
    assert isinstance(creds.api_key, Secret) and creds.api_key.reveal() == KEY
    assert KEY not in f"{creds} {creds!r} {creds.api_key} {spec!r} {spec}"
    assert creds.requests_per_second == 10.0 and creds.export_user == "bob"
    connections.edit_connection(ws, actor_named(ws, None), "shared", requests_per_second=4)
    assert get_run_spec(ws, actor_named(ws, "carol"), "news").credentials.requests_per_second == 4.0
    with ws.session() as s:
        assert s.get(Export, spec.export_id) is not None


def test_detached_and_refused_runs(ws: Workspace) -> None:
    _export_on(ws, None, "detached")
    with pytest.raises(ExportNotRunnable, match="No connection") as info:
        get_run_spec(ws, actor_named(ws, None), "detached")
    assert info.value.skipped
    _export_on(ws, "private")
    with pytest.raises(PermissionDenied, match="vic is a viewer and may not run exports"):
        get_run_spec(ws, actor_named(ws, "vic"), "news")
    with pytest.raises(PermissionDenied, match="not shared with contributors"):
        get_run_spec(ws, actor_named(ws, "carol"), "news")
    assert get_run_spec(ws, actor_named(ws, "admin"), "news").credentials.name == "private"


def test_export_user_losing_admin_stops_runs_until_take_over(ws: Workspace) -> None:
    _export_on(ws, "shared")
    users.set_role(ws, actor_named(ws, None), "bob", "contributor")
    with pytest.raises(ExportNotRunnable, match="export user bob is no longer an admin") as info:
        get_run_spec(ws, actor_named(ws, "carol"), "news")
    assert "an admin must take it over" in str(info.value) and "--" not in str(info.value)
    assert not info.value.skipped
    users.add_user(ws, actor_named(ws, None), "dave", "admin")
    connections.take_over(ws, actor_named(ws, "dave"), "shared")
    assert get_run_spec(ws, actor_named(ws, "carol"), "news").credentials.export_user == "dave"
    users.remove_user(ws, actor_named(ws, None), "dave")
    with pytest.raises(ExportNotRunnable, match="export user dave was removed"):
        get_run_spec(ws, actor_named(ws, "carol"), "news")
    connections.take_over(ws, actor_named(ws, "admin"), "shared")
    assert get_run_spec(ws, actor_named(ws, "carol"), "news").credentials.export_user == "admin"
