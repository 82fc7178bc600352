"""Retries and pacing against the sandbox's injected faults and Brevo-like rate limits."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from tests.fixtures.sandbox import SandboxFactory
from tests.fixtures.waiting import wait_until

from segport.brevo import BrevoClient, RateLimitedError, ServerError, TransportError
from segport.brevo.sandbox import SandboxServer

EMAILS = [f"r{i:03d}@example.com" for i in range(300)]
ROWS: list[dict[str, Any]] = [
    {"email": email, "attributes": {"FIRSTNAME": f"R{i}"}} for i, email in enumerate(EMAILS)
]


def client_for(server: object, **options: object) -> BrevoClient:
    options.setdefault("requests_per_second", 1000)
    options.setdefault("initial_backoff", 0.02)  # the schedule itself is unit-tested
    return BrevoClient(server.api_key, server.base_url, **options)  # type: ignore[attr-defined,arg-type]


def settle(server: SandboxServer, sent: int) -> None:
    """Wait until the log holds the ``sent`` requests: the sandbox logs a request after
    its answer is sent, so the client can have the answer first."""
    log = server.requests_log
    wait_until(lambda: log.count() >= sent, 10, f"{sent} logged requests", condition=log.changed)


def test_5xx_and_524_are_retried_until_success(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="lists:500x1,lists:524x1,lists:502x1")
    list_id = server.state.create_list("VIP")
    with client_for(server) as brevo:
        assert brevo.get_list(list_id).name == "VIP"
        assert brevo.requests_sent == 4
    settle(server, 4)
    statuses = [e.status for e in server.requests_log.entries if "lists" in e.route]
    assert statuses == [500, 524, 502, 200]


def test_persistent_server_errors_end_after_the_bound(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="account:503")
    with client_for(server, max_retries=2) as brevo, pytest.raises(ServerError) as caught:
        brevo.get_account()
    assert caught.value.status == 503 and brevo.requests_sent == 3
    assert "error code: 503" in str(caught.value)


def test_dropped_import_is_resubmitted_and_the_list_is_exact(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(faults="import:drop x1".replace(" ", ""))
    list_id = server.state.create_list("Exported")
    with client_for(server) as brevo:
        process_id = brevo.import_contacts(list_ids=[list_id], json_body=ROWS)
        process = brevo.wait_for_process(process_id, timeout=30, first_delay=0.02, max_delay=0.2)
        assert process.completed and brevo.requests_sent >= 3
    assert server.state.list_member_emails(list_id) == set(EMAILS)
    assert server.state.contact_count() == len(ROWS)  # nothing doubled


def test_dropped_connections_on_reads_are_retried(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="list-contacts:drop@0.3", seed=7)
    list_id = server.state.create_list("Readers")
    for email in EMAILS[:120]:
        server.state.upsert_contact(email, list_ids=[list_id])
    with client_for(server, max_retries=8) as brevo:
        emails = {c.email for c in brevo.iter_list_contacts(list_id, page_size=10)}
    assert emails == set(EMAILS[:120])


def test_create_list_is_not_resent_when_its_answer_is_lost(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(faults="lists:dropx1")
    folder_id = server.state.create_folder("segport")
    with client_for(server) as brevo:
        with pytest.raises(TransportError) as caught:
            brevo.create_list("Once", folder_id)
        assert caught.value.request_sent and brevo.requests_sent == 1
        # the next call goes through: the client is still usable
        assert brevo.create_list("Once", folder_id) > 0


def test_read_timeouts_are_retried(sandbox_factory: SandboxFactory) -> None:
    # A second on each side of the read timeout: the retry's answer, from a sandbox sharing
    # this process and the cores with other tests, comes well within it.
    server = sandbox_factory(faults="account:slow=2.0x1")
    timeout = httpx.Timeout(connect=2.0, read=1.0, write=2.0, pool=2.0)
    with client_for(server, timeout=timeout) as brevo:
        assert brevo.get_account().email
        assert brevo.requests_sent == 2


def test_pacing_keeps_threads_under_brevo_limits(sandbox_factory: SandboxFactory) -> None:
    """Four threads share one client paced just under the plan's 10/s: the sandbox never
    says 429 (unpaced, they would go as fast as the answers come and meet 429s)."""
    server = sandbox_factory(rate_limits="brevo")
    list_id = server.state.create_list("Paced")
    for email in EMAILS[:24]:
        server.state.upsert_contact(email)
    errors: list[BaseException] = []
    # 9/s, not 10: the sandbox counts arrivals in fixed one-second windows, and requests
    # sent exactly 0.1 s apart arrive with the jitter of threads sharing the cores with
    # other tests (`make test` runs several at once), so an 11th could land in a window.
    with client_for(server, requests_per_second=9) as brevo:

        def work(part: int) -> None:
            try:
                for email in EMAILS[part:24:4]:
                    brevo.add_to_list(list_id, [email])
            except BaseException as exc:  # collected for the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert server.state.list_member_emails(list_id) == set(EMAILS[:24])
    settle(server, brevo.requests_sent)
    entries = [e for e in server.requests_log.entries if e.route.endswith("/contacts/add")]
    assert [e.status for e in entries] == [201] * 24  # never a 429


def test_too_fast_a_client_waits_for_resets_and_finishes(sandbox_factory: SandboxFactory) -> None:
    """Configured above the plan's rate, the client meets 429s, waits, and loses nothing."""
    server = sandbox_factory(rate_limits="brevo")
    list_id = server.state.create_list("Bursty")
    for email in EMAILS[:25]:
        server.state.upsert_contact(email)
    with client_for(server, requests_per_second=200) as brevo:
        for email in EMAILS[:25]:
            assert brevo.add_to_list(list_id, [email]).success == [email]
    assert server.state.list_member_emails(list_id) == set(EMAILS[:25])
    settle(server, brevo.requests_sent)
    assert server.requests_log.count(status=429) >= 1


def test_hourly_budget_exhausted_raises_with_the_wait(sandbox_factory: SandboxFactory) -> None:
    """/account is in the 100-per-hour family: once it is spent the client cannot wait."""
    server = sandbox_factory(rate_limits="brevo")
    with client_for(server, max_rate_limit_wait=5) as brevo:
        sent = 0
        with pytest.raises(RateLimitedError) as caught:
            while sent < 300:
                brevo.get_account()
                sent += 1
        # The answer that spent the budget said so, so the refused call sent no request.
        # (100 unless the sandbox's clock-aligned hour turned over during the test.)
        assert 100 <= sent <= 200 and brevo.requests_sent == sent
        assert caught.value.retry_after is not None and caught.value.retry_after > 5
        assert not caught.value.retryable and "try again later" in str(caught.value)
        # the contacts family has its own budget and still works
        assert brevo.get_attributes()


def test_501_not_implemented_is_not_retried(sandbox_factory: SandboxFactory) -> None:
    """The sandbox answers 501 for real Brevo endpoints it does not support: a permanent
    answer, so the client gives up at once with the server's message."""
    server = sandbox_factory()
    with client_for(server, max_retries=3) as brevo, pytest.raises(ServerError) as caught:
        brevo._session.call("GET", "/emailCampaigns")
    assert caught.value.status == 501 and not caught.value.retryable
    assert brevo.requests_sent == 1
    assert "not_supported" in (caught.value.brevo_code or "")
