"""Client-side logic that needs no server: argument checks, body building, poll schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from segport.brevo import BrevoClient, ProcessTimeoutError, format_brevo_datetime
from segport.brevo.client import MAX_IMPORT_BYTES

from .conftest import API_KEY, FakeClock, Script, json_response

Make = Callable[..., tuple[BrevoClient, Script]]


@pytest.fixture
def offline() -> BrevoClient:
    # Nothing listens on port 9 (discard); these calls must fail before any request.
    return BrevoClient(API_KEY, "http://127.0.0.1:9/v3", max_retries=0)


def test_brevo_datetime_format() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891_234, tzinfo=timezone(timedelta(hours=2)))
    assert format_brevo_datetime(moment) == "2026-03-04T03:06:07.891Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_brevo_datetime(datetime(2026, 1, 1))


@pytest.mark.parametrize("count", [0, 151])
def test_list_changes_take_1_to_150_emails(offline: BrevoClient, count: int) -> None:
    emails = [f"p{i}@example.com" for i in range(count)]
    with pytest.raises(ValueError, match="1 to 150 emails"):
        offline.add_to_list(3, emails)
    with pytest.raises(ValueError, match="1 to 150 emails"):
        offline.remove_from_list(3, emails)


def test_list_change_refuses_a_bare_string(offline: BrevoClient) -> None:
    with pytest.raises(TypeError):
        offline.add_to_list(3, "a@example.com")


@pytest.mark.parametrize("bad", [0, -3, True, "7"])
def test_ids_must_be_positive_integers(offline: BrevoClient, bad: object) -> None:
    with pytest.raises(ValueError, match="list_id must be a positive integer"):
        offline.get_list(bad)  # type: ignore[arg-type]


def test_import_needs_exactly_one_body_and_a_list(offline: BrevoClient) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        offline.import_contacts(list_ids=[1])
    with pytest.raises(ValueError, match="exactly one"):
        offline.import_contacts(list_ids=[1], file_body="EMAIL\na@b.c", json_body=[])
    with pytest.raises(ValueError, match="at least one list"):
        offline.import_contacts(list_ids=[], file_body="EMAIL\na@b.c")
    with pytest.raises(ValueError, match="nothing to import"):
        offline.import_contacts(list_ids=[1], json_body=[])
    with pytest.raises(ValueError, match="JSON array"):
        offline.import_contacts(list_ids=[1], json_body=b'{"email": "a@b.c"}')


def test_import_over_10_mb_is_refused_before_sending(offline: BrevoClient) -> None:
    body = "EMAIL\n" + "x" * MAX_IMPORT_BYTES
    with pytest.raises(ValueError, match="over Brevo's 10 MB limit"):
        offline.import_contacts(list_ids=[1], file_body=body)


def test_import_body_fields_and_no_blacklist_flags(scripted: Make) -> None:
    accepted = json_response(202, {"processId": 9})
    client, script = scripted(accepted, accepted, accepted)
    rows = [{"email": "a@example.com", "attributes": {"FIRSTNAME": "Zoë 🎉", "N": 1.5}}]
    client.import_contacts(list_ids=[4], json_body=rows)
    client.import_contacts(list_ids=[4], json_body=orjson.dumps(rows))
    client.import_contacts(list_ids=[4, 5], file_body="EMAIL;FIRSTNAME\na@example.com;A\n")
    bodies = [orjson.loads(r.content) for r in script.requests]
    assert bodies[0] == bodies[1]
    assert bodies[0] == {
        "listIds": [4],
        "updateExistingContacts": True,
        "emptyContactsAttributes": False,
        "disableNotification": True,
        "jsonBody": rows,
    }
    assert bodies[2]["fileBody"] == "EMAIL;FIRSTNAME\na@example.com;A\n"
    for body in bodies:
        assert not {"emailBlacklist", "smsBlacklist"} & body.keys()
    assert all(r.url.path == "/v3/contacts/import" for r in script.requests)


def test_wait_for_process_polls_sparsely_with_backoff(scripted: Make, clock: FakeClock) -> None:
    running = json_response(200, {"id": 8, "status": "in_process", "name": "IMPORTUSER"})
    done = json_response(
        200,
        {"id": 8, "status": "completed", "name": "IMPORTUSER",
         "info": {"import": {"invalid_emails": "http://x/r.csv", "duplicate_phone_id": None}}},
    )  # fmt: skip
    client, script = scripted(*[running] * 6, done)
    start = clock.now
    process = client.wait_for_process(8, timeout=600, first_delay=0.5, max_delay=10)
    assert process.completed and process.import_report is not None
    assert process.import_report.urls() == {"invalid_emails": "http://x/r.csv"}
    offsets = [t - start for t in script.times]
    assert offsets == pytest.approx([0.5, 1.5, 3.5, 7.5, 15.5, 25.5, 35.5])


def test_wait_for_process_times_out_with_last_status(scripted: Make, clock: FakeClock) -> None:
    queued = json_response(200, {"id": 8, "status": "queued"})
    client, script = scripted(*[queued] * 20)
    start = clock.now
    with pytest.raises(ProcessTimeoutError) as caught:
        client.wait_for_process(8, timeout=10, first_delay=1, max_delay=4)
    assert caught.value.last_status == "queued" and caught.value.process_id == 8
    assert "did not finish within 10 s" in str(caught.value)
    offsets = [t - start for t in script.times]
    # 1, then +2, +4, +3 (cut to the deadline): the last poll is exactly at the deadline
    assert offsets == pytest.approx([1.0, 3.0, 7.0, 10.0])


def test_failed_process_is_returned_not_waited_on(scripted: Make) -> None:
    client, script = scripted(json_response(200, {"id": 8, "status": "failed"}))
    assert client.wait_for_process(8, timeout=60).status == "failed"
    assert len(script.requests) == 1


def test_list_contacts_query(scripted: Make) -> None:
    page = json_response(200, {"contacts": [], "count": 0})
    client, script = scripted(page)
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    client.list_contacts(12, limit=100, offset=200, modified_since=since)
    params = dict(script.requests[0].url.params)
    assert params == {"limit": "100", "offset": "200", "modifiedSince": "2026-01-02T03:04:05.000Z"}
    with pytest.raises(ValueError, match="between 1 and 500"):
        client.list_contacts(12, limit=501)
