"""Request and response bodies of the segments resource. Responses have the shapes of the
services' views as ``service.views.to_json`` gives them (what `segport segments ... --json`
prints).

A segment is defined by exactly one of: ``where`` (the rule as an expression, e.g.
``tier = 'gold' and lifetime_value > 100``), ``rule`` (the rule as a structured document:
conditions in ``all``/``any`` groups, see docs/segments.md) or ``combine`` (a combination
of other segments with ``union``, ``intersect`` and ``except``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from segport.server.api.models import Page

SegmentName = Field(min_length=1, max_length=100, description="The segment's name.")
WHERE = Field(
    default=None,
    min_length=1,
    max_length=20_000,
    description="The rule as an expression, e.g. `tier = 'gold' and lifetime_value > 100`.",
)
RULE = Field(
    default=None,
    description='The rule as a document: `{"all": [{"attribute": "tier", "operator": '
    '"equals", "value": "gold"}, ...]}`; groups are `all`, `any` and `not`.',
)
COMBINE = Field(
    default=None,
    min_length=1,
    max_length=20_000,
    description="A combination of segments, e.g. `high_value except churned`.",
)
DESCRIPTION = Field(default=None, max_length=2_000, description="What the segment is for.")


class SegmentOut(BaseModel):
    name: str
    kind: Literal["rule", "combination"]
    expression: str = Field(description="The rule or combination as text.")
    description: str | None
    state: Literal["active", "inactive"]
    member_count: int | None = Field(description="Members at the last evaluation, if any.")
    evaluated_at: datetime | None
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    definition: dict[str, Any] = Field(
        description="A rule's document, or a combination's tree of segment names."
    )
    uses: list[str] = Field(description="The segments a combination is made of.")
    used_by: list[str] = Field(description="Combinations using it (one segment's answer).")
    exports: list[str] = Field(description="Exports using it (one segment's answer).")


class SegmentPage(Page):
    items: list[SegmentOut]


class NewSegment(BaseModel):
    name: str = SegmentName
    where: str | None = WHERE
    rule: dict[str, Any] | None = RULE
    combine: str | None = COMBINE
    description: str | None = DESCRIPTION


class SegmentChange(BaseModel):
    """What to change; what is left out stays as it is. A new definition (one of
    ``where``, ``rule``, ``combine``) replaces the old; ``new_name`` renames."""

    new_name: str | None = Field(default=None, min_length=1, max_length=100)
    where: str | None = WHERE
    rule: dict[str, Any] | None = RULE
    combine: str | None = COMBINE
    description: str | None = Field(
        default=None, max_length=2_000, description="An empty text removes the description."
    )


class SegmentState(BaseModel):
    state: Literal["active", "inactive"]


class SegmentCount(BaseModel):
    name: str
    member_count: int


class Rows(BaseModel):
    columns: list[str] = Field(description="The profile attributes, the id column first.")
    rows: list[dict[str, Any]]


class SegmentPreview(Rows):
    name: str


class Draft(BaseModel):
    """A definition to count and preview without saving it; ``name``, when given, is the
    name it would be saved under (a segment being edited: combinations using it are
    checked too)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    where: str | None = WHERE
    rule: dict[str, Any] | None = RULE
    combine: str | None = COMBINE
    limit: int = Field(default=5, ge=1, le=100, description="Members shown in the preview.")


class DraftOut(BaseModel):
    kind: Literal["rule", "combination"]
    expression: str
    definition: dict[str, Any]
    member_count: int
    preview: Rows


class SegmentDeleted(BaseModel):
    name: str
