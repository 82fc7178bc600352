"""Email addresses: normalise (trim, lower-case, IDN domain to ASCII) and check, vectorised.

The rule (docs/contacts.md explains why):

- surrounding whitespace is trimmed and the address lower-cased;
- the local part is an ASCII dot-atom (RFC 5322 atext characters, single dots, no quotes),
  at most 64 bytes; a non-ASCII local part (SMTPUTF8) is rejected with its own reason,
  since Brevo's acceptance of it is unverified;
- the domain is two or more LDH labels ending in an alphabetic TLD of 2+ letters or an
  ``xn--`` TLD; an internationalised domain is converted to its ASCII (A-label) form with
  IDNA 2008 + UTS 46, so ``anna@bücher.de`` is sent as ``anna@xn--bcher-kva.de``;
- special-use TLDs that cannot receive mail (``arpa invalid local localhost onion test``)
  are rejected; the whole address is at most 254 bytes; IP literals and quoted local parts
  are rejected.

ASCII rows (nearly all) are checked with one RE2 pass in Arrow; only the few non-ASCII
rows go through Python.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import idna
import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import NULL_STR, lit
from segport.contacts.rejects import Reason

_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
EMAIL_PATTERN = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+{_TLD}$"
"""The syntax every sent address matches (after lower-casing); RE2 and Python agree on it."""

SPECIAL_USE_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_PY_PATTERN = re.compile(EMAIL_PATTERN.removeprefix("^").removesuffix("$"))
_SPECIAL_TLD_PATTERN = r"\.(?:" + "|".join(SPECIAL_USE_TLDS) + r")$"

DETAIL_SYNTAX = "not a valid address: expected name@domain.tld without spaces or quotes"
DETAIL_TOO_LONG = f"longer than {MAX_EMAIL_LENGTH} characters (or {MAX_LOCAL_LENGTH} before @)"
DETAIL_SPECIAL_TLD = (
    "the domain ends in a reserved TLD that cannot receive mail ("
    + ", ".join("." + t for t in SPECIAL_USE_TLDS)
    + ")"
)
DETAIL_BAD_IDN = "the internationalised domain cannot be converted to ASCII (IDNA 2008)"
DETAIL_UNICODE_LOCAL = "non-ASCII characters before @ (SMTPUTF8); Brevo's support is unverified"


@dataclass(frozen=True)
class EmailCheck:
    """Per-row outcome of :func:`check_emails`, aligned with the input.

    ``emails`` holds the normalised address, null where rejected; ``reasons`` and
    ``details`` are null where the address is kept.
    """

    emails: pa.StringArray
    reasons: pa.StringArray
    details: pa.StringArray

    @property
    def valid(self) -> pa.BooleanArray:
        return pc.is_valid(self.emails)


def check_emails(raw: pa.Array | pa.ChunkedArray) -> EmailCheck:
    """Normalise and check a column of raw email values (any type castable to string)."""
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    text = raw.cast(pa.string())
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    missing = pc.fill_null(pc.equal(lowered, lit("")), lit(True))
    ascii_ = pc.fill_null(pc.string_is_ascii(lowered), lit(True))

    syntax_ok = pc.fill_null(pc.match_substring_regex(lowered, EMAIL_PATTERN), lit(False))
    length_ok = pc.and_(
        pc.less_equal(pc.binary_length(lowered), lit(MAX_EMAIL_LENGTH)),
        pc.less_equal(pc.find_substring(lowered, "@"), lit(MAX_LOCAL_LENGTH)),
    )
    special = pc.fill_null(pc.match_substring_regex(lowered, _SPECIAL_TLD_PATTERN), lit(False))
    ok = pc.and_(pc.and_(syntax_ok, pc.fill_null(length_ok, lit(False))), pc.invert(special))

    emails = pc.if_else(ok, lowered, NULL_STR)
    reasons = details = pa.nulls(len(lowered), pa.string())
    rejected = pc.invert(ok)
    if pc.any(rejected).as_py():
        # reasons and details are built for the rejected rows only, then put in place
        gone = missing.filter(rejected)
        reason = pc.if_else(gone, lit(Reason.EMAIL_MISSING.value), lit(Reason.EMAIL_INVALID.value))
        detail = pc.if_else(
            gone,
            lit("no email address"),
            pc.if_else(
                special.filter(rejected),
                lit(DETAIL_SPECIAL_TLD),
                pc.if_else(syntax_ok.filter(rejected), lit(DETAIL_TOO_LONG), lit(DETAIL_SYNTAX)),
            ),
        )
        reasons = pc.replace_with_mask(reasons, rejected, reason)
        details = pc.replace_with_mask(details, rejected, detail)

    non_ascii = pc.and_(pc.invert(ascii_), pc.invert(missing))
    if pc.any(non_ascii).as_py():
        emails, reasons, details = _patch_non_ascii(lowered, non_ascii, emails, reasons, details)
    return EmailCheck(emails, reasons, details)


def _patch_non_ascii(
    lowered: pa.Array,
    rows: pa.BooleanArray,
    emails: pa.Array,
    reasons: pa.Array,
    details: pa.Array,
) -> tuple[pa.StringArray, pa.StringArray, pa.StringArray]:
    """Handle the (few) non-ASCII addresses in Python: IDN domains become A-labels."""
    checked = [_check_non_ascii(value) for value in lowered.filter(rows).to_pylist()]
    # replace_with_mask fills the masked rows, in order, from the replacement arrays
    return (
        pc.replace_with_mask(emails, rows, pa.array([c[0] for c in checked], pa.string())),
        pc.replace_with_mask(reasons, rows, pa.array([c[1] for c in checked], pa.string())),
        pc.replace_with_mask(details, rows, pa.array([c[2] for c in checked], pa.string())),
    )


def _check_non_ascii(value: str) -> tuple[str | None, str | None, str | None]:
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return None, Reason.EMAIL_INVALID.value, DETAIL_SYNTAX
    if not local.isascii():
        return None, Reason.EMAIL_UNICODE_LOCAL_PART.value, DETAIL_UNICODE_LOCAL
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        return None, Reason.EMAIL_INVALID.value, DETAIL_BAD_IDN
    return check_one(f"{local}@{ascii_domain}")


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    """The A-label form of an internationalised domain (cached: a few domains recur)."""
    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except (idna.IDNAError, UnicodeError):
        return None


def check_one(value: str) -> tuple[str | None, str | None, str | None]:
    """The ASCII rule for one already lower-cased, trimmed address: (email, reason, detail)."""
    if not _PY_PATTERN.fullmatch(value):
        return None, Reason.EMAIL_INVALID.value, DETAIL_SYNTAX
    if value.rsplit(".", 1)[1] in SPECIAL_USE_TLDS:
        return None, Reason.EMAIL_INVALID.value, DETAIL_SPECIAL_TLD
    if len(value) > MAX_EMAIL_LENGTH or value.index("@") > MAX_LOCAL_LENGTH:
        return None, Reason.EMAIL_INVALID.value, DETAIL_TOO_LONG
    return value, None, None
