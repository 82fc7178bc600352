"""The Brevo client against the sandbox over real HTTP on loopback: endpoints and errors."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from segport.brevo import (
    AuthenticationError,
    BrevoClient,
    InvalidRequestError,
    NotFoundError,
    Process,
)
from segport.brevo.sandbox import SandboxServer


@pytest.fixture
def brevo(sandbox: SandboxServer) -> Iterator[BrevoClient]:
    with BrevoClient(sandbox.api_key, sandbox.base_url, requests_per_second=1000) as client:
        yield client


@pytest.fixture
def list_id(sandbox: SandboxServer) -> int:
    return sandbox.state.create_list("Segment export")


def import_and_wait(brevo: BrevoClient, list_id: int, **body: Any) -> Process:
    process_id = brevo.import_contacts(list_ids=[list_id], **body)
    return brevo.wait_for_process(process_id, timeout=30, first_delay=0.02, max_delay=0.2)


def test_account_attributes_and_lists(brevo: BrevoClient, sandbox: SandboxServer) -> None:
    account = brevo.get_account()
    assert account.email and account.plans and account.plans[0].type
    names = {a.name: a for a in brevo.get_attributes()}
    assert {"FIRSTNAME", "LASTNAME", "SMS"} <= names.keys()
    assert names["FIRSTNAME"].category == "normal" and names["FIRSTNAME"].type == "text"

    brevo.create_attribute("normal", "LOYALTY_TIER", "text")
    created = {a.name: a for a in brevo.get_attributes()}["LOYALTY_TIER"]
    assert (created.category, created.type) == ("normal", "text")

    folder_id = brevo.create_folder("segport")
    assert [f.name for f in brevo.get_folders() if f.id == folder_id] == ["segport"]
    list_id = brevo.create_list("VIP customers", folder_id)
    fetched = brevo.get_list(list_id)
    assert (fetched.id, fetched.name, fetched.folder_id) == (list_id, "VIP customers", folder_id)


def test_get_lists_pages_through_all_of_them(brevo: BrevoClient, sandbox: SandboxServer) -> None:
    made = [sandbox.state.create_list(f"list {i:03d}") for i in range(123)]
    before = brevo.requests_sent
    lists = brevo.get_lists()
    assert [x.id for x in lists] == made
    assert lists[122].name == "list 122"
    assert brevo.requests_sent - before == 3  # pages of 50


def test_missing_list_is_not_found_with_brevo_details(brevo: BrevoClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        brevo.get_list(999)
    error = caught.value
    assert (error.status, error.brevo_code, error.method, error.path) == (
        404,
        "document_not_found",
        "GET",
        "/contacts/lists/999",
    )
    assert error.request_id and error.request_id.startswith("sandbox-")
    assert str(error).startswith("Brevo said 404 document_not_found: ")
    assert str(error).endswith(f"(GET /contacts/lists/999, request id {error.request_id})")


def test_wrong_key_is_an_authentication_error_without_the_key(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="segport.brevo")
    wrong = "xkeysib-thisisnotthekey-0042"
    with BrevoClient(wrong, sandbox.base_url) as client:
        with pytest.raises(AuthenticationError) as e:
            client.get_account()
        assert client.requests_sent == 1  # 401 is not retried
    assert (e.value.status, e.value.brevo_code) == (401, "unauthorized")
    texts = [str(e.value), repr(e.value), *(r.getMessage() for r in caplog.records)]
    assert all(wrong not in text for text in texts)


def test_bad_request_is_final(brevo: BrevoClient, sandbox: SandboxServer) -> None:
    brevo.create_attribute("normal", "LOYALTY", "float")
    with pytest.raises(InvalidRequestError) as caught:
        brevo.create_attribute("normal", "LOYALTY", "float")  # already exists
    assert caught.value.status == 400 and "LOYALTY" in caught.value.message
    assert brevo.requests_sent == 2


def test_list_in_a_missing_folder_is_a_final_not_found(brevo: BrevoClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        brevo.create_list("orphan", 4242)  # no such folder: Brevo answers 404
    assert caught.value.status == 404 and "folder" in caught.value.message.lower()
    assert brevo.requests_sent == 1


AWKWARD = {
    "FIRSTNAME": 'Zoë; "the" 🎉',
    "LASTNAME": "O'Brien\nSecond line",
}


def test_json_import_upserts_into_the_list(
    brevo: BrevoClient, sandbox: SandboxServer, list_id: int
) -> None:
    rows = [
        {"email": "ada@example.com", "attributes": AWKWARD},
        {"email": "not-an-email", "attributes": {"FIRSTNAME": "x"}},
        {"email": "bob@example.com", "attributes": {"FIRSTNAME": "Bob", "SMS": "+33612345678"}},
    ]
    process = import_and_wait(brevo, list_id, json_body=rows)
    assert process.completed
    assert sandbox.state.list_member_emails(list_id) == {"ada@example.com", "bob@example.com"}
    ada = brevo.get_contact("ada@example.com")
    assert {k: ada.attributes[k] for k in AWKWARD} == AWKWARD
    assert ada.list_ids == [list_id]

    report = process.import_report
    assert report is not None and report.invalid_emails is not None
    rows_back = list(
        csv.reader(io.StringIO(brevo.download_report(report.invalid_emails)), delimiter=";")
    )
    assert any("not-an-email" in row for row in rows_back[1:])


def test_preserialised_json_and_csv_bodies(
    brevo: BrevoClient, sandbox: SandboxServer, list_id: int
) -> None:
    payload = orjson.dumps([{"email": "c@example.com", "attributes": AWKWARD}])
    assert import_and_wait(brevo, list_id, json_body=payload).completed
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\n")
    writer.writerow(["EMAIL", "FIRSTNAME", "LASTNAME"])
    writer.writerow(["d@example.com", AWKWARD["FIRSTNAME"], AWKWARD["LASTNAME"]])
    assert import_and_wait(brevo, list_id, file_body=text.getvalue()).completed
    assert sandbox.state.list_member_emails(list_id) == {"c@example.com", "d@example.com"}
    for email in ("c@example.com", "d@example.com"):
        attributes = brevo.get_contact(email).attributes
        assert {k: attributes[k] for k in AWKWARD} == AWKWARD


def test_import_never_touches_blacklist_flags(
    brevo: BrevoClient, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("gone@example.com", {"FIRSTNAME": "Old"}, email_blacklisted=True)
    rows = [
        {"email": "gone@example.com", "attributes": {"FIRSTNAME": "New"}},
        {"email": "fresh@example.com", "attributes": {"FIRSTNAME": "Fresh"}},
    ]
    assert import_and_wait(brevo, list_id, json_body=rows).completed
    gone = brevo.get_contact("gone@example.com")
    assert gone.email_blacklisted and gone.attributes["FIRSTNAME"] == "New"
    assert not brevo.get_contact("fresh@example.com").email_blacklisted


def test_empty_values_do_not_erase_attributes(
    brevo: BrevoClient, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("keep@example.com", {"FIRSTNAME": "Kept", "LASTNAME": "Too"})
    rows = [{"email": "keep@example.com", "attributes": {"FIRSTNAME": "", "LASTNAME": "New"}}]
    assert import_and_wait(brevo, list_id, json_body=rows).completed
    attributes = brevo.get_contact("keep@example.com").attributes
    assert (attributes["FIRSTNAME"], attributes["LASTNAME"]) == ("Kept", "New")


def test_iter_list_contacts_reads_every_member(
    brevo: BrevoClient, sandbox: SandboxServer, list_id: int
) -> None:
    rows = [{"email": f"m{i:04d}@example.com"} for i in range(1_234)]
    assert import_and_wait(brevo, list_id, json_body=rows).completed
    before = brevo.requests_sent
    emails = [c.email or "" for c in brevo.iter_list_contacts(list_id)]
    assert sorted(emails) == [r["email"] for r in rows]  # each once, none missing
    assert brevo.requests_sent - before == 3
    page = brevo.list_contacts(list_id, limit=10, offset=1_230)
    assert (len(page.contacts), page.count) == (4, 1_234)
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert brevo.list_contacts(list_id, modified_since=later).count == 0


def test_add_and_remove_members(brevo: BrevoClient, sandbox: SandboxServer, list_id: int) -> None:
    for email in ("a@example.com", "b@example.com"):
        sandbox.state.upsert_contact(email)
    added = brevo.add_to_list(list_id, ["a@example.com", "b@example.com", "ghost@example.com"])
    assert (added.success, added.failure) == (
        ["a@example.com", "b@example.com"],
        ["ghost@example.com"],
    )
    # a repeat changes nothing and reads as all-failure, not as an error (idempotent)
    again = brevo.add_to_list(list_id, ["a@example.com", "b@example.com"])
    assert (again.success, again.failure) == ([], ["a@example.com", "b@example.com"])
    removed = brevo.remove_from_list(list_id, ["a@example.com"])
    assert (removed.success, removed.failure) == (["a@example.com"], [])
    assert brevo.remove_from_list(list_id, ["a@example.com"]).failure == ["a@example.com"]
    assert sandbox.state.list_member_emails(list_id) == {"b@example.com"}
    assert brevo.get_contact("a@example.com").list_ids == []  # removed, never deleted
    with pytest.raises(NotFoundError):
        brevo.add_to_list(list_id + 100, ["a@example.com"])


def test_single_contact_calls(brevo: BrevoClient, sandbox: SandboxServer, list_id: int) -> None:
    contact_id = brevo.create_contact(
        "solo@example.com", attributes={"FIRSTNAME": "Solo"}, list_ids=[list_id]
    )
    assert isinstance(contact_id, int)
    brevo.update_contact("solo@example.com", attributes={"LASTNAME": "Han"})
    contact = brevo.get_contact("solo@example.com")
    assert contact.id == contact_id and contact.list_ids == [list_id]
    assert (contact.attributes["FIRSTNAME"], contact.attributes["LASTNAME"]) == ("Solo", "Han")
    assert brevo.get_contact(contact_id).email == "solo@example.com"
    with pytest.raises(InvalidRequestError):
        brevo.create_contact("solo@example.com")  # already exists, no update_enabled
    assert brevo.create_contact("solo@example.com", update_enabled=True) is None
    with pytest.raises(NotFoundError):
        brevo.get_contact("nobody@example.com")


def test_unknown_process_is_not_found(brevo: BrevoClient) -> None:
    with pytest.raises(NotFoundError):
        brevo.get_process(424242)
