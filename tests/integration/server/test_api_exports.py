"""The export operations of the API against the Brevo sandbox: adding (onto a list by id,
by name or a new one), editing with clearing, duplicating, detaching, scheduling,
removing, the dry run and Run all; a connection's Brevo lists, folders and attributes.
Every refusal by role (viewer, contributor on a connection not shared with contributors,
no credentials) and bad input as problem details naming the body's field.

The module's `web` server is its own: each test makes the exports it changes, under its
own names, so the tests hold in any order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.fixtures.server import Web, free_port
from tests.integration.server.api_helpers import problem

from segport.service import add_connection

EXPORTS = "/api/v1/exports"


@pytest.fixture
def as_user(web: Web) -> Iterator[Any]:
    made: list[httpx.Client] = []

    def client(user: str) -> httpx.Client:
        made.append(web.bearer(user))
        return made[-1]

    yield client
    for c in made:
        c.close()


def _new(name: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "connection": "shared",
        "new_list": {"name": f"{name} list"},
        "segments": ["gold"],
        "email": "email",
    }
    body.update(changes)
    return body


def _add(client: httpx.Client, name: str, **changes: Any) -> dict[str, Any]:
    answer = client.post(EXPORTS, json=_new(name, **changes))
    assert answer.status_code == 201, answer.text
    view: dict[str, Any] = answer.json()
    return view


def _brevo_list(client: httpx.Client, name: str, connection: str = "shared") -> int:
    made = client.post(f"/api/v1/connections/{connection}/brevo/lists", json={"name": name})
    assert made.status_code == 201, made.text
    list_id: int = made.json()["id"]
    return list_id


# -- adding ---------------------------------------------------------------------------------


def test_add_an_export_on_a_new_list_with_attributes_created(as_user: Any) -> None:
    admin = as_user("admin")
    answer = admin.post(
        EXPORTS,
        json=_new(
            "weekly news",
            first_name="first_name",
            attributes={"tier": "tier"},
            create_attributes=True,
            mode="mirror",
            empty_values="keep",
            phone_region="fr",
            profile_limit=1000,
            cron="0 6 * * 1-5",
            timezone="Europe/Paris",
        ),
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"{EXPORTS}/weekly%20news"
    view = answer.json()
    c = view["config"]
    assert (c["name"], c["connection"], c["segments"]) == ("weekly news", "shared", ["gold"])
    assert c["mapping"]["email"] == "email" and c["mapping"]["first_name"] == "first_name"
    assert c["mapping"]["attributes"] == {"TIER": "tier"}  # Brevo's names are upper case
    assert (c["mode"], c["empty_values"], c["phone_region"]) == ("mirror", "keep", "FR")
    assert (c["schedule"], c["cron"], c["timezone"]) == ("cron", "0 6 * * 1-5", "Europe/Paris")
    assert c["profile_limit"] == 1000 and view["created_by"] == "admin"
    assert view["next_firing"]["kind"] == "cron"
    assert admin.get(answer.headers["location"]).json()["config"] == c
    # what it created in the account: the list (its id saved) and the attribute
    lists = admin.get("/api/v1/connections/shared/brevo/lists", params={"limit": 500}).json()
    made = [x for x in lists["items"] if x["id"] == c["list_id"]]
    assert [x["name"] for x in made] == ["weekly news list"]
    attributes = admin.get("/api/v1/connections/shared/brevo/attributes").json()["items"]
    assert {"name": "TIER", "category": "normal", "type": "text"} in attributes


def test_add_onto_a_list_by_id_or_by_name(as_user: Any) -> None:
    admin = as_user("admin")
    by_id = _brevo_list(admin, "list by id")
    view = _add(admin, "on list id", new_list=None, list_id=by_id)
    assert view["config"]["list_id"] == by_id
    by_name = _brevo_list(admin, "list by name")
    view = _add(admin, "on list name", new_list=None, list_name="list by name")
    assert view["config"]["list_id"] == by_name
    assert view["config"]["schedule"] == "system" and view["config"]["mode"] == "add"
    twice = admin.post(EXPORTS, json=_new("twice", list_id=by_id))
    assert problem(twice, 422, "list_given_twice")["field"] == "new_list"
    neither = admin.post(EXPORTS, json=_new("neither", new_list=None))
    assert problem(neither, 422, "list_id_invalid")["field"] == "list_id"
    problem(admin.get(f"{EXPORTS}/twice"), 404, "export_not_found")


def test_a_contributor_adds_on_a_shared_connection_only(as_user: Any) -> None:
    carol = as_user("carol")
    view = _add(carol, "carols")
    assert view["created_by"] == "carol" and view["permissions"] == ["view", "edit", "run"]
    private = problem(
        carol.post(EXPORTS, json=_new("carols private", connection="private")),
        403,
        "connection_not_shared",
    )
    assert private["field"] == "connection"
    viewer = problem(
        as_user("victor").post(EXPORTS, json=_new("victors")), 403, "permission_denied"
    )
    assert "viewer" in viewer["detail"]
    for name in ("carols private", "victors"):
        problem(carol.get(f"{EXPORTS}/{name}"), 404, "export_not_found")


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"connection": "nope"}, 404, "connection_not_found", "connection"),
        ({"email": None}, 422, "request_invalid", "email"),
        ({"segments": []}, 422, "request_invalid", "segments"),
        ({"segments": ["nope"]}, 422, "segment_not_found", "segments"),
        ({"segments": ["gold", "gold"]}, 422, "segment_repeated", "segments"),
        ({"first_name": "no_such_column"}, 422, "column_not_found", "first_name"),
        ({"attributes": {"CITY": "no_such_column"}}, 422, "column_not_found", "attributes"),
        ({"attributes": {"tier": "tier", "TIER": "tier"}}, 422, "attribute_repeated", "attributes"),
        ({"attributes": {"EMAIL": "email"}}, 422, "attribute_reserved", "email"),
        ({"attributes": {"NEVER_MADE": "tier"}}, 422, "brevo_attribute_missing", "attributes"),
        ({"attributes": {"1X": "tier"}}, 422, "request_invalid", "attributes"),
        ({"mode": "sync"}, 422, "request_invalid", "mode"),
        ({"cron": "61 * * * *", "timezone": "UTC"}, 422, "cron_invalid", "cron"),
        ({"cron": "0 6 * * *"}, 422, "timezone_missing", "timezone"),
        ({"schedule": "manual", "cron": "0 6 * * *"}, 422, "schedule_conflict", "cron"),
        ({"phone_region": "XX"}, 422, "phone_region_invalid", "phone_region"),
        ({"profile_limit": 0}, 422, "request_invalid", "profile_limit"),
        ({"new_list": {"name": "news"}}, 422, "brevo_list_exists", "new_list"),
        ({"new_list": {"name": "x", "folder_id": 99999}}, 422, "brevo_folder_not_found", None),
        ({"frist_name": "first_name"}, 422, "request_invalid", "frist_name"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    as_user: Any, changes: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    admin = as_user("admin")
    answer = admin.post(EXPORTS, json=_new("refused", **changes))
    body = problem(answer, status, code)
    if field is not None:
        assert body["field"] == field or body["field"].startswith(f"{field}."), body
    else:
        assert body["field"] == "new_list.folder_id"
    problem(admin.get(f"{EXPORTS}/refused"), 404, "export_not_found")


def test_a_name_taken_is_refused(as_user: Any) -> None:
    taken = problem(as_user("admin").post(EXPORTS, json=_new("news")), 422, "export_invalid")
    assert "already exists" in taken["detail"] and taken["field"] == "name"


# -- editing --------------------------------------------------------------------------------


def test_edit_sets_and_clears_settings(as_user: Any) -> None:
    admin = as_user("admin")
    made = admin.post(
        "/api/v1/connections/shared/brevo/attributes", json={"name": "level", "type": "text"}
    )
    assert made.status_code == 201, made.text
    _add(admin, "edited", first_name="first_name", phone_region="FR")

    answer = admin.patch(
        f"{EXPORTS}/edited",
        json={"first_name": None, "phone_region": None, "attributes": {"level": "tier"}},
    )
    assert answer.status_code == 200, answer.text
    c = answer.json()["config"]
    assert c["mapping"]["first_name"] is None and c["phone_region"] is None
    assert c["mapping"]["attributes"] == {"LEVEL": "tier"}

    changed = admin.patch(
        f"{EXPORTS}/edited",
        json={
            "attributes": {"LEVEL": None},
            "mode": "mirror",
            "empty_values": "keep",
            "profile_limit": 10,
            "cron": "30 5 * * *",
            "timezone": "UTC",
        },
    ).json()
    c = changed["config"]
    assert c["mapping"]["attributes"] == {} and c["mapping"]["email"] == "email"
    assert (c["mode"], c["empty_values"], c["profile_limit"]) == ("mirror", "keep", 10)
    assert (c["schedule"], c["cron"], c["timezone"]) == ("cron", "30 5 * * *", "UTC")
    assert changed["next_firing"]["kind"] == "cron"
    back = admin.patch(f"{EXPORTS}/edited", json={"schedule": "system"}).json()["config"]
    assert (back["schedule"], back["cron"], back["timezone"]) == ("system", None, None)

    other_list = _brevo_list(admin, "edited elsewhere")
    moved = admin.patch(f"{EXPORTS}/edited", json={"list_name": "edited elsewhere"}).json()
    assert moved["config"]["list_id"] == other_list

    renamed = admin.patch(f"{EXPORTS}/edited", json={"name": "edited again"})
    assert renamed.json()["config"]["name"] == "edited again"
    problem(admin.get(f"{EXPORTS}/edited"), 404, "export_not_found")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({}, "export_invalid", None),  # nothing to change
        ({"mode": None}, "request_invalid", "mode"),  # only some settings can be emptied
        ({"email": None}, "request_invalid", "email"),
        ({"segments": ["nope"]}, "segment_not_found", "segments"),
        ({"attributes": {"NOT_MAPPED": None}}, "export_invalid", "attributes"),
        ({"list_id": 1, "list_name": "news"}, "list_given_twice", "list_name"),
        ({"phone_country_column": "tier"}, "phone_country_without_phone", "phone_country_column"),
        ({"schedule": "weekly"}, "request_invalid", "schedule"),
        ({"name": "vip"}, "export_invalid", "name"),  # taken
    ],
)
def test_bad_edits_are_refused_naming_the_field(
    as_user: Any, changes: dict[str, Any], code: str, field: str | None
) -> None:
    admin = as_user("admin")
    before = admin.get(f"{EXPORTS}/news").json()
    body = problem(admin.patch(f"{EXPORTS}/news", json=changes), 422, code)
    assert body.get("field") == field
    assert admin.get(f"{EXPORTS}/news").json() == before


# -- refusals by role, for every operation on one export ------------------------------------


def _operations(name: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    at = f"{EXPORTS}/{name}"
    return [
        ("PATCH", at, {"empty_values": "keep"}),
        ("DELETE", at, None),
        ("POST", f"{at}/duplicate", {"name": f"{name} copy", "share_list": True}),
        ("POST", f"{at}/detach", None),
        ("PUT", f"{at}/schedule", {"schedule": "manual"}),
        ("POST", f"{at}/dry-run", None),
    ]


@pytest.mark.parametrize(("user", "export"), [("victor", "news"), ("carol", "vip")])
def test_viewers_and_contributors_off_their_connections_are_refused(
    as_user: Any, user: str, export: str
) -> None:
    client = as_user(user)
    admin = as_user("admin")
    before = admin.get(f"{EXPORTS}/{export}").json()
    for method, url, body in _operations(export):
        answer = client.request(method, url, json=body)
        assert problem(answer, 403, "permission_denied")["detail"], (method, url)
    assert admin.get(f"{EXPORTS}/{export}").json() == before
    problem(admin.get(f"{EXPORTS}/{export} copy"), 404, "export_not_found")
    problem(
        client.post("/api/v1/connections/private/brevo/lists", json={"name": "x"}),
        403,
        ("connection_not_shared" if user == "carol" else "permission_denied"),
    )


def test_every_operation_on_an_unknown_export_is_404(as_user: Any) -> None:
    admin = as_user("admin")
    for method, url, body in _operations("nope"):
        problem(admin.request(method, url, json=body), 404, "export_not_found")


def test_every_new_operation_needs_credentials(web: Web) -> None:
    with web.client() as anonymous:
        for method, url, body in [
            *_operations("news"),
            ("POST", EXPORTS, _new("anonymous")),
            ("POST", "/api/v1/runs", None),
            ("GET", "/api/v1/connections/shared/brevo/lists", None),
            ("GET", "/api/v1/connections/shared/brevo/folders", None),
            ("GET", "/api/v1/connections/shared/brevo/attributes", None),
            ("POST", "/api/v1/connections/shared/brevo/lists", {"name": "anonymous"}),
            ("POST", "/api/v1/connections/shared/brevo/attributes", {"name": "ANON"}),
        ]:
            answer = anonymous.request(method, url, json=body)
            problem(answer, 401, "authentication_required")
            assert answer.headers["www-authenticate"] == "Bearer"


def test_a_contributor_manages_exports_on_a_shared_connection(as_user: Any) -> None:
    carol = as_user("carol")
    _add(carol, "carols own")
    for method, url, body in _operations("carols own"):
        if method != "DELETE":
            answer = carol.request(method, url, json=body)
            assert answer.status_code in (200, 201), (method, url, answer.text)
    assert carol.get(f"{EXPORTS}/carols own copy").json()["created_by"] == "carol"
    assert carol.delete(f"{EXPORTS}/carols own").status_code == 204


# -- duplicate, detach, schedule, remove ----------------------------------------------------


def test_duplicate_onto_the_same_list_knowingly_or_another(as_user: Any) -> None:
    admin = as_user("admin")
    source = _add(admin, "source", first_name="first_name")["config"]
    shared = admin.post(f"{EXPORTS}/source/duplicate", json={"name": "copy"})
    assert problem(shared, 422, "list_shared")["field"] == "list_id"
    copy = admin.post(f"{EXPORTS}/source/duplicate", json={"name": "copy", "share_list": True})
    assert copy.status_code == 201, copy.text
    assert copy.headers["location"] == f"{EXPORTS}/copy"
    c = copy.json()["config"]
    assert c["list_id"] == source["list_id"] and c["share_list"] is True
    assert c["mapping"] == source["mapping"] and copy.json()["last_run_at"] is None
    assert admin.get(f"{EXPORTS}/copy").json()["list_peers"] == ["source"]

    elsewhere = _brevo_list(admin, "copy elsewhere")
    other = admin.post(
        f"{EXPORTS}/source/duplicate", json={"name": "other copy", "list_name": "copy elsewhere"}
    )
    assert other.status_code == 201 and other.json()["config"]["list_id"] == elsewhere
    problem(
        admin.post(f"{EXPORTS}/source/duplicate", json={"name": "copy", "share_list": True}),
        422,
        "export_invalid",
    )
    no_name = admin.post(f"{EXPORTS}/source/duplicate", json={"share_list": True})
    assert problem(no_name, 422, "request_invalid")["field"] == "name"


def test_detach_then_remove(as_user: Any) -> None:
    admin = as_user("admin")
    _add(admin, "detached", schedule="manual")
    detached = admin.post(f"{EXPORTS}/detached/detach")
    assert detached.status_code == 200, detached.text
    assert detached.json()["config"]["connection"] is None
    assert detached.json()["connection_type"] is None
    skipped = admin.post(f"{EXPORTS}/detached/dry-run").json()
    assert (skipped["status"], skipped["reason"]) == ("skipped", "no_connection")
    assert skipped["members"] == 0
    again = admin.patch(f"{EXPORTS}/detached", json={"connection": "shared"}).json()
    assert again["config"]["connection"] == "shared"

    removed = admin.delete(f"{EXPORTS}/detached")
    assert removed.status_code == 204 and removed.content == b""
    problem(admin.get(f"{EXPORTS}/detached"), 404, "export_not_found")
    problem(admin.delete(f"{EXPORTS}/detached"), 404, "export_not_found")
    audit = admin.get("/api/v1/audit", params={"limit": 500}).json()["items"]
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("exports.remove", "detached") in actions and ("exports.detach", "detached") in actions


def test_schedule_an_export(as_user: Any) -> None:
    admin = as_user("admin")
    _add(admin, "scheduled")
    cron = admin.put(
        f"{EXPORTS}/scheduled/schedule", json={"cron": "15 7 * * 1", "timezone": "Europe/Paris"}
    )
    assert cron.status_code == 200, cron.text
    firing = cron.json()["next_firing"]
    assert firing["kind"] == "cron" and firing["zone"] == "Europe/Paris" and firing["at"]
    manual = admin.put(f"{EXPORTS}/scheduled/schedule", json={"schedule": "manual"}).json()
    assert manual["config"]["schedule"] == "manual" and manual["config"]["cron"] is None
    for body, code, field in [
        ({"cron": "not cron", "timezone": "UTC"}, "cron_invalid", "cron"),
        ({"cron": "0 6 * * *"}, "timezone_missing", "timezone"),
        ({"cron": "0 6 * * *", "timezone": "Mars/Base"}, "timezone_invalid", "timezone"),
        ({"schedule": "system", "timezone": "UTC"}, "schedule_conflict", "timezone"),
        ({"schedule": "hourly"}, "request_invalid", "schedule"),
    ]:
        refused = problem(admin.put(f"{EXPORTS}/scheduled/schedule", json=body), 422, code)
        assert refused["field"] == field, body
    assert admin.get(f"{EXPORTS}/scheduled").json()["config"]["schedule"] == "manual"


# -- the dry run and Run all ----------------------------------------------------------------


def test_a_dry_run_says_what_a_run_would_do_and_records_nothing(as_user: Any) -> None:
    admin, carol = as_user("admin"), as_user("carol")
    _add(admin, "dry", first_name="first_name")
    answer = carol.post(f"{EXPORTS}/dry/dry-run")
    assert answer.status_code == 200, answer.text
    s = answer.json()
    assert (s["export_name"], s["status"], s["mode"], s["full"]) == (
        "dry",
        "successful",
        "add",
        False,
    )
    assert (s["members"], s["valid"], s["new"], s["changed"], s["sent"]) == (5, 5, 5, 0, 5)
    assert sorted(s["samples"]["new"]) == [f"user{i}@example.com" for i in range(1, 6)]
    assert s["rejected_total"] == 0 and s["to_remove"] == 0
    assert "rejected_csv" not in s and "run_id" not in s  # no file, no record
    full = admin.post(f"{EXPORTS}/dry/dry-run", json={"full": True}).json()
    assert full["full"] is True and full["sent"] == 5
    assert admin.get("/api/v1/runs", params={"export": "dry"}).json()["total"] == 0
    bad = admin.post(f"{EXPORTS}/dry/dry-run", json={"full": "sometimes"})
    assert problem(bad, 422, "request_invalid")["field"] == "full"


def test_run_all_requests_a_run_of_every_export_on_a_schedule(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    _add(admin, "run all manual", schedule="manual")
    problem(as_user("victor").post("/api/v1/runs"), 403, "permission_denied")

    first = admin.post("/api/v1/runs")
    assert first.status_code == 202, first.text
    body = first.json()
    names = [r["export_name"] for r in body["items"]]
    assert names == sorted(names) and "news" in names and "vip" in names
    assert "run all manual" not in names
    assert body["requested"] + body["busy"] == len(names)
    queued = [r["run"] for r in body["items"] if r["run"] is not None]
    assert all(r["status"] == "queued" and r["actor"] == "admin" for r in queued)

    again = admin.post("/api/v1/runs").json()  # every one is queued now: all busy
    assert again["requested"] == 0 and again["busy"] == len(names)
    busy = {r["export_name"]: r for r in again["items"]}
    # a contributor's Run all: only the exports on connections shared with contributors
    theirs = [r["export_name"] for r in as_user("carol").post("/api/v1/runs").json()["items"]]
    assert "news" in theirs and "vip" not in theirs
    for run in queued:
        assert busy[run["export_name"]]["busy_run_id"] == run["id"]
        assert busy[run["export_name"]]["busy"]
        assert admin.post(f"/api/v1/runs/{run['id']}/cancel").status_code == 200


# -- a connection's Brevo account -----------------------------------------------------------

BREVO = "/api/v1/connections/{}/brevo"


def test_the_accounts_lists_folders_and_attributes(as_user: Any) -> None:
    carol = as_user("carol")  # a contributor, on a connection shared with contributors
    at = BREVO.format("shared")
    lists = carol.get(f"{at}/lists", params={"limit": 500}).json()
    assert lists["total"] == len(lists["items"]) >= 2
    news = next(x for x in lists["items"] if x["name"] == "news")
    assert set(news) == {"id", "name", "folder_id", "contacts"}
    assert [x["id"] for x in lists["items"]] == sorted(x["id"] for x in lists["items"])
    second = carol.get(f"{at}/lists", params={"limit": 1, "offset": 1}).json()
    assert second["items"] == lists["items"][1:2] and second["total"] == lists["total"]

    folders = carol.get(f"{at}/folders").json()
    assert folders["total"] >= 1 and news["folder_id"] in [f["id"] for f in folders["items"]]
    in_folder = carol.get(f"{at}/lists", params={"folder_id": news["folder_id"]}).json()
    assert news in in_folder["items"]
    assert all(x["folder_id"] == news["folder_id"] for x in in_folder["items"])

    attributes = carol.get(f"{at}/attributes").json()["items"]
    assert any(a["name"] == "FIRSTNAME" for a in attributes)
    assert attributes == sorted(attributes, key=lambda a: (a["category"], a["name"]))
    bad = carol.get(f"{at}/lists", params={"folder_id": 0})
    assert problem(bad, 422, "request_invalid")["field"] == "folder_id"


def test_create_a_list_and_an_attribute_in_the_account(as_user: Any) -> None:
    admin, carol = as_user("admin"), as_user("carol")
    at = BREVO.format("shared")
    folder = admin.get(f"{at}/folders").json()["items"][0]["id"]
    made = carol.post(f"{at}/lists", json={"name": "made by carol", "folder_id": folder})
    assert made.status_code == 201, made.text
    assert made.json() | {"id": 0} == {
        "id": 0,
        "name": "made by carol",
        "folder_id": folder,
        "contacts": 0,
    }
    assert made.json() in admin.get(f"{at}/lists", params={"limit": 500}).json()["items"]
    exists = carol.post(f"{at}/lists", json={"name": "MADE BY CAROL"})
    assert problem(exists, 422, "brevo_list_exists")["field"] == "name"
    no_folder = carol.post(f"{at}/lists", json={"name": "lost", "folder_id": 99999})
    assert problem(no_folder, 422, "brevo_folder_not_found")["field"] == "folder_id"
    blank = carol.post(f"{at}/lists", json={"name": "   "})
    assert problem(blank, 422, "brevo_name_invalid")["field"] == "name"

    attribute = carol.post(f"{at}/attributes", json={"name": "score", "type": "float"})
    assert attribute.status_code == 201, attribute.text
    assert attribute.json() == {"name": "SCORE", "category": "normal", "type": "float"}
    assert attribute.json() in admin.get(f"{at}/attributes").json()["items"]
    exists = carol.post(f"{at}/attributes", json={"name": "Score"})
    assert problem(exists, 422, "brevo_attribute_exists")["field"] == "name"
    bad_name = carol.post(f"{at}/attributes", json={"name": "1st"})
    assert problem(bad_name, 422, "attribute_name_invalid")["field"] == "name"
    bad_type = carol.post(f"{at}/attributes", json={"name": "WHEN", "type": "datetime"})
    assert problem(bad_type, 422, "request_invalid")["field"] == "type"
    audit = admin.get("/api/v1/audit", params={"limit": 500}).json()["items"]
    assert {("brevo.lists.create", "carol"), ("brevo.attributes.create", "carol")} <= {
        (e["action"], e["actor"]) for e in audit
    }


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_the_account_lookups_are_refused_by_role(as_user: Any, user: str) -> None:
    client = as_user(user)
    connections = ["private", "shared"] if user == "victor" else ["private"]
    code = "permission_denied" if user == "victor" else "connection_not_shared"
    for connection in connections:
        at = BREVO.format(connection)
        for method, url, body in [
            ("GET", f"{at}/lists", None),
            ("GET", f"{at}/folders", None),
            ("GET", f"{at}/attributes", None),
            ("POST", f"{at}/lists", {"name": f"by {user}"}),
            ("POST", f"{at}/attributes", {"name": "BYROLE"}),
        ]:
            problem(client.request(method, url, json=body), 403, code)
    names = [
        x["name"] for x in as_user("admin").get(f"{BREVO.format('private')}/lists").json()["items"]
    ]
    assert f"by {user}" not in names


def test_an_unknown_connection_and_a_brevo_that_fails(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    unknown = problem(admin.get(f"{BREVO.format('nope')}/lists"), 404, "connection_not_found")
    assert unknown["field"] == "connection"
    # a connection whose Brevo is not there (nothing listens on its port): 502, Brevo's word
    add_connection(
        web.ws,
        web.actor("admin"),
        "gone",
        "brevo",
        "xkeysib-gone",
        agree_privacy=True,
        base_url=f"http://127.0.0.1:{free_port()}/v3",
        verify=False,
    )
    failed = problem(admin.get(f"{BREVO.format('gone')}/folders"), 502, "brevo_unreachable")
    assert failed["kind"] == "unavailable"
