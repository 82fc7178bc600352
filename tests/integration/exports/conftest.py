"""A workspace wired to a sandbox: profiles, a segment, a connection and an export.

Profiles are written as CSV and (re)loaded with ``profiles load --replace``, so a test
changes the segment between runs the way a user would.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.sandbox import TEST_API_KEY

from segport.brevo.sandbox import SandboxServer
from segport.exports.summary import RunSummary
from segport.service import ExportConfig, ExportMapping, connections
from segport.service.access import Actor, actor_named
from segport.service.export_configs import add_export
from segport.service.opening import init_workspace
from segport.service.profile_source import load_profiles
from segport.service.runs import run_export
from segport.service.segment_definitions import create_segment
from segport.service.workspace import Workspace

FIELDS = ("customer_id", "email", "first_name", "last_name", "phone", "tier", "city")


def profile(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid gold-tier profile number ``i`` (GB mobile numbers, unique per i)."""
    row: dict[str, Any] = {
        "customer_id": i,
        "email": f"user{i}@example.com",
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "phone": f"07911 {i:06d}",
        "tier": "gold",
        "city": f"City{i % 7}",
    }
    row.update(overrides)
    return row


@dataclass
class Scenario:
    ws: Workspace
    sandbox: SandboxServer
    list_id: int
    tmp: Path
    export: str = "news"

    @property
    def admin(self) -> Actor:
        """The workspace's first admin, as the services take an actor."""
        return actor_named(self.ws, None)

    def load(self, rows: Sequence[dict[str, Any]]) -> None:
        path = self.tmp / "profiles.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(FIELDS))
            writer.writeheader()
            for r in rows:
                writer.writerow({k: r.get(k, "") for k in FIELDS})
        load_profiles(self.ws, self.admin, path, id_column="customer_id", replace=True)

    def add_export(self, name: str = "news", **kw: Any) -> None:
        mapping = ExportMapping(
            email="email",
            first_name="first_name",
            last_name="last_name",
            phone="phone",
            attributes=kw.pop("attributes", {}),
        )
        config = ExportConfig(
            name=name,
            connection="sandbox",
            list_id=kw.pop("list_id", self.list_id),
            segments=tuple(kw.pop("segments", ["gold"])),
            mapping=mapping,
            phone_region="GB",
            **kw,
        )
        add_export(self.ws, self.admin, config)
        self.export = name

    def run(self, **kw: Any) -> RunSummary:
        summary = run_export(self.ws, self.admin, kw.pop("export", self.export), **kw)
        self.sandbox.state.wait_idle()
        return summary

    def members(self, list_id: int | None = None) -> set[str]:
        return set(self.sandbox.state.list_member_emails(list_id or self.list_id))

    def contact(self, email: str) -> dict[str, Any] | None:
        return self.sandbox.state.get_contact(email)


def make_scenario(
    ws_path: Path, sandbox: SandboxServer, tmp: Path, database_url: str | None = None
) -> Scenario:
    ws = init_workspace(ws_path, database_url)
    connections.add_connection(
        ws,
        actor_named(ws, None),
        "sandbox",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=sandbox.base_url,
        verify=True,
    )
    list_id = sandbox.state.create_list("Newsletter")
    scenario = Scenario(ws, sandbox, list_id, tmp)
    scenario.load([profile(i) for i in range(1, 4)])
    create_segment(ws, actor_named(ws, None), "gold", where="tier = 'gold'")
    return scenario


@pytest.fixture
def scenario(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Scenario]:
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path)
    try:
        yield s
    finally:
        s.ws.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_scenario(
    request: pytest.FixtureRequest, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[Scenario]:
    """The exports scenario with SQLite metadata, then with PostgreSQL metadata."""
    url = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    s = make_scenario(tmp_path / "ws", sandbox, tmp_path, database_url=url)
    try:
        yield s
    finally:
        s.ws.close()


def add_own(s: Scenario, name: str, *, connection: str = "sandbox", **kw: Any) -> None:
    """An export of its own list (on ``connection``), on the system schedule unless told."""
    mapping = ExportMapping(email="email", first_name="first_name", last_name="last_name")
    config = ExportConfig(
        name=name,
        connection=connection,
        list_id=s.sandbox.state.create_list(name),
        segments=tuple(kw.pop("segments", ["gold"])),
        mapping=mapping,
        **kw,
    )
    add_export(s.ws, s.admin, config)
