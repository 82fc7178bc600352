"""What a connection's Brevo account holds: its lists, folders and contact attributes,
seen and created from segport (issue 11's `segport brevo ...`).

Anyone who may put exports on a connection may see what its account holds and create a
list or an attribute in it (the same check as adding an export:
:func:`~segport.service.connection_use.connection_for_export`); creating is audited.
Brevo's refusals arrive as :class:`~segport.brevo.BrevoError` (kind ``unavailable``, with
Brevo's own code and message).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segport.errors import Invalid
from segport.service import audit
from segport.service.access import Action, Actor, authorize
from segport.service.connection_use import connection_for_export, credentials
from segport.service.export_brevo import make_list, refuse_existing_list, require_folder
from segport.service.workspace import Workspace, has_control_characters

if TYPE_CHECKING:
    from segport.brevo import BrevoClient

__all__ = [
    "ATTRIBUTE_TYPES",
    "BrevoAttributeView",
    "BrevoFolderView",
    "BrevoListView",
    "create_brevo_attribute",
    "create_brevo_list",
    "list_brevo_attributes",
    "list_brevo_folders",
    "list_brevo_lists",
]

# The types of a normal attribute segport creates (Brevo's names).
ATTRIBUTE_TYPES = ("text", "date", "float", "boolean")
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


@dataclass(frozen=True)
class BrevoListView:
    id: int
    name: str
    folder_id: int | None
    contacts: int | None  # Brevo's count; it may read 0 while Brevo phases counts out


@dataclass(frozen=True)
class BrevoFolderView:
    id: int
    name: str


@dataclass(frozen=True)
class BrevoAttributeView:
    name: str
    category: str
    type: str | None


@contextmanager
def _client(ws: Workspace, actor: Actor, connection: str) -> Iterator[BrevoClient]:
    """A Brevo client for ``connection``, if ``actor`` may put exports on it."""
    with ws.session() as session:
        conn = connection_for_export(session, actor, connection)
        creds = credentials(ws, conn)
    client = creds.client(max_retries=2, timeout=30.0)
    try:
        yield client
    finally:
        client.close()


def list_brevo_lists(
    ws: Workspace, actor: Actor, connection: str, *, folder_id: int | None = None
) -> list[BrevoListView]:
    """The account's lists (of one folder, with ``folder_id``), by id."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with _client(ws, actor, connection) as client:
        lists = client.get_lists()
    return sorted(
        (
            BrevoListView(x.id, x.name, x.folder_id, x.unique_subscribers)
            for x in lists
            if folder_id is None or x.folder_id == folder_id
        ),
        key=lambda v: v.id,
    )


def list_brevo_folders(ws: Workspace, actor: Actor, connection: str) -> list[BrevoFolderView]:
    """The account's contact folders, by id."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with _client(ws, actor, connection) as client:
        folders = client.get_folders()
    return sorted((BrevoFolderView(f.id, f.name) for f in folders), key=lambda v: v.id)


def list_brevo_attributes(ws: Workspace, actor: Actor, connection: str) -> list[BrevoAttributeView]:
    """The account's contact attributes, by category then name."""
    actor = authorize(ws, actor, Action.EXPORTS_READ)
    with _client(ws, actor, connection) as client:
        attributes = client.get_attributes()
    return sorted(
        (BrevoAttributeView(a.name, a.category, a.type) for a in attributes),
        key=lambda v: (v.category, v.name),
    )


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or has_control_characters(name):
        raise Invalid(
            f"invalid {what} name {name!r}: give 1 to 100 printable characters",
            code="brevo_name_invalid",
            field="name",
        )
    return name


def create_brevo_list(
    ws: Workspace, actor: Actor, connection: str, name: str, *, folder_id: int | None = None
) -> BrevoListView:
    """Create a list in the account, in ``folder_id`` (default: the first folder, or a
    new folder named "segport" when the account has none). Refused when a list of that
    name exists already (Brevo would make a second one)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    name = _check_name(name, "list")
    with _client(ws, actor, connection) as client:
        refuse_existing_list(client.get_lists(), name, field="name")
        if folder_id is not None:
            require_folder(client, folder_id)
        list_id, folder_id = make_list(client, name, folder_id)
    with ws.session() as session:
        audit.record(
            session,
            actor,
            "brevo.lists.create",
            connection,
            {"list_id": list_id, "name": name, "folder_id": folder_id},
        )
    return BrevoListView(list_id, name, folder_id, 0)


def create_brevo_attribute(
    ws: Workspace, actor: Actor, connection: str, name: str, type_: str
) -> BrevoAttributeView:
    """Create a normal contact attribute of ``type_`` (text, date, float or boolean)."""
    actor = authorize(ws, actor, Action.EXPORTS_WRITE)
    attribute = name.strip().upper()
    if not _ATTRIBUTE.match(attribute):
        raise Invalid(
            f"the attribute name {name!r}: Brevo attribute names are letters, digits and _ "
            "(starting with a letter)",
            code="attribute_name_invalid",
            field="name",
        )
    kind = type_.strip().lower()
    if kind not in ATTRIBUTE_TYPES:
        raise Invalid(
            f"the attribute type {type_!r} is not one segport creates: use "
            f"{', '.join(ATTRIBUTE_TYPES)}",
            code="attribute_type_invalid",
            field="attribute_type",
        )
    with _client(ws, actor, connection) as client:
        if any(a.name.upper() == attribute for a in client.get_attributes()):
            raise Invalid(
                f"the account already has an attribute {attribute}",
                code="brevo_attribute_exists",
                field="name",
            )
        client.create_attribute("normal", attribute, kind)
    with ws.session() as session:
        audit.record(
            session, actor, "brevo.attributes.create", connection, {"name": attribute, "type": kind}
        )
    return BrevoAttributeView(attribute, "normal", kind)
