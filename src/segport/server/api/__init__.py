"""The JSON API, version 1: one router per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from segport.server.api import exports, runs, session

PREFIX = "/api/v1"


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    api.include_router(session.router)
    api.include_router(exports.router)
    api.include_router(runs.router)
    return api
