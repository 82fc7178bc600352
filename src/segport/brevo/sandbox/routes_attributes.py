"""Routes: contact attributes (list, create, update, delete)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segport.brevo.sandbox.errors import bad_request, json_response, missing, not_found
from segport.brevo.sandbox.params import ctx, json_body
from segport.brevo.sandbox.records import Attribute
from segport.brevo.sandbox.state import AccountState

_CATEGORIES = ("normal", "transactional", "category", "calculated", "global")
_UPDATABLE = ("category", "calculated", "global", "normal")  # SPEC updateAttribute's enum
_NORMAL_TYPES = ("text", "date", "float", "boolean", "multiple-choice")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,49}")
_MAX_OPTION = 200  # PY5: "None of the category or multicategory option values can exceed 200"
# The sandbox finds contacts by these (find_contact, the SMS index): they stay.
_IDENTIFIERS = ("SMS", "EXT_ID", "WHATSAPP", "LANDLINE_NUMBER")


def _category(request: Request, allowed: tuple[str, ...]) -> str:
    category: str = request.path_params["category"]
    if category not in allowed:
        raise bad_request(f"attributeCategory should be one of {', '.join(allowed)}")
    return category


def _existing(state: AccountState, category: str, name: str) -> Attribute:
    """The attribute of that category and name (names are case-insensitive), or a 404."""
    attr = state.attributes.get(name.upper())
    if attr is None or attr.category != category:
        raise not_found(f"Attribute not found: no {category} attribute named {name.upper()}")
    return attr


def _enumeration(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise bad_request("enumeration should be a non-empty array of {value, label}")
    for item in value:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("value"), int)
            or isinstance(item.get("value"), bool)
            or not isinstance(item.get("label"), str)
        ):
            raise bad_request("enumeration items should be {value: integer, label: string}")
        if len(item["label"]) > _MAX_OPTION:
            raise bad_request(f"enumeration labels can have at most {_MAX_OPTION} characters")
    return [{"value": item["value"], "label": item["label"]} for item in value]


def _options(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(o, str) for o in value):
        raise bad_request("multiCategoryOptions should be a non-empty array of strings")
    if any(len(o) > _MAX_OPTION for o in value):
        raise bad_request(f"multiCategoryOptions can have at most {_MAX_OPTION} characters each")
    return list(value)


async def get_attributes(request: Request) -> Response:
    state = ctx(request).state
    with state.lock:
        return json_response({"attributes": [a.to_api() for a in state.attributes.values()]})


async def create_attribute(request: Request) -> Response:
    category = _category(request, _CATEGORIES)
    name = request.path_params["name"]
    body, _ = await json_body(request)
    if not _NAME_RE.fullmatch(name):
        raise bad_request(
            f"attributeName {name!r}: use letters, digits, _ and -, starting with a letter"
        )
    attr_type = body.get("type")
    enumeration = None
    options = None
    value = body.get("value")
    if category == "normal":
        if attr_type not in _NORMAL_TYPES:
            raise bad_request(f"type should be one of {', '.join(_NORMAL_TYPES)} for normal")
        if attr_type == "multiple-choice":
            if body.get("multiCategoryOptions") is None:
                raise bad_request(
                    "multiCategoryOptions is required for a multiple-choice attribute"
                )
            options = _options(body["multiCategoryOptions"])
    elif category == "category":
        if body.get("enumeration") is None:
            raise bad_request("enumeration is required for a category attribute")
        enumeration = _enumeration(body["enumeration"])
    elif category in ("calculated", "global"):
        if not isinstance(value, str) or not value:
            raise missing("value", f"value is required for a {category} attribute")
    elif category == "transactional":
        attr_type = attr_type or "float"
    state = ctx(request).state
    with state.lock:
        key = name.upper()
        if key in state.attributes:
            raise bad_request(f"Attribute name {key} already exists")
        state.attributes[key] = Attribute(
            name=key,
            category=category,
            type=attr_type if category != "calculated" else (attr_type or "float"),
            enumeration=enumeration,
            multi_category_options=options,
            calculated_value=value if category in ("calculated", "global") else None,
        )
    return Response(status_code=201)


async def update_attribute(request: Request) -> Response:
    """What each category can change (SPEC updateAttribute): a category attribute its
    `enumeration` (replaced), a calculated or global one its `value` (the formula), a
    normal multiple-choice one its options (`multiCategoryOptions` are added)."""
    category = _category(request, _UPDATABLE)
    name = request.path_params["name"]
    body, _ = await json_body(request)
    field = {"category": "enumeration", "normal": "multiCategoryOptions"}.get(category, "value")
    others = sorted(
        k for k in ("enumeration", "multiCategoryOptions", "value") if k != field and k in body
    )
    if others:
        raise bad_request(f"{', '.join(others)}: cannot be updated on a {category} attribute")
    if body.get(field) is None:
        raise missing(field, f"{field} is missing: it is what a {category} attribute updates")
    state = ctx(request).state
    with state.lock:
        attr = _existing(state, category, name)
        if category == "category":
            attr.enumeration = _enumeration(body[field])
        elif category == "normal":
            if attr.type != "multiple-choice":
                raise bad_request(
                    f"{attr.name} is a {attr.type} attribute: only multiple-choice normal "
                    "attributes can be updated"
                )
            known = attr.multi_category_options or []
            attr.multi_category_options = known + [
                o for o in _options(body[field]) if o not in known
            ]
        else:
            value = body[field]
            if not isinstance(value, str) or not value.strip():
                raise bad_request("value should be a non-empty string (the formula)")
            attr.calculated_value = value
    return Response(status_code=204)


async def delete_attribute(request: Request) -> Response:
    """Deletes the attribute and every contact's value of it."""
    category = _category(request, _CATEGORIES)
    name = request.path_params["name"]
    state = ctx(request).state
    with state.lock:
        attr = _existing(state, category, name)
        if attr.name in _IDENTIFIERS:
            raise bad_request(f"{attr.name} identifies contacts and cannot be deleted")
        del state.attributes[attr.name]
        for contact in state.contacts.values():
            contact.attrs.pop(attr.name, None)
    return Response(status_code=204)


routes = [
    Route("/v3/contacts/attributes", get_attributes, methods=["GET"]),
    Route("/v3/contacts/attributes/{category}/{name}", create_attribute, methods=["POST"]),
    Route("/v3/contacts/attributes/{category}/{name}", update_attribute, methods=["PUT"]),
    Route("/v3/contacts/attributes/{category}/{name}", delete_attribute, methods=["DELETE"]),
]
