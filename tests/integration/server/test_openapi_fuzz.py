"""Schemathesis runs the OpenAPI document against the live server, as an admin with an
API token: no server error, no status code, content type or body the document does not
declare.

Driven from a plain test (each operation's Hypothesis strategy): schemathesis' pytest
fixture integration (``from_fixture``) reads a pytest-internal attribute pytest 9 no longer
has.

Every operation is fuzzed, the ones that change users, tokens and connections included.
The module's ``web`` server is this test's own (module scope), so what the fuzzer changes
reaches no other test; guards keep the run meaningful and on loopback:

- the fuzzer never acts on its own credentials: a case that would revoke the admin's
  token, or demote, remove or re-password the admin, is pointed at nobody instead (it
  would turn every later case into a 401);
- a new connection's base URL, or an edited one's, is always the sandbox: the server
  checks the key with the URL it is given (or saves it unchecked, for later runs and
  checks), and a generated URL must not send a request off the machine; an edit never
  renames, unshares or slows the workspace's own connections (`shared`, `private`);
- the profiles are never pointed at a generated database URL: always at a closed port on
  loopback (refused at once, 422 `profiles_unreachable`);
- likewise a new alert's webhook is always a receiver on loopback, and the SMTP server
  one on loopback (without STARTTLS, which it has not): testing an alert, or a run's
  ending, sends to them and never off the machine.

Schemathesis' `positive_data_acceptance` check (a request the document allows must not get
422) is left out for the operations whose service checks more than a schema can say (a
name's characters and whether it is taken, a password's length rule, an expiry in the
future, the privacy consent, what a key may contain, a segment's rule or combination
checked on the profiles, the columns of a preview): their 422 carries the service's own
code and field, which the tests of each resource check. Every other check (no server
error, no undeclared status, content type or body) applies to them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.fixtures.server import Web, free_port
from tests.fixtures.smtp import smtp_on_loopback
from tests.fixtures.webhooks import webhook_receiver

from segport.server.uploads import SUFFIX_OF_TYPE
from segport.service import list_alerts, show_smtp

EXAMPLES = 8  # per operation: a few seconds in all
ACTOR = "admin"
NOBODY = "fuzz-nobody"
OWN_CONNECTIONS = ("shared", "private")  # the workspace's (tests.fixtures.server)
SERVICE_CHECKED = {
    "POST /api/v1/users",
    "PUT /api/v1/users/{name}/password",
    "POST /api/v1/tokens",
    "POST /api/v1/connections",
    "PUT /api/v1/connections/{name}/key",
    "POST /api/v1/exports",
    "PATCH /api/v1/exports/{name}",
    "POST /api/v1/exports/{name}/duplicate",
    "PUT /api/v1/exports/{name}/schedule",
    "POST /api/v1/connections/{name}/brevo/lists",
    "POST /api/v1/connections/{name}/brevo/attributes",
    "PATCH /api/v1/connections/{name}",
    "PUT /api/v1/profiles/source",
    "PUT /api/v1/system/schedule",
    "POST /api/v1/alerts",
    "PUT /api/v1/system/smtp",
    "POST /api/v1/profiles/loads",
    "POST /api/v1/segments",
    "POST /api/v1/segments/count",
    "PATCH /api/v1/segments/{name}",
    "GET /api/v1/segments/{name}/preview",
}

# The profile upload's body is a file as it is: sent as the bytes generated for it.
schemathesis.serializer.alias(
    [t for t in SUFFIX_OF_TYPE if t != "text/plain"], "application/octet-stream"
)


def test_the_api_keeps_to_its_openapi_document(web: Web) -> None:
    with (
        webhook_receiver("fuzz") as receiver,
        smtp_on_loopback("fuzz", "fuzz password") as smtp,
    ):
        _fuzz(web, Loopback(receiver.url, smtp.host, smtp.port))
    # the guards held: whatever the fuzzer saved sends to loopback only
    admin = web.actor(ACTOR)
    assert all(
        a.webhook is None or a.webhook.startswith(receiver.url) for a in list_alerts(web.ws, admin)
    )
    assert show_smtp(web.ws, admin).host in (None, smtp.host)


@dataclass(frozen=True)
class Loopback:
    """Where a fuzzed alert may send: a webhook receiver and an SMTP server on loopback."""

    webhook: str
    smtp_host: str
    smtp_port: int


def _fuzz(web: Web, loopback: Loopback) -> None:
    schema = schemathesis.openapi.from_url(f"{web.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {web.tokens[ACTOR]}"}
    with web.bearer(ACTOR) as client:
        own_tokens = {
            t["id"] for t in client.get("/api/v1/tokens", params={"user": ACTOR}).json()["items"]
        }
    assert own_tokens
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same cases every run: a failure reproduces
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            _guard(case, web, own_tokens, loopback)
            label = f"{case.method.upper()} {case.operation.path}"
            excluded = [positive_data_acceptance] if label in SERVICE_CHECKED else []
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        check()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) == 67, tried  # every operation of the document was exercised
    with web.bearer(ACTOR) as client:  # the guards held: the fuzzer was an admin throughout
        assert client.get("/api/v1/me").json()["user"] == {"name": ACTOR, "role": "admin"}


def _guard(case: schemathesis.Case, web: Web, own_tokens: set[int], loopback: Loopback) -> None:
    path, method = case.operation.path, case.method.upper()
    params = case.path_parameters or {}
    if path.startswith("/api/v1/users/{name}") and method != "GET" and params.get("name") == ACTOR:
        params["name"] = NOBODY
    if path == "/api/v1/tokens/{token_id}" and params.get("token_id") in own_tokens:
        params["token_id"] = 2**31 - 1
    if path == "/api/v1/connections" and method == "POST" and isinstance(case.body, dict):
        case.body["base_url"] = web.brevo_url
    if path == "/api/v1/connections/{name}" and method == "PATCH" and isinstance(case.body, dict):
        if case.body.get("base_url") is not None:
            case.body["base_url"] = web.brevo_url
        if params.get("name") in OWN_CONNECTIONS:
            for kept in ("name", "share_with_contributors", "requests_per_second"):
                case.body.pop(kept, None)
    if path == "/api/v1/profiles/source" and method == "PUT" and isinstance(case.body, dict):
        case.body["url"] = f"postgresql://fuzz@127.0.0.1:{free_port()}/fuzz"
    if (
        path == "/api/v1/alerts"
        and method == "POST"
        and isinstance(case.body, dict)
        and case.body.get("webhook") is not None
    ):
        case.body["webhook"] = loopback.webhook
    if path == "/api/v1/system/smtp" and method == "PUT" and isinstance(case.body, dict):
        case.body.update(host=loopback.smtp_host, port=loopback.smtp_port, starttls=False)
    if path == "/api/v1/profiles/loads" and case.query:
        case.query.pop("allow_schema_change", None)
