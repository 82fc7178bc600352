"""brevo-python 5.x against the sandbox: identifierType rules, request validation, the
blocklisted-email rule and POST /contacts/batch. Every successful answer the SDK gets
is also checked against the spec's response schema (as test_spec_schema.py does).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from brevo import Brevo
from brevo.contacts import (
    AddContactToListRequestBodyEmails,
    AddContactToListRequestBodyExtIds,
    AddContactToListRequestBodyIds,
    RemoveContactFromListRequestBodyEmails,
    RemoveContactFromListRequestBodyExtIds,
    RemoveContactFromListRequestBodyIds,
)
from brevo.contacts.types import UpdateBatchContactsRequestContactsItem as Item
from brevo.core.api_error import ApiError
from brevo.errors import BadRequestError, NotFoundError
from tests.integration.sandbox.test_spec_schema import check, load_spec

from segport.brevo.sandbox import SandboxServer

EMAIL, SMS, EXT_ID = "ida@example.com", "+447700900123", "crm-42"
WHATSAPP, LANDLINE = "+33612345678", "+33140000000"
IDENTIFIER_TYPES = (
    "email_id",
    "contact_id",
    "phone_id",
    "ext_id",
    "whatsapp_id",
    "landline_number_id",
)


class Checked:
    """The SDK client plus every answer it received, for the spec check."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.seen: list[httpx.Response] = []
        self.http = httpx.Client(event_hooks={"response": [self._keep]}, timeout=10)
        self.client = Brevo(
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            max_retries=0,
            httpx_client=self.http,
        )

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.seen.append(response)

    def check_successes(self) -> int:
        spec = load_spec()
        # (the 2024 spec types list add/remove `success`/`failure` as strings only; PY5
        # has `list[str] | list[int]`, and answers to `ids` are ids: not checked here)
        ok = [r for r in self.seen if r.is_success and b'"ids"' not in r.request.content]
        for response in ok:
            check(spec, response)
        return len(ok)


@pytest.fixture
def checked(sandbox: SandboxServer) -> Iterator[Checked]:
    c = Checked(sandbox)
    yield c
    c.http.close()


def _list(client: Brevo, name: str = "L") -> int:
    folder = client.contacts.create_folder(name=f"{name} folder").id
    assert folder is not None
    return int(client.contacts.create_list(folder_id=folder, name=name).id)


def _ida(client: Brevo) -> int:
    created = client.contacts.create_contact(
        email=EMAIL,
        ext_id=EXT_ID,
        attributes={"SMS": SMS, "WHATSAPP": WHATSAPP, "LANDLINE_NUMBER": LANDLINE},
    )
    assert created.id is not None
    return int(created.id)


def _status(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiError) as err:
        call()
    body = err.value.body
    return err.value.status_code or 0, body if isinstance(body, dict) else {}


# --- identifiers ----------------------------------------------------------------------


def test_every_identifier_type_finds_the_contact(checked: Checked) -> None:
    client = checked.client
    cid = _ida(client)
    by_type = {
        "email_id": EMAIL.upper(),
        "contact_id": str(cid),
        "phone_id": SMS,
        "ext_id": EXT_ID,
        "whatsapp_id": WHATSAPP,
        "landline_number_id": LANDLINE,
    }
    for kind, ident in by_type.items():
        assert client.contacts.get_contact_info(ident, identifier_type=kind).id == cid, kind  # type: ignore[arg-type]
        client.contacts.update_contact(ident, identifier_type=kind, attributes={"FIRSTNAME": kind})  # type: ignore[arg-type]
        info = client.contacts.get_contact_info(cid)
        assert info.attributes.model_extra["FIRSTNAME"] == kind  # type: ignore[index]
    # the phone identifiers take any accepted form of the number
    assert (
        client.contacts.get_contact_info("0044 7700 900123", identifier_type="phone_id").id == cid
    )
    client.contacts.delete_contact(EXT_ID, identifier_type="ext_id")
    assert _status(lambda: client.contacts.get_contact_info(cid))[0] == 404
    assert checked.check_successes() >= 14


def test_delete_by_every_identifier_type(brevo: Brevo) -> None:
    for kind in IDENTIFIER_TYPES:
        cid = _ida(brevo)
        ident = {
            "email_id": EMAIL,
            "contact_id": str(cid),
            "phone_id": SMS,
            "ext_id": EXT_ID,
            "whatsapp_id": WHATSAPP,
            "landline_number_id": LANDLINE,
        }[kind]
        brevo.contacts.delete_contact(ident, identifier_type=kind)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            brevo.contacts.get_contact_info(cid)


def test_without_identifier_type_only_what_brevo_infers(checked: Checked) -> None:
    client = checked.client
    cid = _ida(client)
    # GET infers an email, a contact id or an SMS number (+ form, or digits as stored)
    for ident in (EMAIL, str(cid), SMS, SMS.lstrip("+")):
        assert client.contacts.get_contact_info(ident).id == cid, ident
    for ident in (EXT_ID, WHATSAPP.lstrip("+") + "x"):
        status, body = _status(lambda i=ident: client.contacts.get_contact_info(i))
        assert (status, body["code"]) == (404, "document_not_found")
        assert "identifierType" in body["message"]
    # PUT and DELETE infer an email or a contact id only
    client.contacts.update_contact(EMAIL, attributes={"LASTNAME": "Email"})
    client.contacts.update_contact(str(cid), attributes={"LASTNAME": "Id"})
    for ident in (SMS, EXT_ID):
        status, body = _status(
            lambda i=ident: client.contacts.update_contact(i, attributes={"LASTNAME": "x"})
        )
        assert (status, body["code"]) == (404, "document_not_found"), ident
        assert "identifierType" in body["message"]
        status, body = _status(lambda i=ident: client.contacts.delete_contact(i))
        assert (status, body["code"]) == (404, "document_not_found"), ident
    assert client.contacts.get_contact_info(cid).attributes.model_extra["LASTNAME"] == "Id"  # type: ignore[index]
    client.contacts.delete_contact(str(cid))
    assert checked.check_successes() >= 7


def test_identifier_type_errors(brevo: Brevo) -> None:
    cid = _ida(brevo)
    status, body = _status(lambda: brevo.contacts.get_contact_info(EMAIL, identifier_type="email"))  # type: ignore[arg-type]
    assert (status, body["code"]) == (400, "invalid_parameter")
    assert "identifierType" in body["message"] and "email_id" in body["message"]
    # a type names one identifier only: an email is not an ext_id, an id is not a phone
    for ident, kind in ((EMAIL, "ext_id"), (str(cid), "phone_id"), (EXT_ID, "contact_id")):
        with pytest.raises(NotFoundError) as err:
            brevo.contacts.get_contact_info(ident, identifier_type=kind)  # type: ignore[arg-type]
        assert err.value.body == {"code": "document_not_found", "message": "Contact does not exist"}


def test_list_membership_by_emails_ids_and_ext_ids(checked: Checked) -> None:
    client = checked.client
    cid = _ida(client)
    list_id = _list(client)
    for add, remove in (
        (
            AddContactToListRequestBodyEmails(emails=[EMAIL]),
            RemoveContactFromListRequestBodyEmails(emails=[EMAIL]),
        ),
        (AddContactToListRequestBodyIds(ids=[cid]), RemoveContactFromListRequestBodyIds(ids=[cid])),
        (
            AddContactToListRequestBodyExtIds(ext_ids=[EXT_ID, "nobody"]),
            RemoveContactFromListRequestBodyExtIds(ext_ids=[EXT_ID]),
        ),
    ):
        added = client.contacts.add_contact_to_list(list_id, request=add)
        assert added.contacts.success and added.contacts.success[0] in (EMAIL, cid, EXT_ID)
        assert client.contacts.get_contact_info(cid).list_ids == [list_id]
        client.contacts.remove_contact_from_list(list_id, request=remove)
        assert client.contacts.get_contact_info(cid).list_ids == []
    assert added.contacts.failure == ["nobody"]
    assert checked.check_successes() >= 12


# --- validation -----------------------------------------------------------------------


def test_list_membership_validation(brevo: Brevo) -> None:
    cid = _ida(brevo)
    list_id = _list(brevo)
    both = AddContactToListRequestBodyEmails(emails=[EMAIL], ids=[cid])  # type: ignore[call-arg]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.add_contact_to_list(list_id, request=both)
    assert err.value.body["code"] == "invalid_parameter"
    assert "emails" in err.value.body["message"] and "ids" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.remove_contact_from_list(
            list_id,
            request=RemoveContactFromListRequestBodyIds(ids=[cid], ext_ids=[EXT_ID]),  # type: ignore[call-arg]
        )
    assert err.value.body["code"] == "invalid_parameter"
    too_many = list(range(1, 152))
    for request in (
        AddContactToListRequestBodyIds(ids=too_many),
        RemoveContactFromListRequestBodyIds(ids=too_many),
    ):
        call = (
            brevo.contacts.add_contact_to_list
            if isinstance(request, AddContactToListRequestBodyIds)
            else brevo.contacts.remove_contact_from_list
        )
        with pytest.raises(BadRequestError) as err:
            call(list_id, request=request)  # type: ignore[arg-type]
        assert err.value.body["code"] == "out_of_range" and "150" in err.value.body["message"]
    assert brevo.contacts.add_contact_to_list(
        list_id, request=AddContactToListRequestBodyIds(ids=[cid, *range(1000, 1149)])
    ).contacts.failure == list(range(1000, 1149))  # 150 is still allowed
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.add_contact_to_list(list_id, request=AddContactToListRequestBodyIds(ids=[]))
    assert "non-empty" in err.value.body["message"]


def test_get_contacts_validation(checked: Checked) -> None:
    client = checked.client
    list_id = _list(client)
    with pytest.raises(BadRequestError) as err:
        client.contacts.get_contacts(list_ids=[list_id], segment_id=3)
    assert err.value.body["code"] == "invalid_parameter"
    assert "listIds" in err.value.body["message"] and "segmentId" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        client.contacts.get_contacts(ids=list(range(1, 22)))
    assert err.value.body["code"] == "out_of_range" and "20" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        client.contacts.get_contacts(segment_id=0)
    assert "segmentId" in err.value.body["message"]
    assert client.contacts.get_contacts(ids=list(range(1, 21))).count == 0
    assert client.contacts.get_contacts(list_ids=[list_id]).count == 0
    assert checked.check_successes() >= 4


# --- a blocklisted contact's new email ---------------------------------------------------


def test_changing_a_blocklisted_contacts_email_lifts_the_blocklist(checked: Checked) -> None:
    client = checked.client
    cid = client.contacts.create_contact(email="old@example.com", email_blacklisted=True).id
    assert cid is not None
    # other changes, and the same address in another case, keep the blocklist
    client.contacts.update_contact("old@example.com", attributes={"FIRSTNAME": "Kim"})
    client.contacts.update_contact(str(cid), attributes={"EMAIL": "OLD@example.com"})
    assert client.contacts.get_contact_info(cid).email_blacklisted is True
    client.contacts.update_contact("old@example.com", attributes={"EMAIL": "new@example.com"})
    info = client.contacts.get_contact_info("new@example.com")
    assert info.id == cid and info.email_blacklisted is False
    # a new email with emailBlacklisted given: the flag given wins
    client.contacts.update_contact("new@example.com", email_blacklisted=True)
    client.contacts.update_contact(
        "new@example.com", attributes={"EMAIL": "third@example.com"}, email_blacklisted=True
    )
    assert client.contacts.get_contact_info(cid).email_blacklisted is True
    assert checked.check_successes() >= 8


# --- POST /contacts/batch ---------------------------------------------------------------


def test_batch_updates_contacts_named_by_email_id_or_sms(checked: Checked) -> None:
    client = checked.client
    keep, drop = _list(client, "Keep"), _list(client, "Drop")
    a = client.contacts.create_contact(email="a@example.com", list_ids=[drop]).id
    b = client.contacts.create_contact(email="b@example.com", email_blacklisted=True).id
    c = client.contacts.create_contact(email="c@example.com", attributes={"SMS": SMS}).id
    raw = client.contacts.with_raw_response.update_batch_contacts(
        contacts=[
            Item(
                email="A@example.com",
                attributes={"FIRSTNAME": "Ann"},
                list_ids=[keep],
                unlink_list_ids=[drop],
                ext_id="crm-a",
            ),
            Item(id=b, attributes={"EMAIL": "bee@example.com"}),
            Item(sms=SMS, sms_blacklisted=True, attributes={"LASTNAME": "Sea"}),
        ]
    )
    assert raw.response.status_code == 204
    ann = client.contacts.get_contact_info("crm-a", identifier_type="ext_id")
    assert ann.id == a and ann.list_ids == [keep]
    assert ann.attributes.model_extra["FIRSTNAME"] == "Ann"  # type: ignore[index]
    bee = client.contacts.get_contact_info("bee@example.com")
    assert bee.id == b and bee.email_blacklisted is False  # new email: blocklist lifted
    sea = client.contacts.get_contact_info(str(c))
    assert sea.sms_blacklisted is True and sea.attributes.model_extra["LASTNAME"] == "Sea"  # type: ignore[index]
    assert checked.check_successes() >= 10


def test_batch_is_all_or_nothing(brevo: Brevo) -> None:
    list_id = _list(brevo)
    a = brevo.contacts.create_contact(email="a@example.com").id
    assert a is not None
    brevo.contacts.create_contact(email="taken@example.com")
    good = Item(id=a, attributes={"FIRSTNAME": "Changed"}, list_ids=[list_id])
    cases: list[tuple[list[Item], int, str, str]] = [
        (
            [good, Item(email="ghost@example.com"), Item(id=999)],
            404,
            "document_not_found",
            "No contact found for indexes 1,2",
        ),
        ([good, Item(email="a@example.com", id=a)], 400, "invalid_parameter", "contacts[1]"),
        ([good, Item(attributes={"FIRSTNAME": "x"})], 400, "missing_parameter", "contacts[1]"),
        ([good, Item(id=a, list_ids=[999])], 400, "invalid_parameter", "list 999"),
        ([good, Item(id=a, attributes={"SMS": "06"})], 400, "invalid_parameter", "SMS"),
        (
            [good, Item(id=a, attributes={"EMAIL": "taken@example.com"})],
            400,
            "duplicate_parameter",
            "email",
        ),
    ]
    for items, status, code, text in cases:
        got, body = _status(lambda i=items: brevo.contacts.update_batch_contacts(contacts=i))
        assert (got, body["code"]) == (status, code), body
        assert text in body["message"], body
    unchanged = brevo.contacts.get_contact_info(a)
    assert unchanged.list_ids == [] and "FIRSTNAME" not in (unchanged.attributes.model_extra or {})
    empty: list[list[Item] | None] = [[], None]
    for contacts in empty:
        got, body = _status(lambda c=contacts: brevo.contacts.update_batch_contacts(contacts=c))
        assert got == 400 and "contacts" in body["message"]


def test_batch_items_cannot_take_one_identifier_twice(brevo: Brevo) -> None:
    a = brevo.contacts.create_contact(email="a@example.com").id
    b = brevo.contacts.create_contact(email="b@example.com").id
    twice = [Item(id=a, ext_id="same"), Item(id=b, ext_id="same")]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_batch_contacts(contacts=twice)
    assert err.value.body["metadata"] == {"duplicate_identifiers": ["ext_id"]}
    with pytest.raises(NotFoundError):
        brevo.contacts.get_contact_info("same", identifier_type="ext_id")
