"""Contract suite: brevo-python 5.x drives every sandbox endpoint; every answer deserializes.

Each answer is also validated strictly against the SDK's pydantic model (`strict`).
"""

from __future__ import annotations

import httpx
import pytest
from brevo import Brevo
from brevo.account import GetAccountResponse
from brevo.contacts import (
    AddContactToListRequestBodyEmails,
    AddContactToListRequestBodyIds,
    CreateFolderResponse,
    CreateListResponse,
    GetAttributesResponse,
    GetFoldersResponse,
    GetListResponse,
    GetListsResponse,
    ImportContactsRequestJsonBodyItem,
    ImportContactsRequestNewList,
    ImportContactsResponse,
    RemoveContactFromListRequestBodyAll,
    RemoveContactFromListRequestBodyEmails,
)
from brevo.contacts.types import CreateContactResponse, GetContactInfoResponse
from brevo.core.api_error import ApiError
from brevo.errors import BadRequestError, NotFoundError, TooManyRequestsError
from brevo.process import GetProcessesResponse, GetProcessResponse
from brevo.types import ErrorModel, GetContacts, PostContactInfo
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.sandbox.conftest import strict, wait_completed

from segport.brevo.sandbox import SandboxServer


def _folder_and_list(client: Brevo, name: str = "Segment") -> tuple[int, int]:
    folder = client.contacts.create_folder(name=f"{name} folder").id
    assert folder is not None
    return folder, client.contacts.create_list(folder_id=folder, name=name).id


def test_account(brevo: Brevo) -> None:
    raw = brevo.account.with_raw_response.get_account()
    acct = strict(GetAccountResponse, raw)
    assert acct.email and acct.plan and acct.plan[0].credits_type == "sendLimit"
    assert raw.headers["sib-request-id"]


def test_attributes_defaults_and_create(brevo: Brevo) -> None:
    attrs = strict(GetAttributesResponse, brevo.contacts.with_raw_response.get_attributes())
    names = {a.name: a for a in attrs.attributes or []}
    assert {"FIRSTNAME", "LASTNAME", "SMS"} <= names.keys()
    assert names["SMS"].category == "normal" and names["SMS"].type == "text"
    brevo.contacts.create_attribute("normal", "LOYALTY", type="float")
    brevo.contacts.create_attribute(
        "category",
        "TIER",
        type="text",
        enumeration=[{"value": 1, "label": "Gold"}, {"value": 2, "label": "Silver"}],  # type: ignore[list-item]
    )
    brevo.contacts.create_attribute(
        "normal", "TOPICS", type="multiple-choice", multi_category_options=["news", "sales"]
    )
    after = {a.name: a for a in brevo.contacts.get_attributes().attributes or []}
    assert after["LOYALTY"].type == "float"
    assert [e.label for e in after["TIER"].enumeration or []] == ["Gold", "Silver"]
    assert after["TOPICS"].multi_category_options == ["news", "sales"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_attribute("normal", "LOYALTY", type="float")
    assert err.value.body["code"] == "invalid_parameter"
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_attribute("normal", "BAD", type="color")  # type: ignore[arg-type]
    assert "type" in err.value.body["message"]


def test_folders_and_lists_crud(brevo: Brevo, sandbox: SandboxServer) -> None:
    raw_folder = brevo.contacts.with_raw_response.create_folder(name="Marketing")
    assert raw_folder.status_code == 201
    folder = strict(CreateFolderResponse, raw_folder).id
    assert folder is not None
    folders = strict(GetFoldersResponse, brevo.contacts.with_raw_response.get_folders(limit=50))
    assert folders.count == 1 and folders.folders and folders.folders[0].name == "Marketing"

    raw_list = brevo.contacts.with_raw_response.create_list(folder_id=folder, name="VIP")
    assert raw_list.status_code == 201
    list_id = strict(CreateListResponse, raw_list).id
    second = brevo.contacts.create_list(folder_id=folder, name="Churn").id
    lists = strict(GetListsResponse, brevo.contacts.with_raw_response.get_lists(limit=50))
    assert lists.count == 2 and [x.id for x in lists.lists or []] == [second, list_id]
    asc = brevo.contacts.get_lists(sort="asc", limit=1, offset=1)
    assert [x.id for x in asc.lists or []] == [second]

    got = strict(GetListResponse, brevo.contacts.with_raw_response.get_list(list_id))
    assert got.name == "VIP" and got.folder_id == folder and got.created_at.endswith("Z")
    brevo.contacts.update_list(list_id, name="VIP 2")
    assert brevo.contacts.get_list(list_id).name == "VIP 2"

    sandbox.state.upsert_contact("kept@example.com", list_ids=[second])
    brevo.contacts.delete_list(second)
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.get_list(second)
    assert err.value.body == {"code": "document_not_found", "message": "List ID does not exist"}
    assert sandbox.state.get_contact("kept@example.com") is not None  # contacts stay


def test_list_errors_name_the_field(brevo: Brevo) -> None:
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_list(folder_id=999, name=" ")
    assert "name" in err.value.body["message"]
    # (an unknown folderId: test_sdk_folders_attributes.py)
    with pytest.raises(NotFoundError):
        brevo.contacts.update_list(424242, name="x")
    with pytest.raises(NotFoundError):
        brevo.contacts.delete_list(424242)
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_lists(limit=51)
    assert "limit" in err.value.body["message"]


def test_import_file_body_then_read_the_list(brevo: Brevo, sandbox: SandboxServer) -> None:
    _, list_id = _folder_and_list(brevo)
    raw = brevo.contacts.with_raw_response.import_contacts(
        list_ids=[list_id],
        file_body='EMAIL;FIRSTNAME;LASTNAME;SMS\nann@example.com;"Ann; Jr";Lee;+33612345678\n'
        "bob@example.com;Bob;;\n",
        update_existing_contacts=True,
        empty_contacts_attributes=False,
        disable_notification=True,
    )
    assert raw.status_code == 202
    pid = strict(ImportContactsResponse, raw).process_id
    wait_completed(brevo, sandbox, pid)
    proc_raw = brevo.process.with_raw_response.get_process(pid)
    proc = strict(GetProcessResponse, proc_raw)
    assert proc.name == "IMPORTUSER" and proc.status == "completed"
    assert proc.info is not None and proc.info.import_ is not None
    assert proc.info.import_.invalid_emails is None

    raw_members = brevo.contacts.with_raw_response.get_contacts_from_list(list_id, limit=500)
    members = strict(GetContacts, raw_members)
    assert members.count == 2
    by_email = {c.email: c for c in members.contacts}
    assert by_email["ann@example.com"].attributes.model_extra == {  # type: ignore[union-attr]
        "FIRSTNAME": "Ann; Jr",
        "LASTNAME": "Lee",
        "SMS": "33612345678",
    }
    assert by_email["bob@example.com"].list_ids == [list_id]


def test_import_json_body_new_list_and_processes(brevo: Brevo, sandbox: SandboxServer) -> None:
    folder, _ = _folder_and_list(brevo)
    pid = brevo.contacts.import_contacts(
        json_body=[
            ImportContactsRequestJsonBodyItem(
                email="Cleo@Example.com", attributes={"FIRSTNAME": "Cleo", "UNKNOWN": "x"}
            ),
            ImportContactsRequestJsonBodyItem(email="not-an-email", attributes={}),
        ],
        new_list=ImportContactsRequestNewList(list_name="From import", folder_id=folder),
    ).process_id
    proc = wait_completed(brevo, sandbox, pid)
    report_url = proc.info.import_.invalid_emails
    assert report_url is not None
    report = httpx.get(report_url)
    assert report.status_code == 200 and "not-an-email" in report.text
    lists = {x.name: x.id for x in brevo.contacts.get_lists(limit=50).lists or []}
    members = brevo.contacts.get_contacts_from_list(lists["From import"])
    assert [c.email for c in members.contacts] == ["cleo@example.com"]
    procs = strict(GetProcessesResponse, brevo.process.with_raw_response.get_processes(limit=50))
    assert procs.count >= 1 and procs.processes[0].id == pid


def test_import_request_errors(brevo: Brevo) -> None:
    _, list_id = _folder_and_list(brevo)
    cases = [
        ({"list_ids": [list_id]}, "fileBody"),
        ({"list_ids": [list_id], "file_body": "NAME;CITY\nx;y\n"}, "valid email or SMS"),
        ({"file_body": "EMAIL\na@example.com\n"}, "listIds"),
        ({"list_ids": [999], "file_body": "EMAIL\na@example.com\n"}, "999"),
        ({"list_ids": [list_id], "file_url": "https://example.com/x.csv"}, "fileUrl"),
        (
            {"list_ids": [list_id], "file_body": "EMAIL\n" + "a" * (10 * 1024 * 1024)},
            "10 MB",
        ),
    ]
    for kwargs, needle in cases:
        with pytest.raises(BadRequestError) as err:
            brevo.contacts.import_contacts(**kwargs)  # type: ignore[arg-type]
        assert needle in err.value.body["message"], (kwargs.keys(), err.value.body)


def test_add_and_remove_list_members(brevo: Brevo, sandbox: SandboxServer) -> None:
    _, list_id = _folder_and_list(brevo)
    a = sandbox.state.upsert_contact("a@example.com")
    sandbox.state.upsert_contact("b@example.com")
    raw = brevo.contacts.with_raw_response.add_contact_to_list(
        list_id,
        request=AddContactToListRequestBodyEmails(emails=["A@example.com", "ghost@example.com"]),
    )
    assert raw.status_code == 201
    info = strict(PostContactInfo, raw).contacts
    assert info.success == ["A@example.com"] and info.failure == ["ghost@example.com"]
    brevo.contacts.add_contact_to_list(list_id, request=AddContactToListRequestBodyIds(ids=[a + 1]))
    assert sandbox.state.list_member_emails(list_id) == {"a@example.com", "b@example.com"}
    with pytest.raises(BadRequestError) as err:  # nothing succeeds: Brevo answers 400
        brevo.contacts.add_contact_to_list(
            list_id, request=AddContactToListRequestBodyEmails(emails=["a@example.com"])
        )
    assert err.value.body["message"] == "Contact already in list and/or does not exist"
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.add_contact_to_list(
            list_id,
            request=AddContactToListRequestBodyEmails(
                emails=[f"u{i}@example.com" for i in range(151)]
            ),
        )
    assert "150" in err.value.body["message"]
    with pytest.raises(NotFoundError):
        brevo.contacts.add_contact_to_list(
            999, request=AddContactToListRequestBodyEmails(emails=["a@example.com"])
        )

    removed = brevo.contacts.remove_contact_from_list(
        list_id, request=RemoveContactFromListRequestBodyEmails(emails=["a@example.com"])
    )
    assert removed.contacts.success == ["a@example.com"]
    raw_all = brevo.contacts.with_raw_response.remove_contact_from_list(
        list_id, request=RemoveContactFromListRequestBodyAll(all_=True)
    )
    info = strict(PostContactInfo, raw_all).contacts
    assert info.total == 1 and info.process_id is not None
    assert sandbox.state.list_member_emails(list_id) == set()
    assert sandbox.state.contact_count() == 2  # removing never deletes contacts


def test_list_members_paging_and_modified_since(brevo: Brevo, sandbox: SandboxServer) -> None:
    _, list_id = _folder_and_list(brevo)
    for i in range(7):
        sandbox.state.upsert_contact(f"p{i}@example.com", list_ids=[list_id])
    first = brevo.contacts.get_contacts_from_list(list_id, limit=3, offset=0, sort="asc")
    assert first.count == 7 and [c.email for c in first.contacts] == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]
    last = brevo.contacts.get_contacts_from_list(list_id, limit=3, offset=6)
    assert [c.email for c in last.contacts] == ["p0@example.com"]  # default sort: desc
    newest = brevo.contacts.get_contacts_from_list(list_id, limit=1).contacts[0]
    since = brevo.contacts.get_contacts_from_list(list_id, modified_since="2100-01-01T00:00:00Z")
    assert since.count == 0 and since.contacts == []
    assert newest.modified_at.endswith("Z")
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_contacts_from_list(list_id, limit=501)
    assert "limit" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_contacts_from_list(list_id, modified_since="yesterday")
    assert "modifiedSince" in err.value.body["message"]
    with pytest.raises(NotFoundError):
        brevo.contacts.get_contacts_from_list(999)


def test_contacts_crud(brevo: Brevo) -> None:
    _, list_id = _folder_and_list(brevo)
    raw = brevo.contacts.with_raw_response.create_contact(
        email="Dana@Example.com",
        attributes={"FIRSTNAME": "Dana", "SMS": "+447700900123"},
        list_ids=[list_id],
    )
    assert raw.status_code == 201
    cid = strict(CreateContactResponse, raw).id
    updated = brevo.contacts.with_raw_response.create_contact(
        email="dana@example.com", attributes={"LASTNAME": "Ross"}, update_enabled=True
    )
    assert updated.status_code == 204
    for ident, kind in [
        ("dana@example.com", None),
        (str(cid), None),
        ("+447700900123", "phone_id"),
        (str(cid), "contact_id"),
    ]:
        info = strict(
            GetContactInfoResponse,
            brevo.contacts.with_raw_response.get_contact_info(ident, identifier_type=kind),  # type: ignore[arg-type]
        )
        assert info.id == cid and info.email == "dana@example.com"
        assert info.list_ids == [list_id]
    brevo.contacts.update_contact(
        "dana@example.com",
        attributes={"LASTNAME": "Ross-Lee", "EMAIL": "dana.ross@example.com"},
        unlink_list_ids=[list_id],
        sms_blacklisted=True,
    )
    info = brevo.contacts.get_contact_info("dana.ross@example.com")
    assert info.attributes.model_extra["LASTNAME"] == "Ross-Lee"  # type: ignore[index]
    assert info.sms_blacklisted is True and info.list_ids == []
    all_contacts = strict(GetContacts, brevo.contacts.with_raw_response.get_contacts(limit=10))
    assert all_contacts.count == 1
    brevo.contacts.delete_contact("dana.ross@example.com")
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.get_contact_info("dana.ross@example.com")
    assert err.value.body == {"code": "document_not_found", "message": "Contact does not exist"}


def test_contact_errors(brevo: Brevo) -> None:
    brevo.contacts.create_contact(email="eve@example.com", attributes={"SMS": "+33612345678"})
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_contact(email="EVE@example.com")
    assert err.value.body["code"] == "duplicate_parameter"
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_contact(email="fay@example.com", attributes={"SMS": "+33612345678"})
    assert err.value.body == {
        "code": "duplicate_parameter",
        "message": "Unable to create contact, SMS is already associated with another Contact",
        "metadata": {"duplicate_identifiers": ["SMS"]},
    }
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_contact(email="fay@example.com", attributes={"SMS": "0612345678"})
    assert "phone number" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_contact(attributes={"FIRSTNAME": "nobody"})
    assert err.value.body["code"] == "missing_parameter"
    with pytest.raises(NotFoundError):
        brevo.contacts.update_contact("ghost@example.com", attributes={"FIRSTNAME": "x"})
    with pytest.raises(BadRequestError):
        brevo.contacts.get_contacts(limit=1001)


def test_process_errors(brevo: Brevo) -> None:
    with pytest.raises(ApiError) as err:
        brevo.process.get_process(987654)
    assert err.value.status_code == 404
    assert err.value.body == {"code": "invalid_parameter", "message": "processId is invalid"}


def test_unauthorized_bodies(sandbox: SandboxServer) -> None:
    wrong = Brevo(api_key="wrong", base_url=sandbox.base_url, max_retries=0)
    with pytest.raises(ApiError) as err:
        wrong.account.get_account()
    assert err.value.status_code == 401
    assert err.value.body == {"message": "Key not found", "code": "unauthorized"}
    with pytest.raises(ApiError) as err:
        wrong.contacts.get_lists()
    assert err.value.status_code == 401
    missing = httpx.get(f"{sandbox.base_url}/contacts/lists")
    assert missing.status_code == 401
    assert missing.json() == {
        "message": "authentication not found in headers",
        "code": "unauthorized",
    }


def test_rate_limit_429_with_headers(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(rate_limits="brevo")
    list_id = server.state.create_list("L", server.state.create_folder("F"))
    client = Brevo(api_key=server.api_key, base_url=server.base_url, max_retries=0)
    raw = client.contacts.with_raw_response.get_contacts_from_list(list_id)
    assert raw.headers["x-sib-ratelimit-limit"] == "10"
    assert int(raw.headers["x-sib-ratelimit-remaining"]) in range(10)
    with pytest.raises(TooManyRequestsError) as err:
        for _ in range(200):  # the contacts bucket allows 10 per second
            client.contacts.get_contacts_from_list(list_id)
    assert err.value.status_code == 429
    assert err.value.headers["x-sib-ratelimit-limit"] == "10"
    assert err.value.headers["x-sib-ratelimit-remaining"] == "0"
    assert int(err.value.headers["x-sib-ratelimit-reset"]) >= 1
    assert isinstance(err.value.body, ErrorModel) and err.value.body.message
    assert server.requests_log.count("GET /contacts/lists/{listId}/contacts", status=429) == 1
    # /account is in the 100-per-hour bucket
    for _ in range(100):
        client.account.get_account()
    with pytest.raises(ApiError) as err:
        client.account.get_account()
    assert err.value.status_code == 429
    assert err.value.headers["x-sib-ratelimit-limit"] == "100"
    assert int(err.value.headers["x-sib-ratelimit-reset"]) > 1


def test_ext_id_identifies_one_contact(brevo: Brevo) -> None:
    cid = brevo.contacts.create_contact(email="g@example.com", ext_id="crm-1").id
    assert brevo.contacts.get_contact_info("crm-1", identifier_type="ext_id").id == cid
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.create_contact(email="h@example.com", ext_id="crm-1")
    assert err.value.body["metadata"] == {"duplicate_identifiers": ["ext_id"]}
