"""The web pages (issue 13): server-rendered Jinja2 templates (``server/templates/``)
with htmx, on the service API like the JSON API. One module per area."""

from __future__ import annotations

from fastapi import APIRouter

from segport.server.pages import (
    connections,
    exports,
    profiles,
    runs,
    segments,
    session,
    system,
    users,
)


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(session.router)
    pages.include_router(exports.router)
    pages.include_router(runs.router)
    pages.include_router(connections.router)
    pages.include_router(system.router)
    pages.include_router(profiles.router)
    pages.include_router(users.router)
    pages.include_router(segments.router)
    return pages
