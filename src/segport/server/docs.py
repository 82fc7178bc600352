"""The interactive API docs at ``/api/v1/docs``: Swagger UI from the package's own files.

FastAPI's built-in page loads Swagger UI from a CDN and starts it with an inline script;
this one loads the vendored copy (static/vendor/swagger-ui) and starts it from
static/api-docs.js, so it works offline and under a CSP without inline script.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

STATIC = "/static"
SWAGGER = f"{STATIC}/vendor/swagger-ui"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>segport API v1</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
</head>
<body data-openapi-url="{openapi}">
<div id="swagger-ui"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="{static}/api-docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI, openapi_url: str, docs_url: str) -> None:
    page = PAGE.format(swagger=SWAGGER, static=STATIC, openapi=openapi_url)

    @app.get(docs_url, include_in_schema=False, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)
