"""A run's files (rejected rows, change record) as downloads, for the pages and the API.

Only a file the service lists for the run (``show_run``, which checks the caller may read
it) is served: the name in the URL is matched against that list and never joined to a
path, so ``../`` or any other name is simply not found.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import FileResponse

from segport.errors import NotFound
from segport.service import Actor, Workspace, show_run

CSV_TYPE = "text/csv; charset=utf-8"
# What the OpenAPI document says a download answers (a CSV body).
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as an attachment.",
        "content": {CSV_TYPE: {"schema": {"type": "string"}}},
    }
}


def run_file_download(ws: Workspace, actor: Actor, run_id: int, name: str) -> FileResponse:
    """The run's file ``name`` as an attachment ``run-<id>-<name>``; 404 for a name the
    run did not leave (or no longer has)."""
    files = {f.name: f for f in show_run(ws, actor, run_id).files}
    found = files.get(name)
    if found is None:
        have = ", ".join(files) or "none"
        raise NotFound(
            f"run {run_id} has no file named {name!r}; its files: {have}",
            code="run_file_not_found",
            field="name",
        )
    return FileResponse(
        found.path,
        media_type=CSV_TYPE,
        filename=f"run-{run_id}-{found.name}",
        # the rows hold personal data: never kept by a cache
        headers={"Cache-Control": "no-store"},
    )
