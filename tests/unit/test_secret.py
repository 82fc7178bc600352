"""The API key type never becomes its value by accident, and redaction scrubs echoes."""

from __future__ import annotations

import copy
import json
import pickle

import orjson
import pytest

from segport.brevo.errors import BrevoError, InvalidRequestError, TransportError, excerpt
from segport.brevo.session import check_api_key
from segport.secret import MASK, Secret, redact, redact_data

KEY = "xkeysib-UNITCANARY0123456789abcdef-0a1b2c3d4e5f"


def test_the_key_type_hides_its_value_when_shown() -> None:
    s = Secret(KEY)
    assert s.reveal() == KEY
    percent = "%s" % (s,)  # noqa: UP031 - old-style formatting must hide it too
    shown = (str(s), repr(s), f"{s}", f"{s!r}", f"{s:>60}", percent, format(s, ""), str([s]))
    for text in shown:
        assert "CANARY" not in text
    assert json.dumps({"k": s}, default=str) == '{"k": "********"}'


@pytest.mark.parametrize(
    "use",
    [
        lambda s: json.dumps(s),
        lambda s: json.dumps({"api_key": s}),
        lambda s: orjson.dumps(s),
        lambda s: orjson.dumps({"api_key": [s]}),
        lambda s: "api-key: " + s,
        lambda s: s + "!",
        lambda s: s * 2,
        lambda s: s % (),
        lambda s: "".join([s]),
        lambda s: pickle.dumps(s),
        lambda s: s.encode(),
        lambda s: s.strip(),
    ],
    ids=[
        "json", "json-dict", "orjson", "orjson-nested", "radd", "add", "mul", "mod", "join",
        "pickle", "encode", "strip",
    ],
)  # fmt: skip
def test_the_key_type_refuses_to_become_text(use: object) -> None:
    with pytest.raises((TypeError, AttributeError)) as info:
        use(Secret(KEY))  # type: ignore[operator]
    assert "CANARY" not in str(info.value)


def test_the_key_type_compares_copies_and_cannot_change() -> None:
    s = Secret(KEY)
    assert s == Secret(KEY) and s != Secret(KEY + "x") and s != KEY
    assert copy.copy(s) is s and copy.deepcopy({"k": s})["k"] is s
    assert Secret(s).reveal() == KEY and len(s) == len(KEY) and bool(s)
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_redact_scrubs_known_keys_their_pieces_and_header_values() -> None:
    Secret(KEY)  # the process has held it
    text = (
        f"headers: api-key={KEY}; x=1 | cut {KEY[:14]} | in JSON {json.dumps({'api-key': KEY})}"
        " | other header Api-Key: xkeysib-not-ours-123456 | api_key = 'short'"
    )
    clean = redact(text)
    for piece in (KEY, KEY[:14], "xkeysib-not-ours", "short"):
        assert piece not in clean
    assert clean.count(MASK) >= 5
    # Ordinary messages are left alone.
    plain = "Brevo said 401 unauthorized: Key not found (GET /account). API key is not enabled"
    assert redact(plain) == plain
    assert redact_data({"m": [f"k={KEY}"], "n": 3}) == {"m": [f"k={MASK}"], "n": 3}


def test_brevo_errors_never_hold_the_key() -> None:
    Secret(KEY)
    error = InvalidRequestError(
        f"echo: api-key: {KEY}",
        code=f"bad {KEY}",
        status=400,
        metadata={"headers": {"api-key": KEY}, "list": [KEY[:20]]},
        method="GET",
        path="/account",
    )
    error.message += f" and again {KEY}"  # extended later, as the session does
    for text in (
        str(error),
        repr(error),
        error.message,
        str(error.metadata),
        error.brevo_code or "",
    ):
        assert KEY[:16] not in text
    assert KEY not in str(TransportError(f"no answer: {KEY}"))
    assert KEY not in excerpt(f"<html>{KEY}</html>")
    assert isinstance(error, BrevoError)


@pytest.mark.parametrize("bad", ["xkeysib-é123456", "xkeysib-\x01abc", "xkey sib", "", "  "])
def test_a_key_httpx_cannot_send_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        check_api_key(bad)
    assert bad.strip() == "" or bad not in str(info.value)
    assert "é" not in str(info.value)


def test_keys_sharing_a_beginning_are_each_scrubbed_whole() -> None:
    base = "xkeysib-" + "a1b2c3d4" * 8 + "-Zq9Xw8Vu7Ts6Rp5"
    keys = [base + tail for tail in ("0", "1", "LONGER-TAIL")]
    for k in keys:
        Secret(k)
    for k in keys:
        assert redact(f"<{k}>") == f"<{MASK}>"
    assert redact(f"cut: {base[:30]}!") == f"cut: {MASK}!"


def test_redact_masks_a_password_in_a_url() -> None:
    text = "could not reach https://proxy:S3cr3t@example.com:8443/v3 (http://plain.example/v3)"
    assert redact(text) == (
        "could not reach https://proxy:***@example.com:8443/v3 (http://plain.example/v3)"
    )


def test_a_secret_made_with_scrub_false_is_not_remembered_for_redaction() -> None:
    """A login's password is checked and dropped: remembering every attempt would grow
    what `redact` scans without bound in a server. Only values a server can echo (API
    keys, the default) are remembered."""
    from segport import secret

    typed = "a-password-typed-at-a-login-0001"
    before = len(secret._known)
    held = Secret(typed, scrub=False)
    assert held.reveal() == typed and str(held) == "********"
    assert len(secret._known) == before and redact(f"echo {typed}") == f"echo {typed}"
    key = "an-api-key-a-server-could-echo-0002"
    Secret(key)
    assert len(secret._known) == before + 1 and key not in redact(f"echo {key}")
