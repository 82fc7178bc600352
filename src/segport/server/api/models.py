"""The API's request and response bodies. Responses have the shapes of the services'
views as ``service.views.to_json`` gives them (what `--json` prints on the command line),
so each is made with ``Model.model_validate(to_json(view))``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

# segport.service.RUN_STATUSES, spelt out for the OpenAPI document (a unit test keeps the
# two equal).
RunStatus = Literal[
    "not_started", "queued", "processing", "successful", "failed", "skipped", "canceled"
]


class SignIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class User(BaseModel):
    name: str
    role: Literal["admin", "contributor", "viewer"]


class SessionOut(BaseModel):
    """A session just started: send ``csrf_token`` as ``X-CSRF-Token`` with every request
    that changes something."""

    user: User
    csrf_token: str
    expires_at: datetime


class Me(BaseModel):
    user: User
    auth: Literal["session", "token"]
    csrf_token: str | None = None  # for a session


class Mapping(BaseModel):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    attributes: dict[str, str] = {}
    first_name_attribute: str | None = None
    last_name_attribute: str | None = None


class ExportSettings(BaseModel):
    name: str
    connection: str | None
    list_id: int
    segments: list[str]
    mapping: Mapping
    mode: str
    phone_region: str | None = None
    phone_country_column: str | None = None
    profile_limit: int
    schedule: str
    cron: str | None = None
    timezone: str | None = None
    empty_values: str
    share_list: bool


class NextFiring(BaseModel):
    kind: str
    description: str
    at: datetime | None = None
    local: datetime | None = None
    zone: str | None = None
    last_fired_at: datetime | None = None


class Export(BaseModel):
    config: ExportSettings
    connection_type: str | None
    last_status: str | None
    last_run_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    permissions: list[str]
    list_peers: list[str]
    next_run_note: str | None = None
    next_firing: NextFiring | None = None


class Page(BaseModel):
    total: int = Field(description="How many match in all.")
    offset: int
    limit: int


class ExportPage(Page):
    items: list[Export]


class RunProgress(BaseModel):
    stage: str = Field(description="count, read, prepare, plan, send, process, remove or report")
    done: int
    total: int | None = Field(description="null when not known")
    unit: str = Field(description="rows, contacts or chunks")
    note: str | None
    at: datetime = Field(description="when the run reported it")


class Run(BaseModel):
    id: int
    number: int
    export_name: str
    status: RunStatus
    reason: str | None
    trigger: str
    actor: str | None
    full: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    claimed_by: str | None
    cancel_requested_at: datetime | None
    cancel_requested_by: str | None
    message: str | None
    members: int | None
    sent: int | None
    removed: int | None
    rejected: int | None
    summary: dict[str, Any] | None = Field(
        description="Counts and timings of the run (docs/exports.md), once it ran."
    )
    progress: RunProgress | None = Field(
        default=None,
        description="The last progress the run reported, updated about once a second while "
        "it processes (null before any).",
    )


class RunPage(Page):
    items: list[Run]


class RunFile(BaseModel):
    name: str
    description: str
    rows: int | None


class RunDetail(BaseModel):
    run: Run
    files: list[RunFile]


class RunRequest(BaseModel):
    full: bool = Field(default=False, description="Send every contact, not only what changed.")
    allow_mass_removal: bool = Field(
        default=False,
        description="Mirror mode: allow removing more contacts than the safety limit.",
    )
