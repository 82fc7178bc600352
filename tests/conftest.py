"""Shared pytest configuration. Fixtures live in tests/fixtures/, one module per area
(tests/fixtures/databases.py also gives every test reaching PostgreSQL the `postgres`
marker)."""

import os

# The official SDK switches to OAuth when these are set at import time (api-notes §12).
os.environ.pop("BREVO_CLIENT_ID", None)
os.environ.pop("BREVO_CLIENT_SECRET", None)

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.databases",
    "tests.fixtures.sandbox",
    "tests.fixtures.server",
    "tests.fixtures.workspace",
]
