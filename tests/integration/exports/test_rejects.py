"""Every reject reason ends in the run's rejected-rows CSV, and good rows still go."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.fixtures.sandbox import TEST_API_KEY
from tests.integration.exports.conftest import Scenario, profile

from segport.brevo import BrevoClient
from segport.brevo.sandbox.records import Attribute as SandboxAttribute


def read_rejects(path: str | None) -> list[dict[str, str]]:
    assert path is not None
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_reason_is_reported_and_good_rows_go(scenario: Scenario) -> None:
    with BrevoClient(TEST_API_KEY, scenario.sandbox.base_url) as client:
        client.create_attribute("normal", "SCORE", "text")
    # A contact already in Brevo holds the phone of profile 9: Brevo reports it.
    scenario.sandbox.state.upsert_contact("holder@example.org", {"SMS": "+447911000009"})
    rows = [profile(i, city=str(i)) for i in range(1, 12)]
    rows[0]["email"] = "not-an-email"  # 1: email_invalid
    rows[1]["email"] = ""  # 2: email_missing
    rows[2]["email"] = "USER4@Example.com "  # 3: same email as 4 -> email_duplicate
    rows[4]["phone"] = "12"  # 5: phone_invalid (sent without SMS)
    rows[5]["phone"] = rows[6]["phone"]  # 6 and 7 share a phone -> sms_duplicate
    rows[7]["city"] = "lots"  # 8: SCORE not a number -> value_invalid (sent without it)
    rows[9]["email"] = "jöhn@example.com"  # 10: non-ASCII local part
    rows[10]["first_name"] = 'Zoë "Zed"; O\'Neil\nII 🎉'  # 11: awkward but fine
    scenario.load(rows)
    scenario.add_export(attributes={"SCORE": "city"})
    # Saving refuses a text column for a float attribute; the account can still change
    # after the export was saved (SCORE deleted and made again as a number): each run
    # coerces values to the attribute's type as Brevo has it then.
    scenario.sandbox.state.attributes["SCORE"] = SandboxAttribute("SCORE", "normal", "float")
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    assert summary.rejected == {
        "email_duplicate": 1,
        "email_invalid": 1,
        "email_missing": 1,
        "email_unicode_local_part": 1,
        "phone_invalid": 1,
        "sms_duplicate": 1,
        "value_invalid": 1,
    }
    assert summary.brevo_failures == {"brevo_duplicate_phone": 1}
    sent = {f"user{i}@example.com" for i in (4, 5, 6, 7, 8, 9, 11)}
    assert summary.valid == 7 and scenario.members() == sent
    by_reason = {r["reason"]: r for r in read_rejects(summary.rejected_csv)}
    assert set(by_reason) == set(summary.rejected) | {"brevo_duplicate_phone"}
    assert by_reason["email_invalid"]["customer_id"] == "1"
    assert by_reason["email_invalid"]["email"] == "not-an-email"
    assert by_reason["email_duplicate"]["customer_id"] in ("3", "4")
    assert by_reason["phone_invalid"]["field"] == "SMS"
    assert by_reason["value_invalid"]["field"] == "SCORE"
    assert by_reason["brevo_duplicate_phone"]["email"] == "user9@example.com"
    assert by_reason["brevo_duplicate_phone"]["customer_id"] == "9"
    five = scenario.contact("user5@example.com")
    assert five is not None and "SMS" not in five["attributes"]
    eleven = scenario.contact("user11@example.com")
    assert eleven is not None
    assert eleven["attributes"]["FIRSTNAME"] == 'Zoë "Zed"; O\'Neil\nII 🎉'
    eight = scenario.contact("user8@example.com")
    assert eight is not None and "SCORE" not in eight["attributes"]
    assert scenario.contact("user6@example.com") is not None
