"""Injected faults (reproducible under a seed; `drop` really tears the connection) and the
rate limiter's windows."""

from __future__ import annotations

import time

import httpx
import pytest
from brevo import Brevo
from brevo.core.api_error import ApiError
from tests.fixtures.sandbox import SandboxFactory

from segport.brevo.sandbox.faults import FaultSpecError, parse_faults
from segport.brevo.sandbox.ratelimit import RateLimiter, bucket_of


def _statuses(factory: SandboxFactory, spec: str, seed: int, n: int = 24) -> list[int]:
    server = factory(faults=spec, seed=seed)
    headers = {"api-key": server.api_key}
    with httpx.Client(base_url=server.base_url, headers=headers) as api:
        return [api.get("/contacts/lists").status_code for _ in range(n)]


def test_faults_are_reproducible_under_a_seed(sandbox_factory: SandboxFactory) -> None:
    a = _statuses(sandbox_factory, "lists:500@0.5", seed=7)
    b = _statuses(sandbox_factory, "lists:500@0.5", seed=7)
    c = _statuses(sandbox_factory, "lists:500@0.5", seed=8)
    assert a == b
    assert {200, 500} == set(a)
    assert a != c


def test_fault_only_hits_its_endpoint_and_count_limits_it(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(faults="import:500x2,processes:524")
    lid = server.state.create_list("L", server.state.create_folder("F"))
    body = {"listIds": [lid], "fileBody": "EMAIL\na@example.com\n"}
    with httpx.Client(base_url=server.base_url, headers={"api-key": server.api_key}) as api:
        codes = [api.post("/contacts/import", json=body).status_code for _ in range(3)]
        assert codes == [500, 500, 202]
        assert api.get("/contacts/lists").status_code == 200
        gateway = api.get("/processes/1")
        assert gateway.status_code == 524 and gateway.text == "error code: 524"
    client = Brevo(api_key=server.api_key, base_url=server.base_url, max_retries=0)
    with pytest.raises(ApiError) as err:
        client.process.get_process(1)
    assert err.value.status_code == 524
    assert server.requests_log.count("POST /contacts/import", status=500) == 2


def test_drop_tears_the_connection_down(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="account:drop")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base_url}/account", headers={"api-key": server.api_key})
    client = Brevo(api_key=server.api_key, base_url=server.base_url, max_retries=0)
    with pytest.raises(httpx.TransportError):
        client.account.get_account()
    assert server.requests_log.count("GET /account", status=0) == 2
    # other endpoints are untouched and the server keeps serving
    r = httpx.get(f"{server.base_url}/contacts/lists", headers={"api-key": server.api_key})
    assert r.status_code == 200


def test_slow_answers_after_the_delay(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults="account:slow=0.3")
    t = time.monotonic()
    r = httpx.get(f"{server.base_url}/account", headers={"api-key": server.api_key})
    assert r.status_code == 200 and time.monotonic() - t >= 0.3


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("import", "ENDPOINT:ACTION"),
        ("imports:500", "unknown endpoint 'imports'"),
        ("import:418", "unknown action '418'"),
        ("import:500@1.5", "between 0 and 1"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(spec: str, needle: str) -> None:
    with pytest.raises(FaultSpecError) as err:
        parse_faults(spec)
    assert needle in str(err.value)


def test_fault_spec_parses_every_form() -> None:
    rules = parse_faults("import:429@0.2, processes:500x3,lists:slow=1.5@0.3,*:drop@0.05", 1)
    assert [(r.endpoint, r.action, r.rate, r.count, r.delay) for r in rules] == [
        ("import", "429", 0.2, None, 0.0),
        ("processes", "500", 1.0, 3, 0.0),
        ("lists", "slow", 0.3, None, 1.5),
        ("*", "drop", 0.05, None, 0.0),
    ]


def test_rate_limiter_windows() -> None:
    limiter = RateLimiter()
    t0 = 3600 * 278 + 0.25  # the start of a clock hour
    verdicts = [limiter.check("k", "contacts", t0 + i * 0.01) for i in range(11)]
    assert [v.allowed for v in verdicts] == [True] * 10 + [False]
    assert verdicts[0].limit == 10 and verdicts[0].remaining == 9 and verdicts[0].reset == 1
    assert verdicts[-1].remaining == 0
    assert limiter.check("k", "contacts", t0 + 1).allowed  # next second
    assert limiter.check("other-key", "contacts", t0).allowed  # per key
    hourly = [limiter.check("k", "other", t0 + i) for i in range(101)]
    assert hourly[99].allowed and not hourly[100].allowed
    assert hourly[100].limit == 100 and hourly[100].reset > 3000
    assert bucket_of("/v3/contacts") == "contacts"
    assert bucket_of("/v3/contacts/lists/3/contacts/add") == "contacts"
    assert bucket_of("/v3/processes/3") == "other"
    assert bucket_of("/v3/account") == "other"
