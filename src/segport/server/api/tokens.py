"""API tokens: your own (admins: anyone's), made (shown once) and revoked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from segport.server.api.admin_models import NewTokenIn, NewTokenOut, TokenOut, TokenPage
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import create_token, list_tokens, revoke_token, to_json

router = APIRouter(prefix="/tokens", tags=["tokens"])
ServerDep = Annotated[Server, Depends(server)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id.")]


@router.get(
    "",
    responses=problem_responses(401, 403, 404, 422),
    summary="API tokens: yours, or (admins) everyone's or one user's",
)
def get_tokens(
    who: ActorDep,
    srv: ServerDep,
    user: Annotated[
        str | None, Query(max_length=200, description="Only this user's (admins: anyone).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> TokenPage:
    """Oldest first; never a token's value or hash, only its first characters."""
    views = list_tokens(srv.ws, who, user)
    return TokenPage(
        total=len(views),
        offset=offset,
        limit=limit,
        items=[TokenOut.model_validate(to_json(v)) for v in views[offset : offset + limit]],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
    summary="Make an API token (shown once)",
)
def post_token(body: NewTokenIn, who: ActorDep, srv: ServerDep) -> NewTokenOut:
    """For you, or (admins) for `user`. The answer is the only time the token is shown:
    the workspace keeps its SHA-256."""
    new = create_token(srv.ws, who, body.user, name=body.name, expires_at=body.expires_at)
    view = TokenOut.model_validate(to_json(new.view))
    return NewTokenOut(token=new.token.reveal(), view=view)


@router.delete(
    "/{token_id}",
    responses=problem_responses(401, 403, 404, 422),
    summary="Revoke an API token",
)
def delete_token(token_id: TokenId, who: ActorDep, srv: ServerDep) -> TokenOut:
    """Yours, or (admins) anyone's; for good. Revoking a revoked token changes nothing."""
    return TokenOut.model_validate(to_json(revoke_token(srv.ws, who, token_id)))
