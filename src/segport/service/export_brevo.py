"""An export's side in Brevo, checked before it is saved: its list (by id, by name, or a
new one) and the attributes its columns fill (found under the account's names, of a type
the column can fill, or created with ``create_attributes``).

Checking reads the account and changes nothing; only when every check has passed does
:func:`apply_brevo_plan` create the list and attributes the plan holds, so a refused
export leaves the account as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from segport.contacts.mapping import AttributeType
from segport.exports.config import ExportConfig
from segport.service import audit
from segport.service.export_checks import ExportInvalid

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from segport.brevo import Attribute, BrevoClient, ContactList
    from segport.service.access import Actor
    from segport.service.connection_use import ConnectionCredentials

__all__ = [
    "FIRST_NAME_ATTRIBUTES",
    "LAST_NAME_ATTRIBUTES",
    "READ_ONLY_CATEGORIES",
    "BrevoPlan",
    "NewAttribute",
    "NewList",
    "apply_brevo_plan",
    "attribute_type_for",
    "audit_created",
    "check_brevo",
    "check_list_choice",
    "column_fits",
    "find_list",
    "make_list",
    "plan_attributes",
    "refuse_existing_list",
    "require_folder",
    "resolve_attributes",
]

# Names Brevo accounts use for first and last name, by account language (api-notes §4):
# English FIRSTNAME/LASTNAME, French PRENOM/NOM, and the variants seen in older accounts.
FIRST_NAME_ATTRIBUTES = (
    "FIRSTNAME",
    "PRENOM",
    "FNAME",
    "FIRST_NAME",
    "VORNAME",
    "NOMBRE",
    "NOME",
    "VOORNAAM",
)
LAST_NAME_ATTRIBUTES = (
    "LASTNAME",
    "NOM",
    "LNAME",
    "LAST_NAME",
    "NACHNAME",
    "APELLIDOS",
    "APELLIDO",
    "COGNOME",
    "SOBRENOME",
    "ACHTERNAAM",
)
# Brevo computes these categories itself; values sent for them are ignored.
READ_ONLY_CATEGORIES = {"calculated", "global"}
DEFAULT_FOLDER = "segport"

# Which profile columns (by logical type, see segport.profiles) can fill which kind of
# attribute. Text fills only text: a date or a number written as text would fail row by
# row at run time, so it is refused when the export is saved instead.
_FITS: dict[AttributeType, frozenset[str]] = {
    AttributeType.FLOAT: frozenset({"number"}),
    AttributeType.DATE: frozenset({"date", "timestamp"}),
    AttributeType.BOOLEAN: frozenset({"boolean", "number"}),  # numbers as 1/0
}
# The attribute type created for a column of each logical type.
_CREATED_TYPE = {"number": "float", "date": "date", "timestamp": "date", "boolean": "boolean"}


@dataclass(frozen=True)
class NewList:
    """A Brevo list to create for an export: ``name`` in ``folder_id`` (None: the
    account's first folder, or a new folder named "segport" when it has none)."""

    name: str
    folder_id: int | None = None


@dataclass(frozen=True)
class NewAttribute:
    """A normal attribute to create, of ``type`` inferred from ``column``."""

    name: str
    type: str
    column: str
    column_type: str


@dataclass(frozen=True)
class BrevoPlan:
    """What saving the export needs done in Brevo first; ``config`` uses the account's
    attribute names and, unless ``new_list`` is set, the list's id."""

    config: ExportConfig
    new_list: NewList | None = None
    new_attributes: tuple[NewAttribute, ...] = ()


def column_fits(column_type: str, brevo_type: str | None) -> bool:
    """Whether a profile column of ``column_type`` (logical) can fill a Brevo attribute
    of ``brevo_type`` (types Brevo parses itself, ``category`` or ``id``, travel as text)."""
    allowed = _FITS.get(AttributeType.from_brevo(brevo_type or "text"))
    return allowed is None or column_type in allowed


def attribute_type_for(column_type: str) -> str:
    """The Brevo attribute type segport creates for a column of ``column_type``."""
    return _CREATED_TYPE.get(column_type, "text")


def check_list_choice(
    config: ExportConfig, list_name: str | None, new_list: NewList | None
) -> None:
    """The export's list is given one way only: by id, by name or as a new list."""
    ways = [config.list_id > 0, list_name is not None, new_list is not None]
    if sum(ways) > 1:
        raise ExportInvalid(
            "give the export's list one way: by id, by name, or as a new list",
            code="list_given_twice",
            field="list_name" if ways[0] and ways[1] else "new_list",
        )


def audit_created(session: Session, actor: Actor, connection: str, plan: BrevoPlan) -> None:
    """Audit what saving an export created in the account, as `brevo ... create` would."""
    for a in plan.new_attributes:
        audit.record(
            session, actor, "brevo.attributes.create", connection, {"name": a.name, "type": a.type}
        )
    if plan.new_list is not None:
        details = {
            "list_id": plan.config.list_id,
            "name": plan.new_list.name,
            "folder_id": plan.new_list.folder_id,
        }
        audit.record(session, actor, "brevo.lists.create", connection, details)


def find_list(lists: list[ContactList], name: str) -> ContactList:
    """The one list named ``name`` (exactly, else ignoring case); refused with the
    candidates when there is none or more than one."""
    wanted = name.strip()
    exact = [x for x in lists if x.name == wanted]
    same = exact or [x for x in lists if x.name.casefold() == wanted.casefold()]
    if len(same) == 1:
        return same[0]
    if same:
        shown = "; ".join(f"id {x.id} in folder {x.folder_id}" for x in same)
        raise ExportInvalid(
            f"{len(same)} Brevo lists are named {wanted!r} ({shown}): give the list's id "
            "instead of its name",
            code="brevo_list_ambiguous",
            field="list_name",
            details={"candidates": [x.id for x in same]},
        )
    names = ", ".join(f"{x.name!r} (id {x.id})" for x in sorted(lists, key=lambda x: x.id))
    raise ExportInvalid(
        f"the Brevo account has no list named {wanted!r}; its lists: {names or 'none'}. "
        "Pick one of them, or create the list",
        code="brevo_list_not_found",
        field="list_name",
        details={"candidates": [x.name for x in lists]},
    )


def refuse_existing_list(lists: list[ContactList], name: str, field: str = "new_list") -> None:
    """Brevo would make a second list of the same name; segport refuses instead."""
    same = [x for x in lists if x.name.casefold() == name.strip().casefold()]
    if same:
        raise ExportInvalid(
            f"the account already has a list named {same[0].name!r} (id {same[0].id}); "
            "use it, or pick another name",
            code="brevo_list_exists",
            field=field,
            details={"list_id": same[0].id},
        )


def check_brevo(
    creds: ConnectionCredentials,
    config: ExportConfig,
    columns: dict[str, str],
    *,
    list_name: str | None = None,
    new_list: NewList | None = None,
    create_attributes: bool = False,
) -> BrevoPlan:
    """Check ``config`` against the connection's account (the list exists, or is found by
    ``list_name``, or ``new_list`` can be made; the attributes exist and the mapped
    columns can fill them). Nothing is changed in Brevo."""
    from segport.brevo import AuthenticationError, BrevoError, NotFoundError

    client = creds.client(max_retries=1, timeout=15.0)
    try:
        try:
            if new_list is not None:
                refuse_existing_list(client.get_lists(), new_list.name)
                if new_list.folder_id is not None:
                    require_folder(client, new_list.folder_id)
            elif list_name is not None:
                config = replace(config, list_id=find_list(client.get_lists(), list_name).id)
            else:
                client.get_list(config.list_id)
        except NotFoundError as exc:
            raise ExportInvalid(
                f"list {config.list_id} does not exist in this Brevo account (Brevo said: "
                f"{exc.message}). Create it in Brevo or pick another list",
                code="list_not_found",
                field="list_id",
            ) from None
        attributes = client.get_attributes()
    except AuthenticationError as exc:
        raise ExportInvalid(
            f"Brevo refused connection {creds.name!r}'s API key (Brevo said: {exc.message}); "
            "an admin must give the connection a new key",
            code="saved_api_key_refused",
            details={"connection": creds.name},
        ) from None
    except BrevoError as exc:
        raise ExportInvalid(
            f"could not check the export against Brevo through connection {creds.name!r} "
            f"({exc}); try again later"
        ) from None
    finally:
        client.close()
    plan = plan_attributes(attributes, config, columns, create=create_attributes)
    return replace(plan, new_list=new_list)


def require_folder(client: BrevoClient, folder_id: int) -> None:
    """Refuse ``folder_id`` unless the account has that folder, naming the ones it has."""
    folders = client.get_folders()
    if not any(f.id == folder_id for f in folders):
        shown = ", ".join(f"{f.name!r} (id {f.id})" for f in folders) or "none"
        raise ExportInvalid(
            f"the Brevo account has no folder {folder_id}; its folders: {shown}",
            code="brevo_folder_not_found",
            field="folder_id",
        )


def apply_brevo_plan(creds: ConnectionCredentials, plan: BrevoPlan) -> BrevoPlan:
    """Create what ``plan`` holds (list, then attributes); the plan's config then points
    at the new list. What was created stays created if a later step fails."""
    client = creds.client(max_retries=1, timeout=30.0)
    config = plan.config
    new_list = plan.new_list
    try:
        for attribute in plan.new_attributes:
            client.create_attribute("normal", attribute.name, attribute.type)
        if new_list is not None:
            list_id, folder_id = make_list(client, new_list.name, new_list.folder_id)
            config = replace(config, list_id=list_id)
            new_list = replace(new_list, folder_id=folder_id)
    finally:
        client.close()
    return replace(plan, config=config, new_list=new_list)


def make_list(client: BrevoClient, name: str, folder_id: int | None) -> tuple[int, int]:
    """Create list ``name`` in ``folder_id`` (None: the first folder, or a new folder
    named "segport" when the account has none); its id and folder's id."""
    if folder_id is None:
        folders = sorted(client.get_folders(), key=lambda f: f.id)
        folder_id = folders[0].id if folders else client.create_folder(DEFAULT_FOLDER)
    return client.create_list(name, folder_id), folder_id


def resolve_attributes(attributes: list[Attribute], config: ExportConfig) -> ExportConfig:
    """``config`` with its mapping in the account's names (checked to exist there)."""
    return plan_attributes(attributes, config).config


def plan_attributes(
    attributes: list[Attribute],
    config: ExportConfig,
    columns: dict[str, str] | None = None,
    *,
    create: bool = False,
) -> BrevoPlan:
    """The mapping in the account's names; attributes it lacks are refused, or planned
    for creation with ``create``. With ``columns`` (name -> logical type), a column that
    cannot fill its attribute's type is refused with both types."""
    m = config.mapping
    by_name = {a.name.upper(): a for a in attributes}
    known = ", ".join(sorted(by_name)) or "none"
    columns = columns or {}
    to_create: list[NewAttribute] = []

    def missing(attr: str, column: str, field: str, what: str, other: str) -> None:
        column_type = columns.get(column, "text")
        kind = "text" if field != "attribute" else attribute_type_for(column_type)
        if create:
            to_create.append(NewAttribute(attr, kind, column, column_type))
            return
        raise ExportInvalid(
            f"{what}. segport can create {attr} as a {kind} attribute; or create it in "
            f"Brevo (Contacts > Settings), or {other}",
            code="brevo_attribute_missing",
            field=field,
            details={"attribute": attr, "type": kind, "column": column},
        )

    names: list[str | None] = []
    for field, column, candidates in (
        ("first_name", m.first_name, FIRST_NAME_ATTRIBUTES),
        ("last_name", m.last_name, LAST_NAME_ATTRIBUTES),
    ):
        found = None
        if column is not None:
            found = next((by_name[c].name for c in candidates if c in by_name), None)
            if found is None:
                what = (
                    f"the {field.replace('_', '-')} column: this Brevo account has no attribute "
                    f"for it (looked for {', '.join(candidates)}; it has {known})"
                )
                other = "map the column to an existing attribute (ATTR=COLUMN)"
                missing(candidates[0], column, field, what, other)
                found = candidates[0]
        names.append(found)
    first_name_attribute, last_name_attribute = names
    if m.phone is not None and "SMS" not in by_name:
        raise ExportInvalid(
            f"the phone column: this Brevo account has no SMS attribute (it has {known}); "
            "enable SMS in Brevo or map no phone column",
            code="brevo_sms_missing",
            field="phone",
        )
    resolved: dict[str, str] = {}
    for attr, column in m.attributes.items():
        brevo_attr = by_name.get(attr.upper())
        if brevo_attr is None:
            what = (
                f"the attribute {attr} (from column {column!r}): the Brevo account has no "
                f"attribute {attr.upper()}; its attributes: {known}"
            )
            missing(attr.upper(), column, "attribute", what, "fix the name")
            resolved[attr.upper()] = column
            continue
        if brevo_attr.category in READ_ONLY_CATEGORIES:
            raise ExportInvalid(
                f"the attribute {attr}: it is a {brevo_attr.category} attribute, which Brevo "
                "computes itself; map a normal attribute instead",
                code="brevo_attribute_read_only",
                field="attribute",
            )
        if brevo_attr.name in (first_name_attribute, last_name_attribute):
            raise ExportInvalid(
                f"the attribute {attr} is already set from the first-name or last-name "
                "column; remove one",
                code="attribute_repeated",
                field="attribute",
            )
        column_type = columns.get(column)
        if column_type is not None and not column_fits(column_type, brevo_attr.type):
            raise ExportInvalid(
                f"the attribute {brevo_attr.name} is a {brevo_attr.type} attribute in Brevo, "
                f"but column {column!r} holds {column_type} values, which cannot fill it. Map "
                f"a {_wanted(brevo_attr.type)} column to it, or map {column!r} to another "
                "attribute",
                code="attribute_type_mismatch",
                field="attribute",
                details={
                    "attribute": brevo_attr.name,
                    "attribute_type": brevo_attr.type,
                    "column": column,
                    "column_type": column_type,
                },
            )
        resolved[brevo_attr.name] = column
    mapping = replace(
        m,
        attributes=resolved,
        first_name_attribute=first_name_attribute,
        last_name_attribute=last_name_attribute,
    )
    return BrevoPlan(replace(config, mapping=mapping), new_attributes=tuple(to_create))


def _wanted(brevo_type: str | None) -> str:
    allowed = _FITS.get(AttributeType.from_brevo(brevo_type or "text"), frozenset({"text"}))
    return " or ".join(sorted(allowed))
