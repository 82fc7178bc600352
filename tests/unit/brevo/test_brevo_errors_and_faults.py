"""Error mapping, retries and secrecy, on faults only a scripted transport can produce."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from segport.brevo import (
    AuthenticationError,
    BrevoClient,
    BrevoError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    TransportError,
)

from .conftest import API_KEY, BASE_URL, Script, json_response

Make = Callable[..., tuple[BrevoClient, Script]]

ACCOUNT = {
    "email": "ops@example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "companyName": "Example",
    "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300}],
}


def test_auth_header_user_agent_and_url(scripted: Make) -> None:
    client, script = scripted(json_response(200, ACCOUNT))
    account = client.get_account()
    assert account.email == "ops@example.com" and account.plans[0].credits == 300.0
    request = script.requests[0]
    assert str(request.url) == f"{BASE_URL}/account"
    assert request.headers["api-key"] == API_KEY
    assert request.headers["user-agent"].startswith("segport/")


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, InvalidRequestError), (401, AuthenticationError), (403, AuthenticationError),
     (404, NotFoundError), (422, InvalidRequestError)],
)  # fmt: skip
def test_client_errors_are_final(scripted: Make, status: int, kind: type[BrevoError]) -> None:
    client, script = scripted(json_response(status, {"code": "x", "message": "no"}))
    with pytest.raises(kind):
        client.get_attributes()
    assert len(script.requests) == 1


def test_5xx_is_retried_with_growing_jittered_backoff(scripted: Make, clock: Any) -> None:
    answers = [json_response(502, {"code": "bad_gateway", "message": "oops"})] * 3
    client, script = scripted(*answers, json_response(200, {"attributes": []}))
    assert client.get_attributes() == []
    assert len(script.requests) == 4
    waits = [t2 - t1 for t1, t2 in zip(script.times, script.times[1:], strict=False)]
    # initial 0.5 s doubling, plus up to 0.5 s of jitter
    for wait, base in zip(waits, [0.5, 1.0, 2.0], strict=True):
        assert base <= wait <= base + 0.5 + 0.2  # + pacing spacing at most


def test_retries_are_bounded(scripted: Make) -> None:
    answers = [json_response(500, {"code": "e", "message": "down"})] * 3
    client, script = scripted(*answers, max_retries=2)
    with pytest.raises(ServerError):
        client.get_attributes()
    assert len(script.requests) == 3


def test_cloudflare_524_html_page_is_a_retried_server_error(scripted: Make) -> None:
    page = httpx.Response(524, text="<html><body><h1>A timeout occurred</h1></body></html>")
    client, script = scripted(page, page, max_retries=1)
    with pytest.raises(ServerError) as caught:
        client.get_account()
    assert caught.value.status == 524 and caught.value.brevo_code is None
    assert "A timeout occurred" in caught.value.message
    assert len(script.requests) == 2


def test_malformed_json_success_is_retried(scripted: Make) -> None:
    torn = httpx.Response(200, content=b'{"email": "ops@exa')
    client, script = scripted(torn, json_response(200, ACCOUNT))
    assert client.get_account().first_name == "Ada"
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [httpx.RemoteProtocolError("Server disconnected without sending a response."),
     httpx.ReadTimeout("timed out"), httpx.ReadError("Connection reset by peer")],
)  # fmt: skip
def test_torn_connection_then_success(scripted: Make, fault: Exception) -> None:
    client, script = scripted(fault, json_response(200, ACCOUNT))
    assert client.get_account().email == "ops@example.com"
    assert len(script.requests) == 2


def test_lost_import_answer_is_resubmitted_once(scripted: Make) -> None:
    lost = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    client, script = scripted(lost, json_response(202, {"processId": 77}))
    rows = [{"email": "a@example.com", "attributes": {"FIRSTNAME": "A"}}]
    assert client.import_contacts(list_ids=[3], json_body=rows) == 77
    assert len(script.requests) == 2
    assert script.requests[0].content == script.requests[1].content


def test_create_list_not_retried_when_answer_lost(scripted: Make) -> None:
    lost = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    client, script = scripted(lost, json_response(201, {"id": 5}))
    with pytest.raises(TransportError) as caught:
        client.create_list("VIP", 1)
    assert caught.value.request_sent is True
    assert len(script.requests) == 1


def test_create_list_retried_when_connection_never_opened(scripted: Make) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, script = scripted(refused, json_response(201, {"id": 5}))
    assert client.create_list("VIP", 1) == 5
    assert len(script.requests) == 2


def test_transport_error_after_retries_says_no_answer(scripted: Make) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, _ = scripted(refused, refused, max_retries=1)
    with pytest.raises(TransportError) as caught:
        client.get_account()
    assert caught.value.status is None
    assert str(caught.value).startswith("no answer from Brevo: ConnectError")
    assert "(GET /account)" in str(caught.value)


def test_api_key_never_in_errors_logs_or_reprs(
    scripted: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = json_response(401, {"code": "unauthorized", "message": "Key not found"})
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, _ = scripted(
        json_response(500, {"code": "e", "message": "x"}), echo, refused, refused, max_retries=1
    )
    seen: list[str] = [repr(client)]
    for call in (client.get_account, client.get_lists):
        with pytest.raises(BrevoError) as caught:
            call()
        seen += [str(caught.value), repr(caught.value), repr(caught.value.__cause__)]
    seen += [record.getMessage() for record in caplog.records]
    assert caplog.records, "the client should log its requests at debug level"
    assert all(API_KEY not in text and API_KEY[-12:] not in text for text in seen)


def test_key_only_sent_to_the_api_origin(scripted: Make) -> None:
    client, script = scripted(
        httpx.Response(200, text="EMAIL;REASON\nx@y;invalid\n"),
        httpx.Response(200, text="EMAIL\n"),
    )
    assert client.download_report(f"{BASE_URL}/reports/1.csv").startswith("EMAIL;REASON")
    client.download_report("https://files.example-cdn.test/r/2.csv")
    assert script.requests[0].headers.get("api-key") == API_KEY
    assert "api-key" not in script.requests[1].headers


@pytest.mark.parametrize(
    "bad", ["", "   ", "xkeysib-abc9 zq7", "xkeysib-abc9zq7\n", "xkeysib-abc9zq7\x00"]
)
def test_bad_api_keys_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(ValueError, match="API key") as caught:
        BrevoClient(bad, BASE_URL)
    assert "abc9" not in str(caught.value)


def test_not_an_http_base_url() -> None:
    with pytest.raises(ValueError, match="not an http"):
        BrevoClient(API_KEY, "api.brevo.com/v3")


def test_broken_content_encoding_is_a_server_error(scripted: Make) -> None:
    garbled = httpx.Response(
        200, stream=httpx.ByteStream(b"\x00not gzip"), headers={"content-encoding": "gzip"}
    )
    client, script = scripted(garbled, json_response(200, ACCOUNT))
    assert client.get_account().last_name == "Lovelace"
    assert len(script.requests) == 2


def test_creation_answer_without_an_id_is_reported_not_resent(scripted: Make) -> None:
    client, script = scripted(httpx.Response(201))
    with pytest.raises(ServerError, match="without a valid 'id'"):
        client.create_list("VIP", 1)
    assert len(script.requests) == 1


def test_paging_stops_on_a_short_page_when_count_is_missing(scripted: Make) -> None:
    page = [{"id": i, "name": f"l{i}"} for i in range(50)]
    client, script = scripted(
        json_response(200, {"lists": page}),
        json_response(200, {"lists": [{"id": 99, "name": "x"}]}),
    )
    assert [x.id for x in client.get_lists()] == [*range(50), 99]
    assert [r.url.params["offset"] for r in script.requests] == ["0", "50"]


def test_retries_are_logged_with_their_reason(
    scripted: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="segport.brevo")
    client, _ = scripted(
        json_response(503, {"code": "unavailable", "message": "maintenance"}),
        json_response(200, {"attributes": []}),
    )
    client.get_attributes()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.name for r in warnings] == ["segport.brevo"]
    text = warnings[0].getMessage()
    assert "GET /contacts/attributes" in text and "503 unavailable: maintenance" in text
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("-> 503" in m for m in debug) and any("-> 200" in m for m in debug)
