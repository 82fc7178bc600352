"""Text from data, made safe to print on a terminal.

Profile values, segment and export names, Brevo's messages and file paths can hold
control characters. Printed as they are, an escape sequence can recolour or clear the
screen, set the window title, hide text or move the cursor over earlier output (a name
holding ``\\r`` can overwrite the line it is on). Every CLI renderer passes such text
through :func:`clean` first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# ANSI/ECMA-48 sequences, removed whole so that no "[31m" residue is left: CSI (ESC [ ...
# final byte), OSC/DCS/SOS/PM/APC strings (ESC ] ... up to BEL or ESC \), and two-byte
# escapes (ESC and one character). C1 forms (U+009B CSI, U+009D OSC) likewise.
_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?       # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, ... strings
  | \x1b [\x20-\x7e]?                                           # other escapes
    """,
    re.VERBOSE | re.DOTALL,
)
# Line breaks and tabs become a space (a multi-line Brevo message stays readable on one
# line); every other C0/C1 control character goes, and so do the bidirectional overrides
# that can make text read differently from what it is (CVE-2021-42574).
_SPACES = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``value`` as text with no terminal control characters (``None`` gives "")."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _SEQUENCES.sub("", text)
    text = _SPACES.sub(" ", text)
    return _CONTROLS.sub("", text)


def clean_message(value: object) -> str:
    """An error message of several lines, each one cleaned: our own line breaks stay.

    Multi-line messages (a refused reload listing each column, ``--strict`` listing each
    line) are unreadable run together; the line breaks are segport's, and every other
    control character (``\\r`` included, which could overwrite a line) still goes.
    """
    text = value if isinstance(value, str) else str(value)
    return "\n".join(clean(line) for line in text.split("\n"))


def clean_repr(value: object) -> str:
    """``repr`` of a cleaned string: quotes as Python shows them, for names in messages."""
    return repr(clean(value))


def when(value: datetime | None, missing: str = "-") -> str:
    """The one format of every time the CLI prints: ISO 8601 in the local time zone, to
    the second, with its offset (``2026-12-04 22:10:05+01:00``). A naive time is UTC (as
    the metadata stores it); ``missing`` stands for no time at all."""
    if value is None:
        return missing
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().isoformat(sep=" ", timespec="seconds")
