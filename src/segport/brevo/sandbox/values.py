"""Value rules of a Brevo account: emails, phone numbers (SMS), attribute types, dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

# A pragmatic address check (ASCII local part, dotted domain with a TLD); Brevo's exact
# rule is not published, see docs/sandbox.md.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE_STRIP = str.maketrans("", "", " -.()\t")


def normalize_email(raw: str) -> str | None:
    """The stored (lower-cased) form of an email, or None when it is not a valid address."""
    email = raw.strip()
    if len(email) > 254 or EMAIL_RE.fullmatch(email) is None:
        return None
    return email.lower()


_COUNTRY_CODES: frozenset[str] = frozenset()


def _country_codes() -> frozenset[str]:
    global _COUNTRY_CODES
    if not _COUNTRY_CODES:
        from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

        _COUNTRY_CODES = frozenset(str(cc) for cc in COUNTRY_CODE_TO_REGION_CODE)
    return _COUNTRY_CODES


def _sms_digits(s: str) -> str | None:
    if s[:1] == "+":
        return s[1:]
    if s[:2] == "00":
        return s[2:]
    if s[:1] == "0":
        return None  # a national number: no country code
    return s


def normalize_sms(raw: str) -> str | None:
    """Digits with the country code and no `+` (as Brevo returns them), or None if invalid.

    Accepted: `+33612345678`, `0033612345678`, `33612345678` (spaces, dots, dashes and
    brackets are ignored). A national number (`0612345678`) has no country code.
    """
    digits = _sms_digits(raw)
    if digits is None or not (digits.isdigit() and digits.isascii()):
        digits = _sms_digits(raw.translate(_PHONE_STRIP))
        if digits is None or not (digits.isdigit() and digits.isascii()):
            return None
    if not 8 <= len(digits) <= 15:
        return None
    codes = _COUNTRY_CODES or _country_codes()
    if digits[:1] in codes or digits[:2] in codes or digits[:3] in codes:
        return digits
    return None


_SMS_PLAIN: str | None = None


def _sms_plain() -> str:
    """A regex for the form segport and most tools send (`+447700900123`, `0044...`,
    `447700...`): optional `+` or `00`, a known country code, digits only."""
    global _SMS_PLAIN
    if _SMS_PLAIN is None:
        codes = sorted(_COUNTRY_CODES or _country_codes())
        _SMS_PLAIN = r"^(?:\+|00)?(?:" + "|".join(codes) + r")[0-9]*$"
    return _SMS_PLAIN


def normalize_sms_column(cells: pa.ChunkedArray | pa.Array) -> tuple[list[str | None], list[int]]:
    """normalize_sms for a column of (non-null) cells, vectorised for the plain form.

    Returns the normalised numbers, None for empty cells and for the cells listed second:
    the positions of the non-empty cells the caller must check with normalize_sms (not in
    the plain form, or of the wrong length).
    """
    import pyarrow.compute as pc

    # (no country code starts with 0, so in the plain form trimming `+` and `0` from the
    # left removes exactly the `+` or `00`)
    digits = pc.utf8_ltrim(cells, "+0")
    length = pc.utf8_length(digits)
    ok = pc.and_(
        pc.match_substring_regex(cells, _sms_plain()),
        pc.and_(pc.greater_equal(length, 8), pc.less_equal(length, 15)),
    )
    others = pc.and_(pc.invert(ok), pc.not_equal(cells, ""))
    return pc.if_else(ok, digits, None).to_pylist(), pc.indices_nonzero(others).to_pylist()


def iso_time(ts: float) -> str:
    """Brevo's date-time format: `YYYY-MM-DDTHH:mm:ss.SSSZ` (UTC)."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(raw: str) -> float | None:
    """A query date-time (`2024-01-02T03:04:05.000Z`, any offset; naive means UTC)."""
    try:
        dt = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


# --- attribute coercion --------------------------------------------------------------
# A coercer turns an incoming value into the stored one, or raises ValueError when the
# value does not fit the attribute type (Brevo then ignores that value).
Coercer = Callable[[Any], Any]

_TRUE = {"true", "yes", "1", "y", "on"}
_FALSE = {"false", "no", "0", "n", "off"}


def text_value(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    raise ValueError("not text")


def _float(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("boolean is not a number")
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        f = float(v.strip())
        return int(f) if f.is_integer() and "." not in v else f
    raise ValueError("not a number")


def _bool(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise ValueError("not a boolean")


_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d")


def _date(v: Any) -> Any:
    if not isinstance(v, str):
        raise ValueError("not a date")
    s = v.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(s).date().isoformat()
    except ValueError:
        pass
    raise ValueError("not a date")


def _id(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("not an id")
    return int(v)


def category_coercer(enumeration: list[dict[str, Any]]) -> Coercer:
    by_value = {int(e["value"]): int(e["value"]) for e in enumeration}
    by_label = {str(e["label"]).lower(): int(e["value"]) for e in enumeration}

    def coerce(v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool) and v in by_value:
            return v
        if isinstance(v, str):
            s = v.strip()
            if s.isdigit() and int(s) in by_value:
                return int(s)
            if s.lower() in by_label:
                return by_label[s.lower()]
        raise ValueError("not one of the category values")

    return coerce


def multiple_choice_coercer(options: list[str]) -> Coercer:
    allowed = {o.lower(): o for o in options}

    def coerce(v: Any) -> Any:
        items = v.split(",") if isinstance(v, str) else v
        if not isinstance(items, list):
            raise ValueError("not a list of options")
        out = []
        for item in items:
            key = str(item).strip().lower()
            if key not in allowed:
                raise ValueError(f"{item!r} is not an option")
            out.append(allowed[key])
        return out

    return coerce


SIMPLE_COERCERS: dict[str, Coercer] = {
    "text": text_value,
    "float": _float,
    "boolean": _bool,
    "date": _date,
    "id": _id,
    "user": text_value,
}


def is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def today() -> str:
    return date.today().isoformat()
