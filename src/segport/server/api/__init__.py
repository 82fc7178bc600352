"""The JSON API, version 1: one router per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from segport.server.api import (
    audit,
    brevo,
    connections,
    export_state,
    exports,
    profiles,
    runs,
    segments,
    session,
    system,
    tokens,
    users,
)
from segport.server.problems import problem_responses

PREFIX = "/api/v1"


def router() -> APIRouter:
    # Every resource reads the metadata database: when it fails, 502 database_failed.
    api = APIRouter(prefix=PREFIX, responses=problem_responses(502))
    api.include_router(session.router)
    api.include_router(exports.router)
    api.include_router(runs.router)
    api.include_router(exports.runs_router)
    api.include_router(connections.router)
    api.include_router(brevo.router)
    api.include_router(users.router)
    api.include_router(tokens.router)
    api.include_router(audit.router)
    api.include_router(system.router)
    api.include_router(profiles.router)
    api.include_router(segments.router)
    api.include_router(export_state.router)
    return api
