"""Every test here drives the real headless Chromium (tests/fixtures/browser.py) and has
the `browser` marker, so `-m "not browser"` runs without one."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
