"""The service operations the API gained last: editing a connection (PATCH) and checking
its saved key with Brevo, retrying a run, the system refresh run now, an export's state
rebuilt from its Brevo list, and the profiles pointed at a PostgreSQL table. Each one
by role (admin, contributor, viewer, nobody signed in), with bad input refused naming its
field. No answer carries an API key or a database password: every body is scanned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import psycopg
import pytest
from tests.fixtures.sandbox import TEST_API_KEY
from tests.fixtures.server import Web, free_port
from tests.integration.server.api_helpers import cancel_queued, canceled_run, problem

from segport.service import (
    add_connection,
    page_runs,
    run_export,
)

WRONG_KEY = "xkeysib-wrong-key-Mq27Lp90Zx"
DB_PASSWORD = "db-pass-Hq73Xn21Kw"
SECRETS = (TEST_API_KEY, WRONG_KEY, DB_PASSWORD)


class Scanned(httpx.Client):
    """A client that fails the test when an answer carries a key or a password."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        answer = super().send(request, **kwargs)
        answer.read()
        for secret in SECRETS:
            assert secret not in answer.text, f"{request.method} {request.url} answered it"
        return answer


@pytest.fixture
def as_user(web: Web) -> Iterator[Any]:
    made: list[httpx.Client] = []

    def client(user: str) -> httpx.Client:
        c = Scanned(
            base_url=web.url, timeout=60, headers={"Authorization": f"Bearer {web.tokens[user]}"}
        )
        made.append(c)
        return c

    yield client
    for c in made:
        c.close()


@pytest.fixture(autouse=True)
def settled(web: Web) -> Iterator[None]:
    """Every test starts and ends with no run queued (a queued run blocks the next)."""
    cancel_queued(web)
    yield
    cancel_queued(web)


def _closed_url() -> str:
    """A base URL on loopback nothing listens on: Brevo out of reach, at once."""
    return f"http://127.0.0.1:{free_port()}/v3"


# Connections: PATCH and check


def test_patch_changes_only_what_is_given(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    add_connection(
        web.ws,
        web.actor("admin"),
        "to-edit",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=web.brevo_url,
    )
    before = admin.get("/api/v1/connections/to-edit").json()
    same = admin.patch("/api/v1/connections/to-edit", json={})
    assert same.status_code == 200, same.text
    assert same.json()["changes"] == [] and same.json()["name"] == "to-edit"

    edited = admin.patch(
        "/api/v1/connections/to-edit",
        json={"name": "edited", "share_with_contributors": True, "requests_per_second": 5},
    )
    assert edited.status_code == 200, edited.text
    view = edited.json()
    assert (view["name"], view["shared_with_contributors"], view["requests_per_second"]) == (
        "edited",
        True,
        5.0,
    )
    assert len(view["changes"]) == 3 and view["account_email"] == before["account_email"]
    problem(admin.get("/api/v1/connections/to-edit"), 404, "connection_not_found")
    names = [c["name"] for c in as_user("carol").get("/api/v1/connections").json()["items"]]
    assert "edited" in names
    # null is "unchanged", like absent
    kept = admin.patch("/api/v1/connections/edited", json={"name": None, "base_url": None})
    assert kept.status_code == 200 and kept.json()["changes"] == []


def test_a_new_base_url_is_checked_with_the_saved_key(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    add_connection(
        web.ws,
        web.actor("admin"),
        "moving",
        "brevo",
        TEST_API_KEY,
        agree_privacy=True,
        base_url=web.brevo_url,
    )
    closed = _closed_url()
    refused = problem(
        admin.patch("/api/v1/connections/moving", json={"base_url": closed}),
        502,
        "brevo_unreachable",
    )
    assert refused["detail"]
    assert admin.get("/api/v1/connections/moving").json()["base_url"] == web.brevo_url
    # unchecked: saved, and the account it showed is cleared until checked again
    unchecked = admin.patch(
        "/api/v1/connections/moving", json={"base_url": closed, "verify": False}
    ).json()
    assert unchecked["base_url"] == closed and unchecked["account_email"] is None
    problem(admin.post("/api/v1/connections/moving/check"), 502, "brevo_unreachable")
    back = admin.patch("/api/v1/connections/moving", json={"base_url": web.brevo_url}).json()
    assert back["base_url"] == web.brevo_url and back["account_email"]


def test_check_refreshes_the_account_or_says_what_brevo_said(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    before = admin.get("/api/v1/connections/shared").json()
    checked = admin.post("/api/v1/connections/shared/check")
    assert checked.status_code == 200, checked.text
    after = checked.json()
    assert after["account_email"] == before["account_email"]
    assert after["verified_at"] > before["verified_at"]
    # a saved key Brevo refuses (saved unchecked): Brevo's word, with the field
    add_connection(
        web.ws,
        web.actor("admin"),
        "stale-key",
        "brevo",
        WRONG_KEY,
        agree_privacy=True,
        base_url=web.brevo_url,
        verify=False,
    )
    refused = problem(
        admin.post("/api/v1/connections/stale-key/check"), 502, "saved_api_key_refused"
    )
    assert "Brevo said" in refused["detail"] and refused["field"] == "api_key"
    problem(admin.post("/api/v1/connections/nope/check"), 404, "connection_not_found")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"requests_per_second": 0}, 422, "rate_invalid", "rate"),
        ({"requests_per_second": 5000}, 422, "rate_invalid", "rate"),
        ({"base_url": "ftp://x"}, 422, "base_url_invalid", "base_url"),
        ({"name": ""}, 422, "request_invalid", "name"),
        ({"name": "private"}, 422, "workspace_error", None),  # taken
        ({"name": "bad\nname"}, 422, "workspace_error", None),
        ({"share_with_contributors": "maybe"}, 422, "request_invalid", "share_with_contributors"),
        ({"api_key": TEST_API_KEY}, 422, "request_invalid", "api_key"),  # PUT …/key does it
    ],
)
def test_a_bad_edit_is_refused_naming_its_field(
    as_user: Any, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    admin = as_user("admin")
    before = admin.get("/api/v1/connections/shared").json()
    found = problem(admin.patch("/api/v1/connections/shared", json=body), status, code)
    assert found.get("field") == field
    assert admin.get("/api/v1/connections/shared").json() == before


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_only_admins_edit_and_check_connections(as_user: Any, user: str) -> None:
    client = as_user(user)
    for answer in (
        client.patch("/api/v1/connections/shared", json={"share_with_contributors": False}),
        client.post("/api/v1/connections/shared/check"),
    ):
        assert user in problem(answer, 403, "permission_denied")["detail"]
    assert as_user("admin").get("/api/v1/connections/shared").json()["shared_with_contributors"]


def test_no_one_unsigned_edits_or_checks_a_connection(web: Web) -> None:
    with web.client() as anonymous:
        for answer in (
            anonymous.patch("/api/v1/connections/shared", json={"name": "x"}),
            anonymous.post("/api/v1/connections/shared/check"),
        ):
            problem(answer, 401, "authentication_required")


# Runs: retry


def test_retry_requests_a_new_run_of_the_export(web: Web, as_user: Any) -> None:
    canceled = canceled_run(web, "news")
    carol = as_user("carol")  # a contributor: news is on a connection shared with them
    retried = carol.post(f"/api/v1/runs/{canceled}/retry")
    assert retried.status_code == 202, retried.text
    run = retried.json()
    assert (run["export_name"], run["status"], run["trigger"], run["actor"]) == (
        "news",
        "queued",
        "retry",
        "carol",
    )
    assert run["id"] != canceled
    busy = problem(carol.post(f"/api/v1/runs/{canceled}/retry"), 409, "run_in_progress")
    assert str(run["number"]) in busy["detail"] or "queued" in busy["detail"]
    problem(carol.post(f"/api/v1/runs/{run['id']}/retry"), 409, "run_in_progress")


def test_retry_is_for_who_may_run_the_export(web: Web, as_user: Any) -> None:
    news, vip = canceled_run(web, "news"), canceled_run(web, "vip")
    problem(as_user("victor").post(f"/api/v1/runs/{news}/retry"), 403, "permission_denied")
    # vip sends through a connection not shared with contributors
    problem(as_user("carol").post(f"/api/v1/runs/{vip}/retry"), 403, "permission_denied")
    assert page_runs(web.ws, web.actor("admin"), status="queued").total == 0
    admin = as_user("admin")
    problem(admin.post("/api/v1/runs/999999/retry"), 404, "run_not_found")
    assert problem(admin.post("/api/v1/runs/0/retry"), 422, "request_invalid")["field"] == "run_id"
    with web.client() as anonymous:
        problem(anonymous.post(f"/api/v1/runs/{news}/retry"), 401, "authentication_required")


# The system refresh


def test_refresh_counts_segments_and_requests_runs(web: Web, as_user: Any) -> None:
    carol = as_user("carol")
    answer = carol.post("/api/v1/system/refresh")
    assert answer.status_code == 202, answer.text
    done = answer.json()
    assert done["fired_for"] is None
    assert {"name": "gold", "member_count": 5, "error": None} in done["segments"]
    by_export = {e["export_name"]: e for e in done["exports"]}
    assert {"news", "vip"} <= set(by_export)
    news = by_export["news"]["run"]
    assert (news["status"], news["trigger"], news["actor"]) == ("queued", "schedule", "carol")
    assert carol.get(f"/api/v1/runs/{news['id']}").json()["run"]["status"] == "queued"
    # again while they are queued: each export keeps its run
    again = carol.post("/api/v1/system/refresh").json()
    busy = {e["export_name"]: e for e in again["exports"]}["news"]
    assert busy["run"] is None and busy["busy"]


def test_refresh_is_refused_to_viewers_and_to_nobody(web: Web, as_user: Any) -> None:
    problem(as_user("victor").post("/api/v1/system/refresh"), 403, "permission_denied")
    with web.client() as anonymous:
        problem(anonymous.post("/api/v1/system/refresh"), 401, "authentication_required")
    assert page_runs(web.ws, web.actor("admin"), status="queued").total == 0


# An export's state, rebuilt


def test_rebuild_an_exports_state_from_its_list(web: Web, as_user: Any) -> None:
    sent = run_export(web.ws, web.actor("admin"), "news")
    assert sent.status == "successful", sent.message
    admin = as_user("admin")
    answer = admin.post("/api/v1/exports/news/state/rebuild")
    assert answer.status_code == 200, answer.text
    rebuilt = answer.json()
    assert rebuilt == {
        "export_name": "news",
        "list_id": admin.get("/api/v1/exports/news").json()["config"]["list_id"],
        "held": 5,  # the five gold profiles the run sent
        "replaced": True,
    }
    assert str(web.ws.path) not in answer.text  # where the state lives is not said
    # a contributor may, on the shared connection
    assert as_user("carol").post("/api/v1/exports/news/state/rebuild").json()["held"] == 5


def test_rebuild_is_refused_by_role_and_for_an_unknown_export(web: Web, as_user: Any) -> None:
    problem(as_user("victor").post("/api/v1/exports/news/state/rebuild"), 403, "permission_denied")
    problem(as_user("carol").post("/api/v1/exports/vip/state/rebuild"), 403, "permission_denied")
    problem(as_user("admin").post("/api/v1/exports/nope/state/rebuild"), 404, "export_not_found")
    with web.client() as anonymous:
        problem(
            anonymous.post("/api/v1/exports/news/state/rebuild"), 401, "authentication_required"
        )


# The profiles pointed at a PostgreSQL table (last: the workspace keeps using it)


@pytest.fixture(scope="module")
def warehouse(pg_module_database: str) -> str:
    """A database with a table of the profiles the workspace uses, and one without the
    columns segments and exports use; its URL with a password (the test server trusts
    loopback, so it is not checked: it only has to stay out of every answer)."""
    with psycopg.connect(pg_module_database) as conn:
        conn.execute(
            "CREATE TABLE people (customer_id text, email text, first_name text, tier text)"
        )
        conn.execute(
            "INSERT INTO people SELECT i::text, 'user' || i || '@example.com', 'First' || i, "
            "'gold' FROM generate_series(1, 7) AS i"
        )
        conn.execute("CREATE TABLE narrow (customer_id text, email text)")
        conn.execute("INSERT INTO narrow VALUES ('1', 'a@example.com')")
        conn.execute("CREATE TABLE dupes (customer_id text, email text)")
        conn.execute("INSERT INTO dupes VALUES ('1', 'a'), ('1', 'b')")
    return pg_module_database.replace(
        "postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@"
    )


def _source(url: str, table: str = "people", **changes: Any) -> dict[str, Any]:
    return {"url": url, "table": table, "id_column": "customer_id", **changes}


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_only_admins_point_the_profiles_at_a_table(
    web: Web, as_user: Any, warehouse: str, user: str
) -> None:
    problem(
        as_user(user).put("/api/v1/profiles/source", json=_source(warehouse)),
        403,
        "permission_denied",
    )
    with web.client() as anonymous:
        problem(
            anonymous.put("/api/v1/profiles/source", json=_source(warehouse)),
            401,
            "authentication_required",
        )
    assert as_user("admin").get("/api/v1/profiles").json()["kind"] == "duckdb"


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"url": "mysql://u:db-pass-Hq73Xn21Kw@127.0.0.1/x"}, 422, "profiles_invalid", "url"),
        ({"url": ""}, 422, "request_invalid", "url"),
        ({"table": ""}, 422, "request_invalid", "table"),
        ({"table": "a.b.c"}, 422, "table_name_invalid", "table"),
        ({"table": "missing"}, 422, "table_not_found", "table"),
        ({"id_column": "nope"}, 422, "id_column_missing", "id_column"),
        ({"table": "dupes"}, 422, "id_column_not_unique", "id_column"),
        ({"table": "narrow"}, 409, "schema_change_refused", "allow_schema_change"),
    ],
)
def test_a_bad_source_is_refused_naming_its_field(
    as_user: Any, warehouse: str, change: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    admin = as_user("admin")
    found = problem(
        admin.put("/api/v1/profiles/source", json={**_source(warehouse), **change}), status, code
    )
    assert found.get("field") == field
    assert admin.get("/api/v1/profiles").json()["kind"] == "duckdb"


def test_the_profiles_use_a_postgres_table_its_password_never_shown(
    web: Web, as_user: Any, warehouse: str
) -> None:
    admin = as_user("admin")
    answer = admin.put("/api/v1/profiles/source", json=_source(warehouse))
    assert answer.status_code == 200, answer.text
    source = answer.json()
    assert (source["kind"], source["table"], source["row_count"], source["managed"]) == (
        "postgres",
        "people",
        7,
        False,
    )
    assert source["location"].startswith("postgresql://postgres") and "***" in source["location"]
    assert admin.get("/api/v1/profiles").json()["location"] == source["location"]
    assert len(admin.get("/api/v1/profiles/rows").json()["items"]) == 7
    audit = admin.get("/api/v1/audit", params={"limit": 500}).text  # scanned too
    assert "profiles.use" in audit


# Every one of them


def test_a_session_needs_its_csrf_token_for_them(web: Web) -> None:
    client, csrf = web.signed_in("admin")
    with closing(client):
        problem(client.post("/api/v1/system/refresh"), 403, "csrf_failed")
        problem(client.patch("/api/v1/connections/shared", json={"name": "x"}), 403, "csrf_failed")
        done = client.post("/api/v1/system/refresh", headers={"X-CSRF-Token": csrf})
        assert done.status_code == 202, done.text


def test_the_openapi_document_declares_them_with_every_status(web: Web) -> None:
    with web.client() as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    declared = {
        ("patch", "/api/v1/connections/{name}"): {"200", "401", "403", "404", "422", "502"},
        ("post", "/api/v1/connections/{name}/check"): {"200", "401", "403", "404", "422", "502"},
        ("post", "/api/v1/runs/{run_id}/retry"): {"202", "401", "403", "404", "409", "422"},
        ("post", "/api/v1/system/refresh"): {"202", "401", "403"},
        ("post", "/api/v1/exports/{name}/state/rebuild"): {
            "200", "401", "403", "404", "409", "422", "502"
        },
        ("put", "/api/v1/profiles/source"): {"200", "401", "403", "404", "409", "422"},
    }  # fmt: skip
    for (method, path), statuses in declared.items():
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), (method, path)
        assert operation["summary"]
    source = paths["/api/v1/profiles/source"]["put"]["requestBody"]["content"]
    schema_ref = source["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    with web.client() as client:
        schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schemas[schema_ref]["properties"]["url"]["writeOnly"] is True


def test_the_models_carry_every_field_of_the_views_they_render() -> None:
    # A field a view gains is not dropped silently; a rebuilt state leaves out where it
    # lives on the server (its paths) and says only whether one was replaced.
    import dataclasses

    from segport.server.api import export_state, system
    from segport.server.api.admin_models import ConnectionOut
    from segport.service import ConnectionView, Rebuilt, RefreshView
    from segport.service.refresh import RefreshedExport, SegmentCount

    pairs = [
        (system.RefreshOut, RefreshView, set(), set()),
        (system.RefreshedSegment, SegmentCount, set(), set()),
        (system.RefreshedExport, RefreshedExport, set(), set()),
        (ConnectionOut, ConnectionView, set(), set()),
        (export_state.RebuiltState, Rebuilt, {"replaced"}, {"path", "aside"}),
    ]
    for model, view, added, left_out in pairs:
        fields = {f.name for f in dataclasses.fields(view)}
        assert set(model.model_fields) == (fields - left_out) | added, model
