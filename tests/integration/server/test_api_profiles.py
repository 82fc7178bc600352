"""The profiles resource: the source, a few rows, and a file loaded from the request body
(CSV, JSON Lines, gzip), with its bad rows and values reported by line and column; the
refusals by role, content type, size cap, schema change and strict mode.

Every load keeps the columns the module's segment and exports use (customer_id, email,
first_name, tier), so each test finds the profiles usable whatever ran before it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest
from tests.fixtures.server import Web
from tests.integration.server.api_helpers import problem

from segport.server import uploads
from segport.service import describe_source

LOADS = "/api/v1/profiles/loads"
CSV = {"Content-Type": "text/csv"}


def profiles_csv(
    rows: int = 12, *, bad_age_at: int | None = None, long_row_at: int | None = None
) -> str:
    """customer_id,email,first_name,tier,age with ``rows`` profiles; optionally one age
    that is not a number and one row with too many columns (1-based profile numbers: the
    file's line is one more, after the header)."""
    lines = ["customer_id,email,first_name,tier,age"]
    for i in range(1, rows + 1):
        age = "abc" if i == bad_age_at else str(20 + i)
        extra = ",spare,more" if i == long_row_at else ""
        lines.append(f"{i},user{i}@example.com,First{i},gold,{age}{extra}")
    return "\n".join(lines) + "\n"


def _load(web: Web, body: bytes | str, headers: dict[str, str] | None = None, **params: object):  # type: ignore[no-untyped-def]
    with web.bearer("admin") as admin:
        return admin.post(LOADS, content=body, headers=headers or CSV, params=params)


@pytest.mark.parametrize("user", ["admin", "carol", "victor"])
def test_everyone_sees_where_the_profiles_are_and_the_first_rows(web: Web, user: str) -> None:
    with web.bearer(user) as client:
        source = client.get("/api/v1/profiles")
        rows = client.get("/api/v1/profiles/rows", params={"limit": 2})
        further = client.get("/api/v1/profiles/rows", params={"limit": 2, "offset": 3})
        past = client.get("/api/v1/profiles/rows", params={"offset": 10_000})
        too_many = client.get("/api/v1/profiles/rows", params={"limit": 501})
        before = client.get("/api/v1/profiles/rows", params={"offset": -1})
    assert source.status_code == 200, source.text
    body = source.json()
    assert (body["kind"], body["table"], body["id_column"]) == (
        "duckdb",
        "customers",
        "customer_id",
    )
    assert body["row_count"] >= 5 and body["updated_at"]
    assert body["columns"]["customer_id"][0] == "BIGINT"
    assert body["columns"]["tier"] == ["VARCHAR", body["columns"]["tier"][1]]
    assert rows.status_code == 200, rows.text
    page = rows.json()
    assert page["limit"] == 2 and page["columns"][0] == "customer_id"
    assert [r["customer_id"] for r in page["items"]] == [1, 2]
    assert page["items"][0]["email"] == "user1@example.com"
    assert (page["total"], page["offset"]) == (body["row_count"], 0)
    # a page further on: ids 4 and 5; past the end: none, the same total
    assert [r["customer_id"] for r in further.json()["items"]] == [4, 5]
    assert further.json()["offset"] == 3
    assert past.json()["items"] == [] and past.json()["total"] == body["row_count"]
    assert problem(too_many, 422, "request_invalid")["field"] == "limit"
    assert problem(before, 422, "request_invalid")["field"] == "offset"


def test_not_signed_in_is_refused(web: Web) -> None:
    with web.client() as anonymous:
        for answer in (
            anonymous.get("/api/v1/profiles"),
            anonymous.get("/api/v1/profiles/rows"),
            anonymous.post(LOADS, content=profiles_csv(), headers=CSV),
        ):
            problem(answer, 401, "authentication_required")


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_only_admins_load(web: Web, user: str) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    with web.bearer(user) as client:
        answer = client.post(LOADS, content=profiles_csv(3), headers=CSV, params={"replace": True})
    assert problem(answer, 403, "permission_denied")["kind"] == "forbidden"
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at


def test_a_csv_loads_with_its_bad_rows_and_values_by_line_and_column(web: Web) -> None:
    text = profiles_csv(12, bad_age_at=5, long_row_at=9)
    answer = _load(web, text, replace=True, name="march.csv")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["file"], body["format"], body["table"]) == ("march.csv", "csv", "customers")
    assert body["rows"] == 11 and body["rejected_rows"] == 1 and body["bad_values"] == 1
    assert body["columns"]["age"] == "BIGINT"
    by_kind = {p["kind"]: p for p in body["problems"]}
    bad = by_kind["bad_value"]
    assert (bad["row"], bad["field"]) == (6, "age") and "'abc'" in bad["message"]
    skipped = by_kind["rejected_row"]
    assert skipped["row"] == 10 and skipped["field"] is None
    assert "too many columns" in skipped["message"] and "spare" in skipped["text"]
    assert [p["row"] for p in body["problems"]] == [6, 10]  # by line
    source = describe_source(web.ws, web.actor("admin"))
    assert source.loaded_from == "march.csv" and source.row_count == 11
    with web.bearer("victor") as viewer:
        row5 = viewer.get("/api/v1/profiles/rows", params={"limit": 5}).json()["items"][4]
    assert row5["customer_id"] == 5 and row5["age"] is None  # the bad value loaded empty


def test_json_lines_and_gzip_load(web: Web) -> None:
    records = [
        {"customer_id": i, "email": f"j{i}@example.com", "first_name": f"J{i}", "tier": "gold"}
        for i in range(1, 8)
    ]
    lines = [json.dumps(r) for r in records]
    lines.insert(3, "this is not json")
    jsonl = ("\n".join(lines) + "\n").encode()
    answer = _load(web, jsonl, {"Content-Type": "application/x-ndjson"}, replace=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["format"], body["rows"], body["rejected_rows"]) == ("jsonl", 7, 1)
    assert body["problems"][0]["row"] == 4 and body["problems"][0]["text"] == "this is not json"
    assert body["file"] == "upload.jsonl"
    zipped = gzip.compress(profiles_csv(6).encode())
    answer = _load(
        web, zipped, {"Content-Type": "text/csv", "Content-Encoding": "gzip"}, replace=True
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["rows"], answer.json()["problems"]) == (6, [])
    assert describe_source(web.ws, web.actor("admin")).loaded_from == "upload.csv.gz"
    # a name is kept without folders or control characters
    named = _load(web, profiles_csv(6), replace=True, name="../in/be\x07ll.csv")
    assert named.json()["file"] == "bell.csv"
    assert describe_source(web.ws, web.actor("admin")).loaded_from == "bell.csv"


def test_what_cannot_be_loaded_is_refused_and_changes_nothing(web: Web) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    no_tier = "customer_id,email,first_name\n1,a@example.com,A\n"
    answers = {
        "type": _load(web, profiles_csv(), {"Content-Type": "application/json"}),
        "encoding": _load(
            web, profiles_csv(), {"Content-Type": "text/csv", "Content-Encoding": "br"}
        ),
        "empty": _load(web, b"", replace=True),
        "exists": _load(web, profiles_csv()),  # the table holds profiles: replace them or not
        "id": _load(web, profiles_csv(), replace=True, id_column="nope"),
        "strict": _load(web, profiles_csv(12, bad_age_at=3), replace=True, strict=True),
        "schema": _load(web, no_tier, replace=True),
    }
    assert problem(answers["type"], 422, "content_type_invalid")["field"] == "Content-Type"
    assert problem(answers["encoding"], 422, "content_encoding_invalid")["kind"] == "invalid"
    assert problem(answers["empty"], 422, "upload_invalid")["field"] == "file"
    assert problem(answers["exists"], 422, answers["exists"].json()["code"])["field"] == "replace"
    assert answers["id"].status_code == 422 and answers["id"].json()["field"] == "id_column"
    # the file by its name, not the server's temporary file
    assert "upload.csv" in answers["id"].json()["detail"]
    assert "segport-upload" not in answers["id"].json()["detail"]
    assert answers["strict"].status_code == 422, answers["strict"].text
    refused = problem(answers["schema"], 409, "schema_change_refused")
    assert refused["field"] == "allow_schema_change" and "tier" in refused["detail"]
    after = describe_source(web.ws, web.actor("admin"))
    assert (after.updated_at, after.row_count, after.columns) == (
        before.updated_at,
        before.row_count,
        before.columns,
    )


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 2000)
    return 2000


def test_an_upload_over_the_cap_is_refused_declared_or_streamed(web: Web, small_cap: int) -> None:
    before = describe_source(web.ws, web.actor("admin"))
    big = profiles_csv(200).encode()
    assert len(big) > small_cap

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    declared = _load(web, big, replace=True)
    streamed = _load(web, chunks(), replace=True)  # type: ignore[arg-type]
    for answer in (declared, streamed):
        assert problem(answer, 422, "upload_too_large")["field"] == "file"
    assert describe_source(web.ws, web.actor("admin")).updated_at == before.updated_at
    fits = _load(web, profiles_csv(5), replace=True)  # under the cap: loaded
    assert fits.status_code == 200 and fits.json()["rows"] == 5
