"""The interim `make demo` tour runs against a real sandbox and reports what it did."""

from __future__ import annotations

import pytest

from segport import demo


def test_demo_imports_and_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    demo.main()
    out = capsys.readouterr().out
    assert "POST /v3/contacts/import -> 202" in out
    assert "list 1 holds 2 contacts" in out
    assert "grace@example.com: Grace Hopper, SMS 14155550100" in out
    assert "4;not-an-email;invalid email address" in out
    assert out.rstrip().endswith("API calls.")
