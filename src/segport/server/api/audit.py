"""The audit log (admins): who changed what, when, newest first. It never holds a secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from segport.server.api.admin_models import AuditEntry, AuditPage
from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import list_entries, to_json

router = APIRouter(prefix="/audit", tags=["audit"])
ServerDep = Annotated[Server, Depends(server)]
# The service gives the newest N entries; every entry is asked for so the page knows the
# total (an audit log of a workspace is thousands of rows, not millions).
EVERY = 2**63 - 1


@router.get("", responses=problem_responses(401, 403, 422), summary="The audit log (admins)")
def get_audit(
    who: ActorDep,
    srv: ServerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AuditPage:
    entries = list_entries(srv.ws, who, limit=EVERY)
    return AuditPage(
        total=len(entries),
        offset=offset,
        limit=limit,
        items=[AuditEntry.model_validate(to_json(e)) for e in entries[offset : offset + limit]],
    )
