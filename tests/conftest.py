"""Shared pytest configuration. Fixtures live in tests/fixtures/, one module per area
(tests/fixtures/databases.py also gives every test reaching PostgreSQL the `postgres`
marker)."""

import os

from hypothesis import HealthCheck, settings

# The official SDK switches to OAuth when these are set at import time (api-notes §12).
os.environ.pop("BREVO_CLIENT_ID", None)
os.environ.pop("BREVO_CLIENT_SECRET", None)

# No timed assertions (hypothesis's default 200 ms deadline per example, its "too slow"
# check on generating data): under `make test` the tests share the cores with each other
# (pytest-xdist) and the machine with whatever else runs, so a time says nothing about
# the code and only makes a test flaky.
settings.register_profile("segport", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("segport")

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.databases",
    "tests.fixtures.sandbox",
    "tests.fixtures.server",
    "tests.fixtures.workspace",
]
