"""Schemathesis runs the OpenAPI document against the live server, as an admin with an
API token: no server error, no status code, content type or body the document does not
declare.

Driven from a plain test (each operation's Hypothesis strategy): schemathesis' pytest
fixture integration (``from_fixture``) reads a pytest-internal attribute pytest 9 no longer
has.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.fixtures.server import Web

EXAMPLES = 8  # per operation: a few seconds in all


def test_the_api_keeps_to_its_openapi_document(web: Web) -> None:
    schema = schemathesis.openapi.from_url(f"{web.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {web.tokens['admin']}"}
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
            case.call_and_validate(headers=headers)

        check()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) == 10, tried  # every operation of the document was exercised
