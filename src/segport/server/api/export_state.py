"""An export's state (what it has sent to its Brevo list), rebuilt from the list's members
when it was lost or damaged: `segport exports rebuild-state` as a resource.

Rebuilding reads every member of the list from Brevo before it answers (the export's
runs wait meanwhile: the state's lock is held). Where the state lives on the server is
not said: only whether a state was replaced (kept beside it, as the command line says).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from segport.server.auth import ActorDep
from segport.server.context import Server, server
from segport.server.problems import problem_responses
from segport.service import rebuild_state

router = APIRouter(prefix="/exports", tags=["exports"])
ServerDep = Annotated[Server, Depends(server)]
Name = Annotated[str, Path(min_length=1, max_length=200, description="The export's name.")]


class RebuiltState(BaseModel):
    """A state rebuilt: every member of the list is held with an unknown fingerprint, so
    the next run sends the values of those in the segments again (and a mirror export
    removes the others)."""

    export_name: str
    list_id: int = Field(description="The Brevo list it was rebuilt from.")
    held: int = Field(description="Contacts of the list the state now holds.")
    replaced: bool = Field(
        description="A state was there and was replaced: it is kept beside the new one "
        "(suffix `.before-rebuild`) until an admin deletes it."
    )


@router.post(
    "/{name}/state/rebuild",
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    summary="Rebuild an export's state from its Brevo list's members",
)
def post_rebuild_state(name: Name, who: ActorDep, srv: ServerDep) -> RebuiltState:
    """For who may run the export (admins; contributors on a connection shared with
    them). 409 when it cannot run now (detached, its connection unusable) or a run of it
    holds the state; 502 when Brevo refuses or has no such list (`brevo_not_found`)."""
    done = rebuild_state(srv.ws, who, name)
    return RebuiltState(
        export_name=done.export_name,
        list_id=done.list_id,
        held=done.held,
        replaced=done.aside is not None,
    )
