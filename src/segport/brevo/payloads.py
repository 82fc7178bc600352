"""Request bodies and parameters for Brevo, and the checks on what goes and comes back.

Kept apart from the client so the rules (Brevo's limits, formats, what an import may
carry) read in one place and are tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from segport.brevo.errors import InvalidRequestError, ServerError

LIST_PAGE_SIZE = 50  # Brevo's maximum for lists and folders
CONTACTS_PAGE_SIZE = 500  # Brevo's maximum for a list's contacts
MAX_LIST_CHANGE = 150  # emails per add/remove call
MAX_IMPORT_BYTES = 10_000_000  # Brevo refuses bodies over 10 MB; ~8 MB is advised

SortOrder = Literal["asc", "desc"]


def positive_id(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot send a value of type {type(value).__name__} to Brevo")


def format_brevo_datetime(moment: datetime) -> str:
    """Brevo's ``YYYY-MM-DDTHH:mm:ss.SSSZ`` form, in UTC; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("modified_since must be timezone-aware (e.g. datetime.now(UTC))")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def import_body(
    *,
    list_ids: Sequence[int],
    file_body: str | None,
    json_body: Sequence[Mapping[str, Any]] | bytes | None,
    update_existing_contacts: bool,
    empty_contacts_attributes: bool,
    disable_notification: bool,
) -> bytes:
    """The JSON body of ``POST /contacts/import``; never with a blacklist flag."""
    if (file_body is None) == (json_body is None):
        raise ValueError("import_contacts takes exactly one of file_body and json_body")
    if not list_ids:
        raise ValueError("import_contacts needs at least one list id")
    head: dict[str, Any] = {
        "listIds": [positive_id(i, "list id") for i in list_ids],
        "updateExistingContacts": update_existing_contacts,
        "emptyContactsAttributes": empty_contacts_attributes,
        "disableNotification": disable_notification,
    }
    if file_body is not None:
        if not file_body.strip():
            raise ValueError("file_body is empty: nothing to import")
        content = orjson.dumps({**head, "fileBody": file_body})
    elif isinstance(json_body, bytes | bytearray | memoryview):
        payload = bytes(json_body)
        if not payload.lstrip().startswith(b"["):
            raise ValueError("json_body bytes must be a serialised JSON array of contacts")
        content = orjson.dumps(head)[:-1] + b',"jsonBody":' + payload + b"}"
    else:
        assert json_body is not None
        if not json_body:
            raise ValueError("json_body is empty: nothing to import")
        content = orjson.dumps({**head, "jsonBody": list(json_body)}, default=_json_default)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValueError(
            f"the import body is {len(content):,} bytes, over Brevo's 10 MB limit;"
            " send smaller chunks (about 8 MB is the recommended size)"
        )
    return content


def answer_int(data: Any, key: str, method: str, path: str) -> int:
    """The integer ``key`` of a successful answer; ServerError when Brevo left it out."""
    value = data.get(key) if isinstance(data, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ServerError(
            f"answered without a valid {key!r}: {str(data)[:200]!r}", method=method, path=path
        )
    return int(value)


def nothing_changed(error: InvalidRequestError) -> bool:
    """Brevo's 400 for an add/remove where no contact changed (all already in/out, or
    unknown): "Contact already in list and/or does not exist"."""
    message = error.message.lower()
    return (
        error.status == 400
        and "contact" in message
        and ("already" in message or "not exist" in message)
    )
