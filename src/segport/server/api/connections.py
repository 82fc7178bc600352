"""Connections to Brevo: listed (admins in full, contributors the ones shared with them),
added (the key checked with Brevo), edited (renamed, shared, rate, base URL), given a new
key, checked with Brevo again, taken over and removed.

An API key arrives in a request body and leaves it at once as a :class:`Secret` (which
prints as ``********`` and is scrubbed from Brevo's messages); no answer carries one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import SecretStr

from segport.secret import Secret
from segport.server.api.admin_models import (
    ConnectionBrief,
    ConnectionOut,
    ConnectionPage,
    ConnectionRemoved,
    NewConnection,
    NewKey,
)
from segport.server.api.connection_models import ConnectionEdit
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import (
    add_connection,
    check_connection,
    edit_connection,
    remove_connection,
    show_connection,
    take_over,
    to_json,
    visible_connections,
)

router = APIRouter(prefix="/connections", tags=["connections"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The connection's name.")]
# Brevo refused the key, or could not be reached: 502 (kind unavailable), with Brevo's word.
BREVO = 502


def _key(value: SecretStr) -> Secret:
    return Secret(value.get_secret_value())


@router.get(
    "",
    responses=problem_responses(401, 403, 422),
    summary="The connections you may see",
)
def get_connections(
    who: ActorDep,
    srv: ServerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ConnectionPage:
    """Admins: every connection with its account, sharing, export user and exports
    (`detailed`: true). Contributors: names and types of those shared with contributors.
    Viewers: 403."""
    listing = visible_connections(srv.ws, who)
    items: list[ConnectionOut | ConnectionBrief] = (
        [ConnectionOut.model_validate(to_json(c)) for c in listing.connections]
        if listing.detailed
        else [ConnectionBrief.model_validate(to_json(s)) for s in listing.summaries]
    )
    return ConnectionPage(
        total=len(items),
        offset=offset,
        limit=limit,
        detailed=listing.detailed,
        items=items[offset : offset + limit],
    )


@router.get(
    "/{name}", responses=problem_responses(401, 403, 404, 422), summary="One connection (admins)"
)
def get_connection(name: Name, who: ActorDep, srv: ServerDep) -> ConnectionOut:
    return ConnectionOut.model_validate(to_json(show_connection(srv.ws, who, name)))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422, BREVO),
    summary="Add a Brevo connection (admins)",
)
def post_connection(body: NewConnection, who: ActorDep, srv: ServerDep) -> ConnectionOut:
    """The key is checked with Brevo (`GET /account`) before anything is saved: 502
    `api_key_refused` with Brevo's message when Brevo refuses it. `agree_privacy` must be
    true (422 `consent_required`). You become its export user. A name taken: 422."""
    view = add_connection(
        srv.ws,
        who,
        body.name,
        body.type,
        _key(body.api_key),
        agree_privacy=body.agree_privacy,
        base_url=body.base_url,
        share_with_contributors=body.share_with_contributors,
        requests_per_second=body.requests_per_second,
    )
    return ConnectionOut.model_validate(to_json(view))


@router.put(
    "/{name}/key",
    responses=problem_responses(401, 403, 404, 422, BREVO),
    summary="Give a connection a new API key (admins)",
)
def put_key(name: Name, body: NewKey, who: ActorDep, srv: ServerDep) -> ConnectionOut:
    """Checked with Brevo first: a refused key changes nothing (502 `api_key_refused`)."""
    view = edit_connection(srv.ws, who, name, api_key=_key(body.api_key))
    return ConnectionOut.model_validate(to_json(view))


@router.patch(
    "/{name}",
    responses=problem_responses(401, 403, 404, 422, BREVO),
    summary="Rename a connection, change its sharing, rate or base URL (admins)",
)
def patch_connection(
    name: Name, body: ConnectionEdit, who: ActorDep, srv: ServerDep
) -> ConnectionOut:
    """Only the fields given change (absent or null: kept); `changes` lists what did
    (empty: nothing). A rename answers the connection under its new name: its exports
    follow it. A new `base_url` is checked with Brevo using the saved key first (unless
    `verify` is false): 502 with Brevo's word, and nothing changes."""
    view = edit_connection(
        srv.ws,
        who,
        name,
        new_name=body.name,
        base_url=body.base_url,
        share_with_contributors=body.share_with_contributors,
        requests_per_second=body.requests_per_second,
        verify=body.verify,
    )
    return ConnectionOut.model_validate(to_json(view))


@router.post(
    "/{name}/check",
    responses=problem_responses(401, 403, 404, 422, BREVO),
    summary="Check the saved API key with Brevo now (admins)",
)
def post_check(name: Name, who: ActorDep, srv: ServerDep) -> ConnectionOut:
    """Asks Brevo for the account behind the saved key (`GET /account`) and answers the
    connection with the account, plan and `verified_at` refreshed. Brevo refusing the
    key: 502 `saved_api_key_refused` with Brevo's message (give it a new key with
    `PUT …/key`); Brevo out of reach: 502 too."""
    return ConnectionOut.model_validate(to_json(check_connection(srv.ws, who, name)))


@router.post(
    "/{name}/take-over",
    responses=problem_responses(401, 403, 404, 422),
    summary="Become the connection's export user (admins)",
)
def post_take_over(name: Name, who: ActorDep, srv: ServerDep) -> ConnectionOut:
    return ConnectionOut.model_validate(to_json(take_over(srv.ws, who, name)))


@router.delete(
    "/{name}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Remove a connection (admins)",
)
def delete_connection(
    name: Name,
    who: ActorDep,
    srv: ServerDep,
    exports: Annotated[
        Literal["detach", "remove"] | None,
        Query(
            description="What becomes of the exports on it: `detach` keeps them without a "
            "connection, `remove` removes them. Without it, a connection with exports is "
            "not removed (409 `connection_in_use`)."
        ),
    ] = None,
) -> ConnectionRemoved:
    using = remove_connection(
        srv.ws,
        who,
        name,
        detach_exports=exports == "detach",
        remove_exports=exports == "remove",
    )
    return ConnectionRemoved(
        name=name,
        detached=using if exports == "detach" else [],
        removed=using if exports == "remove" else [],
    )
