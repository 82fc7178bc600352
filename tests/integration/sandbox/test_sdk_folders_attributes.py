"""brevo-python 5.x drives the folder, attribute-change and segment endpoints of the
sandbox; every answer deserializes, and strictly validates against the SDK's models."""

from __future__ import annotations

import httpx
import pytest
from brevo import Brevo
from brevo.contacts import GetAttributesResponse, GetFolderListsResponse, GetSegmentsResponse
from brevo.core.api_error import ApiError
from brevo.errors import BadRequestError, NotFoundError
from brevo.types import GetFolder
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.sandbox.conftest import strict

from segport.brevo.sandbox import SandboxServer

FOLDER_404 = {"code": "document_not_found", "message": "Folder ID does not exist"}


def _attributes(client: Brevo) -> dict[str, object]:
    raw = client.contacts.with_raw_response.get_attributes()
    return {a.name: a for a in strict(GetAttributesResponse, raw).attributes or []}


def test_folder_details_rename_and_lists(brevo: Brevo, sandbox: SandboxServer) -> None:
    folder = brevo.contacts.create_folder(name="Exports").id
    other = brevo.contacts.create_folder(name="Other").id
    assert folder is not None and other is not None
    first = brevo.contacts.create_list(folder_id=folder, name="VIP").id
    second = brevo.contacts.create_list(folder_id=folder, name="Churn").id
    elsewhere = brevo.contacts.create_list(folder_id=other, name="Elsewhere").id
    sandbox.state.upsert_contact("a@example.com", list_ids=[first, second])
    sandbox.state.upsert_contact("b@example.com", list_ids=[second, elsewhere])

    got = strict(GetFolder, brevo.contacts.with_raw_response.get_folder(folder))
    assert (got.id, got.name, got.unique_subscribers) == (folder, "Exports", 2)

    raw = brevo.contacts.with_raw_response.update_folder(folder, name="Exports 2026")
    assert raw.status_code == 204
    assert brevo.contacts.get_folder(folder).name == "Exports 2026"
    assert brevo.contacts.get_folder(other).name == "Other"

    page = strict(GetFolderListsResponse, brevo.contacts.with_raw_response.get_folder_lists(folder))
    assert page.count == 2 and [x.id for x in page.lists or []] == [second, first]  # desc
    assert [(x.name, x.unique_subscribers) for x in page.lists or []] == [("Churn", 2), ("VIP", 1)]
    asc = brevo.contacts.get_folder_lists(folder, limit=1, offset=1, sort="asc")
    assert asc.count == 2 and [x.id for x in asc.lists or []] == [second]
    assert [x.id for x in brevo.contacts.get_folder_lists(other).lists or []] == [elsewhere]

    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_folder_lists(folder, limit=51)
    assert "limit" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_folder_lists(folder, sort="sideways")  # type: ignore[arg-type]
    assert "sort" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_folder(folder, name=" ")
    assert err.value.body["code"] == "missing_parameter" and "name" in err.value.body["message"]


def test_deleting_a_folder_deletes_its_lists_not_its_contacts(
    brevo: Brevo, sandbox: SandboxServer
) -> None:
    folder = brevo.contacts.create_folder(name="Old").id
    keep = brevo.contacts.create_folder(name="Keep").id
    assert folder is not None and keep is not None
    gone = brevo.contacts.create_list(folder_id=folder, name="Gone").id
    kept = brevo.contacts.create_list(folder_id=keep, name="Kept").id
    sandbox.state.upsert_contact("stays@example.com", list_ids=[gone, kept])

    raw = brevo.contacts.with_raw_response.delete_folder(folder)
    assert raw.status_code == 204
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.get_folder(folder)
    assert err.value.body == FOLDER_404
    with pytest.raises(NotFoundError):
        brevo.contacts.get_list(gone)
    assert brevo.contacts.get_list(kept).name == "Kept"
    assert [f.id for f in brevo.contacts.get_folders().folders or []] == [keep]
    contact = brevo.contacts.get_contact_info("stays@example.com")
    assert contact.list_ids == [kept]


def test_a_missing_folder_is_404(brevo: Brevo, sandbox: SandboxServer) -> None:
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.get_folder(4242)
    assert err.value.body == FOLDER_404
    with pytest.raises(NotFoundError):
        brevo.contacts.update_folder(4242, name="x")
    with pytest.raises(NotFoundError):
        brevo.contacts.delete_folder(4242)
    with pytest.raises(NotFoundError):
        brevo.contacts.get_folder_lists(4242)
    with httpx.Client(base_url=sandbox.base_url, headers={"api-key": sandbox.api_key}) as api:
        bad = api.get("/contacts/folders/first")
    assert bad.status_code == 400 and "folderId" in bad.json()["message"]


def test_a_list_in_a_missing_folder_is_404(brevo: Brevo) -> None:
    folder = brevo.contacts.create_folder(name="F").id
    assert folder is not None
    list_id = brevo.contacts.create_list(folder_id=folder, name="L").id
    # brevo-python knows no 404 for create_list (the spec lists only 400): a plain ApiError.
    with pytest.raises(ApiError) as err:
        brevo.contacts.create_list(folder_id=999, name="Orphan")
    assert err.value.status_code == 404 and err.value.body == FOLDER_404
    assert brevo.contacts.get_lists().count == 1  # nothing was created
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.update_list(list_id, folder_id=999)
    assert err.value.body == FOLDER_404
    assert brevo.contacts.get_list(list_id).folder_id == folder  # not moved

    other = brevo.contacts.create_folder(name="G").id
    assert other is not None
    brevo.contacts.update_list(list_id, folder_id=other)
    assert [x.id for x in brevo.contacts.get_folder_lists(other).lists or []] == [list_id]
    assert brevo.contacts.get_folder_lists(folder).count == 0


def test_updating_attributes_per_category(brevo: Brevo) -> None:
    brevo.contacts.create_attribute(
        "category",
        "TIER",
        type="text",
        enumeration=[{"value": 1, "label": "Gold"}],  # type: ignore[list-item]
    )
    brevo.contacts.create_attribute(
        "normal", "TOPICS", type="multiple-choice", multi_category_options=["news"]
    )
    brevo.contacts.create_attribute("calculated", "SPEND", value="SUM[ORDER_AMOUNT]")
    brevo.contacts.create_attribute("global", "TOTAL", value="SUM[SPEND]")

    raw = brevo.contacts.with_raw_response.update_attribute(
        "category",
        "tier",  # names are case-insensitive
        enumeration=[{"value": 1, "label": "Platinum"}, {"value": 2, "label": "Gold"}],  # type: ignore[list-item]
    )
    assert raw.status_code == 204
    brevo.contacts.update_attribute("normal", "TOPICS", multi_category_options=["sales", "news"])
    brevo.contacts.update_attribute("calculated", "SPEND", value="SUM[ORDER_TOTAL]")
    brevo.contacts.update_attribute("global", "TOTAL", value="AVG[SPEND]")

    after = _attributes(brevo)
    tier = after["TIER"]
    assert [(e.value, e.label) for e in tier.enumeration or []] == [(1, "Platinum"), (2, "Gold")]  # type: ignore[attr-defined]
    assert after["TOPICS"].multi_category_options == ["news", "sales"]  # type: ignore[attr-defined]
    assert after["SPEND"].calculated_value == "SUM[ORDER_TOTAL]"  # type: ignore[attr-defined]
    assert after["TOTAL"].calculated_value == "AVG[SPEND]"  # type: ignore[attr-defined]


def test_attribute_updates_that_are_refused(brevo: Brevo, sandbox: SandboxServer) -> None:
    brevo.contacts.create_attribute("normal", "LOYALTY", type="float")
    brevo.contacts.create_attribute(
        "category",
        "TIER",
        type="text",
        enumeration=[{"value": 1, "label": "Gold"}],  # type: ignore[list-item]
    )
    with pytest.raises(NotFoundError) as err:
        brevo.contacts.update_attribute("calculated", "NOPE", value="SUM[X]")
    assert err.value.body["code"] == "document_not_found"
    with pytest.raises(NotFoundError):  # TIER exists, but not as a global attribute
        brevo.contacts.update_attribute("global", "TIER", value="SUM[X]")
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_attribute("normal", "LOYALTY", multi_category_options=["a"])
    assert "multiple-choice" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_attribute("category", "TIER", value="x")
    assert "value" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_attribute("category", "TIER")
    assert err.value.body["code"] == "missing_parameter"
    assert "enumeration" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.update_attribute(
            "category",
            "TIER",
            enumeration=[{"value": 1, "label": "x" * 201}],  # type: ignore[list-item]
        )
    assert "200" in err.value.body["message"]
    with httpx.Client(base_url=sandbox.base_url, headers={"api-key": sandbox.api_key}) as api:
        transactional = api.put("/contacts/attributes/transactional/ORDER_ID", json={"value": "x"})
    assert transactional.status_code == 400
    assert "attributeCategory" in transactional.json()["message"]
    tier = _attributes(brevo)["TIER"]
    assert [e.label for e in tier.enumeration or []] == ["Gold"]  # type: ignore[attr-defined]


def test_deleting_an_attribute_removes_contact_values(brevo: Brevo, sandbox: SandboxServer) -> None:
    brevo.contacts.create_attribute("normal", "LOYALTY", type="float")
    sandbox.state.upsert_contact("a@example.com", {"LOYALTY": 3, "FIRSTNAME": "Ann"})
    before = brevo.contacts.get_contact_info("a@example.com").attributes
    assert before.model_extra == {"LOYALTY": 3, "FIRSTNAME": "Ann"}  # type: ignore[union-attr]

    raw = brevo.contacts.with_raw_response.delete_attribute("normal", "loyalty")
    assert raw.status_code == 204
    assert "LOYALTY" not in _attributes(brevo)
    after = brevo.contacts.get_contact_info("a@example.com").attributes
    assert after.model_extra == {"FIRSTNAME": "Ann"}  # type: ignore[union-attr]

    with pytest.raises(NotFoundError):
        brevo.contacts.delete_attribute("normal", "LOYALTY")
    with pytest.raises(NotFoundError):  # FIRSTNAME is normal, not category
        brevo.contacts.delete_attribute("category", "FIRSTNAME")
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.delete_attribute("normal", "SMS")
    assert "SMS" in err.value.body["message"]
    assert "SMS" in _attributes(brevo)


def test_segments_are_an_empty_page(brevo: Brevo) -> None:
    page = strict(GetSegmentsResponse, brevo.contacts.with_raw_response.get_segments())
    assert page.segments == [] and page.count == 0
    again = brevo.contacts.get_segments(limit=50, offset=5, sort="asc")
    assert again.segments == [] and again.count == 0
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_segments(limit=51)
    assert "limit" in err.value.body["message"]
    with pytest.raises(BadRequestError) as err:
        brevo.contacts.get_segments(sort="newest")  # type: ignore[arg-type]
    assert "sort" in err.value.body["message"]


def test_folder_paths_are_logged_and_faulted_as_folders(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="folders:500x1")
    folder = server.state.create_folder("F")
    with httpx.Client(base_url=server.base_url, headers={"api-key": server.api_key}) as api:
        assert api.get(f"/contacts/folders/{folder}/lists").status_code == 500  # the fault
        assert api.get(f"/contacts/folders/{folder}/lists").status_code == 200
        assert api.get(f"/contacts/folders/{folder}").status_code == 200
        assert api.get("/contacts/segments").status_code == 200
    log = server.requests_log
    assert log.count("GET /contacts/folders/{folderId}/lists", status=500) == 1
    assert log.count("GET /contacts/folders/{folderId}/lists", status=200) == 1
    assert log.count("GET /contacts/folders/{folderId}") == 1
    assert log.count("GET /contacts/segments") == 1
