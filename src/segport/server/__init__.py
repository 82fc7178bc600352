"""`segport serve`: the JSON API under ``/api/v1`` (and, next, the web pages), a face on
the service API like the CLI. It parses requests, names the acting user (a session cookie
or an API token), calls one service and renders the answer; the services decide
(docs/server.md)."""

from __future__ import annotations

from segport.server.app import create_app
from segport.server.settings import Settings

__all__ = ["Settings", "create_app"]
