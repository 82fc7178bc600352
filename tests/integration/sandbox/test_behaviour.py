"""Behaviour an exporter depends on: identity rules, attribute rules, flags, processes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.fixtures.waiting import wait_until

from segport.brevo.sandbox import SandboxServer


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url, headers={"api-key": sandbox.api_key}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def list_id(sandbox: SandboxServer) -> int:
    return sandbox.state.create_list("Target", sandbox.state.create_folder("Exports"))


def run_import(api: httpx.Client, sandbox: SandboxServer, **body: Any) -> dict[str, Any]:
    r = api.post("/contacts/import", json=body)
    assert r.status_code == 202, r.text
    sandbox.state.wait_idle()
    proc = api.get(f"/processes/{r.json()['processId']}").json()
    assert proc["status"] == "completed"
    report: dict[str, Any] = proc["info"]["import"]
    return report


def report_rows(url: str | None) -> list[str]:
    assert url is not None
    return httpx.get(url).text.strip().splitlines()[1:]


def test_emails_are_unique_and_case_insensitive(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    report = run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="EMAIL;FIRSTNAME\nAnn@Example.COM;Ann\nann@example.com;Again\nbob@example.com;B\n",
    )
    assert report_rows(report["duplicate_email_id"]) == ["3;ann@example.com;duplicate of row 2"]
    run_import(
        api, sandbox, listIds=[list_id], jsonBody=[{"email": "ANN@example.com", "attributes": {}}]
    )
    assert sandbox.state.contact_count() == 2
    assert sandbox.state.list_member_emails(list_id) == {"ann@example.com", "bob@example.com"}
    contact = sandbox.state.get_contact("ann@EXAMPLE.com")
    assert contact is not None and contact["attributes"]["FIRSTNAME"] == "Ann"


def test_sms_needs_a_country_code_and_belongs_to_one_contact(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("owner@example.com", {"SMS": "+33611111111"})
    report = run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="EMAIL;SMS\n"
        "a@example.com;0612345678\n"  # national format: no country code
        "b@example.com;+33611111111\n"  # already owner@'s number
        "c@example.com;0033 6 22 22 22 22\n"
        "d@example.com;+33622222222\n",  # same number as row 4
    )
    rows = report_rows(report["duplicate_phone_id"])
    assert rows[0].startswith("2;a@example.com;0612345678;invalid phone number")
    assert rows[1] == "3;b@example.com;33611111111;already the SMS of contact 1"
    assert rows[2] == "5;d@example.com;33622222222;duplicate of row 4"
    # the rows are still imported, without the refused number
    assert sandbox.state.list_member_emails(list_id) == {
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    }
    got = {
        e: (sandbox.state.get_contact(f"{e}@example.com") or {})["attributes"].get("SMS")
        for e in "abcd"
    }
    assert got == {"a": None, "b": None, "c": "33622222222", "d": None}


def test_unknown_attributes_are_ignored_and_values_coerced_by_type(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    for name, body in [
        ("LOYALTY", {"type": "float"}),
        ("SIGNUP", {"type": "date"}),
        ("VIP", {"type": "boolean"}),
    ]:
        assert api.post(f"/contacts/attributes/normal/{name}", json=body).status_code == 201
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="EMAIL;LOYALTY;SIGNUP;VIP;SHOE_SIZE\n"
        "a@example.com;12.5;2024-01-31;yes;44\n"
        "b@example.com;lots;31/01/2024;maybe;45\n",
    )
    a = sandbox.state.get_contact("a@example.com")
    b = sandbox.state.get_contact("b@example.com")
    assert a is not None and b is not None
    assert a["attributes"] == {"LOYALTY": 12.5, "SIGNUP": "2024-01-31", "VIP": True}
    assert b["attributes"] == {"SIGNUP": "2024-01-31"}  # misfit values are ignored
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        jsonBody=[{"email": "b@example.com", "attributes": {"LOYALTY": 3, "VIP": False}}],
    )
    b = sandbox.state.get_contact("b@example.com")
    assert b is not None and b["attributes"]["LOYALTY"] == 3 and b["attributes"]["VIP"] is False


def test_import_never_changes_blacklist_flags_unless_asked(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("gone@example.com", email_blacklisted=True, sms_blacklisted=True)
    sandbox.state.upsert_contact("here@example.com")
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="EMAIL;FIRSTNAME\ngone@example.com;G\nhere@example.com;H\nnew@example.com;N\n",
    )
    flags = {
        e: (c["emailBlacklisted"], c["smsBlacklisted"])
        for e in ("gone@example.com", "here@example.com", "new@example.com")
        if (c := sandbox.state.get_contact(e)) is not None
    }
    assert flags == {
        "gone@example.com": (True, True),
        "here@example.com": (False, False),
        "new@example.com": (False, False),
    }
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        emailBlacklist=True,
        fileBody="EMAIL\nhere@example.com\n",
    )
    here = sandbox.state.get_contact("here@example.com")
    assert here is not None and here["emailBlacklisted"] is True and not here["smsBlacklisted"]


def test_empty_values_erase_only_with_empty_contacts_attributes(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact(
        "a@example.com", {"FIRSTNAME": "Ann", "LASTNAME": "Lee", "SMS": "+33612345678"}
    )
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="EMAIL;FIRSTNAME;LASTNAME;SMS\na@example.com;;Li;\n",
    )
    a = sandbox.state.get_contact("a@example.com")
    assert a is not None
    assert a["attributes"] == {"FIRSTNAME": "Ann", "LASTNAME": "Li", "SMS": "33612345678"}
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        emptyContactsAttributes=True,
        fileBody="EMAIL;FIRSTNAME;SMS\na@example.com;;\n",
    )
    a = sandbox.state.get_contact("a@example.com")
    assert a is not None and a["attributes"] == {"LASTNAME": "Li"}
    # the erased number is free again
    sandbox.state.upsert_contact("b@example.com", {"SMS": "+33612345678"})


def test_update_existing_contacts_false_keeps_attributes_but_adds_to_list(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("a@example.com", {"FIRSTNAME": "Ann"})
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        updateExistingContacts=False,
        fileBody="EMAIL;FIRSTNAME\na@example.com;Changed\nb@example.com;Bea\n",
    )
    a = sandbox.state.get_contact("a@example.com")
    assert a is not None and a["attributes"]["FIRSTNAME"] == "Ann"
    assert sandbox.state.list_member_emails(list_id) == {"a@example.com", "b@example.com"}


def test_csv_quoting_and_fr_locale_names(sandbox_factory: Any) -> None:
    server: SandboxServer = sandbox_factory(locale="fr")
    lid = server.state.create_list("L", server.state.create_folder("F"))
    with httpx.Client(base_url=server.base_url, headers={"api-key": server.api_key}) as api:
        run_import(
            api,
            server,
            listIds=[lid],
            fileBody='EMAIL;PRENOM;NOM;FIRSTNAME\na@example.com;"Zoé ""Zo""";"Dupont;Durand";X\n',
        )
    a = server.state.get_contact("a@example.com")
    assert a is not None and a["attributes"] == {"PRENOM": 'Zoé "Zo"', "NOM": "Dupont;Durand"}


def test_processes_move_from_queued_to_completed(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    big = "EMAIL;FIRSTNAME\n" + "".join(f"u{i}@example.com;U{i}\n" for i in range(60_000))
    with sandbox.imports_paused():
        first = api.post("/contacts/import", json={"listIds": [list_id], "fileBody": big}).json()
        second = api.post(
            "/contacts/import",
            json={"listIds": [list_id], "fileBody": "EMAIL\nlast@example.com\n"},
        ).json()
        for pid in (first["processId"], second["processId"]):
            early = api.get(f"/processes/{pid}").json()
            assert early["status"] == "queued" and "info" not in early
    # Imports run in the order they were accepted: the small second one cannot finish first.
    seen: list[tuple[str, ...]] = []

    def second_completed() -> bool:
        # The second is read first: once it is completed, the first, read after, must be
        # too (reading them the other way round, both may complete between the two reads).
        later = api.get(f"/processes/{second['processId']}").json()["status"]
        earlier = api.get(f"/processes/{first['processId']}").json()["status"]
        seen.append((earlier, later))
        return later == "completed"

    wait_until(second_completed, 30, "the second import to complete")
    assert all(not (b == "completed" and a != "completed") for a, b in seen)
    assert seen[-1] == ("completed", "completed")
    sandbox.state.wait_idle()
    assert sandbox.state.contact_count() == 60_001


def test_report_csv_links_only_for_kinds_with_rows(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    report = run_import(api, sandbox, listIds=[list_id], fileBody="EMAIL\nok@example.com\n")
    assert set(report) == {
        "invalid_emails",
        "duplicate_contact_id",
        "duplicate_ext_id",
        "duplicate_email_id",
        "duplicate_phone_id",
        "duplicate_whatsapp_id",
        "duplicate_landline_number_id",
    }
    assert all(v is None for v in report.values())
    missing = httpx.get(f"{sandbox.base_url[:-3]}/reports/1/invalid_emails.csv")
    assert missing.status_code == 404


def test_json_body_follows_the_same_rules(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("owner@example.com", {"SMS": "+33611111111"})
    report = run_import(
        api,
        sandbox,
        listIds=[list_id],
        jsonBody=[
            {"email": "A@example.com", "attributes": {"FIRSTNAME": "Ann", "SMS": "+33622222222"}},
            {"email": "a@example.com", "attributes": {"FIRSTNAME": "Again"}},
            {"email": "b@example.com", "attributes": {"firstname": "Bea", "SMS": 33611111111}},
            {"email": "c@example.com", "attributes": {"FIRSTNAME": "  ", "NOPE": 1}},
            {"email": "bad@", "attributes": {}},
            {"attributes": {"SMS": "+33633333333", "LASTNAME": "Phone only"}},
        ],
    )
    assert report_rows(report["duplicate_email_id"]) == ["2;a@example.com;duplicate of row 1"]
    assert report_rows(report["duplicate_phone_id"]) == [
        "3;b@example.com;33611111111;already the SMS of contact 1"
    ]
    assert report_rows(report["invalid_emails"]) == ["5;bad@;invalid email address"]
    attrs = {
        e: (sandbox.state.get_contact(e) or {}).get("attributes")
        for e in ("a@example.com", "b@example.com", "c@example.com")
    }
    assert attrs == {
        "a@example.com": {"FIRSTNAME": "Ann", "SMS": "33622222222"},
        "b@example.com": {"FIRSTNAME": "Bea"},
        "c@example.com": {},
    }
    phone_only = sandbox.state.get_contact("+33633333333")
    assert phone_only is not None and "email" not in phone_only
    assert phone_only["attributes"] == {"SMS": "33633333333", "LASTNAME": "Phone only"}
    assert list_id in phone_only["listIds"]


def test_stop_finishes_queued_imports_before_saving(tmp_path: Any) -> None:
    from segport.brevo.sandbox import SandboxConfig

    path = tmp_path / "state.json"
    server = SandboxServer(SandboxConfig(port=0, rate_limits="off", state_file=path))
    server.start()
    lid = server.state.create_list("L", server.state.create_folder("F"))
    body = "EMAIL\n" + "".join(f"q{i}@example.com\n" for i in range(20_000))
    with httpx.Client(base_url=server.base_url, headers={"api-key": server.api_key}) as api:
        assert api.post("/contacts/import", json={"listIds": [lid], "fileBody": body}).is_success
    server.stop()
    with SandboxServer(SandboxConfig(port=0, state_file=path)) as again:
        assert again.state.contact_count() == 20_000


def test_ragged_csv_rows_are_still_read(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="email;firstname\r\na@example.com\r\n\r\nb@example.com;Bea;extra\r\n",
    )
    a = sandbox.state.get_contact("a@example.com")
    b = sandbox.state.get_contact("b@example.com")
    assert a is not None and a["attributes"] == {}
    assert b is not None and b["attributes"] == {"FIRSTNAME": "Bea"}


def test_only_present_columns_erase_and_phone_only_duplicates_are_skipped(
    api: httpx.Client, sandbox: SandboxServer, list_id: int
) -> None:
    sandbox.state.upsert_contact("a@example.com", {"FIRSTNAME": "Ann", "SMS": "+33612345678"})
    run_import(
        api,
        sandbox,
        listIds=[list_id],
        emptyContactsAttributes=True,
        fileBody="EMAIL;FIRSTNAME\na@example.com;\n",  # no SMS column: the number stays
    )
    a = sandbox.state.get_contact("a@example.com")
    assert a is not None and a["attributes"] == {"SMS": "33612345678"}
    report = run_import(
        api,
        sandbox,
        listIds=[list_id],
        fileBody="SMS;LASTNAME\n+33700000001;First\n+33700000001;Second\n",
    )
    assert report_rows(report["duplicate_phone_id"]) == ["3;;33700000001;duplicate of row 2"]
    phone = sandbox.state.get_contact("+33700000001")
    assert phone is not None and phone["attributes"]["LASTNAME"] == "First"
