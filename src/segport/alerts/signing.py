"""The webhook signature: HMAC-SHA256 over the timestamp and the exact body bytes.

segport sends two headers with every webhook::

    X-Segport-Timestamp: 1764979200
    X-Segport-Signature: sha256=<hex>

where ``<hex>`` is ``HMAC-SHA256(secret, b"<timestamp>." + body)`` in lower-case hex, the
timestamp in whole seconds since 1970 (UTC) when the attempt was sent. Signing the
timestamp with the body lets a receiver refuse a replayed request: :func:`verify` accepts
a timestamp at most ``tolerance`` seconds (5 minutes) away from its own clock.

:func:`verify` uses the standard library only, so a receiver can copy it as it is
(docs/alerts.md shows it). A receiver verifies the raw body it read, before parsing it:
re-serialising the JSON would change the bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "TOLERANCE_SECONDS", "sign", "verify"]

SIGNATURE_HEADER = "X-Segport-Signature"
TIMESTAMP_HEADER = "X-Segport-Timestamp"
TOLERANCE_SECONDS = 300
_PREFIX = "sha256="


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Segport-Signature`` value of ``body`` sent at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(
    secret: str | bytes,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is segport's, signed with ``secret`` and fresh.

    ``body`` is the raw request body (bytes, as received); ``timestamp`` and ``signature``
    the ``X-Segport-Timestamp`` and ``X-Segport-Signature`` headers. False when a header
    is missing or malformed, the timestamp is more than ``tolerance`` seconds from now
    (a replay), or the signature does not match.
    """
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, signature.strip())
