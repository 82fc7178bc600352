"""The webhook signature: what it covers, what it refuses, and that the ``verify`` docs
/alerts.md tells receivers to copy is the one segport's tests use."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segport.alerts import signing
from segport.alerts.signing import sign, verify

DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"
SECRET = "whsec-unit-test-secret"
BODY = b'{"id":17,"status":"failed"}'
STAMP = 1_764_923_400


def documented_verify() -> Callable[..., bool]:
    """The ``verify`` of docs/alerts.md, run as a receiver would copy it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [source] = [b for b in blocks if "def verify(" in b]
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    function = namespace["verify"]
    assert callable(function)
    return function  # type: ignore[no-any-return]


@pytest.fixture(params=["segport", "docs"])
def check(request: pytest.FixtureRequest) -> Callable[..., bool]:
    return verify if request.param == "segport" else documented_verify()


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1764923400." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, STAMP) == "sha256=" + expected
    assert sign(SECRET.encode(), BODY, STAMP) == sign(SECRET, BODY, STAMP)


def test_a_fresh_request_verifies(check: Callable[..., bool]) -> None:
    signature = sign(SECRET, BODY, STAMP)
    assert check(SECRET, BODY, str(STAMP), signature, now=STAMP)
    assert check(SECRET.encode(), BODY, str(STAMP), signature, now=STAMP + 299)
    assert check(SECRET, BODY, str(STAMP), signature, now=STAMP - 299)  # a clock behind


def test_a_replay_outside_the_window_is_refused(check: Callable[..., bool]) -> None:
    signature = sign(SECRET, BODY, STAMP)
    assert not check(SECRET, BODY, str(STAMP), signature, now=STAMP + 301)
    assert check(SECRET, BODY, str(STAMP), signature, now=STAMP + 3000, tolerance=3600)
    # moving the timestamp forward breaks the signature
    assert not check(SECRET, BODY, str(STAMP + 301), signature, now=STAMP + 301)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "signature"),
    [
        ("another-secret", BODY, str(STAMP), None),
        (SECRET, BODY.replace(b"failed", b"passed"), str(STAMP), None),
        (SECRET, BODY + b" ", str(STAMP), None),
        (SECRET, BODY, "", None),
        (SECRET, BODY, "17649234OO", None),
        (SECRET, BODY, "١٧٦٤٩٢٣٤٠٠", None),  # digits, but not ASCII ones
        (SECRET, BODY, str(STAMP), ""),
        (SECRET, BODY, str(STAMP), "sha1=abc"),
        (SECRET, BODY, str(STAMP), sign(SECRET, BODY, STAMP).upper()),
    ],
)
def test_anything_else_is_refused(
    check: Callable[..., bool], secret: str, body: bytes, timestamp: str, signature: str | None
) -> None:
    good = sign(SECRET, BODY, STAMP)
    assert not check(secret, body, timestamp, good if signature is None else signature, now=STAMP)


def test_the_documented_verify_is_segports() -> None:
    """Word for word, but for the docstring and the named tolerance."""

    def code(source: str) -> list[str]:
        without_docstring = re.sub(r'"""[\s\S]*?"""', "", source)
        return [line.strip() for line in without_docstring.splitlines() if line.strip()]

    ours = inspect.getsource(signing.verify).replace("TOLERANCE_SECONDS", "300")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [theirs] = [b for b in blocks if "def verify(" in b]
    assert code(ours) == code(theirs[theirs.index("def verify(") :])
